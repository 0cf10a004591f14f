#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "lsnitch explain" agrees with the kernel. For each case a real connect() or
# sendto() from the guarded cgroup is checked (its result and the event's
# verdict, policy, rule and reason), then "explain --json --cgroup" is asked
# about the same destination and must give the same verdict, policy, rule and
# reason: exact, CIDR, port and protocol rules allowing and denying, IPv6, the
# global and a policy's own blocklist, default deny and default allow, the
# implicit policy, a policy inherited by a nested cgroup, and live DNS: an
# allow-domain answer from a real dnsmasq opens an address in a default-deny
# policy and a deny-domain answer closes one in a default-allow policy -- in
# the kernel and in explain alike, before the answer, while it lives and
# after its TTL.
. "$(dirname "$0")/lib.sh"
lsn_dns_setup guard/r guard/b guard/n/x/y guard/d guard/e

DNS4=127.0.0.156
API=127.0.0.20 TRACK=127.0.0.21
read -r P1 P2 <<<"$(pick_ports 2)" || die "no free ports"
srv=()
for a in 127.0.0.2 127.0.0.3 127.0.1.5 127.0.1.7 127.0.0.9 127.0.0.11 127.0.0.12 $API $TRACK; do
	srv+=(--tcp "$a:$P1" --tcp "$a:$P2")
done
start_servers "${srv[@]}" --udp "127.0.0.3:$P1" --tcp "[::1]:$P1" --tcp "[::1]:$P2"

# TTL 4 s: long enough for a connect and an explain, short enough to wait out.
start_dnsmasq "$DNS4" api.test "$API" --local-ttl=4 --host-record=api.test,$API \
	--host-record=tracker.test,$TRACK
assert_eq "dnsmasq answers" "$API" "$(dig +short +time=1 +tries=1 @$DNS4 api.test)"

write_file "$TMPD/global_hosts.txt" <<EOF
127.0.0.9
EOF
write_file "$TMPD/own_hosts.txt" <<EOF
127.0.0.11
EOF
INI=$TMPD/explain.ini
write_file "$INI" <<EOF
[global]
log-allowed = yes
dns-servers = $DNS4
dns-ttl-min = 1

[policy rules]
cgroup = $CGREL/guard/r
default = deny
allow = 127.0.0.2:$P1/tcp
allow = 127.0.1.0/24
deny = 127.0.1.5
allow = 127.0.0.3:$P1/udp
allow = [::1]:$P1/tcp

[policy lists]
cgroup = $CGREL/guard/b
blocked-hosts = own_hosts.txt
allow = 127.0.0.9:$P1

[policy nested]
cgroup = $CGREL/guard/n
default = deny
allow = 127.0.0.12:$P1

[policy api-only]
cgroup = $CGREL/guard/d
default = deny
allow-domain = api.test:$P1/tcp

[policy no-tracker]
cgroup = $CGREL/guard/e
deny-domain = tracker.test
EOF
L() { printf 'explain.ini:%s' "$(line_of "$INI" "$1")"; }
R_EXACT=$(L "allow = 127.0.0.2:") R_CIDR=$(L "allow = 127.0.1.0/24") R_IN=$(L "deny = 127.0.1.5")
R_UDP=$(L "allow = 127.0.0.3:") R_V6=$(L "allow = [::1]") D_RULES=$(L "default = deny")
R_LISTS=$(L "allow = 127.0.0.9:") D_LISTS=$(L "[policy lists]")
R_NEST=$(L "allow = 127.0.0.12:")
D_NEST=explain.ini:$(($(line_of "$INI" "cgroup = $CGREL/guard/n") + 1))
R_API=$(L "allow-domain") D_API=explain.ini:$(($(line_of "$INI" "cgroup = $CGREL/guard/d") + 1))
R_TRACK=$(L "deny-domain") D_TRACK=$(L "[policy no-tracker]")
G9=global_hosts.txt:1 O11=own_hosts.txt:1


# explain_agrees CGNAME VERDICT POLICY RULE REASON MODE ADDR PORT: explain says
# what the kernel just did (RULE as "basename:line" or "-").
explain_agrees() {
	local cgname=$1 want="$2 $3 $4 $5" mode=$6 addr=$7 port=$8 proto=udp j got
	[ "$mode" = tcp ] && proto=tcp
	j=$(ctl --json explain --cgroup "$CGREL/$cgname" "$addr" "$port" "$proto")
	got=$(jget "$j" '" ".join((o["verdict"], o.get("policy", "?"), o["rule"].rsplit("/")[-1], o["reason"]))')
	assert_eq "explain $cgname $addr $port/$proto agrees with the kernel" "$want" "$got"
}

