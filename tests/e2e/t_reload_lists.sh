#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# List-only reloads. When only a host list's contents change, `lsnitch reload` keeps the
# verified programs and flips the list maps to new ones: the log says "lists only", status
# says kind "lists". A process in the guarded cgroup connects in a loop to an address the
# reload unblocks (.3), one it blocks (.4), ::1 (blocked by the new list) and a control
# (.2, never listed) all along: each address switches once, .3 is never allowed while .4
# still is (no moment where neither list applies), the loop never stalls, and the servers
# received nothing from the guarded cgroup while the address was blocked (ground truth).
# A second and third list-only reload reuse the slots. A broken list file fails the reload
# with file:line and the lists in force stay; a policy change takes the full path.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/c
CLI=$LSN_ROOT/build/lsnitch
[ -x "$CLI" ] || die "$CLI is missing: run make"
read -r P <<<"$(pick_ports 1)" || die "no free ports"

# One listener on every address: a line "ADDR" per connection accepted (the ground truth).
ACC=$TMPD/accepted
start_accept_logger "$ACC" "$P" 127.0.0.2 127.0.0.3 127.0.0.4 ::1

printf '127.0.0.3\n10.9.9.9\n' | write_file "$TMPD/hosts.txt"
write_file "$TMPD/lsnitch.ini" <<EOF
[global]
blocked-hosts = hosts.txt

[policy c]
cgroup = $CGREL/guard/c
default = allow
EOF
S=$TMPD/run/ctl.sock
start_agent --config "$TMPD/lsnitch.ini" --control "$S"
client_expect guard/c ok -- tcp 127.0.0.2 "$P"
client_expect guard/c EPERM -- tcp 127.0.0.3 "$P"
client_expect guard/c ok -- tcp 127.0.0.4 "$P"
client_expect guard/c ok -- tcp ::1 "$P"
kind() { jget "$(ctl --json status)" 'o["generation"]["kind"]'; }
assert_eq "status: the first generation is a full one" full "$(kind)"

# The loop: "MS R2 R3 R4 R6" per round (ok / EPERM / other errno names), until stopped.
touch "$TMPD/looping"
in_cg "$(cg_dir guard/c)" "$PY" -u - "$P" "$TMPD/looping" >"$TMPD/rounds" 2>"$TMPD/loop.err" \
	9>&- <<'PYEOF' &
import errno, os, socket, sys, time
port, flag = int(sys.argv[1]), sys.argv[2]
def try_(fam, a):
    s = socket.socket(fam)
    try:
        s.connect((a, port))
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    finally:
        s.close()
while os.path.exists(flag):
    r = [try_(socket.AF_INET, "127.0.0.2"), try_(socket.AF_INET, "127.0.0.3"),
         try_(socket.AF_INET, "127.0.0.4"), try_(socket.AF_INET6, "::1")]
    print(int(time.monotonic() * 1000), *r, flush=True)
    time.sleep(0.002)
PYEOF
LOOP_PID=$!
track_pid "$LOOP_PID"
wait_for_count "$TMPD/rounds" . 20 5 || die "the connect loop does not run"

log "list-only reload: .3 unblocked, .4 and ::1 blocked"
printf '127.0.0.4\n::1\n10.9.9.9\n' >"$TMPD/hosts.txt"
out=$(ctl reload 2>&1)
assert_eq "lsnitch reload answers" reloaded "$out"
# Rounds that started after the answer see the new lists only.
after=$(wc -l <"$TMPD/rounds")
acc_after=$(wc -l <"$ACC")
wait_for_count "$TMPD/rounds" . $((after + 20)) 5 || fail "the loop stalled after the reload"
rm -f "$TMPD/looping"
wait "$LOOP_PID" 2>/dev/null
assert_match "the log says a list-only reload ran" \
	'reloaded \(lists only, programs kept\)' "$(cat "$AGENT_ERR")"
assert_eq "status: kind lists" lists "$(kind)"
assert_match "status (text) says so" 'built in [0-9.]* ms, lists only: programs kept' \
	"$(ctl status)"

