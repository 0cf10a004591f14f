#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The executable and the container in history, status and learn. In one guarded
# cgroup, curl and a copy of it at another path ask the same server: the server's log
# has every request, and history (and the database's rows) has two flows with the two
# paths and their counts; --exe picks one. A container-named cgroup
# (docker-<64 hex>.scope, made here) has its container id in history (--container
# picks it by its short id) and in status beside the cgroup its policy is bound to.
# `learn --by-exe` prints an exe policy per executable; it passes --check and,
# enforcing, lets each executable reach what it reached and nothing else (judged by
# the server's log and a counting listener).
. "$(dirname "$0")/lib.sh"
lsn_setup
command -v curl >/dev/null || skip "curl is missing"
CTR=0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d
make_cg guard/a "guard/c/docker-$CTR.scope"
LSN=$LSN_ROOT/build/lsnitch
DB=$TMPD/history.db
S=$TMPD/ctl.sock
hist() { "$LSN" --history "$DB" "$@"; }
ctl() { "$LSN" --socket "$S" "$@"; }
sql() { "$PY" -c 'import sqlite3, sys
d = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
print(d.execute(sys.argv[2], sys.argv[3:]).fetchone()[0])' "$DB" "$@"; }
# agent_history: the agent's "history" command (what lsnitch-web asks) over the last hour
agent_history() { ctl_request '{"cmd": "history", "since": -3600}'; }
jq_py() { "$PY" -c 'import json, sys; o = json.load(sys.stdin); print(eval(sys.argv[1]))' "$@"; }
wait_flows() {
	local t
	for t in $(seq 40); do
		[ "$(hist --json history --since 1h | jq_py "$1" 2>/dev/null)" = True ] && return 0
		sleep 0.25
	done
	return 1
}

read -r P1 P2 <<<"$(pick_ports 2)" || die "no free ports"
start_http_server 127.0.0.3 "$P1"
HTTP_LOG=$TMPD/http.$SERVER_RUNS.out
start_counting_listener 127.0.0.4 "$P2"
CURL=$(readlink -f "$(command -v curl)")
BIN=$TMPD/bin
mkdir -p "$BIN" && cp "$CURL" "$BIN/curl-copy" || die "cannot copy curl"
COPY=$BIN/curl-copy
CGC=$CGREL/guard/c/docker-$CTR.scope

write_file "$TMPD/box.ini" <<EOF
[policy box]
cgroup = $CGREL/guard/a
default = allow

[policy ctr]
cgroup = $CGC
default = allow
EOF
start_agent --config "$TMPD/box.ini" --control "$S"

# get NAME BINARY CG [PORT]: BINARY fetches /NAME from the server; prints curl's status.
get() {
	in_cg "$(cg_dir "$3")" "$2" -sS --noproxy '*' --max-time 3 -o /dev/null \
		"http://127.0.0.3:${4:-$P1}/$1" 2>>"$TMPD/curl.err"
	printf '%s' "$?"
}
served() { count_lines "$HTTP_LOG" "\"GET /$1 HTTP"; }
# to_listener BINARY CG: BINARY connects to the counting listener; prints curl's status.
to_listener() {
	in_cg "$(cg_dir "$2")" "$1" -sS --noproxy '*' --max-time 3 -o /dev/null \
		"http://127.0.0.4:$P2/" 2>>"$TMPD/curl.err"
	printf '%s' "$?"
}

log "two executables in one cgroup, and one in a container"
for i in 1 2; do assert_eq "curl $i from guard/a" 0 "$(get orig-$i "$CURL" guard/a)"; done
for i in 1 2 3; do assert_eq "the copy, $i, from guard/a" 0 "$(get copy-$i "$COPY" guard/a)"; done
assert_eq "curl in the container cgroup" 0 "$(get ctr-1 "$CURL" "guard/c/docker-$CTR.scope")"
n=0
for p in orig-1 orig-2 copy-1 copy-2 copy-3 ctr-1; do n=$((n + $(served "$p"))); done
assert_eq "the server got all six" 6 "$n"
wait_flows "sum(f['count'] for f in o['flows'] if f['port'] == $P1) >= 6" ||
	fail "the six requests did not reach the history"
J=$(hist --json history --since 1h)
count_of() {
	jq_py "sum(f['count'] for f in o['flows'] if f['port'] == $P1 and f['policy'] == '$1'
		and f['exe'] == '$2' and f['container'] == '$3')" <<<"$J"
}
assert_eq "history: curl in guard/a, its path" 2 "$(count_of box "$CURL" "")"
assert_eq "history: the copy in guard/a, its own path" 3 "$(count_of box "$COPY" "")"
assert_eq "history: curl in the container, with its id" 1 "$(count_of ctr "$CURL" "$CTR")"
assert_eq "the database: one key per executable in guard/a" 2 \
	"$(sql "SELECT count(DISTINCT exe) FROM flow_keys WHERE policy = 'box' AND port = ?" "$P1")"
