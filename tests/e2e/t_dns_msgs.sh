#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The proxy's answers, message by message, against a real dnsmasq (127.0.0.161):
#   - an answer with 300 addresses is recorded whole before it is relayed:
#     under deny-domain the 1st, 257th and 300th addresses are all denied
#     (outside the cgroup they are reachable: control); one with 1100
#     addresses (more than the proxy records) is not relayed: SERVFAIL;
#   - a blocked name's reply keeps EDNS (an OPT record) when the query had it,
#     and has none when it had none;
#   - a query with another opcode (STATUS) gets NOTIMP over UDP and TCP;
#   - a reply that comes after the proxy gave up (a server answering after
#     5 s, 127.0.0.162) is counted late, not forged.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a

command -v dnsmasq >/dev/null || skip_env "dnsmasq is not installed (make deps installs it)"
command -v dig >/dev/null || skip_env "dig is not installed (make deps installs it)"

DNS=127.0.0.161 SLOW=127.0.0.162
FIRST=127.0.1.1 A257=127.0.2.7 A300=127.0.2.50
read -r P1 <<<"$(pick_ports 1)" || die "no free ports"
start_servers --tcp "$FIRST:$P1" --tcp "$A257:$P1" --tcp "$A300:$P1"
"$PY" -c '
for i in range(300): print("127.0.%d.%d mid.test" % (1 + i // 250, 1 + i % 250))
for i in range(1100): print("127.1.%d.%d big.test" % (i // 250, 1 + i % 250))' >"$TMPD/hosts"
start_dnsmasq "$DNS" other.test 127.0.0.31 --host-record=other.test,127.0.0.31 \
	--addn-hosts="$TMPD/hosts" || die "the test resolver does not answer"
assert_eq "dnsmasq: mid.test has 300 addresses" 300 \
	"$(dig +tcp +short +time=2 +tries=1 @$DNS mid.test | wc -l)"
"$PY" -u "$LSN_E2E_DIR/dns_sink.py" "$SLOW" "$TMPD/slow.log" --delay 5 >"$TMPD/slow.out" 2>&1 &
track_pid "$!"
wait_for_line "$TMPD/slow.out" '^ready$' 5 "$!" || die "the slow server did not start"

write_file "$TMPD/domains.txt" <<<"blocked.test"
# the proxy's 64 ports, away from any other agent on this machine
read -r DNSPORT _ <<<"$(pick_ports 64)" || die "no free ports"
write_file "$TMPD/lsnitch.ini" <<EOF
[global]
dns-servers = $DNS $SLOW
dns-port = $DNSPORT
blocked-domains = domains.txt

[policy p]
cgroup = $CGREL/guard/a
deny-domain = mid.test big.test
EOF
digq() { # ARGS...: dig in guard/a
	in_cg "$CG/guard/a" dig +time=2 +tries=1 "$@" 2>&1
}
status_of() { sed -n 's/.*status: \([A-Z]*\).*/\1/p' | head -1; }

start_agent --config "$TMPD/lsnitch.ini"

# --- every address of an answer is recorded, or the answer is not relayed
assert_eq "mid.test: all 300 addresses relayed" 300 "$(digq +tcp +short @$DNS mid.test | wc -l)"
client_expect guard/a EPERM -- tcp $FIRST "$P1"
client_expect guard/a EPERM -- tcp $A257 "$P1"
client_expect guard/a EPERM -- tcp $A300 "$P1"
client_expect outside ok -- tcp $A300 "$P1"
assert_eq "big.test: 1100 addresses are not relayed" SERVFAIL "$(digq +tcp @$DNS big.test | status_of)"
assert_eq "a name with one address still resolves" 127.0.0.31 "$(digq +short @$DNS other.test)"

# --- block replies keep EDNS
out=$(digq @$DNS blocked.test)
assert_eq "blocked, EDNS query" NXDOMAIN "$(status_of <<<"$out")"
assert_match "the block reply has an OPT record" "OPT PSEUDOSECTION" "$out"
out=$(digq +noedns @$DNS blocked.test)
assert_eq "blocked, plain query" NXDOMAIN "$(status_of <<<"$out")"
assert_no_match "the block reply has no OPT record" "OPT PSEUDOSECTION" "$out"

# --- other opcodes: NOTIMP (4), id kept
ask() { in_cg "$CG/guard/a" "$PY" "$LSN_E2E_DIR/dns_ask.py" "$@" 2>&1 | cut -d' ' -f2-; }
assert_eq "opcode STATUS over UDP" "rcode=4 id=ok" "$(ask $DNS other.test --opcode 2)"
assert_eq "opcode STATUS over TCP" "rcode=4 id=ok" "$(ask $DNS other.test --opcode 2 --tcp)"
assert_eq "a QUERY on the same TCP path still works" "rcode=0 id=ok" "$(ask $DNS other.test --tcp)"

# --- a late reply is not a forged one
assert_eq "slow server: SERVFAIL after the proxy's timeout" SERVFAIL \
	"$(in_cg "$CG/guard/a" dig +time=9 +tries=1 @$SLOW late.test 2>&1 | status_of)"
sleep 2
assert_eq "the slow server got the query" 1 "$(count_lines "$TMPD/slow.log" ' late\.test$')"
stop_agent || fail "the agent exited with status $AGENT_RC on SIGTERM"
assert_match "the late reply is counted late, not forged" \
	"timeouts \(1 late replies\), 0 malformed, 0 forged replies dropped" "$(cat "$AGENT_ERR")"
finish
