"""Incidents: alerts of one subject and crisis type within a window become one incident, which
holds the mentions, a timeline, a severity with its reasons (playbooks.severity over measured
metrics) and the playbook's steps with due times.

States: open → responding (a step is done) → resolved → reopened (a new alert within the window).
An alert whose mentions show no crisis type joins the subject's active incident, or opens one of
type `none` that takes the first concrete type a later alert brings (then its playbook is set)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from monitoring.rules import AlertDraft
from monitoring.store import MENTION_COLUMNS, Store
from monitoring.subjects import CENTRAL_MEDIA, Subject
from monitoring.timeutil import from_ts, iso, to_ts
from playbooks.library import default_playbooks
from playbooks.recommend import metrics_from_mentions, schedule
from playbooks.severity import GRADES, grade
from yuqing.labels import CRISIS_TYPE, SEVERITY
from yuqing.schemas import Mention

Publish = Callable[[str, dict], None]
ACTIVE = ("open", "responding", "reopened")
REGRADE_EVERY = 3600.0  # seconds of event time between re-gradings of an active incident (tick)
REGRADE_ON_ALERT_AFTER = 900.0  # an alert re-grades when the grade is older than this (or names an authority)
EFFECT_WINDOW_HOURS = 6.0
_CENTRAL = re.compile("|".join(re.escape(name.lower()) for name in CENTRAL_MEDIA))


class IncidentError(LookupError):
    pass


class IncidentBook:
    def __init__(self, store: Store, subjects: dict[str, Subject], publish: Publish, tz: ZoneInfo):
        self.store, self.subjects, self.publish, self.tz = store, subjects, publish, tz
        self.active: dict[str, dict[str, dict]] = {}   # subject -> incident id -> {crisis_type, stories}
        for row in store.query(f"SELECT id, subject, crisis_type FROM incidents WHERE state IN {ACTIVE}"):
            self._remember(row["id"], row["subject"], row["crisis_type"])

    def _remember(self, incident_id: str, subject: str, crisis_type: str) -> None:
        stories = {r[0] for r in self.store.query(
            "SELECT DISTINCT m.story_id FROM incident_mentions i JOIN mentions m ON m.id=i.mention_id "
            "WHERE i.incident_id=?", (incident_id,))}
        self.active.setdefault(subject, {})[incident_id] = {"crisis_type": crisis_type, "stories": stories}

    # ---- placing alerts -------------------------------------------------------------------------

    def place(self, draft: AlertDraft) -> tuple[str, str]:
        """The incident this alert belongs to (opened, joined or reopened) and its severity now."""
        if draft.incident_id:
            incident_id = draft.incident_id
        else:
            incident_id = self._find(draft)
            if incident_id is None:
                return self._open(draft)
            self._join(incident_id, draft)
        self._timeline(incident_id, draft.ts, "alert", f"告警：{draft.rule}", ref=None)
        return incident_id, self._severity(incident_id)

    def _find(self, draft: AlertDraft) -> str | None:
        window = self.subjects[draft.subject].incident_window_hours * 3600
        rows = self.store.query("SELECT id, crisis_type, state FROM incidents WHERE subject=? AND last_alert_ts>=? "
                                "ORDER BY last_alert_ts DESC, id", (draft.subject, draft.ts - window))
        for row in rows:
            if row["crisis_type"] == draft.crisis_type:
                return row["id"]
        untyped = draft.crisis_type == "none"
        for row in rows:
            if row["state"] in ACTIVE and (untyped or row["crisis_type"] == "none"):
                return row["id"]
        return None

    def _open(self, draft: AlertDraft) -> tuple[str, str]:
        incident_id = self._new_id(draft)
        with self.store.transaction():
            self.store.db.execute(
                "INSERT INTO incidents(id, subject, crisis_type, state, opened_ts, last_alert_ts, severity, "
                "severity_reasons, description, graded_ts) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (incident_id, draft.subject, draft.crisis_type, "open", draft.ts, draft.ts, "minor", "[]", "", draft.ts))
            self._remember(incident_id, draft.subject, draft.crisis_type)
            self._link_history(incident_id, draft)
            self._timeline(incident_id, draft.ts, "opened", f"事件建立（{CRISIS_TYPE[draft.crisis_type]}）")
            self._regrade(incident_id, draft.ts, announce=False)
            self._schedule(incident_id)
        self.publish("incident.opened", self._payload(incident_id))
        self._timeline(incident_id, draft.ts, "alert", f"告警：{draft.rule}")
        return incident_id, self._severity(incident_id)

    def _new_id(self, draft: AlertDraft) -> str:
        base = f"inc-{draft.subject}-{from_ts(draft.ts, self.tz):%Y%m%d%H%M%S}"
        incident_id, n = base, 1
        while self.store.scalar("SELECT 1 FROM incidents WHERE id=?", (incident_id,)):
            n += 1
            incident_id = f"{base}-{n}"
        return incident_id

    def _join(self, incident_id: str, draft: AlertDraft) -> None:
        row = self.get_row(incident_id)
        with self.store.transaction():
            self.store.db.execute("UPDATE incidents SET last_alert_ts=MAX(last_alert_ts, ?) WHERE id=?", (draft.ts, incident_id))
            if row["state"] == "resolved":
                self.store.db.execute("UPDATE incidents SET state='reopened', resolved_ts=NULL WHERE id=?", (incident_id,))
                self._remember(incident_id, row["subject"], row["crisis_type"])
                self._timeline(incident_id, draft.ts, "reopened", "事件重新打开：窗口期内再次告警")
            if row["crisis_type"] == "none" and draft.crisis_type != "none":
                self._adopt_type(incident_id, row["subject"], draft.crisis_type, draft.ts)
            self._link_ids(incident_id, draft.mention_ids)
            if draft.ts - row["graded_ts"] >= REGRADE_ON_ALERT_AFTER or draft.rule == "authority":
                self._regrade(incident_id, draft.ts)
        if row["state"] == "resolved":
            self.publish("incident.opened", {**self._payload(incident_id), "reopened": True})

    def _adopt_type(self, incident_id: str, subject: str, crisis_type: str, ts: float) -> None:
        self.store.db.execute("UPDATE incidents SET crisis_type=? WHERE id=?", (crisis_type, incident_id))
        self.active[subject][incident_id]["crisis_type"] = crisis_type
        self._timeline(incident_id, ts, "typed", f"危机类型确定为{CRISIS_TYPE[crisis_type]}")
        self._schedule(incident_id)

    # ---- mentions -------------------------------------------------------------------------------

    def _link_history(self, incident_id: str, draft: AlertDraft) -> None:
        """The alert's mentions, and the subject's earlier mentions of the same crisis type within
        the window: the incident's 初期 began before anything crossed a threshold."""
        self._link_ids(incident_id, draft.mention_ids)
        if draft.crisis_type == "none":
            return
        window = self.subjects[draft.subject].incident_window_hours * 3600
        rows = self.store.query(
            "SELECT m.id FROM mention_subjects s JOIN mentions m ON m.id=s.mention_id "
            "WHERE s.subject=? AND s.ts>? AND s.ts<=? AND m.crisis_type=?",
            (draft.subject, draft.ts - window, draft.ts, draft.crisis_type))
        self._link_ids(incident_id, [r[0] for r in rows])

    def _link_ids(self, incident_id: str, mention_ids: list[str]) -> None:
        rows = self.store.mentions(mention_ids, light=True)
        for row in rows:
            self.store.db.execute("INSERT OR IGNORE INTO incident_mentions VALUES (?,?,?)", (incident_id, row["id"], row["ts"]))
        for subject_incidents in self.active.values():
            if incident_id in subject_incidents:
                subject_incidents[incident_id]["stories"].update(r["story_id"] for r in rows)

    def link(self, subject: str, mention: dict) -> None:
        """A new mention of the subject joins its active incidents when it is of their crisis type,
        a copy of one of their stories, or negative while the type is not known yet."""
        for incident_id, known in self.active.get(subject, {}).items():
            crisis = known["crisis_type"]
            if (mention["crisis_type"] == crisis and crisis != "none") or mention["story_id"] in known["stories"] \
                    or (crisis == "none" and mention["sentiment"] == "negative"):
                self.store.db.execute("INSERT OR IGNORE INTO incident_mentions VALUES (?,?,?)",
                                      (incident_id, mention["id"], mention["ts"]))
                known["stories"].add(mention["story_id"])

    # ---- severity and steps ---------------------------------------------------------------------

    def _regrade(self, incident_id: str, now: float, announce: bool = True) -> None:
        """Grade over the incident's measured metrics and a description of its top stories.
        Severity keeps its peak: a crisis graded major stays major until resolved."""
        row = self.get_row(incident_id)
        rows = [r for r in self.incident_mentions(incident_id) if r["ts"] <= now]
        mentions = [_as_mention(r, self.tz) for r in rows]
        metrics = metrics_from_mentions(mentions, from_ts(now, self.tz))
        central = sum(bool(r["author"] and _CENTRAL.search(r["author"].lower())) for r in rows)
        metrics = metrics.model_copy(update={"central_media_mentions": central})
        description = self._describe(row, rows)
        crisis = row["crisis_type"] if row["crisis_type"] != "none" else None
        graded = grade(description, metrics, crisis)
        before = GRADES.index(row["severity"])
        keep_peak = graded.level < before
        self.store.db.execute("UPDATE incidents SET description=?, graded_ts=?, severity=?, severity_reasons=? WHERE id=?",
                              (description, now, GRADES[max(graded.level, before)],
                               row["severity_reasons"] if keep_peak else json.dumps(graded.reasons, ensure_ascii=False),
                               incident_id))
        if graded.level > before and announce:
            self._timeline(incident_id, now, "escalated", f"升级：{SEVERITY[row['severity']]} → {SEVERITY[graded.severity]}")
            self._schedule(incident_id)
            self.publish("incident.escalated", {**self._payload(incident_id), "from": row["severity"],
                                                "to": graded.severity, "reasons": graded.reasons})

    def _describe(self, row, mentions: list[dict]) -> str:
        """The subject, the crisis type and the texts of the three widest-reaching stories."""
        reach = Counter()
        seeds: dict[str, str] = {}
        for m in mentions:
            reach[m["story_id"]] += m["reposts"] + 1
            seeds.setdefault(m["story_id"], m["text"])
        top = sorted(reach.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        name = self.subjects[row["subject"]].name if row["subject"] in self.subjects else row["subject"]
        head = f"{name}{CRISIS_TYPE[row['crisis_type']] if row['crisis_type'] != 'none' else '负面舆情'}："
        return head + "；".join(seeds[s][:200] for s, _ in top)

    def _schedule(self, incident_id: str) -> None:
        """The playbook tier's steps, due from the detection time; steps already done are kept and
        not repeated, steps not done are replaced by the current tier's."""
        row = self.get_row(incident_id)
        if row["crisis_type"] == "none":
            return
        playbook = default_playbooks()[row["crisis_type"]]
        detected = from_ts(row["opened_ts"], self.tz)
        subject = self.subjects.get(row["subject"])
        values = {"organisation": subject.name if subject else "", "date": detected.strftime("%Y年%m月%d日")}
        done = {r["action"] for r in self.store.query(
            "SELECT action FROM incident_steps WHERE incident_id=? AND done_ts IS NOT NULL", (incident_id,))}
        self.store.db.execute("DELETE FROM incident_steps WHERE incident_id=? AND done_ts IS NULL", (incident_id,))
        next_no = (self.store.scalar("SELECT MAX(step_no) FROM incident_steps WHERE incident_id=?", (incident_id,)) or 0) + 1
        for step in schedule(playbook, row["severity"], detected, values):
            if step.action in done:
                continue
            self.store.db.execute(
                "INSERT INTO incident_steps(incident_id, step_no, action, owner, deadline_hours, due_ts, template, channels) "
                "VALUES (?,?,?,?,?,?,?,?)", (incident_id, next_no, step.action, step.owner, step.deadline_hours,
                                             to_ts(step.due_at, self.tz), step.template,
                                             json.dumps(step.channels, ensure_ascii=False)))
            next_no += 1

    # ---- time-based: overdue steps, silence, periodic re-grading ---------------------------------

    def tick(self, now: float) -> list[AlertDraft]:
        drafts = []
        for subject_id, incidents in list(self.active.items()):
            for incident_id in list(incidents):
                drafts += self._tick_one(self.subjects.get(subject_id), incident_id, now)
        return drafts

    def _tick_one(self, subject: Subject | None, incident_id: str, now: float) -> list[AlertDraft]:
        """Reads first; a transaction (and its fsync) only when something is due."""
        due = self.store.query("SELECT * FROM incident_steps WHERE incident_id=? AND done_ts IS NULL "
                               "AND overdue_notified=0 AND due_ts<=? ORDER BY step_no", (incident_id, now))
        row = self.get_row(incident_id)
        if not due and now - row["graded_ts"] < REGRADE_EVERY and not self._silence_due(subject, row, now):
            return []
        with self.store.transaction():
            for step in due:
                self.store.db.execute("UPDATE incident_steps SET overdue_notified=1 WHERE incident_id=? AND step_no=?",
                                      (incident_id, step["step_no"]))
                self._timeline(incident_id, step["due_ts"], "overdue", f"逾期：{step['owner']}·{step['action'][:40]}")
                self.publish("step.overdue", {**self._payload(incident_id), "step": _step_dict(step, self.tz)})
            if now - row["graded_ts"] >= REGRADE_EVERY:
                self._regrade(incident_id, now)
            return [d for d in [self._silence(subject, row, now)] if d]

    def _silence_due(self, subject: Subject | None, row, now: float) -> bool:
        return (subject is not None and subject.rules.silence.enabled and row["state"] == "open"
                and not row["silence_alerted"] and now >= row["opened_ts"] + subject.rules.silence.hours * 3600)

    def _silence(self, subject: Subject | None, row, now: float) -> AlertDraft | None:
        """No step done within the golden hours of an incident that has a playbook."""
        if not self._silence_due(subject, row, now):
            return None
        deadline = row["opened_ts"] + subject.rules.silence.hours * 3600
        if not self.store.scalar("SELECT COUNT(*) FROM incident_steps WHERE incident_id=?", (row["id"],)):
            return None
        self.store.db.execute("UPDATE incidents SET silence_alerted=1 WHERE id=?", (row["id"],))
        ids = [m["id"] for m in self.incident_mentions(row["id"]) if m["ts"] <= deadline][-200:]
        silent_hours = round((deadline - row["opened_ts"]) / 3600, 2)
        return AlertDraft(subject=row["subject"], rule="silence", ts=deadline, crisis_type=row["crisis_type"],
                          incident_id=row["id"], mention_ids=ids,
                          drivers={"value": silent_hours, "threshold": subject.rules.silence.hours,
                                   "window_minutes": subject.rules.silence.hours * 60, "steps_done": 0,
                                   "opened_at": iso(row["opened_ts"], self.tz)})

    # ---- analyst actions ------------------------------------------------------------------------

    def mark_step_done(self, incident_id: str, step_no: int, by: str, at: datetime) -> dict:
        row = self.get_row(incident_id)
        ts = to_ts(at, self.tz)
        step = self.store.query("SELECT * FROM incident_steps WHERE incident_id=? AND step_no=?", (incident_id, step_no))
        if not step:
            raise IncidentError(f"incident {incident_id} has no step {step_no}")
        with self.store.transaction():
            self.store.db.execute("UPDATE incident_steps SET done_by=?, done_ts=? WHERE incident_id=? AND step_no=?",
                                  (by, ts, incident_id, step_no))
            if row["state"] in ("open", "reopened"):
                self.store.db.execute("UPDATE incidents SET state='responding' WHERE id=?", (incident_id,))
            self._timeline(incident_id, ts, "step_done", f"{by} 完成：{step[0]['action'][:60]}", ref=str(step_no))
        return self.steps(incident_id)[[s["no"] for s in self.steps(incident_id)].index(step_no)]

    def resolve(self, incident_id: str, by: str, at: datetime) -> None:
        row = self.get_row(incident_id)
        ts = to_ts(at, self.tz)
        with self.store.transaction():
            self.store.db.execute("UPDATE incidents SET state='resolved', resolved_ts=?, resolved_by=? WHERE id=?",
                                  (ts, by, incident_id))
            self._timeline(incident_id, ts, "resolved", f"{by} 标记事件已处置完毕")
        self.active.get(row["subject"], {}).pop(incident_id, None)
        self.publish("incident.resolved", self._payload(incident_id))

    # ---- reading --------------------------------------------------------------------------------

    def get_row(self, incident_id: str):
        rows = self.store.query("SELECT * FROM incidents WHERE id=?", (incident_id,))
        if not rows:
            raise IncidentError(f"no incident {incident_id!r}")
        return rows[0]

    def _severity(self, incident_id: str) -> str:
        return self.get_row(incident_id)["severity"]

    def incident_mentions(self, incident_id: str) -> list[dict]:
        """The incident's mentions in event-time order (without scores)."""
        columns = ", ".join(f"m.{c}" for c in MENTION_COLUMNS if c not in ("scores", "subjects"))
        return [dict(r) for r in self.store.query(
            f"SELECT {columns} FROM incident_mentions i JOIN mentions m ON m.id=i.mention_id "
            "WHERE i.incident_id=? ORDER BY i.ts, i.mention_id", (incident_id,))]

    def steps(self, incident_id: str) -> list[dict]:
        return [_step_dict(r, self.tz) for r in self.store.query(
            "SELECT * FROM incident_steps WHERE incident_id=? ORDER BY step_no", (incident_id,))]

    def describe(self, incident_id: str) -> dict:
        row = self.get_row(incident_id)
        return {"id": row["id"], "subject": row["subject"], "crisis_type": row["crisis_type"], "state": row["state"],
                "severity": row["severity"], "severity_reasons": json.loads(row["severity_reasons"]),
                "opened_at": iso(row["opened_ts"], self.tz), "last_alert_at": iso(row["last_alert_ts"], self.tz),
                "resolved_at": iso(row["resolved_ts"], self.tz) if row["resolved_ts"] else None,
                "description": row["description"], "steps": self.steps(incident_id),
                "mentions": self.store.scalar("SELECT COUNT(*) FROM incident_mentions WHERE incident_id=?", (incident_id,))}

    def _payload(self, incident_id: str) -> dict:
        incident = self.describe(incident_id)
        subject = self.subjects.get(incident["subject"])
        return {"incident": incident, "subject_name": subject.name if subject else incident["subject"],
                "routing": subject.notify if subject else {}}

    def timeline(self, incident_id: str) -> list[dict]:
        return [{"at": iso(r["ts"], self.tz), "ts": r["ts"], "kind": r["kind"], "text": r["text"], "ref": r["ref"]}
                for r in self.store.query("SELECT * FROM incident_timeline WHERE incident_id=? ORDER BY ts, rowid",
                                          (incident_id,))]

    def _timeline(self, incident_id: str, ts: float, kind: str, text: str, ref: str | None = None) -> None:
        self.store.execute("INSERT INTO incident_timeline VALUES (?,?,?,?,?)", (incident_id, ts, kind, text, ref))

    def step_effects(self, incident_id: str, window_hours: float = EFFECT_WINDOW_HOURS) -> list[dict]:
        """For each step done: the subject's volume and negative share in the hours before and after."""
        row = self.get_row(incident_id)
        latest = self.store.latest_ts() or 0
        width = window_hours * 3600
        effects = []
        for step in self.steps(incident_id):
            if step["done_ts"] is None:
                continue
            done = step["done_ts"]
            before = _volume(self.store, row["subject"], done - width, done)
            after = _volume(self.store, row["subject"], done, done + width)
            effects.append({"step": step, "window_hours": window_hours, "before": before, "after": after,
                            "after_complete": latest >= done + width,
                            "effective": _effective(before, after)})
        return effects


def _volume(store: Store, subject: str, start: float, end: float) -> dict:
    row = store.query("SELECT COUNT(*) AS n, COALESCE(SUM(m.sentiment='negative'),0) AS neg, "
                      "GROUP_CONCAT(m.id) AS ids FROM mention_subjects s JOIN mentions m ON m.id=s.mention_id "
                      "WHERE s.subject=? AND s.ts>? AND s.ts<=?", (subject, start, end))[0]
    n = row["n"]
    return {"mentions": n, "negative": row["neg"], "negative_share": round(row["neg"] / n, 4) if n else None,
            "mention_ids": sorted((row["ids"] or "").split(","))[:200] if n else []}


def _effective(before: dict, after: dict) -> bool | None:
    """Helped if volume or negative share fell after the step; None when there is nothing to compare."""
    if not before["mentions"] or after["negative_share"] is None:
        return None
    return after["mentions"] < before["mentions"] or after["negative_share"] < before["negative_share"]


def _step_dict(row, tz: ZoneInfo) -> dict:
    return {"no": row["step_no"], "action": row["action"], "owner": row["owner"], "deadline_hours": row["deadline_hours"],
            "due_at": iso(row["due_ts"], tz), "due_ts": row["due_ts"], "template": row["template"],
            "channels": json.loads(row["channels"]), "done_by": row["done_by"], "done_ts": row["done_ts"],
            "done_at": iso(row["done_ts"], tz) if row["done_ts"] else None}


def _as_mention(row: dict, tz: ZoneInfo) -> Mention:
    """Rows from our own store were validated at ingest: construct without validating again."""
    return Mention.model_construct(id=row["id"], text=row["text"], channel=row["channel"], author=row["author"],
                   published_at=from_ts(row["ts"], tz), reposts=row["reposts"], comments=row["comments"],
                   likes=row["likes"], views=row["views"], sentiment=row["sentiment"], topic=row["topic"],
                   crisis_type=row["crisis_type"])
