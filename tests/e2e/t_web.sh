#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lsnitch-web against a real agent: the daemon runs as nobody with no capabilities and
# reaches the agent through --control-group; it made its secret 0640. Without a session every
# page and API answers 401 (the login page 200); a wrong bearer is 401, the secret as bearer
# works for /metrics and the API. Login sets an HttpOnly SameSite=Strict cookie; a POST
# without the CSRF token is 403, with it 200; every answer carries the CSP. /metrics parses
# with prometheus_client's parser and says the agent is up. A denied connect() from the
# guarded cgroup reaches the SSE stream within 2 s with its rule file:line, and a process
# named "<script>alert(1" comes through as JSON text. Logout ends the session. Five wrong
# secrets are answered 401, then 429 with Retry-After, the right one too. With a certificate
# it serves HTTPS, the cookie marked Secure and HSTS sent.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/web_lib.sh"
lsn_setup
make_cg guard/a

read -r P1 <<<"$(pick_ports 1)" || die "no free ports"
start_servers --tcp "127.0.0.2:$P1"
INI=$TMPD/web.ini
write_file "$INI" <<INI_END
[policy web]
cgroup = $CGREL/guard/a
default = allow
deny = 127.0.0.2:$P1/tcp
INI_END
L_DENY=$(line_of "$INI" "deny = 127.0.0.2")
S=$TMPD/run/ctl.sock
start_agent --config "$INI" --control "$S" --control-group 65534
assert_eq "the control socket is 0660 in group 65534" "660 65534" "$(stat -c '%a %g' "$S")"
assert_eq "its directory 0710 in group 65534" "710 65534" "$(stat -c '%a %g' "$TMPD/run")"

start_web "$S"

log "the daemon: nobody, no capabilities, a secret of its own"
assert_eq "lsnitch-web runs as uid 65534" 65534 \
	"$(awk '/^Uid:/ {print $3}' "/proc/$WEB_PID/status")"
for c in CapEff CapPrm CapAmb; do
	assert_eq "lsnitch-web $c" 0000000000000000 \
		"$(awk -v c="$c:" '$1 == c {print $2}' "/proc/$WEB_PID/status")"
done
assert_eq "the secret file is 0640" 640 "$(stat -c %a "$TMPD/web/secret")"
assert_match "the secret is 64 hex digits" '^[0-9a-f]{64}$' "$WEB_SECRET"

log "without a session: 401 everywhere but the login page"
for p in / /live /policies /history /learn /app.js /status.js /live.js /policies.js /chart.js \
	/history.js /learn.js /api/session /api/status /api/rules /api/events /metrics \
	/api/history /api/learn /api/learn.ini "/api/learn.ini?policy=web" /nonexistent \
	/../etc/passwd; do
	assert_eq "GET $p without a session" 401 "$(http_code GET "$p")"
done
for p in /api/reload /logout /api/status /api/history /api/learn /nonexistent; do
	assert_eq "POST $p without a session" 401 "$(http_code POST "$p")"
done
assert_eq "GET /login without a session (control)" 200 "$(http_code GET /login)"
assert_eq "a wrong bearer for /metrics" 401 \
	"$(http_code GET /metrics -H "Authorization: Bearer ${WEB_SECRET}x")"
assert_eq "the secret as bearer for /metrics" 200 \
	"$(http_code GET /metrics -H "Authorization: Bearer $WEB_SECRET")"
assert_eq "the secret as bearer is not a session for the pages" 401 \
	"$(http_code GET / -H "Authorization: Bearer $WEB_SECRET")"

log "headers: CSP, cookie flags"
H=$(wcurl -D - -o /dev/null "$WEB_URL/login")
assert_match "a strict CSP on the login page" \
	"Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'" "$H"
H=$(wcurl -D - -o /dev/null --data-urlencode "secret=$WEB_SECRET" "$WEB_URL/login")
assert_match "the session cookie is HttpOnly and SameSite=Strict" \
	'Set-Cookie: lsnitch_session=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict' "$H"

web_login
assert_eq "GET / with the session" 200 "$(http_code GET / -b "$WEB_JAR")"
ST=$(wcurl -b "$WEB_JAR" "$WEB_URL/api/status")
assert_match "/api/status is the agent's status with the policy" '"name":"web"' "$ST"

RU=$(wcurl -b "$WEB_JAR" "$WEB_URL/api/rules")
assert_match "/api/rules gives the rule with its file:line and text" \
	"\"at\":\"[^\"]*web.ini:$L_DENY\",\"text\":\"deny = 127.0.0.2:$P1/tcp\"" "$RU"
assert_match "/api/rules gives the global lists' sizes" '"global":\{"blocked_hosts":0,"blocked_domains":0\}' "$RU"

log "CSRF"
assert_eq "POST /api/reload without the CSRF token" 403 \
	"$(http_code POST /api/reload -b "$WEB_JAR")"
