#!/bin/bash
# make bench, exe part: what exe policies add to a verdict. One agent, three
# cgroups this script makes, the kernel cost per verdict (bpf_stats:
# run_time_ns/run_cnt of the connect hooks) of UDP connect() to 127.0.0.1:9
# (no packet leaves) from
#   plain:   a scope with no exe policies (the baseline: one flag test added);
#   miss:    a scope with 100 exe policies, from an executable none names
#            (the task's executable read, one hash lookup that misses, the
#            socket's note for the egress backstop);
#   match:   the same scope, from a copy of the loop one of them names (the
#            lookup hits, the exe policy's value is read).
set -u
cd "$(dirname "$0")/.."
B=build
AGENT=${AGENT:-$B/lsnitch-agent}
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
start_agent_bin "$AGENT" --config "$TMP/p.ini"

# measure LABEL CGROUP BINARY: kernel ns per connect-hook run of BINARY's loop in CGROUP.
measure() {
	local t0 c0 t1 c1
	read -r t0 c0 < <(prog_stats)
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG/$2" "$3" 127.0.0.1 9 "$ITERS" >/dev/null
	read -r t1 c1 < <(prog_stats)
	awk -v l="$1" -v t=$((t1 - t0)) -v c=$((c1 - c0)) \
		'BEGIN { printf "%s %.2f %d\n", l, c ? t / c : 0, c }'
}

# Interleaved, three rounds each: the median damps a 2-core machine's noise.
for _ in 1 2 3; do
	measure plain plain "$LOOP"
	measure miss scoped "$LOOP"
	measure match scoped "$TMP/bin/loop-match"
done >"$TMP/res"
grep -q 'policy=match\|^deny' "$TMP/agent.out" && { echo "bench: unexpected events" >&2; exit 1; }
echo "lsnitch exe bench: kernel ns per connect-hook run (bpf_stats), $N_EXE exe policies in one scope, baseline = plain"
sort -k1,1 -k2,2g "$TMP/res" | awk '{ k = $1; i[k]++; if (i[k] == 2) { v[k] = $2; n[k] = $3 } } END {
	b = v["plain"]
	printf "%-44s %9s %7s %9s %8s\n", "case", "prog ns", "ratio", "added ns", "runs"
	printf "%-44s %9.1f %6.2fx %9s %8d\n", "scope without exe policies", b, 1, "-", n["plain"]
	printf "%-44s %9.1f %6.2fx %9.1f %8d\n", "scope with exe policies, none matches", v["miss"], v["miss"] / b, v["miss"] - b, n["miss"]
	printf "%-44s %9.1f %6.2fx %9.1f %8d\n", "scope with exe policies, one matches", v["match"], v["match"] / b, v["match"] - b, n["match"]
}'
