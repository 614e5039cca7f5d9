#!/usr/bin/python3
"""A misbehaving front for a registry, for the pull tests: it forwards every
request to the registry behind it, and on the way breaks what a real network
or registry breaks. Every request is logged as one line (method, path, Range,
whether an Authorization header came, the status sent) to --log.

  regproxy.py --listen PORT --upstream HOST:PORT --log FILE [faults]
    --cut-after N      the first blob answer is cut after N bytes (the
                       connection closes, as when a link drops)
    --ignore-range     Range is not passed on: a resumed blob comes whole
    --fail-blobs N     the first N blob requests get 503
    --throttle N       the first blob request gets 429 with Retry-After: N
    --storage PORT     blob requests are redirected (307) to this port's
                       /storage/ path on localhost, as registries send
                       clients to S3; it drops the client's credentials
                       and fetches with --storage-auth USER:PASS
    --slow BYTES_PER_S blob answers are sent at most this fast
    --schema1 TAG      the manifest of TAG is an old schema 1 one
    --huge TAG         the manifest of TAG is 5 MiB of JSON
    --loop TAG         the manifest of TAG redirects to itself, forever
    --upload-elsewhere an upload's Location (a push) is sent to --storage's
                       port, as a registry may send pushes to its storage:
                       credentials that reach it there are logged ("auth")
"""
import argparse
import base64
import urllib.parse
import http.client
import http.server
import sys
import threading
import time

args = None
lock = threading.Lock()
state = {"cut": False, "failed": 0, "throttled": False}


def log(line):
    with lock:
        with open(args.log, "a") as f:
            f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_HEAD(self):
        self.forward()

    def do_GET(self):
        self.forward()

    def do_POST(self):
        self.forward()

    def do_PUT(self):
        self.forward()

    def do_PATCH(self):
        self.forward()

    def forward(self):
        path = self.path
        is_blob = "/blobs/sha256:" in path
        storage = path.startswith("/storage/")
        auth = "auth" if self.headers.get("Authorization") else "noauth"
        rng = self.headers.get("Range", "-")
        if storage:
            path = path[len("/storage"):]
        for tag, kind in ((args.schema1, "schema1"), (args.huge, "huge"), (args.loop, "loop")):
            if tag and path.endswith("/manifests/" + tag):
                if kind == "schema1":
                    body = b'{"schemaVersion": 1, "name": "x", "tag": "%s", "fsLayers": [], "history": []}' % tag.encode()
                    return self.reply(200, {"Content-Type": "application/vnd.docker.distribution.manifest.v1+prettyjws"},
                                      body, path, rng, auth)
                if kind == "huge":
                    body = b'{"schemaVersion": 2, "pad": "' + b"x" * (5 << 20) + b'"}'
                    return self.reply(200, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
                                      body, path, rng, auth)
                return self.reply(307, {"Location": self.path}, b"", path, rng, auth)
        if is_blob and not storage:
            with lock:
                fail = state["failed"] < args.fail_blobs
                if fail:
                    state["failed"] += 1
                throttle = not fail and args.throttle and not state["throttled"]
                if throttle:
                    state["throttled"] = True
            if fail:
                return self.reply(503, {}, b"busy", path, rng, auth)
            if throttle:
                return self.reply(429, {"Retry-After": str(args.throttle)}, b"slow down", path, rng, auth)
            if args.storage:
                where = "http://localhost:%d/storage%s" % (args.storage, path)
                return self.reply(307, {"Location": where}, b"", path, rng, auth)
        length = int(self.headers.get("Content-Length") or 0)
        sent = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("host", "connection", "accept-encoding", "expect")}
        if storage:
            # storage has its own say (as an S3 URL's signature): what the
            # client sent is not passed on
            for k in list(headers):
                if k.lower() == "authorization":
                    del headers[k]
            if args.storage_auth:
                headers["Authorization"] = "Basic " + base64.b64encode(args.storage_auth.encode()).decode()
        if args.ignore_range:
            headers.pop("Range", None)
        up = http.client.HTTPConnection(args.upstream, timeout=30)
        up.request(self.command, path, body=sent, headers=headers)
        res = up.getresponse()
        body = res.read()
        out = {k: v for k, v in res.getheaders()
               if k.lower() not in ("connection", "transfer-encoding", "content-length")}
        if args.upload_elsewhere and res.status == 202 and out.get("Location"):
            where = urllib.parse.urlsplit(out["Location"])
            out["Location"] = "http://localhost:%d/storage%s%s" % (
                args.storage, where.path, "?" + where.query if where.query else "")
        self.send_response(res.status)
        for k, v in out.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        log("%s %s range=%s %s -> %d" % (self.command, self.path, rng, auth, res.status))
        if self.command == "HEAD":
            return
        cut = None
        if (is_blob or storage) and args.cut_after and res.status in (200, 206) and len(body) > args.cut_after:
            with lock:
                if not state["cut"]:
                    state["cut"] = True
                    cut = args.cut_after
        data = body if cut is None else body[:cut]
        step = args.slow or len(data) or 1
        for i in range(0, len(data), step):
            self.wfile.write(data[i:i + step])
            self.wfile.flush()
            if args.slow:
                time.sleep(1)
        if cut is not None:
            log("cut after %d bytes" % cut)
            self.close_connection = True
            self.connection.shutdown(2)

    def reply(self, status, headers, body, path, rng, auth):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        log("%s %s range=%s %s -> %d" % (self.command, self.path, rng, auth, status))


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--listen", type=int, required=True)
    p.add_argument("--upstream", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--cut-after", type=int, default=0)
    p.add_argument("--ignore-range", action="store_true")
    p.add_argument("--fail-blobs", type=int, default=0)
    p.add_argument("--throttle", type=int, default=0)
    p.add_argument("--storage", type=int, default=0)
    p.add_argument("--storage-auth", default="")
    p.add_argument("--slow", type=int, default=0)
    p.add_argument("--schema1", default="")
    p.add_argument("--huge", default="")
    p.add_argument("--loop", default="")
    p.add_argument("--upload-elsewhere", action="store_true")
    args = p.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.listen), Handler)
    if args.storage:
        store = http.server.ThreadingHTTPServer(("127.0.0.1", args.storage), Handler)
        threading.Thread(target=store.serve_forever, daemon=True).start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    srv.serve_forever()


if __name__ == "__main__":
    main()
