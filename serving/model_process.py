"""The champion's forward passes in a child process.

In one process the model thread and the HTTP event loop take turns on one GIL: under load the
event loop waits up to a switch interval after every socket write, and the service reached only
0.72–0.92× of the in-process throughput. In a child process the forward passes run on another
core while the parent parses, validates and answers.

The child loads each model once, by a URI that names one version (never an alias that could move
between parent and child), keeps the two most recent (the champion and the one it replaced, for
requests admitted before a switch), and learns the segmenter words the parent added
(organisation names from the case library) before each pass, so both segment alike. A child that
dies is replaced and the pass retried once."""

from __future__ import annotations

import logging
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

logger = logging.getLogger("yuqing.model_process")
KEEP_MODELS = 2
_models: dict[str, Any] = {}  # in the child: uri -> predictor, oldest first


def _predict(uri: str, words: list[str], texts: list[str], batch_size: int) -> list:
    """Runs in the child."""
    from yuqing.text import add_words

    add_words(words)  # only new words cost anything
    predictor = _models.get(uri)
    if predictor is None:
        from yuqing.predictor import load_predictor

        predictor = _models[uri] = load_predictor(uri)
        while len(_models) > KEEP_MODELS:
            _models.pop(next(iter(_models)))
    return predictor.predict(texts, batch_size=batch_size) if texts else []


class ModelProcess:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool = self._start()

    @staticmethod
    def _start() -> ProcessPoolExecutor:
        # spawned, not forked: the parent holds tantivy, torch and event-loop threads
        return ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))

    def predict(self, uri: str, texts: list[str], batch_size: int) -> list:
        """Predictions for `texts` by the model at `uri` (blocks; call it from the model thread)."""
        from yuqing.text import added_words

        for attempt in (1, 2):
            pool = self._pool
            try:
                return pool.submit(_predict, uri, added_words(), texts, batch_size).result()
            except BrokenProcessPool:
                if attempt == 2:
                    raise
                logger.error("the model process died; starting a new one and retrying the pass")
                with self._lock:
                    if self._pool is pool:
                        self._pool = self._start()
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
