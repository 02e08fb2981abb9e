"""Issue #12's bar: webhook deliveries survive `kill -9` of the service during delivery.

A first service process (a real subprocess) subscribes a receiver on 127.0.0.1, publishes N events
through `publish` (each acknowledged only after `publish` returned), starts the in-process consumer,
and is SIGKILLed while the receiver holds deliveries in flight. A second process on the same data
dir only starts the consumer (recovery). Every acknowledged event must reach the receiver; an event
seen twice must carry the same `X-Yuqing-Delivery` id both times; every request must be signed."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from monitoring.delivery import verify_signature
from monitoring.delivery.store import DeliveryStore
from tests.monitoring.delivery.conftest import sample_payload

REPO_ROOT = Path(__file__).resolve().parents[3]
N_EVENTS = 30
HOLD = 0.3  # seconds the receiver holds each request: deliveries are in flight most of the time
WORKERS = 2

# The service before the crash: subscribe, publish (ack after each publish returned), consume.
SERVICE = r"""
import json, sys, time
from monitoring.delivery import get_dispatcher, publish, start_consumer
url, secret, payloads_file, workers = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
get_dispatcher().create_subscription(url, ["incident.opened"], secret=secret)
for payload in json.load(open(payloads_file, encoding="utf-8")):
    ids = publish("incident.opened", payload)
    print("ACK", payload["event_id"], *ids, flush=True)
start_consumer(workers=workers, tick=0.05, poll=0.05)
print("CONSUMING", flush=True)
time.sleep(120)  # the test kills this process long before; bounded in case it does not
"""

# The service after the crash: only start the consumer (which recovers what the crash lost).
RECOVERY = r"""
import sys, time
from monitoring.delivery import start_consumer
start_consumer(workers=int(sys.argv[1]), tick=0.05, poll=0.05)
print("CONSUMING", flush=True)
time.sleep(120)
"""


@dataclass
class Seen:
    delivery_id: str
    event_id: str
    headers: dict[str, str]
    body: bytes
    at: float  # when it arrived (time.monotonic)
    answered_at: float | None = None  # when the 200 was written back


@dataclass
class SlowReceiver:
    """Records every complete POST on arrival, holds it HOLD seconds, then answers 200. While the
    gate is closed, held requests are not answered at all (they stay in flight)."""

    hold: float = HOLD
    seen: list[Seen] = field(default_factory=list)
    in_flight: set[int] = field(default_factory=set)  # indexes into seen, not yet answered
    answered: int = 0
    gate_open: bool = True
    cond: threading.Condition = field(default_factory=threading.Condition)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/crm"

    def start(self) -> SlowReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 5

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if len(body) < length:
                    return  # the sender died mid-request: nothing was delivered
                seen = Seen(self.headers.get("X-Yuqing-Delivery") or "", json.loads(body).get("id") or "",
                            dict(self.headers.items()), body, time.monotonic())
                hard_deadline = time.monotonic() + 30  # never hold a thread forever
                with receiver.cond:
                    receiver.seen.append(seen)
                    index = len(receiver.seen) - 1
                    receiver.in_flight.add(index)
                    answer_at = time.monotonic() + receiver.hold
                    while time.monotonic() < hard_deadline:
                        remaining = answer_at - time.monotonic()
                        if remaining <= 0 and receiver.gate_open:
                            break
                        receiver.cond.wait(timeout=remaining if remaining > 0 else 0.5)
                    receiver.in_flight.discard(index)  # atomically with the gate check
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                    self.wfile.flush()
                except OSError:
                    return  # the sender was killed while we held its request
                with receiver.cond:
                    receiver.answered += 1
                    seen.answered_at = time.monotonic()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.handle_error = lambda request, address: None  # a killed client is expected here
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def set_gate(self, is_open: bool) -> None:
        with self.cond:
            self.gate_open = is_open
            self.cond.notify_all()

    def snapshot(self):
        with self.cond:
            return list(self.seen), set(self.in_flight), self.answered

    def stop(self) -> None:
        self.set_gate(True)
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines() if path.exists() else []


def _tail(path: Path, limit: int = 3000) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-limit:] if path.exists() else ""


def _spawn(script: str, args: list[str], env: dict[str, str], log_prefix: Path) -> subprocess.Popen:
    # The child keeps its own copies of the descriptors; ours close when the block ends.
    with open(log_prefix.with_suffix(".out"), "w", encoding="utf-8") as out, \
            open(log_prefix.with_suffix(".err"), "w", encoding="utf-8") as err:
        return subprocess.Popen([sys.executable, "-c", script, *args], cwd=REPO_ROOT, env=env,
                                stdout=out, stderr=err, stdin=subprocess.DEVNULL)


def _wait(condition, timeout: float, what: str, procs=(), logs=()):
    """Poll until condition() is truthy; fail early if a service process died, or at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        for proc, log in zip(procs, logs):
            if proc.poll() is not None:
                raise AssertionError(f"{what}: service exited with {proc.returncode}\n{_tail(log)}")
        time.sleep(0.02)
    raise AssertionError(f"{what}: not within {timeout} s\n" + "\n".join(_tail(log) for log in logs))


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)


