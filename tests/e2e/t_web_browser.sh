#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lsnitch-web in a real browser (Debian's headless chromium through chromedriver and
# selenium, web_browser.py): the login page, logging in, the Status page, the Policies page
# with a rule's file:line, the Live page showing a denied connect() from the guarded cgroup
# within 2 s with a process named "<script>alert(1" as inert text; its "allow" button adds the
# rule to the managed rules file (the next connect succeeds, the page shows the rule's
# file:line) and Undo restores the deny; the History page's chart shows the allowed and denied
# connects (its pixels read back), its drill-down the rule's file:line and a cgroup named
# '"onerror=alert(2)<script>x' as text; the Learn page's policy passes lsnitch-agent --check,
# per executable it adds an exe policy;
# no CSP violation in the console, logout. Screenshots of each page are saved as artifacts (build/test-logs/
# t_web_browser/shots/) and checked not blank. Skips when chromium, chromedriver or selenium
# is missing (make deps-browser installs them).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/web_lib.sh"
for b in /usr/bin/chromium /usr/bin/chromedriver; do
	[ -x "$b" ] || skip "$b is missing (make deps-browser installs chromium and chromium-driver)"
done
"$PY" -c 'import selenium' 2>/dev/null ||
	skip "python3-selenium is missing (make deps-browser installs it)"
lsn_setup
# a cgroup named like markup: its flows reach the History and Learn pages as text
ODD='"onerror=alert(2)<script>x'
make_cg guard/a "guard/a/$ODD"

read -r P1 <<<"$(pick_ports 1)" || die "no free ports"
start_servers --tcp "127.0.0.2:$P1"
INI=$TMPD/web.ini
# the deny covers all ports: the page's "allow" for one port is more specific, so it wins (an
# equally specific deny would win the tie, see README "How it decides")
write_file "$INI" <<INI_END
[policy web]
cgroup = $CGREL/guard/a
default = allow
deny = 127.0.0.2
INI_END
S=$TMPD/run/ctl.sock
start_agent --config "$INI" --control "$S" --control-group 65534 \
	--managed-rules "$TMPD/managed/rules.d/web.ini"
start_web "$S"

# the denial the live view must show: a process named like markup, in the guarded cgroup
write_file "$TMPD/trigger.sh" <<TRIGGER_END
echo \$\$ >"$CG/guard/a/cgroup.procs" || exit 1
exec "$PY" -c '
import socket
open("/proc/self/comm", "w").write("<script>alert(1")
s = socket.socket()
try:
    s.connect(("127.0.0.2", $P1))
except OSError:
    pass'
TRIGGER_END
# whether a connect() from the guarded cgroup gets through now: "ok" or "EPERM"
write_file "$TMPD/probe.sh" <<PROBE_END
echo \$\$ >"$CG/guard/a/cgroup.procs" || exit 1
exec "$PY" -c '
import socket
s = socket.socket()
try:
    s.connect(("127.0.0.2", $P1))
    print("ok")
except PermissionError:
    print("EPERM")'
PROBE_END
in_cg "$CG/guard/a/$ODD" "$PY" -c '
import socket, sys
s = socket.socket()
try:
    s.connect(("127.0.0.2", int(sys.argv[1])))
except OSError:
    pass' "$P1"
mkdir -p "$TMPD/shots"
while IFS= read -r line; do
	case $line in
	"ok   "*) ok "${line#ok   }" ;;
	"FAIL "*) fail "${line#FAIL }" ;;
	*) printf '%s\n' "$line" ;;
	esac
done < <(timeout 180 "$PY" "$LSN_E2E_DIR/web_browser.py" "$WEB_URL" "$WEB_SECRET" "$TMPD/shots" \
	"$TMPD/trigger.sh" "$TMPD/probe.sh" "$AGENT" "$ODD" 2>"$TMPD/browser.err"; echo "rc $?")
[ "$CHECKS" -ge 10 ] || { fail "the browser run made only $CHECKS checks"; tail "$TMPD/browser.err"; }
rm -rf "$TMPD/shots/profile"
finish
