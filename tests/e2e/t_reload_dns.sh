#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every [global] DNS key on reload takes effect, or the reload says it is
# not applied; never a bare "reloaded" while ignoring it. dns-block = refused: blocked names get REFUSED from then on. dns-port
# changed: "reloaded" plus "warning: dns-port ... ignored" (deprecated: the
# ports are the kernel's) and guarded DNS keeps working, filtered (the bug was:
# all guarded DNS broken until a restart). dns = no: the proxy stops, names
# go to the server as asked; dns = yes again: filtered again. Status shows the
# last reload's warning.
. "$(dirname "$0")/lib.sh"
lsn_dns_setup guard/dns

DNS4=127.0.0.153 OTHER=127.0.0.12 LEAK=127.0.0.14
start_dnsmasq "$DNS4" other.test "$OTHER" --host-record=other.test,$OTHER \
	--address=/blocked.test/$LEAK
echo blocked.test | write_file "$TMPD/domains.txt"
config() { # GLOBAL-LINES...: the configuration with these [global] lines
	{
		echo "[global]"
		echo "blocked-domains = domains.txt"
		printf '%s\n' "$@"
		printf '\n[policy dns]\ncgroup = %s\n' "$CGREL/guard/dns"
	} | write_file "$TMPD/lsnitch.ini"
}
status_of() { sed -n 's/.*status: \([A-Z]*\).*/\1/p' | head -1; }
digq() { in_cg "$(cg_dir guard/dns)" dig +time=2 +tries=1 @$DNS4 "$@" 2>&1; }
# the DNS state the programs read: base port and slots (bpftool, if there)
dns_state() {
	command -v bpftool >/dev/null || { echo "?"; return; }
	bpftool -j map dump pinned "/sys/fs/bpf/$LSN_TAG/maps/dns_state" 2>/dev/null | "$PY" -c '
import json, sys
v = json.load(sys.stdin)[0]["formatted"]["value"]
print(v["n_slots"])'
}

config "dns-port = 10530"
start_agent --config "$TMPD/lsnitch.ini" --control "$S"
assert_eq "control: blocked name NXDOMAIN" NXDOMAIN "$(digq www.blocked.test | status_of)"
assert_eq "control: other names resolve" "$OTHER" "$(digq +short other.test)"

config "dns-port = 10530" "dns-block = refused"
assert_eq "dns-block changed: reloaded, no warning" "reloaded" "$(ctl reload 2>&1)"
assert_eq "dns-block = refused in force" REFUSED "$(digq www.blocked.test | status_of)"

config "dns-port = 10730" "dns-block = refused"
out=$(ctl reload 2>&1)
assert_match "dns-port changed: reloaded, with a warning that it is ignored" \
	"^reloaded.warning: dns-port 10530 -> 10730 ignored: dns-port is deprecated, the proxy's ports are chosen by the kernel$" \
	"$(tr '\n' ' ' <<<"$out" | sed 's/ $//; s/ warning/.warning/')"
assert_match "status shows the warning" '"warning": *"dns-port 10530 -> 10730' \
	"$(ctl --json status 2>&1)"
assert_eq "the old port stays in force: blocked names still refused" REFUSED \
	"$(digq www.blocked.test | status_of)"
assert_eq "... and other names resolve through the proxy" "$OTHER" "$(digq +short other.test)"
assert_match "stderr: the warning" "^lsnitch-agent: warning: reload: dns-port 10530 -> 10730 ignored" \
	"$(grep 'reload:' "$AGENT_ERR" | tail -1)"

config "dns = no"
assert_eq "dns = no: reloaded" "reloaded" "$(ctl reload 2>&1)"
res=""
for _ in $(seq 10); do
	res=$(digq +short www.blocked.test)
	[ "$res" = "$LEAK" ] && break
	sleep 0.3
done
assert_eq "dns = no in force: names go to the server as asked" "$LEAK" "$res"
st=$(dns_state)
assert_eq "the programs redirect nothing (no slots)" "0" "$st"

config "dns = yes"
assert_eq "dns = yes again: reloaded" "reloaded" "$(ctl reload 2>&1)"
assert_eq "filtered again (NXDOMAIN, the default dns-block)" NXDOMAIN \
	"$(digq www.blocked.test | status_of)"
assert_eq "other names resolve" "$OTHER" "$(digq +short other.test)"
finish
