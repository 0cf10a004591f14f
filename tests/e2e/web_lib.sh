# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# web_lib.sh: lsnitch-web for the e2e tests, sourced after lib.sh. The agent's control socket
# is opened to group 65534 (--control-group) and lsnitch-web runs as nobody:nogroup without
# capabilities; curl talks to it on 127.0.0.1 with a cookie jar.

WEB=$LSN_ROOT/build/lsnitch-web
WEB_PID="" WEB_URL="" WEB_SECRET="" WEB_JAR="" WEB_CSRF=""

# start_web CONTROL_SOCKET [ARGS...]: lsnitch-web as nobody on a free port, its secret made
# by itself in $TMPD/web (kept for a second start); https with --tls-cert in ARGS.
start_web() {
	local port sock=$1 scheme=http
	shift
	[ -x "$WEB" ] || die "$WEB is missing: run make"
	port=$(pick_ports 1) || die "no free port"
	mkdir -p "$TMPD/web" && chown 65534:65534 "$TMPD/web" && chmod 0700 "$TMPD/web"
	# a copy nobody can read whatever the checkout's permissions are
	rm -rf "$TMPD/webroot"
	cp -r "$LSN_ROOT/webroot" "$TMPD/webroot" && chmod -R a+rX "$TMPD/webroot"
	case " $* " in *" --tls-cert "*) scheme=https ;; esac
	WEB_URL=$scheme://127.0.0.1:$port
	WEB_JAR=$TMPD/web.jar
	setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps=-all -- "$WEB" \
		--listen "127.0.0.1:$port" --control "$sock" --secret-file "$TMPD/web/secret" \
		--webroot "$TMPD/webroot" "$@" >"$TMPD/web.out" 2>"$TMPD/web.err" &
	WEB_PID=$!
	track_pid "$WEB_PID"
	wait_for_line "$TMPD/web.err" 'listening on' 5 "$WEB_PID" || {
		cat "$TMPD/web.err"
		die "lsnitch-web did not start"
	}
	WEB_SECRET=$(cat "$TMPD/web/secret")
	log "lsnitch-web $WEB_PID on $WEB_URL"
}

# wcurl ARGS...: curl at the web daemon (no proxy, 5 s at most).
wcurl() {
	env -u http_proxy -u HTTP_PROXY -u all_proxy -u ALL_PROXY \
		curl -sS -g --noproxy '*' --max-time 5 "$@"
}

# http_code METHOD PATH [CURL_ARGS...]: the status of one request.
http_code() {
	local m=$1 p=$2
	shift 2
	wcurl -o /dev/null -w '%{http_code}' -X "$m" "$@" "$WEB_URL$p"
}

# web_login: a session in $WEB_JAR and its CSRF token in $WEB_CSRF.
web_login() {
	local code
	code=$(wcurl -o /dev/null -w '%{http_code}' -c "$WEB_JAR" --data-urlencode \
		"secret=$WEB_SECRET" "$WEB_URL/login")
	assert_eq "login with the secret: 303 to /" 303 "$code"
	WEB_CSRF=$(wcurl -b "$WEB_JAR" "$WEB_URL/api/session" |
		"$PY" -c 'import json,sys; print(json.load(sys.stdin)["csrf"])')
	assert_match "a 64-hex-digit CSRF token" '^[0-9a-f]{64}$' "$WEB_CSRF"
}
