#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Per-unit policy files with systemd as PID 1: the agent asks systemd where a
# unit's cgroup is (sd-bus: Manager.GetUnit, then the unit's ControlGroup).
# Transient scopes (systemd-run --scope sleep) stand for units: one running
# before the agent, one started after it. Their cgroups are systemd's, not
# below this test's cgroup, so nothing is attached there and no traffic is
# sent: the test checks the agent's cgroup_policy map only (binding a cgroup
# id is not attaching). A cgroup of the same name in this test's own tree is
# not bound: systemd is the authority on its units.
# Where systemd is not PID 1, the test runs itself in a throwaway systemd
# container (nspawn_lib.sh) with this checkout bound read-only at its path.
. "$(dirname "$0")/lib.sh"
if [ ! -d /run/systemd/system ]; then
	. "$(dirname "$0")/nspawn_lib.sh"
	lsn_setup
	NSP_EXTRA=(--bind-ro="$LSN_ROOT")
	nspawn_boot
	in_ct env LSN_IN_NSPAWN=1 bash "$LSN_E2E_DIR/$TEST_NAME.sh"
	rc=$?
	nspawn_stop
	[ "$rc" = 0 ] || FAILS=1
	exit "$rc"
fi
lsn_setup
require_bpftool
command -v systemd-run >/dev/null 2>&1 || skip_env "systemd-run is missing"

U1=$LSN_TAG-one.scope
U2=$LSN_TAG-two.scope

# start_scope UNIT: a transient scope running sleep; waits for its cgroup.
start_scope() {
	local t=100 cg
	systemd-run --quiet --scope --unit="$1" -- sleep 120 >/dev/null 2>&1 &
	track_pid "$!"
	while [ "$t" -gt 0 ]; do
		cg=$(systemctl show -p ControlGroup --value "$1" 2>/dev/null)
		[ -n "$cg" ] && [ -d "$CG2$cg" ] && {
			printf '%s' "$CG2$cg"
			return 0
		}
		sleep 0.05
		t=$((t - 1))
	done
	die "scope $1 did not start"
}

UNITS=$TMPD/units.d
mkdir -p "$UNITS"
printf '[policy]\ndeny = 127.0.0.2\n' >"$UNITS/$U1.ini"
printf '[policy]\ndeny = 127.0.0.3\n' >"$UNITS/$U2.ini"
make_cg "guard/system.slice/$U1"

CG1=$(start_scope "$U1")
start_agent --units "$UNITS"
if wait_map_entries 1 3; then ok "one map entry: $U1's cgroup"; else fail "map: $(cgroup_policy_dump)"; fi
assert_eq "$U1 ($CG1) bound to policy 1" "$(cgroup_id "$CG1") 1" "$(cgroup_policy_dump)"

CG2U=$(start_scope "$U2")
if wait_map_entries 2 3; then ok "$U2 bound once it started"; else fail "map: $(cgroup_policy_dump)"; fi
assert_match "$U2 ($CG2U) bound to policy 2" "^$(cgroup_id "$CG2U") 2\$" "$(cgroup_policy_dump)"

systemctl stop "$U1" "$U2" >/dev/null 2>&1
if wait_map_entries 0 5; then ok "both stopped: no map entries left"; else fail "map: $(cgroup_policy_dump)"; fi
finish
