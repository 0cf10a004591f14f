#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Socket kinds per policy (raw-sockets, packet-sockets, icmp-sockets), judged by what
# arrives at a listener in the test's netns: under default = deny a raw socket sending a
# UDP marker (root, CAP_NET_RAW), an AF_PACKET socket sending a whole frame, and a ping
# socket (uid 65534, net.ipv4.ping_group_range opened by the test and restored) are
# refused at socket() with EPERM, each with a "reason=socket-kind" event naming the
# default= line, and no marker arrives. With the keys set to deny under default = allow,
# the events name the keys. Controls: the keys set to allow, the cgroup outside the
# guarded one, and audit mode (would-deny events, the sockets open): the markers arrive.
# AF_PACKET (SOCK_DGRAM and SOCK_RAW frames) is refused by whichever program the kernel
# runs (status "packet_sockets"): an lsm_cgroup or fmod_ret one (socket() fails with
# EPERM), or the socket() tracepoint, which kills the caller (the word is then "killed").
# The last two are global programs: a process outside the test cgroup still sends its
# frames while the agent runs.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/deny guard/keys guard/allow guard/audit
SK=$LSN_E2E_DIR/sockkind.py

# Ping sockets for uid/gid 65534 only while the test runs; restored on every exit path.
PING_RANGE=$(sysctl -n net.ipv4.ping_group_range | tr -s '\t ' ' ') || die "no ping_group_range"
restore_ping_range() {
	local rc=$?
	sysctl -q -w net.ipv4.ping_group_range="$PING_RANGE"
	(exit "$rc")
	lsn_cleanup
}
trap restore_ping_range EXIT
sysctl -q -w net.ipv4.ping_group_range="65534 65534" || die "cannot set ping_group_range"

read -r P <<<"$(pick_ports 1)" || die "no free ports"
setup_netns
NSMAC=$(nsx ip -o link show "$VETH_N" | sed -n 's/.* link\/ether \([0-9a-f:]*\) .*/\1/p')
[ -n "$NSMAC" ] || die "no MAC for $VETH_N"
ARRIVED=$TMPD/arrived
nsx "$PY" -u "$SK" listen "$NS4" "$NS6" "$P" >"$ARRIVED" 2>&1 &
track_pid "$!"
wait_for_line "$ARRIVED" '^ready$' 5 "$!" || die "the listener did not start"

INI=$TMPD/sk.ini
write_file "$INI" <<EOF
[global]
dns = no

[policy lockdown]
cgroup = $CGREL/guard/deny
default = deny
allow = $NS4, $NS6

[policy keys]
cgroup = $CGREL/guard/keys
default = allow
raw-sockets = deny
packet-sockets = deny
icmp-sockets = deny

[policy open]
cgroup = $CGREL/guard/allow
default = deny
allow = $NS4, $NS6
raw-sockets = allow
packet-sockets = allow
icmp-sockets = allow

[policy watch]
cgroup = $CGREL/guard/audit
default = deny
audit = yes
EOF
LD=sk.ini:$(line_of "$INI" "default = deny")
LRAW=sk.ini:$(line_of "$INI" "raw-sockets = deny")
LPKT=sk.ini:$(line_of "$INI" "packet-sockets = deny")
LICMP=sk.ini:$(line_of "$INI" "icmp-sockets = deny")
LW=sk.ini:$(grep -n -F "default = deny" "$INI" | sed -n 3p | cut -d: -f1)

# The mounts under /sys (tracefs, debugfs, bpffs): the agent leaves them as it found them.
sys_mounts() { awk '$5 ~ "^/sys(/|$)"' "${1:-/proc/self/mountinfo}"; }
SYS_MOUNTS=$(sys_mounts)
CLI=$LSN_ROOT/build/lsnitch
start_agent --config "$INI" --control "$TMPD/ctl.sock"
# AF_PACKET runs no cgroup/sock_create program: packet-sockets needs an lsm_cgroup program,
# else a fmod_ret one, else the socket() tracepoint (which kills: no EPERM).
PKT_ENFORCED=1 PKT_DENY=socket-EPERM
PKT_PATH=$("$CLI" --socket "$TMPD/ctl.sock" --json status | "$PY" -c \
	'import json, sys; print(json.load(sys.stdin)["packet_sockets"])')
log "packet-sockets = deny enforced by: $PKT_PATH"
grep -q "^lsnitch-agent: packet-sockets = deny: " "$AGENT_ERR" ||
	fail "the startup log does not say what enforces packet-sockets = deny"
case $PKT_PATH in
lsm_cgroup | fmod_ret) ;;
tracepoint-kill) PKT_DENY=killed ;;
*)
	PKT_ENFORCED=""
	log "NOTE: this kernel runs no program for AF_PACKET: the refusals are not checked"
	grep -q "packet-sockets = deny is not enforced" "$AGENT_ERR" ||
		fail "the agent does not say packet-sockets = deny is not enforced"
	;;
esac

NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
N=0
# send CGNAME WANT VERDICT POLICY RULE KIND SOCKET HOOK ARRIVES [--nobody] -- MODE ARGS...
# Runs sockkind.py MODE in the cgroup with a fresh marker as last argument, asserts its
# word, the event (VERDICT "-": none) and whether the marker reached the listener.
send() {
	local cg=$1 want=$2 verdict=$3 policy=$4 rule=$5 kind=$6 sock=$7 hook=$8 arrives=$9
	local wrap=() id=0 got marker
	shift 9
	[ "$1" = --nobody ] && wrap=("${NOBODY[@]}") id=65534 && shift
	[ "$1" = -- ] || die "send: missing --"
	shift
	N=$((N + 1))
	marker=lsn-sk-$$-$N-$1
	[ "$verdict" = - ] || ev_mark
	got=$(in_cg "$(cg_dir "$cg")" "${wrap[@]}" "$PY" "$SK" "$@" "$marker" 2>>"$TMPD/client.err")
	[ $? != 137 ] || got=killed # SIGKILL: the tracepoint path's refusal
	assert_eq "$cg: $1" "$want" "$got"
	[ "$verdict" = - ] || expect_event "$(event_re "$verdict" "$kind" "$sock" \
		"${CG#"$CG2"/}/$cg" "$policy" "$rule" socket-kind "$hook" \
		"pid=[0-9]+ tid=[0-9]+ comm=python3 uid=$id gid=$id")"
	if [ "$arrives" = yes ]; then
		if wait_for_line "$ARRIVED" "^$marker\$" 3; then
			ok "$cg: $1 marker arrived"
		else
			fail "$cg: $1 marker did not arrive"
		fi
	else
		sleep 0.3
		if grep -qx -- "$marker" "$ARRIVED"; then
			fail "$cg: $1 marker ARRIVED at the denied host"
		else
			ok "$cg: $1 marker never arrived"
		fi
	fi
}
RAW4=(raw4 "$NS4" "$P")
RAW6=(raw6 "$NS6" "$P")
PKT=(packet "$VETH_H" "$NSMAC" "$HOST4" "$NS4" "$P")
PKTRAW=(packet-raw "$VETH_H" "$NSMAC" "$HOST4" "$NS4" "$P")

log "default = deny: refused at socket(), the default= line named, nothing arrives"
D=guard/deny
send $D socket-EPERM deny lockdown "$LD" raw inet/raw/udp sock_create no -- "${RAW4[@]}"
send $D socket-EPERM deny lockdown "$LD" raw inet6/raw/udp sock_create no -- "${RAW6[@]}"
if [ -n "$PKT_ENFORCED" ]; then
	send $D "$PKT_DENY" deny lockdown "$LD" packet packet/dgram/0x0800 packet_create no -- \
		"${PKT[@]}"
	send $D "$PKT_DENY" deny lockdown "$LD" packet packet/raw/0x0003 packet_create no -- \
		"${PKTRAW[@]}"
fi
send $D socket-EPERM deny lockdown "$LD" icmp inet/dgram/icmp sock_create no --nobody -- \
	ping4 "$NS4"
send $D socket-EPERM deny lockdown "$LD" icmp inet6/dgram/icmpv6 sock_create no --nobody -- \
	ping6 "$NS6"

log "the keys under default = allow: the events name them"
K=guard/keys
send $K socket-EPERM deny keys "$LRAW" raw inet/raw/udp sock_create no -- "${RAW4[@]}"
[ -z "$PKT_ENFORCED" ] ||
	send $K "$PKT_DENY" deny keys "$LPKT" packet packet/dgram/0x0800 packet_create no -- \
		"${PKT[@]}"
send $K socket-EPERM deny keys "$LICMP" icmp inet/dgram/icmp sock_create no --nobody -- \
	ping4 "$NS4"

log "controls: the keys set to allow, outside the guarded cgroup"
for cg in guard/allow outside; do
	send $cg ok - - - - - - yes -- "${RAW4[@]}"
	send $cg ok - - - - - - yes -- "${RAW6[@]}"
	send $cg ok - - - - - - yes -- "${PKT[@]}"
	send $cg ok - - - - - - yes -- "${PKTRAW[@]}"
	send $cg ok - - - - - - yes --nobody -- ping4 "$NS4"
	send $cg ok - - - - - - yes --nobody -- ping6 "$NS6"
done

log "outside the test cgroup (a global program decides only below the agent's --cgroup)"
send . ok - - - - - - yes -- "${PKT[@]}"
send . ok - - - - - - yes -- "${PKTRAW[@]}"

log "audit = yes: would-deny, the sockets open and the markers arrive"
A=guard/audit
send $A ok would-deny watch "$LW" raw inet/raw/udp sock_create yes -- "${RAW4[@]}"
# the socket opened, so the egress backstop decides its packet: would-deny too
expect_event "^would-deny udp $(re_escape "$NS4"):[0-9]+ .*policy=watch rule=([^ ]*/)?$LW \
reason=default hook=egress\$"
[ -z "$PKT_ENFORCED" ] ||
	send $A ok would-deny watch "$LW" packet packet/dgram/0x0800 packet_create yes -- \
		"${PKT[@]}"
