"""Monitoring inside the HTTP service: the `Monitor` the service holds, the subjects it watches,
the background ticker, and the work behind the monitoring endpoints (`serving/service.py` only
routes to them).

Threads. Every write to the monitoring store (ingest, tick, steps, resolve, subject changes) runs
in the service's single writer thread, so the SQLite store sees one writer; reads run in the
reader pool on a connection of their own per thread (WAL: they see committed data and never block
the writer). Reports are rendered one at a time (matplotlib is not thread-safe).

Subjects. At start-up: `YUQING_SUBJECTS` (a YAML file or folder) when set, else `<data>/subjects/`
when it holds subject files, else the samples (`monitoring/samples/subjects/`). Subjects written
through the API go to `<data>/subjects/<id>.yaml`; with `YUQING_SUBJECTS` set they overlay it (the
same id in `<data>/subjects/` wins), and with the samples as the source the samples are first
copied there, so that the folder is the whole list from then on (and after a restart)."""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import ValidationError

from serving.limits import (
    MAX_INCIDENT_IDS,
    MAX_KEYWORD_CHARS,
    MAX_KEYWORDS,
    MAX_SPIKE_WINDOWS,
    MAX_SUBJECT_BYTES,
    MAX_SUBJECT_CHANNELS,
    MAX_SUBJECTS,
    MAX_URL_CHARS,
    MAX_WEBHOOK_EVENTS,
    MAX_WEBHOOKS,
    SUBJECT_NUMBER_BOUNDS,
    LimitError,
)
from yuqing.labels import TASKS

logger = logging.getLogger("yuqing.monitoring")



def sample_subjects() -> Path:
    """The sample subjects, next to the monitoring package wherever it is installed."""
    import monitoring

    return Path(monitoring.__file__).resolve().parent / "samples" / "subjects"


ALERT_KEYS = ("id", "subject", "rule", "fired_at", "incident_id", "severity", "drivers", "mention_ids")
RULES = ("negative_share", "viral", "spike", "authority", "silence")
STATES = ("open", "responding", "resolved", "reopened")
ACTIVE_STATES = ("open", "responding", "reopened")


def alert_line(alert: dict) -> dict:
    """The replay contract: exactly id, subject, rule, fired_at, incident_id, severity, drivers, mention_ids."""
    return {k: alert.get(k) for k in ALERT_KEYS}


# ---- subjects: where they come from ---------------------------------------------------------------

def _subject_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
    return [path] if path.exists() else []


@dataclass
class SubjectSource:
    """`base`: the read-only source (YUQING_SUBJECTS or the samples), or None; `managed`: the folder
    the API writes (<data>/subjects/). `kind`: YUQING_SUBJECTS | data | samples."""

    kind: str
    base: Path | None
    managed: Path
    origin: dict[str, Path] = field(default_factory=dict)  # subject id -> the file defining it

    @classmethod
    def resolve(cls, settings) -> SubjectSource:
        managed = Path(settings.subjects_dir)
        if settings.subjects:
            base = Path(settings.subjects)
            if base.resolve() == managed.resolve():
                return cls("data", None, managed)
            return cls("YUQING_SUBJECTS", base, managed)
        if _subject_files(managed) or not _subject_files(sample_subjects()):
            if not _subject_files(managed):
                logger.error("monitoring: no subjects (%s is empty and the samples are not installed): add them with "
                             "POST /subjects/put or set YUQING_SUBJECTS", managed)
            return cls("data", None, managed)
        return cls("samples", sample_subjects(), managed)

    def describe(self) -> str:
        if self.kind == "YUQING_SUBJECTS":
            return f"YUQING_SUBJECTS={self.base} (+ {self.managed} written through the API)"
        return f"{self.base} (the samples)" if self.kind == "samples" else str(self.managed)

    def load(self) -> list:
        """The live subject list: the base layer, then the managed folder (same id: managed wins).
        A broken file raises SubjectError naming the file and the field."""
        from monitoring.subjects import SubjectError, load_subject_file

        if self.base is not None and not _subject_files(self.base):
            raise SubjectError(f"{self.base}: no such file, or no subject files (*.yaml) in this folder "
                               f"({self.kind})")
        subjects: dict[str, Any] = {}
        origin: dict[str, Path] = {}
        layers = ([self.base] if self.base is not None else []) + ([self.managed] if self.kind != "samples" else [])
        for layer in layers:
            seen: dict[str, Path] = {}
            for file in _subject_files(layer):
                for subject in load_subject_file(file):
                    if subject.id in seen:
                        raise SubjectError(f"{file}: id: subject id {subject.id!r} already used in {seen[subject.id]}")
                    seen[subject.id] = file
                    subjects[subject.id] = subject
                    origin[subject.id] = file
        self.origin = origin
        return list(subjects.values())

    def materialise(self) -> None:
        """Before the first API write over the samples: copy them into the managed folder, which
        then is the source (now and after a restart)."""
        if self.kind != "samples":
            return
        self.managed.mkdir(parents=True, exist_ok=True)
        for file in _subject_files(sample_subjects()):
            if not (self.managed / file.name).exists():
                shutil.copy(file, self.managed / file.name)
        self.kind, self.base = "data", None
        logger.warning("subjects: copied the samples into %s, the subject source from now on", self.managed)


