#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Stopping: while running, the four hooks (connect4/6, sendmsg4/6) are
# attached to each --cgroup given (two here) and nowhere else; SIGTERM and
# SIGINT make the agent exit 0 within seconds, leaving no program attached to
# the test cgroups (bpftool cgroup show is empty), nothing new pinned in
# /sys/fs/bpf, and the connection it denied before now succeeds.
. "$(dirname "$0")/lib.sh"
lsn_setup
require_bpftool
make_cg guard/a guard2/x

read -r P1 <<<"$(pick_ports 1)" || die "no free ports"
start_servers --tcp "127.0.0.2:$P1" --udp "127.0.0.2:$P1" --tcp "[::1]:$P1" --udp "[::1]:$P1"

INI=$TMPD/sig.ini
write_file "$INI" <<EOF
[policy stopme]
cgroup = $CGREL/guard/a
cgroup = $CGREL/guard2/x
default = allow
deny = 127.0.0.2
deny = ::1
EOF
L4=sig.ini:$(line_of "$INI" "deny = 127.0.0.2")
L6=sig.ini:$(line_of "$INI" "deny = ::1")
# connect and sendmsg decide; recvmsg and getpeername undo the DNS redirect; sock_create
# decides socket kinds (and lsm_cgroup packet sockets, where the kernel can run it: not
# compared here, t_socket_kinds checks it); egress is the packet-level backstop.
HOOKS=$(printf '%s\n' cgroup_inet4_connect cgroup_inet6_connect cgroup_udp4_sendmsg \
	cgroup_udp6_sendmsg cgroup_udp4_recvmsg cgroup_udp6_recvmsg cgroup_inet4_getpeername \
	cgroup_inet6_getpeername cgroup_inet_sock_create cgroup_inet_egress | sort)

pins() { find /sys/fs/bpf -maxdepth 3 2>/dev/null | sort; }

for sig in TERM INT; do
	log "SIG$sig"
	pins_before=$(pins)
	start_agent --config "$INI" --cgroup "$CG/guard2"
	assert_eq "hooks attached to $CG/guard" "$HOOKS" \
		"$(bpf_attached "$CG/guard" | grep -vx lsm_cgroup)"
	assert_eq "hooks attached to $CG/guard2" "$HOOKS" \
		"$(bpf_attached "$CG/guard2" | grep -vx lsm_cgroup)"
	assert_eq "nothing attached to the sub-cgroup itself" "" "$(bpf_attached "$CG/guard/a")"
	assert_eq "nothing attached to $CG/outside" "" "$(bpf_attached "$CG/outside")"
	client_expect guard/a EPERM deny stopme "$L4" rule -- tcp 127.0.0.2 "$P1"
	client_expect guard2/x EPERM deny stopme "$L6" rule -- udp-sendto ::1 "$P1"

	t0=$(date +%s%N)
	if stop_agent "$sig"; then
		ok "SIG$sig: the agent exited with status 0 in $((($(date +%s%N) - t0) / 1000000)) ms"
	else
		fail "SIG$sig: the agent exited with status $AGENT_RC, expected 0"
	fi
	assert_eq "SIG$sig: nothing left attached to $CG/guard" "" "$(bpf_attached "$CG/guard")"
	assert_eq "SIG$sig: nothing left attached to $CG/guard2" "" "$(bpf_attached "$CG/guard2")"
	assert_eq "SIG$sig: no cgroup below $CG has programs" "" \
		"$(bpftool cgroup tree "$CG" 2>/dev/null | grep '^/')"
	assert_eq "SIG$sig: nothing new pinned in /sys/fs/bpf" "$pins_before" "$(pins)"
	assert_no_match "SIG$sig: no error on stderr" '(error|failed|warning)' "$(cat "$AGENT_ERR")"
	client_expect guard/a ok -- tcp 127.0.0.2 "$P1"
	client_expect guard/a ok -- udp-sendto 127.0.0.2 "$P1" --recv
	client_expect guard2/x ok -- udp-sendto ::1 "$P1" --recv
	client_expect guard2/x ok -- tcp ::1 "$P1"
done
finish
