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
BENCH_NAME=netns
. bench/lib.sh
AGENT=$B/lsnitch-agent
BASE_AGENT=${BENCH_AGENT_BASE:-}
RUNS=${BENCH_DNS_RUNS:-3}
COUNT1=${BENCH_DNS_COUNT1:-10000}
COUNT16=${BENCH_DNS_COUNT16:-50000}
N_NETNS=${BENCH_NETNS:-20}
command -v dnsmasq >/dev/null || { echo "netns dns bench: dnsmasq is not installed" >&2; exit 1; }
NS_PREFIX=lsnb$$-
PIDS=()

bench_cleanup_more() {
	local p n
	[ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
	AGENT_PID=
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for n in $(ip netns list | awk '{print $1}' | grep "^$NS_PREFIX"); do
		for p in $(ip netns pids "$n"); do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$n"
	done
	wait 2>/dev/null
}

NAMES=$TMP/names.txt
dns_records "$NAMES"
dnsmasq_in() { # NETNS|- : dnsmasq on 127.0.0.153:53 there
	local pre=()
	[ "$1" != - ] && pre=(ip netns exec "$1")
	"${pre[@]}" "$(command -v dnsmasq)" --keep-in-foreground --conf-file=/dev/null --no-resolv \
		--no-hosts --bind-interfaces --listen-address=$DNS4 --port=53 \
		--pid-file="$TMP/dnsmasq.$1.pid" "${RECORDS[@]}" &
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

start_agent() { start_agent_bin "$1" --control "$TMP/control.sock"; } # BINARY

measure() { dns_measure "$NAMES" "$@"; } # CONCURRENCY COUNT [PREFIX CMD...]
row() { # LABEL RESULT BASELINE
	read -r m p q l _ <<<"$2"
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
