"""Signing of generic webhook deliveries, and the check receivers run (stdlib only, so a receiver
can copy this file).

    X-Yuqing-Timestamp: <unix seconds>
    X-Yuqing-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>

The timestamp is inside the signed text, so an old request cannot be replayed with a fresh one."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping

TIMESTAMP_HEADER = "X-Yuqing-Timestamp"
SIGNATURE_HEADER = "X-Yuqing-Signature"
DELIVERY_HEADER = "X-Yuqing-Delivery"
EVENT_HEADER = "X-Yuqing-Event"
DEFAULT_TOLERANCE = 300  # seconds; older (or further in the future) is treated as a replay


class SignatureError(ValueError):
    """The request is not from us, was altered, or is a replay."""


def signature(secret: str, timestamp: str | int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, *, delivery_id: str, event_type: str,
                   now: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if now is None else now))
    return {
        "Content-Type": "application/json; charset=utf-8",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        DELIVERY_HEADER: delivery_id,
        EVENT_HEADER: event_type,
    }


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)  # email.message.Message (http.server) is already case-insensitive
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def verify_signature(secret: str | Iterable[str], headers: Mapping[str, str], body: bytes,
                     now: float | None = None, tolerance: float = DEFAULT_TOLERANCE) -> bool:
    """Return True for a genuine, fresh request; raise SignatureError otherwise.

    `secret` may be several secrets (old and new while a secret is being rotated)."""
    timestamp = _header(headers, TIMESTAMP_HEADER)
    received = _header(headers, SIGNATURE_HEADER)
    if not timestamp or not received:
        raise SignatureError("missing timestamp or signature header")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise SignatureError("timestamp is not an integer") from None
    now = time.time() if now is None else now
    if abs(now - sent_at) > tolerance:
        raise SignatureError(f"timestamp is {int(now - sent_at)} s away from now (replay?)")
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not any(hmac.compare_digest(signature(s, timestamp, body), received.strip()) for s in secrets):
        raise SignatureError("signature does not match")
    return True
