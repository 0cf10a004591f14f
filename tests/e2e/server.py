#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Loopback / netns servers for the lsnitch end-to-end tests.

    server.py [--tcp ADDR:PORT]... [--udp ADDR:PORT]...

One process serves every endpoint: TCP endpoints answer a minimal HTTP/1.0
200 response (so curl is happy) and close; UDP endpoints echo each datagram
back. IPv6 addresses are written bracketed: [::1]:8080. Prints "ready" on
stdout once every socket is bound and listening. Runs until killed.
"""
import argparse
import selectors
import socket
import sys

RESPONSE = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n"


def parse_endpoint(s):
    host, sep, port = s.rpartition(":")
    if not sep:
        raise argparse.ArgumentTypeError("expected ADDR:PORT: " + s)
    if host.startswith("[") and host.endswith("]"):
        return socket.AF_INET6, host[1:-1], int(port)
    if ":" in host:
        raise argparse.ArgumentTypeError("bracket IPv6 addresses: [ADDR]:PORT: " + s)
    return socket.AF_INET, host, int(port)


def bind(family, addr, port, kind):
    s = socket.socket(family, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, port))
    if kind == socket.SOCK_STREAM:
        s.listen(64)
    s.setblocking(False)
    return s


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tcp", action="append", type=parse_endpoint, default=[])
    p.add_argument("--udp", action="append", type=parse_endpoint, default=[])
    args = p.parse_args()
    if not args.tcp and not args.udp:
        p.error("nothing to serve")

    sel = selectors.DefaultSelector()
    for fam, addr, port in args.tcp:
        sel.register(bind(fam, addr, port, socket.SOCK_STREAM), selectors.EVENT_READ, "tcp")
    for fam, addr, port in args.udp:
        sel.register(bind(fam, addr, port, socket.SOCK_DGRAM), selectors.EVENT_READ, "udp")
    print("ready", flush=True)

    while True:
        for key, _ in sel.select():
            s = key.fileobj
            try:
                if key.data == "tcp":
                    c, _ = s.accept()
                    try:
                        c.setblocking(True)
                        c.settimeout(0.5)
                        try:
                            c.recv(4096)
                        except OSError:
                            pass
                        c.sendall(RESPONSE)
                    finally:
                        c.close()
                else:
                    data, peer = s.recvfrom(65535)
                    s.sendto(data, peer)
            except OSError as e:
                print("server: %s" % e, file=sys.stderr, flush=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
