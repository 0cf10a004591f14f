#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Cgroups come and go while the agent runs: a systemd service restart removes
# its cgroup and makes a new one with the same path (and a new cgroup id); a
# unit started after the agent gets its cgroup later. A cgroup named by a
# policy is covered by that policy whenever a process runs in it, without a
# SIGHUP: otherwise a restart silently turns the policy off (fail-open).
#   1. a named cgroup removed and re-created (with a sub-cgroup);
#   2. a named cgroup that did not exist when the agent started;
#   3. after SIGHUP, both (the operator's workaround) are covered.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/svc

read -r P1 P2 P3 <<<"$(pick_ports 3)" || die "no free ports"
start_servers --tcp "127.0.0.2:$P1" --tcp "127.0.0.2:$P2" --tcp "127.0.0.2:$P3" \
	--tcp "127.0.0.3:$P1" --tcp "127.0.0.3:$P2" --tcp "127.0.0.3:$P3"

INI=$TMPD/life.ini
write_file "$INI" <<EOF
[policy service]
cgroup = $CGREL/guard/svc
default = allow
deny = 127.0.0.2

[policy late]
cgroup = $CGREL/guard/late
default = allow
deny = 127.0.0.3
EOF
LS=life.ini:$(line_of "$INI" "deny = 127.0.0.2")
LL=life.ini:$(line_of "$INI" "deny = 127.0.0.3")

start_agent --config "$INI"
client_expect guard/svc EPERM deny service "$LS" rule -- tcp 127.0.0.2 "$P1"

log "1. the service restarts: its cgroup is removed and made again"
rmdir "$CG/guard/svc" || die "rmdir guard/svc"
make_cg guard/svc/worker
client_expect guard/svc EPERM deny service "$LS" rule -- tcp 127.0.0.2 "$P2"
client_expect guard/svc/worker EPERM deny service "$LS" rule -- tcp 127.0.0.2 "$P2"

log "2. a named cgroup made after the agent started"
make_cg guard/late
client_expect guard/late EPERM deny late "$LL" rule -- tcp 127.0.0.3 "$P2"
client_expect guard/late ok -- tcp 127.0.0.2 "$P2"

log "3. after SIGHUP"
reload_agent '^lsnitch-agent: reloaded'
client_expect guard/svc EPERM deny service "$LS" rule -- tcp 127.0.0.2 "$P3"
client_expect guard/late EPERM deny late "$LL" rule -- tcp 127.0.0.3 "$P3"

client_expect outside ok -- tcp 127.0.0.2 "$P1"
client_expect outside ok -- tcp 127.0.0.3 "$P1"
finish
