#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Denials reach journald as structured entries: a stand-in journal socket
# (in a private mount namespace, over a private /run) receives the entry of a
# denied connect with MESSAGE_ID, verdict, destination, pid, comm, cgroup,
# unit, policy and rule, so `journalctl MESSAGE_ID=...` lists denials.
# Under systemd, where stdout is itself the journal (JOURNAL_STREAM names
# it), each event lands once: the structured entry, not also the line.
if [ -z "${LSN_JOURNAL_NS:-}" ]; then
	# Our own mount namespace: the host's /run is left alone.
	exec unshare -m --propagation private env LSN_JOURNAL_NS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/system.slice/demo.service

mount -t tmpfs -o mode=0755 lsnitch-test-run /run || die "cannot mount a private /run"
mkdir -p /run/systemd/journal
JOURNAL=$TMPD/journal.txt
"$PY" - /run/systemd/journal/socket "$JOURNAL" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as out:
    out.write(b"ready\n")
    while True:
        data = s.recv(65536)
        out.write(data.replace(b"\n", b"|") + b"\n")
EOF
track_pid "$!"
wait_for_line "$JOURNAL" '^ready$' 5 || die "journal stand-in did not start"

read -r P1 <<<"$(pick_ports 1)" || die "no free ports"
start_servers --tcp "127.0.0.2:$P1"
write_file "$TMPD/j.ini" <<EOF
[policy demo]
cgroup = $CGREL/guard/system.slice/demo.service
deny = 127.0.0.2:$P1/tcp
EOF
L=j.ini:$(line_of "$TMPD/j.ini" "deny = 127.0.0.2")
start_agent --config "$TMPD/j.ini" --control "$TMPD/ctl.sock"
client_expect guard/system.slice/demo.service EPERM deny demo "$L" rule -- tcp 127.0.0.2 "$P1"

entry=""
for _ in $(seq 50); do
	entry=$(grep 'MESSAGE_ID=3f1c8e4a9b2d4c7e8a6f5b0d1e2c3a49' "$JOURNAL" | tail -1)
	[ -n "$entry" ] && break
	sleep 0.1
done
assert_match "a journal entry with the denial MESSAGE_ID" 'MESSAGE=deny tcp 127[.]0[.]0[.]2' "$entry"
for f in "PRIORITY=4" "LSNITCH_VERDICT=deny" "LSNITCH_PROTO=tcp" "LSNITCH_DEST_ADDR=127.0.0.2" \
	"LSNITCH_DEST_PORT=$P1" "LSNITCH_COMM=python3" "LSNITCH_UNIT=demo.service" \
	"LSNITCH_CGROUP=/$CGREL/guard/system.slice/demo.service" "LSNITCH_POLICY=demo" \
	"LSNITCH_REASON=rule" "LSNITCH_HOOK=connect4"; do
	assert_match "field $f" "\\|$(re_escape "$f")\\|" "|$entry|"
done
assert_match "field LSNITCH_RULE" "[|]LSNITCH_RULE=([^|]*/)?$(re_escape "$L")[|]" "|$entry|"
assert_match "field LSNITCH_PID" '[|]LSNITCH_PID=[0-9]+[|]' "|$entry|"
assert_eq "the line was written to stdout too (stdout is not the journal)" 1 \
	"$(grep -c "^deny tcp 127.0.0.2:$P1 " "$AGENT_OUT")"
stop_agent

# stdout is "the journal stream": start_agent writes to agent.N.out, whose
# device and inode JOURNAL_STREAM names (">" truncates, the inode stays).
OUT_NEXT=$TMPD/agent.$((AGENT_RUNS + 1)).out
: >"$OUT_NEXT"
JOURNAL_STREAM=$(stat -c '%d:%i' "$OUT_NEXT") start_agent --config "$TMPD/j.ini" \
	--control "$TMPD/ctl.sock"
assert_eq "stdout is the file JOURNAL_STREAM names" "$OUT_NEXT" "$AGENT_OUT"
before=$(grep -c 'MESSAGE_ID=3f1c8e4a9b2d4c7e8a6f5b0d1e2c3a49' "$JOURNAL")
client_expect guard/system.slice/demo.service EPERM -- tcp 127.0.0.2 "$P1"
for _ in $(seq 50); do
	[ "$(grep -c 'MESSAGE_ID=3f1c8e4a9b2d4c7e8a6f5b0d1e2c3a49' "$JOURNAL")" -gt "$before" ] && break
	sleep 0.1
done
assert_eq "one more structured entry under JOURNAL_STREAM" $((before + 1)) \
	"$(grep -c 'MESSAGE_ID=3f1c8e4a9b2d4c7e8a6f5b0d1e2c3a49' "$JOURNAL")"
assert_eq "no event line on stdout when it is the journal" 0 \
	"$(grep -Ec '^(deny|allow|would-deny) ' "$AGENT_OUT")"
finish
