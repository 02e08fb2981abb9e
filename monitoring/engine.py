"""The monitor: ingest mentions, match subjects, group stories, evaluate rules, group incidents.

    monitor = Monitor(Store(data_dir), load_subjects("subjects/"), classify, publish=deliver)
    result = monitor.ingest(records)      # list of dicts in the `yuqing index` mention schema
    monitor.tick(now)                     # time-based rules: silence, overdue steps

Everything runs in event time (published_at), so replaying a stream raises the same alerts."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel, Field, ValidationError

from monitoring import rules
from monitoring.incidents import IncidentBook, Publish
from monitoring.rules import AlertDraft, SubjectWindow
from monitoring.store import Store
from monitoring.stories import StoryIndex
from monitoring.subjects import Subject, teach_segmenter
from monitoring.timeutil import HOUR, from_ts, iso, to_ts, zone
from yuqing.labels import TASKS
from yuqing.schemas import Mention, Prediction
from yuqing.text import normalize, tokenize

Classify = Callable[[list[str]], list[Prediction]]
WINDOW_RULES = ("negative_share", "spike")
MENTION_RULES = ("viral", "authority")


def noop(event_type: str, payload: dict) -> None:
    """Default notification hook: deliver nothing."""


class Alert(BaseModel):
    id: str
    subject: str
    rule: str
    fired_at: str               # event time, ISO 8601 with offset
    incident_id: str
    severity: str               # minor | general | major (the incident's, when the alert fired)
    drivers: dict
    mention_ids: list[str]
    crisis_type: str = "none"

    def line(self) -> dict:
        """The alerts-out contract: exactly these keys."""
        return {k: getattr(self, k) for k in ("id", "subject", "rule", "fired_at", "incident_id", "severity",
                                              "drivers", "mention_ids")}


class IngestResult(BaseModel):
    accepted: int = 0           # new mentions of at least one subject
    updated: int = 0            # known ids: reach refreshed
    unmatched: int = 0          # valid mentions of no subject (not stored)
    rejected: list[str] = Field(default_factory=list)
    alerts: list[Alert] = Field(default_factory=list)
    seconds: dict[str, float] = Field(default_factory=dict)  # time per stage; `rules` is alert evaluation


class Monitor:
    def __init__(self, store: Store, subjects: list[Subject], classify: Classify, publish: Publish = noop,
                 timezone: str | None = None, evaluate_rules: bool = True, story_threshold: float = 0.6):
        self.store, self.classify, self.publish = store, classify, publish
        self.subjects = {s.id: s for s in subjects}
        self.tz = zone(timezone)
        self.evaluate_rules = evaluate_rules
        teach_segmenter(subjects)
        self.stories = StoryIndex(store, threshold=story_threshold)
        self.incidents = IncidentBook(store, self.subjects, publish, self.tz)
        self.windows: dict[str, SubjectWindow] = {}
        self.subject_stories: dict[str, dict[str, float]] = {}  # subject -> story id -> last seen
        self.clock = store.latest_ts() or 0.0  # latest event time seen
        self._last_fired: dict[tuple[str, str], float | None] = {}
        self._rebuild_windows()

    # ---- state rebuilt from the store -----------------------------------------------------------

    def _horizon(self, subject: Subject) -> float:
        """How far back the rules look: the seasonal baseline plus one window (and a day of slack)."""
        spike = subject.rules.spike
        return (spike.seasonal_days + 1) * 24 * HOUR + max(spike.window_minutes, subject.rules.negative_share.window_minutes) * 60

    def _rebuild_windows(self) -> None:
        for subject in self.subjects.values():
            window, stories = SubjectWindow(), {}
            for row in self.store.subject_window_rows(subject.id, self.clock - self._horizon(subject)):
                if row["story_start"]:
                    window.add(row["ts"], row["mention_id"], bool(row["negative"]))
                stories[row["story_id"]] = max(stories.get(row["story_id"], 0.0), row["ts"])
            window.first_ts = self.store.subject_first_ts(subject.id)
            self.windows[subject.id], self.subject_stories[subject.id] = window, stories

    # ---- ingest ---------------------------------------------------------------------------------

    def ingest(self, records: list[dict]) -> IngestResult:
        result, timer = IngestResult(), _Timer()
        with timer("validate"):
            mentions = self._validate(records, result)
        with timer("classify"):
            self._label(mentions)
        known = self.store.existing_ids([m.id for m in mentions])
        with self.store.transaction():
            for mention in sorted(mentions, key=lambda m: (to_ts(m.published_at, self.tz), m.id)):
                self._ingest_one(mention, mention.id in known, result, timer)
        result.seconds = timer.totals
        return result

    def _validate(self, records: list[dict], result: IngestResult) -> list[Mention]:
        by_id: dict[str, Mention] = {}
        for index, record in enumerate(records):
            try:
                mention = Mention.model_validate(record)
            except ValidationError as error:
                where = record.get("id", f"#{index}") if isinstance(record, dict) else f"#{index}"
                problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
                result.rejected.append(f"{where}: {problems}")
                continue
            if mention.published_at is None:
                result.rejected.append(f"{mention.id}: published_at is required (alerts run on event time)")
                continue
            by_id[mention.id] = mention  # a repeated id in one batch: the last one wins
        return list(by_id.values())

    def _label(self, mentions: list[Mention]) -> None:
        """Classify the mentions that lack any label, in one call."""
        missing = [m for m in mentions if any(getattr(m, task) is None for task in TASKS)]
        if not missing:
            return
        for mention, prediction in zip(missing, self.classify([_full_text(m) for m in missing])):
            for task in TASKS:
                setattr(mention, task, getattr(prediction, task))
            mention.scores = prediction.scores

    def _ingest_one(self, mention: Mention, known: bool, result: IngestResult, timer: _Timer) -> None:
        ts = to_ts(mention.published_at, self.tz)
        with timer("match"):
            text = _full_text(mention)
            matched = self._match(text, mention.channel)
        if not matched:
            result.unmatched += 1
            return
        if known:
            result.updated += 1
            self.store.update_reach(mention.id, mention.reposts, mention.comments, mention.likes, mention.views)
            return
        self.clock = max(self.clock, ts)
        with timer("stories"):
            story_id, new_story = self.stories.assign(mention.id, text, ts, mention.reposts, mention.views)
        row = _row(mention, ts, story_id, [s.id for s in matched])
        with timer("store"):
            self.store.upsert_mention(row)
        result.accepted += 1
        for subject in matched:
            starts = self._note_story(subject.id, story_id, ts, new_story)
            with timer("store"):
                self.store.link_subject(subject.id, mention.id, ts, starts, row["sentiment"] == "negative")
            if starts:
                self.windows[subject.id].add(ts, mention.id, row["sentiment"] == "negative")
            with timer("rules"):
                self.incidents.link(subject.id, row)
                if self.evaluate_rules:
                    result.alerts += self._evaluate(subject, row, ts, starts)

    def _match(self, text: str, channel: str | None) -> list[Subject]:
        normalized = normalize(text)
        tokens = set(tokenize(text))
        return [s for s in self.subjects.values() if s.matches(normalized, tokens, channel)]

    def _note_story(self, subject: str, story_id: str, ts: float, new_story: bool) -> bool:
        """Whether this mention starts the story for this subject (a copy of another subject's
        story that newly names this subject counts as a start here)."""
        seen = self.subject_stories[subject]
        starts = new_story or story_id not in seen
        seen[story_id] = max(seen.get(story_id, ts), ts)
        return starts

    # ---- rules ----------------------------------------------------------------------------------

    def _evaluate(self, subject: Subject, row: dict, ts: float, story_start: bool) -> list[Alert]:
        drafts = []
        config = subject.rules
        for name, check in (("viral", rules.viral), ("authority", rules.authority)):
            if getattr(config, name).enabled and not self._cooling(subject, name, ts):
                found = check(getattr(config, name), row)
                drafts += [self._draft(subject, name, ts, found)] if found else []
        if story_start:
            window = self.windows[subject.id]
            for name, check in (("negative_share", rules.negative_share), ("spike", rules.spike)):
                if getattr(config, name).enabled and not self._cooling(subject, name, ts):
                    found = check(getattr(config, name), window, ts)
                    drafts += [self._draft(subject, name, ts, found)] if found else []
            self._maybe_prune(subject, ts)
        return [self._raise(d) for d in drafts]

    def _draft(self, subject: Subject, rule: str, ts: float, found: dict) -> AlertDraft:
        return AlertDraft(subject=subject.id, rule=rule, ts=ts, drivers=found["numbers"], mention_ids=found["mention_ids"])

    def _cooling(self, subject: Subject, rule: str, ts: float) -> bool:
        key = (subject.id, rule)
        if key not in self._last_fired:
            self._last_fired[key] = self.store.last_fired(subject.id, rule)
        last = self._last_fired[key]
        return last is not None and ts - last < subject.cooldown_seconds(rule)

    def _raise(self, draft: AlertDraft) -> Alert:
        """Explain, group into an incident, store, remember for cooldown, publish."""
        subject = self.subjects[draft.subject]
        explained = rules.explain(self.store, subject, draft.mention_ids)
        if draft.crisis_type == "none":
            draft.crisis_type = rules.dominant_crisis_type(explained["crisis_types"])
        draft.drivers = {"rule": draft.rule, **draft.drivers, **explained, "crisis_type": draft.crisis_type}
        incident_id, severity = self.incidents.place(draft)
        alert = Alert(id=self._alert_id(draft), subject=draft.subject, rule=draft.rule, fired_at=iso(draft.ts, self.tz),
                      incident_id=incident_id, severity=severity, drivers=draft.drivers,
                      mention_ids=draft.mention_ids, crisis_type=draft.crisis_type)
        self.store.insert_alert({**alert.model_dump(), "ts": draft.ts})
        self.store.set_last_fired(draft.subject, draft.rule, draft.ts)
        self._last_fired[(draft.subject, draft.rule)] = draft.ts
        self.publish("alert.raised", {"alert": alert.line(), "crisis_type": alert.crisis_type,
                                      "subject_name": subject.name, "routing": subject.notify})
        return alert

    def _alert_id(self, draft: AlertDraft) -> str:
        base = f"{draft.subject}-{draft.rule}-{from_ts(draft.ts, self.tz):%Y%m%dT%H%M%S}"
        alert_id, n = base, 1
        while self.store.alert_exists(alert_id):
            n += 1
            alert_id = f"{base}-{n}"
        return alert_id

    def _maybe_prune(self, subject: Subject, ts: float) -> None:
        window = self.windows[subject.id]
        if len(window.times) % 4096 == 0:  # now and then: pruning is a list slice
            horizon = ts - self._horizon(subject)
            window.prune(horizon)
            stories = self.subject_stories[subject.id]
            for story_id in [s for s, last in stories.items() if last < horizon]:
                del stories[story_id]

    # ---- time-based rules and analyst actions ---------------------------------------------------

    def tick(self, now: datetime) -> list[Alert]:
        """Run the time-based rules at `now` (wall time live, event time in replay)."""
        drafts = self.incidents.tick(to_ts(now, self.tz))
        drafts = [d for d in drafts if self.evaluate_rules and not self._cooling(self.subjects[d.subject], d.rule, d.ts)]
        if not drafts:
            return []
        with self.store.transaction():
            return [self._raise(d) for d in drafts]

    def mark_step_done(self, incident_id: str, step_no: int, by: str, at: datetime) -> dict:
        return self.incidents.mark_step_done(incident_id, step_no, by, at)

    def resolve(self, incident_id: str, by: str, at: datetime) -> None:
        self.incidents.resolve(incident_id, by, at)

    def alerts(self, subject: str | None = None) -> list[Alert]:
        where, params = ("subject=?", (subject,)) if subject else ("1=1", ())
        return [Alert(**{k: v for k, v in a.items() if k != "ts"}) for a in self.store.alerts(where, params)]


def _full_text(mention: Mention) -> str:
    return f"{mention.title}\n{mention.text}" if mention.title else mention.text


def _row(mention: Mention, ts: float, story_id: str, subjects: list[str]) -> dict:
    scores = mention.scores or {}
    confidence = lambda task: scores.get(task, {}).get(getattr(mention, task), 1.0)
    return {"id": mention.id, "text": mention.text, "title": mention.title, "channel": mention.channel,
            "author": mention.author, "url": mention.url, "ts": ts, "reposts": mention.reposts,
            "comments": mention.comments, "likes": mention.likes, "views": mention.views,
            "sentiment": mention.sentiment, "topic": mention.topic, "crisis_type": mention.crisis_type,
            "sentiment_confidence": confidence("sentiment"), "crisis_confidence": confidence("crisis_type"),
            "scores": mention.scores, "story_id": story_id, "subjects": subjects}


class _Timer:
    """Seconds spent per stage, summed over a batch (the benchmark reads `rules`)."""

    def __init__(self):
        self.totals: dict[str, float] = defaultdict(float)

    def __call__(self, stage: str):
        return _Stage(self.totals, stage)


class _Stage:
    def __init__(self, totals: dict[str, float], stage: str):
        self.totals, self.stage = totals, stage

    def __enter__(self):
        self.start = time.perf_counter()

    def __exit__(self, *exc):
        self.totals[self.stage] += time.perf_counter() - self.start
