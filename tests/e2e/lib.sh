# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# lib.sh: helpers shared by the lsnitch end-to-end tests (tests/e2e/t_*.sh).
#
#   . "$(dirname "$0")/lib.sh"
#   lsn_setup                       # root, cgroup2, test cgroups, cleanup trap
#   make_cg guard/a                 # $CG/guard/a (policies name "$CGREL/guard/a")
#   start_servers --tcp 127.0.0.2:$P1 --udp 127.0.0.2:$P1
#   write_file "$TMPD/p.ini" <<EOF ... EOF
#   start_agent --config "$TMPD/p.ini"
#   client_expect guard/a EPERM deny pol p.ini:3 rule -- tcp 127.0.0.2 "$P1"
#   client_expect outside ok -- tcp 127.0.0.2 "$P1"
#   finish
#
# Safety (the project's TESTING.md rules): the agent is only ever attached to
# cgroups below $CG, which this test made; traffic only goes to 127.0.0.0/8,
# ::1, and 192.0.2.0/24 / 2001:db8::/32 inside the netns this test made (the
# route is checked before any packet). Everything is undone by one idempotent
# EXIT trap, and leftovers of earlier runs whose process is gone are removed
# at start, so a run right after a failed or killed one passes.
#
# Layout while a test runs:
#   $CG2                      the cgroup2 mount (from /proc/self/mountinfo)
#   $CG = $CG2/$CGREL         $CGREL = lsnitch-test-$$
#   $CG/guard                 the cgroup the agent is attached to (--cgroup)
#   $CG/guard/...             sub-cgroups that policies name
#   $CG/outside               a sibling that is not under the attached cgroup
#   $TMPD                     configs, agent and server logs (removed at exit)
#   $NS                       lsnitch-test-$$ network namespace (setup_netns)
#
# Exit codes: 0 pass, 77 skip (reason printed), anything else fails.

set -u

LSN_E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LSN_ROOT=$(cd "$LSN_E2E_DIR/../.." && pwd)
AGENT=${LSNITCH_AGENT:-$LSN_ROOT/build/lsnitch-agent}
CLIENT=$LSN_E2E_DIR/client.py
SERVER=$LSN_E2E_DIR/server.py
TEST_NAME=$(basename "$0" .sh)
LSN_TAG=lsnitch-test-$$
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=$(command -v python3 || echo python3); fi

# Seconds to wait for the agent to report ready / for an event line.
READY_TIMEOUT=${LSN_READY_TIMEOUT:-10}
EVENT_TIMEOUT=${LSN_EVENT_TIMEOUT:-3}

CG2="" CG="" CGREL="" TMPD="" NS="" NS_OK="" VETH_H="" VETH_N=""
HOST4="" HOST6="" NS4="" NS4B="" NS6="" NS6B="" NS6NET=""
AGENT_PID="" AGENT_OUT="" AGENT_ERR="" AGENT_RC="" AGENT_RUNS=0
EV_MARK=0 EV_MATCHED=0
BG_PIDS=()
# Prepended to the client command inside the cgroup, e.g.
# CLIENT_WRAP=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
CLIENT_WRAP=()
CHECKS=0 FAILS=0
LSN_CLEANED=0 LSN_SELF_CG=""
BPF_BEFORE=""

# ---------------------------------------------------------------- reporting

log() { printf '[%s] %s\n' "$TEST_NAME" "$*"; }
ok() { CHECKS=$((CHECKS + 1)); printf 'ok   %s\n' "$*"; }
fail() {
	CHECKS=$((CHECKS + 1))
	FAILS=$((FAILS + 1))
	printf 'FAIL %s\n' "$*"
}
die() {
	printf 'FATAL [%s]: %s\n' "$TEST_NAME" "$*"
	FAILS=$((FAILS + 1))
	exit 1
}
skip() {
	printf 'SKIP: %s\n' "$*"
	exit 77
}
# A skip because the machine cannot run the test (no root, no BPF). Under CI
# such a skip is a failure: CI must run the real thing.
skip_env() {
	printf 'LSNITCH-SKIP-ENV: %s\n' "$*"
	if [ "${CI:-}" = true ]; then
		printf 'FAIL: cannot run (%s) and CI=true requires end-to-end tests to run\n' "$*"
		exit 1
	fi
	skip "$*"
}

# assert_eq DESC EXPECTED GOT
assert_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1: $3"
	else
		fail "$1: expected '$2', got '$3'"
	fi
}

# assert_match DESC ERE STRING
assert_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		ok "$1"
	else
		fail "$1: expected a match for /$2/, got:"
		printf '%s\n' "$3" | sed 's/^/    | /' | tail -n 20
	fi
}

# assert_no_match DESC ERE STRING
assert_no_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		fail "$1: expected no match for /$2/, got:"
		printf '%s\n' "$3" | sed 's/^/    | /' | tail -n 20
	else
		ok "$1"
	fi
}

finish() {
	if [ "$FAILS" -gt 0 ]; then
		printf '%s: %d of %d checks failed\n' "$TEST_NAME" "$FAILS" "$CHECKS"
		exit 1
	fi
	printf '%s: all %d checks passed\n' "$TEST_NAME" "$CHECKS"
	exit 0
}

# Escape a string for use as a literal inside an ERE.
re_escape() {
	local s=$1 out="" c i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		'^' | "\\") out+="\\$c" ;;
		'[' | ']' | '.' | '*' | '$' | '+' | '?' | '(' | ')' | '{' | '}' | '|') out+="[$c]" ;;
		*) out+=$c ;;
		esac
	done
	printf '%s' "$out"
}

