"""The in-domain corpus and held-out set: valid, large enough, balanced as the data card says,
and kept apart from each other."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from training import data
from yuqing.labels import CRISIS_TYPES, TASKS


@pytest.fixture(scope="module")
def corpus():
    return data.load_files(data.CORPUS_GLOB)


@pytest.fixture(scope="module")
def heldout():
    return data.heldout()


def test_corpus_size_and_coverage(corpus):
    counts = Counter(corpus["crisis_type"])
    assert len(corpus) >= 4000
    assert counts["none"] >= 1200
    for crisis in CRISIS_TYPES:
        assert counts[crisis] >= 250, crisis


def test_every_row_has_all_three_labels(corpus):
    for task in TASKS:
        assert None not in set(corpus[task]), task
        assert set(corpus[task]) == set(TASKS[task]), f"{task}: every label is used"


def test_texts_are_unique_and_of_realistic_length(corpus):
    texts = corpus["text"]
    assert len(set(texts)) == len(texts)
    lengths = [len(t) for t in texts]
    assert min(lengths) >= 5 and max(lengths) <= 600  # announcements and court excerpts run to ~500
    assert sum(10 <= n <= 300 for n in lengths) / len(lengths) > 0.95
    assert sum(n >= 100 for n in lengths) / len(lengths) > 0.1, "long posts are part of the mix"


def test_style_mix(corpus):
    texts = corpus["text"]
    traditional = sum(bool(re.search("[們這個說來為會對時過還與發開們變實讓麼銀將關]", t)) for t in texts)
    assert 0.04 < traditional / len(texts) < 0.2, "about 8 % Traditional Chinese"
    assert sum("#" in t for t in texts) > 50, "hashtags"
    assert sum(bool(re.search(r"[A-Za-z]{2,}", t)) for t in texts) > 200, "mixed English"


def test_dev_split_is_stable_and_disjoint():
    train, dev = data.corpus_splits()
    assert not set(train["text"]) & set(dev["text"])
    assert 0.1 < len(dev) / (len(train) + len(dev)) < 0.2
    assert data.corpus_splits()[1]["text"] == dev["text"]


def test_heldout_never_overlaps_the_corpus(corpus, heldout):
    assert len(heldout) >= 400
    assert not set(heldout["text"]) & set(corpus["text"])
    assert set(heldout["crisis_type"]) == set(TASKS["crisis_type"])
