#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# encrypted-dns = deny: DNS over TLS/QUIC (port 853, TCP and UDP, any address)
# and port 443 of the servers a doh-resolvers list names (TCP, and UDP for
# HTTP/3) are refused, each event naming the line that denied it: the
# encrypted-dns key for 853, the list's line for 443. Stand-ins on loopback:
# a "DoH resolver" at 127.0.0.41 (443, and a real dnsmasq on its port 53,
# which stays the proxy's), a DoT server at 127.0.0.42:853, an unlisted HTTPS
# server at 127.0.0.43:443. Controls: the unlisted server, the listed
# server's port 53 through the proxy, and a policy without the key, which
# reaches all of them.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/strict guard/open

command -v dnsmasq >/dev/null || skip_env "dnsmasq is not installed (make deps installs it)"
command -v dig >/dev/null || skip_env "dig is not installed (make deps installs it)"

DOH=127.0.0.41 DOT=127.0.0.42 WEB=127.0.0.43
start_servers --tcp "$DOH:443" --udp "$DOH:443" --tcp "$DOT:853" --udp "$DOT:853" \
	--tcp "$WEB:443"
start_dnsmasq "$DOH" name.test 127.0.0.44 --host-record=name.test,127.0.0.44 ||
	die "dnsmasq at $DOH does not answer"

write_file "$TMPD/doh.txt" <<'EOF'
# test copy of doh-resolvers.txt: the stand-in DoH server
127.0.0.41
2001:db8::53
EOF
write_file "$TMPD/lsnitch.ini" <<EOF
[global]
doh-resolvers = doh.txt

[policy strict]
cgroup = $CGREL/guard/strict
encrypted-dns = deny

[policy open]
cgroup = $CGREL/guard/open
EOF
L_KEY=lsnitch.ini:$(line_of "$TMPD/lsnitch.ini" "encrypted-dns")
L_DOH=doh.txt:$(line_of "$TMPD/doh.txt" "127.0.0.41")
start_agent --config "$TMPD/lsnitch.ini"

log "encrypted-dns = deny: DoT anywhere, DoH to listed servers"
client_expect guard/strict EPERM deny strict "$L_DOH" rule -- tcp "$DOH" 443
client_expect guard/strict EPERM deny strict "$L_DOH" rule -- udp-sendto "$DOH" 443
client_expect guard/strict EPERM deny strict "$L_KEY" rule -- tcp "$DOT" 853
client_expect guard/strict EPERM deny strict "$L_KEY" rule -- udp-connect "$DOT" 853
client_expect guard/strict EPERM deny strict "$L_KEY" rule -- tcp ::1 853

log "controls: an unlisted server, the listed server's DNS, a policy without the key"
client_expect guard/strict ok -- tcp "$WEB" 443
assert_eq "guard/strict: the listed server's port 53 goes through the proxy" 127.0.0.44 \
	"$(in_cg "$CG/guard/strict" dig +short +time=2 +tries=1 "@$DOH" name.test)"
client_expect guard/open ok -- tcp "$DOH" 443
client_expect guard/open ok -- udp-sendto "$DOH" 443 --recv
client_expect guard/open ok -- tcp "$DOT" 853
client_expect outside ok -- tcp "$DOT" 853
assert_no_other_events
finish
