"""Pydantic schemas shared by training, search, playbooks and serving."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, field_validator

from yuqing.labels import CRISIS_TYPE, SENTIMENT, SEVERITY, TOPIC

if TYPE_CHECKING:  # the label sets live in yuqing.labels; a type checker sees plain strings
    Sentiment: TypeAlias = str
    Topic: TypeAlias = str
    CrisisType: TypeAlias = str
    Severity: TypeAlias = str
else:  # pydantic validates against the label ids
    Sentiment = Literal[tuple(SENTIMENT)]
    Topic = Literal[tuple(TOPIC)]
    CrisisType = Literal[tuple(CRISIS_TYPE)]
    Severity = Literal[tuple(SEVERITY)]


class Prediction(BaseModel):
    """All three labels for one text, a probability per label of each task, and the embedding."""

    sentiment: Sentiment
    topic: Topic
    crisis_type: CrisisType
    scores: dict[str, dict[str, float]]
    embedding: list[float] | None = None

    def confidence(self, task: str) -> float:
        return self.scores[task][getattr(self, task)]

    def runner_up(self, task: str) -> tuple[str, float]:
        ranked = sorted(self.scores[task].items(), key=lambda kv: kv[1], reverse=True)
        return ranked[1]


class Mention(BaseModel):
    """A post, news item or comment about an organisation, as indexed for analysts."""

    model_config = ConfigDict(extra="ignore")

    id: str
    text: str = Field(min_length=1)
    title: str | None = None
    channel: str | None = None
    url: str | None = None
    author: str | None = None
    author_followers: int | None = Field(default=None, ge=0)
    published_at: datetime | None = None
    reposts: int = Field(default=0, ge=0)
    comments: int = Field(default=0, ge=0)
    likes: int = Field(default=0, ge=0)
    views: int = Field(default=0, ge=0)
    subject: str | None = None  # the organisation the mention is about
    sentiment: Sentiment | None = None
    topic: Topic | None = None
    crisis_type: CrisisType | None = None
    scores: dict[str, dict[str, float]] | None = None
    embedding: list[float] | None = None


class TimelineEntry(BaseModel):
    phase: Literal["初期", "发酵期", "高峰期", "缓和期"]
    at_hours: float = Field(ge=0)
    event: str = Field(min_length=2)


class CaseAction(BaseModel):
    at_hours: float = Field(ge=0)
    action: str = Field(min_length=2)
    effective: bool


class CaseOutcome(BaseModel):
    hours_to_resolution: float = Field(gt=0)
    negative_share_before: float = Field(ge=0, le=1)
    negative_share_after: float = Field(ge=0, le=1)
    what_went_wrong: str


class Case(BaseModel):
    """A historical crisis in the case library."""

    model_config = ConfigDict(extra="forbid")

    id: str
    title: str = Field(min_length=4)
    organisation: str
    industry: str
    crisis_type: CrisisType
    severity: Severity
    started_at: datetime
    summary: str = Field(min_length=20)
    timeline: list[TimelineEntry] = Field(min_length=1)
    actions: list[CaseAction] = Field(min_length=1)
    outcome: CaseOutcome
    lessons: list[str] = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    embedding: list[float] | None = None

    @field_validator("crisis_type")
    @classmethod
    def _a_case_is_a_crisis(cls, value: str) -> str:
        if value == "none":
            raise ValueError("a case must have a crisis type other than 'none'")
        return value

    def search_text(self) -> str:
        """The text a case is found by: what happened, in the words people use for it."""
        return "\n".join([self.title, self.summary, " ".join(self.tags)])
