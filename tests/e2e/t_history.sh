#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Flow history: a workload under an audit policy (TCP and UDP to several
# addresses, a name with two addresses resolved through the proxy, repeats)
# shows up in `lsnitch history --json` with the right counts and verdicts and
# in `top --once`; `lsnitch learn` prints a policy that passes --check and,
# enforcing, allows the same workload and denies a new destination. Then: an
# agent killed with -9 while it drains thousands of flows leaves a database
# that opens and passes integrity_check, and the next agent goes on adding to
# it; buckets older than the retention go at start; status shows the
# database (path, size, oldest, lost, last error); an
# unwritable history path leaves enforcement working (control: the same
# denials and allows) and status says why.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a guard/b guard/c

command -v dnsmasq >/dev/null || skip_env "dnsmasq is not installed (make deps installs it)"
command -v dig >/dev/null || skip_env "dig is not installed (make deps installs it)"
LSN=$LSN_ROOT/build/lsnitch
DB=$TMPD/history.db
DNS4=127.0.0.153 WEB1=127.0.0.12 WEB2=127.0.0.13
read -r P1 P2 <<<"$(pick_ports 2)" || die "no free ports"
start_servers --tcp "127.0.0.2:$P1" --udp "127.0.0.3:$P1" --tcp "[::1]:$P2" \
	--tcp "$WEB1:$P1" --tcp "$WEB2:$P1" --tcp "127.0.0.5:$P1"
start_dnsmasq "$DNS4" web.test "$WEB1" --host-record=web.test,$WEB1 \
	--host-record=web.test,$WEB2 || die "dnsmasq did not answer"

write_file "$TMPD/audit.ini" <<END
[policy w]
cgroup = $CGREL/guard/a
default = deny
audit = yes
allow = 127.0.0.2

[policy bulk]
cgroup = $CGREL/guard/b
default = allow

[policy exact]
cgroup = $CGREL/guard/c
default = allow
END