# agree CGNAME VERDICT POLICY RULE REASON -- MODE ADDR PORT [CLIENT_ARGS]: the
# kernel (connect/sendto result and its event) and explain both say VERDICT.
agree() {
	local cgname=$1 verdict=$2 policy=$3 rule=$4 reason=$5 word=ok
	shift 6
	[ "$verdict" = deny ] && word=EPERM
	client_expect "$cgname" "$word" "$verdict" "$policy" "$rule" "$reason" -- "$@"
	explain_agrees "$cgname" "$verdict" "$policy" "$rule" "$reason" "$1" "$2" "$3"
}

# agree_dns NAME CGNAME VERDICT POLICY RULE REASON ADDR PORT: the same for a TCP
# connect to an address NAME resolved to (its event carries name=NAME).
agree_dns() {
	local name=$1 cgname=$2 verdict=$3 policy=$4 rule=$5 reason=$6 addr=$7 port=$8 word=ok
	[ "$verdict" = deny ] && word=EPERM
	ev_mark
	client_expect "$cgname" "$word" -- tcp "$addr" "$port"
	expect_event "^$verdict tcp $(re_escape "$addr:$port") .* cgroup=$(re_escape "/$CGREL/$cgname") policy=$policy rule=([^ ]*/)?$(re_escape "$rule") reason=$reason hook=connect4 name=$(re_escape "$name")\$"
	explain_agrees "$cgname" "$verdict" "$policy" "$rule" "$reason" tcp "$addr" "$port"
}

digq() { in_cg "$(cg_dir "$1")" dig +short +time=2 +tries=1 @$DNS4 "$2" 2>&1; }

start_agent --config "$INI" --blocked-hosts "$TMPD/global_hosts.txt" --control "$S"

log "rules: exact, port, protocol, CIDR, a denied address inside an allowed CIDR, IPv6"
agree guard/r allow rules "$R_EXACT" rule -- tcp 127.0.0.2 "$P1"
agree guard/r deny rules "$D_RULES" default -- tcp 127.0.0.2 "$P2"
agree guard/r allow rules "$R_UDP" rule -- udp-sendto 127.0.0.3 "$P1" --recv
agree guard/r deny rules "$D_RULES" default -- tcp 127.0.0.3 "$P1"
agree guard/r allow rules "$R_CIDR" rule -- tcp 127.0.1.7 "$P2"
agree guard/r deny rules "$R_IN" rule -- tcp 127.0.1.5 "$P1"
agree guard/r allow rules "$R_V6" rule -- tcp ::1 "$P1"
agree guard/r deny rules "$D_RULES" default -- tcp ::1 "$P2"

log "blocklists: a rule first, then the global list, then the policy's own, then default allow"
agree guard/b allow lists "$R_LISTS" rule -- tcp 127.0.0.9 "$P1"
agree guard/b deny lists "$G9" blocklist -- tcp 127.0.0.9 "$P2"
agree guard/b deny lists "$O11" blocklist -- tcp 127.0.0.11 "$P1"
agree guard/b allow lists "$D_LISTS" default -- tcp 127.0.0.12 "$P1"

log "the implicit policy: the global list, else nothing matched"
agree guard deny - "$G9" blocklist -- tcp 127.0.0.9 "$P1"
agree guard allow - - none -- tcp 127.0.0.11 "$P1"

log "a nested cgroup follows its ancestor's policy"
agree guard/n/x/y allow nested "$R_NEST" rule -- tcp 127.0.0.12 "$P1"
agree guard/n/x/y deny nested "$D_NEST" default -- tcp 127.0.0.12 "$P2"

log "allow-domain: default deny until the name is resolved, then the answer decides"
agree guard/d deny api-only "$D_API" default -- tcp $API "$P1"
assert_eq "api.test resolves in guard/d" "$API" "$(digq guard/d api.test)"
agree_dns api.test guard/d allow api-only "$R_API" domain $API "$P1"
agree_dns api.test guard/d deny api-only "$D_API" default $API "$P2"

log "deny-domain: default allow until the name is resolved, then denied"
agree guard/e allow no-tracker "$D_TRACK" default -- tcp $TRACK "$P1"
assert_eq "tracker.test resolves in guard/e" "$TRACK" "$(digq guard/e tracker.test)"
agree_dns tracker.test guard/e deny no-tracker "$R_TRACK" domain $TRACK "$P1"

log "after the TTL both fall back to the default"
sleep 5
agree guard/d deny api-only "$D_API" default -- tcp $API "$P1"
agree guard/e allow no-tracker "$D_TRACK" default -- tcp $TRACK "$P1"

finish
