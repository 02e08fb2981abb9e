"""The project's Prometheus counters, served by BentoML's `/metrics` with its own.

Created on first use inside the worker: BentoML sets PROMETHEUS_MULTIPROC_DIR there after the
service module is imported, and prometheus_client must see it (see bentoml/metrics.py)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


class _Metrics:
    def __init__(self) -> None:
        import prometheus_client as prom

        self.ingested = prom.Counter("yuqing_mentions_ingested", "Mentions classified and stored by /ingest",
                                     ["model_version"])
        self.classified = prom.Counter("yuqing_classified", "Texts classified, per task and predicted label",
                                       ["task", "label", "model_version"])
        self.errors = prom.Counter("yuqing_request_errors", "Requests answered with an error status, per endpoint",
                                   ["endpoint", "status"])
        self.overloaded = prom.Counter("yuqing_overload_refusals", "Requests refused with 503 because the queue was full",
                                       ["endpoint"])
        self.model = prom.Gauge("yuqing_model_info", "The model version being served (1) and earlier ones (0)",
                                ["model_version"], multiprocess_mode="livemax")
        self.reloads = prom.Counter("yuqing_model_reloads", "Champion switches without restart", ["model_version"])


@lru_cache(maxsize=1)
def metrics() -> _Metrics:
    return _Metrics()


def count_predictions(predictions: list[Any], version: str) -> None:
    from collections import Counter

    counts: Counter = Counter()
    for p in predictions:
        for task in ("sentiment", "topic", "crisis_type"):
            counts[(task, getattr(p, task))] += 1
    m = metrics()
    for (task, label), n in counts.items():
        m.classified.labels(task=task, label=label, model_version=version).inc(n)


def serving_version(version: str, previous: str | None = None) -> None:
    m = metrics()
    if previous is not None and previous != version:
        m.model.labels(model_version=previous).set(0)
    m.model.labels(model_version=version).set(1)
