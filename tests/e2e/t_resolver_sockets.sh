#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Resolver sockets: with "hosts: resolve [!UNAVAIL=return] dns" glibc asks
# systemd-resolved over varlink (/run/systemd/resolve/io.systemd.Resolve) and
# nscd over /var/run/nscd/socket, never port 53. Where domain filtering is in
# force, the cgroup/connect_unix program refuses a guarded process's connect()
# to both; nss-resolve returns UNAVAIL, glibc falls back to DNS, and the proxy
# blocks the listed name.
#
# All of it in a PRIVATE mount namespace: a tmpfs over /run, a test
# nsswitch.conf and resolv.conf bound over /etc's, fake resolved and nscd
# servers (fake_resolver.py) that answer 127.0.0.77 to anything and log every
# connection, and Debian's libnss_resolve.so.2 unpacked from its .deb (never
# installed: its postinst edits the host's nsswitch.conf) and found through
# LD_LIBRARY_PATH. The host's own resolution is never touched.
#
# Ground truth: the fake servers' logs. Guarded: no connection reaches either,
# the listed name is NXDOMAIN and an unlisted one gets the real DNS answer.
# Controls: the same getent outside the guarded cgroup gets the fake answer
# through both sockets; an audit policy reports would-deny and connects.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a guard/audited

command -v dnsmasq >/dev/null || skip_env "dnsmasq is not installed (make deps installs it)"
command -v unshare >/dev/null && command -v nsenter >/dev/null ||
	skip_env "unshare/nsenter missing (util-linux)"

# libnss-resolve, unpacked only: the .deb `make deps` keeps in build/debs, else apt-get download.
DEB=$(ls "$LSN_ROOT"/build/debs/libnss-resolve_*.deb 2>/dev/null | tail -1)
if [ -z "$DEB" ]; then
	(cd "$TMPD" && apt-get download libnss-resolve >/dev/null 2>&1)
	DEB=$(ls "$TMPD"/libnss-resolve_*.deb 2>/dev/null | tail -1)
fi
[ -n "$DEB" ] || skip "libnss-resolve: no .deb in build/debs (make deps) and apt-get download failed"
mkdir -p "$TMPD/deb" "$TMPD/nss"
dpkg-deb -x "$DEB" "$TMPD/deb" || die "cannot unpack $DEB"
find "$TMPD/deb" -name 'libnss_resolve.so.2' -exec cp {} "$TMPD/nss/" \;
[ -e "$TMPD/nss/libnss_resolve.so.2" ] || die "no libnss_resolve.so.2 in $DEB"

DNS4=127.0.0.153 FAKE=127.0.0.77 ALLOWED=127.0.0.12 BLOCKED=127.0.0.14
VARLINK=/run/systemd/resolve/io.systemd.Resolve NSCD=/var/run/nscd/socket
start_dnsmasq "$DNS4" allowed.test "$ALLOWED" --host-record=allowed.test,$ALLOWED \
	--address=/blocked.test/$BLOCKED || die "dnsmasq does not answer"

# The private mount namespace, held open by a sleeping process.
write_file "$TMPD/nsswitch.conf" <<<'hosts: resolve [!UNAVAIL=return] dns'
write_file "$TMPD/resolv.conf" <<<"nameserver $DNS4"
unshare -m --propagation private sh -c '
	mount -t tmpfs lsnitch-test /run && mkdir -p /run/systemd/resolve /run/nscd &&
	mount --bind "$1/nsswitch.conf" /etc/nsswitch.conf &&
	mount --bind "$1/resolv.conf" /etc/resolv.conf && touch "$1/ns.ready" && exec sleep 600
	' sh "$TMPD" 9>&- &
