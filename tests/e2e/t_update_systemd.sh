#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# List subscriptions under systemd as PID 1 (a throwaway nspawn container,
# nspawn_lib.sh): the installed lsnitch-update.service, as its timer starts it
# (DynamicUser=, reaching the agent's socket through the group lsnitch),
# fetches a [list NAME] from an HTTP server on the container's loopback into
# /var/lib/lsnitch/lists, and the agent (the hardened unit, user lsnitch)
# reloads and enforces it; a second run is "not due" and reloads nothing. The
# timer itself is installed, starts, and names the service. lsnitch-web's unit
# reaches the agent's socket too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nspawn_lib.sh"
lsn_setup
nspawn_require

NSP_ETC=$TMPD/etc-lsnitch
mkdir -p "$NSP_ETC" "$TMPD/srv"
cp -r "$(nspawn_install_tree)/etc/lsnitch/." "$NSP_ETC/"
printf '\n[list sub]\nurl = http://127.0.0.1:7080/sub\nkind = hosts\nrefresh = 1h\n' \
	>>"$NSP_ETC/lsnitch.ini"
printf '[policy]\ndefault = allow\n' >"$NSP_ETC/units.d/probe.service.ini"
echo ok >"$TMPD/srv/mode"
printf '# a subscribed host list\n127.0.0.2\n' >"$TMPD/srv/sub"
NSP_EXTRA=(--bind-ro="$LSN_E2E_DIR" --bind-ro="$TMPD/srv:/srv/lsn-lists")
nspawn_boot "$TMPD/inst"
# the unit wants network-online.target: the container, with loopback only, never is
in_ct systemctl mask --runtime --quiet systemd-networkd-wait-online.service

CONNECT='import socket,errno,sys
s=socket.socket()
try: s.connect((sys.argv[1],9)); print("OK")
except OSError as e: print(errno.errorcode[e.errno])'
connect_in() {
	in_ct systemd-run --quiet --wait --pipe -u "$1" python3 -c "$CONNECT" "$2" 2>&1
}

in_ct systemd-run --quiet -u lsn-lists python3 -u "$LSN_E2E_DIR/list_server.py" 127.0.0.1 7080 \
	/srv/lsn-lists
if in_ct systemctl start lsnitch-agent; then ok "systemctl start lsnitch-agent"; else
	fail "start: $(in_ct journalctl -u lsnitch-agent --no-pager | tail -n 20)"
	finish
fi
assert_match "no copy yet: the agent says so" '\[list sub\]: no copy in /var/lib/lsnitch/lists yet' \
	"$(in_ct journalctl -u lsnitch-agent --no-pager -o cat)"
assert_eq "before the update: 127.0.0.2 allowed" ECONNREFUSED "$(connect_in probe1 127.0.0.2)"

# ---- the timer: installed, starts, and runs lsnitch-update.service
if in_ct systemctl start lsnitch-update.timer; then ok "systemctl start lsnitch-update.timer"; else
	fail "timer: $(in_ct systemctl status lsnitch-update.timer --no-pager 2>&1 | tail -n 5)"
fi
assert_eq "the timer is active" active "$(in_ct systemctl is-active lsnitch-update.timer)"
assert_eq "and starts lsnitch-update.service" lsnitch-update.service \
	"$(in_ct systemctl show -p Triggers --value lsnitch-update.timer)"
assert_match "with a next run" '^[1-9][0-9]*$' \
	"$(in_ct systemctl show -p NextElapseUSecMonotonic --value lsnitch-update.timer | tr -cd 0-9)"

# ---- what the timer starts: fetch, install, reload
if in_ct systemctl start lsnitch-update.service; then ok "lsnitch-update.service ran"; else
	fail "update: $(in_ct journalctl -u lsnitch-update --no-pager -o cat | tail -n 10)"
fi
J=$(in_ct journalctl -u lsnitch-update --no-pager -o cat)
assert_match "it fetched the list" 'sub: updated, 1 entries' "$J"
assert_match "and the agent reloaded" 'agent reloaded' "$J"
assert_match "the server was asked" 'GET /sub .* -> 200' \
	"$(in_ct journalctl -u lsn-lists --no-pager -o cat)"
assert_eq "the copy in /var/lib/lsnitch/lists" "$(cat "$TMPD/srv/sub")" \
	"$(in_ct cat /var/lib/lsnitch/lists/sub)"
assert_match "written by a dynamic user, not root" '^[1-9][0-9]*$' \
	"$(in_ct stat -L -c %u /var/lib/lsnitch/lists/sub)"
assert_eq "after the update: 127.0.0.2 denied" EPERM "$(connect_in probe2 127.0.0.2)"
assert_match "by the list's line" 'rule=/var/lib/lsnitch/lists/sub:2' \
	"$(in_ct journalctl -u lsnitch-agent --no-pager -o cat | grep '127\.0\.0\.2:9')"
assert_eq "control: 127.0.0.3 allowed" ECONNREFUSED "$(connect_in probe3 127.0.0.3)"
assert_match "lsnitch status shows the list" 'sub \(hosts.* 1 entries' \
	"$(in_ct lsnitch status 2>&1 | tr '\n' ' ')"

# ---- the next run: not due, no reload
in_ct systemctl start lsnitch-update.service
J=$(in_ct journalctl -u lsnitch-update --no-pager -o cat)
assert_match "a second run: not due" 'sub: not due' "$J"
assert_eq "no second reload" 1 "$(printf '%s\n' "$J" | grep -c 'agent reloaded')"

# ---- lsnitch-web's unit: its user reaches the agent (user lsnitch) through the group
if in_ct systemctl start lsnitch-web; then ok "systemctl start lsnitch-web"; else
	fail "web: $(in_ct journalctl -u lsnitch-web --no-pager -o cat | tail -n 10)"
fi
t=0
until in_ct ss -Htln 'sport = :3031' | grep -q . || [ "$t" -gt 50 ]; do sleep 0.1; t=$((t + 1)); done
out=$(in_ct sh -c 'curl -sS --noproxy "*" --max-time 5 -H "Authorization: Bearer $(head -n 1 /var/lib/lsnitch-web/secret)" http://127.0.0.1:3031/api/status' 2>&1)
assert_match "lsnitch-web answers with the agent's status" '"lists"|"policies"' "$out"

in_ct systemctl stop lsnitch-web lsnitch-agent
nspawn_stop
finish
