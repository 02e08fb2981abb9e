"""The case library reaches the index at start-up or on command, never inside a read: an edited
case is re-indexed (found by content hash, not by count), and readers during a re-index always
see a whole library."""

from __future__ import annotations

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from playbooks.library import CASES_DIR
from search.embedded import EmbeddedBackend
from serving.runtime import Runtime
from tests.conftest import sample_rows
from training.baseline import BaselinePredictor
from yuqing.labels import TASKS


@pytest.fixture(scope="module")
def predictor():
    rows = sample_rows(repeat=3)
    return BaselinePredictor.fit([r["text"] for r in rows], {t: [r[t] for r in rows] for t in TASKS})


@pytest.fixture
def library(tmp_path) -> Path:
    folder = tmp_path / "cases"
    shutil.copytree(CASES_DIR, folder)
    return folder


def _edit_summaries(folder: Path, old: str, new: str, files: int | None = None) -> None:
    for path in sorted(folder.glob("*.yaml"))[:files]:
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def test_an_edited_case_is_reindexed_and_a_removed_one_deleted(tmp_path, library, predictor):
    runtime = Runtime(backend=EmbeddedBackend(tmp_path / "index"), predictor=predictor)
    first = runtime.sync_cases(library)
    assert first["indexed"] == first["total"] > 80 and first["removed"] == 0
    assert runtime.sync_cases(library) == {"indexed": 0, "removed": 0, "total": first["total"]}

    path = library / "data_breach.yaml"
    text = path.read_text(encoding="utf-8")
    marker = "summary: "
    path.write_text(text.replace(marker, marker + "琉璃盏测试词 ", 1), encoding="utf-8")
    again = runtime.sync_cases(library)
    assert again["indexed"] == 1 and again["removed"] == 0
    hits = runtime.backend.search("cases", "琉璃盏测试词").hits
    assert hits[0].id == "db-001" and "琉璃" in (hits[0].highlight or "") and "content_hash" not in hits[0].source

    (library / "rumor.yaml").unlink()
    after = runtime.sync_cases(library)
    assert after["removed"] > 0 and runtime.backend.count("cases") == after["total"]


def test_readers_never_see_an_empty_or_half_built_library(tmp_path, library, predictor):
    runtime = Runtime(backend=EmbeddedBackend(tmp_path / "index"), predictor=predictor)
    total = runtime.sync_cases(library)["total"]
    _edit_summaries(library, "。", "；")  # every case changes: the next sync re-indexes all of them
    seen_counts, results, stop = [], [], threading.Event()

    def reader(_):
        hits = runtime.similar("化工厂排放废水，周边居民投诉，环保部门介入", k=5)
        seen_counts.append(runtime.backend.count("cases"))
        results.append(len(hits))

    def writer():
        runtime.sync_cases(library)
        stop.set()

    thread = threading.Thread(target=writer)
    thread.start()
    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(reader, range(64)))
    thread.join()
    assert stop.is_set()
    assert set(seen_counts) == {total}, "a reader saw a partial case collection"
    assert min(results) == 5
