#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The installed units under systemd as PID 1 (a throwaway nspawn container,
# nspawn_lib.sh): start (Type=notify) of the hardened unit as the user
# "lsnitch", per-unit policies for transient and regular units with escaped
# names, the DNS proxy, reload with a broken file, the journal, restart with
# no gap, the watchdog, stop. Traffic stays inside the container's own
# loopback: a denied connect is EPERM, an allowed one reaches the closed port
# and is ECONNREFUSED (or a listener of the test's, which counts what arrived).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nspawn_lib.sh"
lsn_setup
nspawn_require
MSGID_DENY=3f1c8e4a9b2d4c7e8a6f5b0d1e2c3a49

NSP_ETC=$TMPD/etc-lsnitch
mkdir -p "$NSP_ETC"
cp -r "$(nspawn_install_tree)/etc/lsnitch/." "$NSP_ETC/"
# transient, escaped (systemd-escape "lsn-esc") and template instance units
printf '[policy]\ndefault = allow\ndeny = 127.0.0.2\n' >"$NSP_ETC/units.d/probe.service.ini"
printf '[policy]\ndefault = allow\ndeny = 127.0.0.3\n' >"$NSP_ETC/units.d/lsn\\x2desc.service.ini"
printf '[policy]\ndefault = allow\ndeny = 127.0.0.4\n' >"$NSP_ETC/units.d/lsn-inst@a.service.ini"
echo blocked.test >>"$NSP_ETC/blocked_domains.txt"
# /etc/resolv.conf is the test's (the agent's "system" DNS servers)
NSP_EXTRA=(--resolv-conf=off)
nspawn_boot "$TMPD/inst"
# the agent's "system" DNS server (nothing listens: blocked names are the proxy's answer)
in_ct sh -c 'echo "nameserver 127.0.0.53" >/etc/resolv.conf'

# connect_in UNIT ADDR [systemd-run args]: the errno name of a TCP connect to ADDR:9 from UNIT.
CONNECT='import socket,errno,sys
s=socket.socket()
try: s.connect((sys.argv[1],9)); print("OK")
except OSError as e: print(errno.errorcode[e.errno])'
connect_in() {
	local unit=$1 addr=$2
	shift 2
	in_ct systemd-run --quiet --wait --pipe -u "$unit" "$@" python3 -c "$CONNECT" "$addr" 2>&1
}

# ---- start: Type=notify, so `systemctl start` returns once the agent said READY=1
assert_eq "not started at boot (the preset)" inactive "$(in_ct systemctl is-active lsnitch-agent)"
if in_ct systemctl start lsnitch-agent; then ok "systemctl start lsnitch-agent"; else
	fail "start: $(in_ct journalctl -u lsnitch-agent --no-pager | tail -n 20)"
	finish
fi
assert_eq "active once start returned" active "$(in_ct systemctl is-active lsnitch-agent)"
assert_match "ready before systemd said Started" 'lsnitch-agent: ready' \
	"$(in_ct journalctl -u lsnitch-agent --no-pager -o cat)"

# ---- the hardened unit: not root, only its capabilities, and it pins
pid=$(in_ct systemctl show -p MainPID --value lsnitch-agent)
assert_eq "runs as the user lsnitch" lsnitch "$(in_ct ps -o user= -p "$pid")"
assert_eq "effective capabilities: the unit's set only" 000000c000281004 \
	"$(in_ct sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$pid/status")"
assert_match "links pinned in /sys/fs/bpf/lsnitch" '_connect4' \
	"$(in_ct ls /sys/fs/bpf/lsnitch/links)"
assert_no_match "no pinning trouble in the journal" 'not pinning|pinning .*ignoring' \
	"$(in_ct journalctl -u lsnitch-agent --no-pager -o cat)"

# ---- the DNS proxy answers: NXDOMAIN for a blocked name. (Forwarding is not
# checked here: in the container's pid namespace the agent's own upstream
# queries are not told apart from its guarded processes': README, Limits.)
out=$(in_ct systemd-run --quiet --wait --pipe -u lsn-dig dig +time=2 +tries=1 @127.0.0.53 \
	blocked.test 2>&1)
assert_match "blocked.test: NXDOMAIN from the proxy" 'status: NXDOMAIN' "$out"
assert_match "the journal names the blocked name" 'blocked\.test' \
	"$(in_ct journalctl -u lsnitch-agent --no-pager -o cat)"

# ---- per-unit policies (sd-bus lookup of each unit's cgroup)
assert_eq "transient probe.service: 127.0.0.2 denied" EPERM "$(connect_in probe 127.0.0.2)"
assert_eq "transient probe.service: 127.0.0.3 allowed" ECONNREFUSED \
	"$(connect_in probe 127.0.0.3)"
