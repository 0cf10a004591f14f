#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The slots in front of the exe_policy map (include/lsnitch_exe_filter.h) answer only what
# its lookup would have. In one guarded cgroup under "box" (default deny): a copy of curl
# "a" takes box-a (allow), a copy "b" takes box-b (deny), the original curl (named by no
# exe= line) takes box. Once with the full table (the control), once with a table of one
# shared slot (LSNITCH_TEST_EXE_SHARED=1, a test-only knob: as if every executable collided
# with every other, so the exe_policy lookup alone tells them apart). Ground truth: what
# the HTTP server logged; the events name the policy that decided. Under the full table a
# copy replaced on disk (a new inode: the old slot shared, a new one filled) keeps its
# policy once the agent has seen the rename, and the original curl still gets the scope's.
. "$(dirname "$0")/lib.sh"
lsn_setup
require_bpftool
command -v curl >/dev/null || skip "curl is missing"
make_cg guard/a
CURL=$(readlink -f "$(command -v curl)")
BIN=$TMPD/bin
mkdir -p "$BIN" && cp "$CURL" "$BIN/a" && cp "$CURL" "$BIN/b" || die "cannot copy curl"
read -r P1 <<<"$(pick_ports 1)" || die "no free port"
start_http_server 127.0.0.3 "$P1"
HTTP_LOG=$TMPD/http.$SERVER_RUNS.out
INI=$TMPD/exe.ini
write_file "$INI" <<EOF
[policy box]
cgroup = $CGREL/guard/a
default = deny

[policy box-a]
cgroup = $CGREL/guard/a
exe = $BIN/a
default = allow

[policy box-b]
cgroup = $CGREL/guard/a
exe = $BIN/b
default = deny
EOF
CGA="$CGREL/guard/a"

# get URL_PATH BINARY: BINARY fetches /URL_PATH from guard/a; prints curl's exit status.
get() {
	in_cg "$CG/guard/a" "$2" -sS --noproxy '*' --max-time 3 -o /dev/null \
		"http://127.0.0.3:$P1/$1" 2>>"$TMPD/curl.err"
	printf '%s' "$?"
}
served() { count_lines "$HTTP_LOG" "\"GET /$1 HTTP"; }

# verdicts LABEL: each executable gets its own policy.
verdicts() {
	assert_eq "$1: copy a is allowed (box-a)" 0 "$(get "$1-a" "$BIN/a")"
	assert_eq "$1: the server got copy a's request" 1 "$(served "$1-a")"
	ev_mark
	assert_eq "$1: copy b is refused" 7 "$(get "$1-b" "$BIN/b")"
	expect_event "^deny tcp $(re_escape "127.0.0.3:$P1") .*cgroup=/$(re_escape "$CGA") policy=box-b "
	ev_mark
	assert_eq "$1: the original curl is refused" 7 "$(get "$1-o" "$CURL")"
	expect_event "^deny tcp $(re_escape "127.0.0.3:$P1") .*cgroup=/$(re_escape "$CGA") policy=box "
	assert_eq "$1: the server got nothing from b or the original" 0 \
		"$(($(served "$1-b") + $(served "$1-o")))"
}

# 1. One shared slot: every executable collides.
LSNITCH_TEST_EXE_SHARED=1 start_agent --config "$INI"
verdicts shared
stop_agent

# 2. The full table (the control).
start_agent --config "$INI"
verdicts full

# 3. A replaced copy (new inode): the table's update path.
MAP=$(agent_map_id exe_policy) || die "no exe_policy map"
cp "$CURL" "$BIN/.a.new" || die "cannot copy curl"
new_ino=$(stat -c %i "$BIN/.a.new")
mv -f "$BIN/.a.new" "$BIN/a"
n=0
until bpftool map dump id "$MAP" 2>/dev/null | grep -Eq "\"ino\": *$new_ino\b"; do
	n=$((n + 1))
	[ "$n" -lt 2000 ] || break
done
[ "$n" -lt 2000 ] || fail "the new inode $new_ino never reached the exe_policy map"
verdicts replaced
stop_agent
finish
