#!/bin/bash
# make bench, cgroup part: what deciding a new cgroup by its name costs.
# A glob policy (ctr-*) on a cgroup this script makes; the kernel cost per
# verdict (bpf_stats: run_time_ns/run_cnt of the connect hooks) of
#   fast:  connect() again and again from a container the agent has bound
#          (the policy cache hit: the path every later connect takes);
#   named: the first connect() of a new container, made and joined at once,
#          before the agent has seen it: the walk reads its name and matches;
#   bound: the first connect() of a new container the agent bound 50 ms
#          before (the walk finds the binding; no name read), the baseline.
# Also outside-the-glob siblings (named, no match). Connects only to
# 127.0.0.1:9 (TCP, refused: no packet leaves the host).
set -u
cd "$(dirname "$0")/.."
B=build
AGENT=${AGENT:-$B/lsnitch-agent}
LOOP=$B/bench/connect_loop
ROUNDS=${BENCH_CG_ROUNDS:-300}
RESTART=tests/e2e/cg_restart.py

. bench/lib.sh
bench_setup cgbench
bench_stats_on

mkdir -p "$CG/ctr-fast"
cat >"$TMP/p.ini" <<EOF
[policy ctr]
cgroup = $REL/ctr-*
default = allow
EOF
start_agent_bin "$AGENT" --config "$TMP/p.ini"

# measure LABEL CMD...: kernel ns per connect-hook run while CMD runs.
measure() {
	local label=$1 t0 c0 t1 c1
	shift
	read -r t0 c0 < <(prog_stats)
	"$@" >/dev/null
	read -r t1 c1 < <(prog_stats)
	awk -v l="$label" -v t=$((t1 - t0)) -v c=$((c1 - c0)) \
		'BEGIN { printf "%s %.1f %d\n", l, c ? t / c : 0, c }'
}

fast() { sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG/ctr-fast" "$LOOP" 127.0.0.1 9 100000; }
{
	measure fast fast
	measure named python3 "$RESTART" "$CG/ctr-new" 127.0.0.1 9 "$ROUNDS"
	measure sibling python3 "$RESTART" "$CG/other" 127.0.0.1 9 "$ROUNDS"
	CG_RESTART_SETTLE_MS=50 measure bound python3 "$RESTART" "$CG/ctr-old" 127.0.0.1 9 "$ROUNDS"
} >"$TMP/res"
echo "lsnitch cgroup bench: kernel ns per connect-hook run (bpf_stats), baseline = bound"
awk '{ v[$1] = $2; n[$1] = $3 } END {
	b = v["bound"]
	printf "%-38s %9s %7s %8s\n", "case", "prog ns", "ratio", "runs"
	printf "%-38s %9.1f %6.2fx %8d\n", "fast path (bound, cached)", v["fast"], v["fast"] / b, n["fast"]
	printf "%-38s %9.1f %6.2fx %8d\n", "first connect, bound by the agent", b, 1, n["bound"]
	printf "%-38s %9.1f %6.2fx %8d\n", "first connect, new: named (glob match)", v["named"], v["named"] / b, n["named"]
	printf "%-38s %9.1f %6.2fx %8d\n", "first connect, new sibling (no match)", v["sibling"], v["sibling"] / b, n["sibling"]
}' "$TMP/res"
