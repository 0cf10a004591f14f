#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench, egress part: what the packet-level backstop (cgroup_skb/egress)
# costs. Bulk TCP throughput and UDP packets per second (1400-byte datagrams)
# from the guarded cgroup through a veth into the bench's own network
# namespace, against no firewall in the same run (runs alternate, medians of
# 5 rounds), then the egress program's kernel time per packet (run_time_ns /
# run_cnt with kernel.bpf_stats_enabled=1, off while throughput is measured),
# beside a no-op program whose time is the floor the stats themselves cost.
# Uses the e2e helpers (tests/e2e/lib.sh): its own cgroup and netns only,
# everything removed on exit. Called by run-bench.sh, or alone as root.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tests/e2e/lib.sh"

SECS=${BENCH_EGRESS_SECS:-2}
ROUNDS=${BENCH_EGRESS_ROUNDS:-5}
LOAD=$LSN_ROOT/build/bench/netload
EG=$LSN_E2E_DIR/egress.py

[ -x "$LOAD" ] || die "$LOAD is missing: run make"
bench_e2e_setup

read -r PT PU <<<"$(pick_ports 2)" || die "no free ports"
setup_netns
for kind in tcp udp; do
	port=$PT
	[ $kind = udp ] && port=$PU
	nsx "$LOAD" $kind-sink "$NS4" "$port" >"$TMPD/$kind-sink.out" 2>&1 &
	track_pid "$!"
	wait_for_line "$TMPD/$kind-sink.out" '^ready$' 5 "$!" || die "netload $kind-sink did not start"
done

INI=$TMPD/bench.ini
write_file "$INI" <<EOF
[policy bench]
cgroup = $CGREL/guard
default = deny
allow = $NS4
EOF

tcp_run() { in_cg "$CG/guard" "$LOAD" tcp-send "$NS4" "$PT" "$SECS" | awk '{ print $1 }'; }
udp_run() { in_cg "$CG/guard" "$LOAD" udp-send "$NS4" "$PU" "$SECS" 1400 | awk '{ print $1 }'; }

