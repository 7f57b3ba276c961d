#!/usr/bin/env python3
"""A loopback HTTP server for download tests: serves one file with Range support.

Usage: range_server.py FILE [--cut BYTES] [--no-range]
Prints the port on the first line, then one line per request with its Range header.
--cut: the first request is cut off after BYTES of body (a dropped connection).
--no-range: ignore Range headers and always send the whole file (HTTP 200).
"""
import http.server
import re
import sys

path = sys.argv[1]
cut = int(sys.argv[sys.argv.index("--cut") + 1]) if "--cut" in sys.argv else None
honour_range = "--no-range" not in sys.argv
data = open(path, "rb").read()
requests = 0


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        global requests
        requests += 1
        header = self.headers.get("Range")
        print(f"request {requests} range={header}", flush=True)
        start = 0
        m = re.match(r"bytes=(\d+)-$", header or "")
        if m and honour_range:
            start = int(m.group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if cut is not None and requests == 1:
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
