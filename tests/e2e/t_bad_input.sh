#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Bad input files get a clear error and change nothing (issue 8). --check on a
# FIFO config, on --blocked-domains /dev/zero, on a rules.d entry that is a
# FIFO or a dangling link returns an error within seconds; a huge line followed
# by a second policy under `ulimit -v` is "line too long", never a silently
# shorter policy. A running agent with a domain list blocking a name served by
# a real dnsmasq, while a guarded process resolves that name in a loop: the
# list replaced by a FIFO and SIGHUP -> "reload failed ...: not a regular
# file", the agent keeps running (its DNS heartbeat stays fresh: the name keeps
# getting the blocked answer through the proxy, never the real one) and the
# policy in force is unchanged. A NUL byte in the INI or an escape sequence in
# a list line fails the reload with file:line, the message escaped.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a

command -v dnsmasq >/dev/null || skip_env "dnsmasq is not installed (make deps installs it)"
command -v dig >/dev/null || skip_env "dig is not installed (make deps installs it)"

# check_fails DESC ERE ARGS...: lsnitch-agent --check ARGS fails within 3 s with ERE.
check_fails() {
	local desc=$1 re=$2 out rc start end
	shift 2
	start=$(date +%s%N)
	out=$(timeout 10 "$AGENT" --check "$@" 2>&1)
	rc=$?
	end=$(date +%s%N)
	assert_eq "$desc: exit status" 1 "$rc"
	assert_match "$desc: message" "$re" "$out"
	if [ $(((end - start) / 1000000)) -lt 3000 ]; then
		ok "$desc: within 3 s"
	else
		fail "$desc: took $(((end - start) / 1000000)) ms"
	fi
}

log "--check on files that are not regular, unreadable entries, a huge line"
mkfifo "$TMPD/fifo.ini" || die "mkfifo"
check_fails "FIFO as --config" \
	"^(lsnitch-agent: )?$(re_escape "$TMPD")/fifo\.ini: not a regular file$" \
	--config "$TMPD/fifo.ini"
check_fails "--blocked-domains /dev/zero" "^(lsnitch-agent: )?/dev/zero: not a regular file$" \
	--blocked-domains /dev/zero
mkdir "$TMPD/fifo.d" "$TMPD/dangling.d" || die "mkdir"
mkfifo "$TMPD/fifo.d/x.ini" || die "mkfifo"
check_fails "FIFO x.ini in --rules" "$(re_escape "$TMPD")/fifo\.d/x\.ini: not a regular file$" \
	--rules "$TMPD/fifo.d"
ln -s nowhere.ini "$TMPD/dangling.d/x.ini"
check_fails "dangling x.ini in --rules" \
	"$(re_escape "$TMPD")/dangling\.d/x\.ini: cannot open: No such file or directory$" \
	--rules "$TMPD/dangling.d"
# policy a, a 1 GB line (a comment, then a hole), policy b: before, getline() ran out of
# memory under ulimit -v and the read error was taken for the end of the file
printf '[policy a]\ncgroup = a\n; %0300d' 0 >"$TMPD/huge.ini"
truncate -s 1G "$TMPD/huge.ini"
printf '\n[policy b]\ncgroup = b\n' >>"$TMPD/huge.ini"
out=$( (ulimit -v 200000 && timeout 10 "$AGENT" --check --config "$TMPD/huge.ini") 2>&1)
assert_eq "1 GB line under ulimit -v: exit status" 1 "$?"
assert_match "1 GB line under ulimit -v: line too long" \
	"$(re_escape "$TMPD")/huge\.ini:3: line too long \(max 199\)$" "$out"
rm -f "$TMPD/huge.ini"

log "the agent, a blocked name, a guarded resolver loop"
DNS4=127.0.0.157 OUTSIDE_BLOCKED=127.0.0.158 OTHER=127.0.0.159
read -r P1 P2 <<<"$(pick_ports 2)" || die "no free ports"
start_servers --tcp "127.0.0.2:$P1" --tcp "127.0.0.2:$P2" --tcp "127.0.0.3:$P1"
start_dnsmasq "$DNS4" other.test "$OTHER" --address=/blocked.test/$OUTSIDE_BLOCKED \
	--host-record=other.test,$OTHER
assert_eq "dnsmasq answers outside any guarded cgroup" "$OUTSIDE_BLOCKED" \
	"$(dig +short +time=1 +tries=1 @$DNS4 x.blocked.test)"

