#!/bin/bash
# make bench, history part: the kernel cost per verdict of flow accounting
# (run_time_ns/run_cnt of the connect hooks, --history none vs on, alternated
# in the same run), how many flows/s the drain's writer puts into SQLite, the
# database size per million flow-minutes, and `lsnitch history` query time
# over HIST_MINUTES minutes of HIST_FLOWS flows a minute (synthetic fill).
# Attaches only to a cgroup it creates; connects only to 127.0.0.1 (UDP
# connect: no packet leaves).
set -u
cd "$(dirname "$0")/.."
B=${BUILD:-build}
AGENT=$B/lsnitch-agent
LOOP=$B/bench/connect_loop
FILL=$B/bench/history_fill
ITERS=${BENCH_ITERS:-300000}
FLOWS=${HIST_FLOWS:-10000}
MINUTES=${HIST_MINUTES:-120}

BENCH_NAME=hist
. bench/lib.sh
OLD_STATS=$(sysctl -n kernel.bpf_stats_enabled)
bench_cleanup_more() { sysctl -qw kernel.bpf_stats_enabled="$OLD_STATS"; }
sysctl -qw kernel.bpf_stats_enabled=1

prog_stats() { # "run_time_ns run_cnt" of ln_connect4 + ln_connect6
	bpftool -j prog show 2>/dev/null | python3 -c '
import json, sys
t = c = 0
for p in json.load(sys.stdin):
    if p.get("name") in ("ln_connect4", "ln_connect6"):
        t += p.get("run_time_ns", 0); c += p.get("run_cnt", 0)
print(t, c)'
}

start_agent() { start_agent_bin "$AGENT" --control "$TMP/ctl.sock" "$@"; }

# prog_ns HISTORY: kernel ns per connect verdict with --history HISTORY
prog_ns() {
	local t0 c0 t1 c1 try
	start_agent --history "$1"
	for try in 1 2 3; do # a bpftool that read nothing: again
		read -r t0 c0 < <(prog_stats)
		in_cg "$LOOP" 127.0.0.1 9 "$ITERS" >/dev/null
		read -r t1 c1 < <(prog_stats)
		[ $((c1 - c0)) -gt 0 ] && [ "$c0" -gt 0 ] && break
	done
	stop_agent
	awk -v t=$((t1 - t0)) -v c=$((c1 - c0)) 'BEGIN { printf "%.1f", c ? t / c : 0 }'
}

median() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }

echo "lsnitch bench, flow history: $ITERS UDP connect() per run, runs alternated off/on"
off=() on=()
for _ in 1 2 3; do
	off+=("$(prog_ns none)")
	on+=("$(prog_ns "$TMP/h.db")")
done
awk -v a="$(median "${off[@]}")" -v b="$(median "${on[@]}")" 'BEGIN {
	printf "kernel ns per verdict: accounting off %.1f, on %.1f: +%.1f ns (%.2fx)\n",
		a, b, b - a, a ? b / a : 0 }'
echo "  (runs off: ${off[*]}; on: ${on[*]}; the same flow each time: a table hit)"

rm -f "$TMP"/fill.db*
read -r rows secs rate bytes < <("$FILL" "$TMP/fill.db" "$FLOWS" "$MINUTES")
awk -v r="$rows" -v s="$secs" -v q="$rate" -v b="$bytes" 'BEGIN {
	printf "drain into SQLite: %d flow-minutes in %.1f s: %.0f flows/s (1024 per transaction)\n", r, s, q
	printf "database size: %.1f MB per million flow-minutes (%.1f MB for %d)\n",
		b / r, b / 1e6, r }'
for since in 1h "${MINUTES}m"; do
	t0=$(date +%s.%N)
	n=$($B/lsnitch --history "$TMP/fill.db" --json history --since "$since" | wc -c)
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" -v s="$since" -v n="$n" -v f="$FLOWS" 'BEGIN {
		printf "lsnitch history --since %s over %d flows/min: %.2f s (%d bytes of JSON)\n",
			s, f, b - a, n }'
done
echo "(30 days of $FLOWS flows/min is 43200 minutes: HIST_MINUTES=43200; the default"
echo " 256 MB cap keeps far less than that, see README \"Limits\".)"
