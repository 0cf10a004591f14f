# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# nspawn_lib.sh: a throwaway systemd container for the tests that need systemd
# as PID 1 (sourced after lib.sh, after lsn_setup).
#
#   nspawn_boot [TREE]      boot; TREE (default: `make install` into $TMPD/inst)
#                           is bound read-only at /usr/local, $NSP_ETC at /etc/lsnitch
#                           ("none": nothing bound, e.g. to install a package)
#   in_ct CMD...            run CMD inside (all of the container's namespaces)
#   ct_wait_active UNIT     poll until UNIT is active (10 s)
#   nspawn_stop             power the container off (also done by the cleanup)
#
# The container is `systemd-nspawn -D /` with a tmpfs root (--volatile=yes: the
# host's /usr read-only, nothing of the host's /etc), only loopback
# (--private-network) and no registration with a host systemd. nspawn runs in
# $CG/nspawn, a cgroup this test made: the container's whole cgroup tree, and
# so anything its agent attaches, lives below $CG, and lib.sh's cleanup removes
# it. Its /sys/fs/bpf is a bpffs instance of its own (mode 0700, as systemd
# mounts it at boot), mounted in $TMPD/bpffs and bound in: the agent pins
# there, and lib.sh's cleanup unmounts it once the container is gone, which
# releases whatever was pinned (and so attached below $CG).

NSP_EXTRA=() # more nspawn arguments (--bind-ro=...)

NSP_PID="" NSP_INIT="" NSP_NAME="" NSP_ETC="" NSP_LOG=""

# nspawn_require: skip (loudly) where nspawn cannot run.
nspawn_require() {
	command -v systemd-nspawn >/dev/null 2>&1 ||
		skip_env "systemd-nspawn is missing (Debian systemd-container: make deps)"
	[ -x /lib/systemd/systemd ] || skip_env "no /lib/systemd/systemd to boot in the container"
	command -v nsenter >/dev/null 2>&1 || skip_env "nsenter is missing (util-linux)"
}

# The container's PID 1, from the init.scope of its cgroup tree.
nspawn_init_pid() {
	local f=$CG/nspawn/payload/init.scope/cgroup.procs
	[ -r "$f" ] && head -n 1 "$f"
}

in_ct() {
	nsenter -t "$NSP_INIT" -a -- "$@"
}

ct_wait_active() {
	local t=200
	while [ "$t" -gt 0 ]; do
		[ "$(in_ct systemctl is-active "$1" 2>/dev/null)" = active ] && return 0
		sleep 0.05
		t=$((t - 1))
	done
	return 1
}

# The installed tree: make install with DESTDIR, and a preset that keeps the
# units from starting at the container's first boot (the tests start them).
nspawn_install_tree() {
	local dest=$TMPD/inst
	make -s -C "$LSN_ROOT" install DESTDIR="$dest" >"$TMPD/install.log" 2>&1 ||
		die "make install DESTDIR=$dest failed: $(tail -n 5 "$TMPD/install.log")"
	mkdir -p "$dest/usr/local/lib/systemd/system-preset"
	echo 'disable lsnitch-*' >"$dest/usr/local/lib/systemd/system-preset/00-lsnitch-test.preset"
	printf '%s' "$dest"
}

nspawn_boot() {
	local tree=${1:-} t=400 binds=()
	nspawn_require
	[ -n "$tree" ] || tree=$(nspawn_install_tree)
	NSP_ETC=${NSP_ETC:-$TMPD/etc-lsnitch}
	if [ "$tree" = none ]; then
		:
	elif [ ! -d "$NSP_ETC" ]; then
		mkdir -p "$NSP_ETC"
		cp -r "$tree/etc/lsnitch/." "$NSP_ETC/"
	fi
	mkdir -p "$CG/nspawn" "$TMPD/bpffs"
	mount -t bpf -o mode=0700 bpf "$TMPD/bpffs" || die "cannot mount a bpffs at $TMPD/bpffs"
	binds=(--bind="$TMPD/bpffs:/sys/fs/bpf")
	[ "$tree" = none ] || binds+=(--bind-ro="$tree/usr/local:/usr/local" --bind="$NSP_ETC:/etc/lsnitch")
	NSP_NAME=lsnt-$$
	NSP_LOG=$TMPD/nspawn.log
	# CAP_BPF, CAP_PERFMON and bpf/perf_event_open: nspawn's default set and
	# seccomp filter leave the agent EPERM.
	in_cg "$CG/nspawn" systemd-nspawn -q -D / --volatile=yes --register=no --keep-unit \
		--private-network -M "$NSP_NAME" --capability=CAP_BPF,CAP_PERFMON \
		--system-call-filter="bpf perf_event_open" "${binds[@]}" "${NSP_EXTRA[@]}" \
		-b systemd.firstboot=off systemd.unit=multi-user.target \
		</dev/null >"$NSP_LOG" 2>&1 9>&- &
	NSP_PID=$!
	track_pid "$NSP_PID"
	while [ "$t" -gt 0 ]; do
		proc_alive "$NSP_PID" || die "systemd-nspawn exited: $(tail -n 5 "$NSP_LOG")"
		NSP_INIT=$(nspawn_init_pid)
		if [ -n "$NSP_INIT" ]; then
			case $(in_ct systemctl is-system-running 2>/dev/null) in
			running | degraded) log "container $NSP_NAME up (init $NSP_INIT)"; return 0 ;;
			esac
		fi
		sleep 0.1
		t=$((t - 1))
	done
	die "the container did not boot in 40 s: $(tail -n 5 "$NSP_LOG")"
}

# Power off (SIGTERM makes nspawn ask the container's systemd to halt), then
# SIGKILL; lib.sh's cleanup removes what is left of $CG.
nspawn_stop() {
	[ -n "$NSP_PID" ] || return 0
	kill_pid "$NSP_PID" 15 || log "nspawn needed SIGKILL"
	NSP_PID="" NSP_INIT=""
	return 0
}
