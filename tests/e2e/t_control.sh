#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The control socket and the lsnitch CLI. The agent (--control in the test's
# own directory) creates the socket 0600 in a 0700 directory; "status" lists
# the policy and its cgroup; "explain" gives the verdict, reason, file:line
# and the line's text for a rule, a policy blocklist entry, a global one, the
# default and the implicit policy, and they agree with what the kernel does;
# "reload" with a broken file exits 1 with FILE:LINE while the old policy
# still denies, with a good file it changes the verdict; "events" (raw JSON
# and human lines, the latter identical to the agent's own stdout line)
# receives the event of a denied connect made after subscribing; malformed
# and oversized requests get an error; nobody (uid 65534) cannot connect,
# neither through the 0700 directory, nor the 0600 socket, nor (with the
# modes opened up) past the peer credential check. A subscriber that stops
# reading while 4000 denials happen loses events and is told how many; the
# agent answers status meanwhile. With NOTIFY_SOCKET and
# WATCHDOG_USEC set, the agent sends READY=1 and then WATCHDOG=1 pings. A
# stale socket file left by a dead agent is replaced; the socket is removed
# on exit.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a guard/lo guard/g1 guard/g2

lsn_ctl_setup
read -r P1 P2 <<<"$(pick_ports 2)" || die "no free ports"
start_servers --tcp "127.0.0.2:$P1" --tcp "127.0.0.2:$P2" --tcp "127.0.0.3:$P1" \
	--tcp "127.0.0.4:$P1" --tcp "127.0.0.5:$P1"


HOSTS=$TMPD/ctl_hosts.txt
write_file "$HOSTS" <<EOF
# the policy's own list
127.0.0.3
EOF
GLOBAL=$TMPD/global_hosts.txt
write_file "$GLOBAL" <<EOF
127.0.0.5
EOF
INI=$TMPD/c.ini
write_file "$INI" <<EOF
[policy ctl]
cgroup = $CGREL/guard/a
default = deny
allow = 127.0.0.2:$P1/tcp
deny = 127.0.0.4
allow = 127.0.0.5
blocked-hosts = ctl_hosts.txt

[policy lo]
cgroup = $CGREL/guard/lo
default = allow
deny = 127.0.0.0/8:$P1, [::1]:$P1

[policy lo-audit]
cgroup = $CGREL/guard/lo-audit
audit = yes
deny = 127.0.0.0/8:$P1, [::1]:$P1

[policy globbed]
cgroup = $CGREL/guard/g*

[policy elsewhere]
cgroup = $CGREL/elsewhere/x
default = deny
EOF
L_ALLOW=$(line_of "$INI" "allow = 127.0.0.2")
L_DENY=$(line_of "$INI" "deny = 127.0.0.4")
L_DEF=$(line_of "$INI" "default = deny")
L_LO=$(line_of "$INI" "deny = 127.0.0.0/8:$P1")
L_LODEF=$(line_of "$INI" "default = allow")

log "sd_notify: READY=1 and watchdog pings"
NOTIFY=$TMPD/notify.sock
"$PY" -u - "$NOTIFY" >"$TMPD/notify.out" 2>&1 <<'PYEOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("ready", flush=True)
while True:
    for line in s.recv(4096).decode().split("\n"):
        print(line, flush=True)
PYEOF
track_pid "$!"
wait_for_line "$TMPD/notify.out" '^ready$' 5 "$!" || die "notify listener did not start"
export NOTIFY_SOCKET=$NOTIFY WATCHDOG_USEC=400000
start_agent --config "$INI" --blocked-hosts "$GLOBAL" --control "$S"
unset NOTIFY_SOCKET WATCHDOG_USEC
L_ELSE=$(line_of "$INI" "cgroup = $CGREL/elsewhere/x")
assert_match "the agent warns at load of a policy outside every --cgroup, naming file:line" \
	"^lsnitch-agent: warning: $(re_escape "$INI"):$L_ELSE: policy elsewhere: cgroup \
$(re_escape "$CGREL/elsewhere/x") lies outside every --cgroup: not guarded\$" "$(cat "$AGENT_ERR")"
if wait_for_line "$TMPD/notify.out" '^READY=1$' 3; then ok "READY=1 sent"; else fail "no READY=1"; fi
if wait_for_line "$TMPD/notify.out" '^WATCHDOG=1$' 3; then
	ok "WATCHDOG=1 sent (WATCHDOG_USEC=400000)"
