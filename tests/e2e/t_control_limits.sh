#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The control socket's limits, with the agent running (lsnitch(8), PROTOCOL).
# Replies are UTF-8 whatever the files hold: a config file whose name has a
# byte that is not UTF-8 and a rule line with one and an ESC in its comment
# come back in "status", "explain" and a failed "reload" as the text \xNN,
# in JSON that a strict UTF-8 decoder reads, and the CLI prints no raw
# control byte; so does an event of a process whose name has them. Requests
# with NUL (raw or \u0000), bytes that are not UTF-8 or characters after the
# object get a clear error. One process opening 64 idle connections gets 8
# (told why for the rest), more processes fill the slots up to the last 4,
# and "lsnitch status" still answers within 1 s; once processes holding none
# take those too, "lsnitch status" prints the agent's reason. Idle
# connections are closed after 10 s. A client that pipelines 300000 status requests and never
# reads an answer leaves the agent's RSS bounded (+32 MB) while others are
# served, and is closed once nothing moves for 10 s.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a

lsn_ctl_setup
read -r P1 <<<"$(pick_ports 1)" || die "no free ports"
# utf8_json FILE: every line is UTF-8 (strict) and a JSON object; prints the count or an error
utf8_json() {
	"$PY" -c '
import json, sys
n = 0
for raw in open(sys.argv[1], "rb").read().splitlines():
    try:
        json.loads(raw.decode("utf-8", "strict")); n += 1
    except Exception as e:
        print("bad line %r: %s" % (raw[:120], e)); sys.exit(1)
print(n)' "$1"
}
# no_raw_control FILE: no control byte but newline, and UTF-8 throughout
no_raw_control() {
	"$PY" -c '
import sys
b = open(sys.argv[1], "rb").read()
bad = [c for c in b if (c < 0x20 and c != 0x0a) or c == 0x7f]
try:
    b.decode("utf-8", "strict")
except UnicodeDecodeError as e:
    print("not UTF-8: %s" % e); sys.exit(1)
if bad:
    print("raw control bytes: %r" % sorted(set(bad))); sys.exit(1)
print("clean")' "$1"
}
agent_rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$AGENT_PID/status"; }
# status_ms: run "lsnitch status", print how long it took in ms (its exit status is ours)
status_ms() {
	local t0 t1 rc
	t0=$(date +%s%N)
	ctl status >/dev/null 2>"$TMPD/status.err"
	rc=$?
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
	return $rc
}

BAD=$'\xff'
ESC=$'\x1b'
INI=$TMPD/conf$BAD.ini
write_file "$INI" <<EOF
[policy lim]
cgroup = $CGREL/guard/a
deny = 127.0.0.4 # not UTF-8: $BAD, an escape: $ESC[31m
EOF
start_agent --config "$INI" --control "$S"

log "replies are UTF-8, whatever bytes the files hold"
ctl --json status >"$TMPD/status.json"
assert_eq "status --json: exit status" 0 "$?"
assert_eq "status --json: one strict UTF-8 JSON line" 1 "$(utf8_json "$TMPD/status.json")"
assert_eq "status --json: the file name's byte as the text \\xff" "$TMPD/conf\\xff.ini:1" \
	"$(jget "$(cat "$TMPD/status.json")" 'o["policies"][0]["file"]')"
ctl status >"$TMPD/status.txt"
assert_eq "status: nothing raw on the terminal" clean "$(no_raw_control "$TMPD/status.txt")"
assert_match "status: the file name as the text \\xff" "conf[\\]xff[.]ini:1\$" \
	"$(cat "$TMPD/status.txt")"

ctl --json explain --policy lim 127.0.0.4 "$P1" >"$TMPD/explain.json"
assert_eq "explain --json: exit status (denied)" 3 "$?"
assert_eq "explain --json: strict UTF-8 JSON" 1 "$(utf8_json "$TMPD/explain.json")"
assert_eq "explain --json: the rule line, \\xff as text, ESC as a character" \
	"deny = 127.0.0.4 # not UTF-8: \\xff, an escape: ${ESC}[31m" \
	"$(jget "$(cat "$TMPD/explain.json")" 'o["line"]')"
