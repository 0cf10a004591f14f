#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# IPv4 rules apply to IPv4-mapped IPv6 destinations (::ffff:a.b.c.d) on
# AF_INET6 sockets: TCP connect (connect6 hook), TCP Fast Open, UDP connect
# (connect6) and unconnected UDP sendto (the kernel hands it to the IPv4 path:
# sendmsg4 hook). Exact, CIDR and addr:port/proto rules; events print the
# destination in IPv4 form. Outside the attached cgroup the same calls work.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a

read -r P1 P2 <<<"$(pick_ports 2)" || die "no free ports"
start_servers --tcp "127.0.0.2:$P1" --udp "127.0.0.2:$P1" --tcp "127.0.0.3:$P1" \
	--udp "127.0.0.3:$P1" --udp "127.0.0.3:$P2" --tcp "127.0.2.7:$P1" --tcp "127.0.0.4:$P1"

INI=$TMPD/mapped.ini
write_file "$INI" <<EOF
[policy v4rules]
cgroup = $CGREL/guard/a
default = allow
deny = 127.0.0.2
deny = 127.0.0.3:$P1/udp
deny = 127.0.2.0/24
EOF
L2=mapped.ini:$(line_of "$INI" "deny = 127.0.0.2")
L3=mapped.ini:$(line_of "$INI" "deny = 127.0.0.3:")
L24=mapped.ini:$(line_of "$INI" "deny = 127.0.2.0/24")

start_agent --config "$INI"
A=guard/a
M=(--family mapped)
client_expect $A EPERM deny v4rules "$L2" rule -- tcp 127.0.0.2 "$P1" "${M[@]}"
client_expect $A EPERM deny v4rules "$L2" rule -- tcp 127.0.0.2 "$P1" "${M[@]}" --fastopen
client_expect $A EPERM deny v4rules "$L2" rule -- udp-sendto 127.0.0.2 "$P1" "${M[@]}"
client_expect $A EPERM deny v4rules "$L3" rule -- udp-sendto 127.0.0.3 "$P1" "${M[@]}"
client_expect $A EPERM deny v4rules "$L3" rule -- udp-connect 127.0.0.3 "$P1" "${M[@]}"
client_expect $A EPERM deny v4rules "$L3" rule -- udp-connect-send 127.0.0.3 "$P1" "${M[@]}"
client_expect $A EPERM deny v4rules "$L24" rule -- tcp 127.0.2.7 "$P1" "${M[@]}"
client_expect $A ok -- tcp 127.0.0.3 "$P1" "${M[@]}"
client_expect $A ok -- udp-sendto 127.0.0.3 "$P2" "${M[@]}" --recv
client_expect $A ok -- tcp 127.0.0.4 "$P1" "${M[@]}"
# the same rule on a plain AF_INET socket
client_expect $A EPERM deny v4rules "$L2" rule -- tcp 127.0.0.2 "$P1"

for args in "tcp 127.0.0.2 $P1" "udp-sendto 127.0.0.2 $P1 --recv" "udp-sendto 127.0.0.3 $P1 --recv" \
	"udp-connect-send 127.0.0.3 $P1" "tcp 127.0.2.7 $P1" "tcp 127.0.0.2 $P1 --fastopen"; do
	# shellcheck disable=SC2086
	client_expect outside ok -- $args "${M[@]}"
done
assert_no_other_events
finish