else
	fail "no WATCHDOG=1 within 3 s"
fi

log "socket and directory modes"
assert_eq "control directory mode" 700 "$(stat -c %a "$TMPD/run")"
assert_eq "control socket mode" 600 "$(stat -c %a "$S")"
assert_eq "control socket type" socket "$(stat -c %F "$S")"

log "status"
out=$(ctl status)
assert_eq "status exit status" 0 "$?"
assert_match "status names the policy" "^  ctl \(id 1\): default deny, 3 rules" "$out"
assert_match "status shows the policy's cgroup" "cgroup $(re_escape "$CGREL/guard/a")\$" "$out"
assert_match "status shows the guarded cgroup" "^  $(re_escape "$CG/guard")\$" "$out"
assert_match "status shows the counters" "^counters: allowed [0-9]+, denied [0-9]+" "$out"
j=$(ctl --json status)
assert_eq "status --json exit status" 0 "$?"
assert_eq "status --json: pid" "$AGENT_PID" "$(jget "$j" 'o["pid"]')"
assert_eq "status --json: policy" "ctl deny 3 ['$CGREL/guard/a']" \
	"$(jget "$j" '" ".join(str(x) for x in (o["policies"][0]["name"], o["policies"][0]["default"], o["policies"][0]["rules"], o["policies"][0]["cgroups"]))')"
assert_eq "status --json: DNS proxy stats" True "$(jget "$j" '"queries" in o["dns"]')"

log "status: guarded policies and the cgroups each is bound to"
assert_eq "status --json: guarded (ctl lo lo-audit globbed elsewhere)" \
	"True True True True False" "$(jget "$j" '" ".join(str(p["guarded"]) for p in o["policies"])')"
assert_eq "status --json: the glob's bound cgroups" \
	"$CGREL/guard/g1 $CGREL/guard/g2" "$(jget "$j" '" ".join(sorted(o["policies"][3]["bound"]))')"
assert_eq "status --json: ctl's bound cgroup" "$CGREL/guard/a" \
	"$(jget "$j" '" ".join(o["policies"][0]["bound"])')"
out=$(ctl status)
assert_match "status: the glob's first cgroup" "^      bound $(re_escape "$CGREL/guard/g1")\$" "$out"
assert_match "status: the glob's second cgroup" "^      bound $(re_escape "$CGREL/guard/g2")\$" "$out"
assert_match "status: a policy outside every --cgroup is not guarded" \
	"$(re_escape "$CGREL/elsewhere/x")"$'\n'"      bound to no cgroup right now"$'\n'"      not guarded: " "$out"
assert_eq "status: only that policy is not guarded" 1 "$(grep -c "not guarded" <<<"$out")"
make_cg guard/g3
for _ in $(seq 100); do
	ctl status | grep -q "^      bound $(re_escape "$CGREL/guard/g3")\$" && break
	sleep 0.05
done
assert_match "status: a cgroup the glob matches, as soon as it appears" \
	"^      bound $(re_escape "$CGREL/guard/g3")\$" "$(ctl status)"

log "explain"
# explain_expect DESC EXIT_STATUS WANT_LINE_ERE ARGS... (exit status 0 allowed, 3 denied)
explain_expect() {
	local desc=$1 rc=$2 want=$3 out
	shift 3
	out=$(ctl explain "$@")
	assert_eq "explain $*: exit status" "$rc" "$?"
	assert_match "explain $desc" "$want" "$out"
}
R=$(re_escape "$INI")
explain_expect "rule (allow)" 0 "^allow policy=ctl rule=$R:$L_ALLOW reason=rule\$" \
	--policy ctl 127.0.0.2 "$P1" tcp
explain_expect "rule: the line's text" 0 "^  $R:$L_ALLOW: allow = 127[.]0[.]0[.]2:$P1/tcp\$" \
	--policy ctl 127.0.0.2 "$P1"
