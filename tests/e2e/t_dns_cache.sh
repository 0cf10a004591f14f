#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The proxy's answer cache, judged by what the upstream saw (dnsmasq --log-queries): a
# repeated question within the TTL is answered by the proxy (TTL lowered by the age, the
# asker's question case kept), and still records the asker's domain verdicts (a connect
# after the first verdict expired works only because the cached answer wrote it again);
# at the TTL's end the question goes upstream again; another policy never gets the
# first one's answer; a reload empties the cache; dns-cache = no relays every query.
. "$(dirname "$0")/lib.sh"
lsn_dns_setup guard/a guard/b

DNS4=127.0.0.153
CACHED=127.0.0.20 PLAIN=127.0.0.21
read -r P1 <<<"$(pick_ports 1)" || die "no free ports"
start_servers --tcp "$CACHED:$P1" --tcp "$PLAIN:$P1"
# TTL 3 s; verdicts last at least 6 s (dns-ttl-min), longer than the answers
start_dnsmasq "$DNS4" probe.test 127.0.0.22 --local-ttl=3 --log-queries \
	--host-record=cached.test,$CACHED --host-record=plain.test,$PLAIN \
	--host-record=probe.test,127.0.0.22 ||
	die "dnsmasq did not answer"
LOG=$TMPD/dnsmasq.log

write_ini() { # CACHE
	write_file "$TMPD/lsnitch.ini" <<EOF
[global]
dns-servers = $DNS4
dns-ttl-min = 6
dns-cache = $1

[policy a]
cgroup = $CGREL/guard/a
default = deny
allow-domain = cached.test:$P1/tcp
allow-domain = plain.test:$P1/tcp

[policy b]
cgroup = $CGREL/guard/b
default = deny
allow-domain = cached.test:$P1/tcp
EOF
}
# dig in CG for NAME: "TTL ADDRESS" of the answer (+nocookie: a client cookie is part of
# the question the cache matches, and dig makes a new one each run)
ask() { # CG NAME
	in_cg "$(cg_dir "$1")" dig +nocookie +noall +answer +time=2 +tries=1 @$DNS4 "$2" 2>&1 |
		awk '{ print $2, $5 }'
}
# how many queries for NAME dnsmasq logged (its log is written a moment later)
upstream() { sleep 0.2; count_lines "$LOG" "query\\[A\\] $1 from"; }

write_ini yes
start_agent --config "$TMPD/lsnitch.ini" --control "$S"

# --- the first question goes upstream; its repeat is answered from the cache
assert_eq "first answer (relayed)" "3 $CACHED" "$(ask guard/a cached.test)"
t0=$(date +%s%N)
assert_eq "plain.test answered (relayed, never asked again)" "3 $PLAIN" "$(ask guard/a plain.test)"
sleep 1
got=$(in_cg "$(cg_dir guard/a)" dig +nocookie +noall +answer +time=2 +tries=1 @$DNS4 CaChEd.TeSt)
assert_match "repeat after 1 s: from the cache, TTL lowered, the asker's case kept" \
	"^CaChEd\.TeSt\.[[:space:]]+[12][[:space:]]+IN[[:space:]]+A[[:space:]]+$(re_escape "$CACHED")$" "$got"
assert_eq "upstream saw cached.test once" 1 "$(upstream cached.test)"

# --- a cached answer records the asker's verdicts: at t0 + 2.2 s cached.test is answered
# from the cache, which writes its verdict for 6 s more; plain.test's ends at t0 + 6 s
sleep "$(awk -v t="$t0" -v n="$(date +%s%N)" 'BEGIN { s = 2.2 - (n - t) / 1e9; print (s > 0 ? s : 0) }')"
assert_match "answered from the cache before its TTL ends" "^[0-9] $(re_escape "$CACHED")$" \
	"$(ask guard/a cached.test)"
assert_eq "upstream still saw cached.test once" 1 "$(upstream cached.test)"
assert_eq "status counts the cached answers" 2 "$(jget "$(ctl --json status)" 'o["dns"]["cached"]')"
sleep "$(awk -v t="$t0" -v n="$(date +%s%N)" 'BEGIN { s = 7 - (n - t) / 1e9; print (s > 0 ? s : 0) }')"
client_expect guard/a EPERM -- tcp $PLAIN "$P1"
client_expect guard/a ok -- tcp $CACHED "$P1"

# --- the TTL is over: the question goes upstream again
assert_eq "after the TTL: relayed again" "3 $CACHED" "$(ask guard/a cached.test)"
assert_eq "upstream saw cached.test twice" 2 "$(upstream cached.test)"
assert_eq "and then it is cached again" "3 $CACHED" "$(ask guard/a cached.test)"
assert_eq "upstream: still twice" 2 "$(upstream cached.test)"

# --- another policy never gets policy a's answer
assert_eq "policy b's question goes upstream" "3 $CACHED" "$(ask guard/b cached.test)"
assert_eq "upstream saw cached.test a third time" 3 "$(upstream cached.test)"

# --- a reload empties the cache
reload_agent '^lsnitch-agent: reloaded'
assert_eq "after a reload: relayed" "3 $CACHED" "$(ask guard/a cached.test)"
assert_eq "upstream saw it after the reload" 4 "$(upstream cached.test)"

# --- dns-cache = no: every question is relayed
write_ini no
reload_agent '^lsnitch-agent: reloaded'
for i in 1 2 3; do
	assert_eq "dns-cache = no: answer $i" "3 $CACHED" "$(ask guard/a cached.test)"
done
assert_eq "dns-cache = no: upstream saw all three" 7 "$(upstream cached.test)"
client_expect guard/a ok -- tcp $CACHED "$P1"
finish
