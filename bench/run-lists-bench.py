#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# make bench, part "lists": a subscribed list of BENCH_LIST_SIZE hosts-file lines served from
# 127.0.0.1. lsnitch-update's download + validation + rename (200) and its conditional GET
# (304) against a plain `curl -o` of the same body (the baseline); the agent reading the
# copy of a [list] (--check) against the same file given as --blocked-domains. Medians of 7.
import http.server, os, shutil, statistics, subprocess, sys, tempfile, threading, time

B = os.environ.get("BUILD", "build")
N = int(os.environ.get("BENCH_LIST_SIZE", "300000"))
tmp = tempfile.mkdtemp(prefix="lsnitch-lists-bench.")
try:
    os.mkdir(tmp + "/lists")
    with open(tmp + "/big", "w") as f:
        for i in range(N):
            f.write("0.0.0.0 h%d.ads%d.example\n" % (i, i % 997))

    class H(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=tmp, **k)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d/big" % srv.server_address[1]
    ini = tmp + "/l.ini"
    with open(ini, "w") as f:
        f.write("[global]\nlists-dir = %s/lists\n[list big]\nurl = %s\nkind = domains\n"
                % (tmp, url))

    def clean():
        for n in os.listdir(tmp + "/lists"):
            os.unlink(tmp + "/lists/" + n)

    def median(cmd, before=None):
        ts = []
        for _ in range(7):
            if before:
                before()
            t = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            ts.append(time.perf_counter() - t)
        return statistics.median(ts)

    upd = [B + "/lsnitch-update", "-c", ini, "-n", "-f"]
    curl = median(["curl", "-s", "-o", tmp + "/c.out", url])
    new = median(upd, clean)
    same = median(upd)
    lst = median([B + "/lsnitch-agent", "--check", "--config", ini])
    plain = median([B + "/lsnitch-agent", "--check", "--blocked-domains", tmp + "/big"])
    print("list subscriptions (%d entries, %d bytes):" % (N, os.path.getsize(tmp + "/big")))
    print("  curl -o (baseline)           %8.1f ms" % (curl * 1e3))
    print("  lsnitch-update, 200          %8.1f ms  x%.2f" % (new * 1e3, new / curl))
    print("  lsnitch-update, 304          %8.1f ms  x%.2f" % (same * 1e3, same / curl))
    print("  agent --check, --blocked-domains (baseline) %8.1f ms" % (plain * 1e3))
    print("  agent --check, the [list] copy              %8.1f ms  x%.2f" % (lst * 1e3, lst / plain))
finally:
    shutil.rmtree(tmp)