assert_eq "the database: the copy's rows counted 3" 3 \
	"$(sql "SELECT sum(b.count) FROM buckets b JOIN flow_keys k ON k.id = b.key
		WHERE k.exe = ?" "$COPY")"
assert_eq "history --exe: the copy's flow only" "[('$COPY', 3)]" \
	"$(hist --json history --since 1h --exe "$COPY" |
		jq_py "[(f['exe'], f['count']) for f in o['flows']]")"
assert_eq "history --container SHORT-ID: the container's flow only" "[('$CTR', 1)]" \
	"$(hist --json history --since 1h --container "${CTR:0:12}" |
		jq_py "[(f['container'], f['count']) for f in o['flows']]")"
out=$(hist history --since 1h)
assert_match "history (text): the copy's path" "$(re_escape "$COPY")" "$out"
assert_match "history (text): the container's short id" "\[${CTR:0:12}\]" "$out"
assert_match "top --once: the executable" "$(re_escape "$COPY")" "$(hist top --once)"
assert_eq "the agent's history command (the web UI's): exe, container" "$COPY:" \
	"$(agent_history |
		jq_py "''.join(f['exe'] + ':' + f['container'] for f in o['flows']
			if f['exe'] == '$COPY')")"

log "status: the container id of a bound cgroup"
assert_match "status: the bound cgroup, its unit and container" \
	"bound $(re_escape "$CGC") \(unit docker-$CTR\.scope\) \(container $CTR\)" "$(ctl status)"
assert_eq "status --json: bound_cgroups' container" "$CTR" \
	"$(ctl --json status | jq_py "[c['container'] for p in o['policies']
		for c in p.get('bound_cgroups', []) if 'container' in c][0]")"

log "learn --by-exe: an exe policy per executable"
hist learn --cgroup "$CGREL/guard/a" --by-exe --since 1h >"$TMPD/learned.ini" ||
	fail "lsnitch learn --by-exe failed"
L=$(tr '\n' ' ' <"$TMPD/learned.ini")
assert_match "learn --by-exe: the copy's exe policy" "\[policy learned-a-curl-copy\] cgroup = $(re_escape "$CGREL/guard/a") exe = $(re_escape "$COPY") default = deny .*allow = 127\.0\.0\.3:$P1/tcp" "$L"
assert_match "learn --by-exe: curl's exe policy" "\[policy learned-a-curl\] cgroup = $(re_escape "$CGREL/guard/a") exe = $(re_escape "$CURL") default = deny" "$L"
out=$("$AGENT" --check --config "$TMPD/learned.ini" 2>&1)
assert_match "the learned policies pass --check" "configuration OK" "$out"
stop_agent || fail "the agent exited with status $AGENT_RC on SIGTERM"
start_agent --config "$TMPD/learned.ini"
assert_eq "enforcing: the copy reaches the server" 0 "$(get copy-4 "$COPY" guard/a)"
assert_eq "enforcing: curl reaches the server" 0 "$(get orig-3 "$CURL" guard/a)"
assert_eq "the server got both" 2 "$(($(served copy-4) + $(served orig-3)))"
assert_eq "enforcing: the copy to a new destination is refused" 7 "$(to_listener "$COPY" guard/a)"
assert_eq "the listener accepted nothing" 0 "$(count_lines "$ACCEPTED" .)"
to_listener "$COPY" outside >/dev/null # the listener closes at once: curl says so (56)
wait_for_count "$ACCEPTED" . 0 3
assert_eq "control: the copy outside reaches the listener" 1 "$(count_lines "$ACCEPTED" .)"
stop_agent || fail "the agent exited with status $AGENT_RC on SIGTERM"
finish
