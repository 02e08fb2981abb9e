"""Where alerts go: signed webhooks to linked systems (CRM / ERP / PRM …) and people's channels
(企业微信, 飞书, 钉钉, e-mail), through a durable huey queue with retries and a dead-letter list.

The monitoring engine calls `publish(event_type, payload)`; see PAYLOADS.md for what receivers get."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from monitoring.delivery.dispatcher import Dispatcher, Undeliverable
from monitoring.delivery.events import EVENT_TYPES
from monitoring.delivery.settings import DeliverySettings
from monitoring.delivery.signing import SignatureError, signed_headers, verify_signature

_default: Dispatcher | None = None
_default_lock = threading.Lock()


def get_dispatcher() -> Dispatcher:
    """The process-wide Dispatcher, configured from YUQING_* environment variables."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Dispatcher(DeliverySettings.from_env())
        return _default


def publish(event_type: str, payload: Mapping[str, Any]) -> list[str]:
    """Record and queue the event's deliveries (returns once they are durable); their ids."""
    return get_dispatcher().publish(event_type, payload)


def start_consumer(**options) -> None:
    get_dispatcher().start_consumer(**options)


def stop_consumer() -> None:
    if _default is not None:
        _default.stop_consumer()


__all__ = ["EVENT_TYPES", "DeliverySettings", "Dispatcher", "SignatureError", "Undeliverable",
           "get_dispatcher", "publish", "signed_headers", "start_consumer", "stop_consumer",
           "verify_signature"]
