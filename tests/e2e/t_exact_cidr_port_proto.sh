#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Deny rules of every target form: exact IPv4, IPv4 CIDR, addr:port, a port
# range (both edges in, both neighbours out), a protocol rule (tcp denied, udp
# to the same address allowed), IPv6 exact (::1), IPv6 CIDR and a bracketed
# [v6]:port/udp rule on 2001:db8:: addresses in the test's netns. TCP Fast
# Open (sendto MSG_FASTOPEN), a bracketed IPv6 CIDR with a port, several rules
# on one line, "*" with a port, and the event's pid/tid (a call from a second
# thread) and uid/gid (a client running as nobody). Every denial: EPERM +
# event line; the same calls from outside the attached cgroup, and from the
# attached cgroup with no policy, succeed.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a

read -r P1 P2 P3 P4 P5 <<<"$(pick_ports 5)" || die "no free ports"
setup_netns

start_servers \
	--tcp "127.0.0.2:$P1" --udp "127.0.0.2:$P1" \
	--tcp "127.0.1.5:$P1" --tcp "127.0.2.5:$P1" \
	--tcp "127.0.0.3:$P1" --tcp "127.0.0.3:$P2" \
	--tcp "127.0.0.4:$P2" --tcp "127.0.0.4:$P3" --tcp "127.0.0.4:$P4" --tcp "127.0.0.4:$P5" \
	--udp "127.0.0.4:$P4" \
	--tcp "127.0.0.5:$P1" --udp "127.0.0.5:$P1" \
	--tcp "[::1]:$P1" --udp "[::1]:$P1" \
	--tcp "127.0.0.6:$P1" --tcp "127.0.0.7:$P1" --tcp "127.0.0.8:$P1" --udp "127.0.2.5:$P5"
start_servers --ns --udp "[$NS6B]:$P5" --tcp "[$NS6B]:$P3" \
	--tcp "[$NS6]:$P1" \
	--tcp "[$NS6B]:$P1" --tcp "[$NS6B]:$P2" --udp "[$NS6B]:$P2"

INI=$TMPD/exact.ini
write_file "$INI" <<EOF
# lsnitch e2e: every target form
[policy exact]
cgroup = $CGREL/guard/a
default = allow
deny = 127.0.0.2
deny = 127.0.1.0/24
deny = 127.0.0.3:$P2
deny = 127.0.0.4:$P3-$P4
deny = 127.0.0.5/tcp
deny = ::1
deny = $NS6NET/112
deny = [$NS6B]:$P2/udp
deny = [$NS6B/120]:$P3
deny = 127.0.0.6, 127.0.0.7:$P1/tcp
deny = *:$P5/udp
EOF
L_EXACT=exact.ini:$(line_of "$INI" "deny = 127.0.0.2")
L_CIDR=exact.ini:$(line_of "$INI" "deny = 127.0.1.0/24")
L_PORT=exact.ini:$(line_of "$INI" "deny = 127.0.0.3:")
L_RANGE=exact.ini:$(line_of "$INI" "deny = 127.0.0.4:")
L_PROTO=exact.ini:$(line_of "$INI" "deny = 127.0.0.5/tcp")
L_V6=exact.ini:$(line_of "$INI" "deny = ::1")
L_V6CIDR=exact.ini:$(line_of "$INI" "deny = $NS6NET/112")
L_V6PORT=exact.ini:$(line_of "$INI" "deny = [$NS6B]")
L_V6CIDRPORT=exact.ini:$(line_of "$INI" "deny = [$NS6B/120]")
L_LIST=exact.ini:$(line_of "$INI" "deny = 127.0.0.6, ")
L_ANY=exact.ini:$(line_of "$INI" "deny = *:")

start_agent --config "$INI"

A=guard/a
log "exact IPv4"
client_expect $A EPERM deny exact "$L_EXACT" rule -- tcp 127.0.0.2 "$P1"
client_expect $A EPERM deny exact "$L_EXACT" rule -- udp-sendto 127.0.0.2 "$P1"
client_expect $A EPERM deny exact "$L_EXACT" rule -- udp-connect 127.0.0.2 "$P1"
client_expect $A EPERM deny exact "$L_EXACT" rule -- tcp 127.0.0.2 "$P1" --fastopen

log "IPv4 CIDR"
client_expect $A EPERM deny exact "$L_CIDR" rule -- tcp 127.0.1.5 "$P1"
client_expect $A ok -- tcp 127.0.2.5 "$P1"

