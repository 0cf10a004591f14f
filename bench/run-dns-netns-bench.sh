#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench, DNS in network namespaces (run by bench/run-bench.sh; can be run alone):
#   1. proxy vs direct latency and throughput (dns_load, concurrency 1 and 16)
#      in the host namespace, for this build's agent and, with
#      BENCH_AGENT_BASE=PATH, another agent binary (e.g. the one before a
#      change), each against the direct run of the same run;
#   2. the same inside a network namespace with its own dnsmasq, with
#      BENCH_NETNS namespaces (default 20) served by the proxy at once;
#   3. the first-query delay in a new namespace: from the first query (refused:
#      the proxy has no sockets there yet) to the first answer, median of 5.
# Queries go to 127/8 of the host or of namespaces made here only; the agent is
# attached only to a cgroup made here.
set -u
cd "$(dirname "$0")/.."
B=build
AGENT=$B/lsnitch-agent
BASE_AGENT=${BENCH_AGENT_BASE:-}
LOAD=$B/bench/dns_load
DNS4=127.0.0.153
RUNS=${BENCH_DNS_RUNS:-3}
COUNT1=${BENCH_DNS_COUNT1:-10000}
COUNT16=${BENCH_DNS_COUNT16:-50000}
N_NETNS=${BENCH_NETNS:-20}

[ "$(id -u)" = 0 ] || { echo "netns dns bench: needs root (BPF)" >&2; exit 1; }
command -v dnsmasq >/dev/null || { echo "netns dns bench: dnsmasq is not installed" >&2; exit 1; }
if [ "${LSN_BENCH_LOCKED:-}" != 1 ]; then
	exec 9>/tmp/lsnitch-e2e.lock
	flock 9
fi
CG2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$CG2" ] || { echo "netns dns bench: no cgroup2 mount" >&2; exit 1; }
CG=$CG2/lsnitch-bench-netns-$$
PIN=/sys/fs/bpf/lsnitch-bench-netns-$$
TMP=$(mktemp -d /tmp/lsnitch-netns-bench.XXXXXX)
NS_PREFIX=lsnb$$-
AGENT_PID=
PIDS=()

