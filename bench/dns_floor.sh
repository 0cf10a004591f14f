# SPDX-License-Identifier: GPL-2.0
# make bench, DNS part 2b (sourced by run-dns-bench.sh, after its dnsmasq, saturate and
# measure): where the proxy stands against the floor of any relay, back to back in one
# run: direct to dnsmasq; a bare recvmmsg/sendmmsg relay with no checks (dns_relay, on
# $RELAY4:53); the proxy relaying every query (dns-cache = no); the proxy with its answer
# cache (dns-cache = yes). Throughput at saturation (dnsperf) and the median at one
# query in flight (dns_load), each against a direct run taken just before it, and lost
# queries.

RELAY4=127.0.0.154
RELAY=$B/bench/dns_relay
RELAY_PID=

declare -A FLOOR
# KEY PREFIX...: saturation, then one in flight, each right after the same run direct
# (no prefix, to dnsmasq; $DIRECT4 while DNS4 points at the relay): the machine drifts
# within a run, so each figure has its own baseline from just before it.
floor_measure() {
	local key=$1
	shift
	FLOOR[$key.dsat]=$(DNS4=$DIRECT4 saturate)
	FLOOR[$key.sat]=$(saturate "$@")
	FLOOR[$key.d1]=$(DNS4=$DIRECT4 measure 1 "$COUNT1") || exit 1
	FLOOR[$key.1]=$(measure 1 "$COUNT1" "$@") || exit 1
}
floor_row() { # KEY LABEL
	read -r med _ _ lost _ _ <<<"${FLOOR[$1.1]}"
	read -r dmed _ <<<"${FLOOR[$1.d1]}"
	read -r q sl <<<"${FLOOR[$1.sat]:-0 0}"
	read -r dq _ <<<"${FLOOR[$1.dsat]:-0 0}"
	awk -v l="$2" -v m="$med" -v dm="$dmed" -v q="$q" -v dq="$dq" -v lost="$lost" \
	    -v sl="$sl" 'BEGIN {
		printf "%-36s | %8.0f %8.0f %6.2fx | %7.1f %7.1f %+7.1f | %6d %6d\n", l, dq, q,
		(dq > 0 ? q / dq : 0), dm, m, m - dm, sl, lost }'
}

DIRECT4=$DNS4
"$RELAY" $RELAY4 53 $DNS4 53 &
RELAY_PID=$!
bench_cleanup_more() {
	[ -n "$DNSMASQ_PID" ] && kill "$DNSMASQ_PID" 2>/dev/null && wait "$DNSMASQ_PID" 2>/dev/null
	[ -n "$RELAY_PID" ] && kill "$RELAY_PID" 2>/dev/null && wait "$RELAY_PID" 2>/dev/null
}
sleep 0.2
kill -0 "$RELAY_PID" 2>/dev/null || { echo "dns bench: dns_relay did not start" >&2; exit 1; }

floor_measure direct
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

echo "DNS bench: the proxy against the floor of any relay, in one run; each path's"
echo "baseline is a direct run to dnsmasq taken just before it (direct: the two back to back)"
echo
printf '%-36s | %8s %8s %7s | %7s %7s %7s | %6s %6s\n' path "qps dir" qps ratio \
	"p50 dir" p50 "+us" lost lost1
floor_row direct "direct (against itself)"
floor_row relay "bare relay (dns_relay: the floor)"
floor_row proxy "proxy, relaying (dns-cache = no)"
floor_row cache "proxy, answer cache (dns-cache = yes)"
echo
echo "qps: dnsperf -c 4 -T 2 -q 200 for $SAT_SECS s, median of $RUNS (lost: its total); p50 (us): dns_load,"
echo "one query in flight, $COUNT1 queries, median of $RUNS (lost1: its total); dir: the direct run"
echo "just before. The proxy runs on the agent's event loop, one thread: per-core workers are not"
echo "built. Answered from the cache during its run: ${cached:-?} queries. dnsmasq answers"
echo "with TTL 300 (--local-ttl), so after the first of each name the cache answers."
echo
