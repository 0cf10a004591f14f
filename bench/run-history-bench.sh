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

[ "$(id -u)" = 0 ] || { echo "bench: needs root (BPF)" >&2; exit 1; }
if [ -z "${LSN_BENCH_LOCKED:-}" ]; then
	exec 9>/tmp/lsnitch-e2e.lock
	flock 9
fi
CG2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$CG2" ] || { echo "bench: no cgroup2 mount" >&2; exit 1; }
CG=$CG2/lsnitch-bench-hist-$$
TMP=$(mktemp -d /tmp/lsnitch-bench-hist.XXXXXX)
AGENT_PID=
OLD_STATS=$(sysctl -n kernel.bpf_stats_enabled)

cleanup() {
	[ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
	sysctl -qw kernel.bpf_stats_enabled="$OLD_STATS"
	rmdir "$CG" 2>/dev/null
	rm -rf "$TMP" "/sys/fs/bpf/lsnitch-bench-hist-$$"
}
trap cleanup EXIT INT TERM
mkdir "$CG"
sysctl -qw kernel.bpf_stats_enabled=1
in_cg() { sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" "$@"; }

prog_stats() { # "run_time_ns run_cnt" of ln_connect4 + ln_connect6
	bpftool -j prog show 2>/dev/null | python3 -c '
import json, sys
t = c = 0
for p in json.load(sys.stdin):
    if p.get("name") in ("ln_connect4", "ln_connect6"):
        t += p.get("run_time_ns", 0); c += p.get("run_cnt", 0)
print(t, c)'
}

start_agent() {
	"$AGENT" --cgroup "$CG" --pin-dir "/sys/fs/bpf/lsnitch-bench-hist-$$" \
		--control "$TMP/ctl.sock" "$@" >"$TMP/agent.out" 2>"$TMP/agent.err" &
	AGENT_PID=$!
	for _ in $(seq 1 600); do
		grep -q 'lsnitch-agent: ready' "$TMP/agent.err" && return 0
		kill -0 "$AGENT_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "bench: agent did not start:" >&2; cat "$TMP/agent.err" >&2
	exit 1
}
stop_agent() { kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null; AGENT_PID=; }

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
