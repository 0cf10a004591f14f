#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A default-deny policy that allows exactly one addr:port/tcp: that one
# connects; another port, UDP to the allowed port, IPv6 and another address
# are denied with reason=default and the default= line as the rule. With
# log-allowed = yes the allowed connection is reported as an "allow" event.
# Outside the attached cgroup everything connects.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a

read -r P1 P2 <<<"$(pick_ports 2)" || die "no free ports"
start_servers --tcp "127.0.0.1:$P1" --tcp "127.0.0.1:$P2" --udp "127.0.0.1:$P1" \
	--tcp "127.0.0.2:$P1" --tcp "[::1]:$P1"

INI=$TMPD/dd.ini
write_file "$INI" <<EOF
[policy lockdown]
cgroup = $CGREL/guard/a
default = deny
log-allowed = yes
allow = 127.0.0.1:$P1/tcp
EOF
L_DEF=dd.ini:$(line_of "$INI" "default = deny")
L_ALLOW=dd.ini:$(line_of "$INI" "allow = 127.0.0.1:")

start_agent --config "$INI"

A=guard/a
client_expect $A ok allow lockdown "$L_ALLOW" rule -- tcp 127.0.0.1 "$P1"
client_expect $A EPERM deny lockdown "$L_DEF" default -- tcp 127.0.0.1 "$P2"
client_expect $A EPERM deny lockdown "$L_DEF" default -- udp-sendto 127.0.0.1 "$P1"
client_expect $A EPERM deny lockdown "$L_DEF" default -- udp-connect 127.0.0.1 "$P1"
client_expect $A EPERM deny lockdown "$L_DEF" default -- tcp 127.0.0.2 "$P1"
client_expect $A EPERM deny lockdown "$L_DEF" default -- tcp ::1 "$P1"
# The IPv4 allow rule covers the v4-mapped form on an AF_INET6 socket too.
client_expect $A ok allow lockdown "$L_ALLOW" rule -- tcp 127.0.0.1 "$P1" --family mapped
client_expect $A EPERM deny lockdown "$L_DEF" default -- tcp 127.0.0.1 "$P2" --family mapped

# curl too: the one allowed URL works, the other port fails to connect (7).
curl_expect $A 0 "http://127.0.0.1:$P1/" allow lockdown "$L_ALLOW" rule
curl_expect $A 7 "http://127.0.0.1:$P2/" deny lockdown "$L_DEF" default

# The attached cgroup itself has no policy: implicit allow, and log-allowed
# is a per-policy setting here, so no event.
client_expect guard ok -- tcp 127.0.0.1 "$P2"

for args in "tcp 127.0.0.1 $P2" "udp-sendto 127.0.0.1 $P1 --recv" "tcp 127.0.0.2 $P1" "tcp ::1 $P1"; do
	# shellcheck disable=SC2086
	client_expect outside ok -- $args
done
curl_expect outside 0 "http://127.0.0.1:$P2/"

assert_no_other_events
finish
