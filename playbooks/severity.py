"""Transparent severity grading: signals → levels → escalations, every step listed as a reason.
The numbers live in severity.yaml."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from playbooks.signals import TextSignals, read_signals
from yuqing.labels import SEVERITY

RULE_FILE = Path(__file__).with_name("severity.yaml")
GRADES = list(SEVERITY)  # minor, general, major
REACH = {"reposts", "views", "mentions", "mentions_per_hour"}
SIGNAL_NAMES = {"reposts": "转发量", "views": "阅读/播放量", "mentions": "相关信息量", "mentions_per_hour": "近1小时信息量",
                "deaths": "死亡人数", "injured": "受伤/不适人数", "affected_people": "涉及人数", "amount_yuan": "涉及金额(元)",
                "unanswered_hours": "未回应时长(小时)", "platforms": "扩散平台数", "central_media": "央媒报道",
                "national_hot_search": "全国热搜前列", "regulator_formal": "监管/警方立案或停业等正式处置",
                "provincial_media": "省级/地方/行业媒体报道", "hot_search": "登上热搜", "regulator_involved": "监管或警方介入、约谈",
                "multi_region": "跨地区扩散", "multi_platform": "多平台扩散"}


class IncidentMetrics(BaseModel):
    """Figures measured over an incident's mentions (all optional)."""

    mentions: int | None = Field(default=None, ge=0)
    mentions_last_hour: int | None = Field(default=None, ge=0)
    baseline_per_hour: float | None = Field(default=None, ge=0)
    total_reposts: int | None = Field(default=None, ge=0)
    max_reposts: int | None = Field(default=None, ge=0)
    total_views: int | None = Field(default=None, ge=0)
    negative_share: float | None = Field(default=None, ge=0, le=1)
    central_media_mentions: int | None = Field(default=None, ge=0)


class Grade(BaseModel):
    severity: str
    level: int
    reasons: list[str]


@lru_cache
def load_rule(path: Path = RULE_FILE) -> dict:
    rule = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key in ("thresholds", "levels", "escalations", "crisis_type_weights"):
        if key not in rule:
            raise ValueError(f"{path}: missing section {key!r}")
    return rule


def _level(value: float, bounds: list) -> int:
    general, major = bounds
    if major is not None and value >= major:
        return 2
    if general is not None and value >= general:
        return 1
    return 0


def _numbers(signals: TextSignals, metrics: IncidentMetrics | None) -> dict[str, float]:
    numbers = {k: getattr(signals, k) for k in ("reposts", "views", "deaths", "injured", "affected_people",
                                                 "amount_yuan", "unanswered_hours")}
    numbers["platforms"] = len(signals.platforms) or None
    if metrics:
        numbers["reposts"] = max(filter(None, [numbers["reposts"], metrics.total_reposts]), default=None)
        numbers["views"] = max(filter(None, [numbers["views"], metrics.total_views]), default=None)
        numbers["mentions"] = metrics.mentions
        numbers["mentions_per_hour"] = metrics.mentions_last_hour
    return {k: v for k, v in numbers.items() if v is not None}


def grade(text: str = "", metrics: IncidentMetrics | None = None, crisis_type: str | None = None,
          rule: dict | None = None) -> Grade:
    """Grade an incident from its description and/or its measured metrics."""
    rule = rule or load_rule()
    signals = read_signals(text or "")
    weight = rule["crisis_type_weights"].get(crisis_type, 1.0)
    level, reasons = 0, []
    for name, value in _numbers(signals, metrics).items():
        effective = value * weight if name in REACH else value
        signal_level = _level(effective, rule["thresholds"][name])
        if signal_level:
            weighted = f"×{weight}" if name in REACH and weight != 1 else ""
            reasons.append(f"{SIGNAL_NAMES[name]} {value:,.0f}{weighted} → {GRADES[signal_level]}")
        level = max(level, signal_level)
    flags = signals.model_dump()
    if metrics and metrics.central_media_mentions:
        flags["central_media"] = True
    ignored = {name for name, types in rule.get("ignore_for_crisis_type", {}).items() if crisis_type in types}
    for name, flag_level in rule["levels"].items():
        if flags.get(name) and name not in ignored:
            reasons.append(f"{SIGNAL_NAMES[name]} → {GRADES[flag_level]}")
            level = max(level, flag_level)
    level, escalation_reasons = _escalate(level, signals, metrics, rule["escalations"])
    reasons += escalation_reasons
    if not reasons:
        reasons.append("未见扩散、伤害或监管信号 → minor")
    return Grade(severity=GRADES[level], level=level, reasons=reasons)


def _escalate(level: int, signals: TextSignals, metrics: IncidentMetrics | None, rule: dict) -> tuple[int, list[str]]:
    reasons = []
    if metrics:
        if metrics.negative_share is not None and metrics.negative_share > rule["negative_share_above"]:
            reasons.append(f"负面占比 {metrics.negative_share:.0%} > {rule['negative_share_above']:.0%}，升一级")
        if metrics.max_reposts is not None and metrics.max_reposts > rule["single_mention_reposts_above"]:
            reasons.append(f"单条转发 {metrics.max_reposts} > {rule['single_mention_reposts_above']}，升一级")
        if metrics.mentions_last_hour and metrics.baseline_per_hour:
            ratio = metrics.mentions_last_hour / metrics.baseline_per_hour
            if ratio > rule["spike_ratio_above"]:
                reasons.append(f"近1小时信息量为基线的 {ratio:.1f} 倍，升一级")
    wide = signals.multi_region or signals.multi_platform
    if wide and (signals.unanswered_hours or 0) >= rule["unanswered_hours_with_wide_spread"]:
        reasons.append(f"大范围扩散且 {signals.unanswered_hours:g} 小时未回应，升一级")
    return min(2, level + len(reasons)), reasons
