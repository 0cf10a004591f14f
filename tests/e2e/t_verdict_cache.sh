#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The kernel's verdict cache (bpf/verdict_cache.bpf.h) never serves a stale
# verdict. Each case first makes the cache hot (connect() again and again for
# a while, from every CPU the scheduler picks), changes what decides, and
# asserts that every connect() made right after sees the new verdict only:
# a cached allow is a deny right after a reload that denies the address; a
# default deny is an allow right after a DNS answer opens the address
# (allow-domain), and a deny again once that answer's TTL is over; a process
# moved to another cgroup gets that cgroup's policy; two executables of one
# cgroup (an exe policy denies the copy) take turns on one destination, each
# with its own verdict, judged by what a TCP listener accepted. Controls
# beside each: the same connect() to an address nothing changed for. UDP
# connect() to 127.0.0.x:9 (no packet is sent), TCP to 127.0.0.34 (case 4).
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a guard/b guard/c

command -v dnsmasq >/dev/null || skip_env "dnsmasq is not installed (make deps installs it)"
command -v dig >/dev/null || skip_env "dig is not installed (make deps installs it)"

DNS4=127.0.0.153 OPEN=127.0.0.31 GONE=127.0.0.32 KEPT=127.0.0.33
start_dnsmasq "$DNS4" open.test "$OPEN" --local-ttl=2 --host-record=open.test,$OPEN

policies() { # EXTRA-LINES for policy a
	{
		printf '[global]\ndns-servers = %s\ndns-ttl-min = 1\ndns-ttl-max = 2\n\n' "$DNS4"
		printf '[policy a]\ncgroup = %s\ndefault = allow\n' "$CGREL/guard/a"
		printf '%s\n' "$@"
		printf '\n[policy b]\ncgroup = %s\ndefault = deny\nallow-domain = open.test\n' \
			"$CGREL/guard/b"
		printf '\n[policy c]\ncgroup = %s\ndefault = allow\n' "$CGREL/guard/c"
		printf '\n[policy c-copy]\ncgroup = %s\nexe = %s\ndefault = deny\n' \
			"$CGREL/guard/c" "$PY_COPY"
	} | write_file "$TMPD/lsnitch.ini"
}
# hot CGNAME ADDR: UDP connect() to ADDR:9 for 0.4 s; the distinct results ("ok", "EPERM+ok"...)
hot() { run_client "$1" udp-connect "$2" 9 --repeat 0.4; }

PY_COPY=$TMPD/bin/py-copy # a copy of python: another inode, another executable
mkdir -p "$TMPD/bin" && cp "$PY" "$PY_COPY" || die "cannot copy $PY"
policies
start_agent --config "$TMPD/lsnitch.ini"

# 1. A reload that denies an address: no connect() after it is allowed.
assert_eq "a: $GONE allowed, again and again (the cache is hot)" ok "$(hot guard/a "$GONE")"
assert_eq "a: $KEPT allowed (control)" ok "$(hot guard/a "$KEPT")"
policies "deny = $GONE"
reload_agent '^lsnitch-agent: reloaded'
assert_eq "a: $GONE denied by every connect() right after the reload" EPERM \
	"$(hot guard/a "$GONE")"
assert_eq "a: $KEPT still allowed (control)" ok "$(hot guard/a "$KEPT")"

# 2. A DNS answer opens an address the cache holds as denied; its end closes it again.
assert_eq "b: $OPEN denied before any answer (the deny is cached)" EPERM "$(hot guard/b "$OPEN")"
got=$(in_cg "$(cg_dir guard/b)" dig +short +time=2 +tries=1 @$DNS4 open.test)
assert_eq "b: open.test resolves through the proxy" "$OPEN" "$got"
t0=$(date +%s%N)
assert_eq "b: $OPEN allowed by every connect() right after the answer" ok "$(hot guard/b "$OPEN")"
assert_eq "b: $KEPT still denied (control: no answer for it)" EPERM "$(hot guard/b "$KEPT")"
# The TTL is 2 s (dns-ttl-max); wait until it is over, then every connect() is denied.
sleep "$(awk -v t0="$t0" -v now="$(date +%s%N)" 'BEGIN { s = 2.3 - (now - t0) / 1e9; print (s > 0 ? s : 0) }')"
assert_eq "b: $OPEN denied by every connect() once the answer expired" EPERM \
	"$(hot guard/b "$OPEN")"

# 3. The same process, moved from a to b: b's policy from the first connect() on.
out=$(in_cg "$(cg_dir guard/a)" "$PY" - "$CG/guard/b" "$KEPT" <<'PY'
import os, socket, sys, time
def burst():
    seen = set()
    for _ in range(2000):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.connect((sys.argv[2], 9)); seen.add("ok")
        except PermissionError:
            seen.add("EPERM")
        s.close()
    return "+".join(sorted(seen))
first = burst()
with open(os.path.join(sys.argv[1], "cgroup.procs"), "w") as f:
    f.write(str(os.getpid()))
print(first, burst())
PY
)
assert_eq "one process: allowed in a, then denied by every connect() once in b" "ok EPERM" "$out"

# 4. Two executables of one cgroup take turns on one destination: python (policy c: allow)
# and its copy (c-copy: deny), 300 TCP connect()s each turn, each turn right after the other's.
read -r PC <<<"$(pick_ports 1)" || die "no free port"
start_counting_listener 127.0.0.34 "$PC"
turn() { # BINARY: the distinct results of 300 connect()s to the listener
	in_cg "$(cg_dir guard/c)" "$1" - 127.0.0.34 "$PC" <<'PY'
import socket, sys
seen = set()
for _ in range(300):
    s = socket.socket()
    try:
        s.connect((sys.argv[1], int(sys.argv[2]))); seen.add("ok")
    except PermissionError:
        seen.add("EPERM")
    s.close()
print("+".join(sorted(seen)))
PY
}
out=$(for b in "$PY" "$PY_COPY" "$PY" "$PY_COPY"; do turn "$b"; done | tr '\n' ' ')
assert_eq "c: python, its copy, python, its copy: each its own verdict every time" \
	"ok EPERM ok EPERM " "$out"
wait_for_count "$ACCEPTED" . 599 3
assert_eq "c: the listener accepted python's 600 connections, none of the copy's" 600 \
	"$(count_lines "$ACCEPTED" .)"
assert_eq "c: the copy outside guard/c connects (control)" ok \
	"$(in_cg "$(cg_dir outside)" "$PY_COPY" "$CLIENT" tcp 127.0.0.34 "$PC")"

finish
