#!/bin/bash
# make bench, exe part: what exe policies add to a verdict. One agent, three
# cgroups this script makes, the kernel cost per verdict (bpf_stats:
# run_time_ns/run_cnt of the connect hooks) of UDP connect() to 127.0.0.1:9
# (no packet leaves) from
#   plain:   a scope with no exe policies (the baseline: one flag test added);
#   miss:    a scope with 100 exe policies, from an executable none names
#            (the task's executable read, its slot in exe_filter, the
#            socket's note for the egress backstop);
#   match:   the same scope, from a copy of the loop one of them names (its
#            slot answers, the exe policy's value is read).
# A repeated destination (what the verdict cache answers), and with "-new" a
# new port each call (the whole decision: the exe_policy lookup included).
# History off (--history none): a new flow each call would cost more than
# what is measured here (the verdict part measures it with history on).
# BENCH_EXE_BASE=PATH: another agent binary ("before"), measured the same way
# in the same run (the two agents take turns, each against its own plain scope).
set -u
cd "$(dirname "$0")/.."
B=build
AGENT=${AGENT:-$B/lsnitch-agent}
BASE=${BENCH_EXE_BASE:-}
LOOP=$B/bench/connect_loop
ITERS=${BENCH_EXE_ITERS:-200000}
N_EXE=${BENCH_EXE_POLICIES:-100}

. bench/lib.sh
bench_setup exebench
bench_stats_on

mkdir -p "$CG/plain" "$CG/scoped" "$TMP/bin"
cp "$LOOP" "$TMP/bin/loop-match"
{
	printf '[policy plain]\ncgroup = %s/plain\n\n[policy scoped]\ncgroup = %s/scoped\n' "$REL" "$REL"
	printf '\n[policy match]\ncgroup = %s/scoped\nexe = %s\n' "$REL" "$TMP/bin/loop-match"
	for i in $(seq 2 "$N_EXE"); do
		: >"$TMP/bin/exe-$i" # a file of its own: an inode of its own
		printf '\n[policy exe-%d]\ncgroup = %s/scoped\nexe = %s\n' "$i" "$REL" "$TMP/bin/exe-$i"
	done
} >"$TMP/p.ini"
start() { start_agent_bin "$1" --config "$TMP/p.ini" --history none; } # BINARY

# measure LABEL CGROUP BINARY [spread]: kernel ns per connect-hook run of BINARY's loop in CGROUP.
measure() {
	local t0 c0 t1 c1 port=9
	[ -n "${4:-}" ] && port=1024
	read -r t0 c0 < <(prog_stats)
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG/$2" "$3" 127.0.0.1 "$port" "$ITERS" \
		${4:-} >/dev/null
	read -r t1 c1 < <(prog_stats)
	awk -v l="$1" -v t=$((t1 - t0)) -v c=$((c1 - c0)) \
		'BEGIN { printf "%s %.2f %d\n", l, c ? t / c : 0, c }'
}

# One round of the three cases under agent BINARY, labelled LABEL, into $TMP/res.
round() { # LABEL BINARY
	start "$2"
	{
		measure "$1/plain" plain "$LOOP"
		measure "$1/miss" scoped "$LOOP"
		measure "$1/match" scoped "$TMP/bin/loop-match"
		measure "$1/plain-new" plain "$LOOP" spread
		measure "$1/miss-new" scoped "$LOOP" spread
		measure "$1/match-new" scoped "$TMP/bin/loop-match" spread
	} >>"$TMP/res"
	grep -q 'policy=match\|^deny' "$TMP/agent.out" && { echo "bench: unexpected events" >&2; exit 1; }
	stop_agent
}
# Interleaved, three rounds each: the median damps a 2-core machine's noise.
: >"$TMP/res"
for _ in 1 2 3; do
	[ -n "$BASE" ] && round before "$BASE"
	round lsnitch "$AGENT"
done
echo "lsnitch exe bench: kernel ns per connect-hook run (bpf_stats), $N_EXE exe policies in one scope, baseline = plain"
sort -k1,1 -k2,2g "$TMP/res" | awk '{ k = $1; i[k]++; if (i[k] == 2) { v[k] = $2; n[k] = $3 } } END {
	printf "%-8s %-38s %9s %7s %9s %8s\n", "agent", "case", "prog ns", "ratio", "added ns", "runs"
	split("before lsnitch", ag, " ")
	for (j = 1; j <= 2; j++) for (q = 1; q <= 2; q++) {
		a = ag[j]; x = q == 1 ? "" : "-new"; b = v[a "/plain" x]
		if (!b)
			continue
		printf "%-8s %-38s %9.1f %6.2fx %9s %8d\n", a, "scope without exe policies" x, b, 1, "-", n[a "/plain" x]
		printf "%-8s %-38s %9.1f %6.2fx %9.1f %8d\n", a, "scope with exe policies, none matches" x, v[a "/miss" x], v[a "/miss" x] / b, v[a "/miss" x] - b, n[a "/miss" x]
		printf "%-8s %-38s %9.1f %6.2fx %9.1f %8d\n", a, "scope with exe policies, one matches" x, v[a "/match" x], v[a "/match" x] / b, v[a "/match" x] - b, n[a "/match" x]
	}
	print "-new: a new port each call (no verdict cache can answer: the whole decision)."
}'