explain_expect "rule (deny)" 3 "^deny policy=ctl rule=$R:$L_DENY reason=rule\$" \
	--cgroup "$CGREL/guard/a" 127.0.0.4 "$P1"
explain_expect "policy blocklist" 3 \
	"^deny policy=ctl rule=$(re_escape "$HOSTS"):2 reason=blocklist\$" \
	--cgroup "$CG/guard/a" 127.0.0.3 "$P1"
explain_expect "blocklist line text" 3 "^  $(re_escape "$HOSTS"):2: 127[.]0[.]0[.]3\$" \
	--cgroup "$CG/guard/a" 127.0.0.3 "$P1"
explain_expect "global blocklist in the implicit policy" 3 \
	"^deny policy=- rule=$(re_escape "$GLOBAL"):1 reason=blocklist\$" \
	--cgroup "/$CGREL/guard" 127.0.0.5 "$P1"
explain_expect "default" 3 "^deny policy=ctl rule=$R:$L_DEF reason=default\$" \
	--cgroup "$CGREL/guard/a/deeper/still" 127.0.0.2 "$P2" udp
explain_expect "default: the line's text" 3 "^  $R:$L_DEF: default = deny\$" \
	--policy ctl 127.0.0.2 "$P2"
explain_expect "implicit policy" 0 "^allow policy=- rule=- reason=none\$" \
	--cgroup "$CGREL/guard" 127.0.0.2 "$P2"
explain_expect "a cgroup nothing is attached to" 0 "^allow rule=- reason=not-guarded\$" \
	--cgroup "$CGREL/outside" 127.0.0.4 "$P1"
j=$(ctl --json explain --policy ctl ::ffff:127.0.0.4 "$P1")
assert_eq "explain --json: exit status (denied)" 3 "$?"
assert_eq "explain --json: addr verdict reason rule" "127.0.0.4 deny rule $INI:$L_DENY" \
	"$(jget "$j" '" ".join((o["addr"], o["verdict"], o["reason"], o["rule"]))')"
ctl explain --policy nosuch 127.0.0.2 "$P1" >/dev/null 2>"$TMPD/err"
assert_eq "explain of an unknown policy: exit status" 1 "$?"
assert_match "explain of an unknown policy: message" 'no policy named "nosuch"' "$(cat "$TMPD/err")"
ctl explain --policy ctl 127.0.0.2 99999 >/dev/null 2>&1
assert_eq "explain with a bad port: exit status (usage)" 2 "$?"
ctl explain 127.0.0.2 1 >/dev/null 2>&1
assert_eq "explain without --policy/--cgroup: exit status (usage)" 2 "$?"
ctl frobnicate >/dev/null 2>&1
assert_eq "unknown command: exit status (usage)" 2 "$?"

log "explain a hostname: localhost, from /etc/hosts (no DNS traffic)"
LOCAL=$(getent ahosts localhost | awk '{ print $1 }' | sort -u)
[ -n "$LOCAL" ] || die "localhost does not resolve"
for a in $LOCAL; do
	case $a in 127.*|::1) ;; *) die "localhost resolves to $a, not to loopback" ;; esac
done
N_LOCAL=$(wc -w <<<"$LOCAL")
log "localhost is: $(echo $LOCAL)"
out=$(ctl explain --policy lo localhost "$P1")
assert_eq "explain HOST, denied: exit status" 3 "$?"
for a in $LOCAL; do
	assert_match "explain HOST, denied: a line for $a" \
		"^deny addr=$(re_escape "$a") policy=lo rule=$R:$L_LO reason=rule\$" "$out"
done
assert_eq "explain HOST: one verdict line per address" "$N_LOCAL" "$(grep -c '^deny addr=' <<<"$out")"
assert_eq "explain HOST: the rule's text once" 1 "$(grep -c "^  $R:$L_LO: deny = " <<<"$out")"
out=$(ctl explain --cgroup "$CG/guard/lo" localhost "$P2" udp)
assert_eq "explain HOST, allowed: exit status" 0 "$?"
assert_eq "explain HOST, allowed: one line per address" "$N_LOCAL" \
	"$(grep -c "^allow addr=.* policy=lo rule=$R:$L_LODEF reason=default\$" <<<"$out")"
