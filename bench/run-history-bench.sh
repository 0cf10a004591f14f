#!/bin/bash
# make bench, history part: the kernel cost per verdict of flow accounting
# (run_time_ns/run_cnt of the connect hooks, --history none vs on, alternated
# in the same run), how many flows/s the drain's writer puts into SQLite, the
# database size per million flow-minutes, and `lsnitch history` query time
# over HIST_MINUTES minutes of HIST_FLOWS flows a minute (synthetic fill)
# from minute rows, then rolled up; and over 30 days as the default limits
# keep them (history_fill's "month": minutes, then hours and days).
# Attaches only to a cgroup it creates; connects only to 127.0.0.1 (UDP
# connect: no packet leaves).
set -u
cd "$(dirname "$0")/.."
B=${BUILD:-build}
# start_agent_bin, stop_agent, prog_stats (this agent's own programs); the set-up below is this
# script's own (HIST_DB_ONLY runs without the lock and the kernel)
. bench/lib.sh
BENCH_NAME=history
AGENT=$B/lsnitch-agent
LOOP=$B/bench/connect_loop
FILL=$B/bench/history_fill
ITERS=${BENCH_ITERS:-300000}
FLOWS=${HIST_FLOWS:-10000}
MINUTES=${HIST_MINUTES:-240}
MONTH_MINUTES=${HIST_MONTH_MINUTES:-480}
PY=${PYTHON:-python3}

[ "$(id -u)" = 0 ] || { echo "bench: needs root (BPF)" >&2; exit 1; }
# HIST_DB_ONLY=1: only the database figures (no agent, no kernel, no lock).
DB_ONLY=${HIST_DB_ONLY:-}
if [ -z "${LSN_BENCH_LOCKED:-}" ] && [ -z "$DB_ONLY" ]; then
	exec 9>/tmp/lsnitch-e2e.lock
	flock 9
fi
CG2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$CG2" ] || { echo "bench: no cgroup2 mount" >&2; exit 1; }
CG=$CG2/lsnitch-bench-hist-$$
TMP=$(mktemp -d /tmp/lsnitch-bench-hist.XXXXXX)
PIN=/sys/fs/bpf/lsnitch-bench-hist-$$
AGENT_PID=
OLD_STATS=$(sysctl -n kernel.bpf_stats_enabled)

cleanup() {
	[ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
	sysctl -qw kernel.bpf_stats_enabled="$OLD_STATS"
	rmdir "$CG" 2>/dev/null
	rm -rf "$TMP" "/sys/fs/bpf/lsnitch-bench-hist-$$"
}
trap cleanup EXIT INT TERM
[ -n "$DB_ONLY" ] || mkdir "$CG"
[ -n "$DB_ONLY" ] || sysctl -qw kernel.bpf_stats_enabled=1
in_cg() { sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" "$@"; }

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

if [ -z "$DB_ONLY" ]; then
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
fi

rm -f "$TMP"/fill.db*
read -r rows secs rate bytes < <("$FILL" "$TMP/fill.db" "$FLOWS" "$MINUTES")
awk -v r="$rows" -v s="$secs" -v q="$rate" -v b="$bytes" 'BEGIN {
	printf "drain into SQLite: %d flow-minutes in %.1f s: %.0f flows/s (1024 per transaction)\n", r, s, q
	printf "database size: %.1f MB per million flow-minutes of minute rows (%.1f MB for %d)\n",
		b / r, b / 1e6, r }'

# query_s SINCE [DB]: seconds `lsnitch history --json --since SINCE` takes (best of 2)
query_s() {
	local best= t0 t1 i
	for i in 1 2; do
		t0=$(date +%s.%N)
		$B/lsnitch --history "${2:-$TMP/fill.db}" --json history --since "$1" >"$TMP/q.json"
		t1=$(date +%s.%N)
		best=$(awk -v a="$t0" -v b="$t1" -v c="$best" 'BEGIN {
			d = b - a; print (c == "" || d < c) ? d : c }')
	done
	echo "$best"
}
# Unaligned edges: minutes answer them either way.
SINCE="$((MINUTES - 7))m"
before=$(query_s "$SINCE")
"$FILL" "$TMP/fill.db" 0 0 rollup >/dev/null
after=$(query_s "$SINCE")
awk -v a="$before" -v b="$after" -v s="$SINCE" -v f="$FLOWS" -v m="$MINUTES" 'BEGIN {
	printf "lsnitch history --since %s over %d flows/min: minute rows %.2f s, with roll-ups %.2f s (%.1fx faster)\n",
		s, f, a, b, (b > 0 ? a / b : 0)
	printf "  minute rows alone over 30 days (43200 minutes): ~%.0f s (linear from %d minutes)\n",
		a * 43200 / m, m }'

# 30 days as the default limits leave it: days, 7 days of hours, MONTH_MINUTES of minutes.
read -r rows secs rate bytes < <("$FILL" "$TMP/month.db" "$FLOWS" "$MONTH_MINUTES" month)
month=$(query_s 30d "$TMP/month.db")
"$PY" - "$TMP/month.db" "$FLOWS" "$bytes" <<'END'
import sqlite3, sys, time
d = sqlite3.connect(sys.argv[1]); flows = int(sys.argv[2]); size = int(sys.argv[3])
now = time.time()
kept = dict(d.execute("SELECT name, kept_from FROM levels"))
rows = {t: d.execute("SELECT count(*) FROM %s" % t).fetchone()[0] for t in ("buckets", "hours", "days")}
fm = 30 * 1440 * flows
print("30 days at %d flows/min under the defaults: %.1f MB (cap 268 MB = 256 MiB): %.2f MB per million flow-minutes"
      % (flows, size / 1e6, size / fm))
print("  minutes for the last %.1f h (%d rows), hours for %.1f days (%d), days back to %.1f days (%d)"
      % ((now - kept["minute"]) / 3600, rows["buckets"], (now - kept["hour"]) / 86400,
         rows["hours"], (now - kept["day"]) / 86400, rows["days"]))
END
awk -v a="$before" -v b="$month" -v m="$MINUTES" 'BEGIN {
	printf "lsnitch history --since 30d: %.2f s; minute rows alone: ~%.0f s (%.0fx)\n",
		b, a * 43200 / m, (b > 0 ? a * 43200 / m / b : 0) }'
