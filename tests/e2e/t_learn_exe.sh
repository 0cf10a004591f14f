#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# learn by executable through the agent: in one guarded cgroup curl reaches one server
# (127.0.0.3) and a copy of curl another (127.0.0.5). The agent's "learn" command with
# "by_exe" (on its control socket) and the web endpoints the Learn page calls
# (/api/learn?by_exe=1, /api/learn.ini, curl against 127.0.0.1) give the INI that
# `lsnitch learn --by-exe` prints for the same window, byte for byte: it names both
# executables and passes --check. Loaded, each executable reaches its own server and not
# the other's (judged by the servers' logs), the other server answering a control from
# outside. An unknown scope is an error everywhere (422 on the web), not an empty policy.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/web_lib.sh"
lsn_setup
command -v curl >/dev/null || skip "curl is missing"
make_cg guard/a
LSN=$LSN_ROOT/build/lsnitch
DB=$TMPD/history.db
S=$TMPD/run/ctl.sock
hist() { "$LSN" --history "$DB" "$@"; }
jq_py() { "$PY" -c 'import json, sys; o = json.load(sys.stdin); print(eval(sys.argv[1]))' "$@"; }
# the INI text of a learn answer: its lines, each ended, as lsnitch-web's learn.ini joins them
ini_of() { "$PY" -c 'import json, sys
sys.stdout.write("".join(l + "\n" for l in json.load(sys.stdin)["lines"]))'; }

read -r P1 P2 <<<"$(pick_ports 2)" || die "no free ports"
start_http_server 127.0.0.3 "$P1"
LOG_A=$TMPD/http.$SERVER_RUNS.out
start_http_server 127.0.0.5 "$P2"
LOG_B=$TMPD/http.$SERVER_RUNS.out
CURL=$(readlink -f "$(command -v curl)")
BIN=$TMPD/bin
mkdir -p "$BIN" && cp "$CURL" "$BIN/curl-copy" || die "cannot copy curl"
COPY=$BIN/curl-copy

write_file "$TMPD/box.ini" <<EOF
[policy box]
cgroup = $CGREL/guard/a
default = allow
EOF
start_agent --config "$TMPD/box.ini" --control "$S" --control-group 65534

# get BINARY CG ADDR PORT NAME: BINARY fetches /NAME; prints curl's exit status.
get() {
	in_cg "$(cg_dir "$2")" "$1" -sS --noproxy '*' --max-time 3 -o /dev/null \
		"http://$3:$4/$5" 2>>"$TMPD/curl.err"
	printf '%s' "$?"
}
served() { count_lines "$1" "\"GET /$2 HTTP"; }

log "curl to one server, its copy to another, in one cgroup"
for i in 1 2; do assert_eq "curl $i to A" 0 "$(get "$CURL" guard/a 127.0.0.3 "$P1" orig-$i)"; done
for i in 1 2 3; do assert_eq "the copy $i to B" 0 "$(get "$COPY" guard/a 127.0.0.5 "$P2" copy-$i)"; done
assert_eq "A served curl twice" 2 "$(served "$LOG_A" 'orig-[12]')"
assert_eq "B served the copy three times" 3 "$(served "$LOG_B" 'copy-[123]')"
for t in $(seq 40); do
	n=$(hist --json history --since 1h --cgroup "$CGREL/guard/a" |
		jq_py "sum(f['count'] for f in o['flows'] if f['exe'].startswith('/'))" 2>/dev/null)
	[ "${n:-0}" -ge 5 ] && break
	sleep 0.25
done
[ "${n:-0}" -ge 5 ] || fail "the five requests did not reach the history with their paths"

log "the CLI, the agent and the web give the same INI"
T1=$(date +%s)
T0=$((T1 - 3600))
hist learn --cgroup "$CGREL/guard/a" --by-exe --since "@$T0" --until "@$T1" >"$TMPD/cli.ini" ||
	fail "lsnitch learn --by-exe failed"
REQ="{\"cmd\": \"learn\", \"cgroup\": \"$CGREL/guard/a\", \"since\": $T0, \"until\": $T1"
A=$(ctl_request "$REQ, \"by_exe\": true}")
assert_eq "the agent's learn by_exe: two exe policies" 2 "$(jq_py "o['exe_policies']" <<<"$A")"
ini_of <<<"$A" >"$TMPD/agent.ini"
L=$(tr '\n' ' ' <"$TMPD/agent.ini")
assert_match "the agent's INI: curl's exe policy, its server only" "\[policy learned-a-curl\] cgroup = $(re_escape "$CGREL/guard/a") exe = $(re_escape "$CURL") default = deny # 2 times[^[]*allow = 127\.0\.0\.3:$P1/tcp" "$L"
assert_match "the agent's INI: the copy's exe policy, its server only" "\[policy learned-a-curl-copy\] cgroup = $(re_escape "$CGREL/guard/a") exe = $(re_escape "$COPY") default = deny # 3 times[^[]*allow = 127\.0\.0\.5:$P2/tcp" "$L"
assert_eq "the agent's INI is the CLI's, byte for byte" "" \
	"$(cmp "$TMPD/cli.ini" "$TMPD/agent.ini" 2>&1)"
assert_eq "without by_exe the agent still learns one policy" \
	"0 [policy learned-a]" "$(ctl_request "$REQ}" | jq_py "o['exe_policies']" |
		tr '\n' ' ')$(ctl_request "$REQ}" | ini_of | grep '^\[')"
