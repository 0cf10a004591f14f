#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Which resolvers a policy may ask (dns-servers =), and DNS events that name
# the asker. The agent runs with a private /etc/resolv.conf naming a real
# dnsmasq (127.0.0.157): with no dns-servers line anywhere, that is the list
# ("system"). A sink on 127.0.0.158:53 records every message that reaches it
# and answers NOERROR: the ground truth of a DNS tunnel.
#   - default = deny: a query to the sink (UDP and TCP) is answered REFUSED by
#     the proxy, reported (reason dns-server, the default = line, pid, comm,
#     cgroup of the asker), and the sink receives nothing; the system resolver
#     answers (control);
#   - default = allow: the sink is asked (forwarded), unless a blocklist entry
#     denies its address (REFUSED, the entry named, nothing received);
#   - default = deny with an allow rule for the sink: forwarded;
#   - a policy's own dns-servers = list replaces the system's.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/tight guard/open guard/listed guard/ruled guard/own

command -v dnsmasq >/dev/null || skip_env "dnsmasq is not installed (make deps installs it)"
command -v dig >/dev/null || skip_env "dig is not installed (make deps installs it)"

SYS=127.0.0.157 SINK=127.0.0.158
start_dnsmasq "$SYS" ok.test 127.0.0.30 --host-record=ok.test,127.0.0.30 ||
	die "the system resolver does not answer"
"$PY" -u "$LSN_E2E_DIR/dns_sink.py" "$SINK" "$TMPD/sink.log" >"$TMPD/sink.out" 2>&1 &
track_pid "$!"
wait_for_line "$TMPD/sink.out" '^ready$' 5 "$!" || die "the sink did not start"
touch "$TMPD/sink.log"

write_file "$TMPD/hosts.txt" <<<"$SINK"
# the proxy's 64 ports, away from any other agent on this machine
read -r DNSPORT _ <<<"$(pick_ports 64)" || die "no free ports"
write_file "$TMPD/lsnitch.ini" <<EOF
[global]
dns-port = $DNSPORT

[policy tight]
cgroup = $CGREL/guard/tight
default = deny

[policy open]
cgroup = $CGREL/guard/open

[policy listed]
cgroup = $CGREL/guard/listed
blocked-hosts = hosts.txt

[policy ruled]
cgroup = $CGREL/guard/ruled
default = deny
allow = $SINK:53

[policy own]
cgroup = $CGREL/guard/own
default = deny
dns-servers = $SINK
EOF
L_DEF=lsnitch.ini:$(line_of "$TMPD/lsnitch.ini" "default = deny")
L_OWN=lsnitch.ini:$(line_of "$TMPD/lsnitch.ini" "dns-servers = $SINK")

# The agent reads its own /etc/resolv.conf: a private one, in its mount namespace only.
printf 'nameserver %s\noptions edns0\n' $SYS >"$TMPD/resolv.conf"
REAL_AGENT=$AGENT
AGENT=$TMPD/agent-with-resolv.sh
write_file "$AGENT" <<EOF
#!/bin/sh
exec unshare -m sh -c 'mount --bind "\$0" /etc/resolv.conf && exec "\$@"' \\
	"$TMPD/resolv.conf" "$REAL_AGENT" "\$@"
EOF
chmod +x "$AGENT"

ask() { # CG SERVER NAME [ARGS...]: dns_ask.py in CG
	in_cg "$(cg_dir "$1")" "$PY" "$LSN_E2E_DIR/dns_ask.py" "${@:2}" 2>&1
}
status_of() { sed -n 's/.*status: \([A-Z]*\).*/\1/p' | head -1; }
sunk() { count_lines "$TMPD/sink.log" " $1\$"; }
# refused CG POLICY RULE NAME [--tcp]: REFUSED by the proxy, reported with the asker, not received
refused() {
	local cg=$1 policy=$2 rule=$3 name=$4 got pid
	ev_mark
	got=$(ask "$cg" $SINK "$name" "${@:5}")
	pid=${got%% *}
	assert_eq "$cg: query to the sink ${5:-udp}" "$pid rcode=5 id=ok" "$got"
	expect_event "^deny dns $(re_escape "$name") $pid tid=[0-9]+ comm=python3 uid=0 gid=0 (exe=[^ ]+ )?qtype=A client=127\.0\.0\.1:[0-9]+ server=$(re_escape "$SINK:53") cgroup=$(re_escape "/$CGREL/$cg") policy=$policy rule=([^ ]*/)?$(re_escape "$rule") reason=dns-server$"
	assert_eq "$cg: the sink received nothing" 0 "$(sunk "$name")"
}
# forwarded CG NAME [--tcp]: the sink received the query and its answer came back
forwarded() {
	local got
	got=$(ask "$1" $SINK "$2" "${@:3}")
	assert_eq "$1: query to the sink ${3:-udp}" "rcode=0 id=ok" "${got#* }"
	assert_eq "$1: the sink received it" 1 "$(sunk "$2")"
}

start_agent --config "$TMPD/lsnitch.ini"

# --- default = deny, no list anywhere: the system's resolver only
assert_eq "tight: the system resolver answers" 127.0.0.30 \
	"$(in_cg "$CG/guard/tight" dig +short +time=2 +tries=1 @$SYS ok.test)"
refused guard/tight tight "$L_DEF" exfil-1.tunnel.test
refused guard/tight tight "$L_DEF" exfil-2.tunnel.test --tcp
assert_eq "tight: dig to the sink" REFUSED \
	"$(in_cg "$CG/guard/tight" dig +time=2 +tries=1 @$SINK exfil-3.tunnel.test | status_of)"
assert_eq "tight: the sink received nothing from dig" 0 "$(sunk exfil-3.tunnel.test)"

# --- default = allow: other servers are asked, unless the policy denies their address
forwarded guard/open open-1.tunnel.test
forwarded guard/open open-2.tunnel.test --tcp
refused guard/listed listed hosts.txt:1 listed-1.tunnel.test

# --- default = deny, an allow rule for the server: asked
forwarded guard/ruled ruled-1.tunnel.test

# --- a policy's own list replaces the system's
forwarded guard/own own-1.tunnel.test
ev_mark
assert_eq "own: the system resolver is not in its list" REFUSED \
	"$(in_cg "$CG/guard/own" dig +time=2 +tries=1 @$SYS ok.test | status_of)"
expect_event "^deny dns ok\.test pid=[0-9]+ tid=[0-9]+ comm=[^ ]+ .*server=$(re_escape "$SYS:53") cgroup=$(re_escape "/$CGREL/guard/own") policy=own rule=([^ ]*/)?$(re_escape "$L_OWN") reason=dns-server$"

# --- outside any guarded cgroup nothing changes
assert_eq "outside: the sink answers" "rcode=0 id=ok" "$(ask outside $SINK outside.tunnel.test | cut -d' ' -f2-)"
finish
