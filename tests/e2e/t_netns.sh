#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Real traffic to another host: HTTP servers (python3 -m http.server) in the
# test's own network namespace, reached over a veth pair on 192.0.2.0/24 and
# 2001:db8::/64 addresses. curl from the guarded cgroup: the allowed port
# answers 200, the denied port fails to connect (curl exit 7) with the deny
# event (comm=curl); a default-deny policy that allows only the namespace's
# IPv4 address and one IPv6 port; UDP to the namespace. Outside the attached
# cgroup everything works.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a guard/b

read -r P1 P2 P3 <<<"$(pick_ports 3)" || die "no free ports"
setup_netns
start_http_server --ns "$NS4" "$P1"
start_http_server --ns "$NS4" "$P2"
start_http_server --ns "$NS6" "$P1"
start_http_server --ns "$NS6" "$P2"
start_servers --ns --udp "$NS4:$P3" --udp "[$NS6]:$P3"

INI=$TMPD/netns.ini
write_file "$INI" <<EOF
[policy web]
cgroup = $CGREL/guard/a
default = allow
deny = $NS4:$P2
deny = [$NS6]:$P2/tcp
deny = $NS4:$P3/udp

[policy web-lockdown]
cgroup = $CGREL/guard/b
default = deny
allow = $NS4
allow = [$NS6]:$P1
EOF
LA4=netns.ini:$(line_of "$INI" "deny = $NS4:$P2")
LA6=netns.ini:$(line_of "$INI" "deny = [$NS6]:$P2")
LAU=netns.ini:$(line_of "$INI" "deny = $NS4:$P3")
LBD=netns.ini:$(line_of "$INI" "default = deny")

start_agent --config "$INI"

A=guard/a
curl_expect $A 0 "http://$NS4:$P1/"
curl_expect $A 7 "http://$NS4:$P2/" deny web "$LA4" rule
curl_expect $A 0 "http://[$NS6]:$P1/"
curl_expect $A 7 "http://[$NS6]:$P2/" deny web "$LA6" rule
client_expect $A EPERM deny web "$LA4" rule -- tcp "$NS4" "$P2"
client_expect $A EPERM deny web "$LAU" rule -- udp-sendto "$NS4" "$P3"
client_expect $A ok -- udp-sendto "$NS6" "$P3" --recv

B=guard/b
curl_expect $B 0 "http://$NS4:$P2/"
curl_expect $B 0 "http://[$NS6]:$P1/"
curl_expect $B 7 "http://[$NS6]:$P2/" deny web-lockdown "$LBD" default
client_expect $B EPERM deny web-lockdown "$LBD" default -- udp-sendto "$NS6" "$P3"
client_expect $B ok -- udp-sendto "$NS4" "$P3" --recv

for url in "http://$NS4:$P1/" "http://$NS4:$P2/" "http://[$NS6]:$P1/" "http://[$NS6]:$P2/"; do
	curl_expect outside 0 "$url"
done
client_expect outside ok -- udp-sendto "$NS4" "$P3" --recv
assert_no_other_events
finish
