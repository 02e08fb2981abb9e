"""Chinese text handling shared by the models and the search index.

Indexing and querying must segment identically, so both go through `segment`."""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from pathlib import Path

import jieba

jieba.setLogLevel(logging.WARNING)

USER_DICT = Path(__file__).with_name("userdict.txt")
_lock = threading.Lock()
_loaded = False
_PUNCT_OR_SPACE = re.compile(r"^[\s\W_]+$", re.UNICODE)


def normalize(text: str) -> str:
    """NFKC (full-width → half-width), lower-case Latin letters, collapse whitespace."""
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"\s+", " ", text).strip()


def _ensure_user_dict() -> None:
    global _loaded
    with _lock:
        if not _loaded:
            if USER_DICT.exists():
                jieba.load_userdict(str(USER_DICT))
            _loaded = True


def add_words(words: list[str]) -> None:
    """Teach the segmenter organisation or product names (e.g. from the case library)."""
    _ensure_user_dict()
    for word in words:
        if word and len(word) > 1:
            jieba.add_word(word, freq=20000)


def tokenize(text: str) -> list[str]:
    """Words of a text (search-engine mode: long words also yield their parts), no punctuation."""
    _ensure_user_dict()
    return [t for t in jieba.cut_for_search(normalize(text)) if not _PUNCT_OR_SPACE.match(t)]


def segment(text: str) -> str:
    """Space-joined tokens, the form given to whitespace analyzers in every backend."""
    return " ".join(tokenize(text))
