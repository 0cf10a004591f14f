#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# UDP: unconnected sendto denied (sendmsg4/sendmsg6) and allowed (the echo
# comes back), connect() of a UDP socket denied (connect4/connect6), a
# connected socket sending to its allowed peer, sendto with an explicit
# denied address on a socket connected to an allowed peer (still denied), a
# udp-only rule leaving TCP alone, and a UDP default-deny policy.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a guard/b

read -r P1 P2 <<<"$(pick_ports 2)" || die "no free ports"
start_servers --udp "127.0.0.2:$P1" --udp "127.0.0.2:$P2" --tcp "127.0.0.2:$P1" \
	--tcp "127.0.0.2:$P2" --udp "[::1]:$P1" --udp "[::1]:$P2"

INI=$TMPD/udp.ini
write_file "$INI" <<EOF
[policy udp-rules]
cgroup = $CGREL/guard/a
default = allow
deny = 127.0.0.2:$P1/udp
deny = [::1]:$P2/udp

[policy udp-lockdown]
cgroup = $CGREL/guard/b
default = deny
allow = 127.0.0.2:$P2/udp
EOF
L1=udp.ini:$(line_of "$INI" "deny = 127.0.0.2:")
L6=udp.ini:$(line_of "$INI" "deny = [::1]")
LD=udp.ini:$(line_of "$INI" "default = deny")

start_agent --config "$INI"
A=guard/a
log "unconnected sendto"
client_expect $A EPERM deny udp-rules "$L1" rule -- udp-sendto 127.0.0.2 "$P1"
client_expect $A ok -- udp-sendto 127.0.0.2 "$P2" --recv
client_expect $A EPERM deny udp-rules "$L6" rule -- udp-sendto ::1 "$P2"
client_expect $A ok -- udp-sendto ::1 "$P1" --recv
log "connected UDP"
client_expect $A EPERM deny udp-rules "$L1" rule -- udp-connect 127.0.0.2 "$P1"
client_expect $A EPERM deny udp-rules "$L1" rule -- udp-connect-send 127.0.0.2 "$P1"
client_expect $A EPERM deny udp-rules "$L6" rule -- udp-connect ::1 "$P2"
client_expect $A ok -- udp-connect 127.0.0.2 "$P2" --recv
client_expect $A ok -- udp-connect-send ::1 "$P1"
log "sendto a denied address on a socket connected to an allowed one"
client_expect $A EPERM deny udp-rules "$L1" rule -- udp-sendto 127.0.0.2 "$P1" \
	--connected-to "127.0.0.2:$P2"
client_expect $A EPERM deny udp-rules "$L6" rule -- udp-sendto ::1 "$P2" --connected-to "[::1]:$P1"
log "the udp rule leaves tcp alone"
client_expect $A ok -- tcp 127.0.0.2 "$P1"

B=guard/b
log "UDP default deny"
client_expect $B ok -- udp-sendto 127.0.0.2 "$P2" --recv
client_expect $B ok -- udp-connect-send 127.0.0.2 "$P2"
client_expect $B EPERM deny udp-lockdown "$LD" default -- udp-sendto 127.0.0.2 "$P1"
client_expect $B EPERM deny udp-lockdown "$LD" default -- udp-sendto ::1 "$P2"
client_expect $B EPERM deny udp-lockdown "$LD" default -- udp-connect ::1 "$P1"
client_expect $B EPERM deny udp-lockdown "$LD" default -- tcp 127.0.0.2 "$P2"

log "outside"
for args in "udp-sendto 127.0.0.2 $P1 --recv" "udp-connect 127.0.0.2 $P1 --recv" \
	"udp-sendto ::1 $P2 --recv" "udp-connect ::1 $P2 --recv"; do
	# shellcheck disable=SC2086
	client_expect outside ok -- $args
done
assert_no_other_events
finish
