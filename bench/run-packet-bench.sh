#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench, packet part: what enforcing packet-sockets = deny costs where it takes one of
# the global programs (fmod_ret, or the socket() syscall tracepoint; an lsm_cgroup kernel
# reports that and stops). A syscall tracepoint puts every task of the machine on the
# slow syscall path: getppid() outside any guarded cgroup measures that tax; socket() +
# close() of a UDP socket in the guarded cgroup the family check; of a packet socket in a
# cgroup whose policy allows them the whole decision. Each against no agent in the same
# run (rounds alternate, medians), then the program's kernel time per run
# (run_time_ns / run_cnt, kernel.bpf_stats_enabled=1 only for that part).
# Uses the e2e helpers (tests/e2e/lib.sh): its own cgroups only, removed on exit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tests/e2e/lib.sh"

ROUNDS=${BENCH_PACKET_ROUNDS:-3}
NSYS=${BENCH_PACKET_SYSCALLS:-2000000}
NSOCK=${BENCH_PACKET_SOCKETS:-200000}
# closing a packet socket waits for an RCU grace period (synchronize_net()): milliseconds
NPKT=${BENCH_PACKET_PACKETS:-2000}
LOOP=$LSN_ROOT/build/bench/socket_loop
CLI=$LSN_ROOT/build/lsnitch

[ -x "$LOOP" ] || die "$LOOP is missing: run make"
bench_e2e_setup
make_cg guard/deny guard/allow

INI=$TMPD/bench.ini
write_file "$INI" <<EOF
[global]
dns = no

[policy closed]
cgroup = $CGREL/guard/deny
default = deny
packet-sockets = deny

[policy open]
cgroup = $CGREL/guard/allow
default = deny
packet-sockets = allow
EOF

ns_of() { awk '{ print $1 }'; }
sys_run() { in_cg "$LSN_SELF_CG" "$LOOP" getppid "$NSYS" | ns_of; }
udp_run() { in_cg "$CG/guard/allow" "$LOOP" udp "$NSOCK" | ns_of; }
pkt_run() { in_cg "$CG/guard/allow" "$LOOP" packet "$NPKT" | ns_of; }
ratio() { awk -v b="$1" -v g="$2" 'BEGIN { print b ? g / b : 0 }'; }

start_agent --config "$INI" --control "$TMPD/ctl.sock"
PATH_USED=$("$CLI" --socket "$TMPD/ctl.sock" --json status | "$PY" -c \
	'import json, sys; print(json.load(sys.stdin)["packet_sockets"])')
stop_agent TERM || die "the agent did not stop cleanly"
case $PATH_USED in
fmod_ret) PROG=ln_packet_fmod ;;
tracepoint-kill) PROG=ln_packet_kill ;;
*)
	echo "packet bench: packet-sockets enforced by '$PATH_USED': no global program to measure"
	exit 0
	;;
esac

B=() G=()
baseline_runs() { B+=("$(sys_run) $(udp_run) $(pkt_run)"); }
guarded_runs() {
	start_agent --config "$INI" --control "$TMPD/ctl.sock"
	G+=("$(sys_run) $(udp_run) $(pkt_run)")
	stop_agent TERM || die "the agent did not stop cleanly"
}
for ((r = 0; r < ROUNDS; r++)); do
	if ((r % 2)); then
		guarded_runs
		baseline_runs
	else
		baseline_runs
		guarded_runs
	fi
done
col() { # col N ROWS...: the Nth field of each row
	local n=$1 row
	shift
	for row in "$@"; do echo "$row" | awk -v n="$n" '{ print $n }'; done
}

# The program's own time per run, for a UDP socket (the family check) and a packet one.
prog_stats() {
	bpftool -j prog show 2>/dev/null | "$PY" -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("name") == sys.argv[1]:
        print(p.get("run_time_ns", 0), p.get("run_cnt", 0))
        break' "$PROG"
}
per_run() { # CMD...: kernel ns per run of $PROG while CMD runs
	local t0 c0 t1 c1
	read -r t0 c0 < <(prog_stats)
	"$@" >/dev/null
	read -r t1 c1 < <(prog_stats)
	awk -v t=$((t1 - t0)) -v c=$((c1 - c0)) 'BEGIN { printf "%.1f\n", c ? t / c : 0 }'
}
start_agent --config "$INI" --control "$TMPD/ctl.sock"
sysctl -qw kernel.bpf_stats_enabled=1
k_udp=$(per_run udp_run)
k_pkt=$(per_run pkt_run)
sysctl -qw kernel.bpf_stats_enabled=0
stop_agent TERM || die "the agent did not stop cleanly"

row() {
	local b g
	b=$(median $(col "$2" "${B[@]}"))
	g=$(median $(col "$2" "${G[@]}"))
	awk -v l="$1" -v b="$b" -v g="$g" -v r="$(ratio "$b" "$g")" \
		'BEGIN { printf "%-38s %10.1f %10.1f %7.3fx\n", l, b, g, r }'
}
echo "packet bench: packet-sockets = deny by $PATH_USED ($PROG), $ROUNDS rounds" \
	"(order alternating); ns per call, medians"
printf '%-38s %10s %10s %8s\n' "" "no agent" agent ratio
row "getppid(), outside the guarded cgroups" 1
row "socket()+close(), UDP, guarded" 2
row "socket()+close(), AF_PACKET, allowed" 3
echo "$PROG kernel time per run: UDP socket $k_udp ns, packet socket (decided) $k_pkt ns"
echo "runs (getppid udp packet): ${B[*]} | ${G[*]}"
echo
