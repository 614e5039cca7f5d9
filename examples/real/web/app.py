"""The web half of berth's real example: one page read from PostgreSQL."""
import html
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2


def rows():
    with psycopg2.connect(host=os.environ.get("DATABASE_HOST", "db"), dbname="app", user="app",
                          password=os.environ["POSTGRES_PASSWORD"], connect_timeout=5) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT message, at FROM greetings ORDER BY id")
            return cur.fetchall()


class Page(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            self.reply(200, "ok\n", "text/plain")
            return
        try:
            items = "".join(f"<li>{html.escape(m)} <small>({at:%Y-%m-%d %H:%M:%S})</small></li>" for m, at in rows())
            self.reply(200, f"<!doctype html><title>berth</title><h1>From the database</h1><ul>{items}</ul>\n",
                       "text/html")
        except psycopg2.Error as e:
            self.reply(503, f"the database does not answer: {e}\n", "text/plain")

    def reply(self, code, body, kind):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", kind + "; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        print("web:", fmt % args, flush=True)


if __name__ == "__main__":
    print("listening on :8000", flush=True)
    ThreadingHTTPServer(("0.0.0.0", 8000), Page).serve_forever()
