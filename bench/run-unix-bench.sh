#!/bin/bash
# make bench, the resolver-socket part: what the cgroup/connect_unix program
# costs a unix connect() from a guarded process, as a ratio to the same call
# with no firewall, measured in the same run: a path not on the list (the
# common case: D-Bus, journald, X11), and a listed one (refused). Attaches only
# to a cgroup it creates; sockets live in its own temporary directory.
set -u
cd "$(dirname "$0")/.."
B=build
AGENT=$B/lsnitch-agent
LOOP=$B/bench/unix_connect_loop
ITERS=${BENCH_ITERS:-300000}

[ "$(id -u)" = 0 ] || { echo "bench: needs root (BPF)" >&2; exit 1; }
if [ -z "${LSN_BENCH_LOCKED:-}" ]; then
	exec 9>/tmp/lsnitch-e2e.lock
	flock 9
fi
CG2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
CG=$CG2/lsnitch-bench-unix-$$
TMP=$(mktemp -d /tmp/lsnitch-bench-unix.XXXXXX)
AGENT_PID=
OLD_STATS=$(sysctl -n kernel.bpf_stats_enabled)

cleanup() {
	[ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
	sysctl -qw kernel.bpf_stats_enabled="$OLD_STATS"
	rmdir "$CG" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
mkdir "$CG"
sysctl -qw kernel.bpf_stats_enabled=1

in_cg() { sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" "$@"; }
median3() {
	local a b c
	a=$("$@" | awk '{ print $1 }'); b=$("$@" | awk '{ print $1 }'); c=$("$@" | awk '{ print $1 }')
	printf '%s\n%s\n%s\n' "$a" "$b" "$c" | sort -g | sed -n 2p
}
prog_stats() { # "run_time_ns run_cnt" of ln_connect_unix
	bpftool -j prog show 2>/dev/null | python3 -c '
import json, sys
t = c = 0
for p in json.load(sys.stdin):
    if p.get("name") == "ln_connect_unix":
        t += p.get("run_time_ns", 0); c += p.get("run_cnt", 0)
print(t, c)'
}

OTHER=$TMP/other.sock LISTED=$TMP/resolver.sock
printf 'blocked.example\n' >"$TMP/domains.txt"
printf '[global]\nblocked-domains = domains.txt\nresolver-sockets = %s\n' "$LISTED" >"$TMP/c.ini"
base=$(median3 "$LOOP" "$OTHER" "$ITERS")
"$AGENT" --cgroup "$CG" --config "$TMP/c.ini" --pin-dir "/sys/fs/bpf/lsnitch-bench-unix-$$" \
	--control "$TMP/control.sock" >"$TMP/agent.out" 2>"$TMP/agent.err" &
AGENT_PID=$!
for _ in $(seq 1 600); do
	grep -q 'lsnitch-agent: ready' "$TMP/agent.err" && break
	kill -0 "$AGENT_PID" 2>/dev/null || { cat "$TMP/agent.err" >&2; exit 1; }
	sleep 0.1
done
if grep -q 'resolver sockets are not guarded' "$TMP/agent.err"; then
	echo "lsnitch bench (resolver sockets): skipped, no cgroup/connect_unix on $(uname -r)"
	exit 0
fi
read -r t0 c0 < <(prog_stats)
other=$(median3 in_cg "$LOOP" "$OTHER" "$ITERS")
read -r t1 c1 < <(prog_stats)
listed=$(median3 in_cg "$LOOP" "$LISTED" "$ITERS")
read -r t2 c2 < <(prog_stats)
refused=$(in_cg "$LOOP" "$LISTED" 1000 | awk '{ print $3 }')
echo "lsnitch bench (resolver sockets): $ITERS unix datagram connect() calls per run, median of 3"
awk -v b="$base" -v o="$other" -v l="$listed" -v to=$((t1 - t0)) -v co=$((c1 - c0)) \
    -v tl=$((t2 - t1)) -v cl=$((c2 - c1)) -v r="$refused" 'BEGIN {
	printf "%-34s %9s %7s %9s\n", "", "ns/call", "ratio", "prog ns"
	printf "%-34s %9.1f %6.2fx %9s\n", "baseline (no firewall)", b, 1, "-"
	printf "%-34s %9.1f %6.2fx %9.1f\n", "guarded, path not listed", o, o / b, co ? to / co : 0
	printf "%-34s %9.1f %6.2fx %9.1f\n", "guarded, listed path (refused)", l, l / b, cl ? tl / cl : 0
	printf "refused in a run of 1000 to the listed path: %s (events rate-limited)\n", r }'
