#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A default-allow policy with denies: the denied address and addr:port fail
# with EPERM and an event; everything else connects. Then the same policy with
# the global --log-allowed (and -v): allowed connections are reported as
# "allow" events (reason=default in the policy, reason=none with policy=- in
# the attached cgroup that no policy names); then log-allowed = yes in
# [global].
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a

read -r P1 P2 <<<"$(pick_ports 2)" || die "no free ports"
start_servers --tcp "127.0.0.1:$P1" --tcp "127.0.0.1:$P2" --tcp "127.0.0.2:$P1" \
	--udp "127.0.0.2:$P1" --tcp "[::1]:$P1" --tcp "[::1]:$P2"

INI=$TMPD/da.ini
write_file "$INI" <<EOF
[policy open]
cgroup = $CGREL/guard/a
default = allow
deny = 127.0.0.2
deny = 127.0.0.1:$P2
deny = [::1]:$P2/tcp
EOF
L_DEF=da.ini:$(line_of "$INI" "default = allow")
L_ADDR=da.ini:$(line_of "$INI" "deny = 127.0.0.2")
L_PORT=da.ini:$(line_of "$INI" "deny = 127.0.0.1:")
L_V6=da.ini:$(line_of "$INI" "deny = [::1]")

start_agent --config "$INI"
A=guard/a
client_expect $A ok -- tcp 127.0.0.1 "$P1"
client_expect $A ok -- tcp ::1 "$P1"
client_expect $A EPERM deny open "$L_PORT" rule -- tcp 127.0.0.1 "$P2"
client_expect $A EPERM deny open "$L_ADDR" rule -- tcp 127.0.0.2 "$P1"
client_expect $A EPERM deny open "$L_ADDR" rule -- udp-sendto 127.0.0.2 "$P1"
client_expect $A EPERM deny open "$L_V6" rule -- tcp ::1 "$P2"
curl_expect $A 0 "http://127.0.0.1:$P1/"
curl_expect $A 7 "http://127.0.0.1:$P2/" deny open "$L_PORT" rule
curl_expect $A 7 "http://[::1]:$P2/" deny open "$L_V6" rule
for args in "tcp 127.0.0.1 $P2" "tcp 127.0.0.2 $P1" "udp-sendto 127.0.0.2 $P1 --recv" "tcp ::1 $P2"; do
	# shellcheck disable=SC2086
	client_expect outside ok -- $args
done
assert_no_other_events
stop_agent || fail "the agent exited with status $AGENT_RC on SIGTERM"

log "global --log-allowed"
start_agent --config "$INI" --log-allowed -v
client_expect $A ok allow open "$L_DEF" default -- tcp 127.0.0.1 "$P1"
client_expect $A EPERM deny open "$L_PORT" rule -- tcp 127.0.0.1 "$P2"
# No policy names the attached cgroup itself: implicit policy, nothing matched.
client_expect guard ok allow - - none -- tcp 127.0.0.2 "$P1"
client_expect outside ok -- tcp 127.0.0.2 "$P1"
assert_no_other_events
stop_agent || fail "the agent exited with status $AGENT_RC on SIGTERM"

log "log-allowed = yes in [global]"
INI2=$TMPD/da-global.ini
{
	printf '[global]\nlog-allowed = yes\n\n'
	cat "$INI"
} >"$INI2"
L2_DEF=da-global.ini:$(line_of "$INI2" "default = allow")
L2_PORT=da-global.ini:$(line_of "$INI2" "deny = 127.0.0.1:")
start_agent --config "$INI2"
client_expect $A ok allow open "$L2_DEF" default -- tcp ::1 "$P1"
client_expect $A EPERM deny open "$L2_PORT" rule -- tcp 127.0.0.1 "$P2"
client_expect guard ok allow - - none -- tcp ::1 "$P1"
assert_no_other_events
finish
