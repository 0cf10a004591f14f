#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# DNS in audit mode: with `audit = yes` in a policy, and separately with the
# global --audit, a name on the domain blocklist (asked, or a CNAME target in
# the answer) is resolved by the real dnsmasq as usual, its answer recorded
# (a deny-domain rule then sees the address), and reported once as
# "would-deny dns NAME ... reason=domain-blocklist". Control: a policy
# without audit, and the guarded cgroup's implicit policy, still get
# NXDOMAIN and a "deny dns" event for the same names.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a guard/b

command -v dnsmasq >/dev/null || skip_env "dnsmasq is not installed (make deps installs it)"
command -v dig >/dev/null || skip_env "dig is not installed (make deps installs it)"

DNS4=127.0.0.153 OTHER=127.0.0.12 CLOAKED=127.0.0.13 BLOCKED=127.0.0.14
read -r P1 <<<"$(pick_ports 1)" || die "no free ports"
start_servers --tcp "$BLOCKED:$P1"

start_dnsmasq "$DNS4" other.test "$OTHER" --host-record=other.test,$OTHER \
	--host-record=real.blocked.test,$CLOAKED --cname=cloak.test,real.blocked.test \
	--address=/blocked.test/$BLOCKED
assert_eq "dnsmasq answers outside any guarded cgroup" "$OTHER" \
	"$(dig +short +time=1 +tries=1 @$DNS4 other.test)"

write_file "$TMPD/domains.txt" <<EOF
# test domain blocklist
blocked.test
EOF
write_file "$TMPD/lsnitch.ini" <<EOF
[global]
blocked-domains = domains.txt

[policy watched]
cgroup = $CGREL/guard/a
audit = yes
deny-domain = blocked.test

[policy enforced]
cgroup = $CGREL/guard/b
EOF
L_BLK=$(re_escape "domains.txt:$(line_of "$TMPD/domains.txt" "blocked.test")")
L_DENY=$(re_escape "lsnitch.ini:$(line_of "$TMPD/lsnitch.ini" "deny-domain")")

digq() { # CG ARGS...: dig in CG
	local dir
	dir=$(cg_dir "$1")
	shift
	in_cg "$dir" dig +time=2 +tries=1 @$DNS4 "$@" 2>&1
}
status_of() { sed -n 's/.*status: \([A-Z]*\).*/\1/p' | head -1; }
# dns_event VERDICT NAME QTYPE POLICY CG: the event line of a listed name, naming the asker
dns_event() {
	printf '^%s dns %s pid=[0-9]+ tid=[0-9]+ comm=[^ ]+ uid=0 gid=0 (exe=[^ ]+ )?qtype=%s client=127\\.0\\.0\\.1:[0-9]+ cgroup=%s policy=%s rule=([^ ]*/)?%s %s$' \
		"$1" "$(re_escape "$2")" "$3" "$(re_escape "/$CGREL/$5")" "$(re_escape "$4")" "$L_BLK" \
		reason=domain-blocklist
}
# audited CG POLICY: listed names resolve in CG and are reported as would-deny
audited() {
	local cg=$1 policy=$2
	ev_mark
	assert_eq "$cg: listed name resolves (audit)" "$BLOCKED" "$(digq "$cg" +short x.blocked.test)"
	expect_event "$(dns_event would-deny x.blocked.test A "$policy" "$cg")"
	ev_mark
	assert_eq "$cg: listed name over TCP resolves (audit)" "$BLOCKED" \
		"$(digq "$cg" +tcp +short x.blocked.test)"
	expect_event "$(dns_event would-deny x.blocked.test A "$policy" "$cg")"
	ev_mark
	assert_eq "$cg: CNAME to a listed name resolves (audit)" "$CLOAKED" \
		"$(digq "$cg" +short cloak.test | tail -1)"
	expect_event "$(dns_event would-deny real.blocked.test A "$policy" "$cg")"
}
# blocked CG POLICY: listed names get NXDOMAIN in CG and a deny event
blocked() {
	local cg=$1 policy=$2
	ev_mark
	assert_eq "$cg: listed name, no audit" NXDOMAIN "$(digq "$cg" x.blocked.test | status_of)"
	expect_event "$(dns_event deny x.blocked.test A "$policy" "$cg")"
	ev_mark
	assert_eq "$cg: CNAME to a listed name, no audit" NXDOMAIN "$(digq "$cg" cloak.test | status_of)"
	expect_event "$(dns_event deny real.blocked.test A "$policy" "$cg")"
}

log "audit = yes in one policy"
start_agent --config "$TMPD/lsnitch.ini"
audited guard/a watched
# the audited answer was recorded: the deny-domain rule sees the address (audit: not denied)
ev_mark
digq guard/a +short x.blocked.test >/dev/null
expect_event "$(dns_event would-deny x.blocked.test A watched guard/a)"
client_expect guard/a ok -- tcp $BLOCKED "$P1"
expect_event "^would-deny tcp $(re_escape "$BLOCKED:$P1") .*policy=watched rule=([^ ]*/)?$L_DENY \
reason=domain hook=connect4 name=x\.blocked\.test$"
blocked guard/b enforced
blocked guard -
assert_eq "outside: the name reaches dnsmasq" "$BLOCKED" \
	"$(dig +short +time=2 +tries=1 @$DNS4 x.blocked.test)"
# one event per query: an audited question is not reported again for its answer
assert_no_other_events
stop_agent || fail "the agent exited with status $AGENT_RC on SIGTERM"

log "global --audit"
start_agent --config "$TMPD/lsnitch.ini" --audit
audited guard/b enforced
audited guard -
audited guard/a watched
assert_no_other_events
finish
