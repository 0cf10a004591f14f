#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Stand-ins for the local resolvers glibc asks instead of port 53.

    fake_resolver.py --varlink PATH --answer ADDR --log FILE
    fake_resolver.py --nscd PATH --log FILE

--varlink: systemd-resolved's io.systemd.Resolve varlink socket, as nss-resolve
speaks to it: every ResolveHostname for IPv4 (or any family) is answered ADDR;
an IPv6-only question gets NoSuchResourceRecord. --nscd: nscd's socket; it
reads the request and closes without an answer, so glibc falls back to NSS.
Every connection appends "connect" to FILE (and, for varlink, the name asked),
so a test sees what reached the resolver. Prints "ready" once listening; runs
until killed.
"""
import argparse
import json
import os
import socket
import sys
import threading

AF_INET = 2


def log(path, line):
    with open(path, "a") as f:
        f.write(line + "\n")


def varlink_reply(req, answer):
    if req.get("method") != "io.systemd.Resolve.ResolveHostname":
        return {"error": "org.varlink.service.MethodNotImplemented", "parameters": {}}
    p = req.get("parameters", {})
    fam = p.get("family", 0)
    if fam not in (0, AF_INET):
        return {"error": "io.systemd.Resolve.NoSuchResourceRecord", "parameters": {}}
    addr = [int(x) for x in answer.split(".")]
    return {"parameters": {"addresses": [{"ifindex": 1, "family": AF_INET, "address": addr}],
                           "name": p.get("name", ""), "flags": 0}}


def serve_varlink(conn, args):
    buf = b""
    while True:
        data = conn.recv(4096)
        if not data:
            return
        buf += data
        while b"\0" in buf:
            msg, buf = buf.split(b"\0", 1)
            req = json.loads(msg)
            log(args.log, "ask %s" % req.get("parameters", {}).get("name", "?"))
            conn.sendall(json.dumps(varlink_reply(req, args.answer)).encode() + b"\0")


def serve(conn, args):
    try:
        log(args.log, "connect")
        if args.varlink:
            serve_varlink(conn, args)
        else:
            conn.settimeout(1)
            conn.recv(4096)
    except (OSError, ValueError):
        pass
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--varlink")
    ap.add_argument("--nscd")
    ap.add_argument("--answer", default="127.0.0.77")
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    path = args.varlink or args.nscd
    if not path:
        ap.error("--varlink or --nscd")
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    os.chmod(path, 0o666)
    s.listen(16)
    open(args.log, "a").close()
    print("ready", flush=True)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, args), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
