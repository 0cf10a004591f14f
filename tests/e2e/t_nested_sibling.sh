#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Which policy applies: a nested sub-cgroup (two levels down, and one made
# after the agent started) inherits its nearest ancestor's policy; a
# sub-cgroup with its own policy uses that one (nearest wins, the parent's
# rules do not leak into it); a policy with two cgroup= lines covers both;
# sibling cgroups with another policy or none are unaffected; processes
# outside the attached cgroup (a sibling of it, and the test's own cgroup)
# are unaffected.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a/sub/deeper guard/a/sub2 guard/b guard/c guard/d

read -r P1 <<<"$(pick_ports 1)" || die "no free ports"
start_servers --tcp "127.0.0.2:$P1" --tcp "127.0.0.3:$P1" --tcp "127.0.0.4:$P1"

INI=$TMPD/nest.ini
write_file "$INI" <<EOF
[policy parent]
cgroup = $CGREL/guard/a
default = allow
deny = 127.0.0.2

[policy sibling]
cgroup = $CGREL/guard/b
cgroup = $CGREL/guard/d
default = allow
deny = 127.0.0.3

[policy child]
cgroup = $CGREL/guard/a/sub2
default = allow
deny = 127.0.0.4
EOF
LA=nest.ini:$(line_of "$INI" "deny = 127.0.0.2")
LB=nest.ini:$(line_of "$INI" "deny = 127.0.0.3")
LC=nest.ini:$(line_of "$INI" "deny = 127.0.0.4")

start_agent --config "$INI"
make_cg guard/a/late

log "the policy's own cgroup"
client_expect guard/a EPERM deny parent "$LA" rule -- tcp 127.0.0.2 "$P1"
client_expect guard/a ok -- tcp 127.0.0.3 "$P1"
client_expect guard/a ok -- tcp 127.0.0.4 "$P1"
log "nested sub-cgroups inherit"
client_expect guard/a/sub EPERM deny parent "$LA" rule -- tcp 127.0.0.2 "$P1"
client_expect guard/a/sub/deeper EPERM deny parent "$LA" rule -- tcp 127.0.0.2 "$P1"
client_expect guard/a/sub/deeper ok -- tcp 127.0.0.3 "$P1"
client_expect guard/a/late EPERM deny parent "$LA" rule -- tcp 127.0.0.2 "$P1"
log "a sub-cgroup with its own policy: nearest wins"
client_expect guard/a/sub2 ok -- tcp 127.0.0.2 "$P1"
client_expect guard/a/sub2 EPERM deny child "$LC" rule -- tcp 127.0.0.4 "$P1"
log "siblings"
client_expect guard/b ok -- tcp 127.0.0.2 "$P1"
client_expect guard/b EPERM deny sibling "$LB" rule -- tcp 127.0.0.3 "$P1"
client_expect guard/d EPERM deny sibling "$LB" rule -- tcp 127.0.0.3 "$P1"
client_expect guard/d ok -- tcp 127.0.0.2 "$P1"
for a in 127.0.0.2 127.0.0.3 127.0.0.4; do
	client_expect guard/c ok -- tcp "$a" "$P1"
	client_expect guard ok -- tcp "$a" "$P1"
done
log "outside the attached cgroup"
for a in 127.0.0.2 127.0.0.3 127.0.0.4; do
	client_expect outside ok -- tcp "$a" "$P1"
	client_expect . ok -- tcp "$a" "$P1"
done
assert_no_other_events
finish
