#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench, scale part: containers appearing under a glob policy (cgroup =
# <bench cgroup>/pods/ctr-*), paced like a busy container host. With 10 of them
# made, then BENCH_SCALE_N (10,000) made at BENCH_SCALE_RATE (1,000/s), then all
# removed at that rate (bench/cg_burst: per cgroup, from mkdir/rmdir to the entry in
# the agent's cgroup_policy map, polled every 0.2 ms):
#   bind/unbind latency p50/p99/max, against the same for the first 10;
#   the agent's CPU seconds (/proc/PID/stat) as a share of the burst's wall time;
#   its peak RSS during the burst (VmHWM, reset before) and the memlock of its maps,
#   against before the burst, and both again once everything is removed; its RSS after
#   a second burst and removal, against after the first (what is kept is reused);
#   the cost per verdict (bpf_stats) from inside one of 10,000 against one of 10.
# BENCH_AGENT_BASE=PATH: the same with another agent binary first ("before").
# Attaches only to the cgroup it makes; connects only to 127.0.0.1:9 (UDP, no
# packet leaves). Every cgroup it made is removed on every exit (lib.sh's trap).
set -u
cd "$(dirname "$0")/.."
B=build
AGENT=${LSN_BENCH_AGENT:-$B/lsnitch-agent}
LOOP=$B/bench/connect_loop
BURST=$B/bench/cg_burst
N=${BENCH_SCALE_N:-10000}
RATE=${BENCH_SCALE_RATE:-1000}
ITERS=${BENCH_SCALE_ITERS:-100000}
BENCH_NAME=scale
. bench/lib.sh
bench_stats_on

