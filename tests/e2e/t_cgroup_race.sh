#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A new cgroup is under its policy from its first syscall: a default-deny
# container glob, and N container cgroups made in one burst, each running a
# shell that joins its cgroup and connects at once (bash's /dev/tcp: the
# connect is its next syscall) to a denied listener. Before the agent has
# seen a container, the programs deny it as "pending"; after, its policy
# does. Ground truth: the listener accepted nothing. Pods made in the same
# burst as their containers (a glob of two levels) leak nothing either. Then
# an allowed address from a new container connects once bound (retrying
# within ~1 s), and cgroups that no glob can bind (below an existing non-glob
# cgroup) connect on their first try, unaffected.
. "$(dirname "$0")/lib.sh"
lsn_setup
require_bpftool
N=${LSN_RACE_N:-50}

read -r P1 <<<"$(pick_ports 1)" || die "no free ports"
start_servers --tcp "127.0.0.3:$P1"
# The denied listener counts what it accepts, one line per connection.
start_counting_listener 127.0.0.2 "$P1"

INI=$TMPD/race.ini
write_file "$INI" <<EOF
[policy ctr]
cgroup = $CGREL/guard/ctr-*
default = deny
allow = 127.0.0.3:$P1/tcp

[policy pod]
cgroup = $CGREL/guard/pods/*/ctr-*
default = deny
EOF
LDEF=race.ini:$(line_of "$INI" "default = deny")
make_cg guard/plain
start_agent --config "$INI"
marks_before=$(cgroup_policy_dump --marks)

# burst PREFIX ADDR [SUFFIX]: N cgroups $CG/guard/PREFIX-iSUFFIX made at once
# (with their parents), each joined by a shell that connects to ADDR:P1 as its
# next syscall; its word in $TMPD/PREFIX/i ('/' as '_').
burst() {
	local prefix=$1 addr=$2 suffix=${3:-} out=$TMPD/${1//\//_} i pids=()
	mkdir -p "$out"
	for ((i = 1; i <= N; i++)); do
		bash -c 'mkdir -p "$1" && echo $$ >"$1/cgroup.procs" || exit 126
			if exec 3<>"/dev/tcp/$2/$3"; then echo ok; fi' \
			sh "$CG/guard/$prefix-$i$suffix" "$addr" "$P1" >"$out/$i" 2>&1 &
		pids+=("$!")
	done
	wait "${pids[@]}"
}

log "$N containers in one burst, each connecting at once to the denied 127.0.0.2"
ev_mark
burst ctr 127.0.0.2
n_eperm=$(grep -l 'Operation not permitted' "$TMPD"/ctr/* | wc -l)
n_ok=$(grep -lx ok "$TMPD"/ctr/* | wc -l)
assert_eq "every first connect failed with EPERM" "$N EPERM, 0 ok" "$n_eperm EPERM, $n_ok ok"
sleep 0.3
assert_eq "the denied listener accepted nothing (ground truth)" 0 "$(wc -l <"$ACCEPTED")"
wait_map_entries "$N" 5 || fail "expected $N bound containers, found $(cgroup_policy_dump | wc -l)"
n_pending=$(events_since_mark | grep -c '^deny .* policy=- rule=- reason=pending ')
n_default=$(events_since_mark | grep -c "^deny .* policy=ctr rule=[^ ]*/$LDEF reason=default ")
log "events: $n_pending pending, $n_default by the policy's default"
assert_eq "one deny event per container, pending or the policy's" "$N" \
	"$((n_pending + n_default))"
if [ "$n_pending" -gt 0 ]; then
	ok "the race was met: $n_pending connects came before the agent bound their cgroup"
else
	log "note: the agent bound every container before its connect (no pending this run)"
fi

log "pods made with their containers in one burst (glob pods/*/ctr-*): none leaks"
burst pods/p 127.0.0.2 /ctr-1
assert_eq "every first connect from a new pod's container failed with EPERM" "$N" \
	"$(grep -l 'Operation not permitted' "$TMPD"/pods_p/* | wc -l)"
sleep 0.3
assert_eq "the denied listener still accepted nothing" 0 "$(wc -l <"$ACCEPTED")"

log "an allowed address from a new container: works once bound (within ~1 s)"
bash -c 'mkdir "$1" && echo $$ >"$1/cgroup.procs" || exit 126
	for i in $(seq 20); do
		if exec 3<>"/dev/tcp/$2/$3"; then echo "ok after $i"; exit 0; fi 2>/dev/null
		sleep 0.05
	done
	echo never' sh "$CG/guard/ctr-allowed" 127.0.0.3 "$P1" >"$TMPD/allowed" 2>&1
assert_match "the allowed address connects" '^ok after [0-9]+$' "$(cat "$TMPD/allowed")"

log "cgroups no glob can bind are unaffected: first connect allowed"
burst plain/new 127.0.0.3
assert_eq "every first connect below guard/plain succeeded" "$N" \
	"$(grep -lx ok "$TMPD"/plain_new/* | wc -l)"
marks=$(cgroup_policy_dump --marks)
assert_match "guard is marked a glob parent" "^$(cgroup_id "$CG/guard") 3$" "$marks"
assert_match "guard/plain is marked seen" "^$(cgroup_id "$CG/guard/plain") 1$" "$marks"
assert_no_match "guard/plain's children carry no mark" \
	"^$(cgroup_id "$CG/guard/plain/new-1") " "$marks"

log "removed containers leave no entry behind"
for ((i = 1; i <= N; i++)); do remove_cg_tree "$CG/guard/ctr-$i"; done
remove_cg_tree "$CG/guard/pods"
remove_cg_tree "$CG/guard/ctr-allowed"
wait_map_entries 0 5 || fail "bound entries left: $(cgroup_policy_dump | wc -l)"
assert_eq "the marks are those from before the burst" "$marks_before" \
	"$(cgroup_policy_dump --marks)"
finish
