#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench, DNS part (run by bench/run-bench.sh; can be run alone):
#   1. the resolver proxy: latency (median, p99) and throughput of A queries
#      from a process in a guarded cgroup (redirected through the agent's
#      proxy) against the same queries sent straight to the same dnsmasq, at
#      concurrency 1 and 16, with and without a 1M-name domain blocklist; and
#      at saturation (dnsperf, both cores busy), direct against the proxy;
#   2. domain blocklist load time and memory for 10k, 100k and 1M names;
#   3. ln_domain_set_lookup() per call, hits and misses.
# Everything is printed as ratios to a baseline measured in the same run.
# dnsmasq is started here on 127.0.0.153:53 and serves only a few records;
# the agent is attached only to a cgroup made here; queries go to 127/8 only.
set -u
cd "$(dirname "$0")/.."
B=build
BENCH_NAME=dns
. bench/lib.sh
AGENT=$B/lsnitch-agent
LOOKUP=$B/bench/domain_lookup_rules
RUNS=${BENCH_DNS_RUNS:-3}                 # runs per measurement, median taken
COUNT1=${BENCH_DNS_COUNT1:-20000}         # queries per run at concurrency 1
COUNT16=${BENCH_DNS_COUNT16:-100000}      # queries per run at concurrency 16
LIST_SIZES=${BENCH_DNS_SIZES:-"10000 100000 1000000"}
BLOCK_N=${BENCH_DNS_BLOCK:-1000000}       # names on the list in the proxy runs
LOOKUP_ITERS=${BENCH_LOOKUP_ITERS:-2000000}
SAT_SECS=${BENCH_DNS_SAT_SECS:-5}          # seconds per dnsperf run at saturation
DNSMASQ_PID=

command -v dnsmasq >/dev/null || { echo "dns bench: dnsmasq is not installed (make deps)" >&2; exit 1; }
command -v dig >/dev/null || { echo "dns bench: dig is not installed (make deps)" >&2; exit 1; }
bench_cleanup_more() {
	[ -n "$DNSMASQ_PID" ] && kill "$DNSMASQ_PID" 2>/dev/null && wait "$DNSMASQ_PID" 2>/dev/null
}

# ---- the upstream: dnsmasq with a few records, names file for dns_load
NAMES=$TMP/names.txt
dns_records "$NAMES"
# A name the agent's list blocks and dnsmasq answers: it shows the redirect works.
echo "x.blocked.bench.test" >"$TMP/probe.txt"
"$(command -v dnsmasq)" --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
	--bind-interfaces --listen-address=$DNS4 --port=53 --pid-file="$TMP/dnsmasq.pid" \
	--log-facility="$TMP/dnsmasq.log" --local-ttl=300 "${RECORDS[@]}" \
	--address=/blocked.bench.test/127.0.1.99 &
DNSMASQ_PID=$!
ok=
for _ in $(seq 50); do
	[ "$(dig +short +time=1 +tries=1 @$DNS4 host0.bench.test 2>/dev/null)" = 127.0.1.1 ] && ok=1 && break
	kill -0 "$DNSMASQ_PID" 2>/dev/null || break
	sleep 0.1
done
[ -n "$ok" ] || { echo "dns bench: dnsmasq did not start on $DNS4:53:" >&2; cat "$TMP/dnsmasq.log" >&2; exit 1; }

# The proxy relays every query unless CACHE=yes: the tables of section 2 measure the relay.
start_agent() {
	printf '[global]\ndns-cache = %s\n' "${CACHE:-no}" >"$TMP/agent.ini"
	start_agent_bin "$AGENT" --control "$TMP/control.sock" --config "$TMP/agent.ini" "$@"
}

