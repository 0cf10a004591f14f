#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# DNS: a real dnsmasq on 127.0.0.153:53 serves a test zone; guarded clients'
# queries (dig UDP and TCP, getent via glibc, python getaddrinfo, curl, an
# unconnected-UDP resolver) are redirected to the agent's proxy without any
# configuration and see replies from 127.0.0.153:53. Blocked names (suffix,
# subdomain, upper case, trailing dot, AAAA, adblock format, CNAME to a
# blocked name) get NXDOMAIN; allow-domain / deny-domain rules decide the
# very first connect() to the addresses an answer resolved to, until the TTL
# ends; the same queries from outside the guarded cgroup reach dnsmasq as
# they are; after kill -9 of the agent DNS keeps working.
. "$(dirname "$0")/lib.sh"
lsn_setup
make_cg guard/a guard/b

command -v dnsmasq >/dev/null || skip_env "dnsmasq is not installed (make deps installs it)"
command -v dig >/dev/null || skip_env "dig is not installed (make deps installs it)"

DNS4=127.0.0.153
API=127.0.0.10 TRACK=127.0.0.11 OTHER=127.0.0.12 CLOAKED=127.0.0.13 OUTSIDE_BLOCKED=127.0.0.14
read -r P1 P2 <<<"$(pick_ports 2)" || die "no free ports"
start_servers --tcp "$API:$P1" --tcp "$API:$P2" --tcp "$TRACK:$P1" --tcp "$OTHER:$P1"

# The zone. TTL 2 s so the expiry can be seen; dnsmasq answers only these.
start_dnsmasq "$DNS4" other.test "$OTHER" --local-ttl=2 \
	--host-record=api.example.test,$API --host-record=tracker.test,$TRACK \
	--host-record=other.test,$OTHER --host-record=real.blocked.test,$CLOAKED \
	--host-record=v6.example.test,::1 --cname=cloak.test,real.blocked.test \
	--address=/blocked.test/$OUTSIDE_BLOCKED --address=/ads.test/$OUTSIDE_BLOCKED
assert_eq "dnsmasq answers outside any guarded cgroup" "$OTHER" \
	"$(dig +short +time=1 +tries=1 @$DNS4 other.test)"

write_file "$TMPD/domains.txt" <<EOF
# test domain blocklist
blocked.test
||ads.test^
EOF
write_file "$TMPD/lsnitch.ini" <<EOF
[global]
blocked-domains = domains.txt
dns-servers = $DNS4
dns-ttl-min = 1
dns-ttl-max = 3600

[policy api-only]
cgroup = $CGREL/guard/a
default = deny
log-allowed = yes
allow-domain = api.example.test:$P1/tcp

[policy no-tracker]
cgroup = $CGREL/guard/b
deny-domain = tracker.test
EOF
L_BLK=domains.txt:$(line_of "$TMPD/domains.txt" "blocked.test")
L_ALLOW=lsnitch.ini:$(line_of "$TMPD/lsnitch.ini" "allow-domain")
L_DEF=lsnitch.ini:$(line_of "$TMPD/lsnitch.ini" "default = deny")
L_DENY=lsnitch.ini:$(line_of "$TMPD/lsnitch.ini" "deny-domain")

# Clients that use the system resolver get a private /etc/resolv.conf naming
# the test server, in their own mount namespace only.
printf 'nameserver %s\noptions timeout:2 attempts:1\n' $DNS4 >"$TMPD/resolv.conf"
with_resolv() { # CG CMD...: run CMD in CG with the test resolv.conf
	local dir
	dir=$(cg_dir "$1")
	shift
	in_cg "$dir" unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' \
		"$TMPD/resolv.conf" "$@"
}
digq() { # CG ARGS...: dig +short in CG
	local dir
	dir=$(cg_dir "$1")
	shift
	in_cg "$dir" dig +time=2 +tries=1 @$DNS4 "$@" 2>&1
}
status_of() { sed -n 's/.*status: \([A-Z]*\).*/\1/p' | head -1; }

start_agent --config "$TMPD/lsnitch.ini"

# --- blocked names never leave the host
ev_mark
assert_eq "blocked suffix" NXDOMAIN "$(digq guard/a blocked.test | status_of)"
# the asker's executable too (it waits for the answer: its /proc/PID/exe is there)
expect_event "^deny dns blocked\.test pid=[0-9]+ tid=[0-9]+ comm=[^ ]+ uid=0 gid=0 exe=$(re_escape "$(readlink -f "$(command -v dig)")") qtype=A client=127\.0\.0\.1:[0-9]+ cgroup=$(re_escape "/$CGREL/guard/a") policy=api-only rule=([^ ]*/)?$(re_escape "$L_BLK") reason=domain-blocklist$"
assert_eq "blocked subdomain, upper case, trailing dot" NXDOMAIN \
	"$(digq guard/a WWW.Blocked.TEST. | status_of)"
assert_eq "blocked AAAA" NXDOMAIN "$(digq guard/a AAAA x.blocked.test | status_of)"
assert_eq "blocked over TCP" NXDOMAIN "$(digq guard/a +tcp x.blocked.test | status_of)"
assert_eq "adblock-format entry" NXDOMAIN "$(digq guard/b ads.test | status_of)"
assert_eq "CNAME to a blocked name (cloaking)" NXDOMAIN "$(digq guard/b cloak.test | status_of)"
assert_eq "reply appears to come from the server asked" "$DNS4#53" \
	"$(digq guard/a blocked.test | sed -n 's/^;; SERVER: \([^(]*\).*/\1/p')"
