#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# List subscriptions ([list NAME], lsnitch-update) against a local HTTP server on 127.0.0.1:
# no copy yet (a warning, the agent runs); 200 (the copy is installed, the agent reloaded, a
# guarded connect to a listed address denied with rule=LISTS/NAME:line); 304 (If-None-Match
# sent, nothing changed); then 404, a truncated body, an over-size body, an invalid list and
# a slow server: each time the updater fails, says why, records it in NAME.state and
# `lsnitch status`, and the last good copy stays in force (the connect is still denied). A
# list with policy= applies to that policy only. lsnitch-update runs as nobody (the
# --control-group gives it the socket), as its systemd unit does with DynamicUser=.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a guard/b

lsn_ctl_setup
UPD=$LSN_ROOT/build/lsnitch-update
[ -x "$UPD" ] || die "$UPD is missing: run make"
read -r P1 PH <<<"$(pick_ports 2)" || die "no free ports"
start_servers --tcp "127.0.0.2:$P1" --tcp "127.0.0.3:$P1" --tcp "127.0.0.4:$P1"

SRV=$TMPD/srv LISTS=$TMPD/lists
mkdir -p "$SRV" "$LISTS" && chown 65534:65534 "$LISTS"
echo ok >"$SRV/mode"
printf '# a subscribed host list\n127.0.0.2\n' >"$SRV/bad"
printf '127.0.0.4\n' >"$SRV/mine"
"$PY" -u "$LSN_ROOT/tests/e2e/list_server.py" 127.0.0.1 "$PH" "$SRV" >"$TMPD/srv.out" 2>&1 9>&- &
track_pid "$!"
wait_for_line "$TMPD/srv.out" '^serving' 5 "$!" || die "list server did not start"

INI=$TMPD/lsnitch.ini
write_file "$INI" <<EOF2
[global]
lists-dir = $LISTS

[policy a]
cgroup = $CGREL/guard/a
default = allow

[policy b]
cgroup = $CGREL/guard/b
default = allow

[list bad]
url = http://127.0.0.1:$PH/bad
kind = hosts
refresh = 1h

[list mine]
url = http://127.0.0.1:$PH/mine
kind = hosts
policy = a
EOF2

# lsnitch-update as nobody, in the group the agent's --control-group names
update() {
	setpriv --reuid 65534 --regid 65534 --clear-groups \
		"$UPD" --config "$INI" --socket "$S" --timeout 2 --max-size 100000 "$@" \
		>"$TMPD/upd.out" 2>"$TMPD/upd.err" 9>&-
	UPD_RC=$?
	cat "$TMPD/upd.out" "$TMPD/upd.err" | sed 's/^/    update: /'
}
state_error() { sed -n 's/^error=//p' "$LISTS/bad.state"; }

log "no copy yet: a warning, the agent runs"
start_agent --config "$INI" --control "$S" --control-group nogroup
assert_match "missing copy warned" "\\[list bad\\]: no copy in $LISTS yet" "$(cat "$AGENT_ERR")"
client_expect guard/a ok -- tcp 127.0.0.2 "$P1"
assert_match "status: no copy" "bad \\(hosts, \\(global\\)\\).*no copy downloaded yet" \
	"$(ctl status | tr '\n' ' ')"

log "200: installed, reloaded, enforced"
update
assert_eq "update exit" 0 "$UPD_RC"
assert_match "update says" "bad: updated, 1 entries" "$(cat "$TMPD/upd.out")"
assert_match "agent reloaded" "agent reloaded" "$(cat "$TMPD/upd.out")"
assert_eq "the copy" "$(cat "$SRV/bad")" "$(cat "$LISTS/bad")"
assert_eq "copy owned by the updater" 65534 "$(stat -c %u "$LISTS/bad")"
client_expect guard/a EPERM deny a "bad:2" blocklist -- tcp 127.0.0.2 "$P1"
client_expect guard/b EPERM deny b "bad:2" blocklist -- tcp 127.0.0.2 "$P1"
log "policy = a: only policy a's"
client_expect guard/a EPERM deny a "mine:1" blocklist -- tcp 127.0.0.4 "$P1"
client_expect guard/b ok -- tcp 127.0.0.4 "$P1"
log "control: outside the guarded cgroup"
client_expect outside ok -- tcp 127.0.0.2 "$P1"
assert_match "status: entries" "bad \\(hosts, \\(global\\)\\).* 1 entries, copy [0-9]+ s old" \
	"$(ctl status | tr '\n' ' ')"

log "not due: nothing fetched"
update
assert_match "not due" "bad: not due" "$(cat "$TMPD/upd.out")"

log "304: conditional GET, nothing changed"
update --force
assert_eq "update exit (304)" 0 "$UPD_RC"
assert_match "not modified" "bad: not modified" "$(cat "$TMPD/upd.out")"
assert_match "If-None-Match sent" 'GET /bad inm="[0-9a-f]+" ims=.* -> 304' "$(tail -n 2 "$TMPD/srv.out")"
assert_no_match "no reload on 304" "agent reloaded" "$(cat "$TMPD/upd.out")"

GOOD=$(cat "$LISTS/bad")
# fail MODE PATTERN: the update fails saying PATTERN; the last good copy stays in force
fail_case() {
	local mode=$1 pat=$2
	log "$mode: fails, the last good copy stays"
	echo "$mode" >"$SRV/mode"
	update --force
	assert_eq "$mode: update exit" 1 "$UPD_RC"
	assert_match "$mode: reason" "bad: FAILED: $pat.* \\(the last good copy stays\\)" \
		"$(cat "$TMPD/upd.err")"
	assert_match "$mode: recorded" "$pat" "$(state_error)"
	assert_eq "$mode: copy kept" "$GOOD" "$(cat "$LISTS/bad")"
	assert_eq "$mode: no download left" "" "$(ls -A "$LISTS" | grep download)"
	assert_match "$mode: status" "last update FAILED: $pat" "$(ctl status)"
	client_expect guard/a EPERM deny a "bad:2" blocklist -- tcp 127.0.0.2 "$P1"
}
fail_case 404 "HTTP status 404"
fail_case trunc "transfer closed with [0-9]+ bytes remaining"
fail_case big "larger than 100000 bytes, refused"
fail_case invalid "not a valid hosts list: line 1: "
fail_case slow "timed out after 2 s"
log "a reload keeps the copy (the agent reads the last good one)"
ctl reload >/dev/null
client_expect guard/a EPERM deny a "bad:2" blocklist -- tcp 127.0.0.2 "$P1"

log "200 again: a new list replaces the old, the error is cleared"
echo ok >"$SRV/mode"
printf '127.0.0.3\n' >"$SRV/bad"
update
assert_eq "update exit (new)" 0 "$UPD_RC"
assert_eq "error cleared" "" "$(state_error)"
client_expect guard/a EPERM deny a "bad:1" blocklist -- tcp 127.0.0.3 "$P1"
client_expect guard/a ok -- tcp 127.0.0.2 "$P1"
assert_no_match "status: no failure" "FAILED" "$(ctl status)"

stop_agent
finish
