"""Chinese text handling shared by the models and the search index.

Indexing and querying must segment identically, so both go through `segment`."""

from __future__ import annotations

import atexit
import functools
import logging
import multiprocessing
import os
import re
import sys
import threading
import unicodedata
from pathlib import Path

import jieba

jieba.setLogLevel(logging.WARNING)

USER_DICT = Path(__file__).with_name("userdict.txt")
_lock = threading.Lock()
_loaded = False
_added_words: list[str] = []  # words added at run time, replayed in worker processes
_added_set: set[str] = set()
PARALLEL_FROM = 500  # texts per call from which segmentation is spread over processes
_pool = None
_pool_words = -1
_PUNCT_OR_SPACE = re.compile(r"^[\s\W_]+$", re.UNICODE)


@functools.cache
def _simplifier():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → Simplified Chinese (OpenCC, phrase-aware): 醫院 and 医院 are one word to every
    model, lexicon and index, whichever script a writer uses. ~3 µs per post."""
    return _simplifier().convert(text)


def normalize(text: str) -> str:
    """NFKC (full-width → half-width), Traditional → Simplified, lower-case Latin, collapse whitespace."""
    text = to_simplified(unicodedata.normalize("NFKC", text)).lower()
    return re.sub(r"\s+", " ", text).strip()


def _ensure_user_dict() -> None:
    global _loaded
    with _lock:
        if not _loaded:
            if USER_DICT.exists():
                jieba.load_userdict(str(USER_DICT))
            _loaded = True


def added_words() -> list[str]:
    """The words taught at run time, for a process that must segment the same way."""
    return list(_added_words)


def add_words(words: list[str]) -> None:
    """Teach the segmenter organisation or product names (e.g. from the case library)."""
    _ensure_user_dict()
    for word in (normalize(w) for w in words if w):  # the form texts take before segmentation
        if word and len(word) > 1 and word not in _added_set:  # new words only: workers restart on change
            jieba.add_word(word, freq=20000)
            _added_words.append(word)
            _added_set.add(word)


def tokenize(text: str) -> list[str]:
    """Words of a text (search-engine mode: long words also yield their parts), no punctuation."""
    _ensure_user_dict()
    return [t for t in jieba.cut_for_search(normalize(text)) if not _PUNCT_OR_SPACE.match(t)]


def segment(text: str) -> str:
    """Space-joined tokens, the form given to whitespace analyzers in every backend."""
    return " ".join(tokenize(text))


def segment_all(texts: list[str]) -> list[str]:
    """`segment` over many texts; large batches run on every core (jieba is pure Python and
    single-threaded, and segmentation is most of the cost of indexing)."""
    if len(texts) < PARALLEL_FROM or (os.cpu_count() or 1) < 2 or not _spawn_can_start():
        return [segment(t) for t in texts]
    try:
        return _worker_pool().map_async(segment, texts, chunksize=256).get(timeout=60 + len(texts) / 500)
    except multiprocessing.TimeoutError:  # workers could not start: never hang, segment here instead
        _close_pool()
        return [segment(t) for t in texts]


def _spawn_can_start() -> bool:
    """Spawned workers re-import the main script; that fails when it has no file (python - <<EOF)."""
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    return main_file is None or os.path.exists(main_file)


def _close_pool() -> None:
    global _pool
    with _lock:
        if _pool is not None:
            _pool.terminate()
            _pool = None


atexit.register(_close_pool)  # once, for whichever pool is current at exit


def _worker_pool():
    """Spawned (not forked: the parent may hold torch or tantivy threads) workers that load the
    same dictionary and run-time words; rebuilt when words were added since."""
    global _pool, _pool_words
    with _lock:
        if _pool is None or _pool_words != len(_added_words):
            if _pool is not None:
                _pool.terminate()
            context = multiprocessing.get_context("spawn")
            _pool = context.Pool(os.cpu_count(), initializer=add_words, initargs=(list(_added_words),))
            _pool_words = len(_added_words)
        return _pool
