#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# DNS redirect, fail closed and unsquattable: with the old proxy ports (10530-10593)
# and a few others bound by an unprivileged user before start, the agent starts
# and DNS works (dns-port only warns). One guarded cgroup asks 200 distinct
# servers: its policy gets its share of slots, every other query is refused
# (EPERM, "dns-no-slot" events, counted), and a listener on the 200 rogue
# addresses never sees a datagram sent direct; meanwhile another policy's
# cgroup still resolves, its blocked names still blocked. After 10 s idle the
# slots come back and the flooding cgroup resolves again.
. "$(dirname "$0")/lib.sh"
lsn_dns_setup guard/a guard/b
command -v setpriv >/dev/null || skip_env "setpriv is not installed (util-linux)"

DNS4=127.0.0.153 OTHER=127.0.0.12 BLOCKED=127.0.0.14
start_dnsmasq "$DNS4" other.test "$OTHER" --host-record=other.test,$OTHER \
	--address=/blocked.test/$BLOCKED
status_of() { sed -n 's/.*status: \([A-Z]*\).*/\1/p' | head -1; }
digq() { # CG ARGS...
	local dir
	dir=$(cg_dir "$1")
	shift
	in_cg "$dir" dig +time=2 +tries=1 @$DNS4 "$@" 2>&1
}

# --- squatters: an unprivileged user holds the old ports (UDP and TCP, v4 and v6)
mkdir -p "$TMPD/sq" && chmod 1777 "$TMPD/sq"
cat >"$TMPD/squat.py" <<'PYEOF'
import random, socket, sys, time
held = []
ports = list(range(10530, 10594)) + random.sample(range(32768, 60999), 16)
for p in ports:
    for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            try:
                s = socket.socket(fam, kind)
                s.bind((addr, p))
                if kind == socket.SOCK_STREAM:
                    s.listen(1)
                held.append(s)
            except OSError:
                pass
open(sys.argv[1], "w").write("%d\n" % len(held))
time.sleep(600)
PYEOF
chmod 644 "$TMPD/squat.py"
chmod o+x "$TMPD"
setpriv --reuid 65534 --regid 65534 --clear-groups "$PY" "$TMPD/squat.py" "$TMPD/sq/ready" &
track_pid "$!"
for _ in $(seq 50); do [ -s "$TMPD/sq/ready" ] && break; sleep 0.1; done
held=$(cat "$TMPD/sq/ready" 2>/dev/null)
# (another agent on the machine may hold some of the old ports already: taken either way)
[ "${held:-0}" -ge 32 ] || die "the squatter holds only ${held:-0} sockets"
ok "uid 65534 holds $held sockets on the old proxy ports and 16 others"

# --- rogue servers: 200 addresses, each datagram's source logged
cat >"$TMPD/rogue.py" <<'PYEOF'
import select, socket, sys
socks = []
for i in range(1, 201):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.1.%d" % i, 53))
    socks.append(s)
log = open(sys.argv[1], "a", buffering=1)  # O_APPEND: the test truncates it
log.write("ready\n")
while True:
    r, _, _ = select.select(socks, [], [])
    for s in r:
        data, src = s.recvfrom(4096)
        log.write("%s %d -> %s\n" % (src[0], src[1], s.getsockname()[0]))
PYEOF
"$PY" "$TMPD/rogue.py" "$TMPD/rogue.log" &
track_pid "$!"
for _ in $(seq 50); do grep -q ready "$TMPD/rogue.log" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$TMPD/rogue.log" 2>/dev/null || die "the rogue listener did not start"

write_file "$TMPD/domains.txt" <<<"blocked.test"
write_file "$TMPD/lsnitch.ini" <<EOF
[global]
blocked-domains = domains.txt
dns-port = 10600

[policy flood]
cgroup = $CGREL/guard/a

[policy control]
cgroup = $CGREL/guard/b
EOF
start_agent --config "$TMPD/lsnitch.ini" --control "$S"
ok "the agent started with its old ports taken"
assert_match "dns-port is deprecated, with a warning" "dns-port is deprecated and ignored" \
	"$(cat "$AGENT_ERR")"
