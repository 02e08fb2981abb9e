"""Baseline: jieba word n-grams + character n-grams, TF-IDF, one linear classifier per task.

One shared feature pass: each text is normalised once, segmented once and turned into one sparse
TF-IDF row (word uni/bigrams + character 1–3-grams); the three logistic-regression heads read that
same row. (The first version fitted one whole pipeline per task and so segmented every text three
times; such saved models still load and predict as before.)

Segmentation uses `jieba_fast_dat` (jieba's dictionary and algorithm in C++, ~6× faster) when it is
installed, else jieba itself; the segmenter a model was trained with is saved with it."""

from __future__ import annotations

import importlib.util
import logging
import pickle
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import joblib
import numpy as np
import scipy.sparse as sp

from yuqing.labels import TASKS
from yuqing.predictor import build_predictions
from yuqing.schemas import Prediction
from yuqing.text import USER_DICT, normalize, tokenize

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

MODEL_FILE = "baseline.joblib"  # format 1 (joblib)
PICKLE_FILE = "baseline.pkl"  # format 2: the C unpickler reads the 250k-term vocabularies ~10× faster than joblib
FORMAT = 2  # 1: {task: Pipeline} (three feature passes); 2: shared features + heads
SEGMENTERS = ("jieba_fast_dat", "jieba")
_PUNCT_OR_SPACE = re.compile(r"^[\s\W_]+$", re.UNICODE)
_segmenters: dict[str, Callable[[str], list[str]]] = {}
_segmenter_lock = threading.Lock()
logger = logging.getLogger(__name__)


def default_segmenter() -> str:
    return "jieba_fast_dat" if importlib.util.find_spec("jieba_fast_dat") is not None else "jieba"


def segmenter(name: str) -> Callable[[str], list[str]]:
    """Words of an already normalised text (search mode, no punctuation) with the named segmenter."""
    with _segmenter_lock:
        if name not in _segmenters:
            if name == "jieba":
                # the shared jieba of yuqing.text (its user dictionary; words added at run time apply)
                _segmenters[name] = tokenize
            elif name == "jieba_fast_dat":
                import jieba_fast_dat

                jieba_fast_dat.setLogLevel(logging.WARNING)
                own = jieba_fast_dat.Tokenizer()  # private: unaffected by words others add to jieba
                if USER_DICT.exists():
                    own.load_userdict(str(USER_DICT))
                cut = own.cut_for_search
                match = _PUNCT_OR_SPACE.match
                _segmenters[name] = lambda text: [t for t in cut(text) if not match(t)]
            else:
                raise ValueError(f"unknown segmenter {name!r}; known: {', '.join(SEGMENTERS)}")
        return _segmenters[name]


def word_ngrams(tokens: list[str]) -> list[str]:
    """Word unigrams and bigrams of a token list (what TfidfVectorizer(ngram_range=(1, 2)) makes)."""
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


_WHITE_SPACES = re.compile(r"\s\s+")


def char_ngrams(text: str, low: int = 1, high: int = 3) -> list[str]:
    """Character n-grams of a text, as TfidfVectorizer(analyzer="char", ngram_range=(low, high)) makes them."""
    text = _WHITE_SPACES.sub(" ", text)
    grams = list(text) if low == 1 else []
    for n in range(max(low, 2), min(high, len(text)) + 1):
        grams += [text[i:i + n] for i in range(len(text) - n + 1)]
    return grams


@dataclass
class Head:
    """One task's fitted logistic regression, as plain arrays (loading it needs no scikit-learn)."""

    classes: list[str]
    coef: np.ndarray  # (classes, features); one row when two classes
    intercept: np.ndarray

    @classmethod
    def of(cls, model) -> Head:
        return cls(list(model.classes_), model.coef_, model.intercept_)

    def probabilities(self, matrix) -> np.ndarray:
        """LogisticRegression.predict_proba: softmax of the decisions, or the logistic for two classes."""
        decision = matrix @ self.coef.T + self.intercept
        if len(self.classes) > 2:
            decision = np.exp(decision - decision.max(axis=1, keepdims=True))
            return decision / decision.sum(axis=1, keepdims=True)
        positive = 1.0 / (1.0 + np.exp(-decision[:, 0]))
        return np.column_stack([1 - positive, positive])


