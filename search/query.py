"""Search requests and answers, identical for every backend."""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, StringConstraints, field_validator

from search.collections import CollectionSpec
from yuqing.errors import UserError
from yuqing.text import tokenize

MAX_QUERY_TERMS = 64  # longer queries keep their first distinct terms: a clean answer, never a crash
MAX_PAGE_SIZE = 100
MAX_RESULT_WINDOW = 10_000  # same limit as Elasticsearch's index.max_result_window
MAX_QUERY_CHARS = 500  # query text; longer is refused (a query is keywords, not a document)
MAX_FILTER_VALUES = 100  # values per equals filter
MAX_FILTER_FIELDS = 20
MAX_NUMBER = 1e12  # at_least bounds are finite and within ±MAX_NUMBER
EARLIEST, LATEST = 2000, 2100  # dates outside are refused
FilterValue = Annotated[str, StringConstraints(max_length=200)]


def aware_in_range(value: datetime | None, field: str) -> datetime | None:
    """A datetime within 2000…2100; a naive one is taken in the configured time zone
    (YUQING_TIMEZONE, default Asia/Shanghai), explicitly, never as UTC by accident."""
    if value is None:
        return None
    if not EARLIEST <= value.year <= LATEST:
        raise ValueError(f"{field} must be between {EARLIEST}-01-01 and {LATEST}-12-31 (got {value.isoformat()})")
    if value.tzinfo is None or value.utcoffset() is None:
        from yuqing.config import get_settings

        value = value.replace(tzinfo=ZoneInfo(get_settings().timezone))
    return value
# Function words that match nearly every post; dropped from queries (documents keep them).
STOPWORDS = frozenset(["的", "了", "是", "在", "和", "与", "及", "也", "就", "都", "又", "还", "而", "被", "把", "让", "给", "对", "从", "向", "着", "过", "吧", "呢", "啊", "吗", "呀", "哦", "嘛", "啦", "么", "之", "其", "这", "那", "我", "你", "他", "她", "它", "我们", "你们", "他们", "一个", "有", "没有", "不", "很", "太", "称", "约", "等", "后", "已", "将", "出", "目前", "已经", "相关", "表示"])


class QueryError(UserError, ValueError):
    """A search request that cannot be answered as asked; the message says why."""


class Filters(BaseModel):
    since: datetime | None = Field(default=None, description="2000…2100; naive times are taken in YUQING_TIMEZONE (Asia/Shanghai)")
    until: datetime | None = Field(default=None, description="2000…2100; naive times are taken in YUQING_TIMEZONE (Asia/Shanghai)")
    equals: dict[FilterValue, FilterValue | Annotated[list[FilterValue], Field(max_length=MAX_FILTER_VALUES)]] = Field(
        default_factory=dict, max_length=MAX_FILTER_FIELDS)  # keyword field -> value(s)
    at_least: dict[FilterValue, Annotated[float, Field(allow_inf_nan=False, ge=-MAX_NUMBER, le=MAX_NUMBER)]] = Field(
        default_factory=dict, max_length=MAX_FILTER_FIELDS)  # numeric field -> minimum

    @field_validator("since", "until")
    @classmethod
    def _dates(cls, value: datetime | None, info) -> datetime | None:
        return aware_in_range(value, info.field_name)

    def check(self, spec: CollectionSpec) -> Filters:
        for name in list(self.equals) + list(self.at_least):
            if name not in spec.filterable:
                raise QueryError(f"{spec.name}: cannot filter on {name!r}; filterable: {', '.join(sorted(f for f in spec.filterable if f))}")
        for name in self.at_least:
            if name in spec.keyword_fields:
                raise QueryError(f"{spec.name}: {name!r} is a keyword field; use equals, not at_least")
        if self.since and self.until and self.since > self.until:
            raise QueryError("since is after until")
        return self

    def values(self, name: str) -> list[str]:
        value = self.equals[name]
        return [value] if isinstance(value, str) else list(value)


class SearchQuery(BaseModel):
    text: str = ""  # empty: every document that passes the filters (the HTTP service caps it at MAX_QUERY_CHARS)
    filters: Filters = Field(default_factory=Filters)
    sort_by: str | None = Field(default=None, max_length=100)  # None: relevance (or newest first without text)
    descending: bool = True
    page: int = Field(default=1, ge=1, le=MAX_RESULT_WINDOW)
    size: int = Field(default=10, ge=1, le=MAX_PAGE_SIZE)
    highlight: bool = True

    @field_validator("text")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    def check(self, spec: CollectionSpec) -> SearchQuery:
        self.filters.check(spec)
        if self.sort_by and self.sort_by not in spec.sortable:
            raise QueryError(f"{spec.name}: cannot sort by {self.sort_by!r}; sortable: {', '.join(spec.sortable)}")
        if self.page * self.size > MAX_RESULT_WINDOW:
            raise QueryError(f"page {self.page} of size {self.size} is past the first {MAX_RESULT_WINDOW} results")
        return self

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    def terms(self) -> list[str]:
        return query_terms(self.text)


class Hit(BaseModel):
    id: str
    score: float
    source: dict[str, Any]
    highlight: str | None = None
    why: str = ""  # human-readable reason the document matched


class SearchPage(BaseModel):
    total: int
    hits: list[Hit]


def query_terms(text: str) -> list[str]:
    """Distinct jieba tokens of a query, in order, capped at MAX_QUERY_TERMS."""
    seen: dict[str, None] = {}
    for token in tokenize(text):
        if token in STOPWORDS or token.replace(".", "").isdigit():  # bare numbers match everything
            continue
        seen.setdefault(token, None)
        if len(seen) == MAX_QUERY_TERMS:
            break
    return list(seen)


def highlight(text: str, terms: list[str], width: int = 120) -> str | None:
    """A fragment of `text` around the first match, matched terms wrapped in <em>; None if none match."""
    if not text or not terms:
        return None
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE)
    first = pattern.search(text)
    if not first:
        return None
    start = max(0, first.start() - width // 3)
    fragment = text[start:start + width]
    marked = pattern.sub(lambda m: f"\x00{m.group(0)}\x01", fragment)
    marked = html.escape(marked).replace("\x00", "<em>").replace("\x01", "</em>")
    return ("…" if start else "") + marked + ("…" if start + width < len(text) else "")


def matched_terms(text: str, terms: list[str]) -> list[str]:
    lowered = text.lower()
    return [t for t in terms if t in lowered]