out=$(ctl explain --policy lo-audit localhost "$P1")
assert_eq "explain HOST, would-deny (audit): exit status (allowed)" 0 "$?"
assert_eq "explain HOST, would-deny (audit): every address" "$N_LOCAL" \
	"$(grep -c "^would-deny addr=.* policy=lo-audit " <<<"$out")"
j=$(ctl --json explain --policy lo localhost "$P1")
assert_eq "explain --json HOST: exit status" 3 "$?"
assert_eq "explain --json HOST: one object per address, with name and addr" \
	"$(for a in $LOCAL; do echo "localhost $a deny"; done | sort)" \
	"$(while read -r l; do jget "$l" '" ".join((o["name"], o["addr"], o["verdict"]))'; done <<<"$j" | sort)"
ctl explain --policy lo localhost >/dev/null 2>&1
assert_eq "explain HOST without a port: exit status (usage)" 2 "$?"
ctl explain --policy lo localhost "$P1" sctp >/dev/null 2>&1
assert_eq "explain HOST with a bad protocol: exit status (usage)" 2 "$?"
"$CLI" --socket "$TMPD/no-agent.sock" explain --policy lo localhost "$P1" >/dev/null 2>"$TMPD/err"
assert_eq "explain, no agent: exit status (error)" 1 "$?"
assert_match "explain, no agent: message" "cannot connect to the agent" "$(cat "$TMPD/err")"
ctl explain --policy nosuch localhost "$P1" >/dev/null 2>&1
assert_eq "explain HOST, unknown policy: exit status (error)" 1 "$?"
# A name that does not resolve, the resolver limited to /etc/hosts: no DNS query at all.
printf 'hosts: files\n' >"$TMPD/nsswitch.conf"
if unshare -m true 2>/dev/null; then
	out=$(unshare -m sh -c 'mount --bind "$1" /etc/nsswitch.conf && shift && exec "$@"' sh \
		"$TMPD/nsswitch.conf" "$CLI" --socket "$S" explain --policy lo nosuch.invalid "$P1" 2>&1)
	assert_eq "explain of a name that does not resolve: exit status (error)" 1 "$?"
	assert_match "explain of a name that does not resolve: message" \
		"nosuch[.]invalid does not resolve" "$out"
else
	log "SKIPPED: a name that does not resolve (unshare -m failed: no mount namespace)"
fi

log "what explain said is what the kernel does"
client_expect guard/a ok -- tcp 127.0.0.2 "$P1"
client_expect guard/a EPERM deny ctl "c.ini:$L_DENY" rule -- tcp 127.0.0.4 "$P1"
client_expect guard/a EPERM deny ctl "ctl_hosts.txt:2" blocklist -- tcp 127.0.0.3 "$P1"
client_expect guard/a EPERM deny ctl "c.ini:$L_DEF" default -- tcp 127.0.0.2 "$P2"
client_expect guard EPERM deny - "global_hosts.txt:1" blocklist -- tcp 127.0.0.5 "$P1"
client_expect guard ok -- tcp 127.0.0.2 "$P2"

log "events"
ctl --json events >"$TMPD/ev.json" 2>"$TMPD/ev.json.err" &
EVJ=$!
track_pid "$EVJ"
ctl events >"$TMPD/ev.txt" 2>"$TMPD/ev.txt.err" &
EVT=$!
track_pid "$EVT"
for _ in $(seq 100); do
	[ "$(jget "$(ctl --json status)" 'o["subscribers"]')" = 2 ] && break
	sleep 0.05
done
assert_eq "two subscribers" 2 "$(jget "$(ctl --json status)" 'o["subscribers"]')"
client_expect guard/a EPERM deny ctl "c.ini:$L_DENY" rule -- tcp 127.0.0.4 "$P1"
pid=$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' "$TMPD/info/client.info")
if wait_for_line "$TMPD/ev.json" "\"pid\":$pid," 3; then
	j=$(grep -F "\"pid\":$pid," "$TMPD/ev.json" | head -n 1)
	assert_eq "events --json: the denied connect" \
		"event deny tcp 127.0.0.4:$P1 127.0.0.4 $P1 ctl $INI:$L_DENY rule connect4 /$CGREL/guard/a" \
		"$(jget "$j" '" ".join(str(o[k]) for k in ("type","verdict","proto","dest","addr","port","policy","rule","reason","hook","cgroup"))')"