ctl explain --policy lim 127.0.0.4 "$P1" >"$TMPD/explain.txt"
assert_eq "explain: nothing raw on the terminal" clean "$(no_raw_control "$TMPD/explain.txt")"
assert_match "explain: the line's ESC and byte as \\x1b and \\xff" \
	"an escape: [\\]x1b\\[31m\$" "$(cat "$TMPD/explain.txt")"

log "an event: a process named with bytes that are not UTF-8 and an ESC, a rule from that file"
"$CLI" --socket "$S" --json events >"$TMPD/ev.json" 2>&1 &
EVJ=$!
track_pid "$EVJ"
"$CLI" --socket "$S" events >"$TMPD/ev.txt" 2>&1 &
EVT=$!
track_pid "$EVT"
for _ in $(seq 100); do
	[ "$(jget "$(ctl --json status)" 'o["subscribers"]')" = 2 ] && break
	sleep 0.05
done
in_cg "$CG/guard/a" "$PY" -c '
import ctypes, socket, sys
ctypes.CDLL(None).prctl(15, b"ev\xff\x1b[2Jx", 0, 0, 0)  # PR_SET_NAME
try:
    socket.create_connection(("127.0.0.4", int(sys.argv[1])), timeout=2)
    print("connected")
except PermissionError:
    print("EPERM")' "$P1" >"$TMPD/evclient.out" 2>&1
assert_eq "the process's connect is denied" EPERM "$(cat "$TMPD/evclient.out")"
if wait_for_line "$TMPD/ev.json" '"comm":"ev' 3 && wait_for_line "$TMPD/ev.txt" ' comm=ev' 3; then
	grep -a '"comm":"ev' "$TMPD/ev.json" >"$TMPD/ev1.json"
	assert_eq "events --json: strict UTF-8 JSON" 1 "$(utf8_json "$TMPD/ev1.json")"
	assert_eq "events --json: the rule's file name, its byte as text" \
		"$TMPD/conf\\xff.ini:3" "$(jget "$(cat "$TMPD/ev1.json")" 'o["rule"]')"
	assert_eq "events: nothing raw on the terminal" clean "$(no_raw_control "$TMPD/ev.txt")"
	assert_eq "the agent's own event line: nothing raw either" clean \
		"$(no_raw_control "$AGENT_OUT")"
	assert_match "the agent's event line: the file name's byte as text" \
		"rule=$(re_escape "$TMPD")/conf[\\]xff[.]ini:3 " "$(grep -a 'comm=ev' "$AGENT_OUT")"
else
	fail "no event for the process (json: $(head -c 300 "$TMPD/ev.json"), text: $(head -c 300 "$TMPD/ev.txt"))"
fi
kill_pid "$EVJ"
kill_pid "$EVT"

log "a failed reload's error, from a file with such bytes"
cp "$INI" "$TMPD/good.ini"
printf '[policy lim]\ncgroup = %s\ndeny = 127.0.0.%s%s[2J\n' "$CGREL/guard/a" "$BAD" "$ESC" >"$INI"
ctl --json reload >"$TMPD/reload.json"
assert_eq "reload --json of a broken file: exit status" 1 "$?"
assert_eq "reload --json: strict UTF-8 JSON" 1 "$(utf8_json "$TMPD/reload.json")"
assert_match "reload --json: the file name as the text \\xff" \
	"conf[\\]xff[.]ini:3" "$(jget "$(cat "$TMPD/reload.json")" 'o["error"]')"
ctl reload 2>"$TMPD/reload.txt"
assert_eq "reload of a broken file: exit status" 1 "$?"
assert_eq "reload: nothing raw on the terminal" clean "$(no_raw_control "$TMPD/reload.txt")"
cp "$TMPD/good.ini" "$INI"
assert_eq "reload of the good file" 0 "$(ctl reload >/dev/null; echo $?)"

log "requests: NUL, bytes that are not UTF-8, characters after the object"
"$PY" - "$S" >"$TMPD/bad.out" <<'PYEOF'
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
    return out.decode("utf-8", "strict").strip()
print(ask(b'{"cmd":"explain","policy":"lim\\u0000x","addr":"127.0.0.4","port":1}\n'))
print(ask(b'{"cmd":"status\x00"}\n'))
print(ask(b'{"cmd":"explain","policy":"lim\xff","addr":"127.0.0.4","port":1}\n'))
print(ask(b'{"cmd":"status"} junk\n'))
print(ask(b'{"cmd":"status"}{"cmd":"status"}\n'))
PYEOF
mapfile -t bad <"$TMPD/bad.out"
assert_eq "\\u0000 in a string" '{"ok":false,"error":"a string contains NUL (\\u0000): not allowed"}' \
	"${bad[0]:-}"