# ---------------------------------------------------------------- processes

proc_starttime() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	printf '%s' "${20}"
}

proc_alive() { # not gone and not a zombie
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	[ "${s:0:1}" != Z ]
}

# Remember a background process so that a later run can kill it if this one
# dies without cleaning up (pid + start time: never kills a reused pid).
track_pid() {
	BG_PIDS+=("$1")
	[ -n "$TMPD" ] && printf '%s %s\n' "$1" "$(proc_starttime "$1")" >>"$TMPD/pids"
}

# kill_pid PID [SECONDS]: SIGTERM, wait, SIGKILL. Returns 0 if it was gone
# after SIGTERM, 1 if it needed SIGKILL.
kill_pid() {
	local pid=$1 t=$((${2:-5} * 20))
	proc_alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null
	while [ "$t" -gt 0 ] && proc_alive "$pid"; do
		sleep 0.05
		t=$((t - 1))
	done
	if proc_alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		return 1
	fi
	return 0
}

# wait_for_line FILE ERE TIMEOUT_SEC [PID]: poll until FILE has a line
# matching ERE. Returns 1 on timeout, 2 if PID exited first.
wait_for_line() {
	local file=$1 re=$2 t=$(($3 * 20)) pid=${4:-}
	while :; do
		grep -Eq -- "$re" "$file" 2>/dev/null && return 0
		if [ -n "$pid" ] && ! proc_alive "$pid"; then
			grep -Eq -- "$re" "$file" 2>/dev/null && return 0
			return 2
		fi
		[ "$t" -le 0 ] && return 1
		sleep 0.05
		t=$((t - 1))
	done
}

# ---------------------------------------------------------------- cgroups

