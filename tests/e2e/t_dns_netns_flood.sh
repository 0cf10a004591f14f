#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# DNS namespaces cannot be hoarded by an unprivileged user: uid 65534 in a guarded cgroup
# makes a user + network namespace of its own and in it 40 more network namespaces (no
# privilege on the host needed), each asking DNS as fast as it can, so the agent is asked
# again and again to serve them. The agent serves at most 16 of them (it says why not
# more), and meanwhile a process of another policy, in a namespace made during the flood,
# still gets its answer: judged by what arrives (the answer, and the query at that
# namespace's own resolver, forwarded by the proxy). Prints how long that took.
. "$(dirname "$0")/lib.sh"
lsn_dns_setup guard/evil guard/b
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
"${NOBODY[@]}" unshare -Urn true 2>/dev/null ||
	skip_env "unprivileged user namespaces are not allowed here"

served_now() { jget "$(ctl --json status)" 'o["dns"]["netns"]'; }
NSDNS=127.0.0.153 OTHER=127.0.0.12
FLOOD_NS=${LSN_FLOOD_NETNS:-40} FLOOD_SECS=${LSN_FLOOD_SECS:-12}

NS2=lsnf$$
ns2_cleanup() {
	local p
	for p in $(ip netns pids "$NS2" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	ip netns del "$NS2" 2>/dev/null
}
trap 'rc=$?; ns2_cleanup; (exit $rc); lsn_cleanup' EXIT

write_file "$TMPD/lsnitch.ini" <<EOF
[policy evil]
cgroup = $CGREL/guard/evil

[policy other]
cgroup = $CGREL/guard/b
EOF
start_agent --config "$TMPD/lsnitch.ini" --control "$S"
base=$(served_now)

log "the flood: $FLOOD_NS namespaces of uid 65534 asking for ${FLOOD_SECS}s"
FLOOD_OUT=$TMPD/flood.out
in_cg "$(cg_dir guard/evil)" "${NOBODY[@]}" unshare -Urn "$PY" "$LSN_E2E_DIR/dns_flood.py" \
	"$FLOOD_NS" "$FLOOD_SECS" "$NSDNS" >"$FLOOD_OUT" 2>&1 9>&- &
FLOOD_PID=$!
track_pid "$FLOOD_PID"
sleep 2

log "meanwhile another policy's container, in a namespace made now, asks its resolver"
ip netns add "$NS2" || die "ip netns add $NS2"
nsenter --net="/run/netns/$NS2" ip link set lo up || die "lo up in $NS2"
nsenter --net="/run/netns/$NS2" "$(command -v dnsmasq)" --keep-in-foreground --no-resolv \
	--no-hosts --bind-interfaces --listen-address="$NSDNS" --port=53 \
	--pid-file="$TMPD/dnsmasq.pid" --log-queries --log-facility="$TMPD/nsdnsmasq.log" \
	--host-record=other.test,$OTHER 9>&- &
track_pid "$!"
for _ in $(seq 50); do
	[ "$(nsenter --net="/run/netns/$NS2" dig +short +time=1 +tries=1 @$NSDNS other.test \
		2>/dev/null)" = "$OTHER" ] && break
	sleep 0.1
done
t0=$(date +%s%N)
res="" tries=0
while [ "$tries" -lt 200 ] && proc_alive "$FLOOD_PID"; do
	tries=$((tries + 1))
	res=$(in_cg "$(cg_dir guard/b)" nsenter --net="/run/netns/$NS2" dig +short +time=1 \
		+tries=1 @$NSDNS other.test 2>/dev/null | grep -v '^;;')
	[ "$res" = "$OTHER" ] && break
	sleep 0.02
done
ms=$((($(date +%s%N) - t0) / 1000000))
proc_alive "$FLOOD_PID" || fail "the flood ended before the other policy was answered"
assert_eq "during the flood, the other policy's name resolves" "$OTHER" "$res"
log "the other policy's first answer came after $ms ms ($tries dig runs)"
n=$(grep -c "query\[A\] other\.test from 127\.0\.0\.1" "$TMPD/nsdnsmasq.log")
if [ "$n" -ge 1 ]; then
	ok "its query reached its namespace's resolver through the proxy ($n)"
else
	fail "no query for other.test from the proxy at the namespace's resolver"
fi
served=$(served_now)
log "namespaces served during the flood: $served (before it: $base)"
if [ "$served" -le $((base + 16 + 1)) ]; then
	ok "the flooding policy has at most 16 namespaces served"
else
	fail "$served namespaces served: more than 16 for the flooding policy"
fi
assert_match "the agent says why it serves no more of them" \
	"its policy has 16 namespaces served already" "$(cat "$AGENT_ERR")"
n=$(grep -c "cannot serve the network namespace" "$AGENT_ERR")
log "warnings about namespaces not served: $n"
# one in 10 s (and one more for a different reason): a 12 s flood says it twice at most
if [ "$n" -le 3 ]; then
	ok "the agent's log is not flooded ($n warnings)"
else
	fail "the agent's log is flooded: $n warnings about unserved namespaces"
fi

wait "$FLOOD_PID"
log "flood: $(cat "$FLOOD_OUT")"
assert_match "the flood made its namespaces and asked" "^namespaces $FLOOD_NS, asks [0-9]{4,}" \
	"$(cat "$FLOOD_OUT")"
proc_alive "$AGENT_PID" || fail "the agent died"
finish
