#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The packet-level backstop (cgroup_skb/egress), judged by ground truth: a
# sniffer in the test's network namespace records every payload marker that
# reaches it. The namespace holds an allowed host ($NS4, $NS6) and a denied
# one ($NS4B, $NS6B). From the guarded cgroup, the paths the sock_addr hooks
# cannot see must deliver nothing to a denied address: an IPv6 routing header
# (IPV6_RTHDR, unprivileged) through a denied segment, an IPv4 source route
# (IP_OPTIONS, root) through a denied hop, ping-socket echoes (unprivileged),
# raw sockets (root). Each denial is an event with hook=egress. Controls: the
# same sends to the allowed host arrive, plain TCP/UDP is unaffected, and from
# outside the guarded cgroup each attack does reach the denied host.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a guard/b
command -v setpriv >/dev/null || skip "setpriv is missing (util-linux)"

EG=$LSN_E2E_DIR/egress.py
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
AS_NOBODY='pid=[0-9]+ tid=[0-9]+ comm=python3 uid=65534 gid=65534'
AS_ROOT='pid=[0-9]+ tid=[0-9]+ comm=python3 uid=0 gid=0'

read -r P PT PS <<<"$(pick_ports 3)" || die "no free ports"
setup_netns
start_servers --ns --tcp "$NS4:$PT" --tcp "[$NS6]:$PT"

