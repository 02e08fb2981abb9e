"""Search benchmark: indexing rate and query latency of the `mentions` collection.

What it measures
  * Indexing rate (docs/s) of `backend.upsert("mentions", batch)` in batches (default 1000):
      - INCLUDING jieba segmentation: the normal upsert path;
      - EXCLUDING segmentation: every text is segmented first (timed on its own, reported as the
        jieba-only rate), then `segmented` is monkeypatched in search.embedded / search.elastic /
        search.collections with a dict lookup of the precomputed strings and only the upsert is timed.
    Each pass writes into a fresh index; every upsert is durable on return (embedded: SQLite
    commit + tantivy commit, both fsync), so batch size matters (try --batch-size 5000).
  * Latency p50/p95/p99 in ms of single-threaded queries (default 200 of each kind, after a warm-up):
      BM25 `backend.search("mentions", SearchQuery(text=q))`; filtered BM25 (equals crisis_type +
      since + at_least reposts); kNN `backend.knn` (k=10); hybrid `backend.hybrid` (text + vector,
      k=10, RRF over 50+50 candidates); dashboard aggregations `backend.dashboard(Filters(since=...))`.
    The first kNN call after indexing (which loads the vector matrix from SQLite) is reported apart.
    Extras beyond those five: filtered kNN (same filters as filtered BM25), and kNN timed right after
    a 10-document upsert (--write-read-cycles times), as when mentions stream in during searches.
  * Goals: hybrid p95 <= 20 ms; indexing >= 2,000 docs/s excluding the model (embeddings are given,
    as when the classifier already ran); PASS/MISS for each.

Documents: N mentions (default 100,000) whose text joins 1-3 random lines of the in-domain corpus
(training/data/corpus/*/*.jsonl) plus a random organisation name; channel from the corpus' channels,
sentiment/topic/crisis_type from yuqing/labels.py, published_at uniform over the last 30 days,
heavy-tailed (Pareto) reposts/comments/likes, and a random unit-norm 512-dim float32 embedding.
Queries: 2-4 jieba tokens of a random corpus line; query vectors are indexed embeddings plus noise.

Run (from the repository root, with the project's virtualenv):

    .venv/bin/python benchmarks/search_benchmark.py --docs 5000              # quick try
    .venv/bin/python benchmarks/search_benchmark.py                          # 100k docs, embedded
    .venv/bin/python benchmarks/search_benchmark.py --batch-size 5000 --json /tmp/search.json
    .venv/bin/python benchmarks/search_benchmark.py --es-url http://127.0.0.1:9200   # + Elasticsearch

With --es-url the same documents and queries also run against Elasticsearch through
search.elastic.ElasticBackend under a throw-away prefix (bench-<random>); its indices and index
templates are deleted at the end (one by one: wildcard deletes are refused)."""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np
from _common import corpus_records, environment, finish_run, log, package_versions, peak_rss_mb, percentiles, print_table, verdict

HYBRID_P95_GOAL_MS = 20.0
INDEX_RATE_GOAL = 2000.0
DIM = 512
DAYS = 30
CST = timezone(timedelta(hours=8))

ORG_HEAD = list("华鼎瀚澄云长金北天千星恒盛泰安嘉宏远中新东南西博信达通锦瑞润")
ORG_MID = list("岳昇海江港风石岸誉岛辰诚汇泽融兴隆源和丰创华鑫景阳")
ORG_TAIL = ["银行", "消费金融", "保险", "证券", "地产", "物业", "科技", "电器", "汽车", "食品", "乳业", "航空",
            "快递", "电商", "医药", "医院", "教育", "云", "外卖", "出行", "游戏", "通信", "化工", "酒店"]
QUERY_KINDS = ["bm25", "bm25_filtered", "knn", "knn_filtered", "hybrid", "dashboard"]


# ---- documents and queries ---------------------------------------------------------------------

