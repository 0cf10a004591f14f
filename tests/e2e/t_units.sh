#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Per-unit policy files (--units DIR): units.d/demo.service.ini with no
# cgroup= line follows the unit demo.service wherever its cgroup appears.
# systemd is not PID 1 here, so the agent finds a unit in the cgroup tree: a
# cgroup named after the unit below a system.slice or user.slice component,
# at any depth, like this test's $CG/guard/system.slice/demo.service (a slice
# unit: its name at any depth).
#   1. the unit starts after the agent: denied per its file; a nested
#      sub-cgroup inherits; only the unit's cgroup is in the map;
#   2. the unit restarts (rmdir + mkdir, a new cgroup id): still denied, the
#      map holds the new id and not the old one;
#   3. the unit stops: its map entry is gone;
#   4. a cgroup of the same name outside system.slice/user.slice, and a unit
#      with no file, are unaffected; a user unit and a slice unit file work.
# With systemd as PID 1 the agent asks systemd instead (t_units_systemd.sh).
. "$(dirname "$0")/lib.sh"
lsn_setup
require_bpftool
if [ -d /run/systemd/system ]; then
	skip "systemd is PID 1: the agent takes unit cgroups from systemd (sd-bus), not from" \
		"this test's fake tree; t_units_systemd.sh covers that case"
fi
make_cg guard/system.slice guard/elsewhere/demo.service

read -r P1 P2 P3 <<<"$(pick_ports 3)" || die "no free ports"
start_servers --tcp "127.0.0.2:$P1" --tcp "127.0.0.3:$P1" --tcp "127.0.0.4:$P1" \
	--tcp "127.0.0.2:$P2" --tcp "127.0.0.2:$P3"

UNITS=$TMPD/units.d
mkdir -p "$UNITS"
write_file "$UNITS/demo.service.ini" <<EOF
; no cgroup= line: the policy follows the unit demo.service
[policy]
default = allow
deny = 127.0.0.2
EOF
write_file "$UNITS/web.service.ini" <<EOF
[policy]
deny = 127.0.0.3
EOF
write_file "$UNITS/lsntest.slice.ini" <<EOF
[policy]
deny = 127.0.0.4
EOF
LD=demo.service.ini:$(line_of "$UNITS/demo.service.ini" "deny = 127.0.0.2")
LW=web.service.ini:$(line_of "$UNITS/web.service.ini" "deny = 127.0.0.3")
LS=lsntest.slice.ini:$(line_of "$UNITS/lsntest.slice.ini" "deny = 127.0.0.4")
UNIT=$CG/guard/system.slice/demo.service

start_agent --units "$UNITS"
assert_eq "map entries before any unit runs" 0 "$(cgroup_policy_dump | wc -l)"

log "1. demo.service starts after the agent"
make_cg guard/system.slice/demo.service
client_expect guard/system.slice/demo.service EPERM deny demo.service "$LD" rule -- \
	tcp 127.0.0.2 "$P1"
client_expect guard/system.slice/demo.service ok -- tcp 127.0.0.3 "$P1"
make_cg guard/system.slice/demo.service/sub
client_expect guard/system.slice/demo.service/sub EPERM deny demo.service "$LD" rule -- \
	tcp 127.0.0.2 "$P1"
OLD_ID=$(cgroup_id "$UNIT")
assert_eq "the map binds the unit's cgroup (not its sub-cgroup) to policy 1" "$OLD_ID 1" \
	"$(cgroup_policy_dump)"

log "2. demo.service restarts: same path, new cgroup id"
rmdir "$UNIT/sub" "$UNIT" || die "rmdir $UNIT"
make_cg guard/system.slice/demo.service
NEW_ID=$(cgroup_id "$UNIT")
[ "$NEW_ID" != "$OLD_ID" ] || die "the re-made cgroup kept its id $OLD_ID"
client_expect guard/system.slice/demo.service EPERM deny demo.service "$LD" rule -- \
	tcp 127.0.0.2 "$P2"
wait_map_entries 1 3
assert_eq "the map holds the new id only" "$NEW_ID 1" "$(cgroup_policy_dump)"

log "3. demo.service stops"
rmdir "$UNIT" || die "rmdir $UNIT"
if wait_map_entries 0 3; then
	ok "its map entry is gone"
else
	fail "map entries left after the unit stopped: $(cgroup_policy_dump | tr '\n' ' ')"
fi

log "4. other cgroups and units"
client_expect guard/elsewhere/demo.service ok -- tcp 127.0.0.2 "$P1"
make_cg guard/system.slice/nofile.service
client_expect guard/system.slice/nofile.service ok -- tcp 127.0.0.2 "$P1"
make_cg guard/user.slice/user-1000.slice/user@1000.service/app.slice/web.service
client_expect guard/user.slice/user-1000.slice/user@1000.service/app.slice/web.service \
	EPERM deny web.service "$LW" rule -- tcp 127.0.0.3 "$P1"
client_expect guard/user.slice/user-1000.slice/user@1000.service/app.slice/web.service \
	ok -- tcp 127.0.0.2 "$P1"
make_cg guard/lsntest.slice/run-u1.scope
client_expect guard/lsntest.slice/run-u1.scope EPERM deny lsntest.slice "$LS" rule -- \
	tcp 127.0.0.4 "$P1"
client_expect guard/lsntest.slice ok -- tcp 127.0.0.2 "$P1"
assert_eq "map entries: the user unit and the slice" 2 "$(cgroup_policy_dump | wc -l)"

log "the unit comes back after a reload"
make_cg guard/system.slice/demo.service
reload_agent '^lsnitch-agent: reloaded'
client_expect guard/system.slice/demo.service EPERM deny demo.service "$LD" rule -- \
	tcp 127.0.0.2 "$P3"
assert_eq "map entries after the reload" 3 "$(cgroup_policy_dump | wc -l)"

remove_cg_tree "$CG/guard/user.slice" && remove_cg_tree "$CG/guard/lsntest.slice" &&
	remove_cg_tree "$UNIT" || die "cannot remove the unit cgroups"
if wait_map_entries 0 3; then
	ok "no map entries left once every unit is gone"
else
	fail "map entries left: $(cgroup_policy_dump | tr '\n' ' ')"
fi
client_expect outside ok -- tcp 127.0.0.2 "$P1"
assert_no_match "no warnings or errors from the agent" 'warning|error|cannot' "$(cat "$AGENT_ERR")"
assert_no_other_events
finish
