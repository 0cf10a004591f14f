#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lsnitch-agent --check, run as an unprivileged user (nobody; no root, no
# kernel, no network needed): a good configuration ([global], policies, a
# --rules directory, host and domain lists, a hostname rule, a line of
# exactly 199 characters) prints "configuration OK" and exits 0; broken files
# print "FILE:LINE: reason" on stderr (the file as given, the exact line) and
# exit 1: bad address, unknown key, a line of 200+ characters, bad ports
# (0, too big, reversed range), a bad value, an unknown section, a policy
# without cgroup=, a cgroup bound by two policies, a policy name used twice
# (in one file and across --rules files), [global] in a --rules file, a bad
# entry in a --rules file and in a blocklist, a missing file. --help,
# --version.
. "$(dirname "$0")/lib.sh"
require_agent
lsn_mktmp
trap lsn_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$(id -u)" = 0 ]; then
	command -v setpriv >/dev/null || skip "setpriv is missing (util-linux)"
	as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
	log "running the agent as uid 65534 (nobody)"
else
	as_user() { "$@"; }
	log "running the agent as uid $(id -u)"
fi
as_user test -x "$AGENT" || skip "$AGENT is not executable by uid 65534 (its directory is not world-readable)"

# rule_line N: "allow = 127.0.0.1, 127.1.1.100, ..." exactly N (>= 40) characters.
rule_line() {
	local n=$1 s="allow = 127.0.0.1" i=100 r a
	local -A item=([11]=", 127.0.0.9" [12]=", 127.0.0.10" [13]=", 127.0.0.100"
		[14]=", 127.0.10.100" [15]=", 127.0.100.100" [16]=", 127.10.100.100"
		[17]=", 127.100.100.100")
	r=$((n - ${#s}))
	while [ "$r" -gt 34 ]; do # 13 characters each
		s+=", 127.1.1.$i"
		i=$((i + 1))
		r=$((r - 13))
	done
	if [ "$r" -ge 22 ]; then
		a=$((r - 11 > 17 ? 17 : r - 11))
		s+=${item[$a]}
		r=$((r - a))
	fi
	printf '%s%s' "$s" "${item[$r]}"
}

# check_ok DESC ARGS...: --check passes.
check_ok() {
	local desc=$1 out err rc
	shift
	out=$(as_user "$AGENT" --check "$@" 2>"$TMPD/check.err")
	rc=$?
	err=$(cat "$TMPD/check.err")
	assert_eq "$desc: exit status" 0 "$rc"
	assert_match "$desc: stdout starts with 'configuration OK'" '^configuration OK' "$out"
	assert_eq "$desc: nothing on stderr" "" "$err"
}

# check_err DESC FILE_ERE LINE ARGS...: --check fails with FILE:LINE: reason.
check_err() {
	local desc=$1 fre=$2 line=$3 out err rc
	shift 3
	out=$(as_user "$AGENT" --check "$@" 2>"$TMPD/check.err")
	rc=$?
	err=$(cat "$TMPD/check.err")
	assert_eq "$desc: exit status" 1 "$rc"
	assert_match "$desc: stderr is '$line: reason'" "^(lsnitch-agent: )?$fre:$line: [^ ].*" "$err"
	assert_no_match "$desc: no 'configuration OK'" 'configuration OK' "$out"
}

D=$TMPD
mkdir -p "$D/rules.d" "$D/rules-bad"
write_file "$D/hosts.txt" <<EOF
# hosts
127.0.0.2
127.0.1.0/24
::1
2001:db8::/48
localhost
EOF
write_file "$D/domains.txt" <<EOF
example.invalid
||ads.example.invalid^
0.0.0.0 tracker.example.invalid
EOF
write_file "$D/main.ini" <<EOF
[global]
blocked-hosts = hosts.txt
blocked-domains = domains.txt
audit = no
log-allowed = no

[policy browser]
cgroup = lsnitch-test-check/browser
cgroup = lsnitch-test-check/browser2
default = allow
deny = 127.0.0.3, 127.0.2.0/24:80-90/tcp, [::1]:53/udp, 2001:db8::/32
allow = *:443/tcp
audit = yes
log-allowed = yes
$(rule_line 199)
EOF
[ "$(awk 'END { print length($0) }' "$D/main.ini")" = 199 ] || die "rule_line is broken"
write_file "$D/rules.d/10-editor.ini" <<EOF
[policy editor]
cgroup = lsnitch-test-check/editor
default = deny
allow = localhost:8000-8100
allow = [::1]/tcp
blocked-hosts = ../hosts.txt
EOF
write_file "$D/rules.d/README" <<EOF
not an .ini file: ignored
EOF

log "a good configuration"
check_ok "good config" --config "$D/main.ini" --rules "$D/rules.d" --blocked-hosts "$D/hosts.txt" \
	--blocked-domains "$D/domains.txt"
check_ok "policies only" --rules "$D/rules.d"

log "broken files"
bad() { # bad NAME LINE_CONTENT: a policy file whose line 4 is LINE_CONTENT
	printf '[policy p]\ncgroup = lsnitch-test-check/p\ndefault = allow\n%s\ndeny = 127.0.0.9\n' "$2" >"$D/$1"
}
bad addr.ini "deny = 300.1.1.1"
check_err "bad address" "$(re_escape "$D/addr.ini")" 4 --config "$D/addr.ini"
bad key.ini "colour = blue"
check_err "unknown key" "$(re_escape "$D/key.ini")" 4 --config "$D/key.ini"
bad long.ini "$(rule_line 200)"
check_err "line of 200 characters" "$(re_escape "$D/long.ini")" 4 --config "$D/long.ini"
bad long2.ini "$(rule_line 260)"
check_err "line of 260 characters" "$(re_escape "$D/long2.ini")" 4 --config "$D/long2.ini"
bad port.ini "deny = 127.0.0.1:70000"
check_err "port 70000" "$(re_escape "$D/port.ini")" 4 --config "$D/port.ini"
bad port0.ini "deny = 127.0.0.1:0"
check_err "port 0" "$(re_escape "$D/port0.ini")" 4 --config "$D/port0.ini"
bad range.ini "deny = 127.0.0.1:90-80"
check_err "reversed port range" "$(re_escape "$D/range.ini")" 4 --config "$D/range.ini"
bad v6port.ini "deny = [::1]:99999/udp"
check_err "bad IPv6 port" "$(re_escape "$D/v6port.ini")" 4 --config "$D/v6port.ini"
bad proto.ini "deny = 127.0.0.1:80/sctp"
check_err "unknown protocol" "$(re_escape "$D/proto.ini")" 4 --config "$D/proto.ini"
bad default.ini "audit = perhaps"
check_err "bad yes/no value" "$(re_escape "$D/default.ini")" 4 --config "$D/default.ini"
printf '[policy p]\ncgroup = lsnitch-test-check/p\n\n[polcy typo]\ndeny = 127.0.0.1\n' >"$D/section.ini"
check_err "unknown section" "$(re_escape "$D/section.ini")" 4 --config "$D/section.ini"

printf '[policy p]\ndefault = deny\nallow = 127.0.0.1\n' >"$D/nocg.ini"
check_err "policy without cgroup=" "$(re_escape "$D/nocg.ini")" 1 --config "$D/nocg.ini"
printf '[policy a]\ncgroup = t/x\n\n[policy b]\ncgroup = t/y\ncgroup = t/x\n' >"$D/dupcg.ini"
check_err "a cgroup bound by two policies" "$(re_escape "$D/dupcg.ini")" 6 --config "$D/dupcg.ini"
printf '[policy a]\ncgroup = t/x\n\n[policy a]\ncgroup = t/y\n' >"$D/dupname.ini"
check_err "a policy name used twice" "$(re_escape "$D/dupname.ini")" 4 --config "$D/dupname.ini"

log "an error in a --rules file and in a blocklist"
mkdir -p "$D/rules-dup" "$D/rules-global"
printf '[policy a]\ncgroup = t/x\n' >"$D/rules-dup/a.ini"
printf '# same name\n[policy a]\ncgroup = t/y\n' >"$D/rules-dup/b.ini"
check_err "a policy name used in two --rules files" "$(re_escape "$D/rules-dup")/+b[.]ini" 2 \
	--rules "$D/rules-dup"
printf '[global]\naudit = yes\n' >"$D/rules-global/g.ini"
check_err "[global] in a --rules file" "$(re_escape "$D/rules-global")/+g[.]ini" 1 \
	--rules "$D/rules-global"
cp "$D/rules.d/10-editor.ini" "$D/rules-bad/10-editor.ini"
printf '[policy other]\ncgroup = lsnitch-test-check/other\ndeny = 127.0.0.1/33\n' >"$D/rules-bad/20-bad.ini"
check_err "bad CIDR in --rules dir" "$(re_escape "$D/rules-bad")/+20-bad[.]ini" 3 --rules "$D/rules-bad"
printf '# list\n127.0.0.1\n999.1.1.1\n' >"$D/bad_hosts.txt"
check_err "bad blocklist entry" "$(re_escape "$D/bad_hosts.txt")" 3 --blocked-hosts "$D/bad_hosts.txt"
printf '[global]\nblocked-hosts = bad_hosts.txt\n' >"$D/global-bad.ini"
check_err "bad blocklist named in [global]" "([^ ]*/)?bad_hosts[.]txt" 3 --config "$D/global-bad.ini"

log "a missing file"
out=$(as_user "$AGENT" --check --config "$D/does-not-exist.ini" 2>&1)
rc=$?
assert_eq "missing file: exit status" 1 "$rc"
assert_match "missing file: named" "$(re_escape "$D/does-not-exist.ini")" "$out"

log "--help and --version"
out=$(as_user "$AGENT" --help 2>&1)
assert_eq "--help exit status" 0 "$?"
assert_match "--help shows usage" '^Usage: lsnitch-agent' "$out"
out=$(as_user "$AGENT" --version 2>&1)
assert_eq "--version exit status" 0 "$?"
assert_match "--version" '^lsnitch-agent [0-9]' "$out"
finish