# Each address switches once; .3 (new: allowed) before .4 (new: denied) in a round: never
# both allowed, nor a return to the old verdict.
verdict=$(awk -v after="$after" '
	$2 != "ok" { bad = bad " control " $2 }
	{ s3 = $3 == "ok"; s4 = $4 == "EPERM"; s6 = $5 == "EPERM" }
	$3 != "ok" && $3 != "EPERM" || $4 != "ok" && $4 != "EPERM" { bad = bad " errno " $0 }
	s3 && !s4 { bad = bad " neither-list:" NR }
	(n3 && !s3) || (n4 && !s4) || (n6 && !s6) { bad = bad " back:" NR }
	NR > after && !(s3 && s4 && s6) { bad = bad " old-after-answer:" NR }
	{ n3 = n3 || s3; n4 = n4 || s4; n6 = n6 || s6 }
	NR > 1 && $1 - t > gap { gap = $1 - t }
	{ t = $1 }
	END { printf "%s gap=%d rounds=%d\n", bad ? bad : "ok", gap, NR }' "$TMPD/rounds")
log "connect loop: $verdict"
assert_match "every round is the old lists or the new, never neither, never back" '^ok ' \
	"$verdict"
gap=$(sed -n 's/.* gap=\([0-9]*\) .*/\1/p' <<<"$verdict")
assert_eq "the connect loop never stalled (round gap under 1 s)" yes \
	"$([ "${gap:-9999}" -lt 1000 ] && echo yes || echo "no: $gap ms")"
# Ground truth: the first line of .3 after the start, nothing of .4 / ::1 after the answer.
assert_eq "servers: nothing reached .4 or ::1 after the reload answered" 0 \
	"$(tail -n "+$((acc_after + 1))" "$ACC" | grep -cE '^(127\.0\.0\.4|::1)$')"
assert_eq "servers: .3 received connections (after the reload only)" yes \
	"$(grep -q '^127\.0\.0\.3$' "$ACC" && echo yes || echo no)"
client_expect guard/c ok -- tcp 127.0.0.3 "$P"
client_expect guard/c EPERM -- tcp 127.0.0.4 "$P"
client_expect guard/c EPERM -- tcp ::1 "$P"
client_expect . ok -- tcp 127.0.0.4 "$P"

log "two more list-only reloads: the slots are reused"
printf '127.0.0.3\n' >"$TMPD/hosts.txt"
assert_eq "second list-only reload" reloaded "$(ctl reload 2>&1)"
client_expect guard/c EPERM -- tcp 127.0.0.3 "$P"
client_expect guard/c ok -- tcp 127.0.0.4 "$P"
client_expect guard/c ok -- tcp ::1 "$P"
printf '127.0.0.4\n' >"$TMPD/hosts.txt"
assert_eq "third list-only reload" reloaded "$(ctl reload 2>&1)"
client_expect guard/c ok -- tcp 127.0.0.3 "$P"
client_expect guard/c EPERM -- tcp 127.0.0.4 "$P"
assert_eq "log: three list-only reloads" 3 \
	"$(grep -c 'reloaded (lists only, programs kept)' "$AGENT_ERR")"

log "a broken list file: the lists in force stay"
printf '127.0.0.3\n300.1.1.1\n' >"$TMPD/hosts.txt"
out=$(ctl reload 2>&1)
assert_match "reload fails with file:line" 'hosts\.txt:2:' "$out"
client_expect guard/c ok -- tcp 127.0.0.3 "$P"
client_expect guard/c EPERM -- tcp 127.0.0.4 "$P"

log "a policy change takes the full path"
printf '127.0.0.4\n' >"$TMPD/hosts.txt"
printf 'deny = 127.0.0.2\n' >>"$TMPD/lsnitch.ini"
n=$(grep -c '^lsnitch-agent: reloaded: ' "$AGENT_ERR")
assert_eq "full reload" reloaded "$(ctl reload 2>&1)"
assert_eq "the log says a full reload ran" $((n + 1)) \
	"$(grep -c '^lsnitch-agent: reloaded: ' "$AGENT_ERR")"
assert_eq "status: kind full" full "$(kind)"
client_expect guard/c EPERM -- tcp 127.0.0.2 "$P"
client_expect guard/c EPERM -- tcp 127.0.0.4 "$P"
client_expect guard/c ok -- tcp 127.0.0.3 "$P"
log "and a list-only reload after it"
printf '127.0.0.3\n' >"$TMPD/hosts.txt"
assert_eq "list-only reload after a full one" reloaded "$(ctl reload 2>&1)"
assert_eq "status: kind lists again" lists "$(kind)"
client_expect guard/c EPERM -- tcp 127.0.0.3 "$P"
client_expect guard/c ok -- tcp 127.0.0.4 "$P"
client_expect guard/c EPERM -- tcp 127.0.0.2 "$P"
finish
