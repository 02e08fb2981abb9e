"""Embedded backend: acknowledged writes survive kill -9, and readers work while a writer writes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from search.embedded import EmbeddedBackend

# Writes one mention per line read from stdin ("paced") or as fast as it can ("free"), and prints
# each index once its upsert has returned (the acknowledgement).
WRITER = textwrap.dedent("""
    import sys
    from search.embedded import EmbeddedBackend
    backend = EmbeddedBackend(sys.argv[1])
    paced = sys.argv[2] == "paced"
    for i in range(10_000):
        if paced and not sys.stdin.readline():
            break
        backend.upsert("mentions", [{"id": f"m{i}", "text": f"华岳银行第{i}条舆情", "embedding": [1.0, float(i % 7), 0.5]}])
        print(i, flush=True)
""")


def _start_writer(path, mode="free"):
    return subprocess.Popen([sys.executable, "-c", WRITER, str(path), mode], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


def test_acknowledged_writes_survive_kill_9(tmp_path):
    writer = _start_writer(tmp_path)
    acknowledged = -1
    for line in writer.stdout:
        acknowledged = int(line)
        if acknowledged >= 25:
            break
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    backend = EmbeddedBackend(tmp_path)
    for i in range(acknowledged + 1):
        document = backend.get("mentions", f"m{i}")
        assert document is not None, f"acknowledged write m{i} lost"
        assert document["embedding"] is not None
    assert backend.count("mentions") >= acknowledged + 1
    backend.upsert("mentions", [{"id": "after", "text": "重启后继续写入"}])  # the writer lock was released
    assert backend.get("mentions", "after")


def test_readers_work_while_another_process_writes(tmp_path):
    EmbeddedBackend(tmp_path).upsert("mentions", [{"id": "seed", "text": "华岳银行初始数据", "embedding": [1, 0, 0]}])
    writer = _start_writer(tmp_path, mode="paced")
    try:
        reader = EmbeddedBackend(tmp_path)
        seen = []
        for expected in range(1, 11):  # each round: one commit by the writer, then the reader looks
            writer.stdin.write("go\n")
            writer.stdin.flush()
            assert int(writer.stdout.readline()) == expected - 1  # the writer's acknowledgement
            seen.append(reader.search("mentions", "华岳银行").total)
            assert reader.knn("mentions", [1, 0, 0], k=1)
            assert seen[-1] == expected + 1, "the reader sees each commit as soon as it is acknowledged"
        assert seen == sorted(seen)
    finally:
        writer.kill()
        writer.wait()


def test_large_collections_shortlist_by_projection_and_stay_accurate(tmp_path, monkeypatch):
    """Above REDUCE_FROM vectors kNN shortlists on a 128-d projection and re-scores exactly;
    the top hit must match the exact scan, also after in-place writes and a swap-delete."""
    import numpy as np

    from search import embedded

    monkeypatch.setattr(embedded, "REDUCE_FROM", 500)
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(1200, 384)).astype(np.float32)
    backend = EmbeddedBackend(tmp_path)
    backend.upsert("mentions", [{"id": f"v{i}", "text": f"文档{i}", "embedding": v.tolist()} for i, v in enumerate(vectors)])
    normalised = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    for probe in (3, 700, 1100):
        query = vectors[probe] + rng.normal(scale=0.1, size=384).astype(np.float32)
        exact = np.argsort(-(normalised @ (query / np.linalg.norm(query))))[:5]
        hits = backend.knn("mentions", query.tolist(), k=5)
        assert [h.id for h in hits] == [f"v{i}" for i in exact]
    assert backend._collection("mentions").cache.basis is not None
    backend.delete("mentions", ["v3"])
    backend.upsert("mentions", [{"id": "new", "text": "新文档", "embedding": vectors[700].tolist()}])
    hits = backend.knn("mentions", vectors[700].tolist(), k=2)
    assert {h.id for h in hits} == {"v700", "new"} and "v3" not in {h.id for h in backend.knn("mentions", vectors[3].tolist(), k=3)}


def test_selective_filters_score_exactly_over_their_matches(tmp_path):
    """A filter matching few documents takes the fast-field path; it must equal an exact scan."""
    import numpy as np

    from search.query import Filters

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(2000, 16)).astype(np.float32)
    backend = EmbeddedBackend(tmp_path)
    backend.upsert("mentions", [{"id": f"m{i}", "text": f"文本{i}", "channel": "news" if i % 10 == 0 else "weibo",
                                 "embedding": v.tolist()} for i, v in enumerate(vectors)])
    backend.delete("mentions", ["m0"])  # a swap-delete must keep keys and rows aligned
    query = rng.normal(size=16).astype(np.float32)
    scores = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)) @ (query / np.linalg.norm(query))
    expected = [f"m{i}" for i in sorted(range(10, 2000, 10), key=lambda i: -scores[i])[:5]]
    hits = backend.knn("mentions", query.tolist(), k=5, filters=Filters(equals={"channel": "news"}))
    assert [h.id for h in hits] == expected
    assert backend.knn("mentions", query.tolist(), k=5, filters=Filters(equals={"channel": "tv"})) == []
