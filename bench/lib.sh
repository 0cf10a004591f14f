# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# What the bench scripts share (sourced, not run): the machine-wide lock, a cgroup and a
# pin dir of the script's own, the agent started on them and stopped, the connect hooks'
# kernel time, cleanup on exit, and the DNS runs (dnsmasq's test records, dns_load medians).
#   bench_setup NAME       root, the lock (unless LSN_BENCH_LOCKED=1), $CG ($CG2/$REL,
#                          REL=lsnitch-bench-NAME-PID), $PIN, $TMP; undone at exit.
#                          Sourcing with BENCH_NAME set runs it.
#   bench_stats_on         kernel.bpf_stats_enabled=1 until exit (then as it was)
#   start_agent_bin BIN ARGS...   the agent on $CG, waited for (bench_agent_wait)
#   prog_stats [PROG...]   "run_time_ns run_cnt" of that agent's programs (default: the
#                          connect hooks); prog_stats_of PID PROG... of another agent
#   bench_e2e_setup        for scripts built on tests/e2e/lib.sh: the lock, lsn_setup,
#                          bpf stats off until exit (bench_stats_on turns them on)
# Set before sourcing: B (build dir). A script that has more to clean up defines
# bench_cleanup_more() (called first on exit).

AGENT_PID=
READY_MS=
OLD_STATS=

bench_lock() {
	# run-bench.sh holds the machine-wide lock on fd 9 and says so; alone, take it.
	if [ "${LSN_BENCH_LOCKED:-}" != 1 ]; then
		exec 9>/tmp/lsnitch-e2e.lock
		flock 9 || exit 1
	fi
}

bench_stats_save() { [ -n "$OLD_STATS" ] || OLD_STATS=$(sysctl -n kernel.bpf_stats_enabled); }
bench_stats_on() { bench_stats_save && sysctl -qw kernel.bpf_stats_enabled=1; }
bench_stats_restore() { [ -z "$OLD_STATS" ] || sysctl -qw kernel.bpf_stats_enabled="$OLD_STATS"; }

bench_cleanup() {
	declare -F bench_cleanup_more >/dev/null && bench_cleanup_more
	[ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
	bench_stats_restore
	# the deepest first: a bench may have made a tree below its cgroup
	[ -d "$CG" ] && find "$CG" -depth -type d -exec rmdir {} + 2>/dev/null
	# a stopped agent unpins everything; remove what a killed one may have left
	[ -e "$PIN" ] && rm -rf "$PIN"
	rm -rf "$TMP"
}

bench_setup() { # NAME
	BENCH_NAME=$1
	[ "$(id -u)" = 0 ] || { echo "$BENCH_NAME bench: needs root (BPF)" >&2; exit 1; }
	bench_lock
	CG2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	[ -n "$CG2" ] || { echo "$BENCH_NAME bench: no cgroup2 mount" >&2; exit 1; }
	REL=lsnitch-bench-$BENCH_NAME-$$
	CG=$CG2/$REL
	PIN=/sys/fs/bpf/lsnitch-bench-$BENCH_NAME-$$
	TMP=$(mktemp -d "/tmp/lsnitch-bench-$BENCH_NAME.XXXXXX")
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
	mkdir "$CG" || exit 1
	in_cg() { sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" "$@"; }
}

# Until the agent says "ready" in $TMP/agent.err (60 s); READY_MS: wall time from T0 (ns)
# to it. Exits the script if the agent does not start.
bench_agent_wait() { # [T0]
	local t0=${1:-$(date +%s%N)}
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

# Starts agent BINARY on $CG with ARGS (output in $TMP/agent.{out,err}) and waits for it.
start_agent_bin() { # BINARY ARGS...
	local bin=$1 t0
	shift
	t0=$(date +%s%N)
	"$bin" --cgroup "$CG" --pin-dir "$PIN" "$@" >"$TMP/agent.out" 2>"$TMP/agent.err" &
	AGENT_PID=$!
	bench_agent_wait "$t0"
}

stop_agent() { kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null; AGENT_PID=; }

# "run_time_ns run_cnt" of agent PID's programs named PROG, by the program ids it holds:
# other agents on the machine run programs so named too.
prog_stats_of() { # PID PROG...
	local ids
	ids=$(sed -n 's/^prog_id:[[:space:]]*//p' /proc/"$1"/fdinfo/* 2>/dev/null | sort -u)
	shift
	bpftool -j prog show 2>/dev/null | python3 -c '
import json, sys
ids = set(int(i) for i in sys.argv[1].split())
t = c = 0
for p in json.load(sys.stdin):
    if p.get("id") in ids and p.get("name") in sys.argv[2:]:
        t += p.get("run_time_ns", 0); c += p.get("run_cnt", 0)
print(t, c)' "$ids" "$@"
}

# The same of the running agent ($AGENT_PID); ln_connect4 and ln_connect6 if no PROG.
prog_stats() { # [PROG...]
	[ $# -gt 0 ] || set -- ln_connect4 ln_connect6
	prog_stats_of "$AGENT_PID" "$@"
}

# ---- benches built on tests/e2e/lib.sh (its cgroups, netns and cleanup)

# Ours first, then lib.sh's cleanup, with the exit status it would have seen.
bench_e2e_cleanup() {
	local rc=$?
	bench_stats_restore
	(exit "$rc")
	lsn_cleanup
}

bench_e2e_setup() {
	bench_lock
	lsn_setup
	bench_stats_save
	trap bench_e2e_cleanup EXIT
	sysctl -qw kernel.bpf_stats_enabled=0
}

median() { printf '%s\n' "$@" | sort -g | sed -n "$((($# + 1) / 2))p"; }

# ---- DNS runs: dnsmasq's records, dns_load medians

DNS4=127.0.0.153
LOAD=${B:-build}/bench/dns_load
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

[ -z "${BENCH_NAME:-}" ] || bench_setup "$BENCH_NAME"
