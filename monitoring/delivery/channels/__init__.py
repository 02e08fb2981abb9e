"""People channels and the generic signed webhook. Each vendor's format lives in its own module
with one function, `send(config, outgoing)`, that raises DeliveryError when the attempt failed."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from monitoring.delivery.channels._http import DeliveryError
from monitoring.delivery.message import Notice


@dataclass(frozen=True)
class Outgoing:
    """One delivery attempt's content, as stored in the deliveries table."""

    delivery_id: str
    event_type: str
    body: str  # the JSON envelope, sent byte-for-byte by webhooks
    timezone: str = "Asia/Shanghai"
    timeout: float = 10.0

    @property
    def envelope(self) -> dict:
        return json.loads(self.body)

    @property
    def notice(self) -> Notice:
        return Notice.from_event(self.event_type, self.envelope["data"], self.timezone)


Sender = Callable[[Mapping[str, Any], Outgoing], None]


def _senders() -> dict[str, Sender]:
    from monitoring.delivery.channels import dingtalk, feishu, smtp, webhook, wecom

    return {"wecom": wecom.send, "feishu": feishu.send, "dingtalk": dingtalk.send,
            "email": smtp.send, "smtp": smtp.send, "webhook": webhook.send}


CHANNEL_TYPES = ("wecom", "feishu", "dingtalk", "email", "webhook")


def send_to_channel(config: Mapping[str, Any], outgoing: Outgoing) -> None:
    kind = config.get("type")
    sender = _senders().get(kind)
    if sender is None:
        raise DeliveryError(f"unknown channel type {kind!r}; expected one of {', '.join(CHANNEL_TYPES)}")
    sender(config, outgoing)


__all__ = ["CHANNEL_TYPES", "DeliveryError", "Outgoing", "send_to_channel"]
