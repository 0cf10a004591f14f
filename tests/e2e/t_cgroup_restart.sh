#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# --cgroup on a unit's own cgroup survives the unit's restart (issue 11).
# The agent guards $CG/svc.slice/u.service with a host blocklist (127.0.0.2):
# it warns that this is a unit's cgroup and attaches at svc.slice, binding the
# path there. Then u.service is removed and made again 20 times, each time
# with a new process that connects at once and hammers the denied address:
# zero connects get through (the listener is the ground truth); the log and
# `lsnitch status` show each disappearance and return; the links and pins
# (bpftool) are the same before and after. Controls: a sibling of u.service,
# old or new, is not guarded (another --cgroup beside it is); u.service's
# first connect to an allowed address works. A plain --cgroup path (not a unit's) is attached again when
# it is made again, its old links let go.
. "$(dirname "$0")/lib.sh"
lsn_setup
require_bpftool
N=${LSN_RESTART_N:-20}
lsn_ctl_setup

read -r P1 <<<"$(pick_ports 1)" || die "no free ports"
start_servers --tcp "127.0.0.3:$P1"
start_counting_listener 127.0.0.2 "$P1"

HOSTS=$TMPD/hosts.txt
printf '127.0.0.2\n' >"$HOSTS"
make_cg svc.slice/u.service svc.slice/other svc.slice/plain2
UNIT=$CG/svc.slice/u.service
AGENT_CGROUP=$UNIT start_agent --blocked-hosts "$HOSTS" --control "$S" \
	--cgroup "$CG/svc.slice/plain2"
assert_match "startup warns that the path is a unit's own cgroup, and what is sturdier" \
	"--cgroup $(re_escape "$UNIT") is a unit's own cgroup: .* attached at $(re_escape \
	"$CG/svc.slice").* Sturdier: guard the slice or the root" "$(cat "$AGENT_ERR")"
restart() { "$PY" "$LSN_E2E_DIR/cg_restart.py" "$1" "$2" "$P1" "$3" "${4:-0}"; }
links() { bpftool cgroup tree "$CG" 2>/dev/null | grep -c '^ *[0-9]'; }
pins() { ls "/sys/fs/bpf/$LSN_TAG/links" | sort | tr '\n' ' '; }

log "before: u.service is guarded, its sibling is not"
client_expect svc.slice/u.service EPERM -- tcp 127.0.0.2 "$P1"
client_expect svc.slice/other ok -- tcp 127.0.0.2 "$P1"
client_expect svc.slice/plain2 EPERM -- tcp 127.0.0.2 "$P1" # another --cgroup below the gate
links_before=$(links)
pins_before=$(pins)
accepted_before=$(wc -l <"$ACCEPTED") # the sibling's connect above
assert_match "the links are on svc.slice" "." "$(bpf_attached "$CG/svc.slice")"
assert_eq "nothing is attached to u.service itself" "" "$(bpf_attached "$UNIT")"

log "u.service restarts $N times, a new process hammering 127.0.0.2 each time"
out=$(restart "$UNIT" 127.0.0.2 "$N" 50)
log "$out"
assert_match "not one connect got through" "^rounds=$N connects=[1-9][0-9]* eperm=[0-9]+ ok=0 other=0$" \
	"$out"
sleep 0.3
assert_eq "the denied listener accepted nothing from u.service (ground truth)" \
	"$accepted_before" "$(wc -l <"$ACCEPTED")"
wait_for_count "$AGENT_ERR" "is back \($N times\)" 0 5
assert_eq "the log shows every disappearance" "$N" \
	"$(grep -c -- "--cgroup $UNIT is gone; watching" "$AGENT_ERR")"
assert_eq "and every return" "$N" "$(grep -c -- "--cgroup $UNIT is back" "$AGENT_ERR")"
assert_match "status counts them" "$(re_escape "$UNIT") \(attached at .*\) \(gone $N times, back $N\)" \
	"$(ctl status)"
assert_eq "no links piled up (bpftool)" "$links_before" "$(links)"
assert_eq "no pins piled up" "$pins_before" "$(pins)"

log "after a reload, the gate holds as before"
reload_agent "^lsnitch-agent: reloaded"
out=$(restart "$UNIT" 127.0.0.2 5 20)
assert_match "5 more restarts, hammered: not one connect got through" \
	"^rounds=5 connects=[1-9][0-9]* eperm=[0-9]+ ok=0 other=0$" "$out"
assert_eq "still no links piled up (bpftool)" "$links_before" "$(links)"

log "controls: a new sibling is not guarded; an allowed address works at once"
out=$(restart "$CG/svc.slice/new" 127.0.0.2 1)
assert_eq "a new sibling of u.service connects on its first try" \
	"rounds=1 connects=1 eperm=0 ok=1 other=0" "$out"
out=$(restart "$UNIT" 127.0.0.3 1)
assert_eq "a new u.service connects to an allowed address on its first try" \
	"rounds=1 connects=1 eperm=0 ok=1 other=0" "$out"

log "u.service gone: status says so"
remove_cg_tree "$UNIT"
sleep 0.2
assert_match "status: gone, watching" "$(re_escape "$UNIT") \(GONE: watching for it\)" \
	"$(ctl status)"
stop_agent || fail "the agent did not stop cleanly"

log "a plain --cgroup path is attached again when it is made again"
make_cg plain
AGENT_CGROUP=$CG/plain start_agent --blocked-hosts "$HOSTS" --control "$S"
pins_before=$(pins)
remove_cg_tree "$CG/plain"
wait_for_count "$AGENT_ERR" "--cgroup $(re_escape "$CG/plain") is gone" 0 5
assert_eq "its links are let go (no pin left)" "" "$(pins)"
make_cg plain
wait_for_count "$AGENT_ERR" "--cgroup $(re_escape "$CG/plain") is back" 0 5
client_expect plain EPERM -- tcp 127.0.0.2 "$P1"
assert_eq "attached again: one set of links, pinned under the new id" \
	"$(echo "$pins_before" | wc -w)" "$(pins | wc -w)"
stop_agent || fail "the agent did not stop cleanly"

log "--check warns of a unit's own cgroup; a hybrid host's path gets a hint"
assert_match "--check: what is sturdier" "is a unit's own cgroup: .*Sturdier: guard the slice" \
	"$("$AGENT" --check --cgroup "$UNIT" --config /dev/null 2>&1)"
if [ "$CG2" != /sys/fs/cgroup ] && [ ! -e "/sys/fs/cgroup/$CGREL" ]; then
	out=$("$AGENT" --cgroup "/sys/fs/cgroup/$CGREL/svc.slice" --pin-dir "/sys/fs/bpf/$LSN_TAG" \
		--blocked-hosts "$HOSTS" --control "$S" 2>&1)
	assert_match "the error says where cgroup v2 is and which path was meant" \
		"not a cgroup v2 directory; cgroup v2 is mounted at $(re_escape "$CG2") \(a hybrid \
host\): did you mean $(re_escape "$CG/svc.slice")\?" "$out"
else
	log "not a hybrid host: the hint is covered by tests/unit/test_cgroup_hint.c"
fi
finish
