"""The embedded backend: tantivy for BM25, filters and aggregations, SQLite (WAL) for vectors,
exact cosine kNN over an in-memory numpy matrix. No server; data lives under one folder.

Durability: an upsert returns only after the SQLite transaction and the tantivy commit (both
fsync) are done, so an acknowledged write survives `kill -9`. Readers in other processes see
new commits on their next query; one process writes at a time (tantivy's writer lock)."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import tantivy

from search.backend import SearchBackend, normalise_aggregations
from search.collections import COLLECTIONS, CollectionSpec, parse_time, prepare, search_text, spec_of
from search.query import Filters, QueryError, SearchQuery
from yuqing.text import segment_all

SEGMENTED = "_seg"  # whitespace-tokenised jieba tokens of the text fields
SOURCE = "_source"  # the whole document as JSON
KEY = "_key"  # 63-bit hash of the id, a fast field: maps filter matches to vectors without reading documents
SELECTIVE = 0.2  # a filter matching at most this share of vectors is scored exactly over its matches
WRITER_HEAP = 64_000_000


def _analyzer() -> tantivy.TextAnalyzer:
    return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).filter(tantivy.Filter.lowercase()).build()


def _schema(spec: CollectionSpec) -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw", fast=True)
    builder.add_unsigned_field(KEY, stored=False, indexed=False, fast=True)
    builder.add_text_field(SEGMENTED, stored=False, tokenizer_name="jieba_ws", index_option="freq")
    builder.add_bytes_field(SOURCE, stored=True, indexed=False)
    for name in spec.keyword_fields:
        builder.add_text_field(name, stored=False, tokenizer_name="raw", fast=True)
    for name in spec.integer_fields:
        builder.add_integer_field(name, stored=False, indexed=True, fast=True)
    for name in spec.float_fields:
        builder.add_float_field(name, stored=False, indexed=True, fast=True)
    if spec.time_field:
        builder.add_date_field(spec.time_field, stored=False, indexed=True, fast=True)
    return builder.build()


REDUCE_FROM = 20_000  # vectors; below this an exact scan is fast enough (measured ~3 ms at 20k × 512)
REDUCED_DIMS = 128


class _VectorCache:
    """A collection's vectors in memory for kNN. This process's own writes patch it in place
    (reloading 100k vectors after every write would cost ~0.5 s); a commit by another process
    shows as a new SQLite data_version and triggers a full reload.

    Small collections are scanned exactly. From REDUCE_FROM vectors on, a first pass scans a
    128-dimension projection (the top principal directions, a quarter of the memory traffic) to
    shortlist candidates, which are then re-scored exactly."""

    def __init__(self):
        self.version: int | None = None
        self.ids: list[str] = []
        self.positions: dict[str, int] = {}
        self.by_key: dict[int, int] = {}  # id_key(id) -> position
        self.buffer = np.zeros((0, 0), np.float32)  # grows by doubling; rows [0, len(ids)) are live
        self.basis: np.ndarray | None = None  # dims × REDUCED_DIMS, fitted lazily
        self.reduced = np.zeros((0, REDUCED_DIMS), np.float32)  # buffer @ basis, same rows

    @property
    def matrix(self) -> np.ndarray:
        return self.buffer[:len(self.ids)]

    def load(self, rows: list[tuple[str, bytes]], version: int) -> None:
        self.ids = [r[0] for r in rows]
        self.positions = {id: i for i, id in enumerate(self.ids)}
        self.by_key = {id_key(id): i for i, id in enumerate(self.ids)}
        dim = len(rows[0][1]) // 4 if rows else 0
        self.buffer = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), dim).copy()
        self.basis = None
        self.version = version

    def nearest(self, query: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Positions of the n most similar vectors, best first, and their exact cosines."""
        matrix = self.matrix
        if len(self.ids) >= REDUCE_FROM and matrix.shape[1] > 2 * REDUCED_DIMS and n < len(self.ids) // 8:
            if self.basis is None:
                self._fit_projection()
            shortlist = _top(self.reduced[:len(self.ids)] @ (query @ self.basis), max(8 * n, n + 200))
            exact = matrix[shortlist] @ query
            best = np.argsort(-exact)[:n]
            return shortlist[best], exact[best]
        scores = matrix @ query
        top = _top(scores, n)
        return top, scores[top]

    def _fit_projection(self) -> None:
        rows = self.matrix[np.random.default_rng(0).choice(len(self.ids), min(len(self.ids), 20_000), replace=False)]
        self.basis = np.ascontiguousarray(np.linalg.svd(rows, full_matrices=False)[2][:REDUCED_DIMS].T)
        self.reduced = np.zeros((len(self.buffer), REDUCED_DIMS), np.float32)
        self.reduced[:len(self.ids)] = self.matrix @ self.basis

    def put(self, id: str, vector: np.ndarray) -> None:
        if id in self.positions:
            self.buffer[self.positions[id]] = vector
            if self.basis is not None:
                self.reduced[self.positions[id]] = vector @ self.basis
            return
        if self.buffer.shape[1] != vector.size and self.ids:
            raise ValueError(f"embedding has {vector.size} dimensions; this collection holds {self.buffer.shape[1]}")
        if len(self.ids) == len(self.buffer):
            grown = np.zeros((max(1024, 2 * len(self.buffer)), vector.size), np.float32)
            if self.ids:
                grown[:len(self.ids)] = self.matrix
            self.buffer = grown
            if self.basis is not None:
                reduced = np.zeros((len(grown), REDUCED_DIMS), np.float32)
                reduced[:len(self.ids)] = self.reduced[:len(self.ids)]
                self.reduced = reduced
        self.positions[id] = len(self.ids)
        self.by_key[id_key(id)] = len(self.ids)
        self.buffer[len(self.ids)] = vector
        if self.basis is not None:
            self.reduced[len(self.ids)] = vector @ self.basis
        self.ids.append(id)

    def remove(self, id: str) -> None:
        position = self.positions.pop(id, None)
        if position is None:
            return
        del self.by_key[id_key(id)]
        last = len(self.ids) - 1
        if position != last:  # move the last row into the hole
            self.buffer[position] = self.buffer[last]
            if self.basis is not None:
                self.reduced[position] = self.reduced[last]
            self.ids[position] = self.ids[last]
            self.positions[self.ids[position]] = position
            self.by_key[id_key(self.ids[position])] = position
        self.ids.pop()


