#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# New cgroups decided by name in the kernel, before the agent has seen them
# (issue 9 b, c). guard is a glob parent (ctr-*) and the parent of an exact
# path (app) and of a unit's cgroup (system.slice/u.service, found by the
# tree rule: systemd is not PID 1 here).
#   1. a new sibling no binding names connects on its first try, with its
#      new child made in the same burst (no "pending" deny any more);
#   2. a new container matching the glob is under its policy from its first
#      connect: the event names the policy, never "pending"; so is a new
#      container in a new pod, made in one burst (pods/*/ctr-*, two new levels),
#      while a new pod's other children are under the ancestors' (allowed);
#   3. with no glob (guard no glob parent for another reason), app and
#      u.service are removed and made again N times (what systemd
#      does on restart), a process connecting at once each time to a denied
#      listener: every connect EPERM, by the path's policy; then again with
#      each new process hammering for 30 ms; the listener accepted nothing.
. "$(dirname "$0")/lib.sh"
lsn_setup
require_bpftool
if [ -d /run/systemd/system ]; then
	skip "systemd is PID 1: units are found through systemd, not this test's fake tree"
fi
N=${LSN_NAMES_N:-20}

read -r P1 <<<"$(pick_ports 1)" || die "no free ports"
start_servers --tcp "127.0.0.3:$P1"
start_counting_listener 127.0.0.2 "$P1"

INI=$TMPD/names.ini
write_file "$INI" <<EOF
[policy ctr]
cgroup = $CGREL/guard/ctr-*
default = deny

[policy app]
cgroup = $CGREL/guard/app
default = deny

[policy pod]
cgroup = $CGREL/guard/pods/*/ctr-*
default = deny
EOF
UNITS=$TMPD/units.d
mkdir -p "$UNITS"
write_file "$UNITS/u.service.ini" <<EOF
[policy]
default = deny
EOF
make_cg guard/app guard/system.slice/u.service guard/pods
start_agent --config "$INI" --units "$UNITS"

# first_connect CGDIR ADDR: make CGDIR (with its parents), join it, connect
# to ADDR:P1 as the next syscall; prints ok or the error.
first_connect() {
	bash -c 'mkdir -p "$1" && echo $$ >"$1/cgroup.procs" || exit 126
		if exec 3<>"/dev/tcp/$2/$3"; then echo ok; fi' sh "$1" "$2" "$P1" 2>&1
}

log "1. $N new siblings no binding names, each with a child, connect at once"
pids=()
mkdir -p "$TMPD/other"
for ((i = 1; i <= N; i++)); do
	first_connect "$CG/guard/other-$i/sub" 127.0.0.3 >"$TMPD/other/$i" &
	pids+=("$!")
done
wait "${pids[@]}"
assert_eq "every first connect of a new unnamed sibling succeeded" "$N" \
	"$(grep -lx ok "$TMPD"/other/* | wc -l)"

log "2. $N new containers (ctr-*) connect at once to the denied 127.0.0.2"
ev_mark
pids=()
mkdir -p "$TMPD/ctr"
for ((i = 1; i <= N; i++)); do
	first_connect "$CG/guard/ctr-$i" 127.0.0.2 >"$TMPD/ctr/$i" &
	pids+=("$!")
done
wait "${pids[@]}"
assert_eq "every first connect of a new container failed with EPERM" "$N" \
	"$(grep -l 'Operation not permitted' "$TMPD"/ctr/* | wc -l)"
sleep 0.3
assert_eq "one deny event per container, by the policy ctr (decided by name)" "$N" \
	"$(events_since_mark | grep -c '^deny .* policy=ctr .*reason=default ')"
assert_no_match "no container was pending" 'reason=pending' "$(events_since_mark)"

log "2b. $N new pods, each made with a container in it, connect at once to 127.0.0.2"
ev_mark
pids=()
mkdir -p "$TMPD/pod" "$TMPD/side"
for ((i = 1; i <= N; i++)); do
	first_connect "$CG/guard/pods/p-$i/ctr-1" 127.0.0.2 >"$TMPD/pod/$i" &
	pids+=("$!")
	first_connect "$CG/guard/pods/q-$i/side" 127.0.0.3 >"$TMPD/side/$i" &
	pids+=("$!")
done
wait "${pids[@]}"
assert_eq "every first connect of a container in a new pod failed with EPERM" "$N" \
	"$(grep -l 'Operation not permitted' "$TMPD"/pod/* | wc -l)"
assert_eq "every first connect of a new pod's other child succeeded" "$N" \
	"$(grep -lx ok "$TMPD"/side/* | wc -l)"
sleep 0.3
assert_eq "one deny event per container, by the policy pod (two levels decided by name)" \
	"$N" "$(events_since_mark | grep -c '^deny .* policy=pod .*reason=default ')"
assert_no_match "no container in a new pod was pending" 'reason=pending' "$(events_since_mark)"

log "3. no glob now: the exact path app and the unit u.service restart $N times each"
stop_agent || fail "the agent did not stop cleanly"
write_file "$INI" <<EOF
[policy app]
cgroup = $CGREL/guard/app
default = deny
EOF
start_agent --config "$INI" --units "$UNITS"
# restarts REL POLICY: REL removed and made again N times by one fast process
# (mkdir to connect in well under a millisecond), a new process each time.
restarts() {
	local rel=$1 pol=$2 out
	ev_mark
	out=$("$PY" "$LSN_E2E_DIR/cg_restart.py" "$CG/$rel" 127.0.0.2 "$P1" "$N")
	assert_eq "$rel: every first connect after a restart failed with EPERM" \
		"rounds=$N connects=$N eperm=$N ok=0 other=0" "$out"
	sleep 0.3
	assert_eq "$rel: every deny came from policy $pol, none pending" "$N" \
		"$(events_since_mark | grep -c "^deny .* policy=$pol .*reason=default ")"
	# and hammered: a new process connecting for 30 ms after each restart
	out=$("$PY" "$LSN_E2E_DIR/cg_restart.py" "$CG/$rel" 127.0.0.2 "$P1" "$N" 30)
	assert_match "$rel: hammered across $N restarts, not one connect got through" \
		"^rounds=$N connects=[1-9][0-9]* eperm=[0-9]+ ok=0 other=0$" "$out"
}
restarts guard/app app
restarts guard/system.slice/u.service u.service
assert_eq "the denied listener accepted nothing (ground truth)" 0 "$(wc -l <"$ACCEPTED")"
finish
