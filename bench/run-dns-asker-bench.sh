#!/bin/bash
# The cost of naming DNS askers (bpf/dns_asker.bpf.h) in the kernel: run_time_ns/run_cnt of
# the sendmsg4 hook for UDP sendto() from a guarded cgroup, as ratios to a plain verdict
# (port 9, not redirected) measured in the same run:
#   redirect, same socket: a DNS query redirected, the asker already noted (one lookup);
#   redirect, new socket:  a DNS query from a fresh socket (lookup + LRU write).
# With BASE_AGENT=path (an agent built without the asker), the redirect rows are measured
# with it too. Sends only to 127.0.0.1 (a 1-byte datagram the proxy drops as malformed).
set -u
cd "$(dirname "$0")/.."
B=build
BENCH_NAME=asker
. bench/lib.sh
AGENT=${AGENT:-build/lsnitch-agent}
BASE_AGENT=${BASE_AGENT:-}
N=${BENCH_DNS_ASKER_N:-20000}
OLD_STATS=$(sysctl -n kernel.bpf_stats_enabled)
# 64 free proxy ports of our own: another agent on the machine keeps its own
PORT=$(python3 -c '
import random, socket
for _ in range(100):
    base = random.randrange(20000, 60000 - 64)
    try:
        socks = []
        for p in range(base, base + 64):
            for fam, a in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
                for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    s = socket.socket(fam, kind)
                    socks.append(s)
                    s.bind((a, p))
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(base)
    break')

bench_cleanup_more() { sysctl -qw kernel.bpf_stats_enabled="$OLD_STATS"; }
sysctl -qw kernel.bpf_stats_enabled=1
printf '[global]\ndns-port = %s\n' "$PORT" >"$TMP/lsnitch.ini"

start_agent() { start_agent_bin "$1" --config "$TMP/lsnitch.ini"; } # BINARY

prog_stats() { # "run_time_ns run_cnt" of the sendmsg4 program attached to our cgroup
	local id
	id=$(bpftool -j cgroup show "$CG" 2>/dev/null | python3 -c '
import json, sys
print(next((p["id"] for p in json.load(sys.stdin) if p.get("name") == "ln_sendmsg4"), ""))')
	bpftool -j prog show id "$id" 2>/dev/null | python3 -c '
import json, sys
p = json.load(sys.stdin)
print(p.get("run_time_ns", 0), p.get("run_cnt", 0))'
}

# ns per hook run for N sendto() calls: MODE same|new socket, to port DPORT
per_call() {
	local t0 c0 t1 c1
	read -r t0 c0 < <(prog_stats)
	in_cg python3 -c '
import socket, sys
n, mode, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(n):
    if mode == "new":
        s.close()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"x", ("127.0.0.1", port))' "$N" "$1" "$2"
	read -r t1 c1 < <(prog_stats)
	awk -v t=$((t1 - t0)) -v c=$((c1 - c0)) 'BEGIN { printf "%.1f", c ? t / c : 0 }'
}

measure() { # AGENT LABEL
	local plain same new
	start_agent "$1"
	plain=$(per_call same 9)
	same=$(per_call same 53)
	new=$(per_call new 53)
	stop_agent
	awk -v l="$2" -v p="$plain" -v s="$same" -v n="$new" 'BEGIN {
		printf "%-10s %9.1f %6.2fx | %9.1f %6.2fx | %9.1f %6.2fx\n", l, p, 1, s, s / p, n, n / p }'
}

echo "DNS askers: sendmsg4 hook ns per call (bpf_stats), $N UDP sendto() per row, ratios to plain"
printf '%-10s %17s | %17s | %17s\n' agent "plain (port 9)" "redirect, same sk" "redirect, new sk"
measure "$AGENT" this
[ -n "$BASE_AGENT" ] && measure "$BASE_AGENT" base
exit 0
