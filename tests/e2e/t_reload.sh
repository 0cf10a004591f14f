#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Configuration errors and SIGHUP. A broken file at startup: exit 1 with
# "lsnitch-agent: FILE:LINE: reason", nothing attached. SIGHUP with a good new
# file changes the verdicts (including moving a policy to another cgroup,
# which must not be hidden by the cgroup -> policy cache); SIGHUP with a
# broken INI file (deny = 300.1.1.1 after a valid new rule) or a broken
# blocklist prints "reload failed, keeping the policy in force: FILE:LINE:"
# and the old policy stays in force in full: what was denied stays denied,
# what was allowed stays allowed (nothing of the broken file leaks in).
# SIGHUP re-reads everything: a new file in the --rules directory, a new
# entry in a --blocked-hosts file, a removed rules file. Reloads leave no
# window: a process connecting in a loop to a denied address while the agent
# reloads 10 times never gets through.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a guard/b guard/c

read -r P1 P2 P3 P4 <<<"$(pick_ports 4)" || die "no free ports"
srv=()
for a in 127.0.0.2 127.0.0.3 127.0.0.4; do
	for p in "$P1" "$P2" "$P3" "$P4"; do srv+=(--tcp "$a:$p"); done
done
start_servers "${srv[@]}"

INI=$TMPD/r.ini

log "startup with a broken file"
write_file "$INI" <<EOF
[policy r]
cgroup = $CGREL/guard/a
default = allow
deny = 127.0.0.2
deny = 300.1.1.1
EOF
out=$(timeout 10 "$AGENT" --cgroup "$CG/guard" --pin-dir "/sys/fs/bpf/$LSN_TAG" --history none --config "$INI" \
	2>&1 >/dev/null)
rc=$?
assert_eq "startup with a bad address: exit status" 1 "$rc"
assert_eq "a failed start leaves no pin directory behind" no \
	"$([ -e "/sys/fs/bpf/$LSN_TAG" ] && echo yes || echo no)"
assert_match "startup error names the file and line" \
	"^lsnitch-agent: $(re_escape "$INI"):5: .+" "$out"
if command -v bpftool >/dev/null; then
	assert_eq "nothing attached after a failed start" "" "$(bpf_attached "$CG/guard")"
fi
client_expect guard/a ok -- tcp 127.0.0.2 "$P1"

log "v1: deny 127.0.0.2"
write_file "$INI" <<EOF
[policy r]
cgroup = $CGREL/guard/a
default = allow
deny = 127.0.0.2
EOF
L1=r.ini:4
RDIR=$TMPD/rules.d
GH=$TMPD/global_hosts.txt
mkdir "$RDIR" || die "mkdir $RDIR"
write_file "$GH" <<EOF
# nothing blocked yet
EOF
start_agent --config "$INI" --rules "$RDIR" --blocked-hosts "$GH"
client_expect guard/a EPERM deny r "$L1" rule -- tcp 127.0.0.2 "$P1"
client_expect guard/a ok -- tcp 127.0.0.3 "$P1"

log "v2 (good): deny 127.0.0.3 instead"
write_file "$INI" <<EOF
# version 2
[policy r]
cgroup = $CGREL/guard/a
default = allow
# 127.0.0.2 is allowed again
deny = 127.0.0.3
EOF
L2=r.ini:6
reload_agent '^lsnitch-agent: reloaded'
client_expect guard/a ok -- tcp 127.0.0.2 "$P2"
client_expect guard/a EPERM deny r "$L2" rule -- tcp 127.0.0.3 "$P2"

log "v3 (broken INI): the old policy stays, in full"
write_file "$INI" <<EOF
# version 3, broken
[policy r]
cgroup = $CGREL/guard/a
default = allow
deny = 127.0.0.2
deny = 300.1.1.1
EOF
reload_agent "^lsnitch-agent: reload failed, keeping the policy in force: $(re_escape "$INI"):6: .+"
client_expect guard/a EPERM deny r "$L2" rule -- tcp 127.0.0.3 "$P3"
client_expect guard/a ok -- tcp 127.0.0.2 "$P3"

log "v4 (broken blocklist): the old policy stays"
HOSTS=$TMPD/hosts.txt
write_file "$HOSTS" <<EOF
127.0.0.4
not/an/address!
EOF
write_file "$INI" <<EOF
[policy r]
cgroup = $CGREL/guard/a
default = allow
blocked-hosts = hosts.txt
EOF
reload_agent "^lsnitch-agent: reload failed, keeping the policy in force: ([^ ]*/)?hosts[.]txt:2: .+"
client_expect guard/a EPERM deny r "$L2" rule -- tcp 127.0.0.3 "$P4"
client_expect guard/a ok -- tcp 127.0.0.4 "$P1"
client_expect guard/a ok -- tcp 127.0.0.2 "$P4"

log "v5 (good): the policy moves to guard/b"
write_file "$INI" <<EOF
[policy r]
cgroup = $CGREL/guard/b
default = allow
deny = 127.0.0.4
EOF
L5=r.ini:4
reload_agent '^lsnitch-agent: reloaded'
client_expect guard/b EPERM deny r "$L5" rule -- tcp 127.0.0.4 "$P2"
client_expect guard/a ok -- tcp 127.0.0.4 "$P2"
client_expect guard/a ok -- tcp 127.0.0.3 "$P1"

log "v6: a new --rules file and a new --blocked-hosts entry"
write_file "$RDIR/50-new.ini" <<EOF
[policy newcomer]
cgroup = $CGREL/guard/c
default = allow
deny = 127.0.0.2:$P3
EOF
write_file "$RDIR/ignored.txt" <<EOF
[policy not-loaded]
cgroup = $CGREL/guard/c
deny = 127.0.0.3
EOF
write_file "$GH" <<EOF
# now blocking one address
127.0.0.3
EOF
reload_agent '^lsnitch-agent: reloaded'
client_expect guard/c EPERM deny newcomer 50-new.ini:4 rule -- tcp 127.0.0.2 "$P3"
client_expect guard/c ok -- tcp 127.0.0.2 "$P4"
client_expect guard/c EPERM deny newcomer global_hosts.txt:2 blocklist -- tcp 127.0.0.3 "$P3"
client_expect guard EPERM deny - global_hosts.txt:2 blocklist -- tcp 127.0.0.3 "$P4"
client_expect guard/b EPERM deny r "$L5" rule -- tcp 127.0.0.4 "$P3"

log "v7: the rules file is gone"
rm -f "$RDIR/50-new.ini"
reload_agent '^lsnitch-agent: reloaded'
client_expect guard/c ok -- tcp 127.0.0.2 "$P3"
client_expect guard/c EPERM deny - global_hosts.txt:2 blocklist -- tcp 127.0.0.3 "$P2"

client_expect outside ok -- tcp 127.0.0.4 "$P2"
client_expect outside ok -- tcp 127.0.0.3 "$P2"
assert_no_other_events

log "no window while reloading"
in_cg "$CG/guard/b" "$PY" "$CLIENT" tcp 127.0.0.4 "$P1" --repeat 3 >"$TMPD/loop.out" 2>"$TMPD/loop.err" &
loop=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do
	proc_alive "$loop" || break
	reload_agent '^lsnitch-agent: reloaded' >/dev/null
done
wait "$loop"
assert_eq "connects during 10 reloads ($(cat "$TMPD/loop.err"))" EPERM "$(cat "$TMPD/loop.out")"
stop_agent || fail "the agent exited with status $AGENT_RC on SIGTERM"
finish
