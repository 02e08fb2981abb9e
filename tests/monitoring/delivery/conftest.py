"""Receivers on 127.0.0.1 (port chosen by the OS), a dispatcher with test-sized backoff, a sample
event, and a polling wait. Every server is started and stopped by the test that uses it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from monitoring.delivery import DeliverySettings, Dispatcher


def wait_until(condition: Callable[[], object], timeout: float = 15.0, every: float = 0.02):
    """Poll until condition() is truthy; fail with a clear message at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout} s")


@dataclass
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


Reply = tuple[int, dict]  # status, JSON body


@dataclass
class Receiver:
    """An HTTP endpoint that records each POST and answers with `respond(request, n)`."""

    respond: Callable[[Request, int], Reply]
    requests: list[Request] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 5  # a stuck client cannot hold a handler thread

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = Request(parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()},
                                  dict(self.headers.items()), self.rfile.read(length))
                receiver.requests.append(request)
                status, body = receiver.respond(request, len(receiver.requests))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    """receiver(respond) → a started Receiver, stopped after the test."""
    started: list[Receiver] = []

    def start(respond: Callable[[Request, int], Reply] = lambda request, n: (200, {})) -> Receiver:
        started.append(Receiver(respond).start())
        return started[-1]

    yield start
    for r in started:
        r.stop()


FAST = dict(backoff_base=0.05, backoff_cap=0.2, request_timeout=3.0, max_attempts=6)


@pytest.fixture
def make_dispatcher(tmp_path):
    """make_dispatcher(channels=None, **settings) → a Dispatcher on tmp_path/data with fast retries;
    consumers are stopped and queues closed after the test."""
    made: list[Dispatcher] = []

    def make(channels=None, **overrides) -> Dispatcher:
        settings = DeliverySettings(data_dir=tmp_path / "data", **{**FAST, **overrides})
        made.append(Dispatcher(settings, channels=channels))
        return made[-1]

    yield make
    for dispatcher in made:
        dispatcher.close()


def start(dispatcher: Dispatcher) -> Dispatcher:
    dispatcher.start_consumer(workers=2, tick=0.05, poll=0.05)
    return dispatcher


def sample_payload(**changes) -> dict:
    payload = {
        "subject": {"id": "lanshan-dairy", "name": "澜山乳业"},
        "severity": "major",
        "title": "网传澜山乳业奶粉检出异物",
        "crisis_type": "product_quality",
        "drivers": {"mentions_1h": 342, "negative_share": 0.81, "growth_rate": 3.5},
        "first_steps": [
            {"action": "成立应急小组，封存涉事批次留样", "owner": "质量部", "due_at": "2025-06-01T07:00:00+00:00"},
            {"action": "发布初步声明（holding statement）", "owner": "品牌公关部", "due_at": "2025-06-01T08:00:00+00:00"},
        ],
        "incident_id": "inc-20250601-001",
        "link": "https://yuqing.example.com/incidents/inc-20250601-001",
        "mention_ids": ["m1", "m2", "m3"],
        "occurred_at": "2025-06-01T06:00:00+00:00",
        "routing": {},
    }
    payload.update(changes)
    return payload
