"""What each collection holds and how its fields are indexed — shared by both backends,
so mappings, filters and aggregations agree on names and types."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True)
class CollectionSpec:
    name: str
    text_fields: tuple[str, ...]  # concatenated, segmented with jieba, searched with BM25
    keyword_fields: tuple[str, ...]  # exact-match filters and terms aggregations
    integer_fields: tuple[str, ...] = ()
    float_fields: tuple[str, ...] = ()
    time_field: str | None = None  # the date used by since/until and date histograms
    sortable: tuple[str, ...] = field(default=())

    @property
    def filterable(self) -> set[str]:
        return set(self.keyword_fields) | set(self.integer_fields) | set(self.float_fields) | ({self.time_field} if self.time_field else set())


MENTIONS = CollectionSpec(
    name="mentions",
    text_fields=("title", "text"),
    keyword_fields=("channel", "author", "subject", "sentiment", "topic", "crisis_type"),
    integer_fields=("author_followers", "reposts", "comments", "likes", "views"),
    time_field="published_at",
    sortable=("published_at", "reposts", "comments", "likes", "views"),
)

CASES = CollectionSpec(
    name="cases",
    text_fields=("title", "summary", "tags", "lessons"),
    keyword_fields=("organisation", "industry", "crisis_type", "severity", "tags"),
    float_fields=("hours_to_resolution",),
    time_field="started_at",
    sortable=("started_at", "hours_to_resolution"),
)

COLLECTIONS = {spec.name: spec for spec in (MENTIONS, CASES)}


def spec_of(collection: str) -> CollectionSpec:
    try:
        return COLLECTIONS[collection]
    except KeyError:
        raise ValueError(f"unknown collection {collection!r}; use {', '.join(COLLECTIONS)}") from None


def as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return " ".join(as_text(v) for v in value)
    return str(value)


def search_text(spec: CollectionSpec, document: dict) -> str:
    """The raw text BM25 sees for a document."""
    return "\n".join(as_text(document.get(f)) for f in spec.text_fields if document.get(f))


def prepare(spec: CollectionSpec, document: dict) -> dict:
    """A JSON-ready copy of a document with its id checked, its time parsed and flattened fields set."""
    if not isinstance(document.get("id"), str) or not document["id"].strip():
        raise ValueError(f"{spec.name}: every document needs a non-empty string 'id' (got {document.get('id')!r})")
    prepared = dict(document)
    if spec.name == "cases" and isinstance(document.get("outcome"), dict):
        prepared["hours_to_resolution"] = document["outcome"].get("hours_to_resolution")
    if spec.time_field and prepared.get(spec.time_field) is not None:
        prepared[spec.time_field] = parse_time(prepared[spec.time_field]).isoformat()
    if not search_text(spec, prepared).strip():
        raise ValueError(f"{spec.name} {document['id']!r}: no text in {', '.join(spec.text_fields)}")
    return prepared


def parse_time(value) -> datetime:
    """Datetimes and ISO strings to aware datetimes (naive ones are taken as UTC)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

