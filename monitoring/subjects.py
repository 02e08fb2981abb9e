"""Subjects (监测主题): what to watch, how to recognise it and when to alert.

One YAML file per subject, or a folder of them. A broken file raises SubjectError naming the file
and the field, e.g. `subjects/qinghe.yaml: rules.spike.ratio_at_least: Input should be a valid number`.
The minimal file needs only id, name and keywords; every rule threshold has a default."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from yuqing.text import add_words, normalize

# Authoritative sources for the authority rule: channel values, and author names of central media,
# regulators, police and courts (substring match on the author).
AUTHORITY_CHANNELS = ["regulator", "police", "court", "government", "procuratorate"]
CENTRAL_MEDIA = ["人民日报", "人民网", "新华社", "新华网", "新华视点", "央视", "cctv", "中央广播电视总台", "中国之声",
                 "光明日报", "经济日报", "中国日报", "中国新闻社", "中新社", "中新网", "求是", "法治日报", "中国青年报"]
AUTHORITY_AUTHORS = CENTRAL_MEDIA + ["市场监管", "监管总局", "金融监管", "银保监", "证监会", "人民银行", "网信办", "卫健委",
                                     "生态环境", "应急管理", "公安", "警方", "警情通报", "法院", "检察院"]


class SubjectError(ValueError):
    """A subject file the user can fix: the message names the file, the field and the problem."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Keywords(Strict):
    all: list[str] = Field(default_factory=list)   # every one must occur
    any: list[str] = Field(default_factory=list)   # at least one must occur (if any are given)
    none: list[str] = Field(default_factory=list)  # none may occur

    @field_validator("all", "any", "none")
    @classmethod
    def _no_blank_keywords(cls, words: list[str]) -> list[str]:
        if any(not w.strip() for w in words):
            raise ValueError("keywords must not be empty strings")
        return [normalize(w) for w in words]

    @model_validator(mode="after")
    def _something_to_match(self) -> Keywords:
        if not self.all and not self.any:
            raise ValueError("give at least one keyword in `any` or `all`")
        return self


class RuleBase(Strict):
    enabled: bool = True
    cooldown_hours: float | None = Field(default=None, gt=0)  # None: the subject's cooldown


class NegativeShareRule(RuleBase):
    window_minutes: float = Field(default=60, gt=0)
    above: float = Field(default=0.5, ge=0, lt=1)   # fires when the share is strictly above
    min_volume: int = Field(default=20, ge=1)       # stories in the window


class ViralRule(RuleBase):
    reposts_above: int = Field(default=1000, ge=0)        # strictly above
    views_at_least: int = Field(default=1_000_000, ge=0)  # at or above


class SpikeRule(RuleBase):
    window_minutes: float = Field(default=60, gt=0)
    recent_hours: int = Field(default=12, ge=1)      # previous hours compared with
    seasonal_days: int = Field(default=7, ge=0)      # same hour on the previous days
    ratio_at_least: float = Field(default=3.0, gt=0)
    z_at_least: float = Field(default=3.0, ge=0)
    min_count: int = Field(default=10, ge=1)         # stories in the last window
    min_history_hours: float = Field(default=12, ge=0)  # no baseline, no verdict


class AuthorityRule(RuleBase):
    min_confidence: float = Field(default=0.7, ge=0, le=1)
    channels: list[str] = Field(default_factory=lambda: list(AUTHORITY_CHANNELS))
    authors: list[str] = Field(default_factory=lambda: list(AUTHORITY_AUTHORS))


class SilenceRule(RuleBase):
    hours: float = Field(default=4.0, gt=0)  # the golden 4 hours


class Rules(Strict):
    negative_share: NegativeShareRule = Field(default_factory=NegativeShareRule)
    viral: ViralRule = Field(default_factory=ViralRule)
    spike: SpikeRule = Field(default_factory=SpikeRule)
    authority: AuthorityRule = Field(default_factory=AuthorityRule)
    silence: SilenceRule = Field(default_factory=SilenceRule)


class Subject(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    name: str = Field(min_length=1)
    keywords: Keywords
    channels: list[str] | None = None   # only these channels; None: every channel
    industry: str = "未注明"            # carried into cases written from incidents
    rules: Rules = Field(default_factory=Rules)
    cooldown_hours: float = Field(default=6.0, gt=0)
    incident_window_hours: float = Field(default=48.0, gt=0)
    notify: dict[str, Any] = Field(default_factory=dict)  # routing, passed through to publish payloads

    def cooldown_seconds(self, rule: str) -> float:
        own = getattr(self.rules, rule).cooldown_hours
        return (own if own is not None else self.cooldown_hours) * 3600

    def matches(self, text: str, tokens: set[str], channel: str | None) -> bool:
        """Keywords on the normalised raw text (substring) and on jieba tokens. Latin keywords must
        be whole tokens so `ofo` does not match inside another word."""
        if self.channels is not None and channel not in self.channels:
            return False
        found = lambda word: _keyword_in(word, text, tokens)
        return (all(found(w) for w in self.keywords.all)
                and (not self.keywords.any or any(found(w) for w in self.keywords.any))
                and not any(found(w) for w in self.keywords.none))

    def own_words(self) -> set[str]:
        """The subject's own name and keywords: never reported as a 'top term'."""
        k = self.keywords
        return {normalize(self.name), *k.all, *k.any}


_LATIN = re.compile(r"^[a-z0-9 ._-]+$")


def _keyword_in(word: str, text: str, tokens: set[str]) -> bool:
    if _LATIN.match(word):
        return word in tokens
    return word in text or word in tokens


def _problems(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in error.errors())


def load_subject_file(path: Path) -> list[Subject]:
    """One subject (a mapping) or several (a list of mappings) from one YAML file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise SubjectError(f"{path}: not valid YAML: {error}") from None
    items = data if isinstance(data, list) else [data]
    subjects = []
    for index, item in enumerate(items):
        where = f"[{index}]." if isinstance(data, list) else ""
        if not isinstance(item, dict):
            raise SubjectError(f"{path}: {where or '(top level)'} expected a mapping with id, name and keywords")
        try:
            subjects.append(Subject.model_validate(item))
        except ValidationError as error:
            raise SubjectError(f"{path}: {where}{_problems(error)}") from None
    return subjects


def load_subjects(path: str | Path) -> list[Subject]:
    """Subjects from a YAML file or every *.yaml / *.yml of a folder; ids must be unique."""
    path = Path(path)
    if not path.exists():
        raise SubjectError(f"{path}: no such file or folder")
    files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else [path]
    if not files:
        raise SubjectError(f"{path}: no subject files (*.yaml) in this folder")
    subjects, seen = [], {}
    for file in files:
        for subject in load_subject_file(file):
            if subject.id in seen:
                raise SubjectError(f"{file}: id: subject id {subject.id!r} already used in {seen[subject.id]}")
            seen[subject.id] = file
            subjects.append(subject)
    teach_segmenter(subjects)
    return subjects


def teach_segmenter(subjects: list[Subject]) -> None:
    """Organisation names and keywords become jieba words so token matching sees them whole."""
    add_words(sorted({w for s in subjects for w in s.own_words() if not _LATIN.match(w)}))
