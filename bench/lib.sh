# SPDX-License-Identifier: GPL-2.0
# What the bench scripts share (sourced, not run): the machine-wide lock, a cgroup and a
# pin dir of the script's own, the agent started on them and stopped, cleanup on exit,
# and the DNS runs (dnsmasq's test records, dns_load medians).
# Set before sourcing: B (build dir) and BENCH_NAME (names the cgroup, pins, temp dir).
# A script that has more to clean up defines bench_cleanup_more() (called first on exit).

[ "$(id -u)" = 0 ] || { echo "$BENCH_NAME bench: needs root (BPF)" >&2; exit 1; }
# run-bench.sh holds the machine-wide lock on fd 9 and says so; alone, take it.
if [ "${LSN_BENCH_LOCKED:-}" != 1 ]; then
	exec 9>/tmp/lsnitch-e2e.lock
	flock 9
fi
CG2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$CG2" ] || { echo "$BENCH_NAME bench: no cgroup2 mount" >&2; exit 1; }
CG=$CG2/lsnitch-bench-$BENCH_NAME-$$
PIN=/sys/fs/bpf/lsnitch-bench-$BENCH_NAME-$$
TMP=$(mktemp -d "/tmp/lsnitch-bench-$BENCH_NAME.XXXXXX")
AGENT_PID=
READY_MS=

bench_cleanup() {
	declare -F bench_cleanup_more >/dev/null && bench_cleanup_more
	[ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
	[ -d "$CG" ] && rmdir "$CG" 2>/dev/null
	# a stopped agent unpins everything; remove what a killed one may have left
	[ -e "$PIN" ] && rm -rf "$PIN"
	rm -rf "$TMP"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
mkdir "$CG" || exit 1

in_cg() { sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" "$@"; }

# Starts agent BINARY on $CG with ARGS (output in $TMP/agent.{out,err}) and waits for
# "ready"; READY_MS: wall time from exec to it. Exits the script if it does not start.
start_agent_bin() { # BINARY ARGS...
	local bin=$1 t0
	shift
	t0=$(date +%s%N)
	"$bin" --cgroup "$CG" --pin-dir "$PIN" "$@" >"$TMP/agent.out" 2>"$TMP/agent.err" &
	AGENT_PID=$!
	while [ $(($(date +%s%N) - t0)) -lt 60000000000 ]; do
		if grep -q 'lsnitch-agent: ready' "$TMP/agent.err"; then
			READY_MS=$((($(date +%s%N) - t0) / 1000000))
			return 0
		fi
		kill -0 "$AGENT_PID" 2>/dev/null || break
		sleep 0.01
	done
	echo "$BENCH_NAME bench: agent did not start:" >&2
	cat "$TMP/agent.err" >&2
	exit 1
}

stop_agent() { kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null; AGENT_PID=; }

# ---- DNS runs: dnsmasq's records, dns_load medians

DNS4=127.0.0.153
LOAD=$B/bench/dns_load
# The 16 names dnsmasq serves (--host-record arguments in RECORDS), one a line in NAMES.
dns_records() { # NAMES
	local i
	RECORDS=()
	: >"$1"
	for i in $(seq 0 15); do
		RECORDS+=("--host-record=host$i.bench.test,127.0.1.$((i + 1))")
		echo "host$i.bench.test" >>"$1"
	done
}

# RUNS runs of dns_load (after a warm-up) to $DNS4:53 for NAMES: the median of each
# figure, "median_us p99_us qps", then the totals over the runs of "lost other_rcode
# nxdomain". PREFIX: a command to run dns_load under (in_cg, ip netns exec NS).
dns_measure() { # NAMES CONCURRENCY COUNT [PREFIX...]
	local names=$1 c=$2 n=$3 i out f=$TMP/runs.txt m=$(((RUNS + 1) / 2))
	shift 3
	"$@" "$LOAD" $DNS4 53 "$names" $((n / 10)) "$c" >/dev/null 2>&1 # warm-up
	: >"$f"
	for i in $(seq "$RUNS"); do
		out=$("$@" "$LOAD" $DNS4 53 "$names" "$n" "$c" 2>&1) ||
			{ echo "$BENCH_NAME bench: dns_load failed: $out" >&2; return 1; }
		echo "$out" | awk '/^sent/ { lost = $6; nx = $8; other = $10 }
			/^median_us/ { print $2, $4, $6, lost, other, nx }' >>"$f"
	done
	echo "$(cut -d' ' -f1 "$f" | sort -g | sed -n ${m}p)" \
		"$(cut -d' ' -f2 "$f" | sort -g | sed -n ${m}p)" \
		"$(cut -d' ' -f3 "$f" | sort -g | sed -n ${m}p)" \
		"$(awk '{ l += $4; o += $5; x += $6 } END { print l + 0, o + 0, x + 0 }' "$f")"
}
