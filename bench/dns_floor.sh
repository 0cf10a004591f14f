# SPDX-License-Identifier: GPL-2.0
# make bench, DNS part 2b (sourced by run-dns-bench.sh, after its dnsmasq, saturate and
# measure): where the proxy stands against the floor of any relay, back to back in one
# run: direct to dnsmasq; a bare recvmmsg/sendmmsg relay with no checks (dns_relay, on
# $RELAY4:53); the proxy relaying every query (dns-cache = no); the proxy with its answer
# cache (dns-cache = yes). Throughput at saturation (dnsperf) and the median at one
# query in flight (dns_load), each as a ratio to direct, taken before and after the
# others (their mean is the baseline: the machine drifts), and lost queries.

RELAY4=127.0.0.154
RELAY=$B/bench/dns_relay
RELAY_PID=

declare -A FLOOR
floor_measure() { # KEY PREFIX...: saturation, then one in flight
	local key=$1
	shift
	FLOOR[$key.sat]=$(saturate "$@")
	FLOOR[$key.1]=$(measure 1 "$COUNT1" "$@") || exit 1
}
floor_row() { # KEY LABEL
	read -r med _ _ lost _ _ <<<"${FLOOR[$1.1]}"
	read -r q sl <<<"${FLOOR[$1.sat]:-0 0}"
	awk -v l="$2" -v m="$med" -v bm="$BASE_MED" -v q="$q" -v bq="$BASE_QPS" -v lost="$lost" \
	    -v sl="$sl" 'BEGIN {
		printf "%-34s | %8.0f %6.2fx | %9.1f %+8.1f | %6d %6d\n", l, q, (bq > 0 ? q / bq : 0),
		m, m - bm, sl, lost }'
}

"$RELAY" $RELAY4 53 $DNS4 53 &
RELAY_PID=$!
bench_cleanup_more() {
	[ -n "$DNSMASQ_PID" ] && kill "$DNSMASQ_PID" 2>/dev/null && wait "$DNSMASQ_PID" 2>/dev/null
	[ -n "$RELAY_PID" ] && kill "$RELAY_PID" 2>/dev/null && wait "$RELAY_PID" 2>/dev/null
}
sleep 0.2
kill -0 "$RELAY_PID" 2>/dev/null || { echo "dns bench: dns_relay did not start" >&2; exit 1; }

floor_measure direct0
# dnsperf and dns_load ask $DNS4: pointed at the relay for its run
DNS4=$RELAY4 floor_measure relay
kill "$RELAY_PID" && wait "$RELAY_PID" 2>/dev/null
RELAY_PID=
CACHE=no start_agent --blocked-domains "$TMP/probe.txt"
check_redirect
floor_measure proxy in_cg
stop_agent
CACHE=yes start_agent --blocked-domains "$TMP/probe.txt"
check_redirect
floor_measure cache in_cg
cached=$("$B/lsnitch" --socket "$TMP/control.sock" --json status 2>/dev/null |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["dns"]["cached"])' 2>/dev/null)
stop_agent
floor_measure direct1

read -r m0 _ <<<"${FLOOR[direct0.1]}"
read -r m1 _ <<<"${FLOOR[direct1.1]}"
read -r q0 _ <<<"${FLOOR[direct0.sat]:-0}"
read -r q1 _ <<<"${FLOOR[direct1.sat]:-0}"
BASE_MED=$(awk -v a="$m0" -v b="$m1" 'BEGIN { print (a + b) / 2 }')
BASE_QPS=$(awk -v a="$q0" -v b="$q1" 'BEGIN { print (a + b) / 2 }')
echo "DNS bench: the proxy against the floor of any relay, back to back; baseline = direct"
printf 'to dnsmasq, the mean of a run before and one after the others (%.0f and %.0f qps;\n' \
	"${q0:-0}" "${q1:-0}"
echo "median $m0 and $m1 us at one in flight)"
echo
printf '%-34s | %8s %7s | %9s %8s | %6s %6s\n' path qps ratio "p50 us" "+us" "lost" "lost1"
floor_row direct0 "direct (before)"
floor_row direct1 "direct (after)"
floor_row relay "bare relay (dns_relay, the floor)"
floor_row proxy "proxy, relaying (dns-cache = no)"
floor_row cache "proxy, answer cache (dns-cache=yes)"
echo
echo "qps: dnsperf -c 4 -T 2 -q 200 for $SAT_SECS s, median of $RUNS (lost: its total); p50: dns_load,"
echo "one query in flight, $COUNT1 queries, median of $RUNS (lost1: its total); +us: against the"
echo "baseline. The proxy runs on the agent's event loop, one thread: per-core workers are not"
echo "built. Answered from the cache during its run: ${cached:-?} queries. dnsmasq answers"
echo "with TTL 300 (--local-ttl), so after the first of each name the cache answers."
echo