# "run_time_ns run_cnt" of program @1: an id, or "agent" for the agent's ln_egress.
prog_stats() {
	local f id ids=$1
	if [ "$1" = agent ]; then
		ids=$(sed -n 's/^prog_id:[[:space:]]*//p' /proc/"$AGENT_PID"/fdinfo/* 2>/dev/null)
	fi
	for id in $ids; do
		bpftool -j prog show id "$id" 2>/dev/null
		echo
	done | "$PY" -c '
import json, sys
for line in sys.stdin:
    if not line.strip():
        continue
    p = json.loads(line)
    if sys.argv[1] != "agent" or p.get("name") == "ln_egress":
        print(p.get("run_time_ns", 0), p.get("run_cnt", 0))
        break' "$1"
}

# cost CMD...: "EGRESS_NS NOOP_NS RUNS OUTPUT": kernel ns per run of ln_egress
# and of the no-op program beside it while CMD runs, runs, CMD's output.
cost() {
	local t0 c0 n0 m0 t1 c1 n1 m1 out
	read -r t0 c0 < <(prog_stats agent)
	read -r n0 m0 < <(prog_stats "$NOOP_ID")
	out=$("$@")
	read -r t1 c1 < <(prog_stats agent)
	read -r n1 m1 < <(prog_stats "$NOOP_ID")
	awk -v t=$((t1 - t0)) -v c=$((c1 - c0)) -v n=$((n1 - n0)) -v m=$((m1 - m0)) -v o="$out" \
		'BEGIN { printf "%.1f %.1f %d %s\n", c ? t / c : 0, m ? n / m : 0, c, o }'
}

BT=() BU=() GT=() GU=() RT=() RU=()
# Rounds alternate which goes first, so that a drift of the machine favours neither.
baseline_runs() { BT+=("$(tcp_run)") BU+=("$(udp_run)"); }
guarded_runs() {
	start_agent --config "$INI"
	GT+=("$(tcp_run)") GU+=("$(udp_run)")
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
	RT+=("$(awk -v b="${BT[r]}" -v g="${GT[r]}" 'BEGIN { print b ? g / b : 0 }')")
	RU+=("$(awk -v b="${BU[r]}" -v g="${GU[r]}" 'BEGIN { print b ? g / b : 0 }')")
done

# The cost runs: bpf_stats on, a no-op egress program beside ln_egress as the floor.
NOOP=/sys/fs/bpf/$LSN_TAG-noop
bpftool prog load "$LSN_ROOT/build/bench/noop.bpf.o" "$NOOP" || die "cannot load the no-op program"
NOOP_ID=$(bpftool -j prog show pinned "$NOOP" |
	"$PY" -c 'import json, sys; print(json.load(sys.stdin)["id"])')
start_agent --config "$INI"
bpftool cgroup attach "$CG/guard" egress pinned "$NOOP" multi ||
	die "cannot attach the no-op program"
sysctl -qw kernel.bpf_stats_enabled=1
read -r tcp_ns tcp_floor tcp_cnt _ tcp_bytes < <(cost in_cg "$CG/guard" "$LOAD" tcp-send "$NS4" \
	"$PT" "$SECS")
read -r udp_ns udp_floor udp_cnt _ < <(cost udp_run)
read -r raw_ns raw_floor raw_cnt _ < <(cost in_cg "$CG/guard" "$PY" "$EG" send raw-udp \
	--to "$NS4" --port "$PU" --count 20000 --marker bench)
sysctl -qw kernel.bpf_stats_enabled=0
bpftool cgroup detach "$CG/guard" egress pinned "$NOOP"
stop_agent TERM || die "the agent did not stop cleanly"

row() { # LABEL BASELINES... | GUARDED... | RATIOS...
	awk -v l="$1" -v b="$2" -v g="$3" -v r="$4" \
		'BEGIN { printf "%-24s %12.0f %12.0f %7.3fx\n", l, b, g, r }'
}
echo "egress bench: from the guarded cgroup through a veth to the bench's netns," \
	"$SECS s per run, $ROUNDS rounds of both (order alternating); medians"
printf '%-24s %12s %12s %8s\n' "" "no firewall" guarded ratio
row "TCP bulk (Mbit/s)" "$(median "${BT[@]}")" "$(median "${GT[@]}")" "$(median "${RT[@]}")"
row "UDP 1400 B (packets/s)" "$(median "${BU[@]}")" "$(median "${GU[@]}")" "$(median "${RU[@]}")"
echo "ratio: the median of each round's guarded / no firewall"
echo "runs: TCP ${BT[*]} | ${GT[*]}; UDP ${BU[*]} | ${GU[*]}"
echo
echo "egress program, kernel ns per run (run_time_ns / run_cnt, bpf_stats_enabled=1);"
echo "floor: a no-op egress program beside it, what the stats cost per run here"
printf '%-28s %8s %8s %8s %10s\n' "" ln_egress floor net runs
for k in tcp udp raw; do
	case $k in
	tcp) l="fast path, TCP bulk (skb)" n=$tcp_ns f=$tcp_floor c=$tcp_cnt ;;
	udp) l="fast path, UDP 1400 B" n=$udp_ns f=$udp_floor c=$udp_cnt ;;
	raw) l="slow path, raw UDP (decided)" n=$raw_ns f=$raw_floor c=$raw_cnt ;;
	esac
	awk -v l="$l" -v n="$n" -v f="$f" -v c="$c" \
		'BEGIN { printf "%-28s %8.1f %8.1f %8.1f %10d\n", l, n, f, n - f, c }'
done
awk -v c="$tcp_cnt" -v b="$tcp_bytes" \
	'BEGIN { printf "TCP bulk: %.0f bytes per skb (TSO)\n", c ? b / c : 0 }'
