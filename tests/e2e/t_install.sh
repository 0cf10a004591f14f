#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make install / uninstall, with no root and no kernel needs (everything goes
# below a temporary directory). "make install DESTDIR=D PREFIX=/usr" puts the
# binaries, the units (paths rewritten to PREFIX; lsnitch-web's unit, the agent's
# drop-in and sysusers file too), the web pages, the man pages and the
# default configuration in place; the man pages render with groff -ww and
# man -l without a warning; a second install keeps an edited configuration
# file and re-creates a missing one; "make uninstall" removes everything but
# the edited file (and says so). An install with a PREFIX outside DESTDIR
# gives a configuration that "lsnitch-agent --check" accepts and a unit that
# "systemd-analyze verify" accepts (when systemd-analyze is there).
set -u
TEST_NAME=t_install
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CHECKS=0 FAILS=0
ok() { CHECKS=$((CHECKS + 1)); printf 'ok   %s\n' "$*"; }
fail() { CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); printf 'FAIL %s\n' "$*"; }
check() { # check DESC CMD...
	local d=$1
	shift
	if "$@"; then ok "$d"; else fail "$d"; fi
}

T=$(mktemp -d "/tmp/lsnitch-install.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
D=$T/dest
mk() { make -s -C "$ROOT" "$@" >"$T/make.out" 2>&1; }

[ -x "$ROOT/build/lsnitch-agent" ] && [ -x "$ROOT/build/lsnitch" ] ||
	{ echo "FATAL: build/lsnitch-agent or build/lsnitch missing: run make"; exit 1; }

echo "[$TEST_NAME] make install DESTDIR=$D PREFIX=/usr"
if mk install DESTDIR="$D" PREFIX=/usr; then ok "make install: exit 0"; else
	fail "make install failed:"; cat "$T/make.out"; exit 1; fi

FILES="usr/sbin/lsnitch-agent:755 usr/bin/lsnitch:755
usr/lib/systemd/system/lsnitch-agent.service:644
usr/share/man/man8/lsnitch-agent.8:644 usr/share/man/man8/lsnitch.8:644
usr/share/man/man5/lsnitch.ini.5:644 usr/share/man/man5/lsnitch-lists.5:644
etc/lsnitch/lsnitch.ini:644 etc/lsnitch/blocked_hosts.txt:644
etc/lsnitch/blocked_domains.txt:644 etc/lsnitch/doh-resolvers.txt:644
etc/lsnitch/rules.d/README:644
etc/lsnitch/units.d/README:644
usr/bin/lsnitch-web:755 usr/lib/systemd/system/lsnitch-web.service:644
usr/lib/systemd/system/lsnitch-agent.service.d/web.conf:644
usr/lib/sysusers.d/lsnitch-web.conf:644 usr/lib/sysusers.d/lsnitch.conf:644
usr/share/man/man8/lsnitch-web.8:644
usr/sbin/lsnitch-update:755 usr/lib/systemd/system/lsnitch-update.service:644
usr/lib/systemd/system/lsnitch-update.timer:644 usr/share/man/man8/lsnitch-update.8:644
usr/share/bash-completion/completions/lsnitch:644
usr/share/bash-completion/completions/lsnitch-agent:644"
for f in "$ROOT"/webroot/*; do FILES="$FILES usr/share/lsnitch/webroot/${f##*/}:644"; done
for fm in $FILES; do
	f=${fm%:*} m=${fm#*:}
	if [ -f "$D/$f" ]; then
		check "$f mode $m" [ "$(stat -c %a "$D/$f")" = "$m" ]
	else
		fail "$f is missing"
	fi
done
n=$(find "$D" -type f | wc -l)
check "nothing else installed ($n files)" [ "$n" = "$(echo $FILES | wc -w)" ]
check "rules.d holds no policy" [ -z "$(find "$D/etc/lsnitch/rules.d" -name '*.ini')" ]
check "units.d holds no policy" [ -z "$(find "$D/etc/lsnitch/units.d" -name '*.ini')" ]

U=$D/usr/lib/systemd/system/lsnitch-agent.service
check "unit: ExecStart under PREFIX" grep -qx 'ExecStart=/usr/sbin/lsnitch-agent --config /etc/lsnitch/lsnitch.ini --rules /etc/lsnitch/rules.d --units /etc/lsnitch/units.d --control /run/lsnitch/control.sock' "$U"
check "unit: ExecReload under PREFIX" grep -qx 'ExecReload=/usr/bin/lsnitch --socket /run/lsnitch/control.sock reload' "$U"
check "unit: no /usr/local left" bash -c "! grep -q /usr/local '$U' '$U.d/web.conf' '${U%/*}/lsnitch-web.service'"
check "web unit: ExecStart under PREFIX" grep -q '^ExecStart=/usr/bin/lsnitch-web .*--webroot /usr/share/lsnitch/webroot$' "${U%/*}/lsnitch-web.service"
UPD=${U%/*}/lsnitch-update.service
check "update unit: ExecStart under PREFIX" grep -qx 'ExecStart=/usr/sbin/lsnitch-update --config /etc/lsnitch/lsnitch.ini --socket /run/lsnitch/control.sock' "$UPD"
for k in DynamicUser=yes SupplementaryGroups=lsnitch StateDirectory=lsnitch/lists CapabilityBoundingSet=; do
	check "update unit: $k" grep -qx "$k" "$UPD"
done
check "agent drop-in: --control-group lsnitch" grep -q '^ExecStart=/usr/sbin/lsnitch-agent .* --control-group lsnitch$' "$U.d/web.conf"
for k in CapabilityBoundingSet= NoNewPrivileges=yes User=lsnitch-web SupplementaryGroups=lsnitch; do
	check "web unit: $k" grep -qx "$k" "${U%/*}/lsnitch-web.service"
done
for k in Type=notify WatchdogSec= Restart=on-failure NoNewPrivileges=yes ProtectSystem=strict \
	ProtectHome=yes PrivateTmp=yes RuntimeDirectory=lsnitch RuntimeDirectoryMode=0700 \
	StateDirectory=lsnitch 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK' \
	LockPersonality=yes MemoryDenyWriteExecute=yes SystemCallArchitectures=native \
	'CapabilityBoundingSet=CAP_BPF CAP_PERFMON CAP_NET_ADMIN CAP_SYS_ADMIN CAP_DAC_READ_SEARCH CAP_SYS_PTRACE'; do
	check "unit: $k" grep -q "^$k" "$U"
done
check "config: [global] lists in /etc/lsnitch" grep -qx 'blocked-hosts = /etc/lsnitch/blocked_hosts.txt' "$D/etc/lsnitch/lsnitch.ini"
check "config: the DoH list in /etc/lsnitch" grep -qx 'doh-resolvers = /etc/lsnitch/doh-resolvers.txt' "$D/etc/lsnitch/lsnitch.ini"
check "config: host list entries commented out" bash -c "! grep -v '^#' '$D/etc/lsnitch/blocked_hosts.txt' | grep -q '[^[:space:]]'"
check "installed lsnitch runs" "$D/usr/bin/lsnitch" --version
check "installed lsnitch-agent runs" "$D/usr/sbin/lsnitch-agent" --version
check "installed lsnitch-web runs" "$D/usr/bin/lsnitch-web" --help
check "installed lsnitch-update runs" "$D/usr/sbin/lsnitch-update" --help

echo "[$TEST_NAME] man pages"
for m in "$D"/usr/share/man/man*/*; do
	out=$(groff -man -Tutf8 -ww "$m" 2>&1 >/dev/null)
	check "groff -ww $(basename "$m"): no warnings${out:+: $out}" [ -z "$out" ]
	if command -v man >/dev/null; then
		out=$(MANWIDTH=80 man -l "$m" 2>&1 >/dev/null)
		check "man -l $(basename "$m"): no warnings${out:+: $out}" [ -z "$out" ]
		check "man -l $(basename "$m"): has a NAME section" bash -c "MANWIDTH=80 man -l '$m' 2>/dev/null | grep -q '^NAME'"
	fi
done

echo "[$TEST_NAME] a second install keeps an edited configuration"
echo "; edited by the administrator" >>"$D/etc/lsnitch/lsnitch.ini"
cp "$D/etc/lsnitch/lsnitch.ini" "$T/edited.ini"
rm "$D/etc/lsnitch/blocked_hosts.txt"
if mk install DESTDIR="$D" PREFIX=/usr; then ok "second make install: exit 0"; else
	fail "second make install failed:"; cat "$T/make.out"; fi
check "edited lsnitch.ini kept" cmp -s "$T/edited.ini" "$D/etc/lsnitch/lsnitch.ini"
check "install says it keeps it" grep -q "keeping $D/etc/lsnitch/lsnitch.ini" "$T/make.out"
check "missing blocked_hosts.txt re-created" [ -f "$D/etc/lsnitch/blocked_hosts.txt" ]

echo "[$TEST_NAME] make uninstall"
if mk uninstall DESTDIR="$D" PREFIX=/usr; then ok "make uninstall: exit 0"; else
	fail "make uninstall failed:"; cat "$T/make.out"; fi
left=$(cd "$D" && find . -type f | sort)
check "only the edited file is left (left: $left)" [ "$left" = ./etc/lsnitch/lsnitch.ini ]
check "uninstall says it keeps it" grep -q "keeping $D/etc/lsnitch/lsnitch.ini (changed)" "$T/make.out"
check "empty rules.d removed" [ ! -e "$D/etc/lsnitch/rules.d" ]

echo "[$TEST_NAME] an install outside DESTDIR: valid configuration and unit"
P=$T/prefix
if mk install PREFIX="$P" SYSCONFDIR="$P/etc"; then ok "make install PREFIX=$P: exit 0"; else
	fail "make install PREFIX=$P failed:"; cat "$T/make.out"; fi
out=$("$P/sbin/lsnitch-agent" --check --config "$P/etc/lsnitch/lsnitch.ini" \
	--rules "$P/etc/lsnitch/rules.d" --units "$P/etc/lsnitch/units.d" 2>&1)
check "--check on the installed defaults: $out" [ "${out#configuration OK}" != "$out" ]
check "unit ExecStart uses PREFIX and SYSCONFDIR" grep -q "^ExecStart=$P/sbin/lsnitch-agent --config $P/etc/lsnitch/lsnitch.ini " "$P/lib/systemd/system/lsnitch-agent.service"
if command -v systemd-analyze >/dev/null 2>&1; then
	out=$(systemd-analyze verify --man=no "$P/lib/systemd/system/lsnitch-agent.service" \
		"$P/lib/systemd/system/lsnitch-web.service" \
		"$P/lib/systemd/system/lsnitch-update.service" \
		"$P/lib/systemd/system/lsnitch-update.timer" 2>&1)
	rc=$?
	check "systemd-analyze verify: exit $rc${out:+: $out}" [ "$rc" = 0 ] && [ -z "$out" ]
else
	echo "note: systemd-analyze is not installed: the unit file was not verified (skipped)"
fi
mk uninstall PREFIX="$P" SYSCONFDIR="$P/etc" || fail "uninstall from $P failed"
check "nothing left in $P" [ -z "$(find "$P" -type f)" ]

if [ "$FAILS" -gt 0 ]; then
	printf '%s: %d of %d checks failed\n' "$TEST_NAME" "$FAILS" "$CHECKS"
	exit 1
fi
printf '%s: all %d checks passed\n' "$TEST_NAME" "$CHECKS"
