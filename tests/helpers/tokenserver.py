#!/usr/bin/python3
"""A token service for the pull tests, as Docker Hub's auth.docker.io is for
its registry: GET /token?service=S&scope=repository:NAME:ACTIONS answers a
JWT (RS256, signed by openssl with --key, its certificate in the x5c header)
that grants the scope: to anyone for repositories under pub/, and only with
the right Basic credentials (--user NAME:PASSWORD) for the others. Wrong
credentials get 401. Each request is logged to --log (path, whether
credentials came, the answer), never the credentials themselves.

  tokenserver.py --listen PORT --key KEY.pem --cert CERT.pem --issuer I --user U:P --log FILE
"""
import argparse
import base64
import http.server
import json
import os
import subprocess
import time
import urllib.parse

args = None


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def sign(service, access):
    der = subprocess.run(["openssl", "x509", "-in", args.cert, "-outform", "DER"],
                         capture_output=True, check=True).stdout
    header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
    now = int(time.time())
    claims = {"iss": args.issuer, "sub": "tester", "aud": service, "exp": now + 300, "nbf": now - 10,
              "iat": now - 10, "jti": b64url(os.urandom(12)), "access": access}
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", args.key], input=signing_input.encode(),
                         capture_output=True, check=True).stdout
    return signing_input + "." + b64url(sig)


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query)
        auth = self.headers.get("Authorization", "")
        who = None
        if auth.startswith("Basic "):
            who = base64.b64decode(auth[6:]).decode(errors="replace")
        if who is not None and who != args.user:
            return self.answer(401, {"details": "wrong credentials"}, "bad-credentials")
        access = []
        for scope in q.get("scope", []):
            for one in scope.split(" "):
                parts = one.split(":")
                if len(parts) != 3 or parts[0] != "repository":
                    continue
                if parts[1].startswith("pub/") or who is not None:
                    access.append({"type": "repository", "name": parts[1], "actions": parts[2].split(",")})
        token = sign(q.get("service", [""])[0], access)
        self.answer(200, {"token": token, "access_token": token, "expires_in": 300},
                    "creds" if who is not None else "anonymous")

    def answer(self, status, body, what):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        with open(args.log, "a") as f:
            f.write("%s %s -> %d\n" % (urllib.parse.urlparse(self.path).query, what, status))


def main():
    global args
    p = argparse.ArgumentParser()
    for a in ("--key", "--cert", "--issuer", "--user", "--log"):
        p.add_argument(a, required=True)
    p.add_argument("--listen", type=int, required=True)
    args = p.parse_args()
    http.server.ThreadingHTTPServer(("127.0.0.1", args.listen), Handler).serve_forever()


if __name__ == "__main__":
    main()