cgroup2_mount() {
	# mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SRC SOPTS
	local line rest fstype mnt
	while IFS= read -r line; do
		rest=${line#* - }
		fstype=${rest%% *}
		[ "$fstype" = cgroup2 ] || continue
		mnt=$(printf '%s' "$line" | cut -d' ' -f5)
		printf '%b\n' "${mnt//\\/\\0}" # unescape \040 and friends
		return 0
	done </proc/self/mountinfo
	return 1
}

# make_cg REL...: mkdir -p $CG/REL (REL relative to the test cgroup).
make_cg() {
	local rel
	for rel in "$@"; do
		mkdir -p "$CG/$rel" || die "cannot create cgroup $CG/$rel"
	done
}

# in_cg DIR CMD...: run CMD inside the cgroup DIR (absolute cgroupfs path).
in_cg() {
	local dir=$1
	shift
	sh -c 'echo $$ > "$1/cgroup.procs" || exit 126; shift; exec "$@"' sh "$dir" "$@"
}

# Remove a cgroup tree: move any process left in it out (to our own cgroup)
# and kill it (only test processes ever live there), then rmdir deepest first.
remove_cg_tree() {
	local top=$1 d p t
	[ -d "$top" ] || return 0
	for ((t = 0; t < 40; t++)); do
		while IFS= read -r d; do
			while IFS= read -r p; do
				[ -n "$p" ] || continue
				[ -n "$LSN_SELF_CG" ] && echo "$p" >"$LSN_SELF_CG/cgroup.procs" 2>/dev/null
				kill -KILL "$p" 2>/dev/null
			done <"$d/cgroup.procs"
			rmdir "$d" 2>/dev/null
		done < <(find "$top" -depth -type d 2>/dev/null)
		[ -d "$top" ] || return 0
		sleep 0.05
	done
	[ ! -d "$top" ]
}

# ---------------------------------------------------------------- leftovers

# Remove what earlier runs left behind when their process is gone.
# umount_below DIR: detach every mount at or below DIR (deepest first), e.g. a
# bpffs a test mounted in its $TMPD.
umount_below() {
	local m
	while read -r m; do
		umount -l "$m" 2>/dev/null
	done < <(awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' \
		/proc/self/mountinfo | sort -r)
}

cleanup_leftovers() {
	local d pid base rest line p st ns link
	# processes recorded by dead runs (agent, servers): pid + start time
	for d in /tmp/lsnitch-test-*; do
		[ -d "$d" ] || continue
		base=${d##*/}
		rest=${base#lsnitch-test-}
		pid=${rest%%.*}
		case $pid in '' | *[!0-9]*) continue ;; esac
		[ -d "/proc/$pid" ] && continue
		if [ -f "$d/pids" ]; then
			while read -r p st; do
				[ -n "$p" ] || continue
				[ "$(proc_starttime "$p")" = "$st" ] || continue
				log "killing leftover process $p of dead run $pid"
				kill_pid "$p" 3
			done <"$d/pids"
		fi
		umount_below "$d"
		rm -rf "$d"
	done
	# cgroups
	if [ -n "$CG2" ]; then
		for d in "$CG2"/lsnitch-test-*; do
			[ -d "$d" ] || continue
			pid=${d##*/lsnitch-test-}
			case $pid in '' | *[!0-9]*) continue ;; esac
			[ -d "/proc/$pid" ] && continue
			log "removing leftover cgroup $d (pid $pid is gone)"
			remove_cg_tree "$d" || log "WARNING: could not remove leftover cgroup $d"
		done
	fi
	# network namespaces and veths
	while read -r ns _; do
		case $ns in lsnitch-test-*) ;; *) continue ;; esac
		pid=${ns#lsnitch-test-}
		case $pid in '' | *[!0-9]*) continue ;; esac
		[ -d "/proc/$pid" ] && continue
		log "removing leftover netns $ns"
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done < <(ip netns list 2>/dev/null)
	while read -r link; do
		pid=${link#lsnt}
		pid=${pid%h}
		case $pid in '' | *[!0-9]*) continue ;; esac
		[ -d "/proc/$pid" ] && continue
		ip link del "$link" 2>/dev/null
	done < <(ip -o link show 2>/dev/null | sed -n 's/^[0-9]*: \(lsnt[0-9]*h\)[@:].*/\1/p')
	# pins
	for d in /sys/fs/bpf/lsnitch-test-*; do
		[ -e "$d" ] || continue
		pid=${d##*/lsnitch-test-}
		pid=${pid%%[!0-9]*}
		[ -n "$pid" ] && [ -d "/proc/$pid" ] && continue
		rm -rf "$d"
	done
}

# ---------------------------------------------------------------- setup and cleanup

require_root() {
	[ "$(id -u)" = 0 ] || skip_env "not root: end-to-end tests load BPF programs and need root"
}

require_agent() {
	[ -x "$AGENT" ] || die "agent binary $AGENT is missing: run make"
}

# The bpf() syscall works (BPF_PROG_GET_NEXT_ID answers, even ENOENT).
require_bpf() {
	"$PY" - <<'PYEOF' || skip_env "the bpf() syscall is not available here (no CONFIG_BPF_SYSCALL, lockdown or seccomp)"
import ctypes, errno, platform, sys
nr = {"x86_64": 321, "aarch64": 280, "riscv64": 280, "ppc64le": 361, "s390x": 351,
      "armv7l": 386, "i686": 357}.get(platform.machine())
if nr is None:
    sys.exit(0)  # unknown architecture: let the agent find out
libc = ctypes.CDLL(None, use_errno=True)
attr = ctypes.create_string_buffer(128)
r = libc.syscall(nr, 11, attr, 128)  # BPF_PROG_GET_NEXT_ID
sys.exit(0 if r == 0 or ctypes.get_errno() == errno.ENOENT else 1)
PYEOF
}

require_bpftool() {
	command -v bpftool >/dev/null 2>&1 || skip_env "bpftool is not installed"
}

lsn_mktmp() {
	[ -n "$TMPD" ] && return 0
	TMPD=$(mktemp -d "/tmp/$LSN_TAG.XXXXXX") || die "mktemp failed"
	chmod 755 "$TMPD"
}

# Everything a root test needs: checks, leftovers, cgroups, trap.
lsn_setup() {
	require_root
	require_agent
	require_bpf
	CG2=$(cgroup2_mount) || skip_env "no cgroup v2 mount in /proc/self/mountinfo"
	[ -d "$CG2" ] || skip_env "cgroup v2 mount $CG2 missing"
	if [ ! -e /sys/kernel/btf/vmlinux ] && [ "${CI:-}" != true ]; then
		log "note: /sys/kernel/btf/vmlinux is missing"
	fi
	LSN_SELF_CG=$CG2$(sed -n 's/^0:://p' /proc/self/cgroup)
	cleanup_leftovers
	trap lsn_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	lsn_mktmp
	CGREL=$LSN_TAG
	CG=$CG2/$CGREL
	mkdir "$CG" || skip_env "cannot create the test cgroup $CG (read-only cgroupfs?)"
	make_cg guard outside
	log "cgroup2 at $CG2, test cgroup $CG, work dir $TMPD"
}

# Save what is worth reading after a failure next to the test log.
save_artifacts() {
	local dest=${LSN_ARTIFACTS:-}
	[ -n "$dest" ] && [ -n "$TMPD" ] && [ -d "$TMPD" ] || return 0
	mkdir -p "$dest" && cp -r "$TMPD"/. "$dest"/ 2>/dev/null
}

lsn_cleanup() {
	local rc=$? p
	[ "$LSN_CLEANED" = 1 ] && return
	LSN_CLEANED=1
	trap - INT TERM HUP
	if [ -n "$AGENT_PID" ]; then
		if ! stop_agent TERM quiet; then
			printf 'cleanup: the agent did not stop cleanly on SIGTERM (rc=%s)\n' "$AGENT_RC"
			[ "$rc" = 0 ] && rc=1
		fi
	fi
	for p in "${BG_PIDS[@]}"; do
		kill_pid "$p" 2 || true
	done
	# e.g. nspawn_lib.sh's bpffs: its pins hold programs on cgroups below $CG
	[ -z "$TMPD" ] || umount_below "$TMPD"
	if [ -n "$CG" ] && [ -d "$CG" ]; then
		if ! remove_cg_tree "$CG"; then
			printf 'cleanup: could not remove %s\n' "$CG"
			[ "$rc" = 0 ] && rc=1
		fi
	fi
	CG=""
	if [ -n "$NS" ]; then
		for p in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$NS" 2>/dev/null
		[ -n "$VETH_H" ] && ip link del "$VETH_H" 2>/dev/null
		NS=""
	fi
	rm -rf /sys/fs/bpf/"$LSN_TAG" /sys/fs/bpf/"$LSN_TAG"-* 2>/dev/null
	if [ -n "$TMPD" ]; then
		save_artifacts
		if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ -n "$AGENT_ERR" ]; then
			printf -- '--- agent stderr (%s) ---\n' "$AGENT_ERR"
			tail -n 30 "$AGENT_ERR" 2>/dev/null
			printf -- '--- agent stdout (%s) ---\n' "$AGENT_OUT"
			tail -n 30 "$AGENT_OUT" 2>/dev/null
		fi
		rm -rf "$TMPD"
		TMPD=""
	fi
	exit "$rc"
}

# write_file PATH < content
write_file() {
	cat >"$1" || die "cannot write $1"
}

# line_of FILE STRING: number of the first line of FILE containing STRING.
line_of() {
	local n
	n=$(grep -n -F -m1 -- "$2" "$1" | cut -d: -f1)
	[ -n "$n" ] || die "line_of: '$2' not in $1"
	printf '%s' "$n"
}

# ---------------------------------------------------------------- ports and servers

# pick_ports N: N consecutive free TCP+UDP ports (v4 and v6), space separated.
pick_ports() {
	"$PY" - "$1" <<'EOF'
import random, socket, sys
n = int(sys.argv[1])
for _ in range(200):
    base = random.randrange(20000, 60000 - n)
    try:
        socks = []
        for p in range(base, base + n):
            for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
                for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    s = socket.socket(fam, kind)
                    if fam == socket.AF_INET6:
                        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    socks.append(s)
                    s.bind((addr, p))
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(" ".join(str(p) for p in range(base, base + n)))
    sys.exit(0)
sys.exit(1)
EOF
}

SERVER_RUNS=0
# start_servers [--ns] server.py-args...: server.py in the background (in the
# test netns with --ns); waits until it is listening.
start_servers() {
	local pre=() out
	if [ "${1:-}" = --ns ]; then
		shift
		[ -n "$NS_OK" ] || die "start_servers --ns without setup_netns"
		pre=(nsenter "--net=/run/netns/$NS")
	fi
	SERVER_RUNS=$((SERVER_RUNS + 1))
	out=$TMPD/server.$SERVER_RUNS.out
	"${pre[@]}" "$PY" -u "$SERVER" "$@" >"$out" 2>&1 &
	track_pid "$!"
	if ! wait_for_line "$out" '^ready$' 5 "$!"; then
		cat "$out"
		die "server.py $* did not start"
	fi
}

# start_counting_listener ADDR PORT: a TCP listener that accepts and closes,
# writing one line per connection to $ACCEPTED (the ground truth of a test
# that a denied address received nothing).
start_counting_listener() {
	ACCEPTED=$TMPD/accepted
	: >"$ACCEPTED"
	"$PY" -u - "$1" "$2" "$ACCEPTED" >"$TMPD/listener.out" 2>&1 <<'PYEOF' &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(512)
print("ready", flush=True)
with open(sys.argv[3], "a") as out:
    while True:
        c, peer = s.accept()
        out.write("%s:%d\n" % peer)
        out.flush()
        c.close()
PYEOF
	track_pid "$!"
	wait_for_line "$TMPD/listener.out" '^ready$' 5 "$!" || die "the counting listener did not start"
}

# start_accept_logger FILE PORT ADDR...: one TCP listener on each ADDR (IPv4 or IPv6) at
# PORT, accepting and closing, writing a line "ADDR" per connection to FILE (the ground
# truth of which address received what).
start_accept_logger() {
	local file=$1 port=$2
	shift 2
	: >"$file"
	"$PY" -u - "$file" "$port" "$@" >"$TMPD/accept_logger.out" 2>&1 9>&- <<'PYEOF' &
import selectors, socket, sys
sel = selectors.DefaultSelector()
for a in sys.argv[3:]:
    s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a, int(sys.argv[2])))
    s.listen(512)
    sel.register(s, selectors.EVENT_READ, a)
