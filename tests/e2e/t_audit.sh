#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Audit mode: nothing is denied, would-be denials are reported as
# "would-deny" events. 1) audit = yes in one policy (rules, default deny and
# blocklist entries all only reported) while a sibling policy without audit
# still denies; 2) the global --audit flag; 3) audit = yes in [global].
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a guard/b guard/c

read -r P1 P2 <<<"$(pick_ports 2)" || die "no free ports"
start_servers --tcp "127.0.0.1:$P1" --tcp "127.0.0.2:$P1" --udp "127.0.0.2:$P1" \
	--tcp "127.0.0.3:$P1" --tcp "127.0.0.4:$P1" --tcp "[::1]:$P2"

write_file "$TMPD/hosts.txt" <<EOF
127.0.0.3
EOF
INI=$TMPD/aud.ini
write_file "$INI" <<EOF
[policy watched]
cgroup = $CGREL/guard/a
default = allow
audit = yes
deny = 127.0.0.2
deny = [::1]:$P2

[policy enforced]
cgroup = $CGREL/guard/b
default = allow
deny = 127.0.0.2

[policy watched-lockdown]
cgroup = $CGREL/guard/c
default = deny
audit = yes
allow = 127.0.0.1:$P1
EOF
LA=aud.ini:$(line_of "$INI" "deny = 127.0.0.2")
LA6=aud.ini:$(line_of "$INI" "deny = [::1]")
LB=aud.ini:$(grep -n -F "deny = 127.0.0.2" "$INI" | sed -n 2p | cut -d: -f1)
LC=aud.ini:$(line_of "$INI" "default = deny")
H3=hosts.txt:1

log "audit = yes in one policy"
start_agent --config "$INI" --blocked-hosts "$TMPD/hosts.txt"
client_expect guard/a ok would-deny watched "$LA" rule -- tcp 127.0.0.2 "$P1"
client_expect guard/a ok would-deny watched "$LA" rule -- udp-sendto 127.0.0.2 "$P1" --recv
client_expect guard/a ok would-deny watched "$LA6" rule -- tcp ::1 "$P2"
client_expect guard/a ok would-deny watched "$H3" blocklist -- tcp 127.0.0.3 "$P1"
client_expect guard/a ok -- tcp 127.0.0.4 "$P1"
client_expect guard/c ok would-deny watched-lockdown "$LC" default -- tcp 127.0.0.4 "$P1"
client_expect guard/c ok -- tcp 127.0.0.1 "$P1"
curl_expect guard/a 0 "http://127.0.0.2:$P1/" would-deny watched "$LA" rule
log "a policy without audit still denies"
client_expect guard/b EPERM deny enforced "$LB" rule -- tcp 127.0.0.2 "$P1"
client_expect guard/b EPERM deny enforced "$H3" blocklist -- tcp 127.0.0.3 "$P1"
client_expect guard EPERM deny - "$H3" blocklist -- tcp 127.0.0.3 "$P1"
client_expect outside ok -- tcp 127.0.0.2 "$P1"
assert_no_other_events
stop_agent || fail "the agent exited with status $AGENT_RC on SIGTERM"

log "global --audit"
start_agent --config "$INI" --blocked-hosts "$TMPD/hosts.txt" --audit
client_expect guard/b ok would-deny enforced "$LB" rule -- tcp 127.0.0.2 "$P1"
client_expect guard/b ok would-deny enforced "$H3" blocklist -- tcp 127.0.0.3 "$P1"
client_expect guard ok would-deny - "$H3" blocklist -- tcp 127.0.0.3 "$P1"
client_expect guard/a ok would-deny watched "$LA" rule -- tcp 127.0.0.2 "$P1"
client_expect guard/b ok -- tcp 127.0.0.4 "$P1"
assert_no_other_events
stop_agent || fail "the agent exited with status $AGENT_RC on SIGTERM"

log "audit = yes in [global]"
INI2=$TMPD/aud-global.ini
write_file "$INI2" <<EOF
[global]
audit = yes
blocked-hosts = hosts.txt

[policy enforced]
cgroup = $CGREL/guard/b
default = allow
deny = 127.0.0.2
EOF
LG=aud-global.ini:$(line_of "$INI2" "deny = 127.0.0.2")
start_agent --config "$INI2"
client_expect guard/b ok would-deny enforced "$LG" rule -- tcp 127.0.0.2 "$P1"
client_expect guard ok would-deny - "$H3" blocklist -- tcp 127.0.0.3 "$P1"
assert_no_other_events
finish
