#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Enforcement outlives the agent: a client tries a denied connect() in a
# tight loop while the agent is killed with SIGKILL and restarted (twice),
# handed over with SIGQUIT and restarted, and reloaded; not one attempt may
# succeed. The restarted agent takes the pinned links over (no new attach),
# reports the denial made while no agent ran (pinned ring buffer), and a
# stop on purpose (SIGTERM) removes every pin and attachment.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a
require_bpftool

read -r P1 P2 <<<"$(pick_ports 2)" || die "no free ports"
start_servers --tcp "127.0.0.2:$P1" --tcp "127.0.0.2:$P2"
PIN=/sys/fs/bpf/$LSN_TAG

INI=$TMPD/r.ini
write_file "$INI" <<EOF
[policy locked]
cgroup = $CGREL/guard/a
deny = 127.0.0.2:$P1/tcp
EOF
L_DENY=r.ini:$(line_of "$INI" "deny = 127.0.0.2")

# One link per hook: connect4|6, sendmsg4|6, recvmsg4|6, getpeername4|6, sock_create,
# egress (and packet_create where the kernel runs lsm_cgroup programs, connect_unix from 6.7).
NHOOKS=10
[ "$(printf '6.7\n%s\n' "$(uname -r)" | sort -V | head -1)" = 6.7 ] && NHOOKS=11
start_agent --config "$INI" --pin-dir "$PIN"
client_expect guard/a EPERM deny locked "$L_DENY" rule -- tcp 127.0.0.2 "$P1"
client_expect guard/a ok -- tcp 127.0.0.2 "$P2"
# one more where the kernel runs the lsm_cgroup one (packet sockets)
bpf_attached "$CG/guard" | grep -qx lsm_cgroup && NHOOKS=$((NHOOKS + 1))
assert_eq "links pinned" "$NHOOKS" "$(find "$PIN/links" -type f -o -type l 2>/dev/null | wc -l)"
ids_before=$(bpftool cgroup show "$CG/guard" 2>/dev/null | awk 'NR > 1 { print $1 }' | sort)

# The hammer: connect() to the denied destination as fast as it goes,
# counting what happens, until told to stop.
STOP=$TMPD/stop
HAMMER=$TMPD/hammer.out
in_cg "$(cg_dir guard/a)" "$PY" - 127.0.0.2 "$P1" "$STOP" >"$HAMMER" 2>&1 <<'EOF' &
import errno, os, socket, sys
addr, port, stop = sys.argv[1], int(sys.argv[2]), sys.argv[3]
counts = {"ok": 0, "EPERM": 0, "other": 0}
n = 0
while True:
    n += 1
    if n % 64 == 0 and os.path.exists(stop):
        break
    s = socket.socket()
    s.settimeout(1)
    try:
        s.connect((addr, port))
        counts["ok"] += 1
    except OSError as e:
        counts["EPERM" if e.errno == errno.EPERM else "other"] += 1
    s.close()
print("ok=%d EPERM=%d other=%d" % (counts["ok"], counts["EPERM"], counts["other"]))
EOF
HPID=$!
track_pid "$HPID"
sleep 0.5

for round in 1 2; do
	log "round $round: kill -9 the agent"
	kill -KILL "$AGENT_PID"
	wait "$AGENT_PID" 2>/dev/null
	AGENT_PID=""
	sleep 0.5 # no agent at all for a while: the pinned programs enforce
	start_agent --config "$INI" --pin-dir "$PIN"
	assert_match "round $round: the new agent took the pinned links over" \
		"took over $NHOOKS pinned links" "$(cat "$AGENT_ERR")"
	sleep 0.3
done

log "SIGQUIT: hand over, policy stays pinned"
kill -QUIT "$AGENT_PID"
wait "$AGENT_PID"
assert_eq "SIGQUIT exit status" 0 "$?"
AGENT_PID=""
assert_match "SIGQUIT says the policy stays" 'policy stays in force, pinned in' "$(cat "$AGENT_ERR")"
sleep 0.5
start_agent --config "$INI" --pin-dir "$PIN"
assert_match "taken over after SIGQUIT" "took over $NHOOKS pinned links" "$(cat "$AGENT_ERR")"
kill -HUP "$AGENT_PID"
wait_for_line "$AGENT_ERR" 'lsnitch-agent: reloaded' 5 "$AGENT_PID" || fail "no reload"
sleep 0.5

touch "$STOP"
wait "$HPID"
res=$(cat "$HAMMER")
log "hammer: $res"
assert_match "the hammer ran and was denied many times" '^ok=0 EPERM=[0-9]{3,} other=0$' "$res"

ids_after=$(bpftool cgroup show "$CG/guard" 2>/dev/null | awk 'NR > 1 { print $1 }' | sort)
# A bpftool older than the kernel (Debian 12's 7.1) does not list connect_unix links.
NSHOWN=$NHOOKS
[ -e "$PIN/links/$(cgroup_id "$CG/guard")_connect_unix" ] &&
	! bpftool cgroup show "$CG/guard" 2>/dev/null | grep -q unix_connect && NSHOWN=$((NHOOKS - 1))
assert_eq "the same programs' links stay attached ($NSHOWN hooks bpftool lists)" "$NSHOWN" \
	"$(printf '%s\n' "$ids_after" | grep -c .)"
: "$ids_before"

# Events made while no agent ran are not lost: the ring buffer is pinned.
assert_match "denials reported by the restarted agents" \
	"^deny tcp 127[.]0[.]0[.]2:$P1 .*policy=locked " "$(cat "$TMPD"/agent.*.out)"

# A stop on purpose removes everything.
stop_agent TERM || fail "SIGTERM exit status"
assert_eq "no pins left after SIGTERM" "" "$(ls -A "$PIN" 2>/dev/null)"
assert_eq "nothing attached after SIGTERM" "" \
	"$(bpftool cgroup show "$CG/guard" 2>/dev/null | awk 'NR > 1')"
client_expect guard/a ok -- tcp 127.0.0.2 "$P1"
finish
