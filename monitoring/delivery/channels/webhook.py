"""The generic signed webhook, for linked systems (CRM / ERP / PRM …) and custom relays.

    POST <url>
    Content-Type: application/json; charset=utf-8
    X-Yuqing-Event: incident.opened
    X-Yuqing-Delivery: dlv_…            (the same on every retry: receivers de-duplicate on it)
    X-Yuqing-Timestamp: 1717400000
    X-Yuqing-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>

    body: the event envelope {"id", "type", "created_at", "data"} (PAYLOADS.md)

Any 2xx answer is success; anything else is retried.

config: {type: webhook, url: ..., secret: ...}"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitoring.delivery.channels._http import DeliveryError, post
from monitoring.delivery.signing import signed_headers


def send(config: Mapping[str, Any], outgoing, now: float | None = None) -> None:
    if not config.get("url") or not config.get("secret"):
        raise DeliveryError("webhook needs 'url' and 'secret'")
    body = outgoing.body.encode()
    headers = signed_headers(str(config["secret"]), body, delivery_id=outgoing.delivery_id,
                             event_type=outgoing.event_type, now=now)
    headers["User-Agent"] = "yuqing-delivery/1"
    post(str(config["url"]), body, headers, outgoing.timeout)
