"""What the pages show, read from the monitoring store, the search layer, deliveries and MLflow.
Plain functions returning plain dicts, so the pages and the tests read the same figures."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from monitoring.incidents import ACTIVE, IncidentBook
from monitoring.store import Store, alert_row
from monitoring.subjects import Subject
from monitoring.timeutil import HOUR, from_ts, iso
from yuqing.labels import CRISIS_TYPE, SEVERITY

INTERVALS = {"1h": HOUR, "6h": 6 * HOUR, "1d": 24 * HOUR}
RULE_NAMES = {"negative_share": "负面占比", "viral": "单条爆发", "spike": "声量突增", "authority": "权威信源",
              "silence": "黄金时间内未回应"}
STATE_NAMES = {"open": "待处置", "responding": "处置中", "resolved": "已处置", "reopened": "重新打开"}


def pick_interval(span_seconds: float) -> str:
    if span_seconds <= 2.5 * 24 * HOUR:
        return "1h"
    return "6h" if span_seconds <= 15 * 24 * HOUR else "1d"


def buckets(rows: list[dict], start: float, end: float, width: float, tz: ZoneInfo) -> list[dict]:
    """Mentions per bucket by sentiment. `rows`: dicts with ts and sentiment."""
    first = start // width * width
    count = max(1, int((end - first) // width) + 1)
    out = [{"ts": first + i * width, "negative": 0, "neutral": 0, "positive": 0} for i in range(count)]
    for row in rows:
        index = int((row["ts"] - first) // width)
        if 0 <= index < count:
            out[index][row["sentiment"] if row["sentiment"] in ("negative", "positive") else "neutral"] += 1
    fmt = "%m-%d %H:00" if width < 24 * HOUR else "%m-%d"
    for b in out:
        b["label"] = from_ts(b["ts"], tz).strftime(fmt)
        b["total"] = b["negative"] + b["neutral"] + b["positive"]
        b["negative_share"] = round(b["negative"] / b["total"], 4) if b["total"] else None
    return out


def overview(store: Store, subjects: list[Subject], tz: ZoneInfo, interval: str | None = None, days: float = 7.0) -> dict:
    latest = store.latest_ts()
    ids = [r[0] for r in store.query("SELECT DISTINCT subject FROM mention_subjects")]
    known = {s.id: s for s in subjects}
    order = [s.id for s in subjects] + sorted(i for i in ids if i not in known)
    if latest is None:
        return {"subjects": [], "alerts": [], "latest": None, "interval": interval or "1h"}
    end = latest
    start = end - days * 24 * HOUR
    interval = interval if interval in INTERVALS else pick_interval(end - start)
    open_rows = store.query(f"SELECT subject, severity, COUNT(*) AS n FROM incidents WHERE state IN {ACTIVE} "
                            "GROUP BY subject, severity")
    open_by = {(r["subject"], r["severity"]): r["n"] for r in open_rows}
    sections = []
    for subject_id in order:
        rows = [dict(r) for r in store.query(
            "SELECT m.ts, m.sentiment FROM mention_subjects s JOIN mentions m ON m.id=s.mention_id "
            "WHERE s.subject=? AND s.ts>? AND s.ts<=? ORDER BY s.ts", (subject_id, start, end))]
        counts = Counter(r["sentiment"] for r in rows)
        labelled = sum(counts.values())
        subject = known.get(subject_id)
        sections.append({
            "id": subject_id, "name": subject.name if subject else subject_id,
            "mentions": len(rows), "sentiment": {k: counts.get(k, 0) for k in ("negative", "neutral", "positive")},
            "negative_share": round(counts.get("negative", 0) / labelled, 4) if labelled else None,
            "buckets": buckets(rows, start, end, INTERVALS[interval], tz),
            "open_incidents": {level: open_by.get((subject_id, level), 0) for level in ("major", "general", "minor")},
        })
    # the subjects that need attention first: open major incidents, then general, then negative share
    sections.sort(key=lambda s: (-s["open_incidents"]["major"], -s["open_incidents"]["general"],
                                 -(s["negative_share"] or 0.0)))
    alerts = [alert_row(r) for r in store.query("SELECT * FROM alerts ORDER BY ts DESC, id LIMIT 12")]
    for alert in alerts:
        alert["rule_name"] = RULE_NAMES.get(alert["rule"], alert["rule"])
        alert["subject_name"] = known[alert["subject"]].name if alert["subject"] in known else alert["subject"]
    return {"subjects": sections, "alerts": alerts, "latest": iso(latest, tz), "start": iso(start, tz),
            "interval": interval}


def incidents(store: Store, subjects: list[Subject]) -> list[dict]:
    known = {s.id: s for s in subjects}
    rows = store.query("SELECT i.*, (SELECT COUNT(*) FROM incident_mentions m WHERE m.incident_id=i.id) AS mentions, "
                       "(SELECT COUNT(*) FROM incident_steps s WHERE s.incident_id=i.id) AS steps, "
                       "(SELECT COUNT(*) FROM incident_steps s WHERE s.incident_id=i.id AND s.done_ts IS NOT NULL) AS done "
                       "FROM incidents i ORDER BY i.last_alert_ts DESC")
    return [{**dict(r), "subject_name": known[r["subject"]].name if r["subject"] in known else r["subject"]} for r in rows]


def incident_page(store: Store, subjects: list[Subject], incident_id: str, tz: ZoneInfo, now: float) -> dict:
    """An incident as its page shows it; raises monitoring.incidents.IncidentError if unknown."""
    known = {s.id: s for s in subjects}
    book = IncidentBook(store, known, lambda *_: None, tz)
    incident = book.describe(incident_id)
    mentions = book.incident_mentions(incident_id)
    for step in incident["steps"]:
        done_late = step["done_ts"] is not None and step["done_ts"] > step["due_ts"]
        overdue_now = step["done_ts"] is None and now > step["due_ts"] and incident["state"] != "resolved"
        step["status"] = "done_late" if done_late else "done" if step["done_ts"] else "overdue" if overdue_now else "pending"
        late_by = (step["done_ts"] or now) - step["due_ts"]
        step["late_hours"] = round(late_by / HOUR, 1) if late_by > 0 else 0
    incident_rows = [{"ts": m["ts"], "sentiment": m["sentiment"]} for m in mentions]
    chart, markers = [], []
    if mentions:
        first, last = mentions[0]["ts"], max(m["ts"] for m in mentions)
        done_ts = [s["done_ts"] for s in incident["steps"] if s["done_ts"]]
        last = max([last, *done_ts])
        width = HOUR if last - first <= 72 * HOUR else 6 * HOUR
        chart = buckets(incident_rows, first, last, width, tz)
        base = chart[0]["ts"]
        for s in incident["steps"]:
            if s["done_ts"]:
                markers.append({"index": int((s["done_ts"] - base) // width), "label": f"{s['no']}. {s['action'][:20]}（完成）"})
    subject = known.get(incident["subject"])
    top = sorted(mentions, key=lambda m: (-m["reposts"], m["ts"]))[:8]
    return {
        **incident,
        "subject_name": subject.name if subject else incident["subject"],
        "crisis_name": CRISIS_TYPE.get(incident["crisis_type"], incident["crisis_type"]),
        "severity_name": SEVERITY.get(incident["severity"], incident["severity"]),
        "state_name": STATE_NAMES.get(incident["state"], incident["state"]),
        "timeline": book.timeline(incident_id),
        "effects": book.step_effects(incident_id),
        "alerts": [{**a, "rule_name": RULE_NAMES.get(a["rule"], a["rule"])}
                   for a in store.alerts("incident_id=?", (incident_id,))],
        "chart": chart, "markers": markers, "top_mentions": [{**m, "at": iso(m["ts"], tz)} for m in top],
        "overdue": sum(s["status"] == "overdue" for s in incident["steps"]),
    }


def incident_deliveries(source, incident_id: str, limit: int = 1000) -> list[dict] | None:
    """Deliveries whose event concerns the incident (None when no delivery store is available)."""
    if source is None:
        return None
    rows = []
    for delivery in source.deliveries(limit=limit):
        try:
            body = json.loads(delivery.body)
        except ValueError:
            continue
        if incident_id not in json.dumps(body.get("data", {}), ensure_ascii=False):
            continue
        rows.append({"id": delivery.id, "event_type": delivery.event_type, "target": delivery.target,
                     "status": delivery.status, "attempts": delivery.attempts, "last_error": delivery.last_error,
                     "created_at": delivery.created_at, "delivered_at": delivery.delivered_at,
                     "next_attempt_at": delivery.next_attempt_at})
    return rows


def similar_cases(runtime, text: str, crisis_type: str, k: int = 5) -> list[dict]:
    """The library's cases nearest the incident, preferring its crisis type, with what worked and failed."""
    embedding = None
    try:
        embedding = runtime.classify([text])[0].embedding
    except Exception:  # a model problem leaves keyword retrieval
        embedding = None
    types = [crisis_type] if crisis_type and crisis_type != "none" else []
    hits = runtime.find_cases(text, embedding, types, k) if types else \
        [h.model_dump() for h in runtime.backend.hybrid("cases", text, embedding, k=k)]
    return [case_summary(hit) for hit in hits]