HOLDER=$!
track_pid "$HOLDER"
for _ in $(seq 50); do [ -e "$TMPD/ns.ready" ] && break; sleep 0.1; done
[ -e "$TMPD/ns.ready" ] || die "the private mount namespace was not set up"
inns() { nsenter --mount="/proc/$HOLDER/ns/mnt" -- "$@"; }
[ "$(readlink /proc/$HOLDER/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ] ||
	die "SAFETY: the holder shares our mount namespace"

for srv in "--varlink $VARLINK" "--nscd $NSCD"; do
	name=${srv%% *}
	# nsenter itself (it execs the server: $! is the server), not the function in a
	# subshell, which the cleanup would kill leaving the server; not holding the e2e lock.
	# shellcheck disable=SC2086
	nsenter --mount="/proc/$HOLDER/ns/mnt" -- "$PY" "$LSN_E2E_DIR/fake_resolver.py" $srv \
		--answer "$FAKE" --log "$TMPD/${name#--}.log" >"$TMPD/${name#--}.out" 2>&1 9>&- &
	track_pid "$!"
	wait_for_line "$TMPD/${name#--}.out" '^ready$' 5 || die "fake ${name#--} server not ready"
done

# getent_in CG NAME: getent hosts NAME inside the namespace, in $CG/CG.
getent_in() {
	inns sh -c 'echo $$ > "$1/cgroup.procs" || exit 126; shift; exec "$@"' sh "$(cg_dir "$1")" \
		env LD_LIBRARY_PATH="$TMPD/nss" getent hosts "$2" 2>&1 | awk '{print $1}' | head -1
}
connects() { grep -c '^connect' "$TMPD/$1.log"; }

log "control, before any agent: the fake servers answer in the namespace"
assert_eq "outside: getent through nscd then nss-resolve" "$FAKE" "$(getent_in outside blocked.test)"
assert_match "the fake resolved was asked" "^ask blocked.test" "$(cat "$TMPD/varlink.log")"
[ "$(connects nscd)" -gt 0 ] && ok "the fake nscd saw the lookup" || fail "nscd: no connection"
assert_no_match "the host's own nsswitch.conf is untouched" "resolve" "$(grep ^hosts /etc/nsswitch.conf)"

write_file "$TMPD/domains.txt" <<<'blocked.test'
write_file "$TMPD/lsnitch.ini" <<EOF
[global]
blocked-domains = domains.txt

[policy watched]
cgroup = $CGREL/guard/audited
audit = yes
EOF
# The agent runs in the namespace too: it reports only sockets it finds there at load.
printf '#!/bin/sh\nexec nsenter --mount=/proc/%s/ns/mnt -- %s "$@"\n' "$HOLDER" "$AGENT" \
	>"$TMPD/agent-in-ns" && chmod +x "$TMPD/agent-in-ns" || die "cannot write the agent wrapper"
AGENT=$TMPD/agent-in-ns
start_agent --config "$TMPD/lsnitch.ini"
if grep -q 'resolver sockets are not guarded' "$AGENT_ERR"; then
	skip_env "this kernel has no cgroup/connect_unix (needs >= 6.7): $(uname -r)"
fi

# unix_event VERDICT PATH CG POLICY: the event of a refused (or audited) resolver socket
unix_event() {
	event_re "$1" unix "$2" "$CGREL/$3" "$4" - resolver-socket connect_unix \
		'pid=[0-9]+ tid=[0-9]+ comm=getent uid=0 gid=0'
}

log "guarded: the resolver sockets are refused, glibc falls back to DNS"
v0=$(connects varlink) n0=$(connects nscd)
ev_mark
assert_eq "guard/a: listed name is blocked (no fake answer)" "" "$(getent_in guard/a blocked.test)"
assert_eq "guard/a: the fake resolved saw no connection" "$v0" "$(connects varlink)"
assert_eq "guard/a: the fake nscd saw no connection" "$n0" "$(connects nscd)"
expect_event "$(unix_event deny "$VARLINK" guard/a -)"
expect_event "$(unix_event deny "$NSCD" guard/a -)"
expect_event '^deny dns blocked\.test '
ev_mark
assert_eq "guard/a: an unlisted name gets the DNS answer" "$ALLOWED" "$(getent_in guard/a allowed.test)"
assert_eq "guard/a: still no connection to the fake resolved" "$v0" "$(connects varlink)"
expect_event "$(unix_event deny "$VARLINK" guard/a -)"

log "controls: outside the guarded cgroup, and an audit policy"
assert_eq "outside: the fake resolved answers" "$FAKE" "$(getent_in outside blocked.test)"
[ "$(connects varlink)" -gt "$v0" ] && ok "outside: connected to the fake resolved" ||
	fail "outside: no connection to the fake resolved"
ev_mark
assert_eq "guard/audited: audit connects (the fake answer)" "$FAKE" \
	"$(getent_in guard/audited blocked.test)"
expect_event "$(unix_event would-deny "$VARLINK" guard/audited watched)"

log "resolver-sockets = /run/absent.sock: the list replaces the default"
stop_agent
sed -i 's|^blocked-domains.*|&\nresolver-sockets = /run/absent.sock|' "$TMPD/lsnitch.ini"
start_agent --config "$TMPD/lsnitch.ini"
v0=$(connects varlink)
ev_mark
assert_eq "guard/a: resolved's socket is no longer refused" "$FAKE" "$(getent_in guard/a blocked.test)"
[ "$(connects varlink)" -gt "$v0" ] && ok "guard/a: connected to the fake resolved" ||
	fail "guard/a: no connection to the fake resolved"
# connect_in CG PATH: the errno name of a unix connect() inside the namespace, or ok
connect_in() {
	inns sh -c 'echo $$ > "$1/cgroup.procs" || exit 126; shift; exec "$@"' sh "$(cg_dir "$1")" \
		"$PY" -c 'import errno, socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1]); print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])' "$2"
}
assert_eq "outside: no socket at /run/absent.sock" ENOENT "$(connect_in outside /run/absent.sock)"
assert_eq "guard/a: a listed path is refused, socket or not" EPERM \
	"$(connect_in guard/a /run/absent.sock)"
sleep 0.5
assert_no_match "no event for a path with no socket at load (glibc tries nscd's anyway)" \
	'unix /run/absent[.]sock' "$(events_since_mark)"
finish
