#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Sender and sink of payload markers for t_addr_forms.sh.

    addr_probe.py sink PROTO:ADDR:PORT...
        listens (PROTO: tcp, udp, udplite; IPv6 ADDR bracketed) and prints
        "PROTO [LOCAL]:PORT PAYLOAD" for every connection's first bytes or
        datagram; "ready" once bound.
    addr_probe.py send MODE ADDR PORT MARKER [--wait FILE]
        MODE: tcp (connect, send), udp / udplite (sendto), udp-tos (connect,
        then sendmsg with an IP_TOS or IPV6_TCLASS control message),
        udp-pktinfo (the same with IP_PKTINFO). With --wait, a udp-tos or
        udp-pktinfo probe connects, prints "connected", and sends only once
        FILE exists. Prints "ok" or the errno name of the call that failed.
"""
import errno
import os
import selectors
import socket
import struct
import sys
import time

IPPROTO_UDPLITE = 136
IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # <linux/in.h>; Python may not export it


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def endpoint(s):
    proto, rest = s.split(":", 1)
    host, port = rest.rsplit(":", 1)
    return proto, host.strip("[]"), int(port)


def sink(specs):
    sel = selectors.DefaultSelector()
    for proto, host, port in map(endpoint, specs):
        fam = family_of(host)
        kind, num = {"tcp": (socket.SOCK_STREAM, 0), "udp": (socket.SOCK_DGRAM, 0),
                     "udplite": (socket.SOCK_DGRAM, IPPROTO_UDPLITE)}[proto]
        s = socket.socket(fam, kind, num)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((host, port))
        if kind == socket.SOCK_STREAM:
            s.listen(16)
        sel.register(s, selectors.EVENT_READ, "%s [%s]:%d" % (proto, host, port))
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if s.type == socket.SOCK_STREAM:
                c, _ = s.accept()
                c.settimeout(2)
                try:
                    data = c.recv(256)
                except OSError:
                    data = b""
                c.close()
            else:
                data = s.recv(2048)
            print(key.data, data.decode(errors="replace") or "-", flush=True)


def cmsg_for(fam, mode):
    if mode == "udp-pktinfo" and fam == socket.AF_INET:
        return [(socket.IPPROTO_IP, IP_PKTINFO, bytes(12))]
    if mode == "udp-pktinfo":
        return [(socket.IPPROTO_IPV6, socket.IPV6_PKTINFO, bytes(20))]
    if fam == socket.AF_INET:
        return [(socket.IPPROTO_IP, socket.IP_TOS, struct.pack("i", 0x10))]
    return [(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, struct.pack("i", 0x10))]


def send(mode, addr, port, marker, wait):
    fam = family_of(addr)
    data = marker.encode()
    if mode == "tcp":
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(3)
        s.connect((addr, port))
        s.sendall(data)
        time.sleep(0.2)
    elif mode in ("udp", "udplite"):
        s = socket.socket(fam, socket.SOCK_DGRAM, IPPROTO_UDPLITE if mode == "udplite" else 0)
        s.sendto(data, (addr, port))
    else:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.connect((addr, port))
        if wait:
            print("connected", flush=True)
            deadline = time.monotonic() + 20
            while not os.path.exists(wait) and time.monotonic() < deadline:
                time.sleep(0.05)
        s.sendmsg([data], cmsg_for(fam, mode))
    s.close()


def main():
    if sys.argv[1] == "sink":
        sink(sys.argv[2:])
        return
    args = sys.argv[2:]
    wait = None
    if "--wait" in args:
        i = args.index("--wait")
        wait = args[i + 1]
        del args[i:i + 2]
    try:
        send(args[0], args[1], int(args[2]), args[3], wait)
    except OSError as e:
        print(errno.errorcode.get(e.errno, str(e.errno)) if e.errno else type(e).__name__,
              flush=True)
        return
    print("ok", flush=True)


if __name__ == "__main__":
    main()
