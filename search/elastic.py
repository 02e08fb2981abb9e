"""The Elasticsearch backend (official 9.x client).

Each collection lives in versioned indices (`<prefix>-mentions-v1`, `-v2`, …) created from an
index template; callers use two aliases, `<prefix>-mentions` for reads and
`<prefix>-mentions-write` for writes, so `reindex` swaps versions with no downtime."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from elasticsearch import Elasticsearch, NotFoundError, helpers

from search.backend import SearchBackend, normalise_aggregations
from search.collections import CollectionSpec, prepare, search_text, spec_of
from search.query import Filters, SearchQuery
from yuqing.text import segment_all

MAPPINGS = Path(__file__).with_name("mappings")


class BulkError(RuntimeError):
    """Some documents of a bulk request were refused; the message lists them."""


class ElasticBackend(SearchBackend):
    name = "elasticsearch"

    def __init__(self, client: Elasticsearch, prefix: str = "yuqing", native_rrf: bool = False):
        self.client = client
        self.prefix = prefix
        self.native_rrf = native_rrf
        self._ready: set[str] = set()

    @classmethod
    def from_settings(cls, settings, **options) -> ElasticBackend:
        url = options.pop("url", None) or settings.es_url
        if not url:
            raise ValueError("YUQING_ES_URL is not set: give the Elasticsearch URL (https://host:9200)")
        auth = {}
        if settings.es_api_key:
            auth["api_key"] = settings.es_api_key
        elif settings.es_username:
            auth["basic_auth"] = (settings.es_username, settings.es_password or "")
        client = Elasticsearch(url, verify_certs=settings.es_verify_certs, request_timeout=30,
                               retry_on_timeout=True, max_retries=3, **auth)
        return cls(client, prefix=options.pop("prefix", settings.es_index_prefix), **options)

    # ---- indices, templates and aliases --------------------------------------------------------
    def read_alias(self, collection: str) -> str:
        return f"{self.prefix}-{collection}"

    def write_alias(self, collection: str) -> str:
        return f"{self.prefix}-{collection}-write"

    def template(self, collection: str) -> dict:
        body = json.loads((MAPPINGS / f"{collection}.json").read_text(encoding="utf-8"))
        body["index_patterns"] = [f"{self.prefix}-{collection}-v*"]
        return body

    def ensure(self, collection: str) -> None:
        """Install the template and create v1 behind both aliases if the collection is new."""
        if collection in self._ready:
            return
        spec_of(collection)
        body = self.template(collection)
        self.client.indices.put_index_template(name=f"{self.prefix}-{collection}", **body)
        if not self.client.indices.exists_alias(name=self.read_alias(collection)):
            index = f"{self.prefix}-{collection}-v1"
            self.client.indices.create(index=index, aliases={self.read_alias(collection): {},
                                                             self.write_alias(collection): {"is_write_index": True}})
        self._ready.add(collection)

    def current_index(self, collection: str) -> str:
        self.ensure(collection)
        return next(iter(self.client.indices.get_alias(name=self.write_alias(collection))))

    def reindex(self, collection: str, delete_old: bool = True) -> tuple[str, str]:
        """Copy into a new version made from the current template, then swap both aliases atomically."""
        old = self.current_index(collection)
        versions = [int(name.rsplit("-v", 1)[1]) for name in self.client.indices.get(index=f"{self.prefix}-{collection}-v*")]
        new = f"{self.prefix}-{collection}-v{max(versions) + 1}"  # past any left by an interrupted run
        self.client.indices.put_index_template(name=f"{self.prefix}-{collection}", **self.template(collection))
        self.client.indices.create(index=new)
        self.client.reindex(source={"index": old}, dest={"index": new}, wait_for_completion=True, refresh=True)
        self.client.indices.refresh(index=new)
        self.client.indices.update_aliases(actions=[
            {"remove": {"index": old, "alias": self.read_alias(collection)}},
            {"remove": {"index": old, "alias": self.write_alias(collection)}},
            {"add": {"index": new, "alias": self.read_alias(collection)}},
            {"add": {"index": new, "alias": self.write_alias(collection), "is_write_index": True}},
        ])
        if delete_old:
            self.client.indices.delete(index=old)
        return old, new

    # ---- writing ------------------------------------------------------------------------------
    @staticmethod
    def _action(record: dict, segmented_text: str, index: str) -> dict:
        source = {k: v for k, v in record.items() if v is not None}
        source["search_seg"] = segmented_text
        return {"_op_type": "index", "_index": index, "_id": record["id"], "_source": source}

    def upsert(self, collection: str, documents: Sequence[dict]) -> int:
        spec = spec_of(collection)
        records = {r["id"]: r for r in (prepare(spec, d) for d in documents)}
        index = self.current_index(collection)
        texts = segment_all([search_text(spec, r) for r in records.values()])
        actions = (self._action(r, text, index) for r, text in zip(records.values(), texts))
        self._bulk(actions, index)
        return len(records)

    def _bulk(self, actions, index: str) -> int:
        """Stream the actions (retrying 429s), then one refresh so the caller's writes are searchable
        when it returns (a refresh per chunk would cap throughput at one chunk per refresh interval)."""
        failures, done = [], 0
        for ok, item in helpers.streaming_bulk(self.client, actions, chunk_size=500, max_retries=5,
                                               initial_backoff=1, raise_on_error=False):
            if ok:
                done += 1
            else:
                operation = next(iter(item.values()))
                if operation.get("status") != 404:  # deleting a missing id is not a failure
                    failures.append(f"{operation.get('_id')}: {operation.get('error')}")
        self.client.indices.refresh(index=index)
        if failures:
            raise BulkError(f"{len(failures)} document(s) refused: " + "; ".join(failures[:10]))
        return done

    def delete(self, collection: str, ids: Iterable[str]) -> int:
        ids = list(dict.fromkeys(ids))
        existing = sum(1 for i in ids if self.get(collection, i) is not None)
        index = self.current_index(collection)
        self._bulk(({"_op_type": "delete", "_index": index, "_id": i} for i in ids), index)
        return existing

    def clear(self, collection: str) -> None:
        self.ensure(collection)
        self.client.delete_by_query(index=self.read_alias(collection), query={"match_all": {}},
                                    refresh=True, conflicts="proceed")

    # ---- reading ------------------------------------------------------------------------------
    def get(self, collection: str, id: str) -> dict | None:
        self.ensure(collection)
        try:
            source = self.client.get(index=self.read_alias(collection), id=id)["_source"]
        except NotFoundError:
            return None
        source.pop("search_seg", None)
        return source

    def count(self, collection: str, filters: Filters | None = None) -> int:
        spec = spec_of(collection)
        self.ensure(collection)
        query = self._filter_query(spec, (filters or Filters()).check(spec))
        return self.client.count(index=self.read_alias(collection), query=query)["count"]

    def _text_query(self, terms: list[str]) -> dict:
        text = " ".join(terms)
        return {"bool": {"should": [{"match": {"search_seg": {"query": text}}},
                                    {"match": {"search_seg.cjk": {"query": text, "boost": 0.3}}}],
                         "minimum_should_match": 1}}

    def _search(self, collection: str, query: SearchQuery):
        spec = spec_of(collection)
        self.ensure(collection)
        terms = query.terms()
        if query.text and not terms:
            return 0, []
        body = {"bool": {"filter": [self._filter_query(spec, query.filters)]}}
        if terms:
            body["bool"]["must"] = [self._text_query(terms)]
        sort_by = query.sort_by or (None if terms else spec.time_field)
        sort = [{sort_by: {"order": "desc" if query.descending else "asc"}}] if sort_by else None
        response = self.client.search(index=self.read_alias(collection), query=body, sort=sort, from_=query.offset,
                                      size=query.size, track_total_hits=True, source_excludes=["search_seg"])
        rows = [(h["_id"], float(h["_score"] or 0.0), h["_source"]) for h in response["hits"]["hits"]]
        return response["hits"]["total"]["value"], rows

    def _knn(self, collection: str, vector: Sequence[float], k: int, filters: Filters):
        spec = spec_of(collection)
        self.ensure(collection)
        knn = {"field": "embedding", "query_vector": [float(x) for x in vector], "k": k,
               "num_candidates": max(100, 10 * k), "filter": self._filter_query(spec, filters)}
        response = self.client.search(index=self.read_alias(collection), knn=knn, size=k,
                                      source_excludes=["search_seg"])
        # Elasticsearch reports cosine as (1 + cos) / 2; give callers the cosine itself.
        return [(h["_id"], 2 * float(h["_score"]) - 1, h["_source"]) for h in response["hits"]["hits"]]

    def hybrid(self, collection: str, text: str, vector: Sequence[float] | None, k: int = 10,
               filters: Filters | None = None, candidates: int = 50):
        if not self.native_rrf or vector is None or not text.strip():
            return super().hybrid(collection, text, vector, k, filters, candidates)
        return self._native_rrf(collection, text, vector, k, filters or Filters(), candidates)

    def _native_rrf(self, collection, text, vector, k, filters, candidates):
        """Elasticsearch's own `rrf` retriever (needs a licence tier that includes it)."""
        from search.query import query_terms

        spec = spec_of(collection)
        filters.check(spec)
        terms = query_terms(text)
        filter_query = self._filter_query(spec, filters)
        retriever = {"rrf": {"retrievers": [
            {"standard": {"query": {"bool": {"must": [self._text_query(terms)], "filter": [filter_query]}}}},
            {"knn": {"field": "embedding", "query_vector": [float(x) for x in vector], "k": candidates,
                     "num_candidates": max(100, 2 * candidates), "filter": filter_query}},
        ], "rank_window_size": candidates, "rank_constant": 60}}
        response = self.client.search(index=self.read_alias(collection), retriever=retriever, size=k,
                                      source_excludes=["search_seg"])
        hits = []
        for h in response["hits"]["hits"]:
            hit = self._hit(spec, h["_id"], float(h["_score"] or 0), h["_source"], terms, "rrf")
            hit.why = "Elasticsearch rrf 检索器融合(关键词 + 语义)"
            hits.append(hit)
        return hits

    def aggregate(self, collection: str, aggregations: dict, filters: Filters | None = None) -> dict:
        spec = spec_of(collection)
        self.ensure(collection)
        query = self._filter_query(spec, (filters or Filters()).check(spec))
        response = self.client.search(index=self.read_alias(collection), query=query, aggs=aggregations, size=0)
        return normalise_aggregations(dict(response["aggregations"]))

    # ---- filters ------------------------------------------------------------------------------
    @staticmethod
    def _filter_query(spec: CollectionSpec, filters: Filters) -> dict:
        clauses: list[dict] = [{"terms": {name: filters.values(name)}} for name in filters.equals]
        clauses += [{"range": {name: {"gte": minimum}}} for name, minimum in filters.at_least.items()]
        if filters.since or filters.until:
            bounds: dict[str, str] = {}
            if filters.since:
                bounds["gte"] = filters.since.isoformat()
            if filters.until:
                bounds["lte"] = filters.until.isoformat()
            clauses.append({"range": {str(spec.time_field): bounds}})
        return {"bool": {"filter": clauses}} if clauses else {"match_all": {}}

    def close(self) -> None:
        self.client.close()