else
	fail "events --json: no event for pid $pid"
	cat "$TMPD/ev.json" "$TMPD/ev.json.err"
fi
if wait_for_line "$TMPD/ev.txt" " pid=$pid " 3; then
	assert_eq "events: the same line as the agent's stdout" \
		"$(grep -F " pid=$pid " "$AGENT_OUT")" "$(grep -F " pid=$pid " "$TMPD/ev.txt")"
else
	fail "events: no event line for pid $pid"
	cat "$TMPD/ev.txt" "$TMPD/ev.txt.err"
fi

log "a subscriber that does not read loses events, the agent goes on"
"$PY" - "$S" >"$TMPD/slow.out" 2>&1 <<'PYEOF' &
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b'{"cmd":"events"}\n')
time.sleep(4)  # not reading: the agent's backlog for us fills up
s.settimeout(2)
data = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
except socket.timeout:
    pass
objs = [json.loads(l) for l in data.decode().splitlines()]
ev = sum(1 for o in objs if o.get("type") == "event")
dropped = sum(o["count"] for o in objs if o.get("type") == "dropped")
print(ev, dropped)
PYEOF
SLOW=$!
track_pid "$SLOW"
for _ in $(seq 100); do
	[ "$(jget "$(ctl --json status)" 'o["subscribers"]')" = 3 ] && break
	sleep 0.05
done
# 800 processes x 5 denials: the kernel lets 5 a second through per process and rule
in_cg "$CG/guard/a" "$PY" -c '
import os, socket
n = 0
for c in range(800):
    pid = os.fork()
    if pid == 0:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        k = 0
        for p in range(20000 + c * 5, 20005 + c * 5):
            try:
                s.sendto(b"x", ("127.0.0.1", p))
            except PermissionError:
                k += 1
        os._exit(k)
    n += os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
print(n)' >"$TMPD/flood.out" 2>&1
assert_eq "4000 denied sendto() calls" 4000 "$(cat "$TMPD/flood.out")"
t0=$(date +%s%N)
ctl status >/dev/null
assert_eq "status answers while a subscriber is stalled" 0 "$?"
t1=$(date +%s%N)
check_ms=$(((t1 - t0) / 1000000))
[ "$check_ms" -lt 2000 ] && ok "status took ${check_ms} ms" || fail "status took ${check_ms} ms"
wait "$SLOW"
read -r got lost <"$TMPD/slow.out"
if [ -n "${lost:-}" ] && [ "$lost" -gt 0 ] && [ $((got + lost)) -ge 4000 ]; then
	ok "slow subscriber: $got events, told of $lost dropped"
else
	fail "slow subscriber: expected events + dropped >= 4000 with some dropped, got: $(cat "$TMPD/slow.out")"
fi

log "malformed requests"
bad=$("$PY" - "$S" <<'PYEOF'
import socket, sys
def ask(data):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    s.sendall(data)
    s.settimeout(5)
    out = b""
    while not out.endswith(b"\n"):
        b = s.recv(4096)
        if not b:
            break
        out += b
    s.close()
    return out.decode().strip()
print(ask(b"not json\n"))
print(ask(b'{"cmd":"launch"}\n'))
print(ask(b'{"cmd":"explain","policy":"ctl","addr":"127.0.0.2"}\n'))
print(ask(b"x" * 5000))
PYEOF
)
assert_match "not JSON: an error" '^\{"ok":false,"error":"not a JSON object' "$bad"
assert_match "unknown cmd: an error" '^\{"ok":false,"error":"unknown cmd \\"launch\\""\}$' "$bad"
assert_match "explain without a port: an error" '"error":"explain: \\"port\\" must be' "$bad"
assert_match "an oversized request: an error" '"error":"request too long' "$bad"

