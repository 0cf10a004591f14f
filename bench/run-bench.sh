#!/bin/bash
# make bench: cost per verdict, connect() inside vs outside a guarded cgroup,
# list load time and kernel memory per entry, as ratios to the no-firewall
# baseline measured in the same run; then the DNS part (bench/run-dns-bench.sh:
# resolver proxy vs direct queries, domain list load, domain set lookups;
# bench/run-dns-netns-bench.sh: the proxy inside network namespaces).
# Attaches only to a cgroup it creates; connects only to 127.0.0.1 / ::1 (UDP
# connect: no packet leaves). Then the egress part (bench/run-egress-bench.sh:
# throughput through a veth into its own netns with the packet-level backstop,
# and its kernel cost per packet); then what naming DNS askers costs the hook
# (bench/run-dns-asker-bench.sh); then the cgroup part (bench/run-cgroup-bench.sh:
# what deciding a new cgroup by its name costs); then the resolver-socket
# program's cost per unix connect() (unix_bench below); then the flow history
# part (bench/run-history-bench.sh); then the list subscriptions
# (bench/run-lists-bench.py: lsnitch-update against curl); then the verdict part
# (bench/run-verdict-bench.sh: the hooks' cost per verdict against a program doing
# one hash lookup, with big lists, many policies and cgroups; its 10M-entry point when asked:
# BENCH_VERDICT_10M=1 make bench, or BENCH_PARTS=verdict for that part alone); then the reload part
# (bench/run-reload-bench.sh: a 1M-entry list from file to enforcing, list-only path against
# the full path, connect() latency meanwhile, IPv6 bytes per entry). The deny part: the
# kernel cost of a denied, reported connect() (repeats summarised in the
# kernel), and a flood of denials: connects/s, events that reach the agent,
# status latency. The exe part (bench/run-exe-bench.sh): what 100 exe policies in a
# scope add to a verdict. The packet part (bench/run-packet-bench.sh): what the global
# packet-socket program costs every syscall and socket() where it is in use. The scale part
# (bench/run-scale-bench.sh): 10,000 containers appearing under a glob policy in 10 s.
# BENCH_PARTS="connect dns egress deny asker cgroup exe unix history lists packet verdict reload scale"
# (default);
# LSN_BENCH_AGENT: another agent binary to measure (e.g. an older build).
set -u
cd "$(dirname "$0")/.."
B=build
AGENT=${LSN_BENCH_AGENT:-$B/lsnitch-agent}
CLI=$B/lsnitch
FLOOD=$B/bench/connect_flood
LOOP=$B/bench/connect_loop
ITERS=${BENCH_ITERS:-300000}
SIZES=${BENCH_SIZES:-"0 10000 1000000"}
KINDS=${BENCH_KINDS:-"v4 v4cidr v6 v6cidr"}
PARTS=${BENCH_PARTS:-"connect dns egress deny asker cgroup exe unix history lists packet verdict reload scale"}
want() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

# One agent at a time (DNS proxy ports, machine-wide BPF stats): wait for tests.
BENCH_NAME=main
. bench/lib.sh
bench_stats_on
# the parts' own scripts: fd 9 holds the lock, they must not take it again
export LSN_BENCH_LOCKED=1

ns_per() { "$@" | awk '{ print $1 }'; }

# Median of 3 runs, to damp a 2-core machine's noise.
median3() {
	local a b c
	a=$(ns_per "$@"); b=$(ns_per "$@"); c=$(ns_per "$@")
	printf '%s\n%s\n%s\n' "$a" "$b" "$c" | sort -g | sed -n 2p
}

map_bytes() { # memlock of lsnitch list maps
	bpftool -j map show 2>/dev/null | python3 -c '
import json, sys
print(sum(m.get("bytes_memlock", 0) for m in json.load(sys.stdin)
          if m.get("name") in ("bl_pack4", "bl_pack6", "bl_bloom", "bl_heads")))'
}

start_agent() { start_agent_bin "$AGENT" "$@"; }