cleanup() {
	local p n
	[ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for n in $(ip netns list | awk '{print $1}' | grep "^$NS_PREFIX"); do
		for p in $(ip netns pids "$n"); do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$n"
	done
	wait 2>/dev/null
	[ -d "$CG" ] && rmdir "$CG" 2>/dev/null
	[ -e "$PIN" ] && rm -rf "$PIN"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir "$CG" || exit 1

in_cg() { sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" "$@"; }
NAMES=$TMP/names.txt
records=()
for i in $(seq 0 15); do
	records+=("--host-record=host$i.bench.test,127.0.1.$((i + 1))")
	echo "host$i.bench.test" >>"$NAMES"
done
dnsmasq_in() { # NETNS|- : dnsmasq on 127.0.0.153:53 there
	local pre=()
	[ "$1" != - ] && pre=(ip netns exec "$1")
	"${pre[@]}" "$(command -v dnsmasq)" --keep-in-foreground --conf-file=/dev/null --no-resolv \
		--no-hosts --bind-interfaces --listen-address=$DNS4 --port=53 \
		--pid-file="$TMP/dnsmasq.$1.pid" "${records[@]}" &
	PIDS+=("$!")
	for _ in $(seq 50); do
		"${pre[@]}" "$LOAD" $DNS4 53 "$NAMES" 1 1 2>/dev/null | grep -q '^sent 1 .* lost 0' &&
			return 0
		sleep 0.1
	done
	echo "netns dns bench: dnsmasq did not start in $1" >&2
	exit 1
}
new_netns() { # NAME
	ip netns add "$1" && ip netns exec "$1" ip link set lo up
}

start_agent() { # BINARY
	"$1" --cgroup "$CG" --pin-dir "$PIN" --control "$TMP/control.sock" \
		>"$TMP/agent.out" 2>"$TMP/agent.err" &
	AGENT_PID=$!
	for _ in $(seq 600); do
		grep -q 'lsnitch-agent: ready' "$TMP/agent.err" && return 0
		kill -0 "$AGENT_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "netns dns bench: agent did not start:" >&2
	cat "$TMP/agent.err" >&2
	exit 1
}
stop_agent() { kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null; AGENT_PID=; }

# median of RUNS dns_load runs: "median_us p99_us qps lost"
measure() { # CONCURRENCY COUNT [PREFIX CMD...]
	local c=$1 n=$2 i f=$TMP/runs.txt m=$(((RUNS + 1) / 2)) out
	shift 2
	"$@" "$LOAD" $DNS4 53 "$NAMES" $((n / 10)) "$c" >/dev/null 2>&1
	: >"$f"
	for i in $(seq "$RUNS"); do
		out=$("$@" "$LOAD" $DNS4 53 "$NAMES" "$n" "$c" 2>&1)
		echo "$out" | awk '/^sent/ { lost = $6 } /^median_us/ { print $2, $4, $6, lost }' >>"$f"
	done
	echo "$(cut -d' ' -f1 "$f" | sort -g | sed -n ${m}p)" \
		"$(cut -d' ' -f2 "$f" | sort -g | sed -n ${m}p)" \
		"$(cut -d' ' -f3 "$f" | sort -g | sed -n ${m}p)" \
		"$(awk '{ l += $4 } END { print l + 0 }' "$f")"
}
row() { # LABEL RESULT BASELINE
	read -r m p q l <<<"$2"
	read -r bm bp bq _ <<<"$3"
	awk -v lb="$1" -v m="$m" -v p="$p" -v q="$q" -v l="$l" -v bm="$bm" -v bp="$bp" -v bq="$bq" \
		'BEGIN { printf "%-40s | %9.1f %6.2fx | %9.1f %6.2fx | %8.0f %6.2fx%s\n", lb, m, m / bm,
		p, p / bp, q, q / bq, l ? sprintf("  (lost %d)", l) : "" }'
}
header() {
	printf '%-40s | %9s %7s | %9s %7s | %8s %7s\n' path "median us" ratio "p99 us" ratio qps ratio
}

# ---- 1. host namespace: direct, this agent, the base agent
dnsmasq_in -
declare -A R
for c in 1 16; do
	n=$COUNT1; [ "$c" = 16 ] && n=$COUNT16
	R[direct.$c]=$(measure "$c" "$n")
done
for a in new base; do
	bin=$AGENT
	[ "$a" = base ] && bin=$BASE_AGENT
	[ -n "$bin" ] || continue
	start_agent "$bin"
	for c in 1 16; do
		n=$COUNT1; [ "$c" = 16 ] && n=$COUNT16
		R[$a.$c]=$(measure "$c" "$n" in_cg)
	done
	stop_agent
done
echo "DNS in namespaces bench: A queries to dnsmasq on $DNS4:53, median of $RUNS runs;"
echo "baseline = direct, no agent, same run"
echo
header
for c in 1 16; do
	row "host netns, direct (conc $c)" "${R[direct.$c]}" "${R[direct.$c]}"
	row "host netns, through this proxy (conc $c)" "${R[new.$c]}" "${R[direct.$c]}"
	[ -n "$BASE_AGENT" ] &&
		row "host netns, through base proxy (conc $c)" "${R[base.$c]}" "${R[direct.$c]}"
done
echo
[ -n "$BASE_AGENT" ] && echo "base proxy: $BASE_AGENT" && echo

# ---- 2. and 3. namespaces: the first-query delay, then load with N_NETNS served
start_agent "$AGENT"
delays=()
for i in $(seq "$N_NETNS"); do
	ns=$NS_PREFIX$i
	new_netns "$ns"
	[ "$i" = 1 ] && dnsmasq_in "$ns"
	in_cg ip netns exec "$ns" sleep 600 &
	PIDS+=("$!")
	t0=$(date +%s%N)
	for _ in $(seq 200); do
		in_cg ip netns exec "$ns" "$LOAD" $DNS4 53 "$NAMES" 1 1 2>/dev/null |
			grep -q '^sent 1 .* lost 0' && break
		[ "$i" != 1 ] && grep -q "($((i + 1)) served)" "$TMP/agent.err" && break
		sleep 0.01
	done
	[ "$i" -le 5 ] && delays+=($((($(date +%s%N) - t0) / 1000000)))
done
served=$(grep -c "serving the network namespace" "$TMP/agent.err")
for c in 1 16; do
	n=$COUNT1; [ "$c" = 16 ] && n=$COUNT16
	R[nsdirect.$c]=$(measure "$c" "$n" ip netns exec "${NS_PREFIX}1")
	R[nsproxy.$c]=$(measure "$c" "$n" in_cg ip netns exec "${NS_PREFIX}1")
	R[hostproxy.$c]=$(measure "$c" "$n" in_cg)
done
stop_agent
header
for c in 1 16; do
	row "netns, direct (conc $c)" "${R[nsdirect.$c]}" "${R[nsdirect.$c]}"
	row "netns, through the proxy (conc $c)" "${R[nsproxy.$c]}" "${R[nsdirect.$c]}"
	row "host, through the proxy, $served ns (conc $c)" "${R[hostproxy.$c]}" "${R[direct.$c]}"
done
echo
echo "$served namespaces served by the proxy (each with a guarded process); netns rows:"
echo "dnsmasq inside the first namespace, baseline = direct from inside it, no cgroup."
printf 'first-query delay in a new netns (first query refused, until the first answer), ms: %s\n' \
	"${delays[*]}"
printf '%s\n' "${delays[@]}" | sort -g | sed -n 3p | sed 's/^/median ms: /'
