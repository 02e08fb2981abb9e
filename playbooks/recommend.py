"""From an incident to a response plan: crisis type, severity, playbook tier, dated steps and the
most similar historical cases with what worked and what failed."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from playbooks.library import default_playbooks
from playbooks.schema import LinkedAction, Playbook
from playbooks.severity import IncidentMetrics, grade
from yuqing.labels import CRISIS_TYPE, SEVERITY
from yuqing.predictor import Predictor
from yuqing.schemas import Mention

# (incident text, its embedding, crisis types to prefer, k) -> hits as dicts with id, score, why, source.
# Given by the caller (serving wires in the search backend), so playbooks need not import search.
CaseFinder = Callable[[str, "list[float] | None", list[str], int], list[dict]]

CLOSE_RUNNER_UP = 0.15  # runner-up within this probability of the winner is reported as an alternative


MAX_INCIDENT_CHARS = 5000  # the same limit as a classified text
MAX_INCIDENT_MENTIONS = 1000
MAX_METRIC = 10**12  # any count or amount above this is an input error, not an incident


def _aware(value: datetime | None, field: str) -> datetime | None:
    """Dates within 2000…2100; a naive one is taken in YUQING_TIMEZONE (Asia/Shanghai), explicitly."""
    if value is None:
        return None
    if not 2000 <= value.year <= 2100:
        raise ValueError(f"{field} must be between 2000-01-01 and 2100-12-31 (got {value.isoformat()})")
    if value.tzinfo is None or value.utcoffset() is None:
        from yuqing.config import get_settings

        value = value.replace(tzinfo=ZoneInfo(get_settings().timezone))
    return value


class Incident(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)  # a whitespace-only text is refused, not planned for

    text: str = Field(min_length=4, max_length=MAX_INCIDENT_CHARS)
    detected_at: datetime | None = None  # default: now; naive: in the configured time zone
    organisation: str | None = Field(default=None, max_length=200)
    mentions: list[Mention] = Field(default_factory=list, max_length=MAX_INCIDENT_MENTIONS)
    metrics: IncidentMetrics | None = None

    @field_validator("detected_at")
    @classmethod
    def _detected_at(cls, value: datetime | None) -> datetime | None:
        return _aware(value, "detected_at")

    @model_validator(mode="after")
    def _bounded(self) -> Incident:
        for i, mention in enumerate(self.mentions):
            if len(mention.text) > MAX_INCIDENT_CHARS:
                raise ValueError(f"mentions.{i}.text: at most {MAX_INCIDENT_CHARS} characters (got {len(mention.text)})")
            mention.published_at = _aware(mention.published_at, f"mentions.{i}.published_at")
            for name in ("author_followers", "reposts", "comments", "likes", "views"):
                if (getattr(mention, name) or 0) > MAX_METRIC:
                    raise ValueError(f"mentions.{i}.{name}: at most {MAX_METRIC:.0e}")
        for name, value in (self.metrics.model_dump() if self.metrics else {}).items():
            if value is not None and not (math.isfinite(value) and value <= MAX_METRIC):
                raise ValueError(f"metrics.{name}: a finite number at most {MAX_METRIC:.0e}")
        return self


class ScheduledStep(BaseModel):
    action: str
    owner: str
    deadline_hours: float
    due_at: datetime
    channels: list[str]
    template: str | None
    resources: list[str]
    linked_systems: list[LinkedAction]


class SimilarCase(BaseModel):
    id: str
    title: str
    crisis_type: str
    severity: str
    score: float
    why: str
    worked: list[str]
    failed: list[str]
    what_went_wrong: str
    lessons: list[str]


class Recommendation(BaseModel):
    crisis_type: str
    crisis_confidence: float
    runner_up: tuple[str, float] | None
    sentiment: str
    severity: str
    severity_reasons: list[str]
    playbook: str
    playbook_name: str
    tier_summary: str
    detected_at: datetime
    steps: list[ScheduledStep]
    do_not: list[str]
    similar_cases: list[SimilarCase]
    rationale: list[str]


def metrics_from_mentions(mentions: Sequence[Mention], now: datetime) -> IncidentMetrics:
    """Volume, reach, velocity and negative share measured over an incident's labelled mentions."""
    labelled = [m for m in mentions if m.sentiment]
    last_hour = [m for m in mentions if m.published_at and now - timedelta(hours=1) <= m.published_at <= now]
    times = sorted(m.published_at for m in mentions if m.published_at)
    hours = max((times[-1] - times[0]).total_seconds() / 3600, 1.0) if times else None
    return IncidentMetrics(
        mentions=len(mentions), mentions_last_hour=len(last_hour) if times else None,
        baseline_per_hour=(len(mentions) - len(last_hour)) / hours if hours and len(mentions) > len(last_hour) else None,
        total_reposts=sum(m.reposts for m in mentions), max_reposts=max((m.reposts for m in mentions), default=0),
        total_views=sum(m.views for m in mentions),
        negative_share=sum(m.sentiment == "negative" for m in labelled) / len(labelled) if labelled else None,
    )


