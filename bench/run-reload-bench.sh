#!/bin/bash
# make bench, reload part: how long a list of N IPv4 entries (default 1M) takes from the
# file in place to enforcing -- `lsnitch reload` answers once the new list is in force -- on the
# list-only path (programs kept, list maps flipped) against the full path (a policy changed
# too: new programs, verified again), in the same run; the first start (verifier included)
# on its own; connect() latency from the guarded cgroup while list-only reloads run back to
# back against idle; and the kernel memory per exact IPv6 entry (memlock of the list maps,
# N IPv6 entries) against a plain BPF hash of the same entries (bench/one_lookup.c).
# BENCH_RELOAD_ENTRIES (N), BENCH_RELOAD_RUNS (starts, and reloads per path: median; default 3).
# BENCH_AGENT_BASE=PATH: the first start and both reload paths of another agent binary too
# ("before"), the two taking turns; BENCH_BPF_BASE=OBJ: its BPF object, for the verifier's
# figures per program (bench/verifier_stats) beside those of build/lsnitch.bpf.o.
# Connects only to 127.0.0.1:9 and 127.0.0.2:9 (UDP connect: no packet leaves); listed
# addresses are never sent to.
set -u
cd "$(dirname "$0")/.."
B=build
AGENT=${LSN_BENCH_AGENT:-$B/lsnitch-agent}
CLI=$B/lsnitch
N=${BENCH_RELOAD_ENTRIES:-1000000}
RUNS=${BENCH_RELOAD_RUNS:-3}
BENCH_NAME=reload
. bench/lib.sh

CG2REL=${CG#"$CG2"/}
S=$TMP/ctl.sock
ctl() { "$CLI" --socket "$S" "$@"; }
ms_now() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -g | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 0 }'; }

# Lists A and B: N addresses each, B shifted by one (every entry differs) plus a probe.
python3 - "$N" "$TMP" <<'PY'
import sys
n, d = int(sys.argv[1]), sys.argv[2]
for name, off in (("a", 0), ("b", 1)):
    with open(f"{d}/list-{name}.txt", "w") as f:
        f.writelines(f"10.{((i + off) >> 16) & 255}.{((i + off) >> 8) & 255}.{(i + off) & 255}\n"
                     for i in range(n))
        if name == "b":
            f.write("127.0.0.2\n")
PY
ini() { # the policy's rule: 1 or 2 (a change takes the full path)
	printf '[global]\nblocked-hosts = %s/cur.txt\n[policy p]\ncgroup = %s\ndefault = allow\n' \
		"$TMP" "$CG2REL" >"$TMP/p.ini"
	printf 'deny = 192.0.2.%s\n' "$1" >>"$TMP/p.ini"
}
use_list() { cp "$TMP/list-$1.txt" "$TMP/next.txt" && mv "$TMP/next.txt" "$TMP/cur.txt"; }
# Whether the probe (127.0.0.2, in list B only) is denied from the guarded cgroup.
probe() {
	in_cg python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.connect(("127.0.0.2", 9)); print("ok")
except PermissionError:
    print("EPERM")'
}
# reload_ms LIST RULE: the file in place, then `lsnitch reload` until it answers.
reload_ms() {
	local t0
	use_list "$1"
	ini "$2"
	t0=$(ms_now)
	ctl reload >/dev/null || { echo "bench: reload failed" >&2; exit 1; }
	echo $(($(ms_now) - t0))
}
kinds() { grep -c "lsnitch-agent: reloaded$1" "$TMP/agent.err"; }

