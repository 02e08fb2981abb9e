"""Baseline: jieba word n-grams + character n-grams, TF-IDF, one linear classifier per task."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import joblib
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from yuqing.labels import TASKS
from yuqing.predictor import build_predictions
from yuqing.schemas import Prediction
from yuqing.text import normalize, tokenize

MODEL_FILE = "baseline.joblib"


def _features() -> FeatureUnion:
    return FeatureUnion([
        ("words", TfidfVectorizer(tokenizer=tokenize, token_pattern=None, lowercase=False,
                                  ngram_range=(1, 2), min_df=1, sublinear_tf=True)),
        ("chars", TfidfVectorizer(analyzer="char", preprocessor=normalize,
                                  ngram_range=(1, 3), min_df=2, sublinear_tf=True, max_features=200_000)),
    ])


class BaselinePredictor:
    kind = "baseline"

    def __init__(self, pipelines: dict[str, Pipeline]):
        self.pipelines = pipelines

    @classmethod
    def fit(cls, texts: Sequence[str], labels: dict[str, Sequence[str | None]], c: float = 4.0) -> "BaselinePredictor":
        """Fit one pipeline per task on the rows where that task's label is present."""
        pipelines = {}
        for task in TASKS:
            rows = [i for i, y in enumerate(labels[task]) if y is not None]
            pipeline = Pipeline([
                ("tfidf", _features()),
                ("clf", LogisticRegression(C=c, max_iter=2000, class_weight="balanced")),
            ])
            pipeline.fit([texts[i] for i in rows], [labels[task][i] for i in rows])
            pipelines[task] = pipeline
        return cls(pipelines)

    def predict(self, texts: Sequence[str], batch_size: int = 32) -> list[Prediction]:
        probabilities = {task: self._probabilities(task, texts) for task in TASKS}
        return build_predictions(probabilities)

    def _probabilities(self, task: str, texts: Sequence[str]) -> np.ndarray:
        """Columns in TASKS order; a label never seen in training gets probability 0."""
        pipeline = self.pipelines[task]
        seen = list(pipeline.classes_)
        raw = pipeline.predict_proba(list(texts))
        out = np.zeros((len(texts), len(TASKS[task])))
        for j, label in enumerate(TASKS[task]):
            if label in seen:
                out[:, j] = raw[:, seen.index(label)]
        return out

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.pipelines, directory / MODEL_FILE)

    @classmethod
    def load(cls, directory: Path) -> "BaselinePredictor":
        return cls(joblib.load(Path(directory) / MODEL_FILE))