assert_eq "a raw NUL byte" '{"ok":false,"error":"a NUL byte in the request: not allowed"}' "${bad[1]:-}"
assert_eq "not UTF-8" '{"ok":false,"error":"the request is not valid UTF-8"}' "${bad[2]:-}"
assert_eq "trailing characters" \
	'{"ok":false,"error":"trailing characters after the JSON object"}' "${bad[3]:-}"
assert_eq "two objects on a line" \
	'{"ok":false,"error":"trailing characters after the JSON object"}' "${bad[4]:-}"

log "connection slots: 64 idle connections from one process, then 7 more processes"
# hold.py N OUT: open N connections, say which the agent kept, wait for it to close them
cat >"$TMPD/hold.py" <<'PYEOF'
import json, select, socket, sys, time
path, n, out = sys.argv[1], int(sys.argv[2]), open(sys.argv[3], "w")
socks = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    socks.append(s)
t0 = time.monotonic()
time.sleep(0.5)
held, why = [], set()
for s in socks:
    r, _, _ = select.select([s], [], [], 0)
    if not r:
        held.append(s)
        continue
    data = s.recv(4096)
    why.add(json.loads(data.decode()).get("error", "?") if data else "EOF")
    s.close()
print("held %d refused %d" % (len(held), n - len(held)), file=out, flush=True)
for w in sorted(why):
    print("refused: %s" % w, file=out, flush=True)
open_, got = list(held), {}
last = None
while open_ and time.monotonic() - t0 < 25:
    r, _, _ = select.select(open_, [], [], 1)
    for s in r:
        data = s.recv(4096)
        got[s] = got.get(s, b"") + data
        if data:
            continue
        for line in got[s].splitlines():
            print("goodbye: %s" % json.loads(line.decode())["error"], file=out, flush=True)
        open_.remove(s)
        last = time.monotonic() - t0
print("closed %d after %.1f s" % (len(held) - len(open_), last or -1), file=out, flush=True)
time.sleep(30) if open_ else None
PYEOF
"$PY" "$TMPD/hold.py" "$S" 64 "$TMPD/hold0.out" &
HOLD0=$!
track_pid "$HOLD0"
wait_for_line "$TMPD/hold0.out" '^held' 5 || die "the first holder did not report"
assert_eq "one process: 8 of 64 connections kept" "held 8 refused 56" "$(head -n 1 "$TMPD/hold0.out")"
assert_match "one process: the others are told why" \
	"^refused: too many connections from this process \(limit 8\)\$" "$(cat "$TMPD/hold0.out")"
ms=$(status_ms)
assert_eq "status while one process holds 8: exit status" 0 "$?"
[ "$ms" -lt 1000 ] && ok "status answered in $ms ms" || fail "status took $ms ms"
for i in 1 2 3 4 5 6 7; do
	"$PY" "$TMPD/hold.py" "$S" 8 "$TMPD/hold$i.out" &
	track_pid "$!"
	wait_for_line "$TMPD/hold$i.out" '^held' 5 || die "holder $i did not report"
done
assert_eq "processes 2-7: 8 each" "$(printf 'held 8 refused 0\n%.0s' 1 2 3 4 5 6)" \
	"$(for i in 1 2 3 4 5 6; do head -n 1 "$TMPD/hold$i.out"; done)"
assert_eq "process 8 gets 4: the last 4 slots are kept" "held 4 refused 4" \
	"$(head -n 1 "$TMPD/hold7.out")"
assert_match "process 8 is told why" \
	"^refused: too many connections: the last 4 are kept for other processes\$" \
	"$(cat "$TMPD/hold7.out")"
ms=$(status_ms)
assert_eq "status with 60 slots held: exit status" 0 "$?"
[ "$ms" -lt 1000 ] && ok "status answered in $ms ms" || fail "status took $ms ms ($(cat "$TMPD/status.err"))"
assert_eq "status counts the clients (60 held and itself)" 61 \
	"$(jget "$(ctl --json status)" 'o["clients"]')"