assert_eq "control: DNS works (UDP)" "$OTHER" "$(digq guard/b +short other.test)"
assert_eq "control: DNS works (TCP)" "$OTHER" "$(digq guard/b +tcp +short other.test)"
assert_eq "control: blocked name" NXDOMAIN "$(digq guard/b blocked.test | status_of)"

# --- a sender outside any guarded cgroup reaches the rogue listener directly: it sees that
CPORT=$(pick_ports 1)
cat >"$TMPD/send.py" <<'PYEOF'
import socket, struct, sys
port, first, last = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + b"\x06direct\x04test\x00" + \
    struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
sent = refused = 0
for i in range(first, last + 1):
    try:
        s.sendto(q, ("127.0.1.%d" % i, 53))
        sent += 1
    except PermissionError:
        refused += 1
print("sent=%d refused=%d" % (sent, refused))
PYEOF
send200() { # CG FIRST LAST: one query to each 127.0.1.FIRST..LAST:53 from 127.0.0.1:$CPORT
	in_cg "$(cg_dir "$1")" "$PY" "$TMPD/send.py" "$CPORT" "$2" "$3"
}
assert_eq "outside: a direct query" "sent=1 refused=0" "$(send200 . 200 200)"
sleep 0.3
assert_match "the rogue listener sees a direct query's source port" \
	"127\.0\.0\.1 $CPORT -> 127\.0\.1\.200" "$(cat "$TMPD/rogue.log")"
: >"$TMPD/rogue.log"

# --- 200 servers from guard/a: its share of slots, then refused, never direct
ev_mark
got=$(send200 guard/a 1 200)
sent=${got#sent=}
sent=${sent%% *}
log "guard/a: $got"
if [ "${sent:-0}" -ge 1 ] && [ "$sent" -le 16 ] && [ "$got" = "sent=$sent refused=$((200 - sent))" ]; then
	ok "guard/a got its share of slots, the rest refused ($got)"
else
	fail "guard/a: $got (want 1..16 sent, the rest refused)"
fi
expect_event "^deny udp 127\.0\.1\.[0-9]+:53 .*policy=flood rule=- reason=dns-no-slot hook=sendmsg4$"
j=$(ctl --json status)
if [ "$(jget "$j" 'o["counters"]["dns_no_slot"]')" -ge $((200 - sent)) ]; then
	ok "status counts the refused queries (dns_no_slot)"
else
	fail "dns_no_slot: $j"
fi
assert_eq "guard/a: a new server is refused too (no slot left for its policy)" "" \
	"$(digq guard/a +short other.test | grep -v '^;;')"
assert_eq "control still resolves meanwhile" "$OTHER" "$(digq guard/b +short other.test)"
assert_eq "control: blocked name still blocked" NXDOMAIN "$(digq guard/b blocked.test | status_of)"
assert_eq "control over TCP" "$OTHER" "$(digq guard/b +tcp +short other.test)"
sleep 0.5
n=$(grep -c " $CPORT -> " "$TMPD/rogue.log")
assert_eq "no datagram reached a rogue server direct" 0 "$n"
n=$(grep -vc " $CPORT -> " "$TMPD/rogue.log")
if [ "$n" -ge 1 ] && [ "$n" -le 16 ]; then
	ok "the proxied ones arrived from the proxy ($n)"
else
	fail "proxied datagrams at the rogue servers: $n"
fi

# --- idle slots come back within seconds (10 s idle, checked every second)
res=""
t0=$(date +%s)
for _ in $(seq 40); do
	res=$(digq guard/a +short other.test | grep -v '^;;')
	[ "$res" = "$OTHER" ] && break
	sleep 0.5
done
assert_eq "guard/a resolves again once its idle slots are handed back" "$OTHER" "$res"
log "slots back after $(($(date +%s) - t0)) s"
n=$(grep -c " $CPORT -> " "$TMPD/rogue.log")
assert_eq "still nothing direct at the rogue servers" 0 "$n"
finish