hist() { "$LSN" --history "$DB" "$@"; }
# sql QUERY: one value from the database (python's sqlite3, read-only)
sql() { "$PY" -c 'import sqlite3, sys
d = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
print(d.execute(sys.argv[2]).fetchone()[0])' "$DB" "$1"; }
# flow_count JSON ADDR PORT PROTO VERDICT [NAME]: the count history --json gives the flow
flow_count() { "$PY" -c 'import json, sys
o = json.loads(sys.argv[1]); a = sys.argv[2:]
print(sum(f["count"] for f in o["flows"] if [f["addr"], str(f["port"]), f["proto"], f["verdict"]]
          == a[:4] and (len(a) < 5 or f["name"] == a[4])))' "$@"; }
# jq_py EXPR: EXPR (python, on o) of the JSON answer on stdin
jq_py() { "$PY" -c 'import json, sys, time; o = json.load(sys.stdin); print(eval(sys.argv[1]))' "$@"; }
resolve_in() { in_cg "$(cg_dir "$1")" dig +short +time=2 +tries=1 "@$DNS4" web.test | sort | tr '\n' ' '; }
# workload CG: the same connections each time; prints each result
workload() {
	local i
	for i in 1 2 3; do run_client "$1" tcp 127.0.0.2 "$P1"; done
	for i in 1 2; do run_client "$1" udp-sendto 127.0.0.3 "$P1" --recv; done
	run_client "$1" tcp ::1 "$P2"
	resolve_in "$1" >/dev/null
	for i in 1 2; do run_client "$1" tcp "$WEB1" "$P1"; done
	run_client "$1" tcp "$WEB2" "$P1"
}
# wait_flows PRED: until the last hour's history --json satisfies PRED (python, on o)
wait_flows() {
	local t
	for t in $(seq 40); do
		[ "$(hist --json history --since 1h | jq_py "$1" 2>/dev/null)" = True ] && return 0
		sleep 0.25
	done
	return 1
}

log "an audit workload, counted"
start_agent --config "$TMPD/audit.ini" --control "$TMPD/ctl.sock"
assert_eq "the history database is 0600" 600 "$(stat -c %a "$DB")"
assert_eq "web.test resolves to two addresses in the cgroup" "$WEB1 $WEB2 " "$(resolve_in guard/a)"
out=$(workload guard/a | sort | uniq -c | tr -s ' ')
assert_eq "audit: every connection of the workload goes through" " 9 ok" "$out"
wait_flows 'sum(f["count"] for f in o["flows"] if f["policy"] == "w" and f["verdict"] != "redirect") >= 9' ||
	fail "the workload did not reach the history within 10 s"
J=$(hist --json history --policy w)
assert_eq "history: tcp 127.0.0.2 allowed 3 times" 3 "$(flow_count "$J" 127.0.0.2 "$P1" tcp allow)"
assert_eq "history: udp 127.0.0.3 would-deny 2 times" 2 "$(flow_count "$J" 127.0.0.3 "$P1" udp would-deny)"
assert_eq "history: tcp ::1 would-deny once" 1 "$(flow_count "$J" ::1 "$P2" tcp would-deny)"
assert_eq "history: $WEB1 named web.test, 2 times" 2 "$(flow_count "$J" "$WEB1" "$P1" tcp would-deny web.test)"
assert_eq "history: $WEB2 named web.test, once" 1 "$(flow_count "$J" "$WEB2" "$P1" tcp would-deny web.test)"
assert_match "history: the DNS query is a redirect to the proxy" \
	'"addr":"127\.0\.0\.153","name":"","port":53,"proto":"udp","verdict":"redirect"' "$J"
J=$(hist --json history --policy w --verdict allow)
assert_eq "history --verdict allow: only the allowed flow" "1 3" \
	"$(echo "$J" | jq_py '"%d %d" % (len(o["flows"]), o["flows"][0]["count"])')"
J=$(hist --json history --dest web.test)
assert_eq "history --dest NAME: both addresses" 3 "$(echo "$J" | jq_py 'sum(f["count"] for f in o["flows"])')"
J=$(hist --json history --cgroup "$CGREL/guard/b")
assert_eq "history --cgroup: nothing from another cgroup" 0 "$(echo "$J" | jq_py 'len(o["flows"])')"
out=$(hist top --once)
assert_match "top --once lists the busiest flow" " 3 +allow +w .*127\.0\.0\.2 +$P1/tcp" "$out"
assert_match "top --once lists the named flow" "web\.test \($WEB1\)" "$out"
assert_match "top --once --json" '"flows":\[\{' "$(hist --json top --once)"
assert_match "history refuses a bad --verdict" "must be" "$(hist history --verdict maybe 2>&1)"
ST=$("$LSN" --socket "$TMPD/ctl.sock" --json status)
assert_eq "status: the history database, open, no error" "$DB True True" \
	"$(echo "$ST" | jq_py '"%s %s %s" % (o["history"]["path"], o["history"]["open"], o["history"]["last_error"] == "")')"
assert_eq "status: its bytes in use, the oldest bucket (this run), what was lost" "True True 0" \
	"$(echo "$ST" | jq_py '"%s %s %d" % (o["history"]["bytes"] > 0, time.time() - 600 < o["history"]["oldest"] <= time.time(), o["history"]["lost"])')"
assert_match "status (text): the history line" "history: .*history\.db, [0-9.]+ MiB in use of 256 MiB, since 2" \
	"$("$LSN" --socket "$TMPD/ctl.sock" status)"

log "every verdict counted once: 5000 connect()s, most answered by the verdict cache, across flips"
# Five bursts of 1000 UDP connect()s to 127.0.0.7:9 (no packet is sent), 0.6 s apart: they
# span at least one flip of the kernel's flow cache halves (every 2 s), where a cached
# verdict's remembered flow slot goes stale and the flow is counted afresh.
in_cg "$(cg_dir guard/c)" "$PY" -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(5):
    for _ in range(1000):
        s.connect(("127.0.0.7", 9))
    time.sleep(0.6)' || fail "the connect() loop failed"
EXACT='sum(f["count"] for f in o["flows"] if f["policy"] == "exact")'
wait_flows "$EXACT >= 5000" || fail "the 5000 connect()s never reached the history"
sleep 4.5 # two more intervals: a count that came twice would show by now
assert_eq "history: 5000 connect()s counted, each once" 5000 \
	"$(hist --json history --policy exact --since 1h | jq_py "$EXACT")"

log "a full flow table: every verdict counted, in a flow or as lost"
# 30000 datagrams to 30000 ports of 127.0.0.8 in a fraction of a second: more new flows
# than the kernel's table holds between two drains. Each verdict is counted exactly once,
# in its flow or in the lost count (whatever the backoff after a full table skips).
in_cg "$(cg_dir guard/c)" "$PY" -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for p in range(30000, 60000):
    s.sendto(b"x", ("127.0.0.8", p))' || fail "the sendto() loop failed"
lost() { "$LSN" --socket "$TMPD/ctl.sock" --json status | jq_py 'o["history"]["lost"]'; }
SCAN='sum(f["count"] for f in o["flows"] if f["addr"] == "127.0.0.8")'
for _ in $(seq 40); do
	n=$(hist --json history --policy exact --since 1h | jq_py "$SCAN") l=$(lost)
	[ $((n + l)) -ge 30000 ] && break
	sleep 0.25
done
sleep 4.5 # two more intervals: a count that came twice would show by now
n=$(hist --json history --policy exact --since 1h | jq_py "$SCAN") l=$(lost)
assert_eq "30000 verdicts: counted in flows ($n) or lost ($l), each once" 30000 $((n + l))
assert_eq "the table overflowed (some were lost)" True "$([ "$l" -gt 0 ] && echo True || echo False)"

log "learn: a policy from what was seen"
hist learn --policy w >"$TMPD/learned.ini" || fail "lsnitch learn failed"
L=$(cat "$TMPD/learned.ini")
assert_match "learn: allow-domain for the name" "allow-domain = web\.test:$P1/tcp" "$L"
assert_eq "learn: one rule for the name's two addresses" 1 "$(grep -c '^allow-domain' "$TMPD/learned.ini")"
assert_match "learn: address rules with port and protocol" \
	"allow = 127\.0\.0\.2:$P1/tcp.*allow = 127\.0\.0\.3:$P1/udp.*allow = \[::1\]:$P2/tcp" \
	"$(tr '\n' ' ' <"$TMPD/learned.ini")"
assert_match "learn: each rule commented with counts and first/last seen" \
	"# 3 times, first [0-9-]+ [0-9:]+, last [0-9-]+ [0-9:]+ UTC allow = 127\.0\.0\.2" \
	"$(tr '\n' ' ' <"$TMPD/learned.ini")"
assert_match "learn: default = deny" "default = deny" "$L"
assert_eq "learn: the DNS server asked, as dns-servers (no address rule for it)" \
	"dns-servers = 127.0.0.153" "$(grep -v '^#' "$TMPD/learned.ini" | grep '127\.0\.0\.153')"
assert_eq "learn: no audit" 0 "$(grep -c '^audit' "$TMPD/learned.ini")"
out=$("$AGENT" --check --config "$TMPD/learned.ini" 2>&1)
assert_match "the learned policy passes --check as printed" "configuration OK" "$out"
stop_agent || fail "the agent exited with status $AGENT_RC on SIGTERM"

log "the learned policy, enforcing"
start_agent --config "$TMPD/learned.ini"
out=$(workload guard/a | sort | uniq -c | tr -s ' ')
assert_eq "enforcing: the same workload goes through" " 9 ok" "$out"
assert_eq "enforcing: a new destination is denied" EPERM "$(run_client guard/a tcp 127.0.0.5 "$P1")"
assert_eq "enforcing: a new port of a known address is denied" EPERM \
	"$(run_client guard/a tcp 127.0.0.2 "$P2")"
assert_eq "control: the new destination from outside" ok "$(run_client outside tcp 127.0.0.5 "$P1")"
wait_flows 'any(f["verdict"] == "deny" and f["addr"] == "127.0.0.5" for f in o["flows"])' ||
	fail "the denial did not reach the history"
stop_agent || fail "the agent exited with status $AGENT_RC on SIGTERM"

log "kill -9 while thousands of flows are drained"
# UDP to 127.0.0.4 on 4000 ports, over and over for 4 s: no listener needed.
BULK='import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + 8
while time.time() < end:
    for p in range(20000, 24000):
        s.sendto(b"x", ("127.0.0.4", p))'
start_agent --config "$TMPD/audit.ini"
in_cg "$(cg_dir guard/b)" "$PY" -c "$BULK" &
BULK_PID=$!
track_pid "$BULK_PID"
for _ in $(seq 40); do
	[ "$(sql "SELECT count(*) FROM flow_keys WHERE policy = 'bulk'")" -gt 1000 ] && break
	sleep 0.25
done
stop_agent KILL quiet || true
assert_eq "after kill -9: integrity_check" ok "$(sql 'PRAGMA integrity_check')"
kill -0 "$BULK_PID" 2>/dev/null || fail "the bulk sender ended before the kill"
before=$(sql "SELECT count(*) FROM flow_keys WHERE policy = 'bulk'")
[ "$before" -gt 1000 ] || fail "only $before bulk flows were stored before the kill"
start_agent --config "$TMPD/audit.ini"
wait "$BULK_PID"
assert_eq "after restart: the workload goes on" ok "$(run_client guard/a tcp 127.0.0.2 "$P1")"
wait_flows '"bulk" in [f["policy"] for f in o["flows"]] and sum(f["count"] for f in o["flows"] if f["policy"] == "bulk") > 0' ||
	fail "no bulk flows in the history"
t0=$(date +%s)
run_client guard/b udp-sendto 127.0.0.4 25000 >/dev/null
wait_flows 'any(f["port"] == 25000 for f in o["flows"])' ||
	fail "the history did not go on after the restart"
assert_eq "after restart: integrity_check" ok "$(sql 'PRAGMA integrity_check')"
stop_agent || fail "the agent exited with status $AGENT_RC on SIGTERM"

log "retention: buckets older than 30 days go at start"
now=$(date +%s)
"$PY" - "$DB" "$now" <<'END'
import sqlite3, sys
d = sqlite3.connect(sys.argv[1]); now = int(sys.argv[2])
d.execute("INSERT INTO flow_keys (cgroup, policy, addr, name, port, proto, verdict, reason, rule)"
          " VALUES ('/old', 'w', '127.0.0.9', '', 9, 'tcp', 'allow', 'rule', '-')")
k = d.execute("SELECT id FROM flow_keys WHERE cgroup = '/old'").fetchone()[0]
for age in (40 * 86400, 2 * 86400):
    m = (now - age) // 60 * 60
    d.execute("INSERT INTO buckets VALUES (?, ?, 1, ?, ?)", (m, k, m, m))
d.commit()
END
assert_eq "two hand-made buckets" 2 "$(sql "SELECT count(*) FROM buckets WHERE minute < $((now - 86400))")"
start_agent --config "$TMPD/audit.ini"
assert_eq "the 40-day-old bucket is gone, the 2-day-old one stays" 1 \
	"$(sql "SELECT count(*) FROM buckets WHERE minute < $((now - 86400))")"
assert_match "the agent says so" "history: 1 old buckets removed" "$(cat "$AGENT_ERR")"
stop_agent || fail "the agent exited with status $AGENT_RC on SIGTERM"

log "a read-only state directory: no history, enforcement as ever"
mkdir "$TMPD/state"
mount --bind "$TMPD/state" "$TMPD/state" && mount -o remount,bind,ro "$TMPD/state" ||
	die "cannot make a read-only bind mount"
start_agent --config "$TMPD/learned.ini" --history "$TMPD/state/lsnitch/history.db" \
	--control "$TMPD/ctl.sock"
umount -l "$TMPD/state"
assert_match "the agent warns and goes on" "continuing without history" "$(cat "$AGENT_ERR")"
assert_eq "status: the database is not open, and why" "False True" \
	"$("$LSN" --socket "$TMPD/ctl.sock" --json status | jq_py '"%s %s" % (o["history"]["open"], "history" in o["history"]["last_error"])')"
assert_eq "read-only history: an allowed destination" ok "$(run_client guard/a tcp 127.0.0.2 "$P1")"
assert_eq "read-only history: a new destination is denied" EPERM \
	"$(run_client guard/a tcp 127.0.0.5 "$P1")"
stop_agent || fail "the agent exited with status $AGENT_RC on SIGTERM"
finish