def make_documents(n: int, seed: int) -> tuple[list[dict], np.ndarray, list[str]]:
    """(documents without embeddings, unit-norm float32 embeddings [n, 512], corpus texts)."""
    from yuqing.labels import CRISIS_TYPE, SENTIMENT, TOPIC

    rng = np.random.default_rng(seed)
    pick = random.Random(seed)
    records = corpus_records()
    texts = [r["text"].strip() for r in records]
    channels = sorted({r["channel"] for r in records if r.get("channel")}) or ["weibo", "news"]
    sentiments, topics, crises = list(SENTIMENT), list(TOPIC), list(CRISIS_TYPE)
    organisations = sorted({h + m + t for h in ORG_HEAD for m in ORG_MID for t in ORG_TAIL})
    now = datetime.now(CST).replace(microsecond=0)
    offsets = rng.uniform(0, DAYS * 86400, n)
    reposts = np.minimum(rng.pareto(1.1, n) * 3, 5_000_000).astype(np.int64)  # heavy tail: most 0-10, a few 10^5+
    comments = np.minimum(rng.pareto(1.2, n) * 2, 1_000_000).astype(np.int64)
    likes = np.minimum(rng.pareto(1.0, n) * 5, 10_000_000).astype(np.int64)
    followers = np.minimum(rng.pareto(0.9, n) * 50, 100_000_000).astype(np.int64)
    documents = []
    for i in range(n):
        organisation = pick.choice(organisations)
        parts = pick.sample(texts, pick.randint(1, 3))
        text = f"【{organisation}】" + "".join(parts)
        documents.append({
            "id": f"bench-{i:07d}",
            "text": text,
            "channel": pick.choice(channels),
            "author": f"用户{pick.randrange(50_000):05d}",
            "author_followers": int(followers[i]),
            "subject": organisation,
            "sentiment": pick.choice(sentiments),
            "topic": pick.choice(topics),
            "crisis_type": pick.choice(crises),
            "published_at": (now - timedelta(seconds=float(offsets[i]))).isoformat(),
            "reposts": int(reposts[i]),
            "comments": int(comments[i]),
            "likes": int(likes[i]),
            "views": int(likes[i]) * 20 + pick.randrange(1000),
        })
    embeddings = rng.standard_normal((n, DIM), dtype=np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    return documents, embeddings, texts


def make_queries(texts: list[str], embeddings: np.ndarray, count: int, seed: int) -> list[dict]:
    """`count` query specs: keywords, a query vector and filter settings, the same for every backend."""
    from search.query import query_terms
    from yuqing.labels import CRISIS_TYPES

    pick = random.Random(seed + 1)
    rng = np.random.default_rng(seed + 1)
    queries = []
    while len(queries) < count:
        terms = [t for t in query_terms(pick.choice(texts)) if len(t) >= 2 and not t.isdigit()]
        if len(terms) < 2:
            continue
        chosen = sorted(pick.sample(range(len(terms)), min(len(terms), pick.randint(2, 4))))
        vector = embeddings[pick.randrange(len(embeddings))] + rng.standard_normal(DIM, dtype=np.float32) * 0.05
        queries.append({
            "text": " ".join(terms[i] for i in chosen),
            "vector": (vector / np.linalg.norm(vector)).tolist(),
            "crisis_type": pick.choice(CRISIS_TYPES),
            "since_days": pick.choice([3, 7, 14]),
            "min_reposts": pick.choice([1, 5, 20]),
            "dashboard_days": pick.choice([1, 7, 14, 30]),
        })
    return queries


# ---- segmentation patch ------------------------------------------------------------------------

SEGMENTING_MODULES = ("search.embedded", "search.elastic")  # where the backends call segment_all


@contextlib.contextmanager
def precomputed_segmentation(lookup: dict[str, str]):
    """Replace `segment_all(texts)` in the backends by a dict lookup of precomputed segmentations."""
    import importlib

    def segment_all(texts):  # same signature as yuqing.text.segment_all
        return [lookup[t] for t in texts]

    saved = []
    for name in SEGMENTING_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:  # e.g. elasticsearch client not installed
            continue
        saved.append((module, module.segment_all))
        module.segment_all = segment_all
    try:
        yield
    finally:
        for module, original in saved:
            module.segment_all = original


def presegment(documents: list[dict]) -> tuple[dict[str, str], float]:
    """Raw search text -> segmented text for every document, and the seconds jieba took."""
    from search.collections import MENTIONS, prepare, search_text
    from yuqing.text import segment_all

    texts = [search_text(MENTIONS, prepare(MENTIONS, d)) for d in documents]
    started = time.perf_counter()
    lookup = dict(zip(texts, segment_all(texts)))
    return lookup, time.perf_counter() - started


# ---- indexing ----------------------------------------------------------------------------------

def index_all(backend, documents: list[dict], embeddings: np.ndarray, batch_size: int, label: str) -> dict:
    """Upsert every document in batches; time only the upsert calls (embeddings are made lists first)."""
    batch_seconds, batch_docs = [], []
    total = 0
    progress_every = max(1, len(documents) // batch_size // 10)
    for number, start in enumerate(range(0, len(documents), batch_size), 1):
        batch = [dict(d, embedding=embeddings[start + j].tolist())
                 for j, d in enumerate(documents[start:start + batch_size])]
        started = time.perf_counter()
        written = backend.upsert("mentions", batch)
        batch_seconds.append(time.perf_counter() - started)
        batch_docs.append(written)
        total += written
        if number % progress_every == 0:
            log(f"  [{label}] {start + len(batch):,}/{len(documents):,} docs, "
                f"{total / sum(batch_seconds):,.0f} docs/s so far")
    seconds = sum(batch_seconds)
    tenth = max(1, len(batch_seconds) // 10)
    return {
        "docs": total,
        "seconds": seconds,
        "docs_per_s": total / seconds if seconds else None,
        "batch_size": batch_size,
        "batches": len(batch_seconds),
        "batch_ms_p50": float(np.percentile(batch_seconds, 50) * 1000),
        "batch_ms_max": float(max(batch_seconds) * 1000),
        "docs_per_s_first_10pct": sum(batch_docs[:tenth]) / sum(batch_seconds[:tenth]),
        "docs_per_s_last_10pct": sum(batch_docs[-tenth:]) / sum(batch_seconds[-tenth:]),
    }


# ---- queries -----------------------------------------------------------------------------------

def run_queries(backend, queries: list[dict], warmup: list[dict], documents: list[dict], cycles: int) -> tuple[dict, dict]:
    """(latency summaries per kind, extra figures) for one backend holding the benchmark documents."""
    from search.query import Filters, SearchQuery

    now = datetime.now(CST)

    def call(kind: str, q: dict):
        if kind == "bm25":
            return backend.search("mentions", SearchQuery(text=q["text"])).total
        if kind == "bm25_filtered":
            filters = Filters(equals={"crisis_type": q["crisis_type"]}, since=now - timedelta(days=q["since_days"]),
                              at_least={"reposts": q["min_reposts"]})
            return backend.search("mentions", SearchQuery(text=q["text"], filters=filters)).total
        if kind == "knn":
            return len(backend.knn("mentions", q["vector"], k=10))
        if kind == "knn_filtered":  # extra, not in the brief's list: same filters as bm25_filtered
            filters = Filters(equals={"crisis_type": q["crisis_type"]}, since=now - timedelta(days=q["since_days"]),
                              at_least={"reposts": q["min_reposts"]})
            return len(backend.knn("mentions", q["vector"], k=10, filters=filters))
        if kind == "hybrid":
            return len(backend.hybrid("mentions", q["text"], q["vector"], k=10))
        if kind == "dashboard":
            board = backend.dashboard(Filters(since=now - timedelta(days=q["dashboard_days"])), interval="1d")
            return sum(day["total"] for day in board["volume"])
        raise ValueError(kind)

    extra = {}
    started = time.perf_counter()
    call("knn", (warmup or queries)[0])  # first kNN after writes: loads (embedded) the vector matrix
    extra["first_knn_ms"] = (time.perf_counter() - started) * 1000
    results = {}
    for kind in QUERY_KINDS:
        for q in warmup:
            call(kind, q)
        samples, nonempty = [], 0
        for q in queries:
            started = time.perf_counter()
            found = call(kind, q)
            samples.append(time.perf_counter() - started)
            nonempty += bool(found)
        results[kind] = percentiles(samples)
        results[kind]["non_empty"] = nonempty
        log(f"  {kind}: p50 {results[kind]['p50_ms']:.1f} ms, p95 {results[kind]['p95_ms']:.1f} ms")
    # Reads right after a write, as when mentions stream in while analysts search: a 10-doc upsert,
    # then one timed kNN (the embedded backend drops and reloads its whole vector matrix after writes).
    rng = np.random.default_rng(len(documents))
    after_write = []
    for cycle in range(cycles):
        batch = []
        for j, d in enumerate(documents[cycle * 10:(cycle + 1) * 10]):
            vector = rng.standard_normal(DIM, dtype=np.float32)
            batch.append(dict(d, id=f"bench-write-{cycle}-{j}", embedding=(vector / np.linalg.norm(vector)).tolist()))
        backend.upsert("mentions", batch)
        q = queries[cycle % len(queries)]
        started = time.perf_counter()
        call("knn", q)
        after_write.append(time.perf_counter() - started)
    if after_write:
        extra["knn_after_write"] = percentiles(after_write)
        log(f"  knn right after a 10-doc upsert: p50 {extra['knn_after_write']['p50_ms']:.1f} ms")
    return results, extra


# ---- one backend -------------------------------------------------------------------------------

def bench_backend(name: str, open_backend, cleanup, documents, embeddings, lookup, queries, warmup, args) -> dict:
    """Both indexing passes into fresh stores, then the queries against the last one."""
    figures = {"backend": name}
    passes = [("excluding_segmentation", True), ("including_segmentation", False)]
    if args.skip_excluding:
        passes = passes[1:]
    backend = None
    for label, patched in passes:
        if backend is not None:  # keep only the store the queries will use
            cleanup(backend)
            backend = None
            gc.collect()
        backend = open_backend(label)
        backend.count("mentions")  # create/open the collection outside the timed region
        log(f"[{name}] indexing {len(documents):,} docs, {label.replace('_', ' ')}")
        context = precomputed_segmentation(lookup) if patched else contextlib.nullcontext()
        with context:
            figures[label] = index_all(backend, documents, embeddings, args.batch_size, f"{name} {label}")
        count = backend.count("mentions")
        if count != len(documents):
            log(f"  WARNING: {name} holds {count} mentions after indexing {len(documents)}")
        figures[label]["count_after"] = count
    log(f"[{name}] {len(queries)} queries of each kind")
    figures["latency"], extra = run_queries(backend, queries, warmup, documents, args.write_read_cycles)
    figures.update(extra)
    figures["_backend"] = backend
    return figures


def embedded_store(root: Path):
    from search.embedded import EmbeddedBackend

    def open_backend(label: str):
        folder = root / label
        if folder.exists() and any(folder.iterdir()):
            raise SystemExit(f"{folder} is not empty: give --path a new or empty folder")
        return EmbeddedBackend(folder)

    def cleanup(backend):
        sizes = store_sizes(backend.root)
        log(f"  embedded store {backend.root.name}: " + ", ".join(f"{k} {v:,.0f} MB" for k, v in sizes.items()))
        backend._collections.clear()
        if not KEEP_STORES:
            shutil.rmtree(backend.root, ignore_errors=True)

    return open_backend, cleanup


def elastic_store(url: str, api_key: str | None, verify_certs: bool):
    from elasticsearch import Elasticsearch

    from search.elastic import ElasticBackend

    client = Elasticsearch(url, api_key=api_key, request_timeout=120, verify_certs=verify_certs)
    run_id = uuid.uuid4().hex[:8]
    prefixes = []

    def open_backend(label: str):
        prefix = f"bench-{run_id}-{'excl' if label.startswith('excluding') else 'incl'}"
        prefixes.append(prefix)
        backend = ElasticBackend(client, prefix=prefix)
        backend.ensure("mentions")
        return backend

    def cleanup(backend=None):
        targets = [backend.prefix] if backend is not None else list(prefixes)
        for prefix in targets:
            try:
                names = list(client.options(ignore_status=404).indices.get(index=f"{prefix}-*"))
            except Exception as error:
                log(f"  could not list {prefix}-* indices: {error}")
                names = []
            for name in names:  # wildcard deletes are refused: one by one
                client.options(ignore_status=404).indices.delete(index=name)
            for collection in ("mentions", "cases"):
                client.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-{collection}")
            if prefix in prefixes:
                prefixes.remove(prefix)
            log(f"  deleted Elasticsearch indices {', '.join(names) or '(none)'}")

    return open_backend, cleanup, client


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def store_sizes(root: Path) -> dict[str, float]:
    """MB on disk of an embedded store: tantivy index, SQLite vectors (with WAL) and in all."""
    folder = Path(root) / "mentions"
    sizes = {"tantivy": folder_size(folder / "index") / 1e6,
             "sqlite": sum(f.stat().st_size for f in folder.glob("vectors.sqlite*")) / 1e6}
    sizes["total"] = folder_size(root) / 1e6
    return sizes


KEEP_STORES = False


# ---- report ------------------------------------------------------------------------------------

def report(all_figures: dict) -> None:
    for name, figures in all_figures["backends"].items():
        rows = []
        for label in ("including_segmentation", "excluding_segmentation"):
            f = figures.get(label)
            if f:
                rows.append([label.replace("_", " "), f["docs"], f["seconds"], f["docs_per_s"],
                             f["docs_per_s_first_10pct"], f["docs_per_s_last_10pct"], f["batch_ms_p50"], f["batch_ms_max"],
                             f"{verdict(f['docs_per_s'] >= INDEX_RATE_GOAL)} (>= {INDEX_RATE_GOAL:,.0f}/s)"])
        seg = all_figures["segmentation"]
        rows.append(["jieba segmentation alone", seg["docs"], seg["seconds"], seg["docs_per_s"], None, None, None, None, ""])
        print_table(f"[{name}] indexing, batch size {all_figures['config']['batch_size']} "
                    "(durable upserts; embeddings given, no model)",
                    ["pass", "docs", "seconds", "docs/s", "docs/s first 10%", "docs/s last 10%", "batch p50 ms",
                     "batch max ms", "goal"], rows)
        rows = []
        for kind in QUERY_KINDS:
            s = figures["latency"][kind]
            goal = f"{verdict(s['p95_ms'] <= HYBRID_P95_GOAL_MS)} (p95 <= {HYBRID_P95_GOAL_MS:.0f} ms)" if kind == "hybrid" else ""
            rows.append([kind, s["n"], s["non_empty"], s["mean_ms"], s["p50_ms"], s["p95_ms"], s["p99_ms"], s["max_ms"], goal])
        s = figures.get("knn_after_write")
        if s:
            rows.append(["knn right after a 10-doc upsert", s["n"], None, s["mean_ms"], s["p50_ms"], s["p95_ms"],
                         s["p99_ms"], s["max_ms"], ""])
        print_table(f"[{name}] query latency over {figures['latency']['bm25']['n']} queries each "
                    f"(single client; first kNN after indexing: {figures['first_knn_ms']:.0f} ms, excluded)",
                    ["query", "n", "non-empty", "mean ms", "p50 ms", "p95 ms", "p99 ms", "max ms", "goal"], rows)
    for name, figures in all_figures["backends"].items():
        if figures.get("server"):
            server = figures["server"]
            print(f"[{name}] {figures.get('url')}: node {server['name']!r}, cluster {server['cluster_name']!r}, "
                  f"version {server['version']} ({server['build_flavor']})")
    rows = []
    for name, figures in all_figures["backends"].items():
        incl = figures["including_segmentation"]["docs_per_s"]
        excl = (figures.get("excluding_segmentation") or {}).get("docs_per_s")
        p95 = figures["latency"]["hybrid"]["p95_ms"]
        rows.append([name, "hybrid p95 <= 20 ms", f"{p95:.1f} ms", verdict(p95 <= HYBRID_P95_GOAL_MS)])
        rows.append([name, "indexing >= 2,000 docs/s (incl. jieba)", f"{incl:,.0f} docs/s", verdict(incl >= INDEX_RATE_GOAL)])
        if excl is not None:
            rows.append([name, "indexing >= 2,000 docs/s (excl. jieba)", f"{excl:,.0f} docs/s", verdict(excl >= INDEX_RATE_GOAL)])
    print_table(f"goals ({all_figures['config']['docs']:,} docs)", ["backend", "goal", "measured", "verdict"], rows)


def main(argv: list[str] | None = None) -> int:
    global KEEP_STORES
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog="See the module docstring.")
    parser.add_argument("--docs", type=int, default=100_000, help="mentions to index (default 100000)")
    parser.add_argument("--batch-size", type=int, default=1000, help="documents per upsert (default 1000)")
    parser.add_argument("--queries", type=int, default=200, help="timed queries of each kind (default 200)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed queries of each kind first (default 10)")
    parser.add_argument("--write-read-cycles", type=int, default=5,
                        help="after the query timings: N times (upsert 10 docs, time one kNN); default 5")
    parser.add_argument("--path", type=Path, help="keep the embedded stores in this (new or empty) folder instead of a temporary one")
    parser.add_argument("--skip-embedded", action="store_true", help="only Elasticsearch (needs --es-url)")
    parser.add_argument("--skip-excluding", action="store_true", help="only the normal pass (with segmentation)")
    parser.add_argument("--es-url", help="also benchmark Elasticsearch at this URL (indices bench-<random>-*, deleted at the end)")
    parser.add_argument("--es-api-key", default=os.environ.get("YUQING_ES_API_KEY"), help="default: $YUQING_ES_API_KEY")
    parser.add_argument("--es-no-verify-certs", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    if args.docs < 1 or args.batch_size < 1 or args.queries < 1:
        parser.error("--docs, --batch-size and --queries must be positive")
    if args.warmup < 0 or args.write_read_cycles < 0:
        parser.error("--warmup and --write-read-cycles cannot be negative")
    if args.skip_embedded and not args.es_url:
        parser.error("--skip-embedded needs --es-url")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    from yuqing.text import segment

    wall = time.perf_counter()
    segment("预热分词词典")  # load jieba's dictionary before anything is timed
    log(f"generating {args.docs:,} documents and {args.queries} queries (seed {args.seed})")
    documents, embeddings, texts = make_documents(args.docs, args.seed)
    specs = make_queries(texts, embeddings, args.queries + args.warmup, args.seed)
    warmup, queries = specs[:args.warmup], specs[args.warmup:]
    log("segmenting every document with jieba (timed: the segmentation-only rate)")
    lookup, seg_seconds = presegment(documents)
    figures = {
        "config": {"docs": args.docs, "batch_size": args.batch_size, "queries": args.queries, "warmup": args.warmup,
                   "seed": args.seed, "dim": DIM, "days": DAYS,
                   "mean_text_chars": float(np.mean([len(d["text"]) for d in documents]))},
        "environment": environment(),
        "versions": package_versions(["tantivy", "jieba", "numpy", "elasticsearch"]),
        "segmentation": {"docs": args.docs, "seconds": seg_seconds, "docs_per_s": args.docs / seg_seconds},
        "goals": {"hybrid_p95_ms": HYBRID_P95_GOAL_MS, "index_docs_per_s": INDEX_RATE_GOAL},
        "backends": {},
    }
    log(f"  {args.docs / seg_seconds:,.0f} docs/s segmented")

    temporary = None
    try:
        if not args.skip_embedded:
            if args.path:
                KEEP_STORES = True
                root = args.path
            else:
                temporary = tempfile.mkdtemp(prefix="yuqing-search-bench-")
                root = Path(temporary)
            open_backend, cleanup = embedded_store(root)
            result = bench_backend("embedded", open_backend, cleanup, documents, embeddings, lookup,
                                   queries, warmup, args)
            backend = result.pop("_backend")
            result["disk_mb"] = store_sizes(backend.root)
            result["path"] = str(backend.root)
            figures["backends"]["embedded"] = result
            cleanup(backend)
            del backend
            gc.collect()
        if args.es_url:
            open_backend, cleanup, client = elastic_store(args.es_url, args.es_api_key, not args.es_no_verify_certs)
            try:
                result = bench_backend("elasticsearch", open_backend, cleanup, documents, embeddings, lookup,
                                       queries, warmup, args)
                result.pop("_backend")
                result["url"] = args.es_url
                info = client.info().body
                result["server"] = {"name": info.get("name"), "cluster_name": info.get("cluster_name"),
                                    "version": info.get("version", {}).get("number"),
                                    "build_flavor": info.get("version", {}).get("build_flavor")}
                figures["backends"]["elasticsearch"] = result
            finally:
                cleanup()
                client.close()
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)
    figures["peak_rss_mb"] = peak_rss_mb()
    figures["wall_seconds"] = time.perf_counter() - wall
    summary = (f"mean text {figures['config']['mean_text_chars']:.0f} chars; peak RSS {figures['peak_rss_mb']:,.0f} MB; "
               f"whole run {figures['wall_seconds']:.0f} s")
    return finish_run(figures, report, summary, args.json)


if __name__ == "__main__":
    sys.exit(main())
