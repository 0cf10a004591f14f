#!/bin/bash
# make bench, verdict part: the kernel cost per verdict of lsnitch's connect4|6
# and sendmsg4|6 programs (bpf_stats: run_time_ns / run_cnt) against a floor
# measured in the same run: bench/one_lookup.bpf.c, which does one BPF hash
# lookup on the destination in a hash holding the same exact addresses; and beside it
# the floor of a firewall that knows who asks (bench/who_lookup.bpf.c: that lookup after
# reading the caller's cgroup id and executable, as lsnitch's hooks do).
# Fixture: N IPv4 + N IPv6 exact entries and N/20 IPv4 + N/20 IPv6 CIDRs in the
# global list, P policies of 10 rules each bound to P cgroups, C more cgroups
# bound through a glob, flow history on. The measuring process is in a cgroup
# of a policy with rules (default allow; its rules and the lists miss).
# BENCH_VERDICT_SIZES="10000 100000 1000000" (N), BENCH_POLICIES (P, 1000),
# BENCH_CGROUPS (C, 1000), BENCH_VERDICT_ITERS (100000 connects; sends: /2),
# BENCH_AGENT_BASE (another agent binary, measured the same way: "before"),
# BENCH_AGENTS ("LABEL=PATH ...": more agent binaries, each its own rows).
# Then the curves: connect4 and sendmsg4, a repeated destination (cached) and a new
# port each call, against the floor, as the list grows (BENCH_CURVE_SIZES, 10k 100k
# 1M; BENCH_VERDICT_10M=1 adds 10M: 21M lines, in LIST_FILES files of at most
# LIST_CHUNK lines, as a list file holds at most 4,194,303 lines -- its line number is
# 22 bits of the rule id)
# with 1000 policies and 10,000 cgroups; as policies grow (1, 100, 1000) and as bound
# cgroups grow (10, 1000, 10,000: BENCH_CURVE_POLICIES, BENCH_CURVE_CGROUPS), at
# BENCH_CURVE_N (100k) entries. BENCH_VERDICT_CURVE=0: no curves.
# Connects only to 127.0.0.1 and ::1 (UDP; sends stay on loopback).
set -u
cd "$(dirname "$0")/.."
B=build
. bench/lib.sh # prog_stats_of
AGENT=${LSN_BENCH_AGENT:-$B/lsnitch-agent}
LOOP=$B/bench/connect_loop
FLOOR=$B/bench/one_lookup
SIZES=${BENCH_VERDICT_SIZES:-"10000 100000 1000000"}
P=${BENCH_POLICIES:-1000}
C=${BENCH_CGROUPS:-1000}
ITERS=${BENCH_VERDICT_ITERS:-100000}
LIST_FILES=6 LIST_CHUNK=4000000 # list(): 6 x 4M lines hold the 10M point's 21M

[ "$(id -u)" = 0 ] || { echo "bench: needs root (BPF)" >&2; exit 1; }
if [ "${LSN_BENCH_LOCKED:-}" != 1 ]; then
	exec 9>/tmp/lsnitch-e2e.lock
	flock 9
fi
CG2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$CG2" ] || { echo "bench: no cgroup2 mount" >&2; exit 1; }
REL=lsnitch-vbench-$$
CG=$CG2/$REL
TMP=$(mktemp -d /tmp/lsnitch-vbench.XXXXXX)
AGENT_PID= FLOOR_PID= WHO_PID=
OLD_STATS=$(sysctl -n kernel.bpf_stats_enabled)

