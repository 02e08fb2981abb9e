"""What every example receiver shares, stdlib only, written the way a linked system's team would
write it with nothing from this project: verify the signature, refuse replays, de-duplicate on the
delivery id, answer fast.

    X-Yuqing-Signature = "sha256=" + hex(HMAC-SHA256(secret, X-Yuqing-Timestamp + "." + raw body))"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE = 300  # seconds: an older timestamp is a replay
MAX_BODY = 1 << 20
Action = Callable[[str, dict], dict | None]  # (event type, envelope) → what was done, or None


def verify(secrets: list[str], headers, body: bytes, now: float | None = None) -> str | None:
    """None when genuine and fresh, else the reason to reject."""
    timestamp, received = headers.get("X-Yuqing-Timestamp"), headers.get("X-Yuqing-Signature")
    if not timestamp or not received or not timestamp.isdigit():
        return "missing or malformed signature headers"
    if abs((time.time() if now is None else now) - int(timestamp)) > TOLERANCE:
        return "stale timestamp (replay?)"
    for secret in secrets:
        expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, received):
            return None
    return "bad signature"


class Seen:
    """Delivery ids already handled; retries and duplicates after a crash carry the same id.
    (In production keep this in the system's own database, with the action, in one transaction.)"""

    def __init__(self, size: int = 10_000):
        self._ids: OrderedDict[str, dict] = OrderedDict()
        self._size = size
        self.lock = threading.Lock()

    def get(self, delivery_id: str) -> dict | None:
        return self._ids.get(delivery_id)

    def add(self, delivery_id: str, result: dict) -> None:
        self._ids[delivery_id] = result
        while len(self._ids) > self._size:
            self._ids.popitem(last=False)


def make_server(secrets: list[str], act: Action, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    seen = Seen()

    class Handler(BaseHTTPRequestHandler):
        timeout = 10

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                return self.reply(413, {"error": "body too large"})
            body = self.rfile.read(length)
            reason = verify(secrets, self.headers, body)
            if reason:
                return self.reply(401, {"error": reason})
            delivery_id = self.headers.get("X-Yuqing-Delivery", "")
            with seen.lock:  # one delivery id is acted on once, even when retries overlap
                done = seen.get(delivery_id)
                if done is None:
                    envelope = json.loads(body)
                    done = act(self.headers.get("X-Yuqing-Event", envelope.get("type", "")), envelope) or {}
                    seen.add(delivery_id, done)
                    return self.reply(200, {"ok": True, **done})
            self.reply(200, {"ok": True, "duplicate": True, **done})

        def reply(self, status: int, value: dict) -> None:
            data = json.dumps(value, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):
            print(f"[{self.address_string()}] {format % args}")

    return ThreadingHTTPServer((host, port), Handler)


class Journal:
    """The receiver's 'system of record' for the example: a list, mirrored to a JSONL file."""

    def __init__(self, path: str | None = None):
        self.path, self.records, self.lock = path, [], threading.Lock()

    def write(self, record: dict) -> dict:
        with self.lock:
            self.records.append(record)
            if self.path:
                with open(self.path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(record, ensure_ascii=False) + "\n")
        return record


def main(description: str, default_port: int, build: Callable[[Journal], Action]) -> None:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    parser.add_argument("--secret", action="append", default=[],
                        help="repeatable (old and new while rotating); default $YUQING_WEBHOOK_SECRET")
    parser.add_argument("--out", help="append what the receiver does to this JSONL file")
    parser.add_argument("--max-requests", type=int, help="exit after this many requests (demos, tests)")
    args = parser.parse_args()
    secrets = args.secret or [s for s in [os.environ.get("YUQING_WEBHOOK_SECRET")] if s]
    if not secrets:
        parser.error("give --secret or set YUQING_WEBHOOK_SECRET")
    server = make_server(secrets, build(Journal(args.out)), args.host, args.port)
    print(f"{description}: listening on http://{args.host}:{server.server_address[1]}/")
    try:
        if args.max_requests:
            server.daemon_threads = False  # so that server_close() waits for the last answers
            for _ in range(args.max_requests):
                server.handle_request()
        else:
            server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
