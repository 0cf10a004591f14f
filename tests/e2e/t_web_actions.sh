#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Rules added from lsnitch-web (POST /api/rule, /api/rule/undo) against a real agent. The
# guarded cgroup's policy denies 127.0.0.2:P1; "allow" from the API writes a [rules web] block
# into the managed rules file (--managed-rules, in the test's temp dir), the agent reloads, and
# the next connect() succeeds; /api/rules shows the added rule with the managed file's
# file:line. A neighbour port stays denied (control). Undo takes the block out and the deny is
# back. A bad port is refused with the agent's own "file:line: reason" (422) and the file is
# put back as it was; a POST without the CSRF token is 403 and changes nothing. The managed
# file survives an agent restart: an allow added before is in force after it. /metrics has
# the map fill levels (status "maps": hash, LRU and trie maps only).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/web_lib.sh"
lsn_setup
make_cg guard/a

read -r P1 P2 <<<"$(pick_ports 2)" || die "no free ports"
start_servers --tcp "127.0.0.2:$P1" --tcp "127.0.0.2:$P2"
INI=$TMPD/web.ini
write_file "$INI" <<INI_END
[policy web]
cgroup = $CGREL/guard/a
default = allow
deny = 127.0.0.2/32
INI_END
L_DENY=$(line_of "$INI" "deny = 127.0.0.2")
M=$TMPD/managed/rules.d/web.ini
S=$TMPD/run/ctl.sock
AGENT_ARGS=(--config "$INI" --control "$S" --control-group 65534 --managed-rules "$M")
start_agent "${AGENT_ARGS[@]}"
start_web "$S"
web_login

# post PATH JSON: POST with the session and CSRF token; the body in $OUT, the status printed.
post() {
	wcurl -o "$TMPD/post.out" -w '%{http_code}' -b "$WEB_JAR" -H "X-CSRF-Token: $WEB_CSRF" \
		-H 'Content-Type: application/json' --data "$2" "$WEB_URL$1"
}
json_field() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }

log "before: the policy's deny"
client_expect guard/a EPERM deny web "web.ini:$L_DENY" rule -- tcp 127.0.0.2 "$P1"

log "a POST without the CSRF token changes nothing"
assert_eq "POST /api/rule without the CSRF token" 403 \
	"$(http_code POST /api/rule -b "$WEB_JAR" --data '{"policy":"web"}')"
[ ! -e "$M" ] && ok "no managed file yet" || fail "the managed file appeared"

log "allow from the API"
ADD='{"policy":"web","verdict":"allow","dest":"127.0.0.2","port":'$P1',"proto":"tcp"}'
assert_eq "POST /api/rule allow 127.0.0.2:$P1/tcp" 200 "$(post /api/rule "$ADD")"
AT=$(json_field "$TMPD/post.out" at)
TEXT=$(json_field "$TMPD/post.out" text)
LINE=$(json_field "$TMPD/post.out" line)
assert_eq "the reply names the rule in the managed file" "$M:2" "$AT"
assert_eq "the rule as written" "allow = 127.0.0.2:$P1/tcp" "$TEXT"
assert_match "the block header" '^\[rules web\] ; added ' "$(head -n 1 "$M")"
client_expect guard/a ok -- tcp 127.0.0.2 "$P1"
client_expect guard/a EPERM deny web "web.ini:$L_DENY" rule -- tcp 127.0.0.2 "$P2"
RU=$(wcurl -b "$WEB_JAR" "$WEB_URL/api/rules")
assert_match "/api/rules shows the added rule with its file:line" \
	"\"at\":\"$(re_escape "$M"):2\",\"text\":\"allow = 127.0.0.2:$P1/tcp\"" "$RU"

log "a bad request gets the agent's error; the file is put back"
cp "$M" "$TMPD/m.before"
assert_eq "POST /api/rule with port 70000: 422" 422 \
	"$(post /api/rule '{"policy":"web","verdict":"deny","dest":"127.0.0.2","port":70000}')"
assert_match "the agent's file:line: reason" \
	"$(re_escape "$M"):4: bad port \\\\\"70000\\\\\" \\(must be 1-65535\\)" "$(cat "$TMPD/post.out")"
cmp -s "$M" "$TMPD/m.before" && ok "the managed file is as before" || fail "the file changed"
assert_eq "a policy that does not exist: 422" 422 \
	"$(post /api/rule '{"policy":"nope","verdict":"deny","dest":"127.0.0.2"}')"
assert_match "named by the agent" 'no policy \\"nope\\" defined before this line' \
	"$(cat "$TMPD/post.out")"
assert_eq "a destination that would break the file: 422" 422 \
	"$(post /api/rule '{"policy":"web","verdict":"deny","dest":"1.2.3.4\nallow = 0.0.0.0/0"}')"
cmp -s "$M" "$TMPD/m.before" && ok "the managed file is still as before" || fail "it changed"
client_expect guard/a ok -- tcp 127.0.0.2 "$P1"

log "the managed file survives an agent restart"
stop_agent TERM || fail "the agent did not stop cleanly"
start_agent "${AGENT_ARGS[@]}"
client_expect guard/a ok -- tcp 127.0.0.2 "$P1"
client_expect guard/a EPERM deny web "web.ini:$L_DENY" rule -- tcp 127.0.0.2 "$P2"

log "undo restores the deny"
assert_eq "undo with a stale text: 422" 422 \
	"$(post /api/rule/undo '{"line":'"$LINE"',"text":"allow = 127.0.0.9"}')"
assert_eq "POST /api/rule/undo" 200 \
	"$(post /api/rule/undo '{"line":'"$LINE"',"text":"'"$TEXT"'"}')"
assert_eq "the managed file is empty again" "" "$(cat "$M")"
client_expect guard/a EPERM deny web "web.ini:$L_DENY" rule -- tcp 127.0.0.2 "$P1"
assert_eq "undo again: nothing there, 422" 422 \
	"$(post /api/rule/undo '{"line":'"$LINE"',"text":"'"$TEXT"'"}')"

log "with the bearer (a script): deny by name is a deny-domain rule"
assert_eq "POST /api/rule with the bearer" 200 \
	"$(wcurl -o "$TMPD/post.out" -w '%{http_code}' -H "Authorization: Bearer $WEB_SECRET" \
		--data '{"policy":"web","verdict":"deny","dest":"blocked.example","port":443}' \
		"$WEB_URL/api/rule")"
assert_eq "written as deny-domain" "deny-domain = blocked.example:443" \
	"$(json_field "$TMPD/post.out" text)"

log "map fill levels in status and /metrics"
MET=$(wcurl -b "$WEB_JAR" "$WEB_URL/metrics")
assert_match "cgroup_policy holds the bound cgroup" \
	'lsnitch_map_entries\{map="cgroup_policy"\} [1-9]' "$MET"
assert_match "and says how much it holds" 'lsnitch_map_max_entries\{map="cgroup_policy"\} [1-9]' "$MET"
assert_match "the rules trie holds the policy's prefixes" 'lsnitch_map_entries\{map="rules"\} [1-9]' "$MET"
assert_no_match "no array map is counted (always full)" 'map="counters"' "$MET"

kill_pid "$WEB_PID" 3 || fail "lsnitch-web needed SIGKILL"
finish
