"""Events the monitoring engine publishes: their names, stable ids, the JSON body receivers get,
and which people channels a subject's routing picks for an event."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from yuqing.labels import SEVERITY

EVENT_TYPES: dict[str, str] = {
    "alert.raised": "舆情预警",
    "incident.opened": "事件立案",
    "incident.escalated": "事件升级",
    "step.due": "处置步骤即将到期",
    "step.overdue": "处置步骤已超时",
    "incident.resolved": "事件已处置完毕",
}
SEVERITY_BY_NAME = {name: sid for sid, name in SEVERITY.items()}
ALL_SEVERITIES = ("*", "all", "全部")  # routing keys whose channels get every severity


def normalise_severity(value: Any) -> str | None:
    """'major' or '重大' → 'major'; anything else → None."""
    if value in SEVERITY:
        return value
    return SEVERITY_BY_NAME.get(value)


def check_event_type(event_type: str) -> None:
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}; expected one of {', '.join(EVENT_TYPES)}")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def public_data(payload: Mapping[str, Any]) -> dict:
    """What receivers see: the payload without the internal routing config, severity as its id
    plus its Chinese name."""
    data = {k: v for k, v in payload.items() if k != "routing"}
    severity = normalise_severity(payload.get("severity"))
    if severity:
        data["severity"] = severity
        data["severity_zh"] = SEVERITY[severity]
    return data


def event_id(event_type: str, payload: Mapping[str, Any]) -> str:
    """The payload's own event_id, else a hash of the event: publishing the same event again (the
    engine retrying after a crash) gives the same id, hence the same delivery ids."""
    if payload.get("event_id"):
        return str(payload["event_id"])
    return "evt_" + _digest(event_type + "\n" + canonical_json(public_data(payload)))


def delivery_id(event_id_: str, target: str) -> str:
    return "dlv_" + _digest(event_id_ + "|" + target)


def envelope(event_type: str, payload: Mapping[str, Any], now: datetime | None = None) -> dict:
    """The JSON body of a generic webhook delivery (documented in PAYLOADS.md)."""
    created = (now or datetime.now(UTC)).astimezone(UTC)
    return {
        "id": event_id(event_type, payload),
        "type": event_type,
        "created_at": created.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "data": public_data(payload),
    }


@dataclass(frozen=True)
class ChannelRef:
    """A people channel picked by routing: a name from the channels file, or an inline config."""

    name: str
    inline: dict | None = None

    @property
    def target(self) -> str:
        return f"channel:{self.name}"


def _as_ref(item: Any) -> ChannelRef:
    if isinstance(item, str):
        return ChannelRef(item)
    if isinstance(item, Mapping) and item.get("type"):
        name = item.get("name") or f"inline-{item['type']}-{_digest(canonical_json(dict(item)))[:8]}"
        return ChannelRef(str(name), dict(item))
    raise ValueError(f"routing entry must be a channel name or a mapping with 'type': {item!r}")


def _entry_channels(entry: Any, event_type: str) -> list[Any]:
    """An entry is a list of channels, or {channels: [...], events: [...]} to limit the events."""
    if isinstance(entry, Mapping):
        events = entry.get("events")
        if events and event_type not in events:
            return []
        return list(entry.get("channels") or [])
    return list(entry or [])


def routed_channels(routing: Mapping[str, Any] | None, severity: Any, event_type: str) -> list[ChannelRef]:
    """Channels for this severity (key: id or Chinese name) plus those under '*', without repeats.

    routing = {"minor": ["analysts"], "major": ["analysts", "leadership"],
               "*": {"channels": ["duty-mail"], "events": ["incident.opened"]}}"""
    if not routing:
        return []
    severity = normalise_severity(severity)
    entries = [v for k, v in routing.items() if k in ALL_SEVERITIES]
    entries += [v for k, v in routing.items() if severity and normalise_severity(k) == severity]
    refs: dict[str, ChannelRef] = {}
    for entry in entries:
        for item in _entry_channels(entry, event_type):
            ref = _as_ref(item)
            refs.setdefault(ref.name, ref)
    return list(refs.values())
