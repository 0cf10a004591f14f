#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# DNS fair shares: one guarded cgroup floods a server that never answers with
# more queries than the proxy's whole pending table holds, and holds 600 idle
# TCP connections to the proxy; another policy's cgroup still gets answers
# over UDP and TCP meanwhile, and status counts what went over the share.
. "$(dirname "$0")/lib.sh"
lsn_dns_setup guard/a guard/b

DNS4=127.0.0.153 OTHER=127.0.0.12 SILENT=127.0.0.156
start_dnsmasq "$DNS4" other.test "$OTHER" --host-record=other.test,$OTHER
digq() { # CG ARGS...
	local dir
	dir=$(cg_dir "$1")
	shift
	in_cg "$dir" dig +time=3 +tries=1 @$DNS4 "$@" 2>&1
}

# A server that reads every query and never answers.
"$PY" -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.bind(("'$SILENT'", 53))
while True:
    s.recv(4096)' &
track_pid "$!"

write_file "$TMPD/lsnitch.ini" <<EOF
[policy flood]
cgroup = $CGREL/guard/a

[policy control]
cgroup = $CGREL/guard/b
EOF
start_agent --config "$TMPD/lsnitch.ini" --control "$S"
assert_eq "control resolves before" "$OTHER" "$(digq guard/b +short other.test)"

# --- 2 s of 3000 queries/s to the silent server: 6000 pending at once without shares
cat >"$TMPD/flood.py" <<'PYEOF'
import socket, struct, sys, time
server, secs, rate = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
end = time.monotonic() + secs
n = 0
while time.monotonic() < end:
    t = time.monotonic()
    for _ in range(rate // 100):
        q = struct.pack(">HHHHHH", n & 0xffff, 0x0100, 1, 0, 0, 0) + \
            b"\x05flood\x04test\x00" + struct.pack(">HH", 1, 1)
        try:
            s.sendto(q, (server, 53))
            n += 1
        except BlockingIOError:
            pass
        try:
            while True:
                s.recv(512)
        except BlockingIOError:
            pass
    time.sleep(max(0, 0.01 - (time.monotonic() - t)))
print(n)
PYEOF
in_cg "$(cg_dir guard/a)" "$PY" "$TMPD/flood.py" $SILENT 2.5 3000 >"$TMPD/flood.out" &
FLOOD=$!
track_pid "$FLOOD"
sleep 1.8
j=$(ctl --json status)
log "during the flood: $(jget "$j" 'o["dns"]')"
assert_eq "control resolves during the flood (UDP)" "$OTHER" "$(digq guard/b +short other.test)"
assert_eq "control resolves during the flood (TCP)" "$OTHER" "$(digq guard/b +tcp +short other.test)"
wait "$FLOOD"
log "the flood sent $(cat "$TMPD/flood.out") queries"
j=$(ctl --json status)
n=$(jget "$j" 'o["dns"]["over_share"]')
[ "$n" -gt 0 ] && ok "status counts the flood's queries over its share ($n)" ||
	fail "over_share: $j"

# --- 600 idle TCP connections from guard/a: the proxy keeps its share, closes the rest
cat >"$TMPD/idle.py" <<'PYEOF'
import socket, sys, time
server, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
conns = []
for _ in range(n):
    try:
        conns.append(socket.create_connection((server, 53), timeout=2))
    except OSError:
        pass
time.sleep(1)
closed = 0
for c in conns:
    c.setblocking(False)
    try:
        if c.recv(1) == b"":
            closed += 1
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
open(out, "w").write("%d %d\n" % (len(conns), len(conns) - closed))
time.sleep(8)
PYEOF
in_cg "$(cg_dir guard/a)" "$PY" "$TMPD/idle.py" $SILENT 600 "$TMPD/idle.out" &
track_pid "$!"
for _ in $(seq 100); do [ -s "$TMPD/idle.out" ] && break; sleep 0.1; done
read -r made open_ <"$TMPD/idle.out"
log "guard/a made $made TCP connections, $open_ still open"
[ "${open_:-999}" -le 64 ] && ok "the flooding policy keeps at most its share of TCP clients" ||
	fail "guard/a holds $open_ idle TCP connections"
assert_eq "control resolves over TCP meanwhile" "$OTHER" "$(digq guard/b +tcp +short other.test)"
assert_eq "control resolves over UDP meanwhile" "$OTHER" "$(digq guard/b +short other.test)"
finish