# "N blocked domains (B bytes) in T ms" of the agent's loaded: line -> "N B T"
loaded() {
	sed -n 's/.*loaded: .* \([0-9]*\) blocked domains (\([0-9]*\) bytes) in \([0-9.]*\) ms.*/\1 \2 \3/p' \
		"$TMP/agent.err" | head -1
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# ---- helpers of sections 2 and 2b
measure() { dns_measure "$NAMES" "$@"; } # CONCURRENCY COUNT [in_cg]

# The redirect is live: a blocked name asked from the cgroup gets NXDOMAIN from the proxy.
check_redirect() {
	local in out
	in=$(in_cg "$LOAD" $DNS4 53 "$TMP/probe.txt" 20 1 | awk '/^sent/ { print $8 }')
	out=$("$LOAD" $DNS4 53 "$TMP/probe.txt" 20 1 | awk '/^sent/ { print $8 }')
	if [ "$in" != 20 ] || [ "$out" != 0 ]; then
		echo "dns bench: the redirect is not in force (NXDOMAIN in cgroup $in/20, outside $out/20)" >&2
		cat "$TMP/agent.err" >&2
		exit 1
	fi
}

# Saturation: dnsperf (4 clients on 2 threads, 200 queries in flight, SAT_SECS s) to
# $DNS4:53, RUNS runs: "median_qps lost_total" (empty without dnsperf).
saturate() { # [PREFIX...]
	local f=$TMP/sat.txt m=$(((RUNS + 1) / 2)) i
	command -v dnsperf >/dev/null || return 0
	awk '{ print $1, "A" }' "$NAMES" >"$TMP/perf.txt"
	: >"$f"
	for i in $(seq "$RUNS"); do
		"$@" dnsperf -s $DNS4 -p 53 -d "$TMP/perf.txt" -c 4 -T 2 -q 200 -t 2 -l "$SAT_SECS" 2>&1 |
			awk '/Queries lost:/ { l = $3 } /Queries per second:/ { print $4, l }' >>"$f"
	done
	echo "$(cut -d' ' -f1 "$f" | sort -g | sed -n ${m}p) $(awk '{ l += $2 } END { print l + 0 }' "$f")"
}

# BENCH_DNS_FLOOR_ONLY=1: only section 2b (the proxy against the relay floor)
if [ -n "${BENCH_DNS_FLOOR_ONLY:-}" ]; then
	. bench/dns_floor.sh
	exit 0
fi

# ---- 1. list load time and memory (first: the 1M list is reused below)
FULL=$TMP/domains-full.txt
max=$BLOCK_N
for n in $LIST_SIZES; do [ "$n" -gt "$max" ] && max=$n; done
python3 bench/gen_hosts.py domain "$max" "$FULL"
: >"$TMP/empty.txt"
# Starts the agent on LIST RUNS times; LOADED="names bytes ms rss_kb ready_ms",
# each the median. (Not in a subshell: the EXIT trap must know the agent's pid.)
load_runs() { # LIST
	local i f=$TMP/load-runs.txt m=$(((RUNS + 1) / 2)) col out=
	: >"$f"
	for i in $(seq "$RUNS"); do
		start_agent --blocked-domains "$1"
		sleep 0.3 # VmRSS once the startup's transient allocations are freed
		echo "$(loaded) $(rss_kb "$AGENT_PID") $READY_MS" >>"$f"
		stop_agent
	done
	for col in 1 2 3 4 5; do
		out="$out $(cut -d' ' -f$col "$f" | sort -g | sed -n ${m}p)"
	done
	LOADED=$out
}
load_runs "$TMP/empty.txt"
read -r _ _ base_ms base_rss base_ready <<<"$LOADED"
echo "DNS bench: domain blocklist load (agent --blocked-domains LIST, names b<i>.blk<i%1000>.example),"
echo "median of $RUNS agent starts; baseline = the agent with an empty list: loaded in $base_ms ms,"
echo "ready $base_ready ms after exec, VmRSS $base_rss kB"
echo
printf '%9s | %8s %6s %8s | %8s %6s %8s | %9s %6s | %9s %6s\n' \
	names "load ms" ratio "ms/100k" "ready ms" ratio "ms/100k" "set bytes" B/name "RSS +kB" B/name
for n in $LIST_SIZES; do
	head -n $((n + 1)) "$FULL" >"$TMP/list.txt"
	load_runs "$TMP/list.txt"
	read -r got bytes ms rss ready <<<"$LOADED"
	[ "$got" = "$n" ] || echo "dns bench: agent reports $got names for a list of $n" >&2
	awk -v n="$n" -v ms="$ms" -v b0="$base_ms" -v by="$bytes" -v r="$rss" -v r0="$base_rss" \
	    -v w="$ready" -v w0="$base_ready" 'BEGIN {
		printf "%9d | %8.1f %5.2fx %8.1f | %8d %5.2fx %8.1f | %9d %6.1f | %9d %6.1f\n",
		n, ms, (b0 > 0 ? ms / b0 : 0), (ms - b0) * 100000 / n,
		w, (w0 > 0 ? w / w0 : 0), (w - w0) * 100000 / n, by, by / n,
		r - r0, (r - r0) * 1024 / n }'
done
echo
echo "load ms: the agent's own \"loaded: ... in T ms\" (compile, BPF load, build the sets,"
echo "fill the maps; reading the list file comes before it and is not included); ready ms:"
echo "wall time from exec to \"ready\" (includes reading the list; polled every ~10 ms)."
echo "ratio: to the empty-list agent; ms/100k: beyond it. set bytes: the agent's figure for"
echo "the domain set; RSS +kB: VmRSS 0.3 s after ready minus the empty-list agent's."
echo

# ---- 2. the proxy against direct queries (its helpers are above)
declare -A RES
row() { # KEY LABEL LIST CONCURRENCY
	local key=$1 label=$2 list=$3 c=$4
	read -r med p99 qps lost other nx <<<"${RES[$key.$c]}"
	read -r bmed bp99 bqps _ <<<"${RES[direct.$c]}"
	awk -v l="$label" -v li="$list" -v c="$c" -v m="$med" -v p="$p99" -v q="$qps" \
	    -v bm="$bmed" -v bp="$bp99" -v bq="$bqps" -v lost="$lost" -v o="$other" -v nx="$nx" 'BEGIN {
		printf "%-22s %6s %4d | %9.1f %6.2fx | %9.1f %6.2fx | %8.0f %6.2fx",
		l, li, c, m, m / bm, p, p / bp, q, q / bq
		if (lost + o + nx) printf "  (lost %d, errors %d, nxdomain %d)", lost, o, nx
		printf "\n" }'
}

