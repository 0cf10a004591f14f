#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The namespace hoarder of t_dns_netns_flood.sh: run as an unprivileged user inside a user
+ network namespace of its own (unshare -Urn), it makes COUNT more network namespaces, each
a process with lo up that asks DNS of SERVER:53 as fast as it can -- a UDP connect(), which
the agent refuses while it does not serve that namespace, asking it to -- for SECONDS, and
then exits. Prints "namespaces N, asks M, refused R" (summed over the children).

    dns_flood.py COUNT SECONDS SERVER
"""
import ctypes
import os
import socket
import subprocess
import sys
import time

CLONE_NEWNET = 0x40000000


def child(server, deadline, w):
    if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWNET) != 0:
        os.write(w, b"0 0 0\n")
        os._exit(1)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=False)
    asks = refused = 0
    while time.monotonic() < deadline:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.connect((server, 53))
        except OSError:
            refused += 1
        s.close()
        asks += 1
    os.write(w, b"1 %d %d\n" % (asks, refused))
    os._exit(0)


def main(count, secs, server):
    if not server.startswith("127."):
        sys.exit("dns_flood.py: loopback servers only")
    deadline = time.monotonic() + secs
    r, w = os.pipe()
    for _ in range(count):
        if os.fork() == 0:
            os.close(r)
            child(server, deadline, w)
    os.close(w)
    total = [0, 0, 0]
    with os.fdopen(r) as f:
        for line in f:
            for i, v in enumerate(line.split()):
                total[i] += int(v)
    while True:
        try:
            os.wait()
        except ChildProcessError:
            break
    print("namespaces %d, asks %d, refused %d" % tuple(total), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]), sys.argv[3])