def validate_subject(data: Any):
    """A subject given as JSON, validated as the YAML files are, within the API's bounds; the
    refusal names `subject.<field>`."""
    from monitoring.subjects import Subject

    if not isinstance(data, dict):
        raise LimitError("subject", "expected an object with id, name and keywords")
    size = len(json.dumps(data, ensure_ascii=False, default=str).encode("utf-8"))
    if size > MAX_SUBJECT_BYTES:
        raise LimitError("subject", f"{size:,} bytes as JSON, more than {MAX_SUBJECT_BYTES:,}", limit=MAX_SUBJECT_BYTES)
    try:
        subject = Subject.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in error.errors()[:10])
        raise LimitError(f"subject.{where}" if where else "subject", problems) from None
    if len(subject.name) > 200:
        raise LimitError("subject.name", "at most 200 characters", limit=200)
    for kind in ("all", "any", "none"):
        words = getattr(subject.keywords, kind)
        if len(words) > MAX_KEYWORDS:
            raise LimitError(f"subject.keywords.{kind}", f"at most {MAX_KEYWORDS} keywords (got {len(words)})",
                             limit=MAX_KEYWORDS)
        for index, word in enumerate(words):
            if len(word) > MAX_KEYWORD_CHARS:
                raise LimitError(f"subject.keywords.{kind}.{index}", f"at most {MAX_KEYWORD_CHARS} characters",
                                 limit=MAX_KEYWORD_CHARS)
    if subject.channels is not None and len(subject.channels) > MAX_SUBJECT_CHANNELS:
        raise LimitError("subject.channels", f"at most {MAX_SUBJECT_CHANNELS} channels", limit=MAX_SUBJECT_CHANNELS)
    for path, low, high in SUBJECT_NUMBER_BOUNDS:
        value: Any = subject
        for part in path.split("."):
            value = getattr(value, part)
        if value is not None and not (math.isfinite(value) and low <= value <= high):
            raise LimitError(f"subject.{path}", f"must be within {low}…{high:g} (got {value})", limit=high)
    spike = subject.rules.spike
    if spike.recent_hours * 60 / spike.window_minutes > MAX_SPIKE_WINDOWS:
        raise LimitError("subject.rules.spike.window_minutes", f"recent_hours × 60 / window_minutes must be at most "
                         f"{MAX_SPIKE_WINDOWS} windows", limit=MAX_SPIKE_WINDOWS)
    return subject


def _subject_yaml(subject) -> str:
    body = subject.model_dump(mode="json", exclude_defaults=True)  # id, name and keywords are always there
    head = f"# {subject.name}: written by the yuqing service (POST /subjects/put).\n"
    return head + yaml.safe_dump(body, allow_unicode=True, sort_keys=False)


# ---- the hub --------------------------------------------------------------------------------------

