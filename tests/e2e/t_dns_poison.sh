#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# DNS poisoning: an answer's addresses become domain verdicts only for the
# policy whose process asked, and only from a resolver that policy may use.
# A real dnsmasq (127.0.0.153, the listed resolver) answers allowed.test with
# the allowed host; a rogue one (127.0.0.154) answers it with a host the
# api-only policy (default = deny, allow-domain = allowed.test) must not
# reach. Asked from api-only, the rogue server is refused (REFUSED, event,
# nothing reaches it); asked from another policy that may use any resolver,
# its answer counts for that policy alone: api-only's connect to the rogue
# address is still denied. Controls: the listed resolver's answer opens the
# allowed host for api-only; outside any guarded cgroup the rogue server
# answers as it is. A reload that renumbers the policies keeps each answer
# with the policy (by name) that asked.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a guard/b

command -v dnsmasq >/dev/null || skip_env "dnsmasq is not installed (make deps installs it)"
command -v dig >/dev/null || skip_env "dig is not installed (make deps installs it)"

DNS=127.0.0.153 ROGUE=127.0.0.154
API=127.0.0.20 EVIL=127.0.0.21
read -r P1 <<<"$(pick_ports 1)" || die "no free ports"
start_servers --tcp "$API:$P1" --tcp "$EVIL:$P1"

start_dnsmasq "$DNS" allowed.test "$API" --host-record=allowed.test,$API ||
	die "the test resolver does not answer"
# The rogue resolver logs every query it receives: the ground truth of what got out.
"$(command -v dnsmasq)" --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
	--listen-address="$ROGUE" --port=53 --pid-file="$TMPD/rogue.pid" --log-queries \
	--log-facility="$TMPD/rogue.log" --host-record=allowed.test,$EVIL &
track_pid "$!"
for _ in $(seq 50); do
	dig +short +time=1 +tries=1 "@$ROGUE" allowed.test 2>/dev/null | grep -qx "$EVIL" && break
	sleep 0.1
done

# the proxy's 64 ports, away from any other agent on this machine
read -r DNSPORT _ <<<"$(pick_ports 64)" || die "no free ports"
write_file "$TMPD/lsnitch.ini" <<EOF
[global]
dns-servers = $DNS
dns-port = $DNSPORT

[policy api-only]
cgroup = $CGREL/guard/a
default = deny
allow-domain = allowed.test:$P1/tcp

[policy any-resolver]
cgroup = $CGREL/guard/b
dns-servers = $DNS $ROGUE
allow-domain = allowed.test
EOF
L_SERVERS=lsnitch.ini:$(line_of "$TMPD/lsnitch.ini" "dns-servers = $DNS")

digq() { # CG SERVER ARGS...: dig in CG
	local dir
	dir=$(cg_dir "$1")
	shift
	in_cg "$dir" dig +time=2 +tries=1 "@$1" "${@:2}" 2>&1
}
status_of() { sed -n 's/.*status: \([A-Z]*\).*/\1/p' | head -1; }
rogue_queries() { count_lines "$TMPD/rogue.log" 'query\[A\] allowed\.test'; }

start_agent --config "$TMPD/lsnitch.ini"

# --- before any answer: api-only reaches neither host
client_expect guard/a EPERM -- tcp $API "$P1"
client_expect guard/a EPERM -- tcp $EVIL "$P1"

# --- same policy: the rogue resolver is not one api-only may ask
before=$(rogue_queries)
ev_mark
assert_eq "api-only asks the rogue resolver: REFUSED" REFUSED \
	"$(digq guard/a $ROGUE allowed.test | status_of)"
expect_event "^deny dns allowed\.test pid=[0-9]+ tid=[0-9]+ comm=[^ ]+ uid=0 gid=0 (exe=[^ ]+ )?qtype=A .*server=$(re_escape "$ROGUE:53") cgroup=$(re_escape "/$CGREL/guard/a") policy=api-only rule=([^ ]*/)?$(re_escape "$L_SERVERS") reason=dns-server$"
assert_eq "the rogue resolver received nothing from api-only" "$before" "$(rogue_queries)"
client_expect guard/a EPERM -- tcp $EVIL "$P1"

# --- another policy asks the rogue resolver: its answer is its own
assert_eq "any-resolver asks the rogue resolver" "$EVIL" \
	"$(digq guard/b $ROGUE +short allowed.test)"
client_expect guard/a EPERM -- tcp $EVIL "$P1"

# --- controls: the listed resolver's answer opens the allowed host for api-only
assert_eq "api-only asks the listed resolver" "$API" "$(digq guard/a $DNS +short allowed.test)"
client_expect guard/a ok -- tcp $API "$P1"
client_expect guard/a EPERM -- tcp $EVIL "$P1"

# --- a reload that renumbers the policies keeps each answer with the policy that asked
"$PY" - "$TMPD/lsnitch.ini" <<'EOF'
import sys
text = open(sys.argv[1]).read()
head, a, b = text.split("\n[policy ")
open(sys.argv[1], "w").write(head + "\n[policy " + b.rstrip("\n") + "\n\n[policy " + a)
EOF
reload_agent '^lsnitch-agent: reloaded'
client_expect guard/a ok -- tcp $API "$P1"
client_expect guard/a EPERM -- tcp $EVIL "$P1"
assert_eq "outside: the rogue resolver answers" "$EVIL" \
	"$(dig +short +time=2 +tries=1 @$ROGUE allowed.test)"
finish