def case_summary(hit: dict) -> dict:
    case = hit["source"]
    return {"id": hit["id"], "score": hit.get("score"), "why": hit.get("why", ""), "title": case.get("title", hit["id"]),
            "crisis_type": case.get("crisis_type"), "severity": case.get("severity"),
            "organisation": case.get("organisation"), "industry": case.get("industry"),
            "worked": [a["action"] for a in case.get("actions", []) if a.get("effective")],
            "failed": [a["action"] for a in case.get("actions", []) if not a.get("effective")],
            "what_went_wrong": (case.get("outcome") or {}).get("what_went_wrong", ""),
            "lessons": case.get("lessons", [])}


# ---- models (MLflow) ------------------------------------------------------------------------------

def models_page(client_factory, model_name: str, alias: str) -> dict:
    """Champion, its figures and the other versions; {"error": …} when there is no registry."""
    try:
        client = client_factory()
        versions = client.search_model_versions(f"name='{model_name}'")
    except Exception as error:  # no tracking store, no registry, a server down: say so
        return {"error": f"无法读取模型注册表：{type(error).__name__}: {str(error)[:200]}", "versions": [], "champion": None}
    try:
        champion = client.get_model_version_by_alias(model_name, alias)
        champion_version = str(champion.version)
    except Exception:
        champion_version = None
    rows = []
    for v in sorted(versions, key=lambda v: int(v.version), reverse=True)[:30]:
        metrics, params = {}, {}
        try:
            run = client.get_run(v.run_id) if v.run_id else None
            if run is not None:
                metrics, params = dict(run.data.metrics), dict(run.data.params)
        except Exception:
            pass
        created = getattr(v, "creation_timestamp", None)
        rows.append({
            "version": str(v.version), "aliases": list(getattr(v, "aliases", []) or []),
            "champion": str(v.version) == champion_version,
            "kind": params.get("model", "—"), "members": params.get("members"),
            "created": datetime.fromtimestamp(created / 1000).strftime("%Y-%m-%d %H:%M") if created else "—",
            "dev_mean": metrics.get("dev_macro_f1_mean"), "heldout_mean": metrics.get("heldout_macro_f1_mean"),
            "train_seconds": metrics.get("train_seconds"),
            "tasks": {split: {task: {"f1": metrics.get(f"{split}_{task}_macro_f1"),
                                     "accuracy": metrics.get(f"{split}_{task}_accuracy")}
                              for task in ("sentiment", "topic", "crisis_type")} for split in ("dev", "heldout")},
        })
    champion_row = next((r for r in rows if r["champion"]), None)
    return {"error": None, "versions": rows, "champion": champion_row, "model_name": model_name, "alias": alias,
            "read_at": time.strftime("%H:%M:%S")}