BLANKS = {"organisation": "【组织名称】", "incident": "【事件概述】", "date": "【日期】", "hotline": "【客服热线】",
          "product": "【产品/业务】", "progress": "【处置进展】", "contact": "【联系方式】"}


def fill_template(template: str | None, values: dict[str, str]) -> str | None:
    """Fill the placeholders we know; leave the rest as visible blanks (【客服热线】) for the writer."""
    if not template:
        return None
    return template.format_map({**BLANKS, **{k: v for k, v in values.items() if v}})


def schedule(playbook: Playbook, severity: str, detected_at: datetime, values: dict[str, str]) -> list[ScheduledStep]:
    return [ScheduledStep(action=s.action, owner=s.owner, deadline_hours=s.deadline_hours,
                          due_at=detected_at + timedelta(hours=s.deadline_hours), channels=s.channels,
                          template=fill_template(s.template, values), resources=s.resources,
                          linked_systems=s.linked_systems)
            for s in playbook.tiers[severity].steps]  # type: ignore[index]  # severity ids are the tier keys


def _similar(hit: dict) -> SimilarCase:
    case = hit["source"]
    return SimilarCase(
        id=hit["id"], title=case["title"], crisis_type=case["crisis_type"], severity=case["severity"],
        score=round(hit["score"], 4), why=hit.get("why", ""),
        worked=[a["action"] for a in case.get("actions", []) if a.get("effective")],
        failed=[a["action"] for a in case.get("actions", []) if not a.get("effective")],
        what_went_wrong=case.get("outcome", {}).get("what_went_wrong", ""), lessons=case.get("lessons", []))


def recommend(incident: Incident, predictor: Predictor, find_cases: CaseFinder | None = None,
              timezone: str = "Asia/Shanghai", k: int = 5) -> Recommendation:
    zone = ZoneInfo(timezone)
    detected_at = (incident.detected_at or datetime.now(zone)).astimezone(zone)
    prediction = predictor.predict([incident.text])[0]
    crisis_type, confidence = prediction.crisis_type, prediction.confidence("crisis_type")
    runner_label, runner_score = _best_crisis_runner_up(prediction.scores["crisis_type"], crisis_type)
    rationale = [f"模型判定危机类型为「{CRISIS_TYPE[crisis_type]}」(置信度 {confidence:.2f})"]
    if crisis_type == "none":
        # The analyst asked for a response plan, so take the most likely crisis type.
        crisis_type, confidence = runner_label, runner_score
        runner_label, runner_score = _best_crisis_runner_up(prediction.scores["crisis_type"], crisis_type)
        rationale.append(f"模型认为未必构成危机；按最可能的危机类型「{CRISIS_TYPE[crisis_type]}」({confidence:.2f})准备预案")
    runner_up = (runner_label, runner_score) if confidence - runner_score <= CLOSE_RUNNER_UP else None
    if runner_up:
        rationale.append(f"次选类型「{CRISIS_TYPE[runner_label]}」({runner_score:.2f})与首选接近，请人工确认")
    metrics = incident.metrics or (metrics_from_mentions(incident.mentions, detected_at) if incident.mentions else None)
    graded = grade(incident.text, metrics, crisis_type)
    rationale.append(f"严重程度「{SEVERITY[graded.severity]}」: " + "；".join(graded.reasons))
    playbook = default_playbooks()[crisis_type]
    values = {"organisation": incident.organisation or "", "date": detected_at.strftime("%Y年%m月%d日")}
    cases = []
    if find_cases is not None:
        types = [crisis_type] + ([runner_up[0]] if runner_up else [])
        cases = [_similar(hit) for hit in find_cases(incident.text, prediction.embedding, types, k)]
    return Recommendation(
        crisis_type=crisis_type, crisis_confidence=round(confidence, 4), runner_up=runner_up,
        sentiment=prediction.sentiment, severity=graded.severity, severity_reasons=graded.reasons,
        playbook=playbook.id, playbook_name=playbook.name, tier_summary=playbook.tiers[graded.severity].summary,  # type: ignore[index]
        detected_at=detected_at, steps=schedule(playbook, graded.severity, detected_at, values),
        do_not=[f"{d.action}——{d.why}" for d in playbook.do_not], similar_cases=cases, rationale=rationale)


