"""Limits that hold for every endpoint, and the refusals that name the field and the limit.

Every bound here is checked before any work starts, so no input reaches the model, the search
index or the aggregation engine unbounded; a refusal is an HTTP 4xx whose body names the field
(`error`, `field`, `limit`), never a 5xx."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from search.query import MAX_QUERY_CHARS, aware_in_range  # noqa: F401  (re-exported: one place for limits)
from yuqing.errors import UserError
from yuqing.schemas import Mention

MAX_TEXT_CHARS = 5000  # one mention, one incident description, one text to classify
MAX_TEXTS = 1000  # texts in one /classify request (split into model batches, all answered)
MAX_MENTIONS = 1000  # mentions in one /ingest request
MAX_K = 50  # similar cases per answer
MAX_ID_CHARS = 200
MAX_SHORT_CHARS = 500  # title, author, channel, subject
MAX_URL_CHARS = 2000
MAX_COUNT = 10**12  # reposts, views …: larger is an input error
MIN_INTERVAL = timedelta(minutes=1)
MAX_INTERVAL = timedelta(days=30)
MAX_BUCKETS = 5000  # date-histogram buckets of one dashboard answer
MAX_LIST = 1000  # rows of one /alerts, /incidents or /deliveries answer
MAX_INCIDENT_IDS = 1000  # mention ids listed in one /incident answer (the count says how many in all)
MAX_STEP_NO = 1000
MAX_BY_CHARS = 100  # who marked a step done or resolved an incident
MAX_SUBJECTS = 500  # subjects the service monitors
MAX_SUBJECT_BYTES = 64 * 1024  # one subject as JSON
MAX_KEYWORDS = 200  # per keyword list (any, all, none)
MAX_KEYWORD_CHARS = 100
MAX_SUBJECT_CHANNELS = 50
MAX_WEBHOOKS = 100  # subscriptions
MAX_WEBHOOK_EVENTS = 20
# Subject rule numbers that size loops or windows: (dotted path, lowest, highest).
SUBJECT_NUMBER_BOUNDS = (
    ("cooldown_hours", 0, 24 * 365), ("incident_window_hours", 0, 24 * 90),
    ("rules.negative_share.window_minutes", 1, 7 * 24 * 60), ("rules.negative_share.min_volume", 1, 10**6),
    ("rules.spike.window_minutes", 1, 7 * 24 * 60), ("rules.spike.recent_hours", 1, 24 * 30),
    ("rules.spike.seasonal_days", 0, 90), ("rules.spike.min_count", 1, 10**6),
    ("rules.spike.min_history_hours", 0, 24 * 90), ("rules.spike.ratio_at_least", 0, 10**6),
    ("rules.spike.z_at_least", 0, 10**6), ("rules.viral.reposts_above", 0, MAX_COUNT),
    ("rules.viral.views_at_least", 0, MAX_COUNT), ("rules.silence.hours", 0, 24 * 30),
    *((f"rules.{rule}.cooldown_hours", 0, 24 * 365) for rule in ("negative_share", "viral", "spike", "authority",
                                                                   "silence")),
)
MAX_SPIKE_WINDOWS = 2000  # rules.spike.recent_hours * 60 / window_minutes: windows compared per mention
INTERVAL_PATTERN = re.compile(r"^([1-9][0-9]{0,5})([mhd])$")
UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}


class LimitError(UserError, ValueError):
    """A request outside a limit: answered 400 (or the given status) naming the field and the limit."""

    def __init__(self, field: str, message: str, limit: Any = None, status: int = 400):
        super().__init__(f"{field}: {message}")
        self.field, self.limit, self.status = field, limit, status


# Checked per request before batching, so one bad text never fails another client's request.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT_CHARS)]
Short = Annotated[str, StringConstraints(max_length=MAX_SHORT_CHARS)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ID_CHARS)]
SubjectId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
By = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_BY_CHARS)]
ListLimit = Annotated[int, Field(ge=1, le=MAX_LIST)]
# A time within 2000…2100; a naive one is taken in YUQING_TIMEZONE.
Moment = Annotated[datetime, AfterValidator(lambda value: aware_in_range(value, "time"))]


def parse_interval(interval: str) -> timedelta:
    """'15m', '1h', '1d' … within 1m…30d; anything else is refused with the accepted form."""
    match = INTERVAL_PATTERN.match(interval.strip()) if isinstance(interval, str) else None
    if not match:
        raise LimitError("interval", f"{interval!r} is not an interval: use <n>m, <n>h or <n>d, from 1m to 30d",
                         limit="1m…30d")
    value = int(match.group(1)) * UNITS[match.group(2)]
    if not MIN_INTERVAL <= value <= MAX_INTERVAL:
        raise LimitError("interval", f"{interval!r} is outside 1m…30d", limit="1m…30d")
    return value


def check_buckets(interval: str, step: timedelta, start: datetime | None, end: datetime | None) -> None:
    """Refuse a histogram with more than MAX_BUCKETS buckets over [start, end]."""
    if start is None or end is None or end <= start:
        return
    buckets = int((end - start) / step) + 1
    if buckets > MAX_BUCKETS:
        raise LimitError("interval", f"{interval} over {start:%Y-%m-%d %H:%M} … {end:%Y-%m-%d %H:%M} gives {buckets:,} "
                         f"buckets, more than {MAX_BUCKETS:,}: use a coarser interval or narrow filters.since/until",
                         limit=MAX_BUCKETS)


class IngestMention(Mention):
    """A mention as `POST /ingest` takes it: the `yuqing.schemas.Mention` fields with bounds.
    `scores` and `embedding` are always computed by the champion (given ones are ignored);
    given labels are kept, as `yuqing index` does."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    title: Short | None = None
    channel: Short | None = None
    url: Annotated[str, StringConstraints(max_length=MAX_URL_CHARS)] | None = None
    author: Short | None = None
    author_followers: Count | None = None
    published_at: datetime | None = Field(default=None, description="2000…2100; naive times are taken in YUQING_TIMEZONE (Asia/Shanghai)")
    reposts: Count = 0
    comments: Count = 0
    likes: Count = 0
    views: Count = 0
    subject: Short | None = None

    @model_validator(mode="before")
    @classmethod
    def _computed_by_the_service(cls, data: Any) -> Any:
        if isinstance(data, dict) and ("scores" in data or "embedding" in data):
            data = {k: v for k, v in data.items() if k not in ("scores", "embedding")}
        return data

    @field_validator("published_at")
    @classmethod
    def _published_at(cls, value: datetime | None) -> datetime | None:
        return aware_in_range(value, "published_at")


class ServedPrediction(BaseModel):
    """A classification answer: three labels, per-label scores, the embedding and the model version."""

    model_config = ConfigDict(protected_namespaces=())


    sentiment: str
    topic: str
    crisis_type: str
    scores: dict[str, dict[str, float]]
    embedding: list[float] | None = None
    model_version: str
