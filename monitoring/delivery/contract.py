"""Bring a published payload to the documented contract (PAYLOADS.md).

The engine may send the flat contract, or its own nested shapes ({"alert": {...}} for alerts,
{"incident": {...describe()...}} for incidents, with "subject_name"). Missing top-level fields are
filled from the nested ones, which are kept as they are, so receivers can always rely on
subject / severity / title / drivers / first_steps / incident_id / link / mention_ids / occurred_at."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from yuqing.labels import CRISIS_TYPE

MAX_FIRST_STEPS = 3
OCCURRED_AT_KEYS = {  # where an incident event's time is, by event type
    "incident.resolved": ("resolved_at", "last_alert_at", "opened_at"),
    "incident.escalated": ("last_alert_at", "opened_at"),
}


def _first(*values: Any) -> Any:
    return next((v for v in values if v not in (None, "", [], {})), None)


def _subject(payload: Mapping, alert: Mapping, incident: Mapping) -> dict:
    given = payload.get("subject")
    if isinstance(given, Mapping):
        return dict(given)
    subject_id = _first(given, alert.get("subject"), incident.get("subject"))
    return {"id": subject_id, "name": _first(payload.get("subject_name"), subject_id)}


def _first_steps(incident: Mapping) -> list[dict]:
    """The open steps of the incident's plan, soonest first: what people should do now."""
    open_steps = [s for s in incident.get("steps") or [] if not s.get("done_at") and not s.get("done_ts")]
    open_steps.sort(key=lambda s: s.get("due_ts") or 0)
    return [{"action": s.get("action"), "owner": s.get("owner"), "due_at": s.get("due_at")}
            for s in open_steps[:MAX_FIRST_STEPS]]


def _title(payload: Mapping, incident: Mapping, subject: Mapping) -> str:
    if payload.get("title"):
        return str(payload["title"])
    description = str(incident.get("description") or "").strip()
    if description:
        return description.splitlines()[0][:60]
    crisis = CRISIS_TYPE.get(str(payload.get("crisis_type") or incident.get("crisis_type")), "负面舆情")
    return f"{subject.get('name') or ''}{'负面舆情' if crisis == CRISIS_TYPE['none'] else crisis}"


def _occurred_at(event_type: str, alert: Mapping, incident: Mapping) -> Any:
    keys = OCCURRED_AT_KEYS.get(event_type, ("last_alert_at", "opened_at"))
    return _first(alert.get("fired_at"), *(incident.get(k) for k in keys))


def normalise_payload(event_type: str, payload: Mapping[str, Any], link_template: str | None = None) -> dict:
    """The payload with every contract field present (None/empty when nothing provides it)."""
    alert = payload.get("alert") if isinstance(payload.get("alert"), Mapping) else {}
    incident = payload.get("incident") if isinstance(payload.get("incident"), Mapping) else {}
    subject = _subject(payload, alert, incident)
    incident_id = _first(payload.get("incident_id"), alert.get("incident_id"), incident.get("id"))
    link = payload.get("link")
    if not link and link_template and incident_id:
        link = link_template.format(incident_id=incident_id, subject_id=subject.get("id") or "")
    return {
        **payload,
        "subject": subject,
        "severity": _first(payload.get("severity"), alert.get("severity"), incident.get("severity")),
        "title": _title(payload, incident, subject),
        "crisis_type": _first(payload.get("crisis_type"), incident.get("crisis_type")),
        "drivers": _first(payload.get("drivers"), alert.get("drivers")) or {},
        "first_steps": _first(payload.get("first_steps"), _first_steps(incident)) or [],
        "incident_id": incident_id,
        "link": link,
        "mention_ids": _first(payload.get("mention_ids"), alert.get("mention_ids")) or [],
        "occurred_at": _first(payload.get("occurred_at"), _occurred_at(event_type, alert, incident)),
    }