cleanup() {
	[ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
	[ -n "$FLOOR_PID" ] && kill "$FLOOR_PID" 2>/dev/null && wait "$FLOOR_PID" 2>/dev/null
	[ -n "$WHO_PID" ] && kill "$WHO_PID" 2>/dev/null && wait "$WHO_PID" 2>/dev/null
	sysctl -qw kernel.bpf_stats_enabled="$OLD_STATS"
	find "$CG" -depth -type d -exec rmdir {} + 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

# fixture P C: P policies of 10 rules each (none matches the bench's destinations) bound
# to cgroups of their own, and C cgroups under a glob (made or removed to match).
fixture() {
	local p=$1 c=$2 i
	mkdir -p "$CG/guard/p0" "$CG/floor" "$CG/who"
	for ((i = 1; i < p; i++)); do [ -d "$CG/guard/p$i" ] || mkdir "$CG/guard/p$i"; done
	for ((i = 1; i <= c; i++)); do [ -d "$CG/guard/ctr-$i" ] || mkdir "$CG/guard/ctr-$i"; done
	for ((i = c + 1; ; i++)); do rmdir "$CG/guard/ctr-$i" 2>/dev/null || break; done
	python3 - "$TMP/p.ini" "$REL" "$p" "$LIST_FILES" <<'PY'
import sys
path, rel, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(path, "w") as f:
    f.write("[global]\n")
    for k in range(int(sys.argv[4])):
        f.write(f"blocked-hosts = {path.rsplit('/', 1)[0]}/list-{k}.txt\n")
    for i in range(n):
        f.write(f"[policy p{i}]\ncgroup = {rel}/guard/p{i}\ndefault = allow\n")
        for r in range(10):
            f.write(f"deny = 192.0.2.{r}:{1000 + i % 60000}/tcp\n")
            if r == 0:
                f.write(f"allow = 2001:db8:ffff::{i:x}/128\n")
    f.write(f"[policy ctr]\ncgroup = {rel}/guard/ctr-*\ndefault = allow\n")
PY
}
fixture "$P" "$C"
sysctl -qw kernel.bpf_stats_enabled=1

# cost PID PROG CGROUP LOOP-ARGS...: kernel ns per run of PROG while the loop runs in CGROUP.
cost() {
	local pid=$1 prog=$2 cg=$3 t0 c0 t1 c1
	shift 3
	read -r t0 c0 < <(prog_stats_of "$pid" "$prog")
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" "$LOOP" "$@" >/dev/null
	read -r t1 c1 < <(prog_stats_of "$pid" "$prog")
	awk -v t=$((t1 - t0)) -v c=$((c1 - c0)) 'BEGIN { printf "%.1f\n", c ? t / c : 0 }'
}

median() { sort -g | sed -n 2p; }

# Through a pipe: gen_hosts.py opens /dev/stdout anew, which on a file truncates it.
gen() { python3 bench/gen_hosts.py "$@" /dev/stdout | cat; } # KIND N

# The fixture's list: 2.1 N lines, cut into list-0.txt ... list-$((LIST_FILES - 1)).txt (the
# ones the cut leaves out empty): the global section names them all (blocked-hosts= again).
list() { # N
	local n=$1 k
	rm -f "$TMP"/list-*.txt
	{
		gen v4 "$n"
		gen v6 "$n"
		gen v4cidr $((n / 20)) | sed 's/^10\./11./'
		gen v6cidr $((n / 20)) | sed 's/^2001:db8:/2001:db9:/'
	} | split -l "$LIST_CHUNK" -a 1 -d --additional-suffix=.txt - "$TMP/list-"
	for ((k = 0; k < LIST_FILES; k++)); do touch "$TMP/list-$k.txt"; done
	[ ! -e "$TMP/list-$LIST_FILES.txt" ] || { echo "bench: list of $n: too many files" >&2; exit 1; }
}

wait_ready() { # FILE LINE PID
	for _ in $(seq 1 1200); do
		grep -q "$2" "$1" && return 0
		kill -0 "$3" 2>/dev/null || break
		sleep 0.1
	done
	echo "bench: $1 never said $2:" >&2; cat "$1" >&2
	exit 1
}

start_agent() { # AGENT-BINARY
	"$1" --cgroup "$CG/guard" --pin-dir "/sys/fs/bpf/lsnitch-vbench-$$" \
		--config "$TMP/p.ini" --history "${BENCH_HISTORY:-$TMP/h.db}" \
		>"$TMP/agent.out" 2>"$TMP/agent.err" &
	AGENT_PID=$!
	wait_ready "$TMP/agent.err" 'lsnitch-agent: ready' "$AGENT_PID"
}

stop_pid() { kill "$1"; wait "$1" 2>/dev/null; }

# rows LABEL N: one row per hook (a repeated destination: what a cache may answer),
# and connect4 to a new port each time (what none can), against the floor and against
# the floor that knows who asks.
rows() {
	local label=$1 n=$2 h dst args l f w
	for h in connect4 connect6 sendmsg4 sendmsg6 connect4-new; do
		case $h in
		*4*) dst=127.0.0.1 ;;
		*) dst=::1 ;;
		esac
		case $h in
		send*) args=("$dst" 9 $((ITERS / 2)) send) ;;
		*-new) args=("$dst" 1024 "$ITERS" spread) ;;
		*) args=("$dst" 9 "$ITERS") ;;
		esac
		for _ in 1 2 3; do
			cost "$AGENT_PID" "ln_${h%-new}" "$CG/guard/p0" "${args[@]}" >>"$TMP/ln"
			cost "$FLOOR_PID" "floor_${h%-new}" "$CG/floor" "${args[@]}" >>"$TMP/fl"
			cost "$WHO_PID" "who_${h%-new}" "$CG/who" "${args[@]}" >>"$TMP/wh"
		done
		l=$(median <"$TMP/ln") f=$(median <"$TMP/fl") w=$(median <"$TMP/wh")
		rm -f "$TMP/ln" "$TMP/fl" "$TMP/wh"
		awk -v a="$label" -v h="$h" -v n="$n" -v l="$l" -v f="$f" -v w="$w" 'BEGIN {
			printf "%-13s %8d %-7s | %8.1f %8.1f %6.2fx | %8.1f %6.2fx\n", h, n, a, l, f,
				f ? l / f : 0, w, w ? l / w : 0 }'
	done
}