def test_no_delivery_lost_across_kill_9_and_duplicates_keep_their_id(tmp_path):
    data_dir = tmp_path / "data"
    secret = "whsec_" + secrets.token_urlsafe(24)
    payloads = [sample_payload(event_id=f"evt_kill9_{i:03d}", title=f"澜山乳业舆情事件 #{i}",
                               incident_id=f"inc-kill9-{i:03d}") for i in range(N_EVENTS)]
    payloads_file = tmp_path / "payloads.json"
    payloads_file.write_text(json.dumps(payloads, ensure_ascii=False), encoding="utf-8")

    env = {k: v for k, v in os.environ.items()
           if not k.startswith("YUQING_") and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env.update(YUQING_DATA_DIR=str(data_dir), YUQING_DELIVERY_BACKOFF_BASE="0.05",
               YUQING_DELIVERY_BACKOFF_CAP="0.2", YUQING_DELIVERY_TIMEOUT="10",
               YUQING_DELIVERY_MAX_ATTEMPTS="6", NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost",
               PYTHONUNBUFFERED="1")

    receiver = SlowReceiver()
    first = second = None
    first_log, second_log = tmp_path / "first", tmp_path / "second"
    try:
        receiver.start()
        first = _spawn(SERVICE, [receiver.url, secret, str(payloads_file), str(WORKERS)], env, first_log)
        first_err, second_err = first_log.with_suffix(".err"), second_log.with_suffix(".err")

        # Every event acknowledged (publish returned), and deliveries under way.
        def acks():
            lines = [line.split() for line in _lines(first_log.with_suffix(".out")) if line.startswith("ACK ")]
            return lines if len(lines) == N_EVENTS else None

        acked = _wait(acks, 20, "all events acknowledged", [first], [first_err])
        acked_ids = {parts[1]: parts[2:] for parts in acked}
        assert len(acked_ids) == N_EVENTS and all(len(ids) == 1 for ids in acked_ids.values())
        _wait(lambda: receiver.snapshot()[2] >= 1, 20, "a first delivery answered", [first], [first_err])

        # Close the gate so that whatever is held now stays in flight, make sure something is, and kill -9.
        receiver.set_gate(False)
        _wait(lambda: receiver.snapshot()[1], 10, "a delivery in flight", [first], [first_err])
        kill_sent = time.monotonic()
        os.kill(first.pid, signal.SIGKILL)
        assert first.wait(timeout=10) == -signal.SIGKILL
        killed = time.monotonic()
        seen_before, in_flight_at_kill, _ = receiver.snapshot()
        in_flight_ids = {seen_before[i].delivery_id for i in in_flight_at_kill}
        received_before = {s.event_id for s in seen_before}
        assert in_flight_ids, "the kill did not happen during a delivery"
        assert len(received_before) < N_EVENTS, "every event was out before the kill: nothing to recover"
        receiver.set_gate(True)  # the held requests now answer a dead client

        # Restart on the same data dir: the consumer alone must finish the job.
        recovery_started = time.monotonic()
        second = _spawn(RECOVERY, [str(WORKERS)], env, second_log)

        def accepted_events() -> set[str]:
            """Events the receiver answered 200 to a live sender: before the kill was sent, or received
            after the first process was gone. An answer to a request held across the kill is not."""
            return {s.event_id for s in receiver.snapshot()[0]
                    if s.answered_at is not None and (s.answered_at < kill_sent or s.at > killed)}

        _wait(lambda: accepted_events() >= set(acked_ids), 30, "every acknowledged event accepted",
              [second], [second_err])
        store = DeliveryStore(data_dir / "delivery" / "delivery.db")
        _wait(lambda: store.counts() == {"delivered": N_EVENTS}, 15, "every delivery recorded as delivered",
              [second], [second_err])
        recovery_seconds = time.monotonic() - recovery_started
        _stop(second)

        seen, _, _ = receiver.snapshot()
        by_event: dict[str, list[Seen]] = defaultdict(list)
        for s in seen:
            by_event[s.event_id].append(s)

        # None lost: every acknowledged event reached the receiver and was accepted, under the id
        # publish returned.
        assert set(by_event) == set(acked_ids) == accepted_events()
        for event_id, requests in by_event.items():
            # Duplicates carry the same delivery id: the one publish returned for that event.
            assert {r.delivery_id for r in requests} == set(acked_ids[event_id]), event_id
            assert len({r.body for r in requests}) == 1, f"{event_id} was sent with different bodies"
            for r in requests:
                assert r.headers.get("X-Yuqing-Event") == "incident.opened"
                assert verify_signature(secret, r.headers, r.body)
                assert json.loads(r.body)["data"]["incident_id"] == event_id.replace("evt_", "inc-").replace("_", "-")

        # The crash is the only source of duplicates: once before it, once on recovery, never more.
        counts = Counter(s.delivery_id for s in seen)
        duplicated = {d for d, n in counts.items() if n > 1}
        assert max(counts.values()) <= 2, counts
        assert in_flight_ids <= duplicated  # what the kill interrupted was sent again, same id
        assert store.counts() == {"delivered": N_EVENTS}
        print(f"\nkill -9 with {len(in_flight_ids)} in flight, {len(received_before)}/{N_EVENTS} events out before;"
              f" recovery took {recovery_seconds:.1f} s; {len(duplicated)} duplicate(s), same ids")
    finally:
        _stop(first)
        _stop(second)
        receiver.stop()