out=$("$AGENT" --check --config "$TMPD/agent.ini" 2>&1)
assert_match "the agent's INI passes --check" "configuration OK" "$out"

start_web "$S"
web_login
wq=(-G --data-urlencode "cgroup=$CGREL/guard/a" --data-urlencode "since=$T0"
	--data-urlencode "until=$T1" --data-urlencode "by_exe=1")
J=$(wcurl -b "$WEB_JAR" "${wq[@]}" "$WEB_URL/api/learn")
assert_eq "/api/learn?by_exe=1: two exe policies" 2 "$(jq_py "o['exe_policies']" <<<"$J")"
wcurl -b "$WEB_JAR" "${wq[@]}" -o "$TMPD/web.ini" "$WEB_URL/api/learn.ini"
assert_eq "/api/learn.ini?by_exe=1 is the CLI's INI, byte for byte" "" \
	"$(cmp "$TMPD/cli.ini" "$TMPD/web.ini" 2>&1)"
assert_eq "by_exe other than 0 or 1: 400" 400 \
	"$(http_code GET "/api/learn?policy=box&by_exe=yes" -b "$WEB_JAR")"

log "bad input: an error, not an empty policy"
out=$(hist learn --cgroup "$CGREL/guard/none" --by-exe --since 1h 2>&1)
assert_eq "the CLI, an unknown cgroup: exit status 1" 1 "$?"
assert_match "the CLI says there is nothing to learn" "no flows of cgroup /$(re_escape "$CGREL")/guard/none" "$out"
assert_eq "the CLI printed no policy" 0 "$(grep -c '^\[policy' <<<"$out")"
A=$(ctl_request '{"cmd": "learn", "policy": "nonesuch", "by_exe": true}')
assert_match "the agent, an unknown policy: refused with the reason" \
	'"ok": ?false.*no flows of policy nonesuch' "$A"
assert_match "the agent, by_exe not a boolean: refused" \
	'"ok": ?false.*by_exe must be true or false' \
	"$(ctl_request "{\"cmd\": \"learn\", \"policy\": \"box\", \"by_exe\": \"yes\"}")"
assert_eq "the web, an unknown policy: 422" 422 \
	"$(http_code GET "/api/learn?policy=nonesuch&by_exe=1" -b "$WEB_JAR")"
kill_pid "$WEB_PID"

log "loaded, each executable reaches what it reached before"
stop_agent || fail "the agent exited with status $AGENT_RC on SIGTERM"
start_agent --config "$TMPD/agent.ini"
assert_eq "curl reaches A" 0 "$(get "$CURL" guard/a 127.0.0.3 "$P1" orig-3)"
assert_eq "the copy reaches B" 0 "$(get "$COPY" guard/a 127.0.0.5 "$P2" copy-4)"
assert_eq "A and B served them" 2 "$(($(served "$LOG_A" orig-3) + $(served "$LOG_B" copy-4)))"
assert_eq "curl to B is refused" 7 "$(get "$CURL" guard/a 127.0.0.5 "$P2" cross-1)"
assert_eq "the copy to A is refused" 7 "$(get "$COPY" guard/a 127.0.0.3 "$P1" cross-2)"
assert_eq "neither server saw a cross request" 0 \
	"$(($(served "$LOG_A" 'cross-[12]') + $(served "$LOG_B" 'cross-[12]')))"
assert_eq "control: curl outside reaches B" 0 "$(get "$CURL" outside 127.0.0.5 "$P2" ctl-1)"
assert_eq "B served the control" 1 "$(served "$LOG_B" ctl-1)"
stop_agent || fail "the agent exited with status $AGENT_RC on SIGTERM"
finish
