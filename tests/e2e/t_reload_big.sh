#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Slow reloads never switch DNS filtering off. A reload that loads a big
# blocklist (LSN_BIG_ENTRIES hosts, default 8M in files of 4M lines: over 3 s
# of reading, compiling and map filling here, longer than the heartbeat's
# 3 s) is built off the event loop: a guarded cgroup resolving a blocked name every 100 ms gets
# NXDOMAIN throughout, never the server's address; `lsnitch status` answers
# meanwhile; `lsnitch reload` answers "reloaded" once the new list is in
# force (an address of the new lists is denied). A FIFO in place of a list fails the
# reload at once ("not a regular file"), the old policy stays, the agent
# keeps answering. Control: an address not in the list stays reachable.
. "$(dirname "$0")/lib.sh"
lsn_dns_setup guard/dns guard/c
N=${LSN_BIG_ENTRIES:-8000000}
CHUNK=4000000 # a list file holds at most 4194303 lines
NF=$(((N + CHUNK - 1) / CHUNK))

DNS4=127.0.0.153 OTHER=127.0.0.12 LEAK=127.0.0.14
read -r P1 <<<"$(pick_ports 1)" || die "no free ports"
start_servers --tcp "127.0.0.2:$P1" --tcp "127.0.0.3:$P1"
start_dnsmasq "$DNS4" other.test "$OTHER" --host-record=other.test,$OTHER \
	--address=/blocked.test/$LEAK

echo blocked.test | write_file "$TMPD/domains.txt"
: >"$TMPD/hosts.txt"
lists=""
for i in $(seq 0 $((NF - 1))); do
	: >"$TMPD/hosts$i.txt"
	lists="${lists}blocked-hosts = hosts$i.txt"$'\n'
done
write_file "$TMPD/lsnitch.ini" <<EOF
[global]
blocked-domains = domains.txt
blocked-hosts = hosts.txt
$lists
[policy dns]
cgroup = $CGREL/guard/dns

[policy c]
cgroup = $CGREL/guard/c
EOF
status_of() { sed -n 's/.*status: \([A-Z]*\).*/\1/p' | head -1; }
digq() { in_cg "$(cg_dir guard/dns)" dig +time=1 +tries=1 @$DNS4 "$@" 2>&1; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# the big lists: N addresses in 10.0.0.0/8 (never sent to), in files of CHUNK lines
t0=$(now_ms)
"$PY" - "$N" "$CHUNK" "$TMPD/big" <<'EOF'
import sys
n, chunk, base = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for k, lo in enumerate(range(0, n, chunk)):
    with open(f"{base}{k}.txt", "w") as f:
        f.writelines(f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}\n" if i < 1 << 24 else
                     f"2001:db8::{(i >> 16) & 0xffff:x}:{i & 0xffff:x}\n"
                     for i in range(lo, min(n, lo + chunk)))
EOF
log "generated $N entries in $(($(now_ms) - t0)) ms"

start_agent --config "$TMPD/lsnitch.ini" --control "$S"
assert_eq "before: the blocked name is blocked" NXDOMAIN "$(digq www.blocked.test | status_of)"
client_expect guard/c ok -- tcp 127.0.0.2 "$P1"

# queries every 100 ms while the reload runs
touch "$TMPD/querying"
(
	while [ -e "$TMPD/querying" ]; do
		out=$(digq www.blocked.test)
		st=$(status_of <<<"$out")
		echo "${st:-LOST} $(grep -A1 'ANSWER SECTION' <<<"$out" | tail -1 | tr -s ' \t' ' ')"
		sleep 0.1
	done >"$TMPD/queries.out"
) &
QUERY_PID=$!
track_pid "$QUERY_PID"
sleep 0.3

for i in $(seq 0 $((NF - 1))); do mv "$TMPD/big$i.txt" "$TMPD/hosts$i.txt"; done
echo 127.0.0.2 >"$TMPD/hosts.txt"
t0=$(now_ms)
ctl reload >"$TMPD/reload.out" 2>&1 &
RELOAD_PID=$!
track_pid "$RELOAD_PID"
lat_max=0 nstat=0
while proc_alive "$RELOAD_PID"; do
	t1=$(now_ms)
	ctl status >/dev/null 2>&1 || fail "status failed during the reload"
	lat=$(($(now_ms) - t1)) nstat=$((nstat + 1))
	[ "$lat" -gt "$lat_max" ] && lat_max=$lat
	sleep 0.3
done
wait "$RELOAD_PID"
rc=$?
took=$(($(now_ms) - t0))
rm -f "$TMPD/querying"
wait "$QUERY_PID" 2>/dev/null
log "reload of $N entries: $took ms; status x$nstat, max ${lat_max} ms"
assert_eq "lsnitch reload answers when the new list is in force" "0 reloaded" \
	"$rc $(head -1 "$TMPD/reload.out")"
assert_eq "status answered during the reload (under 100 ms)" yes \
	"$([ "$nstat" -ge 1 ] && [ "$lat_max" -lt 100 ] && echo yes || echo "no: $nstat, $lat_max ms")"
n=$(wc -l <"$TMPD/queries.out")
nx=$(grep -c '^NXDOMAIN' "$TMPD/queries.out")
leaked=$(grep -vc -e '^NXDOMAIN' -e '^LOST' "$TMPD/queries.out")
log "$n queries during the reload: $nx NXDOMAIN, $leaked answered by upstream"
grep -v -e '^NXDOMAIN' -e '^LOST' "$TMPD/queries.out" | head -3 | sed 's/^/    | /'
assert_eq "no blocked name answered by upstream during the reload" 0 "$leaked"
assert_eq "blocked names answered NXDOMAIN (at least 90%)" yes \
	"$([ "$n" -ge 3 ] && [ $((nx * 10)) -ge $((n * 9)) ] && echo yes || echo "no: $nx of $n")"
client_expect guard/c EPERM -- tcp 127.0.0.2 "$P1"
client_expect guard/c ok -- tcp 127.0.0.3 "$P1"

log "a FIFO in place of the list"
rm -f "$TMPD/hosts.txt"
mkfifo "$TMPD/hosts.txt"
t0=$(now_ms)
out=$(timeout 10 "$CLI" --socket "$S" reload 2>&1)
rc=$?
took=$(($(now_ms) - t0))
assert_match "reload with a FIFO fails at once: not a regular file" "hosts.txt: not a regular file" "$out"
assert_eq "... with exit status 1, within 2 s" "1 yes" "$rc $([ "$took" -lt 2000 ] && echo yes || echo "no: $took ms")"
assert_eq "status answers after it" 0 "$(ctl status >/dev/null 2>&1; echo $?)"
client_expect guard/c EPERM -- tcp 127.0.0.2 "$P1"
assert_eq "DNS still filtered" NXDOMAIN "$(digq www.blocked.test | status_of)"
finish