mkdir "$CG/pods"
cat >"$TMP/p.ini" <<EOF
[policy ctr]
cgroup = ${CG#"$CG2"/}/pods/ctr-*
default = allow
deny = 192.0.2.1
EOF
# The id of the agent's map named $1 (by the ids it holds: other agents have one too).
agent_map_id() {
	local ids
	ids=$(sed -n 's/^map_id:[[:space:]]*//p' /proc/"$AGENT_PID"/fdinfo/* 2>/dev/null | sort -u)
	bpftool -j map show 2>/dev/null | python3 -c '
import json, sys
ids = set(int(i) for i in sys.argv[1].split())
print(next((m["id"] for m in json.load(sys.stdin)
            if m.get("id") in ids and m.get("name") == sys.argv[2]), ""))' "$ids" "$1"
}

# memlock bytes of all the maps the agent holds
agent_map_bytes() {
	local ids
	ids=$(sed -n 's/^map_id:[[:space:]]*//p' /proc/"$AGENT_PID"/fdinfo/* 2>/dev/null | sort -u)
	bpftool -j map show 2>/dev/null | python3 -c '
import json, sys
ids = set(int(i) for i in sys.argv[1].split())
print(sum(m.get("bytes_memlock", 0) for m in json.load(sys.stdin) if m.get("id") in ids))' "$ids"
}

cpu_ticks() { awk '{ print $14 + $15 }' /proc/"$AGENT_PID"/stat; }
status_kb() { awk -v k="$1:" '$1 == k { print $2 }' /proc/"$AGENT_PID"/status; }

# verdict_ns CGROUP [spread]: kernel ns per connect-hook run of a loop in CGROUP.
verdict_ns() {
	local t0 c0 t1 c1 cg=$1 v=()
	shift
	for _ in 1 2 3; do
		read -r t0 c0 < <(prog_stats)
		sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" "$LOOP" 127.0.0.1 9 \
			"$ITERS" "$@" >/dev/null
		read -r t1 c1 < <(prog_stats)
		v+=("$(awk -v t=$((t1 - t0)) -v c=$((c1 - c0)) 'BEGIN { print c ? t / c : 0 }')")
	done
	printf '%s\n' "${v[@]}" | sort -g | sed -n 2p
}

# scale_run BINARY: the whole measurement with that agent, figures into R[...].
scale_run() {
	local map
	start_agent_bin "$1" --config "$TMP/p.ini"
	map=$(agent_map_id cgroup_policy)
	[ -n "$map" ] || { echo "scale bench: the agent's cgroup_policy map not found" >&2; exit 1; }
	R[few]=$("$BURST" create "$CG/pods" 0 9 "$RATE" "$map") || exit 1
	R[v10]=$(verdict_ns "$CG/pods/ctr-5") R[u10]=$(verdict_ns "$CG/pods/ctr-5" spread)
	R[m0]=$(agent_map_bytes) R[r0]=$(status_kb VmRSS) R[c0]=$(cpu_ticks)
	echo 5 >/proc/"$AGENT_PID"/clear_refs # VmHWM from here
	R[many]=$("$BURST" create "$CG/pods" 10 $((N - 1)) "$RATE" "$map") || exit 1
	R[c1]=$(cpu_ticks) R[h]=$(status_kb VmHWM) R[m1]=$(agent_map_bytes)
	R[vN]=$(verdict_ns "$CG/pods/ctr-$((N - 1))")
	R[uN]=$(verdict_ns "$CG/pods/ctr-$((N - 1))" spread)
	R[gone]=$("$BURST" remove "$CG/pods" 0 $((N - 1)) "$RATE" "$map") || exit 1
	R[c2]=$(cpu_ticks) R[r2]=$(status_kb VmRSS) R[m2]=$(agent_map_bytes)
	# Again: what the first burst left (tables at their size, a heap not given back) is reused.
	"$BURST" create "$CG/pods" 0 $((N - 1)) "$RATE" "$map" >/dev/null || exit 1
	"$BURST" remove "$CG/pods" 0 $((N - 1)) "$RATE" "$map" >/dev/null || exit 1
	R[r3]=$(status_kb VmRSS)
	stop_agent
}

# report LABEL: the figures of the last scale_run.
report() {
	local k args=()
	for k in "${!R[@]}"; do args+=(-v "$k=${R[$k]}"); done
	echo "$1:"
	awk "${args[@]}" -v t="$(getconf CLK_TCK)" -v n="$N" \
	    'function f(s, k,  a, i) { split(s, a, " ")
		for (i = 1; i < length(a); i += 2) if (a[i] == k) return a[i + 1] }
	function row(l, s, b) {
		printf "%-30s %6d %9.2f %9.2f %9.2f %8.2fx\n", l, f(s, "done"),
			f(s, "p50_us") / 1000, f(s, "p99_us") / 1000, f(s, "max_us") / 1000,
			f(s, "p99_us") / f(b, "p99_us") }
	BEGIN {
	printf "%-30s %6s %9s %9s %9s %9s\n", "from mkdir/rmdir to the map", "done",
		"p50 ms", "p99 ms", "max ms", "p99 ratio"
	row("bound, the first 10", few, few)
	row(sprintf("bound, the next %d", n - 10), many, few)
	row(sprintf("unbound, all %d", n), gone, few)
	printf "agent CPU: %.2f s making (%.2fx the %.1f s burst), %.2f s removing (%.2fx)\n",
		(c1 - c0) / t, (c1 - c0) / t / f(many, "secs"), f(many, "secs"),
		(c2 - c1) / t, (c2 - c1) / t / f(gone, "secs")
	printf "agent RSS: %d kB before, peak %d kB during (%.2fx), %d kB after removal (%.2fx),\n",
		r0, h, h / r0, r2, r2 / r0
	printf "  %d kB after a second burst and removal (%.2fx the first)\n", r3, r3 / r2
	printf "agent maps (memlock): %.1f MiB before, %.1f MiB with %d (%.2fx), %.1f MiB after (%.2fx)\n",
		m0 / 1048576, m1 / 1048576, n, m1 / m0, m2 / 1048576, m2 / m0
	printf "verdict (prog ns), one of %d against one of 10: cached %.1f / %.1f = %.2fx;",
		n, vN, v10, vN / v10
	printf " a new port each call %.1f / %.1f = %.2fx\n", uN, u10, uN / u10 }'
}

declare -A R
echo "lsnitch scale bench: $N containers under a glob policy at $RATE/s, then removed"
if [ -n "${BENCH_AGENT_BASE:-}" ]; then
	scale_run "$BENCH_AGENT_BASE"
	report "before ($BENCH_AGENT_BASE)"
fi
scale_run "$AGENT"
report lsnitch
echo "bound: the cgroup's id in cgroup_policy with the glob's policy; unbound: the entry gone."
