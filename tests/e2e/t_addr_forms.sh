#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Addresses that mean something else, judged by what arrives (issue 9):
# - 0.0.0.0, :: and ::ffff:0.0.0.0 reach loopback: under "deny 127.0.0.0/8, ::1"
#   a loopback listener gets nothing (TCP and UDP); under a policy that allows
#   the loopback port it gets the payload (control);
# - NAT64 (64:ff9b::/96) and 6to4 (2002::/16) forms of a denied IPv4 are
#   refused with the IPv4 rule in the event, those of an allowed one arrive.
#   There is no NAT64 here: the forms are addresses of the test netns, so
#   arrival is still the ground truth. Both ways of the two forms disagreeing;
# - UDP-Lite is matched by udp rules and its events say proto udplite;
# - a connected UDP socket sending with IP_TOS / IPV6_TCLASS / IP_PKTINFO
#   reaches its allowed peer under default deny (it was denied as "udp
#   0.0.0.0:0"), and a socket connected before a reload denied its peer is
#   refused at that sendmsg, with the peer and the rule in the event.
# Every send runs as uid 65534.
. "$(dirname "$0")/lib.sh"
lsn_setup
setup_netns
make_cg guard/lo guard/open guard/nat guard/natc guard/lite guard/cmsg

PROBE=$LSN_E2E_DIR/addr_probe.py
read -r P1 P2 P3 <<<"$(pick_ports 3)" || die "no free ports"

# NAT64 and 6to4 forms of the namespace's IPv4 addresses, made addresses of it.
forms() {
	"$PY" -c 'import ipaddress as i, sys
a = int(i.IPv4Address(sys.argv[1]))
print(i.IPv6Address(0x64ff9b << 96 | a), i.IPv6Address(0x2002 << 112 | a << 80 | 1))' "$1"
}
read -r N64A S24A <<<"$(forms "$NS4")"
read -r N64B S24B <<<"$(forms "$NS4B")"
for a in "$N64A" "$S24A" "$N64B" "$S24B"; do
	nsx ip -6 addr add "$a/128" dev "$VETH_N" nodad || die "netns address $a"
	ip -6 route add "$a/128" dev "$VETH_H" || die "host route to $a"
	r=$(ip -6 route get "$a" 2>&1)
	case $r in *" dev $VETH_H "*) ;; *) die "SAFETY: route to $a does not go through $VETH_H: $r" ;; esac
done
log "v6 forms: $NS4 = $N64A, $S24A; $NS4B = $N64B, $S24B"

# Sends may only go where lib.sh allows, to the unspecified addresses
# (loopback) and to the forms above (the netns).
dest_ok() {
	case $1 in 0.0.0.0 | :: | ::ffff:0.0.0.0 | "$N64A" | "$S24A" | "$N64B" | "$S24B") ;;
	*) check_dest "$1" ;; esac
}

SINKS=0
# start_sink [--ns] PROTO:ADDR:PORT...: a listener; sets SINK_OUT.
start_sink() {
	local pre=()
	if [ "$1" = --ns ]; then
		shift
		pre=(nsenter "--net=/run/netns/$NS")
	fi
	SINKS=$((SINKS + 1))
	SINK_OUT=$TMPD/sink.$SINKS.out
	"${pre[@]}" "$PY" -u "$PROBE" sink "$@" >"$SINK_OUT" 2>&1 &
	track_pid "$!"
	wait_for_line "$SINK_OUT" '^ready$' 5 "$!" || die "sink $* did not start: $(cat "$SINK_OUT")"
}

NSENT=0
# send CGNAME WANT MODE ADDR PORT [--wait FILE]: a probe as uid 65534 with a
# fresh marker ($MARK); asserts it prints WANT.
send() {
	local cg=$1 want=$2 got
	shift 2
	dest_ok "$2"
	NSENT=$((NSENT + 1))
	MARK=mark-$$-$NSENT
	sink_mark
	got=$(in_cg "$CG/guard/$cg" setpriv --reuid=65534 --regid=65534 --clear-groups -- \
		"$PY" "$PROBE" send "$1" "$2" "$3" "$MARK" "${@:4}" 2>>"$TMPD/probe.err")
	assert_eq "$cg: $* ($MARK)" "$want" "$got"
}

