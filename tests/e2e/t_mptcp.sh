#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# MPTCP (issue 9 d): a guarded client opens an MPTCP connection to an
# allowed server address; the server announces (ADD_ADDR) a second address
# the client's policy denies. The kernel's path manager (a worker thread,
# not the client) opens the extra subflow, so the connect hook sees the
# worker's cgroup, not the client's; the subflow socket carries the client's
# cgroup, which the egress backstop decides. Ground truth: the server's MPJoin
# SYN counter (nothing else announced meanwhile). Both ends are network namespaces this
# test makes (client ns joined to the server ns by a veth): no host setting
# is touched.
. "$(dirname "$0")/lib.sh"
lsn_setup
require_bpftool
command -v nstat >/dev/null || skip_env "nstat (iproute2) is not installed"
CNS=$LSN_TAG-c
SNS=$LSN_TAG-s
cns() { ip netns exec "$CNS" "$@"; }
sns() { ip netns exec "$SNS" "$@"; }
netns_cleanup() {
	local n p
	for n in "$CNS" "$SNS"; do
		for p in $(ip netns pids "$n" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$n" 2>/dev/null
	done
}
trap 'netns_cleanup; lsn_cleanup' EXIT
ip netns add "$CNS" && ip netns add "$SNS" || skip_env "cannot make network namespaces"
cns sysctl -qw net.mptcp.enabled=1 2>/dev/null || skip_env "no MPTCP in this kernel"
sns sysctl -qw net.mptcp.enabled=1
ip link add mpc$$ netns "$CNS" type veth peer name mps$$ netns "$SNS" || die "veth"
C4=192.0.2.9 S4=192.0.2.10 S4B=192.0.2.11 S4C=192.0.2.12
cns ip addr add $C4/29 dev mpc$$ && cns ip link set mpc$$ up && cns ip link set lo up
sns ip addr add $S4/29 dev mps$$ && sns ip addr add $S4B/29 dev mps$$
sns ip addr add $S4C/29 dev mps$$
sns ip link set mps$$ up && sns ip link set lo up
cns ip mptcp limits set add_addr_accepted 4 subflows 4
sns ip mptcp limits set add_addr_accepted 4 subflows 4
read -r P1 <<<"$(pick_ports 1)" || die "no free ports"

# The server: MPTCP on every address, echoes what it gets; counts joins itself.
sns "$PY" -u - "$P1" >"$TMPD/server.out" 2>&1 <<'PYEOF' &
import socket, sys, threading
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(16)
print("ready", flush=True)
def serve(c):
    while True:
        d = c.recv(65536)
        if not d:
            break
        c.sendall(d)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PYEOF
track_pid "$!"
wait_for_line "$TMPD/server.out" '^ready$' 5 || die "the MPTCP server did not start"

INI=$TMPD/mptcp.ini
write_file "$INI" <<EOF
[policy p]
cgroup = $CGREL/guard/a
deny = $S4B
EOF
make_cg guard/a
start_agent --config "$INI"

# client: in guard/a and the client netns, MPTCP to the allowed address,
# traffic for 3 s so the path manager has time to join the announced one.
client() {
	in_cg "$CG/guard/a" ip netns exec "$CNS" "$PY" - "$1" "$P1" <<'PYEOF'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
s.connect((sys.argv[1], int(sys.argv[2])))
end = time.time() + 3
while time.time() < end:
    s.sendall(b"x" * 1000)
    s.recv(65536)
    time.sleep(0.01)
print("done")
PYEOF
}
joins() { sns nstat -az MPTcpExtMPJoinSynRx | awk '/MPJoinSynRx/ { print $2 }'; }
# announce ADDR: the server's only announced extra address is ADDR
announce() {
	sns ip mptcp endpoint flush
	sns ip mptcp endpoint add "$1" dev mps$$ signal
}

log "control: the server announces the allowed $S4C; a subflow joins it"
announce $S4C
before=$(joins)
assert_eq "the MPTCP client talked to the allowed address" done "$(client $S4 2>&1)"
after=$(joins)
if [ "$after" -gt "$before" ]; then
	ok "a subflow joined the allowed announced address ($before -> $after MPJoin SYNs)"
else
	fail "no subflow joined the allowed announced address: the test proves nothing"
fi

log "the server announces $S4B, which the client's policy denies"
announce $S4B
ev_mark
before=$(joins)
assert_eq "the MPTCP client still talks over its first subflow" done "$(client $S4 2>&1)"
assert_eq "no MPJoin SYN reached the denied address (ground truth: the server's counter)" \
	"$before" "$(joins)"
assert_match "the kernel-made subflow was denied by the client's policy" \
	"^deny tcp $(re_escape "$S4B"):$P1 .* cgroup=/$(re_escape "$CGREL")/guard/a policy=p " \
	"$(events_since_mark)"
finish