# Ping sockets for every group while the test runs (the setting is per netns).
PING_RANGE=$(sysctl -n net.ipv4.ping_group_range | tr '\t' ' ')
restore_ping() { sysctl -qw net.ipv4.ping_group_range="$PING_RANGE"; }
# The "container" namespace of the last part (made inside guard/b), if any.
CNS="" CV_H=lsnt$$c CV_N=lsnt$$d
drop_container() {
	[ -n "$CNS" ] || return 0
	for p in $(ip netns pids "$CNS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	ip netns del "$CNS" 2>/dev/null
	ip link del "$CV_H" 2>/dev/null
	CNS=""
}
# Ours first, then lib.sh's cleanup, with the exit status it would have seen.
egress_cleanup() {
	local rc=$?
	restore_ping
	drop_container
	(exit "$rc")
	lsn_cleanup
}
trap egress_cleanup EXIT
sysctl -qw net.ipv4.ping_group_range="0 2147483647" || die "cannot set ping_group_range"

SNIFF=$TMPD/sniff.out
nsx "$PY" -u "$EG" sniff "$VETH_N" --timeout 300 >"$SNIFF" 2>&1 &
track_pid "$!"
wait_for_line "$SNIFF" '^ready$' 5 "$!" || die "the sniffer did not start: $(cat "$SNIFF")"

INI=$TMPD/egress.ini
write_file "$INI" <<EOF
[policy egress]
cgroup = $CGREL/guard/a
default = allow
deny = $NS4B
deny = $NS6B

[policy lockdown]
cgroup = $CGREL/guard/b
default = deny
allow = $NS4
allow = [$NS6]:$P/udp
# socket() lets them open (socket kinds): the packets are for egress to judge
raw-sockets = allow
icmp-sockets = allow
EOF
LD4=egress.ini:$(line_of "$INI" "deny = $NS4B")
LD6=egress.ini:$(line_of "$INI" "deny = $NS6B")
LBD=egress.ini:$(line_of "$INI" "default = deny")
CTL=$TMPD/ctl.sock
start_agent --config "$INI" --control "$CTL"

N=0 MARK=""
ABSENT=()
# attack CGNAME WANT [--nobody] KIND ARGS...: one send by egress.py in the
# cgroup (CGNAME "." = outside anything attached); WANT is the word it must
# print, "-" for any. Sets MARK to the payload marker it carried.
attack() {
	local cgname=$1 want=$2 wrap=() a d prev="" got
	shift 2
	if [ "$1" = --nobody ]; then
		wrap=("${NOBODY[@]}")
		shift
	fi
	for a in "$@"; do
		case $prev in --to | --via) for d in ${a//,/ }; do check_dest "$d"; done ;; esac
		prev=$a
	done
	N=$((N + 1))
	MARK=$N-$1
	ev_mark
	got=$(in_cg "$(cg_dir "$cgname")" "${wrap[@]}" "$PY" "$EG" send "$@" --marker "$MARK" \
		2>>"$TMPD/client.err")
	[ "$want" = - ] || assert_eq "$cgname: $*${wrap:+ (as nobody)}" "$want" "$got"
}

# arrives DEST: the last attack's marker reached the namespace, sent to DEST.
arrives() {
	if wait_for_line "$SNIFF" "^seen $(re_escape "$MARK") dst=$(re_escape "$1") " 3; then
		ok "marker $MARK arrived at $1"
	else
		fail "marker $MARK never arrived at $1"
	fi
}

# never_arrives [PATTERN]: checked at the end, after a barrier (see below).
never_arrives() { ABSENT+=("${1:-seen $MARK dst=}"); }

# egress_event PROTO DEST POLICY RULE REASON PROCESS_ERE [HOOK]
egress_event() {
	expect_event "$(event_re deny "$1" "$2" "$CGREL/$CG_NOW" "$3" "$4" "$5" "${7:-egress}" "$6")"
}

log "IPv6 routing header (type 4, IPV6_RTHDR), unprivileged"
CG_NOW=guard/a
attack $CG_NOW EPERM --nobody rthdr --via "$NS6B" --to "$NS6" --port "$P"
never_arrives
egress_event udp "[$NS6B]:$P" egress "$LD6" rule "$AS_NOBODY"
attack $CG_NOW EPERM --nobody rthdr --via "$NS6,$NS6B" --to "$NS6" --port "$P"
never_arrives
egress_event udp "[$NS6B]:$P" egress "$LD6" rule "$AS_NOBODY"
attack $CG_NOW EPERM --nobody rthdr --via "$NS6" --to "$NS6B" --port "$P"
never_arrives
egress_event udp "[$NS6B]:$P" egress "$LD6" rule "$AS_NOBODY" sendmsg6
attack $CG_NOW ok --nobody rthdr --via "$NS6" --to "$NS6" --port "$P"
arrives "$NS6"
# TCP: the SYN itself goes to the first segment.
attack $CG_NOW - --nobody tcp-rthdr --via "$NS6" --to "$NS6" --port "$PS"
MARK=syn-$PS arrives "$NS6"
attack $CG_NOW - --nobody tcp-rthdr --via "$NS6B" --to "$NS6" --port "$PS"
never_arrives "seen syn-$PS dst=$NS6B "
egress_event tcp "[$NS6B]:$PS" egress "$LD6" rule "$AS_NOBODY"

log "IPv4 loose source route (IP_OPTIONS), root"
attack $CG_NOW EPERM lsrr --via "$NS4B" --to "$NS4" --port "$P"
never_arrives
egress_event udp "$NS4B:$P" egress "$LD4" rule "$AS_ROOT"
attack $CG_NOW EPERM lsrr --via "$NS4,$NS4B" --to "$NS4" --port "$P"
never_arrives
egress_event udp "$NS4B:$P" egress "$LD4" rule "$AS_ROOT"
attack $CG_NOW ok lsrr --via "$NS4" --to "$NS4" --port "$P"
arrives "$NS4"

log "ping sockets, unprivileged"
attack $CG_NOW - --nobody ping --to "$NS4B"
never_arrives
egress_event icmp "$NS4B:0" egress "$LD4" rule "$AS_NOBODY"
attack $CG_NOW - --nobody ping --to "$NS6B"
never_arrives
egress_event icmpv6 "[$NS6B]:0" egress "$LD6" rule "$AS_NOBODY"
attack $CG_NOW ok --nobody ping --to "$NS4"
arrives "$NS4"
attack $CG_NOW ok --nobody ping --to "$NS6"
arrives "$NS6"

log "raw sockets, root"
attack $CG_NOW EPERM raw-icmp --to "$NS4B"
never_arrives
egress_event icmp "$NS4B:0" egress "$LD4" rule "$AS_ROOT"
attack $CG_NOW - raw-icmp --to "$NS6B"
never_arrives
egress_event icmpv6 "[$NS6B]:0" egress "$LD6" rule "$AS_ROOT"
attack $CG_NOW EPERM raw-udp --to "$NS4B" --port "$P"
never_arrives
egress_event udp "$NS4B:$P" egress "$LD4" rule "$AS_ROOT"
attack $CG_NOW EPERM raw-udp --to "$NS6B" --port "$P"
never_arrives
egress_event udp "[$NS6B]:$P" egress "$LD6" rule "$AS_ROOT"
attack $CG_NOW EPERM hdrincl --src "$HOST4" --to "$NS4B" --port "$P"
never_arrives
egress_event udp "$NS4B:$P" egress "$LD4" rule "$AS_ROOT"
attack $CG_NOW ok raw-udp --to "$NS4" --port "$P"
arrives "$NS4"
attack $CG_NOW ok raw-icmp --to "$NS6"
arrives "$NS6"

log "plain TCP and UDP: unaffected"
attack $CG_NOW ok udp --to "$NS4" --port "$P"
arrives "$NS4"
attack $CG_NOW ok --nobody udp --to "$NS6" --port "$P"
arrives "$NS6"
attack $CG_NOW ok tcp --to "$NS4" --port "$PT"
arrives "$NS4"
attack $CG_NOW ok --nobody tcp --to "$NS6" --port "$PT"
arrives "$NS6"
attack $CG_NOW EPERM udp --to "$NS4B" --port "$P"
never_arrives
egress_event udp "$NS4B:$P" egress "$LD4" rule "$AS_ROOT" sendmsg4

log "default deny: a rule with no protocol matches ICMP, a /udp rule does not"
CG_NOW=guard/b
attack $CG_NOW ok --nobody ping --to "$NS4"
arrives "$NS4"
attack $CG_NOW - --nobody ping --to "$NS6"
never_arrives
egress_event icmpv6 "[$NS6]:0" lockdown "$LBD" default "$AS_NOBODY"
attack $CG_NOW ok raw-udp --to "$NS6" --port "$P"
arrives "$NS6"
attack $CG_NOW EPERM raw-udp --to "$NS6" --port "$PT"
never_arrives
egress_event udp "[$NS6]:$PT" lockdown "$LBD" default "$AS_ROOT"

log "a flood of denied packets: none arrives, events are rate-limited"
CG_NOW=guard/a
attack $CG_NOW EPERM raw-udp --to "$NS4B" --port "$P" --count 500
never_arrives
egress_event udp "$NS4B:$P" egress "$LD4" rule "$AS_ROOT"
sleep 0.5
n=$(count_lines "$AGENT_OUT" "^deny udp $(re_escape "$NS4B:$P") .* hook=egress$")
if [ "$n" -le 100 ]; then ok "500 dropped packets, $n event lines"; else fail "$n event lines"; fi
j=$("$LSN_ROOT/build/lsnitch" --socket "$CTL" --json status)
cnt() {
	"$PY" -c 'import json, sys; print(json.loads(sys.argv[1])["counters"][sys.argv[2]])' "$j" "$1"
}
dropped=$(cnt egress_dropped) limited=$(cnt events_limited)
if [ "${dropped:-0}" -ge 500 ]; then
	ok "status: egress_dropped $dropped"
else
	fail "status: egress_dropped $dropped, not >= 500"
fi
if [ "${limited:-0}" -ge 1 ]; then
	ok "status: events_limited $limited"
else
	fail "status: events_limited $limited, not >= 1"
fi

log "outside the guarded cgroup every attack reaches the denied host"
attack . ok --nobody rthdr --via "$NS6B" --to "$NS6" --port "$P"
arrives "$NS6B"
attack . ok lsrr --via "$NS4B" --to "$NS4" --port "$P"
arrives "$NS4B"
attack . ok --nobody ping --to "$NS4B"
arrives "$NS4B"
attack . ok raw-udp --to "$NS6B" --port "$P"
arrives "$NS6B"

log "a netns made inside a guarded cgroup: its IPv6 neighbour discovery is not decided"
# Its kernel's own sockets (ND, MLD, ICMP errors) belong to guard/b, whose
# default is deny. A UDP echo server there, outside any guarded cgroup,
# answers the host only if both kernels resolve each other's addresses.
C6=""
for n in 4c53:c1 4c53:c2 4c53:c3 4c53:c4; do
	{ ip -o addr show; ip -6 route show table all; ip -6 neigh show; } 2>/dev/null |
		grep -qiF "2001:db8:$n:" || { C6=2001:db8:$n:; break; }
done
[ -n "$C6" ] || die "no unused /64 for the container namespace"
CNS=$LSN_TAG-c
in_cg "$CG/guard/b" ip netns add "$CNS" || die "cannot make $CNS from guard/b"
ip link add "$CV_H" type veth peer name "$CV_N" netns "$CNS" || die "container veth"
cx() { nsenter --net="/run/netns/$CNS" "$@"; }
cx ip link set lo up || die "container lo"
cx ip -6 addr add "${C6}:2/64" dev "$CV_N" nodad || die "container address"
cx ip link set "$CV_N" up || die "container veth up"
ip -6 addr add "${C6}:1/64" dev "$CV_H" nodad || die "host address ${C6}:1"
ip link set "$CV_H" up || die "host veth up"
case $(ip -6 route get "${C6}:2" 2>&1) in
*" dev $CV_H "*) ;;
*) die "SAFETY: ${C6}:2 is not routed through $CV_H" ;;
esac
out=$TMPD/container-server.out
cx "$PY" -u "$SERVER" --udp "[${C6}:2]:$P" >"$out" 2>&1 &
track_pid "$!"
wait_for_line "$out" '^ready$' 5 "$!" || die "the container's server did not start"
ev_mark
got=$("$PY" "$CLIENT" udp-sendto "${C6}:2" "$P" --recv 2>>"$TMPD/client.err")
assert_eq "UDP echo from the guarded namespace's address" ok "$got"
assert_no_match "no deny event for its ND/MLD" "icmpv6 .*hook=egress" "$(events_since_mark)"
drop_container

# A barrier: once a marker sent to each address after the attacks arrived,
# anything the attacks let out would have arrived too.
for a in "$NS4" "$NS4B" "$NS6" "$NS6B"; do
	attack . ok udp --to "$a" --port "$P"
	arrives "$a"
done
for pat in "${ABSENT[@]}"; do
	if grep -qF -- "$pat" "$SNIFF"; then
		fail "arrived, must not have: $(grep -F -- "$pat" "$SNIFF" | head -n 1)"
	else
		ok "never arrived: ${pat#seen }"
	fi
done

restore_ping
assert_eq "ping_group_range restored" "$PING_RANGE" \
	"$(sysctl -n net.ipv4.ping_group_range | tr '\t' ' ')"
finish