for i in 8 9 10 11; do
	"$PY" "$TMPD/hold.py" "$S" 1 "$TMPD/hold$i.out" &
	track_pid "$!"
	wait_for_line "$TMPD/hold$i.out" '^held' 5 || die "holder $i did not report"
done
assert_eq "4 more processes: a reserved slot each" "$(printf 'held 1 refused 0\n%.0s' 1 2 3 4)" \
	"$(for i in 8 9 10 11; do head -n 1 "$TMPD/hold$i.out"; done)"
out=$(ctl status 2>&1)
assert_eq "status with all 64 slots held: exit status" 1 "$?"
assert_eq "status with all 64 slots held: the agent's reason" \
	"lsnitch: too many connections (limit 64)" "$out"

log "idle connections are closed after 10 s"
for i in 0 1 2 3 4 5 6 7 8 9 10 11; do
	wait_for_line "$TMPD/hold$i.out" '^closed' 20 || fail "holder $i: not closed within 20 s"
done
out=$(cat "$TMPD/hold0.out")
assert_match "the agent says why it closes" "^goodbye: closed: the connection was idle\$" "$out"
after=$(sed -n 's/^closed 8 after \([0-9.]*\) s$/\1/p' "$TMPD/hold0.out")
if [ -n "$after" ] && "$PY" -c "import sys; sys.exit(not 9.5 <= $after <= 14)"; then
	ok "all 8 idle connections closed after $after s"
else
	fail "idle connections: $(tail -n 1 "$TMPD/hold0.out")"
fi
assert_eq "status: the slots are free again" 1 "$(jget "$(ctl --json status)" 'o["clients"]')"

log "300000 pipelined status requests, no answer read"
rss0=$(agent_rss_kb)
"$PY" - "$S" >"$TMPD/pipe.out" 2>&1 <<'PYEOF' &
import select, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.setblocking(False)
data = b'{"cmd":"status"}\n' * 300000
off, t0 = 0, time.monotonic()
last = t0
while off < len(data) and time.monotonic() - t0 < 4:
    try:
        off += s.send(data[off:off + 65536])
        last = time.monotonic()
    except BlockingIOError:
        time.sleep(0.01)
print("sent %d of %d bytes" % (off, len(data)), flush=True)
# never read; wait for the agent to hang up (a hangup, or a send that fails)
while time.monotonic() - t0 < 30:
    p = select.poll()
    p.register(s, select.POLLHUP | select.POLLERR)
    if p.poll(200):
        break
print("closed %.1f s after the last byte moved" % (time.monotonic() - last), flush=True)
PYEOF
PIPE=$!
track_pid "$PIPE"
wait_for_line "$TMPD/pipe.out" '^sent' 10 || die "the pipelining client did not report"
rss1=$(agent_rss_kb)
log "agent RSS: $rss0 kB before, $rss1 kB with the client stuck ($(head -n 1 "$TMPD/pipe.out"))"
if [ $((rss1 - rss0)) -lt $((32 * 1024)) ]; then
	ok "agent RSS bounded: +$((rss1 - rss0)) kB"
else
	fail "agent RSS grew by $((rss1 - rss0)) kB"
fi
assert_no_match "the agent did not read them all" "sent 5100000 of" "$(cat "$TMPD/pipe.out")"
ms=$(status_ms)
assert_eq "status meanwhile: exit status" 0 "$?"
[ "$ms" -lt 1000 ] && ok "status answered in $ms ms" || fail "status took $ms ms"
assert_eq "explain meanwhile: exit status (denied)" 3 \
	"$(ctl explain --policy lim 127.0.0.4 "$P1" >/dev/null; echo $?)"
wait_for_line "$TMPD/pipe.out" '^closed' 25 || fail "the pipelining client was not closed"
after=$(sed -n 's/^closed \([0-9.]*\) s after.*/\1/p' "$TMPD/pipe.out")
if [ -n "$after" ] && "$PY" -c "import sys; sys.exit(not 9 <= $after <= 14)"; then
	ok "the stuck client was closed $after s after the last byte moved"
else
	fail "the stuck client: $(tail -n 1 "$TMPD/pipe.out")"
fi
rss2=$(agent_rss_kb)
log "agent RSS after it was closed: $rss2 kB"
assert_eq "status after: one client" 1 "$(jget "$(ctl --json status)" 'o["clients"]')"

stop_agent || fail "the agent exited with status $AGENT_RC on SIGTERM"
finish