print("ready", flush=True)
with open(sys.argv[1], "a") as out:
    while True:
        for key, _ in sel.select():
            c, _ = key.fileobj.accept()
            out.write(key.data + "\n")
            out.flush()
            c.close()
PYEOF
	track_pid "$!"
	wait_for_line "$TMPD/accept_logger.out" '^ready$' 5 "$!" || die "the accept logger did not start"
}

# start_http_server [--ns] ADDR PORT: python3 -m http.server on ADDR:PORT.
start_http_server() {
	local pre=() out addr port
	if [ "${1:-}" = --ns ]; then
		shift
		[ -n "$NS_OK" ] || die "start_http_server --ns without setup_netns"
		pre=(nsenter "--net=/run/netns/$NS")
	fi
	addr=$1 port=$2
	SERVER_RUNS=$((SERVER_RUNS + 1))
	out=$TMPD/http.$SERVER_RUNS.out
	mkdir -p "$TMPD/www" && echo "lsnitch e2e" >"$TMPD/www/index.html"
	"${pre[@]}" "$PY" -u -m http.server --bind "$addr" --directory "$TMPD/www" "$port" >"$out" 2>&1 &
	track_pid "$!"
	if ! wait_for_line "$out" '^Serving HTTP on' 5 "$!"; then
		cat "$out"
		die "http.server on $addr:$port did not start"
	fi
}

# ---------------------------------------------------------------- network namespace

nsx() { nsenter --net="/run/netns/$NS" "$@"; }