log "reload"
cp "$INI" "$TMPD/c.ini.good"
write_file "$INI" <<EOF
[policy ctl]
cgroup = $CGREL/guard/a
default = deny
allow = 127.0.0.2:$P1/tcp
allow = 127.0.0.4
deny = 300.1.1.1
EOF
out=$(ctl reload 2>&1)
assert_eq "reload of a broken file: exit status" 1 "$?"
assert_match "reload of a broken file: FILE:LINE" "^lsnitch: $R:6: .+" "$out"
out=$(ctl --json reload)
assert_eq "reload --json of a broken file: exit status" 1 "$?"
assert_match "reload --json of a broken file: error" "^\{\"ok\":false,\"error\":\"$R:6: " "$out"
explain_expect "after a failed reload: the old rule" 3 "^deny policy=ctl rule=$R:$L_DENY reason=rule\$" \
	--policy ctl 127.0.0.4 "$P1"
client_expect guard/a EPERM deny ctl "c.ini:$L_DENY" rule -- tcp 127.0.0.4 "$P1"
assert_match "status: the last reload failed" "^last reload .*: FAILED: $R:6: " "$(ctl status)"

write_file "$INI" <<EOF
[policy ctl]
cgroup = $CGREL/guard/a
default = deny
allow = 127.0.0.2:$P1/tcp
allow = 127.0.0.4

[policy elsewhere-too]
cgroup = $CGREL/elsewhere/y
EOF
out=$(ctl reload)
assert_eq "reload of a good file: exit status" 0 "$?"
assert_eq "reload of a good file: output" reloaded "$out"
explain_expect "after a reload: the new rule" 0 "^allow policy=ctl rule=$R:5 reason=rule\$" \
	--policy ctl 127.0.0.4 "$P1"
client_expect guard/a ok -- tcp 127.0.0.4 "$P1"
assert_match "status: the last reload succeeded" "^last reload .*: ok\$" "$(ctl status)"
assert_match "a reload warns of a policy outside every --cgroup, naming file:line" \
	"^lsnitch-agent: warning: $R:8: policy elsewhere-too: cgroup $(re_escape \
	"$CGREL/elsewhere/y") lies outside every --cgroup: not guarded\$" "$(cat "$AGENT_ERR")"

log "only root"
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
cp "$CLI" "$TMPD/lsnitch" && chmod 755 "$TMPD/lsnitch"
nobody_status() { "${NOBODY[@]}" "$TMPD/lsnitch" --socket "$S" status 2>&1; }
out=$(nobody_status)
assert_eq "nobody, 0700 directory: exit status" 1 "$?"
assert_match "nobody, 0700 directory: refused" "Permission denied" "$out"
chmod 755 "$TMPD/run"
out=$(nobody_status)
assert_eq "nobody, 0600 socket: exit status" 1 "$?"
assert_match "nobody, 0600 socket: refused" "Permission denied" "$out"
chmod 666 "$S"
out=$(nobody_status)
assert_eq "nobody, modes opened: exit status" 1 "$?"
# the agent closes at once (before or after the request arrives: EOF, EPIPE or a reset)
assert_match "nobody, modes opened: the agent hangs up" \
	"closed the connection|Connection reset by peer|Broken pipe" "$out"
assert_no_match "nobody, modes opened: no answer" "lsnitch-agent|policies" "$out"
chmod 600 "$S"
chmod 700 "$TMPD/run"
assert_eq "root still gets an answer" 0 "$(ctl status >/dev/null; echo $?)"

log "stop: subscribers see the end, the socket goes away"
stop_agent || fail "the agent exited with status $AGENT_RC on SIGTERM"
for p in "$EVJ" "$EVT"; do
	for _ in $(seq 100); do proc_alive "$p" || break; sleep 0.05; done
	if proc_alive "$p"; then fail "lsnitch events $p still running after the agent stopped"; else
		ok "lsnitch events $p ended with the agent"; fi
done
[ -e "$S" ] && fail "the socket is still there after the agent stopped" || ok "socket removed on exit"

log "a stale socket file is replaced"
"$PY" -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$S"
[ -S "$S" ] || die "could not make a stale socket"
start_agent --config "$INI" --control "$S"
assert_no_match "no control socket warning" "control socket" "$(cat "$AGENT_ERR")"
assert_eq "status over the new socket" 0 "$(ctl status >/dev/null; echo $?)"
stop_agent || fail "the agent exited with status $AGENT_RC on SIGTERM"
finish
