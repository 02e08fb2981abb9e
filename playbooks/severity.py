"""Transparent severity grading after playbooks/SEVERITY.md: signals → levels per family → one major
decides → combinations → escalations, every step listed as a Chinese reason. The numbers live in
severity.yaml, validated against the signal registry in playbooks/signals.py.

`grade()` is what the service calls: the rule, plus the learned grader (playbooks/grader.py) on top
when one is available (the packaged `playbooks/grader_model/` unless YUQING_SEVERITY_MODEL names
another directory, or `rule` to use the rule alone)."""

from __future__ import annotations

import difflib
import os
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from playbooks.signals import (
    ATTENTION_FAMILIES,
    FAMILIES,
    HARM_FAMILIES,
    LEVEL_NAMES,
    SIGNALS,
    TextSignals,
    present,
    read_signals,
)
from yuqing.labels import CRISIS_TYPES, SEVERITY

RULE_FILE = Path(__file__).with_name("severity.yaml")
GRADES = list(SEVERITY)  # minor, general, major
REACH = {"reposts", "views", "mentions", "mentions_per_hour"}
ESCALATION_KEYS = {"negative_share_above", "single_mention_reposts_above", "spike_ratio_above",
                   "unanswered_hours_with_wide_spread", "still_on_sale_after_harm", "old_event_reach_only"}
SECTIONS = {"thresholds", "levels", "near_fraction", "near_signals", "near_from_event_itself", "event_itself",
            "not_counted", "escalations", "crisis_type_weights"}


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


class Finding(BaseModel):
    """One signal as graded: its family, level, whether it is the event itself or near a major threshold."""

    name: str
    family: str
    level: int
    value: float | bool
    near: bool = False
    body: bool = False
    reason: str


class Assessment(BaseModel):
    """Everything the rule saw and decided; the learned grader reads its features from here."""

    crisis_type: str | None
    findings: list[Finding]
    base_level: int  # the highest single signal
    combination: str | None  # "a", "b" or "c"
    escalations: list[str]
    level: int
    reasons: list[str]

    def family_level(self, family: str, body: bool | None = None) -> int:
        return max((f.level for f in self.findings if f.family == family and (body is None or f.body == body)), default=0)


# ---- the rule file --------------------------------------------------------------------------------

class RuleError(ValueError):
    """severity.yaml does not match the signal registry; the message names the key."""


def _unknown(path: Path, where: str, key: str, allowed) -> RuleError:
    close = difflib.get_close_matches(str(key), [str(a) for a in allowed], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return RuleError(f"{path.name}: {where}: unknown key {key!r}{hint}; allowed: {', '.join(sorted(map(str, allowed)))}")


def validate_rule(rule: dict, path: Path = RULE_FILE) -> dict:
    """Check every key against the registry and every value's shape; a clear error names the key."""
    if not isinstance(rule, dict):
        raise RuleError(f"{path.name}: expected a mapping at the top level")
    for key in rule:
        if key not in SECTIONS:
            raise _unknown(path, "top level", key, SECTIONS)
    for key in SECTIONS:
        if key not in rule:
            raise RuleError(f"{path.name}: missing section {key!r}")
    counts = {n for n, s in SIGNALS.items() if s.kind == "count"}
    flags = {n for n, s in SIGNALS.items() if s.kind == "flag"}
    for name, bounds in rule["thresholds"].items():
        if name not in counts:
            raise _unknown(path, "thresholds", name, counts)
        if not (isinstance(bounds, list) and len(bounds) == 2 and all(b is None or isinstance(b, (int, float)) for b in bounds)):
            raise RuleError(f"{path.name}: thresholds.{name}: expected [general from, major from] (numbers or null), got {bounds!r}")
    for name, level in rule["levels"].items():
        if name not in flags:
            raise _unknown(path, "levels", name, flags)
        if level not in (0, 1, 2):
            raise RuleError(f"{path.name}: levels.{name}: expected 0, 1 or 2, got {level!r}")
    for section, names in (("thresholds", counts), ("levels", flags)):
        missing = sorted(names - set(rule[section]))
        if missing:
            raise RuleError(f"{path.name}: {section}: no entry for signal(s) {', '.join(missing)}")
    for name in rule["near_signals"]:
        if name not in counts:
            raise _unknown(path, "near_signals", name, counts)
    for crisis_type in rule["near_from_event_itself"]:
        if crisis_type not in CRISIS_TYPES:
            raise _unknown(path, "near_from_event_itself", crisis_type, CRISIS_TYPES)
    for section in ("event_itself", "not_counted", "crisis_type_weights"):
        for crisis_type, value in rule[section].items():
            if crisis_type not in CRISIS_TYPES:
                raise _unknown(path, section, crisis_type, CRISIS_TYPES)
            for name in (value if isinstance(value, list) else []):
                if name not in SIGNALS:
                    raise _unknown(path, f"{section}.{crisis_type}", name, SIGNALS)
    for key in rule["escalations"]:
        if key not in ESCALATION_KEYS:
            raise _unknown(path, "escalations", key, ESCALATION_KEYS)
    return rule


@lru_cache
def load_rule(path: Path = RULE_FILE) -> dict:
    return validate_rule(yaml.safe_load(Path(path).read_text(encoding="utf-8")), Path(path))


# ---- the rule ---------------------------------------------------------------------------------

def _level(value: float, bounds: list) -> int:
    general, major = bounds
    if major is not None and value >= major:
        return 2
    if general is not None and value >= general:
        return 1
    return 0


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:g}"