connect_bench() {
	base4=$(median3 "$LOOP" 127.0.0.1 9 "$ITERS")
	base6=$(median3 "$LOOP" ::1 9 "$ITERS")
	echo "lsnitch bench: $ITERS UDP connect() calls per run, median of 3; baseline = no firewall"
	echo "baseline connect(): IPv4 $base4 ns, IPv6 $base6 ns"
	echo
	printf '%-8s %8s | %10s %7s | %10s %7s | %9s | %9s %9s | %8s\n' \
		kind entries "in-cg ns" ratio "out-cg ns" ratio "prog ns" "load ms" "ms/100k" "B/entry"
	local empty_ms=""
	for kind in $KINDS; do
		for n in $SIZES; do
			# An empty list is the same whatever its kind: once per family.
			[ "$n" = 0 ] && case $kind in *cidr) continue ;; esac
			case $kind in v4*) dst=127.0.0.1; base=$base4 ;; *) dst=::1; base=$base6 ;; esac
			list=$TMP/list.txt
			python3 bench/gen_hosts.py "$kind" "$n" "$list"
			start_agent --blocked-hosts "$list"
			load_ms=$(sed -n 's/.* in \([0-9.]*\) ms; .*/\1/p' "$TMP/agent.err" | head -1)
			# The fixed start-up (BPF load) is measured with the empty list.
			[ "$n" = 0 ] && empty_ms=$load_ms
			bytes=$(map_bytes)
			read -r t0 c0 < <(prog_stats)
			inside=$(median3 in_cg "$LOOP" "$dst" 9 "$ITERS")
			read -r t1 c1 < <(prog_stats)
			outside=$(median3 "$LOOP" "$dst" 9 "$ITERS")
			stop_agent
			awk -v k="$kind" -v n="$n" -v i="$inside" -v o="$outside" -v b="$base" \
			    -v t=$((t1 - t0)) -v c=$((c1 - c0)) -v l="${load_ms:-0}" -v by="$bytes" \
			    -v l0="${empty_ms:-0}" 'BEGIN {
				printf "%-8s %8d | %10.1f %6.2fx | %10.1f %6.2fx | %9.1f | %9.1f %9.1f | %8s\n",
				k, n, i, i / b, o, o / b, c ? t / c : 0, l, n ? (l - l0) * 100000 / n : 0,
				n ? sprintf("%.0f", by / n) : "-" }'
		done
	done
	echo
	echo "in-cg: connect() from a process in the guarded cgroup; out-cg: same, outside it."
	echo "prog ns: kernel run_time_ns/run_cnt of the connect hooks (bpf_stats_enabled)."
	echo "B/entry: memlock of the blocklist maps (packed intervals + Bloom filter) per entry."
	echo "load ms: compile, BPF load, fill (not reading the file); ms/100k: beyond the empty list."
}