# setup_netns: network namespace $NS joined to the host by a veth pair
# ($VETH_H on the host, $VETH_N inside), with addresses from 192.0.2.0/24 and
# 2001:db8::/32 only:
#   HOST4, HOST6   host side of the veth
#   NS4, NS6       namespace side (servers listen there)
#   NS4B, NS6B     a second namespace-side address each
#   NS6NET         the namespace's /64 as "2001:db8:...::" (for CIDR rules)
# Machines (this one included) may already use part of 192.0.2.0/24 on a real
# interface (e.g. eth0 192.0.2.2/24, gateway 192.0.2.1), so the addresses are
# a /29 (v4) and a /64 (v6) that no address, route or neighbour of the host
# mentions. Before returning, it checks that the host routes every namespace
# address through $VETH_H: no test packet can leave the machine.
setup_netns() {
	local seen base b a r n ok
	seen=$({
		ip -o addr show
		ip -4 route show table all
		ip -6 route show table all
		ip -4 neigh show
		ip -6 neigh show
	} 2>/dev/null)
	HOST4=""
	for base in 248 240 232 224 216 208 200 192 184 176 168 160; do
		ok=1
		for ((b = base; b < base + 8; b++)); do
			if printf '%s\n' "$seen" | grep -Eq "(^|[^0-9.])192\.0\.2\.$b([^0-9]|$)"; then
				ok=""
				break
			fi
		done
		if [ -n "$ok" ]; then
			HOST4=192.0.2.$((base + 1)) NS4=192.0.2.$((base + 2)) NS4B=192.0.2.$((base + 3))
			break
		fi
	done
	[ -n "$HOST4" ] || die "setup_netns: no unused /29 left in 192.0.2.0/24"
	NS6NET=""
	for n in "" 4c53:1 4c53:2 4c53:3 4c53:4 4c53:5; do
		a=2001:db8:${n:+$n:}:
		if ! printf '%s\n' "$seen" | grep -qiF "$a"; then
			NS6NET=$a
			break
		fi
	done
	[ -n "$NS6NET" ] || die "setup_netns: no unused /64 in 2001:db8::/32"
	HOST6=${NS6NET}1 NS6=${NS6NET}2 NS6B=${NS6NET}1:2

	NS=$LSN_TAG
	VETH_H=lsnt$$h
	VETH_N=lsnt$$n
	ip netns add "$NS" || die "ip netns add $NS failed"
	ip link add "$VETH_H" type veth peer name "$VETH_N" netns "$NS" || die "veth setup failed"
	nsx ip link set lo up || die "netns lo up"
	nsx ip addr add "$NS4/29" dev "$VETH_N" || die "netns address $NS4"
	nsx ip addr add "$NS4B/29" dev "$VETH_N" || die "netns address $NS4B"
	nsx ip -6 addr add "$NS6/64" dev "$VETH_N" nodad || die "netns address $NS6"
	nsx ip -6 addr add "$NS6B/64" dev "$VETH_N" nodad || die "netns address $NS6B"
	nsx ip link set "$VETH_N" up || die "netns veth up"
	ip addr add "$HOST4/29" dev "$VETH_H" || die "host address $HOST4"
	ip -6 addr add "$HOST6/64" dev "$VETH_H" nodad || die "host address $HOST6"
	ip link set "$VETH_H" up || die "host veth up"
	for a in "$NS4" "$NS4B" "$NS6" "$NS6B"; do
		r=$(ip route get "$a" 2>&1)
		case $r in
		*" dev $VETH_H "*) ;;
		*) die "SAFETY: route to $a does not go through $VETH_H: $r" ;;
		esac
	done
	NS_OK=1
	log "netns $NS: host $VETH_H $HOST4 $HOST6; namespace $NS4 $NS4B $NS6 $NS6B"
}

# Refuse any destination outside what the safety rules allow: 127.0.0.0/8,
# ::1, and the addresses inside our own netns (v4-mapped forms included).
check_dest() {
	local a=${1#::ffff:}
	case $a in
	127.* | ::1) return 0 ;;
	esac
	if [ -n "$NS_OK" ]; then
		case $a in "$NS4" | "$NS4B" | "$NS6" | "$NS6B") return 0 ;; esac
	fi
	die "SAFETY: refusing to send traffic to $1 (tests may only reach 127/8, ::1 and the test netns)"
}

# ---------------------------------------------------------------- the agent

bpf_snapshot() {
	command -v bpftool >/dev/null 2>&1 || return 0
	bpftool cgroup tree "$CG2" 2>/dev/null | grep '^/' | sort
}

# Fail hard if anything got attached outside our test cgroup.
check_attach_scope() {
	local after extra
	command -v bpftool >/dev/null 2>&1 || return 0
	after=$(bpf_snapshot)
	extra=$(comm -13 <(printf '%s\n' "$BPF_BEFORE") <(printf '%s\n' "$after") |
		grep -v -e "^$CG\$" -e "^$CG/" | grep -v '^$')
	if [ -n "$extra" ]; then
		kill -TERM "$AGENT_PID" 2>/dev/null
		die "SAFETY: programs appeared on cgroups the test does not own: $extra"
	fi
}

