#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# DNS in containers: guarded processes in network namespaces of their own, each
# with its own dnsmasq on 127.0.0.153 inside (unreachable from the host), get
# working, filtered DNS. A namespace with a guarded process in it when the
# agent starts is served from the start; in a namespace made later, the first
# query is refused (never sent direct) and asks the agent to serve it; within
# a moment dig (UDP, TCP) and getent resolve allowed names, blocked names get
# NXDOMAIN and never reach the namespace's resolver. When a namespace goes,
# the agent closes its sockets there. Prints the first-query delay.
. "$(dirname "$0")/lib.sh"
lsn_dns_setup guard/a guard/b

status_of() { sed -n 's/.*status: \([A-Z]*\).*/\1/p' | head -1; }
NSDNS=127.0.0.153 OTHER=127.0.0.12 BLOCKED=127.0.0.14

# The first namespace (setup_netns, cleaned up by lib.sh) and a second one,
# made after the agent starts, removed here on every exit path.
setup_netns
NS2=lsnt$$b
ns2_cleanup() { # NS2 and the ones named after it
	local n p
	for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$NS2"); do
		for p in $(ip netns pids "$n" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$n" 2>/dev/null
	done
}
trap 'rc=$?; ns2_cleanup; (exit $rc); lsn_cleanup' EXIT

# A namespace's own resolver, logging every query it gets.
ns_dnsmasq() { # NETNS LOG
	nsenter --net="/run/netns/$1" "$(command -v dnsmasq)" --keep-in-foreground --no-resolv \
		--no-hosts --bind-interfaces --listen-address="$NSDNS" --port=53 \
		--pid-file="$TMPD/dnsmasq.$1.pid" --log-queries --log-facility="$2" \
		--host-record=other.test,$OTHER --host-record=inside.test,127.0.0.21 \
		--address=/blocked.test/$BLOCKED &
	track_pid "$!"
	for _ in $(seq 50); do
		[ "$(nsenter --net="/run/netns/$1" dig +short +time=1 +tries=1 @$NSDNS other.test \
			2>/dev/null)" = "$OTHER" ] && return 0
		sleep 0.1
	done
	return 1
}
ns_dnsmasq "$NS" "$TMPD/ns1dnsmasq.log"
assert_eq "the namespace's resolver answers inside it" "$OTHER" \
	"$(nsx dig +short +time=1 +tries=1 @$NSDNS other.test)"
# a guarded process already in the first namespace: a container running before the agent
in_cg "$(cg_dir guard/a)" nsenter --net="/run/netns/$NS" sleep 600 &
track_pid "$!"

write_file "$TMPD/domains.txt" <<<"blocked.test"
write_file "$TMPD/lsnitch.ini" <<EOF
[global]
blocked-domains = domains.txt

[policy box]
cgroup = $CGREL/guard/a

[policy other]
cgroup = $CGREL/guard/b
EOF
start_agent --config "$TMPD/lsnitch.ini" --control "$S"
j=$(ctl --json status)
assert_eq "at start: the agent's namespace and the running container's are served" 2 \
	"$(jget "$j" 'o["dns"]["netns"]')"
ev_mark
assert_eq "the running container's first query is answered" "$OTHER" \
	"$(in_cg "$(cg_dir guard/a)" nsenter --net="/run/netns/$NS" dig +short +time=2 +tries=1 \
		@$NSDNS other.test)"
assert_eq "and it was not refused first" "" "$(events_since_mark | grep dns-no-proxy)"

# --- a namespace made now: its first query refused, then served within a moment
ip netns add "$NS2" || die "ip netns add $NS2"
nsenter --net="/run/netns/$NS2" ip link set lo up || die "lo up in $NS2"
ns_dnsmasq "$NS2" "$TMPD/nsdnsmasq.log" || die "dnsmasq in $NS2 does not answer"
boxdig() { in_cg "$(cg_dir guard/a)" nsenter --net="/run/netns/$NS2" dig @$NSDNS "$@" 2>&1; }
boxrun() { in_cg "$(cg_dir guard/a)" nsenter --net="/run/netns/$NS2" "$@"; }

ev_mark
t0=$(date +%s%N)
res="" tries=0
for _ in $(seq 100); do
	tries=$((tries + 1))
	res=$(boxdig +short +time=1 +tries=1 other.test | grep -v '^;;')
	[ "$res" = "$OTHER" ] && break
	sleep 0.02
done
ms=$((($(date +%s%N) - t0) / 1000000))
assert_eq "in the new namespace: an allowed name resolves" "$OTHER" "$res"
log "first-query delay in a new netns: $ms ms ($tries dig runs)"
if [ "$tries" -gt 1 ]; then
	expect_event "^deny udp $(re_escape "$NSDNS"):53 .*policy=box rule=- reason=dns-no-proxy hook=connect4$"
fi
assert_match "the agent says it serves the namespace" "serving the network namespace of pid" \
	"$(cat "$AGENT_ERR")"
j=$(ctl --json status)
assert_eq "three namespaces served" 3 "$(jget "$j" 'o["dns"]["netns"]')"

assert_eq "in the namespace: over TCP" "$OTHER" "$(boxdig +tcp +short +time=2 +tries=1 other.test)"
assert_eq "in the namespace: a blocked name" NXDOMAIN \
	"$(boxdig +time=2 +tries=1 x.blocked.test | status_of)"
assert_eq "in the namespace: a blocked name over TCP" NXDOMAIN \
	"$(boxdig +tcp +time=2 +tries=1 x.blocked.test | status_of)"
assert_eq "the reply appears to come from the server asked" "$NSDNS#53" \
	"$(boxdig +time=2 +tries=1 other.test | sed -n 's/^;; SERVER: \([^(]*\).*/\1/p')"
printf 'nameserver %s\noptions timeout:2 attempts:1\n' $NSDNS >"$TMPD/resolv.conf"
got=$(boxrun unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && getent hosts other.test' \
	"$TMPD/resolv.conf" | awk '{print $1}')
assert_eq "in the namespace: getent hosts (glibc)" "$OTHER" "$got"
rc=$(boxrun unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && getent hosts www.blocked.test' \
	"$TMPD/resolv.conf" >/dev/null; echo $?)
assert_eq "in the namespace: getent of a blocked name fails" 2 "$rc"
n=$(grep -c "blocked\.test" "$TMPD/nsdnsmasq.log")
assert_eq "blocked names never reached the namespace's resolver" 0 "$n"
n=$(grep -c "query\[A\] other\.test from 127\.0\.0\.1" "$TMPD/nsdnsmasq.log")
if [ "$n" -ge 3 ]; then
	ok "allowed queries reached it from inside the namespace ($n)"
else
	fail "queries for other.test at the namespace's resolver: $n"
fi
assert_eq "in the namespace: a name only its resolver knows" 127.0.0.21 \
	"$(boxdig +short +time=2 +tries=1 inside.test)"
assert_eq "outside it, that resolver is not reached" "" \
	"$(in_cg "$(cg_dir guard/a)" dig +short +time=1 +tries=1 @$NSDNS inside.test | grep -v '^;;')"

# --- one policy's processes cannot take every namespace slot: 16 for box, then refused
served_now() { jget "$(ctl --json status)" 'o["dns"]["netns"]'; }
ask_from() { # CG NETNS: a container in a fresh namespace asks once: served or refused
	ip netns add "$2" || die "ip netns add $2"
	nsenter --net="/run/netns/$2" ip link set lo up || die "lo up in $2"
	in_cg "$(cg_dir "$1")" nsenter --net="/run/netns/$2" sleep 600 &
	track_pid "$!"
	in_cg "$(cg_dir "$1")" nsenter --net="/run/netns/$2" dig +time=1 +tries=1 @$NSDNS x.test \
		>/dev/null 2>&1
	sleep 0.2
}
for i in $(seq 16); do ask_from guard/a "${NS2}c$i"; done
assert_eq "box has 16 namespaces served, not 17" 18 "$(served_now)"
assert_match "and the agent says why the 17th is not" \
	"its policy has 16 namespaces served already" "$(cat "$AGENT_ERR")"
ask_from guard/b "${NS2}d"
assert_eq "another policy's new namespace is still served" 19 "$(served_now)"

# --- the namespaces go: their sockets are closed
ns2_cleanup
n=0
for _ in $(seq 40); do
	n=$(served_now)
	[ "$n" = 2 ] && break
	sleep 0.25
done
assert_eq "the gone namespaces are no longer served" 2 "$n"
finish
