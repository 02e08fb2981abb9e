"""Reading texts longer than an encoder's window (news articles run to thousands of characters;
m3e-small reads 256 tokens). Three ways, measured by `benchmarks/long_text.py`:

* head       the first `window` characters (what plain truncation does);
* head_tail  the first two thirds of the window and the last third: news puts the event first and
             the outcome (fines, arrests, apologies) at the end;
* chunks     the text cut into windows (at most `max_chunks`), each classified, the per-task
             probabilities averaged and the embeddings averaged.

A predictor opts in by calling `read_long` from its `predict`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from yuqing.labels import TASKS
from yuqing.predictor import build_predictions
from yuqing.schemas import Prediction

STRATEGIES = ("head", "head_tail", "chunks")


def head_tail(text: str, window: int) -> str:
    if len(text) <= window:
        return text
    head = (2 * window) // 3
    return text[:head] + "……" + text[-(window - head):]


def chunks(text: str, window: int, max_chunks: int) -> list[str]:
    step = max(1, window)
    pieces = [text[i:i + step] for i in range(0, len(text), step)][:max_chunks]
    return pieces or [text]


def read_long(predict: Callable[[list[str]], list[Prediction]], texts: Sequence[str], strategy: str,
              window: int, max_chunks: int = 8) -> list[Prediction]:
    """`predict` applied to texts of any length by the named strategy."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown long-text strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    texts = list(texts)
    if strategy == "head":
        return predict([t[:window] for t in texts])
    if strategy == "head_tail":
        return predict([head_tail(t, window) for t in texts])
    pieces = [chunks(t, window, max_chunks) for t in texts]
    flat = predict([p for group in pieces for p in group])
    probabilities = {task: np.zeros((len(texts), len(labels))) for task, labels in TASKS.items()}
    embeddings = None
    start = 0
    for row, group in enumerate(pieces):
        part = flat[start:start + len(group)]
        start += len(group)
        for task, labels in TASKS.items():
            probabilities[task][row] = np.mean([[p.scores[task][label] for label in labels] for p in part], axis=0)
        if part[0].embedding is not None:
            if embeddings is None:
                embeddings = np.zeros((len(texts), len(part[0].embedding)))
            vector = np.mean([p.embedding for p in part], axis=0)
            embeddings[row] = vector / max(float(np.linalg.norm(vector)), 1e-12)
    return build_predictions(probabilities, embeddings)