assert_eq "escaped lsn\\x2desc.service: 127.0.0.3 denied" EPERM "$(connect_in 'lsn\x2desc' 127.0.0.3)"
assert_eq "lsn-inst@a.service: 127.0.0.4 denied" EPERM "$(connect_in lsn-inst@a 127.0.0.4)"
assert_eq "lsn-inst@b.service (no file): allowed" ECONNREFUSED "$(connect_in lsn-inst@b 127.0.0.4)"
assert_eq "a unit without a file: allowed" ECONNREFUSED "$(connect_in other 127.0.0.2)"
# a regular unit from a unit file, named with an escape
printf '%s\n' "$CONNECT" | in_ct sh -c 'cat >/etc/lsn-connect.py'
printf '[Service]\nType=oneshot\nExecStart=/usr/bin/python3 /etc/lsn-connect.py 127.0.0.3\n' |
	in_ct sh -c 'cat >"/etc/systemd/system/lsn\x2desc.service" && systemctl daemon-reload'
in_ct systemctl start 'lsn\x2desc.service' >/dev/null 2>&1
assert_eq "regular unit file lsn\\x2desc.service: denied" EPERM \
	"$(in_ct journalctl -u 'lsn\x2desc.service' -o cat --no-pager | grep -E '^[A-Z]+$' | tail -n 1)"

# ---- the journal: one structured entry per denial, naming the (exited) unit
sleep 0.5
J=$(in_ct journalctl MESSAGE_ID=$MSGID_DENY -o export --no-pager)
assert_match "MESSAGE_ID entry names probe.service" '^LSNITCH_UNIT=probe\.service$' "$J"
assert_match "its cgroup by path, not #id" '^LSNITCH_CGROUP=/system\.slice/probe\.service$' "$J"
assert_match "and the rule's file:line" '^LSNITCH_RULE=/etc/lsnitch/units\.d/probe\.service\.ini:3$' "$J"
assert_no_match "no entry with an unknown unit" '^LSNITCH_UNIT=-$' "$J"
n=$(in_ct journalctl -u lsnitch-agent -o cat --no-pager | grep -c '127\.0\.0\.2:9' || true)
m=$(printf '%s\n' "$J" | grep -c '^LSNITCH_DEST=127.0.0.2:9$' || true)
assert_eq "each denial once in the journal (not stdout and entry)" "$m" "$n"

# ---- reload with a broken file: fails with file:line, the old policy stays
printf '[policy]\ndefault = allow\nbogus = 1\n' >"$NSP_ETC/units.d/broken.service.ini"
out=$(in_ct systemctl reload lsnitch-agent 2>&1)
rc=$?
[ "$rc" != 0 ] && ok "reload with a broken file fails (rc $rc)" || fail "reload succeeded"
assert_match "the reason names file:line" 'broken\.service\.ini:3' \
	"$out $(in_ct journalctl -u lsnitch-agent -o cat --no-pager | tail -n 5)"
assert_eq "still active" active "$(in_ct systemctl is-active lsnitch-agent)"
assert_eq "old policy in force" EPERM "$(connect_in probe 127.0.0.2)"
rm -f "$NSP_ETC/units.d/broken.service.ini"

# ---- restart with no gap: probe.service connects to a denied (127.0.0.2) and
# an allowed (127.0.0.3) listener in a loop across `systemctl restart`; the
# listener, not the errno, says whether a denied connect ever got through.
LISTEN='import socket,sys
ls=[]
for a in sys.argv[2:]:
	s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)
	s.bind((a,7000)); s.listen(512); ls.append(s)
import selectors
sel=selectors.DefaultSelector()
for s in ls: sel.register(s,selectors.EVENT_READ)
out=open(sys.argv[1],"a",buffering=1)
while True:
	for k,_ in sel.select():
		c,_=k.fileobj.accept(); c.settimeout(1)
		try: d=c.recv(64).decode()
		except OSError: d="-"
		out.write("%s %s\n"%(k.fileobj.getsockname()[0],d)); c.close()'
LOOP='import socket,errno,sys,time
t0=time.time(); end=t0+float(sys.argv[1]); n={}; i=0
while time.time()<end:
	for a in ("127.0.0.2","127.0.0.3"):
		s=socket.socket()
		try: s.connect((a,7000)); s.sendall(b"%d" % i); r="OK"
		except OSError as e: r=errno.errorcode[e.errno]
		s.close(); n[a+":"+r]=n.get(a+":"+r,0)+1
	i+=1; time.sleep(0.005)