# lsn_ctl_setup (after lsn_setup): the CLI $CLI and the agent's control socket $S
# (start_agent --control "$S"), which ctl and jget use.
lsn_ctl_setup() {
	CLI=$LSN_ROOT/build/lsnitch
	[ -x "$CLI" ] || die "$CLI is missing: run make"
	S=$TMPD/run/ctl.sock
}
# ctl ARGS...: the CLI on the agent's control socket $S
ctl() { "$CLI" --socket "$S" "$@"; }
# ctl_request JSON: the agent's answer (one JSON line) to one raw request on $S, as
# lsnitch-web sends it (fields the CLI does not offer)
ctl_request() { "$PY" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
buf = b""
while not buf.endswith(b"\n"):
    d = s.recv(65536)
    if not d:
        break
    buf += d
print(buf.decode(), end="")' "$S" "$1"; }
# jget JSON EXPR: jq-less field access, a python expression on "o" (the JSON decoded)
jget() { "$PY" -c 'import json,sys; o=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }

# lsn_dns_setup CGROUP...: a DNS test's start: lsn_setup, its cgroups under $CG,
# dnsmasq and dig (else a skip), and lsn_ctl_setup's $CLI and $S.
lsn_dns_setup() {
	lsn_setup
	make_cg "$@"
	command -v dnsmasq >/dev/null || skip_env "dnsmasq is not installed (make deps installs it)"
	command -v dig >/dev/null || skip_env "dig is not installed (make deps installs it)"
	lsn_ctl_setup
}

# start_dnsmasq ADDR NAME WANT [DNSMASQ ARGS...]: a test dnsmasq on ADDR:53 that
# answers only what ARGS say (no resolv.conf, no /etc/hosts), logging to $TMPD,
# killed by the cleanup. Waits (5 s at most) until NAME resolves to WANT;
# returns non-zero if it never does (the caller asserts what it needs).
start_dnsmasq() {
	local addr=$1 name=$2 want=$3
	shift 3
	"$(command -v dnsmasq)" --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
		--listen-address="$addr" --port=53 --pid-file="$TMPD/dnsmasq.pid" \
		--log-facility="$TMPD/dnsmasq.log" "$@" &
	track_pid "$!"
	for _ in $(seq 50); do
		dig +short +time=1 +tries=1 "@$addr" "$name" 2>/dev/null | grep -qx "$want" && return 0
		sleep 0.1
	done
	return 1
}

# start_agent ARGS...: run the agent attached to $CG/guard (plus any extra
# --cgroup ARGS, which must be under $CG; AGENT_CGROUP, under $CG too, replaces
# the first); stdout/stderr go to
# $AGENT_OUT / $AGENT_ERR. Waits for "lsnitch-agent: ready".
start_agent() {
	local prev="" a rc
	for a in "$@"; do
		if [ "$prev" = --cgroup ]; then
			case $a in "$CG"/*) ;; *) die "start_agent: --cgroup $a is not under $CG" ;; esac
		fi
		case $a in --cgroup=*) die "start_agent: use --cgroup PATH" ;; esac
		prev=$a
	done
	case ${AGENT_CGROUP:-$CG/guard} in "$CG"/*) ;; *) die "start_agent: AGENT_CGROUP not under $CG" ;; esac
	[ -z "$AGENT_PID" ] || die "start_agent: an agent is already running"
	AGENT_RUNS=$((AGENT_RUNS + 1))
	AGENT_OUT=$TMPD/agent.$AGENT_RUNS.out
	AGENT_ERR=$TMPD/agent.$AGENT_RUNS.err
	BPF_BEFORE=$(bpf_snapshot)
	# Pins go to a directory of this test's own (removed by the cleanup).
	case " $* " in *" --pin-dir "*) ;; *) set -- --pin-dir "/sys/fs/bpf/$LSN_TAG" "$@" ;; esac
	# So does the flow history (never the machine's /var/lib/lsnitch).
	case " $* " in *" --history "*) ;; *) set -- --history "$TMPD/history.db" "$@" ;; esac
	log "starting: $AGENT --cgroup ${AGENT_CGROUP:-$CG/guard} $*"
	"$AGENT" --cgroup "${AGENT_CGROUP:-$CG/guard}" "$@" >"$AGENT_OUT" 2>"$AGENT_ERR" &
	AGENT_PID=$!
	track_pid "$AGENT_PID"
	EV_MARK=0 EV_MATCHED=0
	wait_for_line "$AGENT_ERR" '^lsnitch-agent: ready$' "$READY_TIMEOUT" "$AGENT_PID"
	rc=$?
	if [ "$rc" != 0 ]; then
		printf -- '--- agent stderr ---\n'
		cat "$AGENT_ERR"
		if [ "$rc" = 2 ]; then
			wait "$AGENT_PID"
			a=$?
			AGENT_PID=""
			die "the agent exited with status $a before it was ready"
		fi
		die "the agent was not ready within ${READY_TIMEOUT}s"
	fi
	check_attach_scope
	log "agent $AGENT_PID ready"
}

# stop_agent [SIGNAL] [quiet]: signal the agent, wait up to 10 s, reap it.
# Sets AGENT_RC; returns 0 if it exited by itself with status 0.
stop_agent() {
	local sig=${1:-TERM} pid=$AGENT_PID t=200
	[ -n "$pid" ] || return 0
	kill "-$sig" "$pid" 2>/dev/null
	while [ "$t" -gt 0 ] && proc_alive "$pid"; do
		sleep 0.05
		t=$((t - 1))
	done
	if proc_alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		AGENT_RC=killed
		AGENT_PID=""
		[ "${2:-}" = quiet ] || fail "the agent did not exit within 10 s of SIG$sig (killed)"
		return 1
	fi
	wait "$pid" 2>/dev/null
	AGENT_RC=$?
	AGENT_PID=""
	[ "$AGENT_RC" = 0 ]
}

# The agent's stdout (event lines) since the last ev_mark.
ev_mark() { EV_MARK=$(wc -l <"$AGENT_OUT"); }
events_since_mark() { tail -n "+$((EV_MARK + 1))" "$AGENT_OUT"; }

# expect_event ERE [HINT_ERE]: wait for a line after the mark matching ERE
# (full line). With HINT_ERE (e.g. " pid=123 "), a new line matching HINT but
# not ERE is the event of this action with something wrong in it: fail now.
expect_event() {
	local re=$1 hint=${2:-} t=$((EVENT_TIMEOUT * 20)) lines
	while :; do
		lines=$(events_since_mark)
		if printf '%s\n' "$lines" | grep -Eq -- "$re"; then
			EV_MATCHED=$((EV_MATCHED + 1))
			ok "event /$re/"
			return 0
		fi
		[ -n "$hint" ] && printf '%s\n' "$lines" | grep -Eq -- "$hint" && break
		[ -n "$AGENT_PID" ] && ! proc_alive "$AGENT_PID" && {
			printf '    the agent is not running any more\n'
			break
		}
		[ "$t" -le 0 ] && break
		sleep 0.05
		t=$((t - 1))
	done
	fail "no event line matching"
	printf '    /%s/\n  lines since the action:\n' "$re"
	events_since_mark | sed 's/^/    | /' | tail -n 10
	return 1
}

# Every event line the agent printed was one a check asked for.
assert_no_other_events() {
	local n
	n=$(grep -Ec '^(deny|allow|would-deny) ' "$AGENT_OUT")
	if [ "$n" = "$EV_MATCHED" ]; then
		ok "no unexpected event lines ($n events, all expected)"
	else
		fail "the agent printed $n event lines, the checks expected $EV_MATCHED:"
		sed 's/^/    | /' "$AGENT_OUT" | tail -n 40
	fi
}

# event_re VERDICT PROTO DEST CGREL POLICY RULE REASON HOOK PROCESS_ERE
# RULE is "basename:line" (the file may be printed with a directory) or "-".
event_re() {
	local verdict=$1 proto=$2 dest=$3 cg=$4 policy=$5 rule=$6 reason=$7 hook=$8 proc=$9 rre
	if [ "$rule" = - ]; then
		rre=-
	else
		rre="([^ ]*/)?$(re_escape "$rule")"
	fi
	printf '^%s %s %s %s( exe=[^ ]+)? cgroup=%s policy=%s rule=%s reason=%s hook=%s$' \
		"$(re_escape "$verdict")" "$proto" "$(re_escape "$dest")" "$proc" \
		"$(re_escape "/$cg")" "$(re_escape "$policy")" "$rre" "$reason" "$hook"
}

# ---------------------------------------------------------------- clients

# cg_dir NAME: absolute cgroup for NAME (relative to $CG; "." = the test's own
# cgroup, which nothing is attached to).
cg_dir() {
	if [ "$1" = . ]; then printf '%s' "$LSN_SELF_CG"; else printf '%s' "$CG/$1"; fi
}

# run_client CGNAME CLIENT_ARGS...: prints the client's word.
run_client() {
	local cgname=$1
	shift
	check_dest "$2"
	in_cg "$(cg_dir "$cgname")" "${CLIENT_WRAP[@]}" "$PY" "$CLIENT" "$@" 2>>"$TMPD/client.err"
}

# client_expect CGNAME WANT [VERDICT POLICY RULE REASON] -- CLIENT_ARGS...
# Runs client.py in $CG/CGNAME, asserts it prints WANT and, when VERDICT is
# given, that the agent printed the matching event line (proto, destination,
# pid, tid, comm, uid, gid, cgroup and hook derived from the client call).
client_expect() {
	local cgname=$1 want=$2 verdict="" policy="" rule="" reason=""
	shift 2
	if [ "${1:-}" != -- ]; then
		verdict=$1 policy=$2 rule=$3 reason=$4
		shift 4
	fi
	[ "${1:-}" = -- ] || die "client_expect: missing --"
	shift
	local mode=$1 addr=$2 port=$3 family="" fo="" a prev="" got info proto dest hook
	for a in "$@"; do
		[ "$prev" = --family ] && family=$a
		[ "$a" = --fastopen ] && fo=1
		prev=$a
	done
	[ -n "$family" ] || case $addr in *:*) family=6 ;; *) family=4 ;; esac
	# world-writable: the client may run as another user (CLIENT_WRAP)
	mkdir -p "$TMPD/info" && chmod 1777 "$TMPD/info"
	info=$TMPD/info/client.info
	rm -f "$info"
	check_dest "$addr"
	[ -n "$verdict" ] && ev_mark
	got=$(run_client "$cgname" "$@" --info "$info")
	assert_eq "$cgname: client $*" "$want" "$got"
	[ -n "$verdict" ] || return 0
	# Already failed: do not wait long for an event that may never come.
	# shellcheck disable=SC2034
	[ "$got" = "$want" ] || local EVENT_TIMEOUT=1
	[ -s "$info" ] || {
		fail "client wrote no --info"
		return 1
	}
	case $mode in tcp) proto=tcp ;; *) proto=udp ;; esac
	case $family in 6) dest="[$addr]:$port" ;; *) dest="$addr:$port" ;; esac
	case $mode:$family in
	tcp:4 | udp-connect:4 | udp-connect-send:4) hook=connect4 ;;
	tcp:* | udp-connect:* | udp-connect-send:*) hook=connect6 ;;
	udp-sendto:6) hook=sendmsg6 ;;
	# sendto() to a v4-mapped address on an AF_INET6 UDP socket is handed to
	# the IPv4 path before the sendmsg6 hook: the kernel runs sendmsg4.
	udp-sendto:*) hook=sendmsg4 ;;
	esac
	: "$fo"
	expect_event "$(event_re "$verdict" "$proto" "$dest" "${CG#"$CG2"/}/$cgname" "$policy" "$rule" \
		"$reason" "$hook" "$(re_escape "$(cat "$info")")")" " pid=$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' "$info") "
}

