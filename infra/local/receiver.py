#!/usr/bin/env python3
"""The demo's receiver: a real HTTP server on 127.0.0.2 (its own loopback address: the stack's
services are on 127.0.0.1, which receiver URLs cannot reach) that verifies every delivery with
the official Standard Webhooks library.

  POST /ok/...           answers 200
  POST /flaky/<name>     answers 500 to the first two requests for <name>, then 200
  GET  /received         what it got so far (JSON), with the verification result of each
"""
import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

LOCK = threading.Lock()
RECEIVED = []
FLAKY = {}


def make_handler(secret):
    webhook = Webhook(secret)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # one line per request of our own instead
            pass

        def do_GET(self):
            if self.path != "/received":
                self.send_error(404)
                return
            with LOCK:
                body = json.dumps(RECEIVED).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                webhook.verify(body, headers)
                verified = True
            except WebhookVerificationError:
                verified = False
            status = 200
            if self.path.startswith("/flaky/"):
                with LOCK:
                    seen = FLAKY.get(self.path, 0)
                    FLAKY[self.path] = seen + 1
                status = 500 if seen < 2 else 200
            with LOCK:
                RECEIVED.append({
                    "path": self.path,
                    "webhook_id": headers.get("webhook-id"),
                    "verified": verified,
                    "answered": status,
                    "at": time.time(),
                })
            print(f"receiver: POST {self.path} webhook-id={headers.get('webhook-id')} "
                  f"signature={'valid' if verified else 'INVALID'} -> {status}", flush=True)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.2")
    ap.add_argument("--secret", required=True)
    args = ap.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), make_handler(args.secret))
    print(f"receiver: listening on http://{args.host}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
