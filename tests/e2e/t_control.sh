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
make_cg guard/a

CLI=$LSN_ROOT/build/lsnitch
[ -x "$CLI" ] || die "$CLI is missing: run make"
read -r P1 P2 <<<"$(pick_ports 2)" || die "no free ports"
start_servers --tcp "127.0.0.2:$P1" --tcp "127.0.0.2:$P2" --tcp "127.0.0.3:$P1" \
	--tcp "127.0.0.4:$P1" --tcp "127.0.0.5:$P1"

S=$TMPD/run/ctl.sock
ctl() { "$CLI" --socket "$S" "$@"; }
# jq-less JSON field access: jget JSON EXPR (a python expression on "o")
jget() { "$PY" -c 'import json,sys; o=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }

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
EOF
L_ALLOW=$(line_of "$INI" "allow = 127.0.0.2")
L_DENY=$(line_of "$INI" "deny = 127.0.0.4")
L_DEF=$(line_of "$INI" "default = deny")

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

log "explain"
# explain_expect DESC WANT_LINE_ERE ARGS...
explain_expect() {
	local desc=$1 want=$2 out
	shift 2
	out=$(ctl explain "$@")
	assert_eq "explain $*: exit status" 0 "$?"
	assert_match "explain $desc" "$want" "$out"
}
R=$(re_escape "$INI")
explain_expect "rule (allow)" "^allow policy=ctl rule=$R:$L_ALLOW reason=rule\$" \
	--policy ctl 127.0.0.2 "$P1" tcp
explain_expect "rule: the line's text" "^  $R:$L_ALLOW: allow = 127[.]0[.]0[.]2:$P1/tcp\$" \
	--policy ctl 127.0.0.2 "$P1"
explain_expect "rule (deny)" "^deny policy=ctl rule=$R:$L_DENY reason=rule\$" \
	--cgroup "$CGREL/guard/a" 127.0.0.4 "$P1"
explain_expect "policy blocklist" \
	"^deny policy=ctl rule=$(re_escape "$HOSTS"):2 reason=blocklist\$" \
	--cgroup "$CG/guard/a" 127.0.0.3 "$P1"
explain_expect "blocklist line text" "^  $(re_escape "$HOSTS"):2: 127[.]0[.]0[.]3\$" \
	--cgroup "$CG/guard/a" 127.0.0.3 "$P1"
explain_expect "global blocklist in the implicit policy" \
	"^deny policy=- rule=$(re_escape "$GLOBAL"):1 reason=blocklist\$" \
	--cgroup "/$CGREL/guard" 127.0.0.5 "$P1"
explain_expect "default" "^deny policy=ctl rule=$R:$L_DEF reason=default\$" \
	--cgroup "$CGREL/guard/a/deeper/still" 127.0.0.2 "$P2" udp
explain_expect "default: the line's text" "^  $R:$L_DEF: default = deny\$" \
	--policy ctl 127.0.0.2 "$P2"
explain_expect "implicit policy" "^allow policy=- rule=- reason=none\$" \
	--cgroup "$CGREL/guard" 127.0.0.2 "$P2"
explain_expect "a cgroup nothing is attached to" "^allow rule=- reason=not-guarded\$" \
	--cgroup "$CGREL/outside" 127.0.0.4 "$P1"
j=$(ctl --json explain --policy ctl ::ffff:127.0.0.4 "$P1")
assert_eq "explain --json: verdict reason rule" "deny rule $INI:$L_DENY" \
	"$(jget "$j" 'o["verdict"]+" "+o["reason"]+" "+o["rule"]')"
ctl explain --policy nosuch 127.0.0.2 "$P1" >/dev/null 2>"$TMPD/err"
assert_eq "explain of an unknown policy: exit status" 1 "$?"
assert_match "explain of an unknown policy: message" 'no policy named "nosuch"' "$(cat "$TMPD/err")"
ctl explain --policy ctl 127.0.0.2 99999 >/dev/null 2>&1
assert_eq "explain with a bad port: exit status (usage)" 2 "$?"
ctl explain 127.0.0.2 1 >/dev/null 2>&1
assert_eq "explain without --policy/--cgroup: exit status (usage)" 2 "$?"
ctl frobnicate >/dev/null 2>&1
assert_eq "unknown command: exit status (usage)" 2 "$?"

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
in_cg "$CG/guard/a" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
n = 0
for p in range(20000, 24000):
    try:
        s.sendto(b"x", ("127.0.0.1", p))
    except PermissionError:
        n += 1
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
explain_expect "after a failed reload: the old rule" "^deny policy=ctl rule=$R:$L_DENY reason=rule\$" \
	--policy ctl 127.0.0.4 "$P1"
client_expect guard/a EPERM deny ctl "c.ini:$L_DENY" rule -- tcp 127.0.0.4 "$P1"
assert_match "status: the last reload failed" "^last reload .*: FAILED: $R:6: " "$(ctl status)"

write_file "$INI" <<EOF
[policy ctl]
cgroup = $CGREL/guard/a
default = deny
allow = 127.0.0.2:$P1/tcp
allow = 127.0.0.4
EOF
out=$(ctl reload)
assert_eq "reload of a good file: exit status" 0 "$?"
assert_eq "reload of a good file: output" reloaded "$out"
explain_expect "after a reload: the new rule" "^allow policy=ctl rule=$R:5 reason=rule\$" \
	--policy ctl 127.0.0.4 "$P1"
client_expect guard/a ok -- tcp 127.0.0.4 "$P1"
assert_match "status: the last reload succeeded" "^last reload .*: ok\$" "$(ctl status)"

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
