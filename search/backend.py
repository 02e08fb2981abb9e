"""The interface every search backend implements, and what is built on top of it once for all:
hybrid retrieval (reciprocal rank fusion in our code) and the dashboard aggregations."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from datetime import UTC
from typing import Any

from search.collections import parse_time, search_text, spec_of
from search.query import Filters, Hit, SearchPage, SearchQuery, highlight, matched_terms, query_terms

RRF_K = 60  # the constant of reciprocal rank fusion (Cormack et al. 2009)


class SearchBackend(ABC):
    """Storage-agnostic operations over the `mentions` and `cases` collections."""

    name: str = "abstract"

    # ---- writing ----------------------------------------------------------------------------
    @abstractmethod
    def upsert(self, collection: str, documents: Sequence[dict]) -> int:
        """Insert or replace by id (idempotent); returns how many were written. Durable on return."""

    @abstractmethod
    def delete(self, collection: str, ids: Iterable[str]) -> int:
        """Remove documents by id; returns how many existed."""

    @abstractmethod
    def clear(self, collection: str) -> None:
        """Remove every document of a collection (tests and rebuilds)."""

    # ---- reading ----------------------------------------------------------------------------
    @abstractmethod
    def get(self, collection: str, id: str) -> dict | None: ...

    @abstractmethod
    def count(self, collection: str, filters: Filters | None = None) -> int: ...

    @abstractmethod
    def _search(self, collection: str, query: SearchQuery) -> tuple[int, list[tuple[str, float, dict]]]:
        """(total, [(id, score, source)]) of one page of BM25 (or filter-only) results."""

    @abstractmethod
    def _knn(self, collection: str, vector: Sequence[float], k: int, filters: Filters) -> list[tuple[str, float, dict]]:
        """[(id, cosine similarity, source)] of the k nearest documents that pass the filters."""

    @abstractmethod
    def aggregate(self, collection: str, aggregations: dict, filters: Filters | None = None) -> dict:
        """Elasticsearch-style aggregation JSON in, {name: {"buckets": [...]}} or {name: {"value": x}} out."""

    def close(self) -> None:  # noqa: B027 - optional for backends holding connections
        pass

    # ---- built once on top of the primitives ---------------------------------------------------
    def search(self, collection: str, query: SearchQuery | str) -> SearchPage:
        """Full-text search with filters, sorting, pagination and highlighting."""
        spec = spec_of(collection)
        query = (SearchQuery(text=query) if isinstance(query, str) else query).check(spec)
        total, rows = self._search(collection, query)
        terms = query.terms()
        hits = [self._hit(spec, id, score, source, terms, "bm25") for id, score, source in rows]
        return SearchPage(total=total, hits=hits)

    def knn(self, collection: str, vector: Sequence[float], k: int = 10, filters: Filters | None = None) -> list[Hit]:
        spec = spec_of(collection)
        filters = (filters or Filters()).check(spec)
        return [Hit(id=id, score=score, source=_public(source), why=f"向量相似度 {score:.3f}")
                for id, score, source in self._knn(collection, vector, k, filters)]

    def hybrid(self, collection: str, text: str, vector: Sequence[float] | None, k: int = 10,
               filters: Filters | None = None, candidates: int = 50) -> list[Hit]:
        """BM25 and kNN lists fused by reciprocal rank fusion; each hit says which lists found it."""
        spec = spec_of(collection)
        filters = (filters or Filters()).check(spec)
        lexical = self._search(collection, SearchQuery(text=text, filters=filters, size=candidates, highlight=False))[1] if text.strip() else []
        semantic = self._knn(collection, vector, candidates, filters) if vector is not None else []
        fused: dict[str, dict[str, Any]] = {}
        for list_name, rows in (("bm25", lexical), ("knn", semantic)):
            for rank, (id, score, source) in enumerate(rows, 1):
                entry = fused.setdefault(id, {"score": 0.0, "source": source, "ranks": {}})
                entry["score"] += 1.0 / (RRF_K + rank)
                entry["ranks"][list_name] = (rank, score)
        best = sorted(fused.items(), key=lambda kv: kv[1]["score"], reverse=True)[:k]
        terms = query_terms(text)
        return [self._fused_hit(spec, id, entry, terms) for id, entry in best]

    def dashboard(self, filters: Filters | None = None, interval: str = "1d", top: int = 10) -> dict:
        """The figures a dashboard or report needs: volume per interval by sentiment, top topics,
        crisis types and channels, reach totals."""
        aggregations = {
            "volume": {"date_histogram": {"field": "published_at", "fixed_interval": interval},
                       "aggs": {"sentiment": {"terms": {"field": "sentiment", "size": 3}}}},
            "topics": {"terms": {"field": "topic", "size": top}},
            "crisis_types": {"terms": {"field": "crisis_type", "size": top}},
            "channels": {"terms": {"field": "channel", "size": top}},
            "sentiment": {"terms": {"field": "sentiment", "size": 3}},
            "reposts": {"sum": {"field": "reposts"}},
        }
        raw = self.aggregate("mentions", aggregations, filters)
        volume = [{"time": bucket["key"], "total": bucket["doc_count"],
                   **{b["key"]: b["doc_count"] for b in bucket["sentiment"]["buckets"]}}
                  for bucket in raw["volume"]["buckets"] if bucket["doc_count"]]
        return {
            "volume": volume,
            **{name: [(b["key"], b["doc_count"]) for b in raw[name]["buckets"]]
               for name in ("topics", "crisis_types", "channels", "sentiment")},
            "reposts": raw["reposts"]["value"],
        }

    # ---- helpers ----------------------------------------------------------------------------
    def _hit(self, spec, id: str, score: float, source: dict, terms: list[str], how: str) -> Hit:
        text = search_text(spec, source)
        matched = matched_terms(text, terms)
        why = f"关键词命中: {'、'.join(matched)}" if matched else ("按筛选条件" if not terms else "")
        return Hit(id=id, score=score, source=_public(source), highlight=highlight(text, terms), why=why)

    def _fused_hit(self, spec, id: str, entry: dict, terms: list[str]) -> Hit:
        reasons = []
        if "bm25" in entry["ranks"]:
            rank, _ = entry["ranks"]["bm25"]
            matched = matched_terms(search_text(spec, entry["source"]), terms)
            reasons.append(f"关键词第{rank}名({'、'.join(matched[:6])})")
        if "knn" in entry["ranks"]:
            rank, similarity = entry["ranks"]["knn"]
            reasons.append(f"语义相似第{rank}名(相似度{similarity:.2f})")
        hit = self._hit(spec, id, entry["score"], entry["source"], terms, "rrf")
        hit.why = "；".join(reasons)
        return hit


# Kept with a document but not shown: its vector, and the hash that tells whether it must be re-indexed.
INTERNAL_FIELDS = frozenset({"embedding", "content_hash"})


def _public(source: dict) -> dict:
    """A document as shown to callers: without the embedding and internal fields."""
    return {k: v for k, v in source.items() if k not in INTERNAL_FIELDS and not k.startswith("_")}


def bucket_time(key) -> str:
    """Histogram bucket keys (epoch ms or ISO text, by backend) as ISO strings."""
    if isinstance(key, (int, float)):
        from datetime import datetime

        return datetime.fromtimestamp(key / 1000, tz=UTC).isoformat()
    return parse_time(key).isoformat()


def normalise_aggregations(aggregations: dict) -> dict:
    """Make date-histogram bucket keys ISO strings, whatever the backend answered (epoch ms or text)."""
    for value in aggregations.values():
        if isinstance(value, dict) and "buckets" in value:
            for bucket in value["buckets"]:
                if "key_as_string" in bucket:
                    key = bucket["key"]
                    bucket["key"] = bucket_time(key if isinstance(key, (int, float)) else bucket["key_as_string"])
                for sub in bucket.values():
                    if isinstance(sub, dict) and "buckets" in sub:
                        normalise_aggregations({"_": sub})
    return aggregations
