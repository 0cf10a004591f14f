# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# Helpers of the bench scripts that run one agent of their own (sourced):
#   bench_setup NAME       root, the e2e lock (unless LSN_BENCH_LOCKED=1), bpf stats on,
#                          $CG ($CG2/$REL, REL=lsnitch-NAME-PID) and $TMP; undone at exit
#   bench_agent_wait       until $TMP/agent.err says ready (exit 1 if it dies)
#   prog_stats             "run_time_ns run_cnt" of that agent's connect hooks

bench_cleanup() {
	[ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
	sysctl -qw kernel.bpf_stats_enabled="$OLD_STATS"
	find "$CG" -depth -type d -exec rmdir {} + 2>/dev/null
	rm -rf "$TMP"
}

bench_setup() {
	[ "$(id -u)" = 0 ] || { echo "bench: needs root (BPF)" >&2; exit 1; }
	if [ "${LSN_BENCH_LOCKED:-}" != 1 ]; then
		exec 9>/tmp/lsnitch-e2e.lock
		flock 9
	fi
	CG2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	[ -n "$CG2" ] || { echo "bench: no cgroup2 mount" >&2; exit 1; }
	REL=lsnitch-$1-$$
	CG=$CG2/$REL
	TMP=$(mktemp -d "/tmp/lsnitch-$1.XXXXXX")
	AGENT_PID=
	OLD_STATS=$(sysctl -n kernel.bpf_stats_enabled)
	trap bench_cleanup EXIT INT TERM
	mkdir -p "$CG"
	sysctl -qw kernel.bpf_stats_enabled=1
}

bench_agent_wait() {
	for _ in $(seq 1 600); do
		grep -q 'lsnitch-agent: ready' "$TMP/agent.err" && return 0
		kill -0 "$AGENT_PID" 2>/dev/null || { cat "$TMP/agent.err" >&2; exit 1; }
		sleep 0.1
	done
}

# "run_time_ns run_cnt" of this agent's ln_connect4 + ln_connect6 (by the
# program ids it holds: other agents on the machine run programs so named too)
prog_stats() {
	local ids
	ids=$(sed -n 's/^prog_id:[[:space:]]*//p' /proc/"$AGENT_PID"/fdinfo/* 2>/dev/null | sort -u)
	bpftool -j prog show 2>/dev/null | python3 -c '
import json, sys
ids = set(int(i) for i in sys.argv[1].split())
t = c = 0
for p in json.load(sys.stdin):
    if p.get("id") in ids and p.get("name") in ("ln_connect4", "ln_connect6"):
        t += p.get("run_time_ns", 0); c += p.get("run_cnt", 0)
print(t, c)' "$ids"
}