assert_eq "outside: the same name reaches dnsmasq" "$OUTSIDE_BLOCKED" \
	"$(dig +short +time=2 +tries=1 @$DNS4 x.blocked.test)"
assert_eq "not-blocked name unaffected" "$OTHER" "$(digq guard/b +short other.test)"
assert_eq "dig +tcp, not blocked" "$OTHER" "$(digq guard/b +tcp +short other.test)"
assert_eq "IPv6 answer (AAAA)" "::1" "$(digq guard/b +short AAAA v6.example.test)"

# --- the system resolver (glibc getent, python getaddrinfo) without configuration
assert_eq "getent hosts (glibc)" "$API" "$(with_resolv guard/b getent hosts api.example.test | awk '{print $1}')"
assert_eq "getent hosts of a blocked name fails" "2" \
	"$(with_resolv guard/b getent hosts www.blocked.test >/dev/null; echo $?)"
assert_eq "python getaddrinfo" "$OTHER" "$(with_resolv guard/b "$PY" -c \
	'import socket; print(socket.getaddrinfo("other.test", 80, socket.AF_INET)[0][4][0])')"

# --- an unconnected UDP resolver and a TCP one see the server's address
got=$(in_cg "$(cg_dir guard/b)" "$PY" - $DNS4 <<'EOF'
import socket, struct, sys
server = sys.argv[1]
q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in "other.test".split(".")) + b"\0"
q += struct.pack(">HH", 1, 1)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(3)
u.sendto(q, (server, 53))
data, src = u.recvfrom(512)
t = socket.create_connection((server, 53), timeout=3)
peer = t.getpeername()
t.sendall(struct.pack(">H", len(q)) + q)
n = struct.unpack(">H", t.recv(2))[0]
tdata = t.recv(n)
print("%s:%d id=%x tcp-peer=%s:%d tcp-id=%x" % (src[0], src[1], struct.unpack(">H", data[:2])[0],
      peer[0], peer[1], struct.unpack(">H", tdata[:2])[0]))
EOF
)
assert_eq "unconnected sendto/recvfrom and TCP getpeername" \
	"$DNS4:53 id=1234 tcp-peer=$DNS4:53 tcp-id=1234" "$got"

# --- allow-domain: only api.example.test:P1/tcp, resolved first, then the first connect works
ev_mark
curl_out=$(with_resolv guard/a curl -sS --max-time 3 -o /dev/null -w '%{http_code}' \
	"http://api.example.test:$P1/" 2>&1)
assert_eq "curl http://api.example.test:$P1/ (allow-domain)" 200 "$curl_out"
expect_event "^allow tcp $(re_escape "$API:$P1") .*comm=curl .*policy=api-only rule=([^ ]*/)?$(re_escape "$L_ALLOW") reason=domain hook=connect4 name=api\.example\.test$"
curl_out=$(with_resolv guard/a curl -sS --max-time 3 -o /dev/null -w '%{http_code}' \
	"http://api.example.test:$P2/" 2>/dev/null)
assert_eq "api.example.test on another port is denied" 000 "$curl_out"
expect_event "^deny tcp $(re_escape "$API:$P2") .*policy=api-only rule=([^ ]*/)?$(re_escape "$L_DEF") reason=default hook=connect4 name=api\.example\.test$"
digq guard/a +short other.test >/dev/null
client_expect guard/a EPERM -- tcp $OTHER "$P1"

# --- deny-domain: the address tracker.test resolved to is denied, others not
assert_eq "tracker.test resolves (the answer is relayed)" "$TRACK" "$(digq guard/b +short tracker.test)"
ev_mark
client_expect guard/b EPERM -- tcp $TRACK "$P1"
expect_event "^deny tcp $(re_escape "$TRACK:$P1") .*policy=no-tracker rule=([^ ]*/)?$(re_escape "$L_DENY") reason=domain hook=connect4 name=tracker\.test$"
client_expect guard/b ok -- tcp $OTHER "$P1"
client_expect outside ok -- tcp $TRACK "$P1"

# --- TTL expiry: 2 s records, dns-ttl-min = 1: the verdict ends with the TTL
assert_eq "resolve api.example.test again" "$API" "$(digq guard/a +short api.example.test)"
client_expect guard/a ok -- tcp $API "$P1"
sleep 3
client_expect guard/a EPERM -- tcp $API "$P1"

# --- a server that refuses (ICMP) and one that never answers: SERVFAIL, the latter
# after the proxy's 4 s timeout; meanwhile other queries on the same server's socket
# are answered
"$PY" -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.155", 53))
while True:
    s.recv(4096)' &
track_pid "$!"
assert_eq "no server on 127.0.0.154:53: SERVFAIL" SERVFAIL \
	"$(in_cg "$(cg_dir guard/b)" dig +time=2 +tries=1 @127.0.0.154 other.test 2>&1 | status_of)"
silent=$(in_cg "$(cg_dir guard/b)" dig +time=8 +tries=1 @127.0.0.155 other.test 2>&1 | status_of)
assert_eq "silent server on 127.0.0.155:53: SERVFAIL after the timeout" SERVFAIL "$silent"
for i in 1 2 3; do
	assert_eq "answered on a shared upstream socket ($i)" "$OTHER" "$(digq guard/b +short other.test)"
done

# --- the agent killed: within a few seconds DNS works again for guarded processes
kill -9 "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
AGENT_PID=""
res=""
for _ in $(seq 20); do
	res=$(digq guard/b +short other.test)
	[ "$res" = "$OTHER" ] && break
	sleep 0.5
done
assert_eq "DNS after kill -9 of the agent" "$OTHER" "$res"
finish
