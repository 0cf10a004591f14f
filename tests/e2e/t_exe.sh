#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Exe policies, decided in the kernel by the executable's identity (device,
# inode of current->mm->exe_file). In one guarded cgroup under policy "box"
# (default allow): a copy of curl at another path takes "box-copy" (default
# deny) while the original curl takes "box"; python, whatever comm (prctl) or
# argv[0] it gives itself, takes "box-py" (deny); a bash that connects
# (allowed) and then execs python is denied in the same process. Ground truth:
# what the HTTP server logged and what a counting listener accepted. A
# binary replaced on disk (new inode: cp + mv) keeps its policy once the agent
# has seen the rename (the window is measured); an exe= path that appears
# later comes into force; status shows it unresolved until then; explain
# --exe answers as the kernel does; events carry exe= and container=. The
# egress backstop decides by the executable too (guard/b: python's exe
# policy denies 127.0.0.5, the scope allows it): a ping socket's packets (the
# sending task) and a source-routed UDP packet (the socket's remembered
# executable) through 127.0.0.5 are dropped, the same to other hops pass.
# A long-lived socket keeps its remembered executable across `lsnitch reload`
# (the exe_sk map is shared by every generation).
# A verdict the verdict cache answers notes the socket's executable as one decided afresh.
. "$(dirname "$0")/lib.sh"
lsn_setup
# Ping sockets for every group while the test runs (the setting is per netns).
PING_RANGE=$(sysctl -n net.ipv4.ping_group_range | tr '\t' ' ')
exe_cleanup() {
	local rc=$?
	sysctl -qw net.ipv4.ping_group_range="$PING_RANGE"
	[ -z "${SENDER:-}" ] || kill "$SENDER" 2>/dev/null
	(exit "$rc")
	lsn_cleanup
}
trap exe_cleanup EXIT
sysctl -qw net.ipv4.ping_group_range="0 2147483647" || die "cannot set ping_group_range"
require_bpftool
command -v curl >/dev/null || skip "curl is missing"
CTR=4f3a9c2d1b7e6a5f4f3a9c2d1b7e6a5f4f3a9c2d1b7e6a5f4f3a9c2d1b7e6a5f
make_cg guard/a "guard/a/docker-$CTR.scope" guard/b
lsn_ctl_setup

read -r P1 P2 <<<"$(pick_ports 2)" || die "no free ports"
start_http_server 127.0.0.3 "$P1"
HTTP_LOG=$TMPD/http.$SERVER_RUNS.out
start_counting_listener 127.0.0.4 "$P2"

BIN=$TMPD/bin
mkdir -p "$BIN" && cp /usr/bin/curl "$BIN/curl-copy" || die "cannot copy curl"
INI=$TMPD/exe.ini
write_file "$INI" <<EOF
[policy box]
cgroup = $CGREL/guard/a
default = allow

[policy box-copy]
cgroup = $CGREL/guard/a
exe = $BIN/curl-copy
default = deny

[policy box-py]
cgroup = $CGREL/guard/a
exe = $PY
default = deny

[policy box-late]
cgroup = $CGREL/guard/a
exe = $BIN/late
default = deny

[policy boxb]
cgroup = $CGREL/guard/b