# reload_stall: connect() latency (median, p99, max) from the guarded cgroup for 3 s, idle,
# then while the agent reloads its N-entry lists (SIGHUP 0.5 s in): does a reload stall verdicts?
reload_stall() {
	local lat=$B/bench/connect_lat idle during n0
	idle=$(sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG/guard/p0" "$lat" 127.0.0.1 9 3)
	n0=$(grep -c 'lsnitch-agent: reloaded' "$TMP/agent.err")
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG/guard/p0" "$lat" 127.0.0.1 9 3 \
		>"$TMP/lat" &
	sleep 0.5
	kill -HUP "$AGENT_PID"
	wait $!
	during=$(cat "$TMP/lat")
	[ "$(grep -c 'lsnitch-agent: reloaded' "$TMP/agent.err")" -gt "$n0" ] ||
		echo "bench: the reload did not end within the 3 s measured" >&2
	awk -v i="$idle" -v d="$during" 'BEGIN {
		split(i, a, " "); split(d, b, " ")
		printf "connect() latency, ns:  median    p99       max       calls\n"
		printf "  no reload            %6d %7d %9d %9d\n", a[1], a[2], a[3], a[4]
		printf "  during a reload      %6d %7d %9d %9d  (p99 %.2fx)\n", b[1], b[2], b[3], b[4],
			b[2] / a[2] }'
}

echo "lsnitch verdict bench: kernel ns per program run (run_time_ns / run_cnt), median of 3"
echo "floor: one hash lookup on the destination (bench/one_lookup.bpf.c), same entries, same run"
echo "who: the same after reading who asks, cgroup id and executable (bench/who_lookup.bpf.c)"
echo "fixture: N v4 + N v6 exact, N/10 CIDR (v4 + v6), $P policies x 10 rules, $((P + C)) bound cgroups, history on"
printf '%-13s %8s %-7s | %8s %8s %7s | %8s %7s\n' hook N agent lsnitch floor ratio who ratio
for n in $SIZES; do
	list "$n"
	"$FLOOR" "$B/bench/one_lookup.bpf.o" "$CG/floor" "$n" "$n" >"$TMP/floor.out" &
	FLOOR_PID=$!
	wait_ready "$TMP/floor.out" ready "$FLOOR_PID"
	"$FLOOR" "$B/bench/who_lookup.bpf.o" "$CG/who" "$n" "$n" >"$TMP/who.out" &
	WHO_PID=$!
	wait_ready "$TMP/who.out" ready "$WHO_PID"
	for v in ${BENCH_AGENT_BASE:+"before=$BENCH_AGENT_BASE"} ${BENCH_AGENTS:-}; do
		start_agent "${v#*=}"
		rows "${v%%=*}" "$n"
		stop_pid "$AGENT_PID"
		AGENT_PID=
	done
	start_agent "$AGENT"
	rows lsnitch "$n"
	last=$n
	stop_pid "$AGENT_PID"
	stop_pid "$FLOOR_PID"
	stop_pid "$WHO_PID"
	AGENT_PID= FLOOR_PID= WHO_PID=
