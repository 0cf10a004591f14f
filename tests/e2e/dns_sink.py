#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A DNS server that only records what reaches it: the ground truth of the DNS tests.

    dns_sink.py ADDR LOG [--delay SECONDS]

Listens on ADDR:53, UDP and TCP. Every message received is appended to LOG
as "udp NAME" / "tcp NAME" (the question name) before anything else, then
answered after --delay seconds (default 0) with the query itself turned
into a response: same id and question, NOERROR, no records. Prints "ready"
once both sockets are bound. Runs until killed.
"""
import selectors
import socket
import struct
import sys
import threading
import time


def qname(msg):
    labels, i = [], 12
    while i < len(msg) and msg[i]:
        labels.append(msg[i + 1:i + 1 + msg[i]].decode("ascii", "replace"))
        i += 1 + msg[i]
    return ".".join(labels) or "."


def response(msg):
    flags = struct.unpack(">H", msg[2:4])[0] | 0x8080  # QR, RA
    return msg[:2] + struct.pack(">H", flags & ~0x000f) + msg[4:]


def main():
    addr, log, delay = sys.argv[1], sys.argv[2], 0.0
    if len(sys.argv) > 4 and sys.argv[3] == "--delay":
        delay = float(sys.argv[4])
    out = open(log, "a", buffering=1)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((addr, 53))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((addr, 53))
    t.listen(16)
    sel = selectors.DefaultSelector()
    sel.register(u, selectors.EVENT_READ)
    sel.register(t, selectors.EVENT_READ)
    print("ready", flush=True)

    def later(fn):
        threading.Thread(target=lambda: (time.sleep(delay), fn()), daemon=True).start()

    while True:
        for key, _ in sel.select():
            if key.fileobj is u:
                msg, peer = u.recvfrom(65535)
                out.write("udp %s\n" % qname(msg))
                later(lambda m=msg, p=peer: u.sendto(response(m), p))
                continue
            c, _ = t.accept()
            c.settimeout(3)
            try:
                n = struct.unpack(">H", c.recv(2))[0]
                msg = c.recv(n)
            except (OSError, struct.error):
                c.close()
                continue
            out.write("tcp %s\n" % qname(msg))
            r = response(msg)
            later(lambda c=c, r=r: (c.sendall(struct.pack(">H", len(r)) + r), c.close()))


main()