# curl_in CGNAME URL: runs curl in the cgroup; sets CURL_RC, prints its output.
curl_in() {
	local host
	host=${2#http://}
	host=${host%%/*}
	host=${host%:*}
	host=${host#[}
	host=${host%]}
	check_dest "$host"
	in_cg "$(cg_dir "$1")" env -u http_proxy -u https_proxy -u HTTP_PROXY -u HTTPS_PROXY \
		-u ALL_PROXY -u all_proxy -u no_proxy -u NO_PROXY \
		curl -sS -g --noproxy '*' --max-time 3 -o /dev/null -w '%{http_code}' "$2" 2>>"$TMPD/curl.err"
}

# curl_expect CGNAME WANT_RC URL [VERDICT POLICY RULE REASON]
curl_expect() {
	local cgname=$1 want=$2 url=$3 verdict=${4:-} out rc hp dest hook host
	host=${url#http://}
	host=${host%%/*}
	host=${host%:*}
	host=${host#[}
	host=${host%]}
	check_dest "$host"
	[ -n "$verdict" ] && ev_mark
	out=$(curl_in "$cgname" "$url")
	rc=$?
	assert_eq "$cgname: curl $url exit status" "$want" "$rc"
	[ "$want" = 0 ] && assert_eq "$cgname: curl $url HTTP status" 200 "$out"
	[ -n "$verdict" ] || return 0
	hp=${url#http://}
	hp=${hp%%/*}
	dest=$hp
	case $hp in \[*) hook=connect6 ;; *) hook=connect4 ;; esac
	expect_event "$(event_re "$verdict" tcp "$dest" "${CG#"$CG2"/}/$cgname" "$5" "$6" "$7" "$hook" \
		'pid=[0-9]+ tid=[0-9]+ comm=curl uid=0 gid=0')"
}

# count_lines FILE ERE: number of lines of FILE matching ERE.
count_lines() {
	local n
	n=$(grep -Ec -- "$2" "$1" 2>/dev/null)
	printf '%s' "${n:-0}"
}

# wait_for_count FILE ERE N TIMEOUT_SEC: until FILE has more than N lines
# matching ERE. Returns 1 on timeout.
wait_for_count() {
	local t=$(($4 * 20))
	while [ "$(count_lines "$1" "$2")" -le "$3" ]; do
		[ "$t" -le 0 ] && return 1
		sleep 0.05
		t=$((t - 1))
	done
}

# reload_agent WANT_ERE: SIGHUP the agent and wait for a new stderr line
# matching "reloaded" or "reload failed"; asserts it matches WANT_ERE.
reload_agent() {
	local want=$1 re='^lsnitch-agent: (reloaded|reload failed)' n line
	n=$(count_lines "$AGENT_ERR" "$re")
	kill -HUP "$AGENT_PID" || die "cannot signal the agent"
	if ! wait_for_count "$AGENT_ERR" "$re" "$n" "$READY_TIMEOUT"; then
		fail "no reload outcome on stderr within ${READY_TIMEOUT}s of SIGHUP"
		tail -n 10 "$AGENT_ERR" | sed 's/^/    | /'
		return 1
	fi
	line=$(grep -E -- "$re" "$AGENT_ERR" | sed -n "$((n + 1))p")
	assert_match "SIGHUP: stderr /$want/" "$want" "$line"
	proc_alive "$AGENT_PID" || fail "the agent died after SIGHUP"
}

# bpf_attached CGDIR: the attach types of the programs attached to CGDIR.
bpf_attached() {
	bpftool cgroup show "$1" 2>/dev/null | awk 'NR > 1 && $1 ~ /^[0-9]+$/ { print $2 }' | sort
}

# agent_map_id NAME: id of the BPF map NAME held by the running agent (the
# newest, i.e. the generation in force), from its fds; empty if none.
agent_map_id() {
	local f id best=""
	[ -n "$AGENT_PID" ] || return 1
	for f in /proc/"$AGENT_PID"/fdinfo/*; do
		id=$(sed -n 's/^map_id:[[:space:]]*//p' "$f" 2>/dev/null)
		[ -n "$id" ] || continue
		bpftool map show id "$id" 2>/dev/null | grep -q " name $1 " || continue
		if [ -z "$best" ] || [ "$id" -gt "$best" ]; then best=$id; fi
	done
	[ -n "$best" ] && printf '%s' "$best"
}

# cgroup_policy_dump [--marks]: "CGROUP_ID POLICY_ID" per entry of the agent's
# cgroup_policy map that binds a cgroup to a policy, sorted; with --marks,
# "CGROUP_ID FLAGS" per entry that only marks a cgroup seen (LN_CG_UNBOUND).
cgroup_policy_dump() {
	local id marks=0
	[ "${1:-}" = --marks ] && marks=1
	id=$(agent_map_id cgroup_policy) || {
		printf 'cgroup_policy_dump: the agent holds no cgroup_policy map\n' >&2
		return 1
	}
	bpftool -j map dump id "$id" | "$PY" -c '
import json, sys
def num(v, field="policy_id"):
    if isinstance(v, int):
        return v
    if isinstance(v, dict):
        return num(v.get(field, 0))
    return int.from_bytes(bytes(int(b, 16) for b in v), "little")
marks = sys.argv[1] == "1"
for e in json.load(sys.stdin):
    k = e.get("key")
    v = e.get("value")
    if k is None and "formatted" in e:
        k, v = e["formatted"]["key"], e["formatted"]["value"]
    val = num(v[:4]) if isinstance(v, list) else num(v)
    flags = num(v[4:8]) if isinstance(v, list) else num(v, "flags")
    if bool(flags & 1) == marks:
        print(num(k), flags if marks else val)
' "$marks" | sort -n
}

# cgroup_id DIR: the cgroup id of DIR (its inode number on cgroup2).
cgroup_id() { stat -c %i "$1"; }

# wait_map_entries N TIMEOUT_SEC: until cgroup_policy holds exactly N entries.
wait_map_entries() {
	local t=$(($2 * 20))
	while [ "$(cgroup_policy_dump | wc -l)" != "$1" ]; do
		[ "$t" -le 0 ] && return 1
		sleep 0.05
		t=$((t - 1))
	done
}
