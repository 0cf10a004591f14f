#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# List-only reloads free the previous lists. After each flip the idle slot's Bloom filter and
# pages are replaced with 1-entry maps once no program can still read them, so the kernel
# memory of the list maps (memlock of every inner map of bl_bloom, bl_pack4, bl_pack6 and
# bl_heads) after two list-only reloads stays within 1.2x of after the first load (it was
# 2x: the old slot kept its maps until the next reload). Verdicts across three flips: a
# process in the guarded cgroup connects in a loop, all along, to .5 (in every version of
# the list) and .2 (in none): .5 is refused every time and its server never hears from it
# (ground truth: a verdict that read a freed slot would let it through), .2 always gets in;
# .3 and .4 swap places on each flip, and each server hears only while its address is not
# listed.
. "$(dirname "$0")/lib.sh"
lsn_setup
require_bpftool
make_cg guard/c
CLI=$LSN_ROOT/build/lsnitch
[ -x "$CLI" ] || die "$CLI is missing: run make"
read -r P <<<"$(pick_ports 1)" || die "no free ports"

# One listener on each address: a line "ADDR" per connection accepted (the ground truth).
ACC=$TMPD/accepted
start_accept_logger "$ACC" "$P" 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5

# The bulk of the list (what the memory is), generated once; then the addresses of a version.
"$PY" "$LSN_ROOT/bench/gen_hosts.py" v4 100000 "$TMPD/bulk4.txt"
"$PY" "$LSN_ROOT/bench/gen_hosts.py" v6 100000 "$TMPD/bulk6.txt"
version() { # ADDR...: the list file, the bulk and .5 and the addresses given
	{
		cat "$TMPD/bulk4.txt" "$TMPD/bulk6.txt"
		printf '%s\n' 127.0.0.5 "$@"
	} >"$TMPD/hosts.txt.new" && mv "$TMPD/hosts.txt.new" "$TMPD/hosts.txt"
}
version 127.0.0.3
write_file "$TMPD/lsnitch.ini" <<EOF
[global]
blocked-hosts = hosts.txt

[policy c]
cgroup = $CGREL/guard/c
default = allow
EOF
S=$TMPD/run/ctl.sock
start_agent --config "$TMPD/lsnitch.ini" --control "$S"

# list_memlock: bytes of kernel memory of the list maps' inner maps (every slot).
list_memlock() {
	local n ids=()
	for n in bl_bloom bl_pack4 bl_pack6 bl_heads; do
		ids+=("$(agent_map_id "$n")") || return 1
	done
	"$PY" - "${ids[@]}" <<'PYEOF'
import json, subprocess, sys
def bpftool(*a):
    return json.loads(subprocess.run(["bpftool", "-j", *a], check=True,
                                     capture_output=True, text=True).stdout)
total = 0
for outer in sys.argv[1:]:
    for e in bpftool("map", "dump", "id", outer):
        v = e.get("value", e.get("formatted", {}).get("value"))
        if not isinstance(v, (int, list)):
            continue  # an empty slot
        inner = v if isinstance(v, int) else int.from_bytes(bytes(int(b, 16) for b in v), "little")
        total += int(bpftool("map", "show", "id", str(inner))["bytes_memlock"])
print(total)
PYEOF
}
# settle LIMIT: wait (up to 10 s) for the freeing after a reload; prints the memlock.
settle() {
	local m end=$((SECONDS + 10))
	while m=$(list_memlock) && [ "$m" -gt "$1" ] && [ "$SECONDS" -lt "$end" ]; do
		sleep 0.2
	done
	printf '%s' "$m"
}
M0=$(list_memlock) || die "cannot read the list maps' memlock"
log "list maps after the first load: $M0 bytes"
[ "$M0" -gt 1000000 ] || fail "the list maps hold under 1 MB: the measure is off ($M0)"
client_expect guard/c EPERM -- tcp 127.0.0.3 "$P"
client_expect guard/c ok -- tcp 127.0.0.4 "$P"

# The loop: "R2 R5" per round (ok / EPERM / other errno names), until stopped.
touch "$TMPD/looping"
in_cg "$(cg_dir guard/c)" "$PY" -u - "$P" "$TMPD/looping" >"$TMPD/rounds" 2>"$TMPD/loop.err" \
	9>&- <<'PYEOF' &
import errno, os, socket, sys, time
port, flag = int(sys.argv[1]), sys.argv[2]
def try_(a):
    s = socket.socket()
    try:
        s.connect((a, port))
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    finally:
        s.close()
while os.path.exists(flag):
    print(try_("127.0.0.2"), try_("127.0.0.5"), flush=True)
    time.sleep(0.001)
PYEOF
LOOP_PID=$!
track_pid "$LOOP_PID"
wait_for_count "$TMPD/rounds" . 20 5 || die "the connect loop does not run"

# flip NAME LISTED FREE: a list-only reload listing LISTED; its verdicts, and the memory.
flip() {
	local m acc
	version "$2"
	assert_eq "$1 list-only reload" reloaded "$(ctl reload 2>&1)"
	acc=$(wc -l <"$ACC")
	client_expect guard/c EPERM -- tcp "$2" "$P"
	client_expect guard/c ok -- tcp "$3" "$P"
	assert_eq "$1: the server of $2 heard nothing after the answer" 0 \
		"$(tail -n "+$((acc + 1))" "$ACC" | grep -c "^${2//./\\.}\$")"
	m=$(settle $((M0 * 12 / 10)))
	log "list maps after the $1 list-only reload: $m bytes ($(awk -v a="$m" -v b="$M0" \
		'BEGIN { printf "%.2fx", a / b }') the first load)"
	assert_eq "$1: list memory within 1.2x of the first load's" yes \
		"$([ "$m" -le $((M0 * 12 / 10)) ] && echo yes || echo "no: $m vs $M0")"
}
flip first 127.0.0.4 127.0.0.3
flip second 127.0.0.3 127.0.0.4
flip third 127.0.0.4 127.0.0.3
assert_eq "log: three list-only reloads" 3 \
	"$(grep -c 'reloaded (lists only, programs kept)' "$AGENT_ERR")"
assert_no_match "no failure freeing the old lists" 'previous lists stay' "$(cat "$AGENT_ERR")"
rm -f "$TMPD/looping"
wait "$LOOP_PID" 2>/dev/null

rounds=$(wc -l <"$TMPD/rounds")
log "connect loop: $rounds rounds across the three flips"
assert_eq "loop: .5 (listed in every version) refused in every round" 0 \
	"$(awk '$2 != "EPERM"' "$TMPD/rounds" | wc -l)"
assert_eq "loop: .2 (never listed) let through in every round" 0 \
	"$(awk '$1 != "ok"' "$TMPD/rounds" | wc -l)"
wait_for_count "$ACC" '^127\.0\.0\.2$' $((rounds - 1)) 5
assert_eq "servers: nothing ever reached .5" 0 "$(grep -c '^127\.0\.0\.5$' "$ACC")"
assert_eq "servers: .2 heard every round" "$rounds" "$(grep -c '^127\.0\.0\.2$' "$ACC")"
client_expect . ok -- tcp 127.0.0.5 "$P"
finish