def _merge_metrics(values: dict, metrics: IncidentMetrics | None) -> dict:
    if not metrics:
        return values
    values = dict(values)
    for name, figure in (("reposts", metrics.total_reposts), ("views", metrics.total_views), ("mentions", metrics.mentions),
                         ("mentions_per_hour", metrics.mentions_last_hour)):
        if figure:
            values[name] = max(float(figure), values.get(name) or 0.0)
    if metrics.central_media_mentions:
        values["central_media"] = True
    return values


def assess(text: str = "", metrics: IncidentMetrics | None = None, crisis_type: str | None = None,
           rule: dict | None = None, signals: TextSignals | None = None) -> Assessment:
    """Apply SEVERITY.md §3 to a description (and/or measured metrics)."""
    rule = rule or load_rule()
    signals = signals or read_signals(text or "", crisis_type)
    values = _merge_metrics(present(signals), metrics)
    weight = rule["crisis_type_weights"].get(crisis_type, 1.0)
    body = set(rule["event_itself"].get(crisis_type) or [])
    ignored = set(rule["not_counted"].get(crisis_type) or [])
    findings = []
    for name, value in values.items():
        spec = SIGNALS[name]
        if spec.family == "J" or name in ignored:
            continue
        evidence = signals.evidence.get(name, "")
        if spec.kind == "count":
            effective = value * weight if name in REACH else value
            bounds = rule["thresholds"][name]
            level = _level(effective, bounds)
            near = (name in rule["near_signals"] and bounds[1] is not None and level == 1
                    and effective >= rule["near_fraction"] * bounds[1]
                    and (name not in body or crisis_type in rule["near_from_event_itself"]))
            weighted = f"×{weight:g}" if name in REACH and weight != 1 else ""
            reason = f"{spec.label} {_fmt(value)}{weighted} → {LEVEL_NAMES[level]}" + ("（临界）" if near else "")
        else:
            level, near = rule["levels"][name], False
            reason = f"{spec.label}" + (f"（{evidence}）" if evidence else "") + f" → {LEVEL_NAMES[level]}"
        if level == 0:
            continue
        if name in body and level < 2:
            reason += "（事件本体，不参与组合）"
        findings.append(Finding(name=name, family=spec.family, level=level, value=value, near=near,
                                body=name in body, reason=reason))
    findings.sort(key=lambda f: (-f.level, f.family, f.name))
    findings, old_event = _old_event_reach_only(findings, values, rule["escalations"])
    reasons = [f.reason for f in findings] + old_event
    base = max((f.level for f in findings), default=0)
    level, combination = base, None
    if base < 2:
        combination, why = _combine(findings)
        if combination:
            level = 2
            reasons.append(why)
    level, escalations = _escalate(level, values, metrics, findings, rule["escalations"])
    reasons += escalations
    if not reasons:
        reasons.append("未见扩散、伤害或监管信号 → 轻微")
    return Assessment(crisis_type=crisis_type, findings=findings, base_level=base, combination=combination,
                      escalations=escalations, level=level, reasons=reasons)