[policy boxb-py]
cgroup = $CGREL/guard/b
exe = $PY
deny = 127.0.0.5
EOF
L_COPY=exe.ini:$(line_of "$INI" "exe = $BIN/curl-copy")
L_COPY_DEF=exe.ini:$((${L_COPY#exe.ini:} + 1))
L_PY_DEF=exe.ini:$(($(line_of "$INI" "exe = $PY") + 1))
start_agent --config "$INI" --control "$S"
CGA="/$CGREL/guard/a"

# get URL_PATH BINARY [CG]: curl (or its copy) from guard/a; prints the exit status.
get() {
	in_cg "$(cg_dir "${3:-guard/a}")" "$2" -sS --noproxy '*' --max-time 3 -o /dev/null \
		"http://127.0.0.3:$P1/$1" 2>>"$TMPD/curl.err"
	printf '%s' "$?"
}
served() { count_lines "$HTTP_LOG" "\"GET /$1 HTTP"; }

# 1. Two executables, one cgroup, one destination, two verdicts.
assert_eq "original curl in guard/a" 0 "$(get orig-1 /usr/bin/curl)"
assert_eq "the server got the original's request" 1 "$(served orig-1)"
ev_mark
assert_eq "copied curl in guard/a is refused" 7 "$(get copy-1 "$BIN/curl-copy")"
assert_eq "the server got nothing from the copy" 0 "$(served copy-1)"
expect_event "$(event_re deny tcp "127.0.0.3:$P1" "${CGA#/}" box-copy "$L_COPY_DEF" default \
	connect4 "pid=[0-9]+ tid=[0-9]+ comm=curl-copy uid=0 gid=0 exe=$(re_escape "$BIN/curl-copy")")"
assert_eq "copied curl outside: allowed" 0 "$(get copy-out "$BIN/curl-copy" outside)"
assert_eq "the server got the copy's request from outside" 1 "$(served copy-out)"

# 2. comm and argv[0] are names a process picks: the executable decides.
ev_mark
out=$(in_cg "$CG/guard/a" "$PY" - 127.0.0.4 "$P2" <<'PYEOF'
import ctypes, socket, sys
ctypes.CDLL(None).prctl(15, b"curl", 0, 0, 0)  # PR_SET_NAME
s = socket.socket()
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("ok")
except PermissionError:
    print("EPERM")
PYEOF
)
assert_eq "python renamed to comm=curl is still python" EPERM "$out"
expect_event "$(event_re deny tcp "127.0.0.4:$P2" "${CGA#/}" box-py "$L_PY_DEF" default connect4 \
	"pid=[0-9]+ tid=[0-9]+ comm=curl uid=0 gid=0 exe=$(re_escape "$PY")")"
out=$(in_cg "$CG/guard/a" bash -c 'exec -a curl "$1" "$2" tcp 127.0.0.4 "$3"' _ "$PY" "$CLIENT" "$P2")
assert_eq "python with argv[0]=curl is still python" EPERM "$out"
expect_event "$(event_re deny tcp "127.0.0.4:$P2" "${CGA#/}" box-py "$L_PY_DEF" default connect4 \
	"pid=[0-9]+ tid=[0-9]+ comm=[^ ]+ uid=0 gid=0 exe=$(re_escape "$PY")")"
assert_eq "the listener accepted nothing from python" 0 "$(count_lines "$ACCEPTED" .)"

# 3. An exec switches policy: bash (the scope's: allowed) connects, then becomes python.
out=$(in_cg "$CG/guard/a" bash -c 'exec 3<>"/dev/tcp/127.0.0.4/$1" && echo bash-ok
	exec "$2" "$3" tcp 127.0.0.4 "$1"' _ "$P2" "$PY" "$CLIENT" | tr '\n' ' ')
assert_eq "bash connects, the python it execs into does not" "bash-ok EPERM " "$out"
expect_event "$(event_re deny tcp "127.0.0.4:$P2" "${CGA#/}" box-py "$L_PY_DEF" default connect4 \
	"pid=[0-9]+ tid=[0-9]+ comm=[^ ]+ uid=0 gid=0 exe=$(re_escape "$PY")")"
wait_for_count "$ACCEPTED" . 0 3
assert_eq "the listener accepted bash's connection only" 1 "$(count_lines "$ACCEPTED" .)"
out=$(in_cg "$CG/outside" "$PY" "$CLIENT" tcp 127.0.0.4 "$P2")
assert_eq "python outside: allowed" ok "$out"

# 4. explain --exe: the same choice on the host side.
out=$(ctl explain --cgroup "$CGA" --exe "$BIN/curl-copy" 127.0.0.3 "$P1")
rc=$?
assert_eq "explain --exe copy: exit 3 (denied)" 3 "$rc"
assert_match "explain --exe copy names box-copy" "^deny policy=box-copy " "$out"
out=$(ctl explain --cgroup "$CGA" --exe /usr/bin/curl 127.0.0.3 "$P1")
assert_match "explain --exe curl: the scope's policy" "^allow policy=box " "$out"

# 5. Containers: the cgroup's container id in the event.
ev_mark
assert_eq "copy in a container cgroup below guard/a" 7 \
	"$(get ctr-1 "$BIN/curl-copy" "guard/a/docker-$CTR.scope")"
expect_event "^deny tcp $(re_escape "127.0.0.3:$P1") .* exe=$(re_escape "$BIN/curl-copy") cgroup=$(re_escape "$CGA/docker-$CTR.scope") container=$CTR policy=box-copy .*hook=connect4$"

# 6. An exe= path that does not exist yet: unresolved in status, in force when it appears.
js=$(ctl --json status)
assert_match "status --json: late is unresolved" "\"path\": *\"$(re_escape "$BIN/late")\"[^}]*\"resolved\": *false" "$js"
assert_match "status: UNRESOLVED shown" "$(re_escape "$BIN/late"): policy box-late in box \(UNRESOLVED" "$(ctl status)"
cp /usr/bin/curl "$BIN/late"
t=40
until ctl --json status | grep -Eq "\"path\": *\"$(re_escape "$BIN/late")\"[^}]*\"resolved\": *true"; do
	t=$((t - 1))
	[ "$t" -gt 0 ] || break
	sleep 0.05
done
ev_mark
assert_eq "late appeared: its policy denies" 7 "$(get late-1 "$BIN/late")"
assert_eq "the server got nothing from late" 0 "$(served late-1)"
expect_event "deny tcp $(re_escape "127.0.0.3:$P1") .* policy=box-late "

# 7. A replaced binary (new inode, as a package upgrade makes it) keeps its policy.
MAP=$(agent_map_id exe_policy) || die "no exe_policy map"
old_ino=$(stat -c %i "$BIN/curl-copy")
cp /usr/bin/curl "$BIN/.curl-copy.new"
new_ino=$(stat -c %i "$BIN/.curl-copy.new")
[ "$old_ino" != "$new_ino" ] || die "cp made no new inode"
t0=$(date +%s%N)
mv -f "$BIN/.curl-copy.new" "$BIN/curl-copy"
n=0
until bpftool map dump id "$MAP" 2>/dev/null | grep -Eq "\"ino\": *$new_ino\b"; do
	n=$((n + 1))
	[ "$n" -lt 2000 ] || break
done
t1=$(date +%s%N)
if bpftool map dump id "$MAP" | grep -Eq "\"ino\": *$new_ino\b"; then
	ok "the new inode is in the exe_policy map"
	t2=$(date +%s%N)
	bpftool map dump id "$MAP" >/dev/null
	t3=$(date +%s%N)
	log "window from mv to the map update: at most $(((t1 - t0) / 1000)) us, seen at poll $((n + 1)) (one bpftool dump takes $(((t3 - t2) / 1000)) us)"
else
	fail "the new inode $new_ino never reached the exe_policy map"
fi
assert_no_match "the old inode left the map" "\"ino\": *$old_ino\b" "$(bpftool map dump id "$MAP")"
ev_mark
assert_eq "replaced copy is still refused" 7 "$(get copy-2 "$BIN/curl-copy")"
assert_eq "the server got nothing from the replaced copy" 0 "$(served copy-2)"
expect_event "$(event_re deny tcp "127.0.0.3:$P1" "${CGA#/}" box-copy "$L_COPY_DEF" default \
	connect4 "pid=[0-9]+ tid=[0-9]+ comm=curl-copy uid=0 gid=0 exe=$(re_escape "$BIN/curl-copy")")"
assert_eq "original curl still allowed" 0 "$(get orig-2 /usr/bin/curl)"
assert_eq "the server got the original's second request" 1 "$(served orig-2)"

# 8. The egress backstop: ping sockets (no address hook), IPv4 source routes.
EG=$LSN_E2E_DIR/egress.py
send_b() { in_cg "$CG/${CGB:-guard/b}" "$PY" "$EG" send "$@" 2>>"$TMPD/client.err"; }
ev_mark
assert_eq "guard/b: python's ping to 127.0.0.5 is dropped at egress" EPERM \
	"$(send_b ping --to 127.0.0.5 --marker exe-ping-1)"
expect_event "^deny icmp 127\.0\.0\.5:0 .* exe=$(re_escape "$PY") cgroup=$(re_escape "/$CGREL/guard/b") policy=boxb-py .*hook=egress$"
assert_eq "guard/b: python's ping to 127.0.0.6 passes" ok \
	"$(send_b ping --to 127.0.0.6 --marker exe-ping-2)"
ev_mark
assert_eq "guard/b: python's UDP routed via 127.0.0.5 is dropped at egress" EPERM \
	"$(send_b lsrr --via 127.0.0.5 --to 127.0.0.6 --port "$P2" --marker exe-lsrr-1)"
expect_event "^deny udp 127\.0\.0\.5:$P2 .* policy=boxb-py .*hook=egress$"
out=$(send_b lsrr --via 127.0.0.7 --to 127.0.0.6 --port "$P2" --marker exe-lsrr-2)
assert_no_match "guard/b: python's UDP routed via 127.0.0.7 is not refused" EPERM "$out"
assert_eq "outside: the same ping to 127.0.0.5 passes" ok \
	"$(CGB=outside send_b ping --to 127.0.0.5 --marker exe-ping-3)"

# 9. A long-lived UDP socket made by python in guard/b, routed via 127.0.0.5: its packets
# are dropped by python's exe policy. Its process then leaves for another cgroup (egress
# cannot take the sending task's executable any more: only the socket's remembered one
# decides), and the agent reloads: new maps, but the socket's executable stays known.
write_file "$TMPD/long_udp.py" <<'PYEOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 4, bytes([1, 0x83, 7, 4]) + socket.inet_aton(sys.argv[3]))
for line in sys.stdin:
    try:
        s.sendto(b"LSNMARK-" + line.strip().encode() + b"\n", (sys.argv[1], int(sys.argv[2])))
        print("ok", flush=True)
    except PermissionError:
        print("EPERM", flush=True)
PYEOF
# exec: the coprocess is python itself, so SENDER is what moves between cgroups
coproc LONG { exec sh -c 'echo $$ > "$1/cgroup.procs" || exit 126; shift; exec "$@"' sh \
	"$CG/guard/b" "$PY" "$TMPD/long_udp.py" 127.0.0.6 "$P2" 127.0.0.5 9>&- 2>>"$TMPD/client.err"; }
SENDER=$LONG_PID
long_send() { echo "$1" >&"${LONG[1]}" && read -r -t 5 out <&"${LONG[0]}" && printf '%s' "$out"; }
assert_eq "long-lived socket in guard/b: dropped at egress" EPERM "$(long_send long-1)"
echo "$SENDER" >"$CG/outside/cgroup.procs" || die "cannot move the long-lived sender"
assert_eq "moved out of guard/b: still its socket's executable" EPERM "$(long_send long-2)"
out=$(ctl reload)
assert_eq "lsnitch reload" reloaded "$out"
ev_mark
assert_eq "after the reload: still dropped by its executable's policy" EPERM \
	"$(long_send long-3)"
expect_event "^deny udp 127\.0\.0\.5:$P2 .* policy=boxb-py .*hook=egress$"
kill "$SENDER" 2>/dev/null
wait "$SENDER" 2>/dev/null
SENDER=

# 10. A verdict the cache answers notes the socket's executable too (the note is skipped only
# when this CPU noted this very socket with this executable last). On one CPU (the cache is
# per CPU): python primes the cache for (guard/b, python, 127.0.0.6:P2); a copy of python
# (the scope's policy) sends on a socket routed via 127.0.0.5 (passes), then execs python,
# which sends on the same socket: answered from the cache, its packet must be judged at
# egress by python's policy, not by the copy's note.
write_file "$TMPD/exe_hit.py" <<'PYEOF'
import os, socket, sys
mode, to, port, via, py = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
def send(s, marker):
    try:
        s.sendto(b"LSNMARK-" + marker.encode() + b"\n", (to, port))
        return "ok"
    except PermissionError:
        return "EPERM"
if mode == "python":
    print(send(socket.socket(fileno=int(sys.argv[6])), "exe-hit-2"), flush=True)
    sys.exit(0)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if mode == "prime":
    print(send(s, "exe-hit-0"), flush=True)
    sys.exit(0)
s.setsockopt(socket.IPPROTO_IP, 4, bytes([1, 0x83, 7, 4]) + socket.inet_aton(via))
print(send(s, "exe-hit-1"), end=" ", flush=True)
os.set_inheritable(s.fileno(), True)
os.execv(py, [py, sys.argv[0], "python", to, str(port), via, py, str(s.fileno())])
PYEOF
cp "$(readlink -f "$PY")" "$BIN/py-copy" || die "cannot copy python"
hit() { in_cg "$CG/guard/b" taskset -c 0 "$1" "$TMPD/exe_hit.py" "$2" 127.0.0.6 "$P2" 127.0.0.5 \
	"$PY" 2>>"$TMPD/client.err"; }
assert_eq "guard/b: python primes the cache (no route option)" ok "$(hit "$PY" prime)"
ev_mark
assert_eq "a copy sends via 127.0.0.5 (passes), then execs python: dropped at egress" "ok EPERM" \
	"$(hit "$BIN/py-copy" copy)"
expect_event "^deny udp 127\.0\.0\.5:$P2 .* policy=boxb-py .*hook=egress$"

finish