for c in 1 16; do
	n=$COUNT1; [ "$c" = 16 ] && n=$COUNT16
	RES[direct.$c]=$(measure "$c" "$n") || exit 1
done
RES[direct.sat]=$(saturate)
for list in none block; do
	if [ "$list" = none ]; then
		start_agent --blocked-domains "$TMP/probe.txt"
	else
		head -n $((BLOCK_N + 1)) "$FULL" >"$TMP/list.txt"
		cat "$TMP/probe.txt" >>"$TMP/list.txt"
		start_agent --blocked-domains "$TMP/list.txt"
	fi
	check_redirect
	for c in 1 16; do
		n=$COUNT1; [ "$c" = 16 ] && n=$COUNT16
		RES[outside.$list.$c]=$(measure "$c" "$n") || exit 1
		RES[proxy.$list.$c]=$(measure "$c" "$n" in_cg) || exit 1
	done
	[ "$list" = none ] && RES[proxy.sat]=$(saturate in_cg)
	stop_agent
done
short_block=$(awk -v n="$BLOCK_N" 'BEGIN { if (n >= 1e6 && n % 1e6 == 0) printf "%dM", n / 1e6;
	else if (n >= 1e3 && n % 1e3 == 0) printf "%dk", n / 1e3; else print n }')
echo "DNS bench: A queries for ${COUNT1} (concurrency 1) / ${COUNT16} (concurrency 16) names"
echo "per run, median of $RUNS runs, to dnsmasq on $DNS4:53; baseline = direct, no agent"
echo
printf '%-22s %6s %4s | %9s %7s | %9s %7s | %8s %7s\n' \
	path list conc "median us" ratio "p99 us" ratio qps ratio
for c in 1 16; do
	row direct "direct, no agent" - "$c"
	row outside.none "direct, agent running" - "$c"
	row proxy.none "through the proxy" - "$c"
	row outside.block "direct, agent running" "$short_block" "$c"
	row proxy.block "through the proxy" "$short_block" "$c"
done
echo
echo "direct: dns_load outside the guarded cgroup, straight to dnsmasq; through the"
echo "proxy: the same from inside it, redirected to the agent's resolver proxy, which"
echo "checks the name against the domain lists and forwards it on a shared upstream socket."
echo "list -: one unrelated name listed; $short_block: + $BLOCK_N generated names (none queried)."
# against the direct run taken just before it, with the agent running (one query in
# flight is what the machine's other load moves most)
read -r m1 _ <<<"${RES[proxy.none.1]}"
read -r b1 _ <<<"${RES[outside.none.1]}"
awk -v m="$m1" -v b="$b1" 'BEGIN { printf "added median latency at one query in flight: %+.1f us", m - b
	printf " (%.2fx the direct run just before it)\n", m / b }'
if [ -n "${RES[direct.sat]}" ]; then
	read -r dq dl <<<"${RES[direct.sat]}"
	read -r pq pl <<<"${RES[proxy.sat]}"
	awk -v d="$dq" -v p="$pq" -v dl="$dl" -v pl="$pl" -v s="$SAT_SECS" -v r="$RUNS" 'BEGIN {
		printf "saturation (dnsperf -c 4 -T 2 -q 200, %d s, median of %d): direct %.0f qps,", s, r, d
		printf " through the proxy %.0f qps: %.2fx (lost: direct %d, proxy %d)\n", p, p / d, dl, pl }'
fi
echo

. bench/dns_floor.sh

# ---- 3. ln_domain_set_lookup()
echo "DNS bench: ln_domain_set_lookup() over $LOOKUP_ITERS calls (build/bench/domain_lookup_rules);"
echo "baseline = one XXH3_64bits over the same query name (the hash of one probe)"
echo
printf '%9s %-10s %6s | %9s %7s | %9s | %9s %8s\n' names query probes "ns/lookup" ratio "hash ns" "build ms" "B/name"
"$LOOKUP" "$LOOKUP_ITERS" $LIST_SIZES | awk '{
	probes = $2 == "hit" ? 1 : $2 == "hit-sub" ? 2 : $2 == "miss" ? 3 : 7
	printf "%9d %-10s %6d | %9.1f %6.1fx | %9.1f | %9.1f %8.1f\n", $1, $2, probes, $3, $3 / $4, $4, $5, $6
}' || exit 1
echo
echo "hit: a listed name; hit-sub: www.<listed>; miss: m<i>.blk<i%1000>.example (3 labels,"
echo "none listed); miss-deep: a.b.c.d.m<i>... (7 labels). 65536 query names spread over the"
echo "set, so a large set's table and names are mostly out of cache, as they would be in use."
