#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Verdict precedence: the most specific prefix wins (deny 127.0.0.0/8 + allow
# 127.0.0.2: .2 connects, .3 is denied; three nested prefixes); at the same
# prefix a port-specific rule beats an any-port one (both ways round) and a
# protocol-specific one beats any-protocol; deny wins a tie (whatever the
# order in the file). Rules come before the host blocklists (an allow rule
# beats a blocklist entry, a deny rule is reported as reason=rule); blocklists
# beat the default allow; the global lists are consulted before the policy's
# own; a policy's own list applies to its cgroup only.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a guard/b

read -r P1 P2 <<<"$(pick_ports 2)" || die "no free ports"
srv=()
for a in 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.6 127.0.0.7 127.0.0.8 127.1.2.3 \
	127.1.3.3 127.2.0.1 127.0.0.9 127.0.0.10 127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14; do
	srv+=(--tcp "$a:$P1")
done
start_servers "${srv[@]}" --tcp "127.0.0.4:$P2" --tcp "127.0.0.5:$P2" --udp "127.0.0.6:$P1" \
	--tcp "127.0.0.13:$P2"

write_file "$TMPD/global_hosts.txt" <<EOF
# global host blocklist
127.0.0.9
127.0.0.10
127.0.0.12
EOF
write_file "$TMPD/pol_hosts.txt" <<EOF
# the 'lists' policy's own blocklist
127.0.0.11
127.0.0.12
127.0.0.13
EOF
INI=$TMPD/prec.ini
write_file "$INI" <<EOF
[policy specific]
cgroup = $CGREL/guard/a
default = allow
deny = 127.0.0.0/8
allow = 127.0.0.2
# port-specific beats any-port, both ways round
deny = 127.0.0.4
allow = 127.0.0.4:$P1
allow = 127.0.0.5
deny = 127.0.0.5:$P1
# protocol-specific beats any-protocol
deny = 127.0.0.6:$P1
allow = 127.0.0.6:$P1/udp
# deny wins a tie, whatever the order
allow = 127.0.0.7:$P1
deny = 127.0.0.7:$P1
deny = 127.0.0.8:$P1/tcp
allow = 127.0.0.8:$P1/tcp
# nested prefixes: /8 deny, /16 allow, /24 deny
allow = 127.1.0.0/16
deny = 127.1.2.0/24

[policy lists]
cgroup = $CGREL/guard/b
default = allow
blocked-hosts = pol_hosts.txt
allow = 127.0.0.9
allow = 127.0.0.13:$P1
EOF
L8=prec.ini:$(line_of "$INI" "deny = 127.0.0.0/8")
L4=prec.ini:$(line_of "$INI" "deny = 127.0.0.4")
L5=prec.ini:$(line_of "$INI" "deny = 127.0.0.5:")
L6=prec.ini:$(line_of "$INI" "deny = 127.0.0.6:")
L7=prec.ini:$(line_of "$INI" "deny = 127.0.0.7:")
L8B=prec.ini:$(line_of "$INI" "deny = 127.0.0.8:")
L24=prec.ini:$(line_of "$INI" "deny = 127.1.2.0/24")
G10=global_hosts.txt:$(line_of "$TMPD/global_hosts.txt" 127.0.0.10)
G9=global_hosts.txt:$(line_of "$TMPD/global_hosts.txt" 127.0.0.9)
G12=global_hosts.txt:$(line_of "$TMPD/global_hosts.txt" 127.0.0.12)
O11=pol_hosts.txt:$(line_of "$TMPD/pol_hosts.txt" 127.0.0.11)
O13=pol_hosts.txt:$(line_of "$TMPD/pol_hosts.txt" 127.0.0.13)

start_agent --config "$INI" --blocked-hosts "$TMPD/global_hosts.txt"

A=guard/a
log "most specific prefix wins"
client_expect $A ok -- tcp 127.0.0.2 "$P1"
client_expect $A EPERM deny specific "$L8" rule -- tcp 127.0.0.3 "$P1"
client_expect $A EPERM deny specific "$L24" rule -- tcp 127.1.2.3 "$P1"
client_expect $A ok -- tcp 127.1.3.3 "$P1"
client_expect $A EPERM deny specific "$L8" rule -- tcp 127.2.0.1 "$P1"
log "port-specific beats any-port"
client_expect $A ok -- tcp 127.0.0.4 "$P1"
client_expect $A EPERM deny specific "$L4" rule -- tcp 127.0.0.4 "$P2"
client_expect $A EPERM deny specific "$L5" rule -- tcp 127.0.0.5 "$P1"
client_expect $A ok -- tcp 127.0.0.5 "$P2"
log "protocol-specific beats any-protocol"
client_expect $A ok -- udp-sendto 127.0.0.6 "$P1" --recv
client_expect $A EPERM deny specific "$L6" rule -- tcp 127.0.0.6 "$P1"
log "deny wins a tie"
client_expect $A EPERM deny specific "$L7" rule -- tcp 127.0.0.7 "$P1"
client_expect $A EPERM deny specific "$L8B" rule -- tcp 127.0.0.8 "$P1"
log "a deny rule decides before the blocklists"
client_expect $A EPERM deny specific "$L8" rule -- tcp 127.0.0.10 "$P1"

B=guard/b
log "rules, then global lists, then the policy's lists, then the default"
client_expect $B ok -- tcp 127.0.0.9 "$P1"
client_expect $B EPERM deny lists "$G10" blocklist -- tcp 127.0.0.10 "$P1"
client_expect $B EPERM deny lists "$O11" blocklist -- tcp 127.0.0.11 "$P1"
client_expect $B EPERM deny lists "$G12" blocklist -- tcp 127.0.0.12 "$P1"
client_expect $B ok -- tcp 127.0.0.13 "$P1"
client_expect $B EPERM deny lists "$O13" blocklist -- tcp 127.0.0.13 "$P2"
client_expect $B ok -- tcp 127.0.0.14 "$P1"
client_expect $B ok -- tcp 127.0.0.3 "$P1"

log "the attached cgroup (implicit policy): global lists only"
client_expect guard EPERM deny - "$G9" blocklist -- tcp 127.0.0.9 "$P1"
client_expect guard EPERM deny - "$G10" blocklist -- tcp 127.0.0.10 "$P1"
client_expect guard ok -- tcp 127.0.0.11 "$P1"
client_expect guard ok -- tcp 127.0.0.13 "$P2"

log "outside: all connect"
for a in 127.0.0.3 127.0.0.7 127.0.0.8 127.1.2.3 127.0.0.10 127.0.0.11 127.0.0.12; do
	client_expect outside ok -- tcp "$a" "$P1"
done
client_expect outside ok -- tcp 127.0.0.13 "$P2"

assert_no_other_events
finish
