#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# A list subscription's server for t_subscriptions: answers GET /NAME as DIR/mode says
# (ok, 404, trunc, big, invalid, slow), serving DIR/NAME with an ETag; logs each request's
# conditional headers to stdout ("GET /NAME inm=... ims=... -> CODE").
import hashlib
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIR = sys.argv[3]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def note(self, code):
        print("GET %s inm=%s ims=%s -> %s" % (self.path, self.headers.get("If-None-Match", "-"),
              self.headers.get("If-Modified-Since", "-"), code), flush=True)

    def send(self, code, body, length=None, etag=None):
        self.note(code)
        self.send_response(code)
        if etag:
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", "Mon, 30 Nov 2026 08:00:00 GMT")
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self):
        mode = open(os.path.join(DIR, "mode")).read().strip()
        try:
            body = open(os.path.join(DIR, os.path.basename(self.path)), "rb").read()
        except OSError:
            body = b""
        etag = '"%s"' % hashlib.sha256(body).hexdigest()[:16]
        if mode == "ok" and self.headers.get("If-None-Match") == etag:
            self.send(304, b"", etag=etag)
        elif mode == "ok":
            self.send(200, body, len(body), etag)
        elif mode == "404":
            self.send(404, b"not here\n", 9)
        elif mode == "trunc":  # promises more than it sends, then hangs up
            self.send(200, body[: len(body) // 2], len(body) + 1000, '"t"')
        elif mode == "big":  # no Content-Length: only counting stops it
            self.send(200, b"", None, '"b"')
            for _ in range(200):
                self.wfile.write(b"127.0.0.9\n" * 1000)
        elif mode == "invalid":
            self.send(200, b"<html>oops</html>\n", 18, '"i"')
        elif mode == "slow":
            self.send(200, b"127.0.0.", 100, '"s"')
            time.sleep(8)
        self.close_connection = True


ThreadingHTTPServer.daemon_threads = True
srv = ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), Handler)
print("serving", flush=True)
srv.serve_forever()