# start_once AGENT: exec to ready on list A; "ready load compile verify" (ms) appended to
# $TMP/starts-AGENT'S-LABEL; the agent left running.
start_once() { # LABEL AGENT
	local line
	use_list a
	ini 1
	start_agent_bin "$2" --config "$TMP/p.ini" --control "$S"
	line=$(grep -m1 ' in [0-9.]* ms; ' "$TMP/agent.err")
	echo "$READY_MS $(sed -n 's/.* in \([0-9.]*\) ms; .*/\1/p' <<<"$line")" \
		"$(sed -n 's/.*compiled in \([0-9.]*\) ms, programs verified in \([0-9.]*\) ms.*/\1 \2/p' \
			<<<"$line")" >>"$TMP/starts-$1"
}
# reloads LABEL: RUNS list-only reloads each way, then RUNS full ones each way (a policy
# changed), into $TMP/lists-LABEL and $TMP/full-LABEL; the agent on list A at the end.
reloads() { # LABEL
	local lists0 i
	lists0=$(kinds ' (lists only')
	for i in $(seq 1 "$RUNS"); do
		reload_ms b 1 >>"$TMP/lists-$1"
		[ "$(probe)" = EPERM ] || echo "bench: list B not enforced after the reload" >&2
		reload_ms a 1 >>"$TMP/lists-$1"
		[ "$(probe)" = ok ] || echo "bench: list A not enforced after the reload" >&2
	done
	[ "$(($(kinds ' (lists only') - lists0))" = $((2 * RUNS)) ] ||
		echo "bench: not every list-only reload took the list-only path" >&2
	for i in $(seq 1 "$RUNS"); do
		reload_ms b 2 >>"$TMP/full-$1"
		reload_ms a 1 >>"$TMP/full-$1"
	done
}
col() { awk -v c="$1" '{ print $c }' "$2" | median; } # COLUMN FILE: its median

AGENTS="now=$AGENT${BENCH_AGENT_BASE:+ before=$BENCH_AGENT_BASE}"
for i in $(seq 1 "$RUNS"); do # the first start, the agents taking turns
	for a in $AGENTS; do
		start_once "${a%%=*}" "${a#*=}"
		stop_agent
	done
done
if [ -n "${BENCH_AGENT_BASE:-}" ]; then
	start_once discard "$BENCH_AGENT_BASE"
	reloads before
	stop_agent
fi
start_once discard "$AGENT"
reloads now
first_ready=$(col 1 "$TMP/starts-now") first_load=$(col 2 "$TMP/starts-now")
lists_ms=$(median <"$TMP/lists-now") full_ms=$(median <"$TMP/full-now")

# connect() latency, idle and while list-only reloads run back to back (3 s each).
lat=$B/bench/connect_lat
idle=$(in_cg "$lat" 127.0.0.1 9 3)
n0=$(kinds ' (lists only')
touch "$TMP/reloading"
(
	l=b
	while [ -e "$TMP/reloading" ]; do
		use_list $l
		ctl reload >/dev/null
		l=$([ $l = a ] && echo b || echo a)
	done
) 9>&- &
RELOADER=$!
sleep 0.2
during=$(in_cg "$lat" 127.0.0.1 9 3)
rm -f "$TMP/reloading"
wait "$RELOADER"
n_during=$(($(kinds ' (lists only') - n0))
stop_agent

# Kernel memory per exact IPv6 entry: the list maps' memlock against a plain hash.
python3 bench/gen_hosts.py v6 "$N" "$TMP/cur.txt"
ini 1
start_agent_bin "$AGENT" --config "$TMP/p.ini" --control "$S"
map_bytes() {
	bpftool -j map show 2>/dev/null | python3 -c '
import json, sys
names = sys.argv[1].split(",")
print(sum(m.get("bytes_memlock", 0) for m in json.load(sys.stdin) if m.get("name") in names))' "$1"
}
v6_bytes=$(map_bytes bl_pack4,bl_pack6,bl_bloom,bl_heads)
stop_agent
mkdir "$CG/floor"
$B/bench/one_lookup $B/bench/one_lookup.bpf.o "$CG/floor" 0 "$N" >"$TMP/floor.out" 2>&1 &
FLOOR=$!
for _ in $(seq 1 600); do grep -q ready "$TMP/floor.out" && break; sleep 0.1; done
hash_bytes=$(map_bytes floor6)
kill "$FLOOR"
wait "$FLOOR" 2>/dev/null
rmdir "$CG/floor"

echo "lsnitch reload bench: $N IPv4 entries, median of $RUNS starts and $RUNS x 2 reloads per" \
	"path, ratios to the full path"
