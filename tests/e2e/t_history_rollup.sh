#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Flow history roll-ups, with the real agent: 1) a database of minutes
# (bench/history_fill's, 10 hours) that the agent rolls up into hours and
# days answers `lsnitch history` over ranges with unaligned edges exactly as
# it did from minutes alone (counts, first and last seen); 2) an agent killed
# with -9 while it catches up on a larger one leaves a database that passes
# integrity_check, whose level marks agree with its tables, that answers the
# same, and the next agent carries on rolling up. Meanwhile enforcement goes
# on (control: an allowed and a denied connection from the guarded cgroup).
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a

LSN=$LSN_ROOT/build/lsnitch
FILL=$LSN_ROOT/build/bench/history_fill
[ -x "$FILL" ] || die "$FILL is missing: run make"
read -r P1 <<<"$(pick_ports 1)" || die "no free ports"
start_servers --tcp "127.0.0.2:$P1" --tcp "127.0.0.3:$P1"
write_file "$TMPD/p.ini" <<END
[policy w]
cgroup = $CGREL/guard/a
default = deny
allow = 127.0.0.2
END

jq_py() { "$PY" -c 'import json, sys; o = json.load(sys.stdin); print(eval(sys.argv[1]))' "$@"; }
# sql DB QUERY: one value (python's sqlite3, read-only)
sql() { "$PY" -c 'import sqlite3, sys
d = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
print(d.execute(sys.argv[2]).fetchone()[0])' "$@"; }
# flows DB SINCE UNTIL: the answer of `history`, one line per flow
flows() { "$LSN" --history "$1" --json history --since "@$2" --until "@$3" |
	jq_py '"\n".join("%s %s %s %d %d %d" % (f["addr"], f["port"], f["verdict"], f["count"], f["first"], f["last"]) for f in sorted(o["flows"], key=lambda f: (f["addr"], f["port"])))'; }
# answers DB TAG: each range's answer into $TMPD/TAG.N
answers() {
	local r i=0
	for r in $RANGES; do
		flows "$1" "${r%:*}" "${r#*:}" >"$TMPD/$2.$i"
		[ -s "$TMPD/$2.$i" ] || fail "history ${r%:*}..${r#*:} ($2): nothing"
		i=$((i + 1))
	done
}
# digest FILE: its flows, counted, and a hash of every line
digest() { echo "$(wc -l <"$1") flows, $(sha1sum <"$1" | cut -c1-16)"; }
# same TAG1 TAG2 WHAT: each range answered alike (on a difference, the first lines of it)
same() {
	local r a b i=0
	for r in $RANGES; do
		a=$(digest "$TMPD/$1.$i") b=$(digest "$TMPD/$2.$i")
		assert_eq "$3: history @${r%:*} .. @${r#*:} the same (counts, first, last)" "$a" "$b"
		[ "$a" = "$b" ] || diff "$TMPD/$1.$i" "$TMPD/$2.$i" | head -5 | sed 's/^/    | /'
		i=$((i + 1))
	done
}
# rolled DB LEVEL: that level's rolled_to mark
rolled() { sql "$1" "SELECT rolled_to FROM levels WHERE name = '$2'"; }
# marks_agree DB: what each level says it rolled up is all there, once
marks_agree() { sql "$1" "SELECT (SELECT total(count) FROM hours) =
	(SELECT total(count) FROM buckets WHERE minute < (SELECT rolled_to FROM levels WHERE name = 'hour'))
	AND (SELECT total(count) FROM days) =
	(SELECT total(count) FROM hours WHERE hour < (SELECT rolled_to FROM levels WHERE name = 'day'))"; }
enforcing() {
	assert_eq "$1: an allowed destination" ok "$(run_client guard/a tcp 127.0.0.2 "$P1")"
	assert_eq "$1: another is denied" EPERM "$(run_client guard/a tcp 127.0.0.3 "$P1")"
}

log "a database of minutes, rolled up by the agent, answers as before"
DB=$TMPD/small.db
"$FILL" "$DB" 40 600 >/dev/null || fail "history_fill failed"
now=$(date +%s)
RANGES="$((now - 36000)):$now $((now - 30000 + 437)):$((now - 7200 - 61)) $((now - 33000)):$((now - 3 * 3600 + 1799))"
answers "$DB" small.before
assert_eq "the fixture has no roll-ups yet" 0 "$(sql "$DB" 'SELECT count(*) FROM hours')"
start_agent --config "$TMPD/p.ini" --history "$DB"
for _ in $(seq 40); do
	[ "$(rolled "$DB" hour)" -ge $((now - 300)) ] && break
	sleep 0.25
done
enforcing "while rolling up"
stop_agent || fail "the agent exited with status $AGENT_RC on SIGTERM"
assert_eq "the agent rolled the minutes up into hours" 1 \
	"$(sql "$DB" "SELECT rolled_to >= $((now - 300)) AND (SELECT count(*) FROM hours) >= 40 * 9 FROM levels WHERE name = 'hour'")"
assert_eq "and whole hours into days" 1 "$(sql "$DB" "SELECT rolled_to >= $((now - 3 * 3600)) FROM levels WHERE name = 'day'")"
assert_eq "the marks agree with the tables" 1 "$(marks_agree "$DB")"
answers "$DB" small.after
same small.before small.after "rolled up"

log "kill -9 while the agent catches up on a larger database"
DB=$TMPD/big.db
"$FILL" "$DB" 3000 600 >/dev/null || fail "history_fill failed"
now=$(date +%s)
RANGES="$((now - 36000)):$now $((now - 30000 + 437)):$((now - 7200 - 61))"
answers "$DB" big.before
start_agent --config "$TMPD/p.ini" --history "$DB"
for _ in $(seq 80); do
	[ "$(rolled "$DB" hour)" -gt 0 ] && break
	sleep 0.05
done
stop_agent KILL quiet || true
at=$(rolled "$DB" hour)
log "killed with hours rolled up to $at ($(( (now - at) / 60 )) minutes before the end)"
[ "$at" -gt 0 ] || fail "the agent had rolled up nothing before the kill"
[ "$at" -lt $((now - 600)) ] || log "(the catch-up had nearly ended: the kill may have missed it)"
assert_eq "after kill -9: integrity_check" ok "$(sql "$DB" 'PRAGMA integrity_check')"
assert_eq "after kill -9: the marks agree with the tables" 1 "$(marks_agree "$DB")"
answers "$DB" big.killed
same big.before big.killed "after kill -9"
start_agent --config "$TMPD/p.ini" --history "$DB"
for _ in $(seq 80); do
	[ "$(rolled "$DB" hour)" -gt "$at" ] && break
	sleep 0.1
done
enforcing "the next agent"
stop_agent || fail "the agent exited with status $AGENT_RC on SIGTERM"
assert_eq "the next agent carries on rolling up" 1 "$(sql "$DB" "SELECT rolled_to > $at FROM levels WHERE name = 'hour'")"
assert_eq "and the marks still agree" 1 "$(marks_agree "$DB")"
answers "$DB" big.after
same big.before big.after "after the restart"
finish