log "addr:port"
client_expect $A EPERM deny exact "$L_PORT" rule -- tcp 127.0.0.3 "$P2"
client_expect $A ok -- tcp 127.0.0.3 "$P1"

log "port range (edges in, neighbours out)"
client_expect $A EPERM deny exact "$L_RANGE" rule -- tcp 127.0.0.4 "$P3"
client_expect $A EPERM deny exact "$L_RANGE" rule -- tcp 127.0.0.4 "$P4"
client_expect $A EPERM deny exact "$L_RANGE" rule -- udp-sendto 127.0.0.4 "$P4"
client_expect $A ok -- tcp 127.0.0.4 "$P2"
client_expect $A ok -- tcp 127.0.0.4 "$P5"

log "protocol rule: tcp denied, udp allowed"
client_expect $A EPERM deny exact "$L_PROTO" rule -- tcp 127.0.0.5 "$P1"
client_expect $A ok -- udp-sendto 127.0.0.5 "$P1" --recv
client_expect $A ok -- udp-connect-send 127.0.0.5 "$P1"

log "IPv6 exact (::1)"
client_expect $A EPERM deny exact "$L_V6" rule -- tcp ::1 "$P1"
client_expect $A EPERM deny exact "$L_V6" rule -- udp-sendto ::1 "$P1"

log "IPv6 CIDR and [v6]:port/udp in the netns"
client_expect $A EPERM deny exact "$L_V6CIDR" rule -- tcp "$NS6" "$P1"
client_expect $A ok -- tcp "$NS6B" "$P1"
client_expect $A ok -- tcp "$NS6B" "$P2"
client_expect $A EPERM deny exact "$L_V6PORT" rule -- udp-sendto "$NS6B" "$P2"

client_expect $A EPERM deny exact "$L_V6CIDRPORT" rule -- tcp "$NS6B" "$P3"

log "several rules on one line"
client_expect $A EPERM deny exact "$L_LIST" rule -- tcp 127.0.0.6 "$P1"
client_expect $A EPERM deny exact "$L_LIST" rule -- tcp 127.0.0.7 "$P1"
client_expect $A ok -- tcp 127.0.0.8 "$P1"

log "* with a port: any address, IPv4 and IPv6"
client_expect $A EPERM deny exact "$L_ANY" rule -- udp-sendto 127.0.2.5 "$P5"
client_expect $A EPERM deny exact "$L_ANY" rule -- udp-sendto "$NS6B" "$P5"
client_expect $A ok -- tcp 127.0.0.4 "$P5"

log "pid/tid and uid/gid in the event"
client_expect $A EPERM deny exact "$L_EXACT" rule -- tcp 127.0.0.2 "$P1" --thread
client_expect $A EPERM deny exact "$L_V6" rule -- udp-sendto ::1 "$P1" --thread
CLIENT_WRAP=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
client_expect $A EPERM deny exact "$L_EXACT" rule -- tcp 127.0.0.2 "$P1"
client_expect $A EPERM deny exact "$L_V6" rule -- tcp ::1 "$P1" --thread
client_expect outside ok -- tcp 127.0.0.2 "$P1"
CLIENT_WRAP=()

log "the attached cgroup without a policy: implicit allow"
client_expect guard ok -- tcp 127.0.0.2 "$P1"
client_expect guard ok -- tcp ::1 "$P1"
client_expect guard ok -- udp-sendto "$NS6B" "$P2" --recv

log "outside the attached cgroup: everything reaches its server"
for args in "tcp 127.0.0.2 $P1" "udp-sendto 127.0.0.2 $P1 --recv" "tcp 127.0.0.2 $P1 --fastopen" \
	"tcp 127.0.1.5 $P1" "tcp 127.0.0.3 $P2" "tcp 127.0.0.4 $P3" "tcp 127.0.0.4 $P4" \
	"tcp 127.0.0.5 $P1" "tcp ::1 $P1" "udp-sendto ::1 $P1 --recv" "tcp $NS6 $P1" \
	"udp-sendto $NS6B $P2 --recv" "tcp $NS6B $P3" "tcp 127.0.0.6 $P1" "tcp 127.0.0.7 $P1" \
	"udp-sendto 127.0.2.5 $P5 --recv" "udp-sendto $NS6B $P5 --recv"; do
	# shellcheck disable=SC2086
	client_expect outside ok -- $args
done

assert_no_other_events
finish