send $A ok would-deny watch "$LW" icmp inet/dgram/icmp sock_create yes --nobody -- ping4 "$NS4"
expect_event "^would-deny icmp $(re_escape "$NS4"):0 .*policy=watch rule=([^ ]*/)?$LW \
reason=default hook=egress\$"

log "ordinary sockets are not socket kinds: no event for TCP/UDP under default = deny"
got=$(in_cg "$(cg_dir guard/deny)" "$PY" "$CLIENT" udp-sendto "$NS4" "$P")
assert_eq "guard/deny: udp-sendto to an allowed address" ok "$got"

log "reload: a key added to the default-deny policy takes effect, and its line is named"
n=$(line_of "$INI" "allow = $NS4, $NS6")
sed -i -e "${n}a icmp-sockets = deny" -e "${n}a raw-sockets = allow" "$INI"
LI2=sk.ini:$(line_of "$INI" "icmp-sockets = deny")
reload_agent '^lsnitch-agent: reloaded'
send $D ok - - - - - - yes -- "${RAW4[@]}"
send $D socket-EPERM deny lockdown "$LI2" icmp inet/dgram/icmp sock_create no --nobody -- \
	ping4 "$NS4"
assert_no_other_events

# How many programs named $1 are loaded: the generation in force, plus any link left behind.
progs_named() {
	bpftool -j prog show 2>/dev/null | "$PY" -c \
		'import json, sys; print(sum(p.get("name") == sys.argv[1] for p in json.load(sys.stdin)))' "$1"
}
case $PKT_PATH in fmod_ret) GP=ln_packet_fmod ;; tracepoint-kill) GP=ln_packet_kill ;; *) GP="" ;; esac
if [ -n "$GP" ] && command -v bpftool >/dev/null; then
	log "the global program ($GP): one after the reload, kept pinned over a restart, gone at exit"
	assert_eq "$GP programs after the reload" 1 "$(progs_named "$GP")"
	stop_agent QUIT || fail "SIGQUIT: the agent did not exit cleanly"
	send $D "$PKT_DENY" - - - - - - no -- "${PKT[@]}"
	start_agent --config "$INI" --control "$TMPD/ctl.sock"
	assert_eq "$GP programs after the restart" 1 "$(progs_named "$GP")"
	send $D "$PKT_DENY" deny lockdown "$LD" packet packet/dgram/0x0800 packet_create no -- \
		"${PKT[@]}"
	send . ok - - - - - - yes -- "${PKT[@]}"
	stop_agent || fail "SIGTERM: the agent did not exit cleanly"
	assert_eq "$GP programs once the agent stopped" 0 "$(progs_named "$GP")"
	send $D ok - - - - - - yes -- "${PKT[@]}"
fi
[ -z "$AGENT_PID" ] || stop_agent || fail "SIGTERM: the agent did not exit cleanly"
assert_eq "once the agent stopped, the /sys mounts are those before it started" \
	"$SYS_MOUNTS" "$(sys_mounts)"

# The agent in a mount namespace of its own (private: nothing reaches the machine's) with
# tracefs unmounted, that namespace's mount table saved just before the agent runs.
tracefs_missing_agent() {
	write_file "$TMPD/agent-mntns" <<'EOF2'
#!/bin/sh
exec unshare --mount --propagation private sh -c 'umount /sys/kernel/tracing 2>/dev/null
cat /proc/self/mountinfo >"$LSN_MNT_BEFORE" && exec "$@"' sh "$LSN_REAL_AGENT" "$@"
EOF2
	chmod +x "$TMPD/agent-mntns"
	export LSN_MNT_BEFORE=$TMPD/mnt.before LSN_REAL_AGENT=$AGENT
	AGENT=$TMPD/agent-mntns start_agent "$@"
}
if [ "$PKT_PATH" = tracepoint-kill ]; then
	log "tracefs missing: the agent mounts it for the tracepoint and unmounts it at exit"
	tracefs_missing_agent --config "$INI" --control "$TMPD/ctl.sock"
	assert_match "the agent mounted tracefs in its namespace" \
		"^[0-9]+ [0-9]+ [0-9:]+ / /sys/kernel/tracing .* - tracefs " \
		"$(cat "/proc/$AGENT_PID/mountinfo")"
	send $D "$PKT_DENY" deny lockdown "$LD" packet packet/dgram/0x0800 packet_create no -- \
		"${PKT[@]}"
	# a process of that namespace keeps it, to read its table once the agent is gone
	nsenter -t "$AGENT_PID" -m sleep 60 9>&- &
	HOLD=$!
	track_pid "$HOLD"
	for _ in $(seq 50); do
		[ "$(readlink "/proc/$HOLD/ns/mnt")" = "$(readlink "/proc/$AGENT_PID/ns/mnt")" ] && break
		sleep 0.1
	done
	stop_agent || fail "SIGTERM: the agent did not exit cleanly"
	assert_eq "once the agent stopped, its namespace's mounts are those before it started" \
		"$(cat "$LSN_MNT_BEFORE")" "$(cat "/proc/$HOLD/mountinfo")"
	kill_pid "$HOLD"
else
	log "NOTE: packet-sockets uses $PKT_PATH here, not the tracepoint: tracefs is not needed"
fi
finish