# The resolver-socket program's cost per unix connect() from a guarded process: a path not
# on the list (the common case: D-Bus, journald, X11) and a listed one (refused).
unix_bench() {
	local loop=$B/bench/unix_connect_loop other=$TMP/other.sock listed=$TMP/resolver.sock
	local base inside listed_ns refused t0 c0 t1 c1 t2 c2

	printf 'blocked.example\n' >"$TMP/domains.txt"
	printf '[global]\nblocked-domains = domains.txt\nresolver-sockets = %s\n' "$listed" \
		>"$TMP/unix.ini"
	base=$(median3 "$loop" "$other" "$ITERS")
	start_agent --config "$TMP/unix.ini" --control "$TMP/control.sock"
	if grep -q 'resolver sockets are not guarded' "$TMP/agent.err"; then
		echo "resolver sockets: skipped, no cgroup/connect_unix on $(uname -r)"
		stop_agent
		return 0
	fi
	read -r t0 c0 < <(prog_stats ln_connect_unix)
	inside=$(median3 in_cg "$loop" "$other" "$ITERS")
	read -r t1 c1 < <(prog_stats ln_connect_unix)
	listed_ns=$(median3 in_cg "$loop" "$listed" "$ITERS")
	read -r t2 c2 < <(prog_stats ln_connect_unix)
	refused=$(in_cg "$loop" "$listed" 1000 | awk '{ print $3 }')
	stop_agent
	echo "resolver sockets: $ITERS unix datagram connect() calls per run, median of 3"
	awk -v b="$base" -v o="$inside" -v l="$listed_ns" -v to=$((t1 - t0)) -v co=$((c1 - c0)) \
	    -v tl=$((t2 - t1)) -v cl=$((c2 - c1)) -v r="$refused" 'BEGIN {
		printf "%-34s %9s %7s %9s\n", "", "ns/call", "ratio", "prog ns"
		printf "%-34s %9.1f %6.2fx %9s\n", "baseline (no firewall)", b, 1, "-"
		printf "%-34s %9.1f %6.2fx %9.1f\n", "guarded, path not listed", o, o / b,
			co ? to / co : 0
		printf "%-34s %9.1f %6.2fx %9.1f\n", "guarded, listed path (refused)", l, l / b,
			cl ? tl / cl : 0
		printf "refused of 1000 connect() calls to the listed path: %s\n", r }'
}

# A denied connect() is reported: before summarising, one ring buffer record each.
deny_bench() {
	local base inside t0 c0 t1 c1 lines rate lat l i
	echo "127.0.0.1" >"$TMP/deny.txt"
	base=$(median3 "$LOOP" 127.0.0.1 9 "$ITERS")
	start_agent --blocked-hosts "$TMP/deny.txt" --control "$TMP/ctl.sock"
	read -r t0 c0 < <(prog_stats)
	inside=$(median3 in_cg "$LOOP" 127.0.0.1 9 "$ITERS")
	read -r t1 c1 < <(prog_stats)
	echo "lsnitch bench: denied connect() (blocked-hosts 127.0.0.1), $ITERS calls, median of 3"
	awk -v i="$inside" -v b="$base" -v t=$((t1 - t0)) -v c=$((c1 - c0)) 'BEGIN {
		printf "connect(): %.1f ns (%.2fx the no-firewall %.1f ns); prog ns per verdict: %.1f\n",
		i, i / b, b, c ? t / c : 0 }'
	lines=$(wc -l <"$TMP/agent.out")
	in_cg "$FLOOD" 127.0.0.1 5 >"$TMP/flood.out" &
	sleep 1
	lat=""
	for _ in 1 2 3 4 5; do
		l=$(date +%s%N)
		"$CLI" --socket "$TMP/ctl.sock" status >/dev/null 2>&1
		lat="$lat $((($(date +%s%N) - l) / 1000000))"
		sleep 0.5
	done
	wait $!
	sleep 1.5
	read -r rate _ <"$TMP/flood.out"
	i=$(( $(wc -l <"$TMP/agent.out") - lines ))
	stop_agent
	echo "flood of denials (a new port each time, 5 s): $rate connects/s;" \
		"$((i / 5)) event lines/s reached the agent's output; status ms:$lat"
}

# Each part wanted, in this order, a blank line between two.
SEP=
part() { # NAME COMMAND...
	want "$1" || return 0
	shift
	[ -z "$SEP" ] || echo
	SEP=1
	"$@" || exit 1
}
part deny deny_bench
part connect connect_bench
part dns bench/run-dns-bench.sh
# DNS in network namespaces: the proxy there, the first-query delay
part dns bench/run-dns-netns-bench.sh
part egress bench/run-egress-bench.sh
part asker bench/run-dns-asker-bench.sh
part cgroup bench/run-cgroup-bench.sh
part exe bench/run-exe-bench.sh
part history bench/run-history-bench.sh
part unix unix_bench
part lists env BUILD=$B bench/run-lists-bench.py
part packet bench/run-packet-bench.sh
part verdict bench/run-verdict-bench.sh
part reload bench/run-reload-bench.sh
part scale bench/run-scale-bench.sh