assert_eq "POST /api/reload with a wrong CSRF token" 403 \
	"$(http_code POST /api/reload -b "$WEB_JAR" -H "X-CSRF-Token: ${WEB_CSRF%?}x")"
assert_eq "POST /api/reload with the CSRF token" 200 \
	"$(http_code POST /api/reload -b "$WEB_JAR" -H "X-CSRF-Token: $WEB_CSRF")"
assert_eq "POST /api/reload with the bearer (no cookie, no CSRF)" 200 \
	"$(http_code POST /api/reload -H "Authorization: Bearer $WEB_SECRET")"

log "/metrics"
wcurl -b "$WEB_JAR" "$WEB_URL/metrics" >"$TMPD/metrics.txt"
if "$PY" -c 'import prometheus_client.parser' 2>/dev/null; then
	OUT=$("$PY" - "$TMPD/metrics.txt" <<'PYEOF' 2>&1
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
def val(name, **labels):
    return [s.value for s in fams[name].samples
            if all(s.labels.get(k) == v for k, v in labels.items())][0]
assert "lsnitch_connections" in fams and "lsnitch_load_seconds" in fams
print("up=%d ready=%d policy_rules=%d reload_ok=%d" % (val("lsnitch_up"), val("lsnitch_ready"),
      val("lsnitch_policy_rules", policy="web"), val("lsnitch_last_reload_ok")))
PYEOF
	)
	assert_eq "prometheus_client parses /metrics" "up=1 ready=1 policy_rules=1 reload_ok=1" "$OUT"
else
	log "skip: python3-prometheus-client is not installed (make deps installs it)"
fi

log "live events over SSE"
wcurl -N --max-time 20 -b "$WEB_JAR" -D "$TMPD/sse.hdr" "$WEB_URL/api/events" \
	>"$TMPD/sse.out" 2>/dev/null &
SSE=$!
track_pid "$SSE"
wait_for_line "$TMPD/sse.hdr" '^Content-Type: text/event-stream' 3 || fail "no event stream"
T0=$(date +%s%N)
client_expect guard/a EPERM deny web "web.ini:$L_DENY" rule -- tcp 127.0.0.2 "$P1"
if wait_for_line "$TMPD/sse.out" "^data: .*\"verdict\":\"deny\".*\"dest\":\"127.0.0.2:$P1\"" 2; then
	ok "the denied connect is on the SSE stream after $((($(date +%s%N) - T0) / 1000000)) ms"
else
	fail "the denied connect did not reach the SSE stream within 2 s"
	cat "$TMPD/sse.out"
fi
assert_match "the SSE event names the rule's file:line" \
	"\"rule\":\"[^\"]*web.ini:$L_DENY\"" "$(cat "$TMPD/sse.out")"
# a process named like markup: the stream carries it as a JSON string, the pages as text
in_cg "$CG/guard/a" "$PY" -c '
import socket, sys
open("/proc/self/comm", "w").write("<script>alert(1")
s = socket.socket()
try:
    s.connect(("127.0.0.2", int(sys.argv[1])))
except OSError:
    pass' "$P1"
if wait_for_line "$TMPD/sse.out" '"comm":"<script>alert\(1"' 2; then
	ok "a markup-like process name arrives as a JSON string"
else
	fail "the markup-named process's event is missing"
fi
kill_pid "$SSE" 1
assert_eq "no page script writes markup (innerHTML, outerHTML, document.write)" "" \
	"$(grep -lE 'innerHTML|outerHTML|insertAdjacentHTML|document\.write' "$LSN_ROOT"/webroot/*.js)"

log "history and learn, from the agent (the web daemon never opens the database)"
H=""
for _ in $(seq 1 30); do
	H=$(wcurl -b "$WEB_JAR" "$WEB_URL/api/history?since=-3600&step=60&by=policy")
	case $H in *"\"addr\":\"127.0.0.2\""*) break ;; esac
	sleep 0.2