# What the sinks have received so far (not_arrived looks only past it).
sink_mark() { SEEN_LOOP=$(wc -l <"$LOOP") SEEN_NET=$(wc -l <"$NET"); }

# arrived SINK_OUT / not_arrived SINK_OUT: about the last $MARK. Not arrived:
# nothing at all, not even a connection without data, since the last send.
arrived() {
	if wait_for_line "$1" " $MARK\$" 3; then ok "$MARK arrived"; else fail "$MARK did not arrive"; fi
}
not_arrived() {
	local seen=$SEEN_NET new
	[ "$1" = "$LOOP" ] && seen=$SEEN_LOOP
	sleep 0.3
	new=$(tail -n "+$((seen + 1))" "$1")
	if [ -n "$new" ]; then fail "$MARK: the listener got: $new"; else ok "$MARK: nothing arrived"; fi
}

# deny_event PROTO DEST POLICY RULE REASON HOOK: the event of the last send.
deny_event() {
	expect_event "$(event_re deny "$1" "$2" "$CGREL/guard/$3" "$3" "$4" "$5" "$6" \
		"pid=[0-9]+ tid=[0-9]+ comm=python3 uid=65534 gid=65534")"
}

INI=$TMPD/addr.ini
write_file "$INI" <<EOF
[policy lo]
cgroup = $CGREL/guard/lo
deny = 127.0.0.0/8, ::1

[policy open]
cgroup = $CGREL/guard/open
default = deny
allow = 127.0.0.1:$P1, [::1]:$P1

[policy nat]
cgroup = $CGREL/guard/nat
allow = 64:ff9b::/96
deny = $NS4

[policy natc]
cgroup = $CGREL/guard/natc
default = deny
allow = $NS4B

[policy lite]
cgroup = $CGREL/guard/lite
deny = 127.0.0.1:$P2/udp

[policy cmsg]
cgroup = $CGREL/guard/cmsg
default = deny
allow = $NS4B:$P1/udp, [$NS6B]:$P1/udp
allow = $NS4:$P1/udp
allow = [$NS6]:$P1/udp
EOF
LLO=addr.ini:$(line_of "$INI" "deny = 127.0.0.0/8")
LOPEN=addr.ini:$(line_of "$INI" "default = deny")
LNAT=addr.ini:$(line_of "$INI" "deny = $NS4")
LNATC=addr.ini:$(($(line_of "$INI" "cgroup = $CGREL/guard/natc") + 1))
LLITE=addr.ini:$(line_of "$INI" "deny = 127.0.0.1:$P2/udp")
LC4=addr.ini:$(line_of "$INI" "allow = $NS4:$P1/udp")
LC6=addr.ini:$(line_of "$INI" "allow = [$NS6]:$P1/udp")

start_sink tcp:127.0.0.1:"$P1" udp:127.0.0.1:"$P1" tcp:[::1]:"$P1" udp:[::1]:"$P1" \
	udplite:127.0.0.1:"$P2" udplite:127.0.0.1:"$P3"
LOOP=$SINK_OUT
start_sink --ns tcp:["$N64A"]:"$P1" tcp:["$N64B"]:"$P1" udp:["$S24A"]:"$P1" \
	udp:["$S24B"]:"$P1" udp:"$NS4":"$P1" udp:"$NS4B":"$P1" udp:["$NS6"]:"$P1" \
	udp:["$NS6B"]:"$P1"
NET=$SINK_OUT
start_agent --config "$INI"

log "0.0.0.0, :: and ::ffff:0.0.0.0 are loopback"
for a in 0.0.0.0 :: ::ffff:0.0.0.0; do
	case $a in ::) dest="[::]:$P1" hook=connect6 ;; ::ffff:*) dest="0.0.0.0:$P1" hook=connect6 ;;
	*) dest="0.0.0.0:$P1" hook=connect4 ;; esac
	ev_mark
	send lo EPERM tcp "$a" "$P1"
	deny_event tcp "$dest" lo "$LLO" rule "$hook"
	not_arrived "$LOOP"
	# an AF_INET6 socket sends to a v4-mapped address through sendmsg4
	case $a in ::) hook=sendmsg6 ;; *) hook=sendmsg4 ;; esac
	ev_mark
	send lo EPERM udp "$a" "$P1"
	deny_event udp "$dest" lo "$LLO" rule "$hook"
	not_arrived "$LOOP"
	send open ok tcp "$a" "$P1"
	arrived "$LOOP"
	send open ok udp "$a" "$P1"
	arrived "$LOOP"
