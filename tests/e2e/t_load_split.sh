#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The programs verified in two halves at once (agent/load_split.c): every hook of both halves
# attached to the guarded cgroup and enforcing -- connect4/connect6 from the first object,
# sendmsg4/sendmsg6 from the second -- at the first start and after a full reload (a new
# generation, split again), with an allowed port beside each denied one; the loaded line says
# how long compiling and verifying took; bench/verifier_stats runs on the object.
. "$(dirname "$0")/lib.sh"
lsn_setup
require_bpftool
make_cg guard/a

read -r P1 P2 P3 <<<"$(pick_ports 3)" || die "no free ports"
start_servers --udp "127.0.0.2:$P1" --udp "127.0.0.2:$P2" --udp "127.0.0.2:$P3" \
	--udp "[::1]:$P1" --udp "[::1]:$P2" --udp "[::1]:$P3"

INI=$TMPD/split.ini
policy() { # DENIED-PORT
	write_file "$INI" <<EOF
[policy split]
cgroup = $CGREL/guard/a
default = allow
deny = 127.0.0.2:$1
deny = [::1]:$1
EOF
}
A=guard/a

# Denied on port $1 through each half's hooks, allowed on port $2.
both_halves() { # DENIED ALLOWED
	local l4 l6
	l4=split.ini:$(line_of "$INI" "deny = 127.0.0.2:")
	l6=split.ini:$(line_of "$INI" "deny = [::1]")
	client_expect $A EPERM deny split "$l4" rule -- udp-connect 127.0.0.2 "$1"
	client_expect $A EPERM deny split "$l6" rule -- udp-connect ::1 "$1"
	client_expect $A EPERM deny split "$l4" rule -- udp-sendto 127.0.0.2 "$1"
	client_expect $A EPERM deny split "$l6" rule -- udp-sendto ::1 "$1"
	client_expect $A ok -- udp-connect 127.0.0.2 "$2" --recv
	client_expect $A ok -- udp-sendto 127.0.0.2 "$2" --recv
	client_expect $A ok -- udp-sendto ::1 "$2" --recv
}

# The agent's programs attached to its cgroup: both halves' hooks, each once.
attached() {
	bpftool -j cgroup show "$CG/guard" 2>/dev/null | "$PY" -c '
import json, sys
print(" ".join(sorted(p.get("name", "") for p in json.load(sys.stdin))))'
}
want_hooks() {
	local got
	got=$(attached)
	for h in ln_connect4 ln_connect6 ln_sendmsg4 ln_sendmsg6 ln_recvmsg4 ln_getpeername6 \
		ln_sock_create ln_egress; do
		assert_match "$1: $h attached" "(^| )$h( |$)" "$got"
	done
}

policy "$P1"
start_agent --config "$INI"
assert_match "loaded line: compiling and verifying timed" \
	"compiled in [0-9.]+ ms, programs verified in [0-9.]+ ms" "$(grep -m1 'loaded:' "$AGENT_ERR")"
want_hooks "first start"
log "first start: both halves enforce"
both_halves "$P1" "$P2"

log "a full reload: a new generation, split again"
policy "$P3"
reload_agent '^lsnitch-agent: reloaded: .*programs verified in'
want_hooks "after the reload"
both_halves "$P3" "$P1"

log "bench/verifier_stats: every program of the object loads, with its figures"
VS=$LSN_ROOT/build/bench/verifier_stats
if [ -x "$VS" ]; then
	out=$("$VS" "$LSN_ROOT/build/lsnitch.bpf.o" 2>/dev/null)
	for p in ln_connect4 ln_sendmsg4 ln_egress; do
		assert_match "verifier_stats: $p" "^$p +[0-9]+ +[1-9][0-9]* " "$(grep "^$p " <<<"$out")"
	done
	assert_match "verifier_stats: a total" "^total +[0-9]+ +[1-9]" "$(grep '^total' <<<"$out")"
else
	skip "no $VS (make builds it)"
fi
finish