print("%.3f %.3f %s" % (t0,time.time()," ".join("%s=%d" % kv for kv in sorted(n.items()))))'
in_ct systemd-run --quiet -u lsn-listen python3 -c "$LISTEN" /run/lsn-listen.log 127.0.0.2 127.0.0.3
t=0
until in_ct ss -Htln 'sport = :7000' | grep -q 127.0.0.3 || [ "$t" -gt 50 ]; do sleep 0.1; t=$((t + 1)); done
pid=$(in_ct systemctl show -p MainPID --value lsnitch-agent)
in_ct systemd-run --quiet --wait --pipe -u probe python3 -c "$LOOP" 4 >"$TMPD/loop.out" 2>&1 &
loop=$!
track_pid "$loop"
sleep 1
r0=$(in_ct date +%s.%N)
if in_ct systemctl restart lsnitch-agent; then ok "systemctl restart"; else fail "restart failed"; fi
r1=$(in_ct date +%s.%N)
wait "$loop"
read -r l0 l1 counts <"$TMPD/loop.out"
log "restart $r0..$r1, loop $l0..$l1: $counts"
new=$(in_ct systemctl show -p MainPID --value lsnitch-agent)
assert_match "a new agent (pid $pid -> $new)" '^[1-9]' "$([ "$new" != "$pid" ] && echo "$new")"
assert_match "the loop ran across the restart" yes \
	"$(awk -v a="$l0" -v b="$l1" -v c="$r0" -v d="$r1" 'BEGIN { if (a < c && b > d) print "yes" }')"
assert_match "denied connects: EPERM only" '^127\.0\.0\.2:EPERM=[0-9]+ 127\.0\.0\.3:OK=[0-9]+$' "$counts"
got=$(in_ct cat /run/lsn-listen.log)
assert_eq "the denied listener received nothing" 0 "$(printf '%s\n' "$got" | grep -c '^127\.0\.0\.2 ')"
assert_match "the allowed one received the loop's connects" '^127\.0\.0\.3 [0-9]+$' "$got"
J=$(in_ct journalctl -u lsnitch-agent --no-pager -o cat)
assert_match "the old agent handed over" 'systemd is restarting the unit: handing over' "$J"
assert_match "the new one took the pins over" 'took over [1-9][0-9]* pinned links' "$J"
assert_eq "policy in force after the restart" EPERM "$(connect_in probe 127.0.0.2)"

# ---- the watchdog: a stopped (SIGSTOP) agent is restarted
in_ct sh -c 'mkdir -p /run/systemd/system/lsnitch-agent.service.d && printf "[Service]\nWatchdogSec=2s\nTimeoutAbortSec=2s\n" >/run/systemd/system/lsnitch-agent.service.d/wd.conf && systemctl daemon-reload'
in_ct systemctl restart lsnitch-agent
pid=$(in_ct systemctl show -p MainPID --value lsnitch-agent)
n0=$(in_ct systemctl show -p NRestarts --value lsnitch-agent)
in_ct kill -STOP "$pid"
t=0
while [ "$t" -lt 150 ]; do
	new=$(in_ct systemctl show -p MainPID --value lsnitch-agent)
	[ "$new" != "$pid" ] && [ "$new" != 0 ] && ct_wait_active lsnitch-agent && break
	sleep 0.1
	t=$((t + 1))
done
assert_match "the watchdog restarted it (pid $pid -> $new)" '^[1-9][0-9]*$' \
	"$([ "$new" != "$pid" ] && echo "$new")"
assert_eq "NRestarts went up" "$((n0 + 1))" "$(in_ct systemctl show -p NRestarts --value lsnitch-agent)"
assert_eq "policy in force after the watchdog's restart" EPERM "$(connect_in probe 127.0.0.2)"
assert_match "the journal says why" 'Watchdog timeout' \
	"$(in_ct journalctl -u lsnitch-agent --no-pager -o cat)"

# ---- stop: nothing attached, nothing pinned
in_ct systemctl stop lsnitch-agent
assert_eq "stopped" inactive "$(in_ct systemctl is-active lsnitch-agent)"
assert_eq "no programs attached in the container" "" \
	"$(in_ct bpftool cgroup tree 2>/dev/null | grep -E '^[0-9]+ ')"
assert_eq "nothing pinned" "" "$(in_ct find /sys/fs/bpf/lsnitch -mindepth 2)"
assert_eq "after stop: allowed" ECONNREFUSED "$(connect_in probe 127.0.0.2)"

nspawn_stop
finish