done
echo "connect4-new: each connect() to another port (no cache can answer: the full decision)."
echo "BENCH_AGENT_BASE=PATH adds the rows of another agent binary (\"before\"),"
echo "BENCH_AGENTS=\"LABEL=PATH ...\" those of more."
echo
echo "a reload of the $last-entry fixture (lists re-read, built aside, swapped in):"
list "$last"
start_agent "$AGENT"
reload_stall
stop_pid "$AGENT_PID"
AGENT_PID=

# ---- the curves

# pair HOOK LOOP-ARGS...: "lsnitch floor" kernel ns per run, medians of 3 alternate runs.
pair() {
	local h=$1 l f
	shift
	for _ in 1 2 3; do
		cost "$AGENT_PID" "ln_$h" "$CG/guard/p0" "$@" >>"$TMP/ln"
		cost "$FLOOR_PID" "floor_$h" "$CG/floor" "$@" >>"$TMP/fl"
	done
	l=$(median <"$TMP/ln") f=$(median <"$TMP/fl")
	rm -f "$TMP/ln" "$TMP/fl"
	echo "$l $f"
}

# curve_point N P C: one row, the floor holding N entries (started when N changes).
curve_point() {
	local n=$1 p=$2 c=$3 out=()
	if [ "$n" != "${FLOOR_N:-}" ]; then
		[ -z "$FLOOR_PID" ] || stop_pid "$FLOOR_PID"
		list "$n"
		"$FLOOR" "$B/bench/one_lookup.bpf.o" "$CG/floor" "$n" "$n" >"$TMP/floor.out" &
		FLOOR_PID=$! FLOOR_N=$n
		wait_ready "$TMP/floor.out" ready "$FLOOR_PID"
	fi
	fixture "$p" "$c"
	start_agent "$AGENT"
	out+=("$(pair connect4 127.0.0.1 9 "$ITERS")")
	out+=("$(pair connect4 127.0.0.1 1024 "$ITERS" spread)")
	out+=("$(pair sendmsg4 127.0.0.1 9 $((ITERS / 2)) send)")
	out+=("$(pair sendmsg4 127.0.0.1 1024 $((ITERS / 2)) send-spread)")
	stop_pid "$AGENT_PID"
	AGENT_PID=
	awk -v n="$n" -v p="$p" -v c="$c" -v r="${out[*]}" 'BEGIN {
		split(r, v, " ")
		printf "%9d %8d %8d |", n, p, c
		for (i = 1; i < 8; i += 2)
			printf " %5.2fx %6.1f |", v[i + 1] ? v[i] / v[i + 1] : 0, v[i]
		printf "\n" }'
}

if [ "${BENCH_VERDICT_CURVE:-1}" != 0 ]; then
	CURVE_N=${BENCH_CURVE_N:-100000}
	CURVE_SIZES=${BENCH_CURVE_SIZES-"10000 100000 1000000"}
	[ "${BENCH_VERDICT_10M:-}" != 1 ] || CURVE_SIZES="$CURVE_SIZES 10000000"
	echo
	echo "the curves: lsnitch's kernel ns per run as a ratio to the floor's (one lookup, same"
	echo "entries, same run), median of 3; cached: the same destination again; new: a new port"
	echo "each call (the full decision). N v4 + N v6 exact, N/10 CIDR; C cgroups under a glob."
	printf '%9s %8s %8s | %-14s | %-14s | %-14s | %-14s |\n' N policies cgroups \
		"connect4 cached" "connect4 new" "sendmsg4 cached" "sendmsg4 new"
	for n in $CURVE_SIZES; do curve_point "$n" 1000 10000; done
	for p in ${BENCH_CURVE_POLICIES-1 100 1000}; do curve_point "$CURVE_N" "$p" 10; done
	for c in ${BENCH_CURVE_CGROUPS-10 1000 10000}; do curve_point "$CURVE_N" 1 "$c"; done
	echo "each cell: ratio to the floor, then lsnitch's ns. 10M entries: BENCH_VERDICT_10M=1"
	echo "(with BENCH_CURVE_SIZES= BENCH_CURVE_POLICIES= BENCH_CURVE_CGROUPS= the 10M row alone)."
fi
