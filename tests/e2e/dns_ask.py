#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Asks one DNS question as a guarded process would, and says who asked and what came back.

    dns_ask.py SERVER NAME [--tcp] [--opcode N] [--timeout S]

Prints "pid=PID rcode=RCODE id=ok|bad" (the reply's rcode number; id=ok when
the reply carries the query's id), or "pid=PID error=WHAT" when nothing came
back. UDP is an unconnected sendto(), TCP a connect(): the two redirect paths.
"""
import os
import socket
import struct
import sys


def query(name, opcode, qid):
    flags = (opcode << 11) | 0x0100  # RD
    q = struct.pack(">HHHHHH", qid, flags, 1, 0, 0, 0)
    q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".") if l) + b"\0"
    return q + struct.pack(">HH", 1, 1)


def main():
    server, name, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    tcp = "--tcp" in args
    opcode = int(args[args.index("--opcode") + 1]) if "--opcode" in args else 0
    timeout = float(args[args.index("--timeout") + 1]) if "--timeout" in args else 3
    qid = 0x4c53
    q = query(name, opcode, qid)
    out = "pid=%d " % os.getpid()
    try:
        if tcp:
            s = socket.create_connection((server, 53), timeout=timeout)
            s.sendall(struct.pack(">H", len(q)) + q)
            n = struct.unpack(">H", s.recv(2))[0]
            r = s.recv(n)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(timeout)
            s.sendto(q, (server, 53))
            r, _ = s.recvfrom(65535)
    except (OSError, struct.error) as e:
        print(out + "error=" + type(e).__name__)
        return
    rid, flags = struct.unpack(">HH", r[:4])
    print(out + "rcode=%d id=%s" % (flags & 0xf, "ok" if rid == qid else "bad"))


main()
