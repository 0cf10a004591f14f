#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# DNS in a container: a guarded process in its own network namespace, with its
# own dnsmasq on 127.0.0.153 inside that namespace (unreachable from the host),
# gets working, filtered DNS: the first query from the new namespace is refused
# (never sent direct) and asks the agent to serve it; within a moment dig (UDP,
# TCP) and getent resolve allowed names, blocked names get NXDOMAIN and never
# reach the namespace's resolver. When the namespace goes, the agent closes
# its sockets there. Prints the first-query delay.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a

command -v dnsmasq >/dev/null || skip_env "dnsmasq is not installed (make deps installs it)"
command -v dig >/dev/null || skip_env "dig is not installed (make deps installs it)"

CLI=$LSN_ROOT/build/lsnitch
S=$TMPD/run/ctl.sock
ctl() { "$CLI" --socket "$S" "$@"; }
jget() { "$PY" -c 'import json,sys; o=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }
status_of() { sed -n 's/.*status: \([A-Z]*\).*/\1/p' | head -1; }
setup_netns
NSDNS=127.0.0.153 OTHER=127.0.0.12 BLOCKED=127.0.0.14

# The namespace's own resolver, logging every query it gets.
nsx "$(command -v dnsmasq)" --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
	--listen-address="$NSDNS" --port=53 --pid-file="$TMPD/nsdnsmasq.pid" --log-queries \
	--log-facility="$TMPD/nsdnsmasq.log" --host-record=other.test,$OTHER \
	--address=/blocked.test/$BLOCKED &
track_pid "$!"
for _ in $(seq 50); do
	[ "$(nsx dig +short +time=1 +tries=1 @$NSDNS other.test 2>/dev/null)" = "$OTHER" ] && break
	sleep 0.1
done
assert_eq "the namespace's resolver answers inside it" "$OTHER" \
	"$(nsx dig +short +time=1 +tries=1 @$NSDNS other.test)"

write_file "$TMPD/domains.txt" <<<"blocked.test"
write_file "$TMPD/lsnitch.ini" <<EOF
[global]
blocked-domains = domains.txt

[policy box]
cgroup = $CGREL/guard/a
EOF
start_agent --config "$TMPD/lsnitch.ini" --control "$S"
j=$(ctl --json status)
assert_eq "one namespace served at start (the agent's own)" 1 "$(jget "$j" 'o["dns"]["netns"]')"

boxdig() { in_cg "$(cg_dir guard/a)" nsenter --net="/run/netns/$NS" dig @$NSDNS "$@" 2>&1; }

# --- the first query: refused, then served within a moment
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
assert_eq "in the namespace: an allowed name resolves" "$OTHER" "$res"
log "first-query delay in a new netns: $ms ms ($tries dig runs)"
printf 'first-query-delay-ms %s\n' "$ms" >"$TMPD/netns-delay"
[ -n "${LSN_ARTIFACTS:-}" ] && mkdir -p "$LSN_ARTIFACTS" && cp "$TMPD/netns-delay" "$LSN_ARTIFACTS/"
if [ "$tries" -gt 1 ]; then
	expect_event "^deny udp $(re_escape "$NSDNS"):53 .*policy=box rule=- reason=dns-no-proxy hook=connect4$"
fi
assert_match "the agent says it serves the namespace" "serving the network namespace of pid" \
	"$(cat "$AGENT_ERR")"
j=$(ctl --json status)
assert_eq "two namespaces served" 2 "$(jget "$j" 'o["dns"]["netns"]')"

assert_eq "in the namespace: over TCP" "$OTHER" "$(boxdig +tcp +short +time=2 +tries=1 other.test)"
assert_eq "in the namespace: a blocked name" NXDOMAIN \
	"$(boxdig +time=2 +tries=1 x.blocked.test | status_of)"
assert_eq "in the namespace: a blocked name over TCP" NXDOMAIN \
	"$(boxdig +tcp +time=2 +tries=1 x.blocked.test | status_of)"
assert_eq "the reply appears to come from the server asked" "$NSDNS#53" \
	"$(boxdig +time=2 +tries=1 other.test | sed -n 's/^;; SERVER: \([^(]*\).*/\1/p')"
printf 'nameserver %s\noptions timeout:2 attempts:1\n' $NSDNS >"$TMPD/resolv.conf"
got=$(in_cg "$(cg_dir guard/a)" nsenter --net="/run/netns/$NS" unshare -m sh -c \
	'mount --bind "$0" /etc/resolv.conf && getent hosts other.test' "$TMPD/resolv.conf" |
	awk '{print $1}')
assert_eq "in the namespace: getent hosts (glibc)" "$OTHER" "$got"
rc=$(in_cg "$(cg_dir guard/a)" nsenter --net="/run/netns/$NS" unshare -m sh -c \
	'mount --bind "$0" /etc/resolv.conf && getent hosts www.blocked.test' "$TMPD/resolv.conf" \
	>/dev/null; echo $?)
assert_eq "in the namespace: getent of a blocked name fails" 2 "$rc"
n=$(grep -c "blocked\.test" "$TMPD/nsdnsmasq.log")
assert_eq "blocked names never reached the namespace's resolver" 0 "$n"
n=$(grep -c "query\[A\] other\.test from 127\.0\.0\.1" "$TMPD/nsdnsmasq.log")
[ "$n" -ge 3 ] && ok "allowed queries reached it from inside the namespace ($n)" ||
	fail "queries for other.test at the namespace's resolver: $n"
assert_eq "outside the namespace, nothing answers there" "" \
	"$(in_cg "$(cg_dir guard/a)" dig +short +time=1 +tries=1 @$NSDNS other.test | grep -v '^;;')"

# --- the namespace goes: its sockets are closed
for p in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
ip netns del "$NS"
ip link del "$VETH_H" 2>/dev/null
NS=""
n=1
for _ in $(seq 40); do
	j=$(ctl --json status)
	n=$(jget "$j" 'o["dns"]["netns"]')
	[ "$n" = 1 ] && break
	sleep 0.25
done
assert_eq "the gone namespace is no longer served" 1 "$n"
finish