awk -v f="$full_ms" -v l="$lists_ms" -v r="$first_ready" -v ld="${first_load:-0}" \
	-v c="$(col 3 "$TMP/starts-now")" -v vf="$(col 4 "$TMP/starts-now")" 'BEGIN {
	fmt = "  %-46s %7d ms  %5.2fx%s\n"
	printf fmt, "first start (exec to ready, verifier included)", r, r / f,
		sprintf("  (build+load %.0f ms: compile %.0f, programs verified %.0f)", ld, c, vf)
	printf fmt, "full reload (programs verified again)", f, 1, ""
	printf fmt, "list-only reload (programs kept)", l, l / f,
		sprintf("  (goal <= 500 ms: %s)", l <= 500 ? "met" : "missed") }'
if [ -n "${BENCH_AGENT_BASE:-}" ]; then
	echo "the agent now against $BENCH_AGENT_BASE (before), same run:"
	awk -v r0="$(col 1 "$TMP/starts-before")" -v r1="$first_ready" \
		-v v0="$(col 4 "$TMP/starts-before")" -v v1="$(col 4 "$TMP/starts-now")" \
		-v f0="$(median <"$TMP/full-before")" -v f1="$full_ms" \
		-v l0="$(median <"$TMP/lists-before")" -v l1="$lists_ms" 'BEGIN {
		fmt = "  %-46s %7d ms -> %7d ms  %5.2fx\n"
		printf fmt, "first start (exec to ready)", r0, r1, r1 / r0
		if (v0 > 0)
			printf fmt, "  of it, programs verified", v0, v1, v1 / v0
		printf fmt, "full reload", f0, f1, f1 / f0
		printf fmt, "list-only reload", l0, l1, l1 / l0 }'
fi
if [ -n "${BENCH_BPF_BASE:-}" ]; then
	# the two objects taking turns, 3 loads each: verification time per program
	for o in "$BENCH_BPF_BASE" $B/lsnitch.bpf.o "$BENCH_BPF_BASE" $B/lsnitch.bpf.o; do
		$B/bench/verifier_stats -r 3 "$o" 2>/dev/null >>"$TMP/vs-$([ "$o" = "$BENCH_BPF_BASE" ] &&
			echo before || echo now)"
	done
	echo "the verifier per program (us: the mean of two medians of 3 loads, the objects" \
		"taking turns; insns processed), before -> now:"
	awk 'FNR == 1 { f++ } $1 ~ /^ln_|^total$/ { us[f, $1] = us[f, $1] " " $2; n[f, $1] = $3
		if (f == 1 && !seen[$1]++) names[++k] = $1 }
	function mean(s,   a, m, i, t) { m = split(s, a, " "); for (i = 1; i <= m; i++) t += a[i]
		return m ? t / m : 0 }
	END { for (i = 1; i <= k; i++) { p = names[i]; b = mean(us[1, p]); a = mean(us[2, p])
		printf "  %-18s %9d -> %8d us  %5.2fx   %8d -> %7d insns\n", p, b, a,
			b ? a / b : 0, n[1, p], n[2, p] } }' "$TMP/vs-before" "$TMP/vs-now"
fi
awk -v i="$idle" -v d="$during" -v n="$n_during" 'BEGIN {
	split(i, a, " "); split(d, b, " ")
	printf "connect() latency, ns:                 median     p99       max     calls\n"
	printf "  idle                                %6d %7d %9d %9d\n", a[1], a[2], a[3], a[4]
	printf "  %2d list-only reloads back to back   %6d %7d %9d %9d  (p99 %.2fx, median %.2fx)\n",
		n, b[1], b[2], b[3], b[4], b[2] / a[2], b[1] / a[1] }'
awk -v b="$v6_bytes" -v h="$hash_bytes" -v n="$N" 'BEGIN {
	printf "IPv6 exact entries, kernel memory (memlock): %.1f B/entry;", b / n
	printf " a plain BPF hash of them %.1f B/entry (%.2fx)\n", h / n, b / h }'