done
OUT=$(printf '%s' "$H" | "$PY" -c 'import json, sys
o = json.load(sys.stdin)
f = [f for f in o["flows"] if f["addr"] == "127.0.0.2" and f["verdict"] == "deny"]
g = [g for g in o["series"]["groups"] if g["name"] == "web"]
print("flows=%d rule=%s denied-in-series=%d slots=%d" % (sum(x["count"] for x in f),
      f[0]["rule"].split("/")[-1] if f else "-", sum(g[0]["deny"]) if g else 0,
      o["series"]["slots"]))' 2>&1)
assert_match "/api/history: the denied flows with their rule, the series per policy" \
	"^flows=[2-9] rule=web.ini:$L_DENY denied-in-series=[2-9] slots=6[01]\$" "$OUT"
wcurl -b "$WEB_JAR" "$WEB_URL/metrics" >"$TMPD/metrics2.txt"
if "$PY" -c 'import prometheus_client.parser' 2>/dev/null; then
	OUT=$("$PY" - "$TMPD/metrics2.txt" <<'PYEOF' 2>&1
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
s = [s for s in fams["lsnitch_verdicts"].samples if s.name == "lsnitch_verdicts_total" and
     s.labels == {"policy": "web", "verdict": "deny", "reason": "rule"}]
print("deny/rule for web: %d" % (s[0].value if s else -1))
PYEOF
	)
	assert_match "/metrics: verdicts per policy and reason (from the drained flows)" \
		"^deny/rule for web: [2-9]\$" "$OUT"
fi
assert_eq "/api/history with a bad number: 400" 400 \
	"$(http_code GET "/api/history?since=1h" -b "$WEB_JAR")"
assert_eq "/api/history with a bad verdict: 422, the agent's reason" 422 \
	"$(http_code GET "/api/history?verdict=maybe" -b "$WEB_JAR")"
assert_eq "POST /api/history (it changes nothing): 405" 405 \
	"$(http_code POST /api/history -b "$WEB_JAR" -H "X-CSRF-Token: $WEB_CSRF")"
assert_eq "/api/learn without a policy, cgroup or unit: 422" 422 \
	"$(http_code GET /api/learn -b "$WEB_JAR")"
assert_eq "/api/history with the bearer" 200 \
	"$(http_code GET /api/history -H "Authorization: Bearer $WEB_SECRET")"
L=$(wcurl -b "$WEB_JAR" "$WEB_URL/api/learn?policy=web&since=-3600")
assert_match "/api/learn: the policy as lsnitch learn prints it, line by line" \
	'"policy":"web".*"lines":\["# Learned by lsnitch learn from [^"]*history.db' "$L"
wcurl -b "$WEB_JAR" -D "$TMPD/learn.hdr" -o "$TMPD/learned.ini" \
	"$WEB_URL/api/learn.ini?policy=web&since=-3600"
assert_match "/api/learn.ini is a file to save" \
	'Content-Disposition: attachment; filename="web.ini"' "$(cat "$TMPD/learn.hdr")"
assert_eq "the learned INI is the policy" "[policy web]" "$(grep '^\[' "$TMPD/learned.ini")"
OUT=$("$AGENT" --check --config "$TMPD/learned.ini" 2>&1)
assert_match "the downloaded policy passes lsnitch-agent --check" "configuration OK" "$OUT"

log "logout"
assert_eq "POST /logout with the CSRF token" 204 \
	"$(http_code POST /logout -b "$WEB_JAR" -H "X-CSRF-Token: $WEB_CSRF")"
assert_eq "the old cookie is no session any more" 401 "$(http_code GET /api/status -b "$WEB_JAR")"

log "failed logins are rate limited"
for i in 1 2 3 4 5; do
	assert_eq "wrong secret #$i" 401 "$(http_code POST /login --data-urlencode secret=wrong$i)"
done
H=$(wcurl -D - -o /dev/null --data-urlencode secret=wrong6 "$WEB_URL/login")
assert_match "the sixth wrong secret: 429" '^HTTP/1.1 429' "$H"
assert_match "with Retry-After" 'Retry-After: [0-9]+' "$H"
assert_eq "the right secret meanwhile: 429 too" 429 \
	"$(http_code POST /login --data-urlencode "secret=$WEB_SECRET")"

if kill_pid "$WEB_PID" 3; then ok "lsnitch-web exits on SIGTERM"; else fail "lsnitch-web needed SIGKILL"; fi

log "TLS (GnuTLS in libmicrohttpd)"
if openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
	-keyout "$TMPD/web/key.pem" -out "$TMPD/web/cert.pem" >/dev/null 2>&1; then
	chown 65534 "$TMPD/web/key.pem" "$TMPD/web/cert.pem"
	start_web "$S" --tls-cert "$TMPD/web/cert.pem" --tls-key "$TMPD/web/key.pem"
	assert_eq "over TLS without a session: 401" 401 "$(http_code GET /metrics -k)"
	H=$(wcurl -k -D - -o /dev/null --data-urlencode "secret=$WEB_SECRET" "$WEB_URL/login")
	assert_match "over TLS the session cookie is also Secure" \
		'Set-Cookie: lsnitch_session=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict; Secure' "$H"
	assert_match "and HSTS is sent" 'Strict-Transport-Security: max-age=' "$H"
	assert_eq "the secret as bearer over TLS" 200 \
		"$(http_code GET /metrics -k -H "Authorization: Bearer $WEB_SECRET")"
	kill_pid "$WEB_PID" 3 || fail "lsnitch-web (TLS) needed SIGKILL"
else
	log "skip: openssl cannot make a test certificate"
fi
finish
