"""The Dispatcher: publish() fans an event out to subscriptions and routed people channels,
records each delivery and queues it before returning; huey workers make the attempts.

    dispatcher = Dispatcher()                      # settings from YUQING_* variables
    dispatcher.create_subscription("https://crm.example.com/hooks/yuqing", ["incident.opened"])
    dispatcher.start_consumer()                    # or run: huey_consumer monitoring.delivery.worker.huey
    dispatcher.publish("incident.opened", payload) # → delivery ids
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

import yaml
from huey import crontab
from huey.exceptions import RetryTask

from monitoring.delivery.channels import DeliveryError, Outgoing, send_to_channel
from monitoring.delivery.contract import normalise_payload
from monitoring.delivery.events import EVENT_TYPES, check_event_type, envelope, routed_channels
from monitoring.delivery.events import delivery_id as make_delivery_id
from monitoring.delivery.queue import EmbeddedConsumer, make_huey
from monitoring.delivery.settings import DeliverySettings
from monitoring.delivery.store import DEAD, DELIVERED, PENDING, Delivery, DeliveryStore, NewDelivery, Subscription, iso, utcnow

log = logging.getLogger("yuqing.delivery")

RECOVERY_AGE = timedelta(minutes=5)  # pending and untouched this long, and not queued: the queue lost it
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class Undeliverable(DeliveryError):
    """Retrying cannot help (target removed or paused): straight to the dead-letter list."""


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _expand_env(value: Any) -> Any:
    """Channel files name secrets as ${VAR} so that the file itself holds none."""
    if isinstance(value, str):
        def lookup(match: re.Match) -> str:
            if match.group(1) not in os.environ:
                raise Undeliverable(f"environment variable {match.group(1)} is not set")
            return os.environ[match.group(1)]
        return _ENV_REFERENCE.sub(lookup, value)
    if isinstance(value, list):
        return [_expand_env(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _expand_env(v) for k, v in value.items()}
    return value


def _check_events(events: Iterable[str]) -> list[str]:
    events = list(events)
    for event in events:
        if event != "*":
            check_event_type(event)
    return events or ["*"]


class Dispatcher:
    def __init__(self, settings: DeliverySettings | None = None,
                 channels: Mapping[str, Mapping[str, Any]] | None = None, rng: random.Random | None = None):
        """`channels` names people channels; without it they are read from settings.channels_path
        (YAML or JSON, re-read at each send so that edits apply to queued deliveries)."""
        self.settings = settings or DeliverySettings.from_env()
        self.store = DeliveryStore(self.settings.database_path)
        self.huey = make_huey(self.settings)
        self._channels = dict(channels) if channels is not None else None
        self._rng = rng or random.Random()
        self._consumer: EmbeddedConsumer | None = None
        self._consumer_thread: threading.Thread | None = None
        self._deliver = self.huey.task(name="deliver")(self._attempt)
        self.huey.periodic_task(crontab(minute="*/5"), name="recover")(self._recover_lost)

    # ---- publishing -------------------------------------------------------------------------

    def publish(self, event_type: str, payload: Mapping[str, Any]) -> list[str]:
        """Record and queue one delivery per interested subscription and routed channel; return
        their ids. Publishing the same event again returns the same ids and queues nothing new."""
        check_event_type(event_type)
        if hasattr(payload, "model_dump"):
            payload = payload.model_dump(mode="json")
        payload = normalise_payload(event_type, payload, self.settings.incident_url)
        body = envelope(event_type, payload)
        text = json.dumps(body, ensure_ascii=False, default=str)
        rows = [NewDelivery(make_delivery_id(body["id"], target), body["id"], event_type, target, inline, text)
                for target, inline in self._targets(event_type, payload)]
        for new_id in self.store.insert_deliveries(rows):
            self._deliver(new_id)  # if this raises, recovery re-queues the recorded rows later
        return [row.id for row in rows]

    def _targets(self, event_type: str, payload: Mapping[str, Any]) -> list[tuple[str, dict | None]]:
        targets = [(f"subscription:{s.id}", None) for s in self.store.subscriptions() if s.wants(event_type)]
        for ref in routed_channels(payload.get("routing"), payload.get("severity"), event_type):
            targets.append((ref.target, ref.inline))
        return targets

    # ---- one attempt (runs in a huey worker) ------------------------------------------------

    def _attempt(self, delivery_id: str) -> None:
        attempt = self.store.begin_attempt(delivery_id)
        if attempt is None:
            return  # delivered or dead already: a duplicate queue entry
        delivery = self.store.delivery(delivery_id)
        started = time.monotonic()
        try:
            self._send(delivery)
        except Exception as error:  # every failure is recorded and retried, whatever raised it
            self._failed(delivery, attempt, error, started)
        else:
            self.store.finish_attempt(delivery.id, attempt, error=None, status=DELIVERED,
                                      duration_ms=_ms_since(started))
            log.info("delivered %s (%s → %s) on attempt %d", delivery.id, delivery.event_type,
                     delivery.target, attempt)

    def _failed(self, delivery: Delivery, attempt: int, error: Exception, started: float) -> None:
        message = str(error) if isinstance(error, DeliveryError) else f"{type(error).__name__}: {error}"
        if attempt >= self.settings.max_attempts or isinstance(error, Undeliverable):
            self.store.finish_attempt(delivery.id, attempt, error=message, status=DEAD,
                                      duration_ms=_ms_since(started))
            log.warning("dead letter %s (%s → %s) after %d attempts: %s", delivery.id,
                        delivery.event_type, delivery.target, attempt, message)
            return
        delay = self.backoff(attempt)
        self.store.finish_attempt(delivery.id, attempt, error=message, duration_ms=_ms_since(started),
                                  next_attempt_at=utcnow() + timedelta(seconds=delay))
        log.info("attempt %d of %s failed (%s); next in %.1f s", attempt, delivery.id, message, delay)
        raise RetryTask(delay=delay)  # huey re-schedules the same task

    def backoff(self, attempt: int) -> float:
        """Exponential, capped, with jitter (half fixed, half random) so that receivers coming back
        from an outage are not hit by every delivery at the same second."""
        ceiling = min(self.settings.backoff_cap, self.settings.backoff_base * 2 ** (attempt - 1))
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def _send(self, delivery: Delivery) -> None:
        config = self._target_config(delivery)
        outgoing = Outgoing(delivery.id, delivery.event_type, delivery.body,
                            self.settings.timezone, self.settings.request_timeout)
        send_to_channel(config, outgoing)

    def _target_config(self, delivery: Delivery) -> Mapping[str, Any]:
        kind, _, name = delivery.target.partition(":")
        if kind == "subscription":
            sub = self.store.subscription(name)
            if sub is None:
                raise Undeliverable(f"subscription {name} was removed")
            if not sub.active:
                raise Undeliverable(f"subscription {name} is paused")
            return {"type": "webhook", "url": sub.url, "secret": sub.secret}
        config = delivery.channel or self.channel_configs().get(name)
        if config is None:
            raise Undeliverable(f"no channel named {name!r} in {self.settings.channels_path}")
        return _expand_env(config)

    def channel_configs(self) -> dict[str, Mapping[str, Any]]:
        if self._channels is not None:
            return self._channels
        path = self.settings.channels_path
        if not path.exists():
            return {}
        text = path.read_text(encoding="utf-8")
        return (json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)) or {}

    # ---- subscriptions ----------------------------------------------------------------------

    def create_subscription(self, url: str, events: Iterable[str] = ("*",), *, secret: str | None = None,
                            description: str = "", active: bool = True) -> Subscription:
        """The returned subscription carries its secret: show it once to the receiver's owner."""
        if not url.startswith(("http://", "https://")):
            raise ValueError("subscription URL must be http(s)")
        sub = Subscription("sub_" + secrets.token_hex(8), url, secret or new_secret(), _check_events(events),
                           active, description, iso(utcnow()))
        self.store.add_subscription(sub)
        return sub

    def list_subscriptions(self) -> list[Subscription]:
        return self.store.subscriptions()

    def get_subscription(self, sub_id: str) -> Subscription | None:
        return self.store.subscription(sub_id)

    def delete_subscription(self, sub_id: str) -> bool:
        return self.store.delete_subscription(sub_id)

    def rotate_secret(self, sub_id: str) -> str:
        """A new secret, used from the next attempt on (queued deliveries included). Receivers can
        accept old and new for a while: verify_signature takes a list of secrets."""
        secret = new_secret()
        if not self.store.update_subscription(sub_id, secret=secret):
            raise KeyError(sub_id)
        return secret

    def set_active(self, sub_id: str, active: bool) -> bool:
        return self.store.update_subscription(sub_id, active=active)

    def update_events(self, sub_id: str, events: Iterable[str]) -> bool:
        return self.store.update_subscription(sub_id, events=_check_events(events))

    # ---- inspection and replay --------------------------------------------------------------

    def deliveries(self, status: str | None = None, limit: int = 100) -> list[Delivery]:
        return self.store.deliveries(status, limit)

    def dead_letters(self, limit: int = 100) -> list[Delivery]:
        return self.store.deliveries(DEAD, limit)

    def delivery(self, delivery_id: str) -> Delivery | None:
        return self.store.delivery(delivery_id)

    def attempts(self, delivery_id: str) -> list[dict]:
        return self.store.attempts(delivery_id)

    def replay(self, delivery_id: str) -> bool:
        """Give a dead delivery a fresh attempt budget and queue it (same delivery id)."""
        if not self.store.reopen(delivery_id):
            return False
        self._deliver(delivery_id)
        return True

    def replay_dead(self, limit: int = 1000) -> list[str]:
        return [d.id for d in self.dead_letters(limit) if self.replay(d.id)]

    # ---- recovery and the consumer ----------------------------------------------------------

    def recover(self, older_than: timedelta = timedelta(0)) -> list[str]:
        """Re-queue pending deliveries the queue no longer holds (a worker killed mid-attempt, or
        a crash between recording and queueing). A delivery another live consumer is sending at
        this moment may go out twice, with the same delivery id, which receivers de-duplicate."""
        candidates = self.store.stale_pending(older_than)  # read before the queue: see publish()
        queued = self._queued_ids()
        lost = [d for d in candidates if d not in queued]
        for lost_id in lost:
            self._deliver(lost_id)
        if lost:
            log.warning("re-queued %d deliveries the queue had lost", len(lost))
        return lost

    def _recover_lost(self) -> None:
        self.recover(RECOVERY_AGE)

    def _queued_ids(self) -> set[str]:
        tasks = self.huey.pending() + self.huey.scheduled()
        return {t.args[0] for t in tasks if t.args}

    def start_consumer(self, workers: int = 2, tick: float = 1.0, poll: float = 1.0) -> None:
        """Run huey workers as daemon threads of this process, after re-queueing what a previous
        run lost. `tick`: how often scheduled retries are checked; `poll`: longest idle wait."""
        if self._consumer is not None:
            return
        self.recover()
        self._consumer = EmbeddedConsumer(self.huey, workers=workers, tick=tick, poll=poll,
                                          shutdown_timeout=self.settings.request_timeout + 5)
        self._consumer_thread = threading.Thread(target=self._consumer.run, name="yuqing-delivery",
                                                 daemon=True)
        self._consumer_thread.start()

    def stop_consumer(self) -> None:
        """Let attempts in progress finish (bounded by the request timeout), then stop. Queued and
        scheduled deliveries stay in the queue for the next start."""
        if self._consumer is None:
            return
        self._consumer.stop(graceful=True)
        self._consumer_thread.join(timeout=self.settings.request_timeout + 10)
        self._consumer = self._consumer_thread = None

    def close(self) -> None:
        self.stop_consumer()
        self.huey.storage.close()

    def counts(self) -> dict[str, int]:
        return {PENDING: 0, DELIVERED: 0, DEAD: 0, **self.store.counts()}


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


__all__ = ["EVENT_TYPES", "Dispatcher", "Undeliverable", "new_secret"]