class MonitoringHub:
    """The service's monitor and everything the monitoring endpoints read or change.

    Methods marked *writer* must run in the service's single writer thread; *reader* methods run
    in any reader thread (their own SQLite connection per thread)."""

    def __init__(self, settings, classify: Callable, publish: Callable | None = None):
        from monitoring.engine import Monitor
        from monitoring.store import Store
        from monitoring.timeutil import zone

        self.settings = settings
        self.tz = zone(settings.timezone)
        self.classify = classify
        if publish is None:
            from monitoring.delivery import publish as durable_publish

            publish = durable_publish
        self.publish: Any = publish  # (event type, payload) -> delivery ids
        self.source = SubjectSource.resolve(settings)
        subjects = self.source.load()
        self.folder = Path(settings.monitoring_dir)
        self.store = Store(self.folder)
        self.monitor = Monitor(self.store, subjects, classify, publish=self.publish, timezone=settings.timezone)
        self._local = threading.local()
        self._report_lock = threading.Lock()
        logger.warning("monitoring: %d subjects (%s) from %s; store %s", len(subjects),
                       ", ".join(s.id for s in subjects), self.source.describe(), self.folder)

    def _rebuild(self, subjects: list) -> None:
        """*writer*: a new Monitor over the same store with this subject list (the windows and
        incidents are rebuilt from the store; requests see the old or the new one, never half)."""
        from monitoring.engine import Monitor

        self.monitor = Monitor(self.store, subjects, self.classify, publish=self.publish,
                               timezone=self.settings.timezone)

    def close(self) -> None:
        self.store.close()

    # ---- ingest and tick (writer) ---------------------------------------------------------------

    def ingest(self, documents: list[dict], given: list[set[str]]) -> dict:
        """*writer*: the labelled documents through the monitor (nothing is classified again).
        A label the client gave counts with confidence 1 (the model's scores are for its own
        labels). Never raises: a failure is logged and answered as {"ok": false, "error"}."""
        records = []
        for document, own in zip(documents, given):
            record = {k: v for k, v in document.items() if k not in ("embedding", "scores", "model_version")}
            scores = {t: s for t, s in (document.get("scores") or {}).items() if t in TASKS and t not in own}
            if scores:
                record["scores"] = scores
            records.append(record)
        try:
            result = self.monitor.ingest(records)
            subjects = self._subjects_of([r["id"] for r in records])
        except Exception as error:  # the search write already happened: report, never lose it
            logger.exception("monitoring failed for a batch of %d mentions (they are stored in search)", len(records))
            return {"alerts": [], "subjects": {}, "monitoring": {
                "ok": False, "error": f"{type(error).__name__}: {str(error)[:300]}",
                "note": "the mentions are stored in search; send the batch again to monitor them"}}
        return {"alerts": [a.line() for a in result.alerts], "subjects": subjects,
                "monitoring": {"ok": True, "accepted": result.accepted, "updated": result.updated,
                               "unmatched": result.unmatched, "rejected": result.rejected[:100],
                               "rejected_total": len(result.rejected), "alerts": len(result.alerts)}}

    def _subjects_of(self, ids: list[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            for row in self.store.query(f"SELECT mention_id, subject FROM mention_subjects WHERE mention_id IN "
                                        f"({','.join('?' * len(chunk))}) ORDER BY subject", chunk):
                out.setdefault(row["mention_id"], []).append(row["subject"])
        return out

    def tick(self, now: datetime | None = None) -> list[dict]:
        """*writer*: the time-based rules (silence, overdue steps, re-grading) at wall time."""
        from monitoring.timeutil import utc_now

        alerts = self.monitor.tick(now or utc_now())
        if alerts:
            logger.warning("monitoring tick: %d alerts (%s)", len(alerts), ", ".join(a.id for a in alerts[:10]))
        return [a.line() for a in alerts]

    # ---- analyst actions (writer) ---------------------------------------------------------------

    def _incident_row(self, store, incident_id: str):
        rows = store.query("SELECT * FROM incidents WHERE id=?", (incident_id,))
        if not rows:
            raise LimitError("incident_id", f"no incident {incident_id!r}", status=404)
        return rows[0]

    def mark_step_done(self, incident_id: str, step_no: int, by: str, at: datetime | None) -> dict:
        """*writer*"""
        from monitoring.timeutil import utc_now

        self._incident_row(self.store, incident_id)
        if not self.store.scalar("SELECT 1 FROM incident_steps WHERE incident_id=? AND step_no=?", (incident_id, step_no)):
            known = [r[0] for r in self.store.query("SELECT step_no FROM incident_steps WHERE incident_id=? "
                                                    "ORDER BY step_no", (incident_id,))]
            raise LimitError("step_no", f"incident {incident_id} has no step {step_no} (steps: "
                             f"{', '.join(map(str, known)) or 'none yet'})", status=404)
        step = self.monitor.mark_step_done(incident_id, step_no, by, at or utc_now())
        state = self._incident_row(self.store, incident_id)["state"]
        return {"incident_id": incident_id, "state": state, "step": {**step, "done": True}}

    def resolve(self, incident_id: str, by: str, at: datetime | None) -> dict:
        """*writer*"""
        from monitoring.timeutil import iso, utc_now

        row = self._incident_row(self.store, incident_id)
        if row["state"] == "resolved":
            raise LimitError("incident_id", f"incident {incident_id} is already resolved "
                             f"(at {iso(row['resolved_ts'], self.tz)} by {row['resolved_by']})", status=409)
        self.monitor.resolve(incident_id, by, at or utc_now())
        row = self._incident_row(self.store, incident_id)
        return {"incident_id": incident_id, "state": row["state"], "resolved_by": row["resolved_by"],
                "resolved_at": iso(row["resolved_ts"], self.tz)}

    # ---- subjects (list: reader; put/delete: writer) -------------------------------------------

    def _origin_name(self, subject_id: str) -> str:
        file = self.source.origin.get(subject_id)
        if file is None:
            return ""
        if self.source.kind == "samples":
            return "samples"
        return "api" if file.parent.resolve() == self.source.managed.resolve() else "YUQING_SUBJECTS"

    def list_subjects(self) -> dict:
        subjects = list(self.monitor.subjects.values())
        return {"source": self.source.kind, "subjects": [
            {**s.model_dump(mode="json"), "origin": self._origin_name(s.id)} for s in subjects]}

    def put_subject(self, subject) -> dict:
        """*writer*: write <data>/subjects/<id>.yaml, reload the list (undone if the list no longer loads)."""
        known = self.monitor.subjects
        if subject.id not in known and len(known) >= MAX_SUBJECTS:
            raise LimitError("subject.id", f"at most {MAX_SUBJECTS} subjects", limit=MAX_SUBJECTS, status=409)
        self.source.materialise()
        target = self.source.managed / f"{subject.id}.yaml"
        defined = self.source.origin.get(subject.id)
        if defined is not None and defined.parent.resolve() == self.source.managed.resolve() \
                and defined.resolve() != target.resolve():
            raise LimitError("subject.id", f"subject {subject.id!r} is defined in {defined.name} with others; "
                             "edit that file by hand", status=409)
        self.source.managed.mkdir(parents=True, exist_ok=True)
        previous = target.read_bytes() if target.exists() else None
        _write_atomically(target, _subject_yaml(subject).encode("utf-8"))
        self._reload_or_undo(target, previous, "subject")
        return {"subject": subject.model_dump(mode="json"), "created": previous is None,
                "file": f"subjects/{target.name}", "subjects": sorted(self.monitor.subjects)}

    def _reload_or_undo(self, path: Path, previous: bytes | None, field: str) -> None:
        """Reload the subjects after `path` was written or removed; if the list no longer loads, put
        `previous` back (None: remove the file) and refuse with 409 naming `field`."""
        from monitoring.subjects import SubjectError

        try:
            subjects = self.source.load()
        except SubjectError as error:
            _restore(path, previous)
            _reload_quietly(self.source)
            raise LimitError(field, str(error), status=409) from None
        self._rebuild(subjects)

    def delete_subject(self, subject_id: str) -> dict:
        """*writer*: remove <data>/subjects/<id>.yaml and reload the list."""
        from monitoring.subjects import SubjectError

        if subject_id not in self.monitor.subjects:
            raise LimitError("id", f"no subject {subject_id!r}", status=404)
        if len(self.monitor.subjects) == 1:
            raise LimitError("id", "the last subject cannot be deleted (with none the service would watch the "
                             "samples again at its next start)", status=409)
        self.source.materialise()
        try:
            self.source.load()
        except SubjectError as error:  # a file broken by hand since the last load
            raise LimitError("id", str(error), status=409) from None
        file = self.source.origin.get(subject_id)
        if file is None or file.parent.resolve() != self.source.managed.resolve():
            raise LimitError("id", f"subject {subject_id!r} is defined in {file} (YUQING_SUBJECTS), which the "
                             "service does not edit", status=409)
        from monitoring.subjects import load_subject_file

        if len(load_subject_file(file)) != 1:
            raise LimitError("id", f"subject {subject_id!r} is defined in {file.name} with others; edit that file by hand",
                             status=409)
        previous = file.read_bytes()
        file.unlink()
        self._reload_or_undo(file, previous, "id")
        return {"deleted": subject_id, "subjects": sorted(self.monitor.subjects)}

    # ---- reads (reader threads) -----------------------------------------------------------------

    def _reader(self):
        """This reader thread's own connection to the monitoring store."""
        store = getattr(self._local, "store", None)
        if store is None:
            from monitoring.store import Store

            store = self._local.store = Store(self.folder)
        return store

    def _book(self):
        book = getattr(self._local, "book", None)
        if book is None:
            from monitoring.incidents import IncidentBook

            book = self._local.book = IncidentBook(self._reader(), {}, lambda *_: None, self.tz)
        return book

    def alerts(self, subject: str | None, rule: str | None, incident_id: str | None, since: datetime | None,
               until: datetime | None, limit: int) -> dict:
        """The most recent `limit` alerts passing the filters, in event-time order, and how many pass."""
        store = self._reader()
        clauses, params = _where(subject=subject, rule=rule, incident_id=incident_id)
        if since is not None:
            clauses.append("ts>=?")
            params.append(since.timestamp())
        if until is not None:
            clauses.append("ts<?")
            params.append(until.timestamp())
        where = " AND ".join(clauses) or "1=1"
        total = store.scalar(f"SELECT COUNT(*) FROM alerts WHERE {where}", params)
        rows = store.alerts(f"id IN (SELECT id FROM alerts WHERE {where} ORDER BY ts DESC, id DESC LIMIT ?)",
                            [*params, limit])
        return {"total": total, "alerts": [alert_line(r) for r in rows]}

    def incidents(self, state: str | None, severity: str | None, subject: str | None, crisis_type: str | None,
                  limit: int) -> dict:
        from monitoring.timeutil import iso, utc_now

        store = self._reader()
        clauses, params = _where(subject=subject, severity=severity, crisis_type=crisis_type)
        if state == "active":
            clauses.append(f"state IN ({','.join('?' * len(ACTIVE_STATES))})")
            params += ACTIVE_STATES
        elif state:
            clauses.append("state=?")
            params.append(state)
        where = " AND ".join(clauses) or "1=1"
        now = utc_now().timestamp()
        total = store.scalar(f"SELECT COUNT(*) FROM incidents WHERE {where}", params)
        rows = store.query(
            "SELECT i.*, (SELECT COUNT(*) FROM alerts a WHERE a.incident_id=i.id) AS n_alerts, "
            "(SELECT COUNT(*) FROM incident_mentions m WHERE m.incident_id=i.id) AS n_mentions, "
            "(SELECT COUNT(*) FROM incident_steps s WHERE s.incident_id=i.id) AS n_steps, "
            "(SELECT COUNT(*) FROM incident_steps s WHERE s.incident_id=i.id AND s.done_ts IS NOT NULL) AS n_done, "
            "(SELECT COUNT(*) FROM incident_steps s WHERE s.incident_id=i.id AND s.done_ts IS NULL AND s.due_ts<=?) "
            f"AS n_overdue FROM incidents i WHERE {where} "
            "ORDER BY i.last_alert_ts DESC, i.id LIMIT ?", [now, *params, limit])
        names = {s.id: s.name for s in self.monitor.subjects.values()}
        return {"total": total, "incidents": [{
            "id": r["id"], "subject": r["subject"], "subject_name": names.get(r["subject"], r["subject"]),
            "crisis_type": r["crisis_type"], "state": r["state"], "severity": r["severity"],
            "opened_at": iso(r["opened_ts"], self.tz), "last_alert_at": iso(r["last_alert_ts"], self.tz),
            "resolved_at": iso(r["resolved_ts"], self.tz) if r["resolved_ts"] else None,
            "alerts": r["n_alerts"], "mentions": r["n_mentions"], "steps_total": r["n_steps"],
            "steps_done": r["n_done"], "steps_overdue": r["n_overdue"]} for r in rows]}

    def incident(self, incident_id: str) -> dict:
        """One incident: severity with reasons, steps (due, done, overdue), timeline, the effect of
        each step done, its alerts and mention ids."""
        from monitoring.incidents import IncidentError
        from monitoring.timeutil import utc_now

        store, book = self._reader(), self._book()
        try:
            incident = book.describe(incident_id)
        except IncidentError:
            raise LimitError("incident_id", f"no incident {incident_id!r}", status=404) from None
        now = utc_now().timestamp()
        incident["steps"] = [{**s, "done": s["done_ts"] is not None,
                              "overdue": s["done_ts"] is None and s["due_ts"] <= now} for s in incident["steps"]]
        subject = self.monitor.subjects.get(incident["subject"])
        ids = [r[0] for r in store.query("SELECT mention_id FROM incident_mentions WHERE incident_id=? "
                                         "ORDER BY ts, mention_id LIMIT ?", (incident_id, MAX_INCIDENT_IDS))]
        timeline = book.timeline(incident_id)
        return {**incident, "subject_name": subject.name if subject else incident["subject"],
                "timeline": timeline[-1000:], "timeline_total": len(timeline),
                "effects": [{k: v for k, v in e.items() if k != "step"} | {"step_no": e["step"]["no"]}
                            for e in book.step_effects(incident_id)],
                "alerts": [alert_line(a) for a in store.alerts("incident_id=?", (incident_id,))][-MAX_INCIDENT_IDS:],
                "mention_ids": ids, "mention_ids_total": incident["mentions"]}

    def report(self, kind: str, day: date | None, incident_id: str | None, subject: str | None) -> dict:
        """A 日报 / 周报 (the day, or the seven days ending with it) or an incident's 专报, as
        Markdown and self-contained HTML."""
        from monitoring import reports
        from monitoring.incidents import IncidentError
        from monitoring.timeutil import utc_now

        store = self._reader()
        subjects = list(self.monitor.subjects.values())
        if subject is not None:
            subjects = [s for s in subjects if s.id == subject]
            if not subjects:
                raise LimitError("subject", f"no subject {subject!r}", status=404)
        with self._report_lock:
            if kind == "incident":
                if not incident_id:
                    raise LimitError("incident_id", "required when kind is 'incident'")
                try:
                    report = reports.incident_report(store, subjects, incident_id, self.tz)
                except IncidentError:
                    raise LimitError("incident_id", f"no incident {incident_id!r}", status=404) from None
            else:
                day = day or utc_now().astimezone(self.tz).date()
                report = reports.period_report(store, subjects, kind, day, self.tz)
            return {"kind": kind, "title": report["title"], "markdown": reports.render(report, "md"),
                    "html": reports.render(report, "html")}


def _where(**equals: str | None) -> tuple[list[str], list[Any]]:
    clauses, params = [], []
    for column, value in equals.items():
        if value is not None:
            clauses.append(f"{column}=?")
            params.append(value)
    return clauses, params


def _reload_quietly(source: SubjectSource) -> None:
    """Re-read the origins after undoing a write; a file broken by hand meanwhile is logged."""
    from monitoring.subjects import SubjectError

    try:
        source.load()
    except SubjectError as error:
        logger.error("subjects: %s", error)


def _write_atomically(path: Path, content: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _restore(path: Path, previous: bytes | None) -> None:
    if previous is None:
        path.unlink(missing_ok=True)
    else:
        _write_atomically(path, previous)


# ---- webhooks and deliveries (the Dispatcher's own tables; any thread) ----------------------------

def check_webhook_url(url: str | None) -> str:
    if not url:
        raise LimitError("url", "required for add")
    if len(url) > MAX_URL_CHARS:
        raise LimitError("url", f"at most {MAX_URL_CHARS} characters", limit=MAX_URL_CHARS)
    try:
        parts = urlsplit(url)
    except ValueError:
        raise LimitError("url", "not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LimitError("url", "must be an http(s) URL with a host")
    if parts.username or parts.password:
        raise LimitError("url", "credentials in the URL are not accepted: receivers verify the signature")
    return url


def check_events(events: list[str] | None) -> list[str]:
    from monitoring.delivery import EVENT_TYPES

    events = list(events or ["*"])
    if len(events) > MAX_WEBHOOK_EVENTS:
        raise LimitError("events", f"at most {MAX_WEBHOOK_EVENTS} event types", limit=MAX_WEBHOOK_EVENTS)
    for index, event in enumerate(events):
        if event != "*" and event not in EVENT_TYPES:
            raise LimitError(f"events.{index}", f"unknown event type {event!r}; expected '*' or one of "
                             f"{', '.join(EVENT_TYPES)}")
    return events


def webhooks(action: str, url: str | None, events: list[str] | None, description: str, sub_id: str | None) -> dict:
    """list | add | remove | rotate | pause | resume. A secret is answered once: when the
    subscription is created, or a new one by rotate; listings show its first characters."""
    from monitoring.delivery import get_dispatcher

    dispatcher = get_dispatcher()
    if action == "list":
        return {"subscriptions": [s.public() for s in dispatcher.list_subscriptions()]}
    if action == "add":
        url, events = check_webhook_url(url), check_events(events)
        if len(dispatcher.list_subscriptions()) >= MAX_WEBHOOKS:
            raise LimitError("action", f"at most {MAX_WEBHOOKS} subscriptions", limit=MAX_WEBHOOKS, status=409)
        created = dispatcher.create_subscription(url, events, description=description)
        return {"subscription": {**created.public(), "secret": created.secret},
                "note": "the secret is shown only now: give it to the receiver's owner"}
    if not sub_id:
        raise LimitError("id", f"required for {action}")
    if dispatcher.get_subscription(sub_id) is None:
        raise LimitError("id", f"no subscription {sub_id!r}", status=404)
    if action == "remove":
        dispatcher.delete_subscription(sub_id)
        return {"removed": sub_id}
    if action == "rotate":
        return {"id": sub_id, "secret": dispatcher.rotate_secret(sub_id),
                "note": "the new secret is used from the next attempt on and shown only now"}
    dispatcher.set_active(sub_id, action == "resume")
    changed = dispatcher.get_subscription(sub_id)
    if changed is None:  # removed meanwhile
        raise LimitError("id", f"no subscription {sub_id!r}", status=404)
    return {"subscription": changed.public()}


def deliveries(status: str | None, limit: int) -> dict:
    from monitoring.delivery import get_dispatcher

    dispatcher = get_dispatcher()
    return {"counts": dispatcher.counts(), "deliveries": [d.summary() for d in dispatcher.deliveries(status, limit)]}


# ---- the background ticker ------------------------------------------------------------------------

class Ticker:
    """Calls `run()` every `interval_s` seconds in a daemon thread until stopped (0: never)."""

    def __init__(self, run: Callable[[], Any], interval_s: float):
        self.run, self.interval_s = run, interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval_s <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="yuqing-monitor-tick", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.run()
            except Exception:  # the next tick tries again; a failing rule never stops the ticker
                logger.exception("monitoring tick failed")

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None