INI=$TMPD/r.ini DOMAINS=$TMPD/domains.txt
write_file "$DOMAINS" <<EOF
# blocked names
blocked.test
EOF
# write_ini DENY: the agent's INI, line 7 "deny = DENY" (printf %b: "\0" is a NUL byte)
write_ini() {
	{
		printf '%s\n' '[global]' 'blocked-domains = domains.txt' '' '[policy g]' \
			"cgroup = $CGREL/guard/a" 'default = allow'
		printf 'deny = %b\n' "$1"
	} >"$INI"
}
write_ini "127.0.0.2:$P1"
L_DENY=r.ini:7
start_agent --config "$INI"
status_of() { sed -n 's/.*status: \([A-Z]*\).*/\1/p' | head -1; }
digq() { in_cg "$CG/guard/a" dig +time=2 +tries=1 @$DNS4 "$@" 2>&1; }
assert_eq "blocked name through the proxy" NXDOMAIN "$(digq x.blocked.test | status_of)"
client_expect guard/a EPERM deny g "$L_DENY" rule -- tcp 127.0.0.2 "$P1"

# The guarded resolver: one line per query, the status or "timeout"; runs until killed.
in_cg "$CG/guard/a" sh -c 'while :; do
	s=$(dig +time=1 +tries=1 @'$DNS4' x.blocked.test 2>&1 |
		sed -n "s/.*status: \([A-Z]*\).*/\1/p")
	echo "${s:-timeout}"
	sleep 0.2
done' >"$TMPD/loop.out" 2>/dev/null &
LOOP=$!
track_pid "$LOOP"

log "the domain list replaced by a FIFO, SIGHUP"
rm -f "$DOMAINS"
mkfifo "$DOMAINS" || die "mkfifo $DOMAINS"
before=$(wc -l <"$TMPD/loop.out")
reload_agent "^lsnitch-agent: reload failed, keeping the policy in force: $(re_escape "$INI"):2: $(re_escape "$DOMAINS"): not a regular file$"
# past the 3 s heartbeat window: a hung agent would let the name out by now
sleep 5
if proc_alive "$AGENT_PID"; then ok "the agent is still running"; else fail "the agent died"; fi
answers=$(tail -n "+$((before + 1))" "$TMPD/loop.out")
if [ "$(printf '%s\n' "$answers" | grep -c .)" -ge 10 ]; then
	ok "the resolver loop kept asking"
else
	fail "the resolver loop got only: $answers"
fi
assert_eq "every answer since the SIGHUP is the blocked one" NXDOMAIN \
	"$(printf '%s\n' "$answers" | sort -u | tr '\n' ' ' | sed 's/ $//')"
assert_eq "blocked name, after" NXDOMAIN "$(digq x.blocked.test | status_of)"
client_expect guard/a EPERM deny g "$L_DENY" rule -- tcp 127.0.0.2 "$P1"
client_expect guard/a ok -- tcp 127.0.0.2 "$P2"
kill_pid "$LOOP" 2 || true

log "a regular list again: the reload works"
rm -f "$DOMAINS"
write_file "$DOMAINS" <<EOF
blocked.test
other.test
EOF
reload_agent '^lsnitch-agent: reloaded'
assert_eq "the new list is in force" NXDOMAIN "$(digq other.test | status_of)"

log "a NUL byte in the INI: the reload fails with file:line, the old policy stays"
write_ini "127.0.0.3:$P1\\0, 127.0.0.2:$P1"
reload_agent "^lsnitch-agent: reload failed, keeping the policy in force: $(re_escape "$INI"):7: NUL byte in line$"
client_expect guard/a EPERM deny g "$L_DENY" rule -- tcp 127.0.0.2 "$P1"
client_expect guard/a ok -- tcp 127.0.0.3 "$P1"
assert_eq "blocked name, after the NUL byte" NXDOMAIN "$(digq x.blocked.test | status_of)"

log "an escape sequence in a list line: the message is escaped"
write_ini "127.0.0.3:$P1"
printf 'blocked.test\n\033[2J\033]0;pwned\007.test\n' >"$DOMAINS"
reload_agent "^lsnitch-agent: reload failed, keeping the policy in force: $(re_escape "$DOMAINS"):2: bad domain name \"\\\\x1b\[2j\\\\x1b\]0;pwned\\\\x07\.test\"$"
assert_eq "no raw ESC or BEL on the agent's stderr" 0 "$(grep -c $'[\033\007]' "$AGENT_ERR")"
client_expect guard/a EPERM deny g "$L_DENY" rule -- tcp 127.0.0.2 "$P1"
client_expect guard/a ok -- tcp 127.0.0.3 "$P1"

stop_agent || fail "the agent exited with status $AGENT_RC on SIGTERM"
finish
