#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The Debian package (make deb: $BUILD/deb/lsnitch_*.deb, built here first when
# missing or older than the sources) in a throwaway systemd container
# (nspawn_lib.sh) with /usr and /var/lib/dpkg under tmpfs overlays: installing
# starts and enables nothing, the administrator's start guards (as the user
# lsnitch, pinning), purge stops it and leaves nothing attached or pinned, no
# configuration, no state.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nspawn_lib.sh"
lsn_setup
nspawn_require
BUILD=${BUILD:-$LSN_ROOT/build}
case $BUILD in /*) ;; *) BUILD=$LSN_ROOT/$BUILD ;; esac
DEB=$(ls -t "$BUILD"/deb/lsnitch_*.deb 2>/dev/null | head -n 1)
# Whether a tracked file the package is made of (not tests/, bench/, docs/) is newer
# than the package; without git, always.
stale() {
	[ -n "$DEB" ] || return 0
	git -C "$LSN_ROOT" rev-parse --git-dir >/dev/null 2>&1 || return 0
	local f
	while IFS= read -r -d '' f; do
		[ "$LSN_ROOT/$f" -nt "$DEB" ] && return 0
	done < <(git -C "$LSN_ROOT" ls-files -z -- . ':!tests' ':!bench' ':!docs' ':!.ci')
	return 1
}
if stale; then
	command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null && command -v lintian >/dev/null ||
		skip_env "no package in $BUILD/deb and no dpkg-dev, debhelper, lintian to build one (make deps)"
	log "building the package (make deb)"
	t0=$(date +%s)
	make -s -C "$LSN_ROOT" BUILD="$BUILD" deb >"$TMPD/deb.log" 2>&1 ||
		die "make deb failed: $(tail -n 20 "$TMPD/deb.log")"
	log "make deb took $(($(date +%s) - t0)) s"
	DEB=$(ls -t "$BUILD"/deb/lsnitch_*.deb 2>/dev/null | head -n 1)
	[ -n "$DEB" ] || die "make deb made no package in $BUILD/deb"
fi
cp "$DEB" "$TMPD/lsnitch.deb"
# /usr writable through an overlay whose upper layer nspawn makes in /var/tmp
# and removes on exit; the dpkg database a copy of the host's
cp -a /var/lib/dpkg "$TMPD/dpkg" || die "cannot copy /var/lib/dpkg"
# its overrides name groups of the host's /etc, which the container has not
: >"$TMPD/dpkg/statoverride"
NSP_EXTRA=(--overlay=/usr::/usr --bind="$TMPD/dpkg:/var/lib/dpkg"
	--bind-ro="$TMPD/lsnitch.deb:/lsnitch.deb")
nspawn_boot none

attached() { in_ct bpftool cgroup tree 2>/dev/null | grep -E '^[0-9]+ ' | grep -c ln_; }

if in_ct env DEBIAN_FRONTEND=noninteractive dpkg -i /lsnitch.deb >"$TMPD/dpkg-i.log" 2>&1; then
	ok "dpkg -i $(basename "$DEB")"
else
	fail "dpkg -i: $(tail -n 10 "$TMPD/dpkg-i.log")"
	finish
fi
assert_eq "installed, not started" inactive "$(in_ct systemctl is-active lsnitch-agent)"
assert_eq "installed, not enabled" disabled "$(in_ct systemctl is-enabled lsnitch-agent)"
assert_eq "the web UI neither" inactive "$(in_ct systemctl is-active lsnitch-web)"
assert_eq "nothing attached after install" 0 "$(attached)"
assert_match "conffiles in /etc/lsnitch" '/etc/lsnitch/lsnitch.ini' \
	"$(in_ct dpkg-query -W -f='${Conffiles}' lsnitch)"
assert_eq "group lsnitch made (sysusers)" lsnitch "$(in_ct getent group lsnitch | cut -d: -f1)"
assert_eq "user lsnitch made (sysusers)" lsnitch "$(in_ct getent passwd lsnitch | cut -d: -f1)"
assert_match "completion installed" 'lsnitch-agent' \
	"$(in_ct ls /usr/share/bash-completion/completions)"

if in_ct systemctl start lsnitch-agent; then ok "systemctl start lsnitch-agent"; else
	fail "start: $(in_ct journalctl -u lsnitch-agent --no-pager | tail -n 20)"
fi
assert_match "programs attached once started" '^[1-9]' "$(attached)"
assert_eq "the agent runs as lsnitch" lsnitch \
	"$(in_ct ps -o user= -p "$(in_ct systemctl show -p MainPID --value lsnitch-agent)")"
assert_match "and pins" '_connect4' "$(in_ct ls /sys/fs/bpf/lsnitch/links)"
assert_match "lsnitch status answers" 'policies|cgroups' "$(in_ct lsnitch status 2>&1)"

if in_ct env DEBIAN_FRONTEND=noninteractive dpkg --purge lsnitch >"$TMPD/dpkg-p.log" 2>&1; then
	ok "dpkg --purge lsnitch"
else
	fail "purge: $(tail -n 10 "$TMPD/dpkg-p.log")"
fi
assert_eq "agent stopped by purge" inactive "$(in_ct systemctl is-active lsnitch-agent)"
assert_eq "nothing attached after purge" 0 "$(attached)"
assert_eq "nothing pinned" "" "$(in_ct sh -c 'ls -A /sys/fs/bpf/lsnitch 2>/dev/null')"
assert_eq "no /etc/lsnitch, /var/lib/lsnitch left" "" \
	"$(in_ct sh -c 'ls -d /etc/lsnitch /var/lib/lsnitch 2>/dev/null')"
nspawn_stop
finish