def _best_crisis_runner_up(scores: dict[str, float], winner: str) -> tuple[str, float]:
    ranked = sorted(((label, s) for label, s in scores.items() if label not in (winner, "none")), key=lambda kv: kv[1], reverse=True)
    return ranked[0]


def output_line(record: dict, plan: Recommendation) -> dict:
    """One line of `yuqing recommend --input` output: the input keys (labels the input already
    carried kept as given_<key>) plus the plan's labels, dated steps and similar cases."""
    line = {(f"given_{k}" if k in ("crisis_type", "severity") else k): v for k, v in record.items()}
    line.update({"crisis_type": plan.crisis_type, "severity": plan.severity, "playbook": plan.playbook,
                 "steps": [s.model_dump(mode="json") for s in plan.steps],
                 "similar_cases": [{"id": c.id, "crisis_type": c.crisis_type, "score": c.score} for c in plan.similar_cases],
                 "recommendation": plan.model_dump(mode="json", exclude={"steps", "similar_cases"})})
    return line


def render_text(r: Recommendation) -> str:
    """The plan as Chinese text for the analyst."""
    lines = [f"【危机类型】{CRISIS_TYPE[r.crisis_type]}（置信度 {r.crisis_confidence:.2f}）"
             + (f"，次选：{CRISIS_TYPE[r.runner_up[0]]}（{r.runner_up[1]:.2f}）" if r.runner_up else ""),
             f"【严重程度】{SEVERITY[r.severity]}：{'；'.join(r.severity_reasons)}",
             f"【适用预案】{r.playbook_name} · {SEVERITY[r.severity]}级：{r.tier_summary}",
             f"【发现时间】{r.detected_at:%Y-%m-%d %H:%M %Z}", "", "【处置步骤】"]
    for i, s in enumerate(r.steps, 1):
        lines.append(f"{i}. [{s.due_at:%m-%d %H:%M} 前，{s.deadline_hours:g} 小时内] {s.owner}：{s.action}")
        if s.channels:
            lines.append(f"   渠道：{'、'.join(s.channels)}")
        for link in s.linked_systems:
            lines.append(f"   联动 {link.system.upper()}：{link.action}")
        if s.template:
            lines.append("   口径模板：" + s.template.strip().replace("\n", "\n   "))
    lines += ["", "【切忌】"] + [f"- {d}" for d in r.do_not]
    if r.similar_cases:
        lines += ["", "【相似历史案例】"]
        for c in r.similar_cases:
            lines.append(f"- {c.title}（{CRISIS_TYPE[c.crisis_type]}，{SEVERITY[c.severity]}，{c.why}）")
            if c.worked:
                lines.append(f"  有效做法：{c.worked[0]}")
            if c.failed:
                lines.append(f"  失误：{c.failed[0]}")
            if c.lessons:
                lines.append(f"  教训：{c.lessons[0]}")
    lines += ["", "【判断依据】"] + [f"- {x}" for x in r.rationale]
    return "\n".join(lines)
