#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host blocklists: --blocked-hosts (given twice) with an exact IPv4 address,
# an IPv4 CIDR with a trailing comment, an exact IPv6 address and an IPv6 CIDR
# (in the test's netns) and the hostname "localhost" (resolved at load); they
# apply to every guarded cgroup, policy or not (reason=blocklist, rule = the
# list's file:line). A policy's own blocked-hosts file applies to that
# policy's cgroup only. A hostname in a policy rule (deny = localhost:PORT).
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a guard/b

read -r P1 P2 <<<"$(pick_ports 2)" || die "no free ports"
setup_netns
start_servers --tcp "127.0.0.1:$P1" --tcp "127.0.0.1:$P2" --tcp "127.0.0.2:$P1" \
	--udp "127.0.0.2:$P1" --tcp "127.0.1.9:$P1" --tcp "127.0.0.3:$P1" --tcp "127.0.0.4:$P1" \
	--tcp "127.0.0.6:$P1" --tcp "[::1]:$P1"
start_servers --ns --tcp "[$NS6]:$P1" --tcp "[$NS6B]:$P1" --tcp "$NS4:$P1"

H=$TMPD/blocked_hosts.txt
write_file "$H" <<EOF
# global host blocklist (lsnitch e2e)

127.0.0.2
127.0.1.0/24   # a CIDR, with a comment after it
$NS6
${NS6NET}1:0/112
localhost
EOF
H2=$TMPD/more_hosts.txt
write_file "$H2" <<EOF
127.0.0.6
EOF
POL=$TMPD/policy_hosts.txt
write_file "$POL" <<EOF
# only for the policy 'listed'
127.0.0.3
::1
EOF
INI=$TMPD/bl.ini
write_file "$INI" <<EOF
[policy listed]
cgroup = $CGREL/guard/a
default = allow
blocked-hosts = policy_hosts.txt

[policy plain]
cgroup = $CGREL/guard/b
default = allow
deny = localhost:$P2
EOF
G2=blocked_hosts.txt:$(line_of "$H" 127.0.0.2)
GC=blocked_hosts.txt:$(line_of "$H" 127.0.1.0/24)
G6=blocked_hosts.txt:$(line_of "$H" "$NS6")
G6C=blocked_hosts.txt:$(line_of "$H" "${NS6NET}1:0/112")
GL=blocked_hosts.txt:$(line_of "$H" localhost)
M6=more_hosts.txt:1
O3=policy_hosts.txt:$(line_of "$POL" 127.0.0.3)
O6=policy_hosts.txt:$(line_of "$POL" ::1)
LH=bl.ini:$(line_of "$INI" "deny = localhost")

start_agent --config "$INI" --blocked-hosts "$H" --blocked-hosts "$H2"

A=guard/a
log "global lists in a policy's cgroup"
client_expect $A EPERM deny listed "$G2" blocklist -- tcp 127.0.0.2 "$P1"
client_expect $A EPERM deny listed "$G2" blocklist -- udp-sendto 127.0.0.2 "$P1"
client_expect $A EPERM deny listed "$GC" blocklist -- tcp 127.0.1.9 "$P1"
client_expect $A EPERM deny listed "$G6" blocklist -- tcp "$NS6" "$P1"
client_expect $A EPERM deny listed "$G6C" blocklist -- tcp "$NS6B" "$P1"
client_expect $A EPERM deny listed "$GL" blocklist -- tcp 127.0.0.1 "$P1"
client_expect $A EPERM deny listed "$M6" blocklist -- tcp 127.0.0.6 "$P1"
log "the policy's own list"
client_expect $A EPERM deny listed "$O3" blocklist -- tcp 127.0.0.3 "$P1"
client_expect $A EPERM deny listed "$O6" blocklist -- tcp ::1 "$P1"
client_expect $A ok -- tcp 127.0.0.4 "$P1"
client_expect $A ok -- tcp "$NS4" "$P1"

B=guard/b
log "another policy: global lists yes, the other policy's list no"
client_expect $B EPERM deny plain "$G2" blocklist -- tcp 127.0.0.2 "$P1"
client_expect $B EPERM deny plain "$G6" blocklist -- tcp "$NS6" "$P1"
client_expect $B ok -- tcp 127.0.0.3 "$P1"
client_expect $B ok -- tcp ::1 "$P1"
log "a hostname in a rule"
client_expect $B EPERM deny plain "$LH" rule -- tcp 127.0.0.1 "$P2"

log "no policy (implicit): global lists only"
client_expect guard EPERM deny - "$G2" blocklist -- tcp 127.0.0.2 "$P1"
client_expect guard EPERM deny - "$GL" blocklist -- tcp 127.0.0.1 "$P2"
client_expect guard EPERM deny - "$G6C" blocklist -- tcp "$NS6B" "$P1"
client_expect guard ok -- tcp 127.0.0.3 "$P1"
client_expect guard ok -- tcp ::1 "$P1"

log "outside"
for a in 127.0.0.1 127.0.0.2 127.0.1.9 127.0.0.3 127.0.0.6 ::1 "$NS6" "$NS6B"; do
	client_expect outside ok -- tcp "$a" "$P1"
done
assert_no_other_events
finish
