#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Test client for the lsnitch end-to-end tests.

    client.py tcp|udp-connect|udp-sendto|udp-connect-send ADDR PORT
              [--family 4|6|mapped] [--fastopen] [--recv] [--timeout SEC]
              [--connected-to ADDR:PORT] [--thread] [--repeat SEC] [--info FILE]

Prints one word and exits 0 whatever the syscall did, so the caller asserts
on the word:
  ok            the syscall (connect / sendto / send) succeeded
  EPERM         it failed with EPERM (what an lsnitch denial looks like)
  ECONNREFUSED, ETIMEDOUT, ...   the errno name of any other failure
  NOREPLY       --recv: the datagram went out but no echo came back

--family: 4 = AF_INET, 6 = AF_INET6, mapped = AF_INET6 socket connecting to
::ffff:ADDR (ADDR must be IPv4). Default: from the address.
--fastopen (tcp): connect implicitly with sendto(MSG_FASTOPEN).
--recv (udp): wait for the echo of the datagram (proves it was delivered).
--connected-to ADDR:PORT (udp-sendto): connect the socket there first (a
failure prints CONNECT-<errno>), then sendto ADDR PORT anyway: a sendto with
an address on a connected UDP socket still goes through the sendmsg hooks.
--thread: make the calls from a second thread (so tid != pid).
--repeat SEC: repeat the call (new socket each time) for SEC seconds; print
the distinct results joined by "+" in sorted order (e.g. "EPERM" or
"EPERM+ok"), the counts on stderr.
--info FILE: write "pid=N tid=N comm=C uid=N gid=N" (this process, as the
agent's event line prints them) before the syscall.

Exit status 2: bad usage (including a destination the tests must never
reach: only 127.0.0.0/8, ::1, 192.0.2.0/24 and 2001:db8::/32 are allowed).
"""
import argparse
import errno
import ipaddress
import os
import socket
import struct
import sys
import threading
import time

PAYLOAD = b"lsnitch-e2e\n"
HTTP_GET = b"GET / HTTP/1.0\r\n\r\n"

# The only destinations the test suite may ever send traffic to.
ALLOWED_NETS = [ipaddress.ip_network(n) for n in
                ("127.0.0.0/8", "::1/128", "192.0.2.0/24", "2001:db8::/32")]


def usage_error(msg):
    print("client.py: " + msg, file=sys.stderr)
    sys.exit(2)


def dest_is_allowed(addr):
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        usage_error("not a numeric address: " + addr)
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in n for n in ALLOWED_NETS)


def write_info(path):
    with open("/proc/thread-self/comm") as f:
        comm = f.read().rstrip("\n")
    with open(path, "w") as f:
        f.write("pid=%d tid=%d comm=%s uid=%d gid=%d\n" % (
            os.getpid(), threading.get_native_id(), comm, os.getuid(), os.getgid()))


def make_sockaddr(addr, port, family):
    ip = ipaddress.ip_address(addr)
    if family == "4":
        if ip.version != 4:
            usage_error("--family 4 needs an IPv4 address")
        return socket.AF_INET, (addr, port)
    if family == "6":
        if ip.version != 6:
            usage_error("--family 6 needs an IPv6 address")
        return socket.AF_INET6, (addr, port, 0, 0)
    if family == "mapped":
        if ip.version != 4:
            usage_error("--family mapped needs an IPv4 address")
        return socket.AF_INET6, ("::ffff:" + addr, port, 0, 0)
    usage_error("bad --family " + family)
    return None


def errname(e):
    if isinstance(e, socket.timeout) or e.errno is None:
        return "ETIMEDOUT"
    return errno.errorcode.get(e.errno, "errno%d" % e.errno)


def new_socket(af, kind, timeout):
    s = socket.socket(af, kind)
    if af == socket.AF_INET6:
        # v4-mapped destinations need a dual-stack socket.
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    if timeout is not None:
        s.settimeout(timeout)
    return s


def run(args):
    af, sa = make_sockaddr(args.addr, args.port, args.family)
    if args.mode == "tcp":
        if args.fastopen:
            # Blocking socket bounded by SO_SNDTIMEO: with a timeout python
            # would make the socket non-blocking and sendto would report
            # EINPROGRESS instead of the connection's result.
            s = new_socket(af, socket.SOCK_STREAM, None)
            tv = struct.pack("ll", int(args.timeout), int((args.timeout % 1) * 1e6))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, tv)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, tv)
            try:
                s.sendto(HTTP_GET, socket.MSG_FASTOPEN, sa)
            finally:
                s.close()
            return "ok"
        s = new_socket(af, socket.SOCK_STREAM, args.timeout)
        try:
            s.connect(sa)
        finally:
            s.close()
        return "ok"

    s = new_socket(af, socket.SOCK_DGRAM, args.timeout)
    try:
        if args.mode == "udp-connect":
            s.connect(sa)
        elif args.mode == "udp-connect-send":
            s.connect(sa)
            s.send(PAYLOAD)
        elif args.mode == "udp-sendto":
            if args.connected_to:
                try:
                    s.connect(args.connected_to)
                except OSError as e:
                    return "CONNECT-" + errname(e)
            s.sendto(PAYLOAD, sa)
        if args.recv:
            if args.mode == "udp-connect":
                s.send(PAYLOAD)
            try:
                data = s.recv(2048)
            except (socket.timeout, TimeoutError):
                return "NOREPLY"
            if data != PAYLOAD:
                return "BADREPLY"
    finally:
        s.close()
    return "ok"


def main():
    p = argparse.ArgumentParser(description="lsnitch e2e test client")
    p.add_argument("mode", choices=["tcp", "udp-connect", "udp-sendto", "udp-connect-send"])
    p.add_argument("addr")
    p.add_argument("port", type=int)
    p.add_argument("--family", choices=["4", "6", "mapped"])
    p.add_argument("--fastopen", action="store_true")
    p.add_argument("--recv", action="store_true")
    p.add_argument("--timeout", type=float, default=2.0)
    p.add_argument("--info")
    p.add_argument("--connected-to", metavar="ADDR:PORT")
    p.add_argument("--thread", action="store_true")
    p.add_argument("--repeat", type=float, metavar="SEC")
    args = p.parse_args()

    try:
        ipaddress.ip_address(args.addr)
    except ValueError:
        usage_error("not a numeric address: " + args.addr)
    if not dest_is_allowed(args.addr):
        usage_error("refusing to send traffic to %s: tests may only reach 127.0.0.0/8, "
                    "::1, 192.0.2.0/24 and 2001:db8::/32" % args.addr)
    if not 0 < args.port < 65536:
        usage_error("bad port %d" % args.port)
    if args.family is None:
        args.family = "6" if ":" in args.addr else "4"
    if args.fastopen and args.mode != "tcp":
        usage_error("--fastopen is for tcp")
    if args.recv and args.mode == "tcp":
        usage_error("--recv is for udp")
    if args.connected_to:
        if args.mode != "udp-sendto":
            usage_error("--connected-to is for udp-sendto")
        host, _, port = args.connected_to.rpartition(":")
        host = host.strip("[]")
        if not dest_is_allowed(host):
            usage_error("refusing to connect to " + host)
        _, args.connected_to = make_sockaddr(host, int(port), args.family)
    result = []

    def once():
        try:
            return run(args)
        except OSError as e:
            return errname(e)

    def work():
        # --info is written by the thread that makes the syscalls.
        if args.info:
            write_info(args.info)
        if args.repeat is None:
            result.append(once())
            return
        counts = {}
        end = time.monotonic() + args.repeat
        while time.monotonic() < end:
            w = once()
            counts[w] = counts.get(w, 0) + 1
        print("client.py: " + " ".join("%s=%d" % kv for kv in sorted(counts.items())),
              file=sys.stderr)
        result.append("+".join(sorted(counts)))

    if args.thread:
        t = threading.Thread(target=work)
        t.start()
        t.join()
    else:
        work()
    print(result[0], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