def _old_event_reach_only(findings: list[Finding], values: dict, rule: dict) -> tuple[list[Finding], list[str]]:
    """An old, settled event reposted again brings no new victims: only this time's spread (family A)
    counts (SEVERITY.md, rulings). A death named in the text keeps everything, to stay on the safe side."""
    if not (rule.get("old_event_reach_only") and values.get("old_event_resurfaced")) or values.get("deaths"):
        return findings, []
    kept = [f for f in findings if f.family == "A"]
    dropped = len(findings) - len(kept)
    return kept, [f"旧闻翻炒，旧事件早已处置：只按本次传播定级（不计旧事件的 {dropped} 个信号）"]


def _family_names(codes) -> str:
    return " + ".join(FAMILIES[c][0] for c in sorted(codes))


def _combine(findings: list[Finding]) -> tuple[str | None, str]:
    """SEVERITY.md §3 step 4: families at general (the event itself excluded), then (a), (b), (c)."""
    general = {f.family for f in findings if f.level >= 1 and not f.body}
    harm = general & HARM_FAMILIES
    if len(harm) >= 2:
        return "a", f"组合(a)：{_family_names(harm)} 两个以上实害家族均达一般 → 重大"
    if harm and general >= ATTENTION_FAMILIES:
        return "b", f"组合(b)：{_family_names(harm)} + 传播与媒体 + 监管关注 → 重大"
    for near in (f for f in findings if f.near):
        others = {f.family for f in findings if f.level >= 1 and not f.body and f.name != near.name} & HARM_FAMILIES
        if others:
            return "c", f"组合(c)：{_family_names(others)} + 临界信号「{SIGNALS[near.name].label}」→ 重大"
    return None, ""


def _escalate(level: int, values: dict, metrics: IncidentMetrics | None, findings: list[Finding],
              rule: dict) -> tuple[int, list[str]]:
    reasons = []
    share = metrics.negative_share if metrics and metrics.negative_share is not None else (
        values["negative_share_pct"] / 100 if values.get("negative_share_pct") else None)
    if share is not None and share > rule["negative_share_above"]:
        reasons.append(f"负面占比 {share:.0%} > {rule['negative_share_above']:.0%}，升一级")
    if metrics and metrics.max_reposts is not None and metrics.max_reposts > rule["single_mention_reposts_above"]:
        reasons.append(f"单条转发 {metrics.max_reposts:,} > {rule['single_mention_reposts_above']:,}，升一级")
    ratio = (metrics.mentions_last_hour / metrics.baseline_per_hour
             if metrics and metrics.mentions_last_hour and metrics.baseline_per_hour else values.get("spike_ratio"))
    if ratio and ratio > rule["spike_ratio_above"]:
        reasons.append(f"近1小时信息量为基线的 {ratio:.1f} 倍，升一级")
    spreading = ((values.get("platforms") or 0) >= 2 or values.get("multi_platform") or values.get("multi_region")
                 or values.get("local_media") or values.get("central_media") or values.get("hot_search"))
    silence = values.get("unanswered_hours") or 0
    if spreading and silence >= rule["unanswered_hours_with_wide_spread"]:
        reasons.append(f"扩散中且 {silence:g} 小时以上未回应，升一级")
    harmed = any(f.family in {"D", "C", "G"} for f in findings) or values.get("complaints")
    if rule.get("still_on_sale_after_harm") and values.get("still_on_sale") and harmed:
        reasons.append("已有伤害、投诉或监管提示后问题产品仍在售/故障未恢复，升一级")
    return min(2, level + len(reasons)), reasons


def rule_grade(text: str = "", metrics: IncidentMetrics | None = None, crisis_type: str | None = None,
               rule: dict | None = None) -> Grade:
    """The rule alone (SEVERITY.md), without the learned grader."""
    result = assess(text, metrics, crisis_type, rule)
    return Grade(severity=GRADES[result.level], level=result.level, reasons=result.reasons)


def grade(text: str = "", metrics: IncidentMetrics | None = None, crisis_type: str | None = None,
          rule: dict | None = None) -> Grade:
    """Grade an incident from its description and/or its measured metrics: the rule, and the learned
    grader on top when one is configured (YUQING_SEVERITY_MODEL; default the packaged model)."""
    from playbooks.grader import default_grader

    grader = default_grader()
    if grader is None or rule is not None:
        return rule_grade(text, metrics, crisis_type, rule)
    return grader.grade(text, metrics, crisis_type)


def severity_model_setting() -> str | None:
    return os.environ.get("YUQING_SEVERITY_MODEL")
