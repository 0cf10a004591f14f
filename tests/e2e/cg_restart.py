#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Restart a cgroup the way systemd restarts a unit, as fast as it goes.

cg_restart.py DIR ADDR PORT COUNT [HAMMER_MS]

COUNT times: remove DIR (its processes have exited), make it again, and a
new process (forked before, waiting) joins it and connects to ADDR:PORT at
once, then again and again for HAMMER_MS milliseconds (default 0: once). Prints one line:
"rounds=N connects=C eperm=E ok=K other=O". CG_RESTART_SETTLE_MS=M waits M ms
between the mkdir and the process joining (the agent has bound it by then).
"""
import errno
import os
import socket
import sys
import time


def hammer(addr, port, until):
    counts = [0, 0, 0]  # eperm, ok, other
    while True:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.connect((addr, port))
            counts[1] += 1
        except OSError as e:
            counts[0 if e.errno == errno.EPERM else 2] += 1
        finally:
            s.close()
        if time.monotonic() >= until:
            return counts


def child(d, addr, port, ms, gfd, wfd):
    procs = os.path.join(d, "cgroup.procs")
    os.read(gfd, 1)  # made: go
    with open(procs, "w") as f:
        f.write(str(os.getpid()))
    counts = hammer(addr, port, time.monotonic() + ms / 1000.0)
    os.write(wfd, ("%d %d %d\n" % tuple(counts)).encode())
    os._exit(0)


def main():
    d, addr, port, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    ms = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    settle = float(os.environ.get("CG_RESTART_SETTLE_MS", "0")) / 1000.0
    tot = [0, 0, 0]
    for _ in range(count):
        for _ in range(200):
            try:
                os.rmdir(d)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.005)  # the last process is still leaving
        # The process is there first, waiting: mkdir to connect is then a
        # few system calls, far less than the agent's inotify round trip.
        g_r, g_w = os.pipe()
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            os.close(g_w)
            try:
                child(d, addr, port, ms, g_r, w)
            finally:
                os._exit(1)
        os.close(w)
        os.close(g_r)
        os.mkdir(d)
        if settle:
            time.sleep(settle)  # the agent binds it first (bench: the bound case)
        os.write(g_w, b"g")
        os.close(g_w)
        out = os.read(r, 100).split()
        os.close(r)
        os.waitpid(pid, 0)
        for i, v in enumerate(out[:3]):
            tot[i] += int(v)
    print("rounds=%d connects=%d eperm=%d ok=%d other=%d"
          % (count, sum(tot), tot[0], tot[1], tot[2]))


if __name__ == "__main__":
    main()