class SharedFeatures:
    """Normalise once, segment once: TF-IDF over word n-grams and character n-grams, hstacked."""

    CHAR_RANGE = (1, 3)

    def __init__(self, segmenter_name: str | None = None):
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.segmenter = segmenter_name or default_segmenter()
        # fitting only; what predicting needs is copied out of them by freeze() and saved alone
        self.words = TfidfVectorizer(analyzer=word_ngrams, lowercase=False, min_df=1, sublinear_tf=True)
        self.chars = TfidfVectorizer(analyzer="char", lowercase=False, ngram_range=self.CHAR_RANGE, min_df=2,
                                     sublinear_tf=True, max_features=200_000)
        self.word_vocabulary: dict[str, int] = {}
        self.char_vocabulary: dict[str, int] = {}
        self.idf = np.zeros(0)

    def _inputs(self, texts: Sequence[str], normalized: bool) -> tuple[list[str], list[list[str]]]:
        clean = list(texts) if normalized else [normalize(t) for t in texts]
        cut = segmenter(self.segmenter)
        return clean, [cut(t) for t in clean]

    def fit_transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        clean, words = self._inputs(texts, normalized=False)
        matrix = sp.hstack([self.words.fit_transform(words), self.chars.fit_transform(clean)], format="csr")
        for vectorizer in (self.words, self.chars):
            vectorizer.stop_words_ = None  # every term min_df/max_features dropped: large, for introspection only
        self.word_vocabulary, self.char_vocabulary = self.words.vocabulary_, self.chars.vocabulary_
        self.idf = np.concatenate([self.words.idf_, self.chars.idf_])
        self._fast = None
        return matrix

    def transform(self, texts: Sequence[str], normalized: bool = False) -> sp.csr_matrix:
        """What `hstack([words.transform, chars.transform])` gives, without sklearn's per-term loop."""
        clean, words = self._inputs(texts, normalized)
        word_index, char_index, char_ngrams, offset, idf = self._lookup()
        columns, lengths = [], []
        for tokens, text in zip(words, clean):
            found = [i for i in map(word_index, word_ngrams(tokens)) if i is not None]
            found += [i + offset for i in map(char_index, char_ngrams(text)) if i is not None]
            columns += found
            lengths.append(len(found))
        rows = np.repeat(np.arange(len(clean)), lengths)
        matrix = sp.csr_matrix((np.ones(len(columns)), (rows, np.asarray(columns, dtype=np.int64))),
                               shape=(len(clean), len(idf)))  # duplicates summed: term counts
        matrix.sum_duplicates()
        data, columns = matrix.data, matrix.indices
        np.log(data, out=data)  # sublinear tf: 1 + log(count)
        data += 1
        data *= idf[columns]
        # each block is L2-normalised on its own, as each TfidfVectorizer does
        row = np.repeat(np.arange(len(clean)), np.diff(matrix.indptr))
        block = (columns >= offset).astype(np.int64)
        squares = np.bincount(row * 2 + block, weights=data * data, minlength=2 * len(clean))
        norms = np.sqrt(squares)
        norms[norms == 0] = 1
        data /= norms[row * 2 + block]
        return matrix

    def _lookup(self):
        """(word index getter, char index getter, char analyzer, offset of the char block, idf) — built
        once after loading, never pickled."""
        if getattr(self, "_fast", None) is None:
            low, high = self.CHAR_RANGE
            self._fast = (self.word_vocabulary.get, self.char_vocabulary.get,
                          lambda text: char_ngrams(text, low, high), len(self.word_vocabulary), self.idf)
        return self._fast

    def __getstate__(self) -> dict:
        """Only what predicting needs (vocabularies, idf, segmenter): no scikit-learn object."""
        return {k: v for k, v in self.__dict__.items() if k not in ("_fast", "words", "chars")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if "word_vocabulary" not in state and "words" in state:  # early format-2 files kept the vectorizers
            self.word_vocabulary, self.char_vocabulary = self.words.vocabulary_, self.chars.vocabulary_
            self.idf = np.concatenate([self.words.idf_, self.chars.idf_])
        if self.segmenter != "jieba" and importlib.util.find_spec(self.segmenter) is None:
            logger.warning("baseline model was trained with segmenter %s, which is not installed: falling back "
                           "to jieba (slower; words of unknown names may split differently, so scores can "
                           "differ slightly). `pip install jieba-fast-dat` restores the trained features.",
                           self.segmenter)
            self.segmenter = "jieba"


class BaselinePredictor:
    kind = "baseline"
    # One sparse matrix per pass: larger passes are cheaper per text (measured on 2 cores:
    # 3,300 texts/s at 32, 4,300 at 256), and a pass of 256 still takes only ~60 ms.
    serving_batch_size = 256

    def __init__(self, features: SharedFeatures | None, heads: dict[str, Head] | None = None,
                 pipelines: dict[str, Pipeline] | None = None):
        self.features = features
        self.heads = heads or {}
        self.pipelines = pipelines  # format 1 only
        self._columns = {task: self._column_map(head.classes, task) for task, head in self.heads.items()}

    @staticmethod
    def _column_map(seen: list, task: str) -> tuple[np.ndarray, np.ndarray]:
        """(columns in TASKS order, their columns in the head's output) for the labels the head saw."""
        pairs = [(j, seen.index(label)) for j, label in enumerate(TASKS[task]) if label in seen]
        return np.array([p[0] for p in pairs], dtype=int), np.array([p[1] for p in pairs], dtype=int)

    @classmethod
    def fit(cls, texts: Sequence[str], labels: dict[str, Sequence[str | None]], c: float = 4.0,
            segmenter_name: str | None = None) -> BaselinePredictor:
        """Fit the shared features on every text, then each task's head on the rows labelled for it.
        `labels` may name only some tasks: the heads are independent, so a head fitted alone is the
        one a full fit would give (leave-one-writer-out on one task needs no other head)."""
        from sklearn.linear_model import LogisticRegression

        features = SharedFeatures(segmenter_name)
        matrix = features.fit_transform(texts)
        heads = {}
        for task in labels:
            rows = np.array([i for i, y in enumerate(labels[task]) if y is not None], dtype=int)
            head = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
            head.fit(matrix[rows], [labels[task][i] for i in rows])
            heads[task] = Head.of(head)
        return cls(features, heads)

    def predict(self, texts: Sequence[str], batch_size: int = 32) -> list[Prediction]:
        if not len(texts):
            return []
        probabilities, _ = self.probabilities(texts)
        return build_predictions(probabilities)

    def probabilities(self, texts: Sequence[str], batch_size: int = 32,
                      normalized: bool = False) -> tuple[dict[str, np.ndarray], None]:
        """Per-task probability matrices (columns in TASKS order; a label never seen in training gets 0)
        and no embedding. `normalized`: the texts already went through `yuqing.text.normalize`."""
        if self.pipelines is not None:
            return {task: self._legacy_probabilities(task, texts) for task in TASKS}, None
        matrix = self.features.transform(texts, normalized=normalized)
        out = {}
        for task, head in self.heads.items():
            raw = head.probabilities(matrix)
            probabilities = np.zeros((matrix.shape[0], len(TASKS[task])))
            ours, theirs = self._columns[task]
            probabilities[:, ours] = raw[:, theirs]
            out[task] = probabilities
        return out, None

    def _legacy_probabilities(self, task: str, texts: Sequence[str]) -> np.ndarray:
        pipeline = self.pipelines[task]
        seen = list(pipeline.classes_)
        raw = pipeline.predict_proba(list(texts))
        out = np.zeros((len(texts), len(TASKS[task])))
        for j, label in enumerate(TASKS[task]):
            if label in seen:
                out[:, j] = raw[:, seen.index(label)]
        return out

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if self.pipelines is not None:
            joblib.dump(self.pipelines, directory / MODEL_FILE)
        else:
            with (directory / PICKLE_FILE).open("wb") as handle:
                pickle.dump({"format": FORMAT, "features": self.features, "heads": self.heads}, handle,
                            protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def load(cls, directory: Path) -> BaselinePredictor:
        if (Path(directory) / PICKLE_FILE).exists():
            with (Path(directory) / PICKLE_FILE).open("rb") as handle:
                saved = pickle.load(handle)  # a model directory is trusted code, as joblib files are
        else:
            saved = joblib.load(Path(directory) / MODEL_FILE)
        if isinstance(saved, dict) and saved.get("format") == FORMAT:
            # early format-2 files kept the fitted LogisticRegression objects: same arrays
            heads = {t: h if isinstance(h, Head) else Head.of(h) for t, h in saved["heads"].items()}
            return cls(saved["features"], heads)
        if isinstance(saved, dict) and set(saved) == set(TASKS):  # format 1: one pipeline per task
            return cls(None, pipelines=saved)
        raise ValueError(f"{directory}: not a baseline model this code can read")