done
ev_mark
send open EPERM tcp 0.0.0.0 "$P2"
deny_event tcp "0.0.0.0:$P2" open "$LOPEN" default connect4

log "NAT64 and 6to4 forms of a denied IPv4: the IPv4 deny wins over the v6 allow"
ev_mark
send nat EPERM tcp "$N64A" "$P1"
deny_event tcp "[$N64A]:$P1" nat "$LNAT" rule connect6
not_arrived "$NET"
ev_mark
send nat EPERM udp "$S24A" "$P1"
deny_event udp "[$S24A]:$P1" nat "$LNAT" rule sendmsg6
not_arrived "$NET"
send nat ok tcp "$N64B" "$P1"
arrived "$NET"
send nat ok udp "$S24B" "$P1"
arrived "$NET"
log "under default deny, an allowed IPv4 is allowed in its v6 forms, only that one"
send natc ok tcp "$N64B" "$P1"
arrived "$NET"
send natc ok udp "$S24B" "$P1"
arrived "$NET"
ev_mark
send natc EPERM tcp "$N64A" "$P1"
deny_event tcp "[$N64A]:$P1" natc "$LNATC" default connect6
not_arrived "$NET"

log "UDP-Lite under a udp rule"
ev_mark
send lite EPERM udplite 127.0.0.1 "$P2"
deny_event udplite "127.0.0.1:$P2" lite "$LLITE" rule sendmsg4
not_arrived "$LOOP"
send lite ok udplite 127.0.0.1 "$P3"
arrived "$LOOP"

log "connected UDP with a control message, to an allowed peer"
for mode in udp-tos udp-pktinfo; do
	for a in "$NS4B" "$NS6B"; do
		send cmsg ok "$mode" "$a" "$P1"
		arrived "$NET"
	done
done

log "connected before a reload denied the peer, sending with a control message"
W=$TMPD/go
rm -f "$W"
B4=$TMPD/bg4.out B6=$TMPD/bg6.out
dest_ok "$NS4" && dest_ok "$NS6"
in_cg "$CG/guard/cmsg" setpriv --reuid=65534 --regid=65534 --clear-groups -- \
	"$PY" "$PROBE" send udp-tos "$NS4" "$P1" mark-$$-late4 --wait "$W" >"$B4" 2>&1 &
PB4=$!
track_pid "$PB4"
in_cg "$CG/guard/cmsg" setpriv --reuid=65534 --regid=65534 --clear-groups -- \
	"$PY" "$PROBE" send udp-tos "$NS6" "$P1" mark-$$-late6 --wait "$W" >"$B6" 2>&1 &
PB6=$!
track_pid "$PB6"
wait_for_line "$B4" '^connected$' 5 && wait_for_line "$B6" '^connected$' 5 ||
	die "the probes did not connect: $(cat "$B4" "$B6")"
sed -i -e "s|^allow = $NS4:$P1/udp|deny = $NS4:$P1/udp|" \
	-e "s|^allow = \[$NS6\]:$P1/udp|deny = [$NS6]:$P1/udp|" "$INI"
reload_agent '^lsnitch-agent: reloaded'
ev_mark
sink_mark
touch "$W"
wait "$PB4" "$PB6"
assert_eq "v4 sendmsg with IP_TOS after the reload" "EPERM" "$(tail -n 1 "$B4")"
assert_eq "v6 sendmsg with IPV6_TCLASS after the reload" "EPERM" "$(tail -n 1 "$B6")"
deny_event udp "$NS4:$P1" cmsg "$LC4" rule sendmsg4
deny_event udp "[$NS6]:$P1" cmsg "$LC6" rule sendmsg6
MARK=mark-$$-late4 not_arrived "$NET"
MARK=mark-$$-late6 not_arrived "$NET"
log "and a new connect() to that peer is refused"
ev_mark
send cmsg EPERM udp-tos "$NS4" "$P1"
deny_event udp "$NS4:$P1" cmsg "$LC4" rule connect4
send cmsg ok udp-tos "$NS4B" "$P1"
arrived "$NET"

assert_no_other_events
finish