class _Collection:
    """One collection: a tantivy index plus a SQLite vector table, in its own folder."""

    def __init__(self, root: Path, spec: CollectionSpec):
        self.spec = spec
        self.schema = _schema(spec)
        folder = root / spec.name
        (folder / "index").mkdir(parents=True, exist_ok=True)
        try:
            self.index = tantivy.Index(self.schema, path=str(folder / "index"), reuse=True)
        except ValueError as error:
            if "schema does not match" not in str(error):
                raise
            raise ValueError(f"{folder} was written with another index layout (an older yuqing?). Nothing was "
                             f"changed: move it aside and index again (`yuqing index`, `yuqing index-cases`).") from None
        self.index.register_tokenizer("jieba_ws", _analyzer())
        self._writer: tantivy.IndexWriter | None = None
        self.vectors = sqlite3.connect(folder / "vectors.sqlite", check_same_thread=False, isolation_level=None)
        self.vectors.execute("PRAGMA journal_mode=WAL")
        self.vectors.execute("PRAGMA synchronous=FULL")
        self.vectors.execute("CREATE TABLE IF NOT EXISTS vectors (id TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        self.cache = _VectorCache()
        self._lock = threading.RLock()

    @property
    def writer(self) -> tantivy.IndexWriter:
        if self._writer is None:
            self._writer = self.index.writer(heap_size=WRITER_HEAP, num_threads=1)
        return self._writer

    def searcher(self) -> tantivy.Searcher:
        self.index.reload()  # pick up commits from this or another process
        return self.index.searcher()

    def document(self, record: dict, segmented_text: str) -> tantivy.Document:
        doc = tantivy.Document()
        doc.add_text("id", record["id"])
        doc.add_unsigned(KEY, id_key(record["id"]))
        doc.add_text(SEGMENTED, segmented_text)
        source = {k: v for k, v in record.items() if k != "embedding"}
        doc.add_bytes(SOURCE, json.dumps(source, ensure_ascii=False, default=str).encode("utf-8"))
        for name in self.spec.keyword_fields:
            for value in _as_list(record.get(name)):
                doc.add_text(name, str(value))
        for name in self.spec.integer_fields:
            if record.get(name) is not None:
                doc.add_integer(name, int(record[name]))
        for name in self.spec.float_fields:
            if record.get(name) is not None:
                doc.add_float(name, float(record[name]))
        if self.spec.time_field and record.get(self.spec.time_field):
            doc.add_date(self.spec.time_field, _naive_utc(parse_time(record[self.spec.time_field])))
        return doc

    def matrix(self) -> tuple[list[str], np.ndarray]:
        """All vectors as one normalised float32 matrix, reloaded only when another process wrote."""
        with self._lock:
            version = self.vectors.execute("PRAGMA data_version").fetchone()[0]
            if self.cache.version != version:
                self.cache.load(self.vectors.execute("SELECT id, vector FROM vectors").fetchall(), version)
            return self.cache.ids, self.cache.matrix

    def write_vectors(self, upserted: dict[str, bytes | None], deleted: Iterable[str] = ()) -> None:
        """Replace vectors in SQLite (one transaction) and patch the in-memory cache to match."""
        self.matrix()  # bring the cache up to date with other processes' writes first
        removed = [*deleted, *(i for i, blob in upserted.items() if blob is None)]
        self.vectors.execute("BEGIN")
        self.vectors.executemany("DELETE FROM vectors WHERE id = ?", [(i,) for i in [*upserted, *deleted]])
        self.vectors.executemany("INSERT INTO vectors (id, vector) VALUES (?, ?)",
                                 [(i, blob) for i, blob in upserted.items() if blob is not None])
        self.vectors.execute("COMMIT")
        for id in removed:
            self.cache.remove(id)
        for id, blob in upserted.items():
            if blob is not None:
                self.cache.put(id, np.frombuffer(blob, dtype=np.float32))

    def apply(self, documents: dict[str, tantivy.Document], vectors: dict[str, bytes | None],
              deleted: Iterable[str] = ()) -> None:
        """Replace documents and vectors, delete ids, and commit both stores, under one lock:
        readers see the collection before or after the whole batch, never half of it."""
        deleted = list(deleted)
        with self._lock:
            self.write_vectors(vectors, deleted=deleted)
            for id in [*documents, *deleted]:
                self.writer.delete_documents_by_term("id", id)
            for document in documents.values():
                self.writer.add_document(document)
            self.writer.commit()

    def reset(self) -> None:
        with self._lock:
            self.vectors.execute("DELETE FROM vectors")
            self.cache = _VectorCache()
            self.writer.delete_all_documents()
            self.writer.commit()

    def vector_of(self, id: str) -> list[float] | None:
        row = self.vectors.execute("SELECT vector FROM vectors WHERE id = ?", (id,)).fetchone()
        return np.frombuffer(row[0], dtype=np.float32).tolist() if row else None

    def nearest(self, query: np.ndarray, n: int) -> list[tuple[str, float]]:
        """The n most similar (id, cosine) pairs, read under the writers' lock."""
        with self._lock:
            self.matrix()
            top, similarities = self.cache.nearest(query, min(n, len(self.cache.ids)))
            return [(self.cache.ids[i], float(s)) for i, s in zip(top, similarities)]

    def score_keys(self, keys: Sequence[int], query: np.ndarray) -> list[tuple[int, str, float]]:
        """(position in `keys`, id, cosine) for the keys that have a vector, under the lock."""
        with self._lock:
            self.matrix()
            rows = [(i, self.cache.by_key[key]) for i, key in enumerate(keys) if key in self.cache.by_key]
            if not rows:
                return []
            scores = self.cache.matrix[np.array([p for _, p in rows])] @ query
            return [(i, self.cache.ids[p], float(score)) for (i, p), score in zip(rows, scores)]

    def dimensions(self) -> tuple[int, int]:
        """(vectors held, their dimension)."""
        ids, matrix = self.matrix()
        return len(ids), (matrix.shape[1] if len(ids) else 0)


class EmbeddedBackend(SearchBackend):
    name = "embedded"

    def __init__(self, path: str | Path):
        self.root = Path(path)
        self.root.mkdir(parents=True, exist_ok=True)
        self._collections: dict[str, _Collection] = {}
        self._lock = threading.Lock()

    def _collection(self, name: str) -> _Collection:
        spec_of(name)
        with self._lock:
            if name not in self._collections:
                self._collections[name] = _Collection(self.root, COLLECTIONS[name])
            return self._collections[name]

    # ---- writing ------------------------------------------------------------------------------
    def upsert(self, collection: str, documents: Sequence[dict]) -> int:
        c = self._collection(collection)
        records = [prepare(c.spec, d) for d in documents]  # validate all before writing any
        latest = {r["id"]: r for r in records}  # the last copy of a repeated id wins
        blobs = {i: _vector_blob(r["embedding"]) if r.get("embedding") is not None else None for i, r in latest.items()}
        indexed = {i: c.document(r, text) for (i, r), text in zip(latest.items(), segment_all(
            [search_text(c.spec, r) for r in latest.values()]))}
        c.apply(indexed, blobs)
        return len(latest)

    def delete(self, collection: str, ids: Iterable[str]) -> int:
        c = self._collection(collection)
        ids = list(dict.fromkeys(ids))
        existing = sum(1 for i in ids if self.get(collection, i) is not None)
        c.apply({}, {}, deleted=ids)
        return existing

    def clear(self, collection: str) -> None:
        self._collection(collection).reset()

    # ---- reading ------------------------------------------------------------------------------
    def get(self, collection: str, id: str) -> dict | None:
        c = self._collection(collection)
        searcher = c.searcher()
        result = searcher.search(tantivy.Query.term_query(c.schema, "id", id), limit=1, count=False)
        if not result.hits:
            return None
        source = _source(searcher, result.hits[0][1])
        vector = c.vector_of(id)
        if vector is not None:
            source["embedding"] = vector
        return source

    def count(self, collection: str, filters: Filters | None = None) -> int:
        c = self._collection(collection)
        filters = (filters or Filters()).check(c.spec)
        return c.searcher().search(self._filter_query(c, filters), limit=1, count=True).count  # type: ignore[attr-defined]  # tantivy's stub lacks it

    def _search(self, collection: str, query: SearchQuery):
        c = self._collection(collection)
        terms = query.terms()
        parts = [(tantivy.Occur.Must, self._filter_query(c, query.filters))]
        if query.text and not terms:
            return 0, []  # only punctuation or spaces: nothing can match
        if terms:
            text = tantivy.Query.boolean_query(
                [(tantivy.Occur.Should, tantivy.Query.term_query(c.schema, SEGMENTED, t)) for t in terms])
            parts.append((tantivy.Occur.Must, text))
        searcher = c.searcher()
        sort_by = query.sort_by or (None if terms else c.spec.time_field)
        options: dict = {"limit": query.size, "offset": query.offset, "count": True}
        if sort_by:
            options.update(order_by_field=sort_by,
                           order=tantivy.Order.Desc if query.descending else tantivy.Order.Asc)
        result = searcher.search(tantivy.Query.boolean_query(parts), **options)
        rows = []
        for key, address in result.hits:
            source = _source(searcher, address)
            rows.append((source["id"], float(key) if not sort_by else 0.0, source))
        return result.count, rows  # type: ignore[attr-defined]  # tantivy's stub lacks it

    def _knn(self, collection: str, vector: Sequence[float], k: int, filters: Filters):
        c = self._collection(collection)
        held, dimension = c.dimensions()
        if not held:
            return []
        query = np.array(vector, dtype=np.float32)  # a copy: the caller's vector stays as it was
        if query.shape != (dimension,):
            raise QueryError(f"query vector has {query.size} dimensions; {collection} holds {dimension}")
        query /= max(float(np.linalg.norm(query)), 1e-12)
        searcher = c.searcher()
        filtered = bool(filters.equals or filters.at_least or filters.since or filters.until)
        if filtered:
            matches = searcher.search(self._filter_query(c, filters), limit=1, count=True).count  # type: ignore[attr-defined]  # tantivy's stub lacks it
            if matches <= SELECTIVE * held:
                return self._knn_among_matches(c, searcher, filters, query, k, matches)
        # Take candidates best-first and let tantivy apply the filters; widen until k survive.
        width = k if not filtered else 4 * k
        while True:
            nearest = c.nearest(query, width)
            query_ = tantivy.Query.boolean_query([
                (tantivy.Occur.Must, self._filter_query(c, filters)),
                (tantivy.Occur.Must, tantivy.Query.term_set_query(c.schema, "id", [id for id, _ in nearest])),
            ])
            result = searcher.search(query_, limit=len(nearest), count=False)
            sources = {s["id"]: s for s in (_source(searcher, a) for _, a in result.hits)}
            found = [(id, score, sources[id]) for id, score in nearest if id in sources]
            if len(found) >= k or width >= held:
                return found[:k]
            width *= 8

    def _knn_among_matches(self, c: _Collection, searcher, filters: Filters, query: np.ndarray, k: int, matches: int):
        """Exact kNN over the documents a selective filter matches: their vector rows come from the
        `_key` fast field, so no document is read until the k winners are known."""
        if matches == 0:
            return []
        addresses = [a for _, a in searcher.search(self._filter_query(c, filters), limit=matches, count=False).hits]
        scored = c.score_keys(searcher.fast_field_values(KEY, addresses), query)
        if not scored:
            return []
        best = _top(np.array([score for _, _, score in scored]), min(k, len(scored)))
        return [(scored[i][1], scored[i][2], _source(searcher, addresses[scored[i][0]])) for i in best]

    def aggregate(self, collection: str, aggregations: dict, filters: Filters | None = None) -> dict:
        c = self._collection(collection)
        filters = (filters or Filters()).check(c.spec)
        result = c.searcher().aggregate(self._filter_query(c, filters), aggregations)
        return normalise_aggregations(result)

    # ---- filters ------------------------------------------------------------------------------
    def _filter_query(self, c: _Collection, filters: Filters) -> tantivy.Query:
        clauses = []
        for name in filters.equals:
            values = filters.values(name)
            clauses.append(tantivy.Query.term_set_query(c.schema, name, values))
        for name, minimum in filters.at_least.items():
            kind = tantivy.FieldType.Integer if name in c.spec.integer_fields else tantivy.FieldType.Float
            bound = int(minimum) if kind == tantivy.FieldType.Integer and float(minimum).is_integer() else minimum
            if kind == tantivy.FieldType.Integer and not isinstance(bound, int):
                bound = int(np.ceil(minimum))
            clauses.append(tantivy.Query.range_query(c.schema, name, kind, bound, None))
        if filters.since or filters.until:
            clauses.append(tantivy.Query.range_query(
                c.schema, str(c.spec.time_field), tantivy.FieldType.Date,
                _naive_utc(parse_time(filters.since)) if filters.since else None,
                _naive_utc(parse_time(filters.until)) if filters.until else None))
        if not clauses:
            return tantivy.Query.all_query()
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in clauses])


def id_key(id: str) -> int:
    """A stable 63-bit integer for an id (tantivy fast fields hold numbers, not text)."""
    import hashlib

    return int.from_bytes(hashlib.blake2b(id.encode("utf-8"), digest_size=8).digest(), "big") >> 1


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _naive_utc(moment: datetime) -> datetime:

    return moment.astimezone(UTC).replace(tzinfo=None)


def _vector_blob(vector) -> bytes:
    array = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(array))
    if array.ndim != 1 or not np.isfinite(array).all() or norm == 0:
        raise ValueError("embedding must be a non-zero vector of finite numbers")
    return (array / norm).tobytes()


def _source(searcher: tantivy.Searcher, address) -> dict:
    return json.loads(bytes(searcher.doc(address)[SOURCE][0]).decode("utf-8"))


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    if n >= len(scores):
        return np.argsort(-scores)
    part = np.argpartition(-scores, n - 1)[:n]
    return part[np.argsort(-scores[part])]
