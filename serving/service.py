"""HTTP service (BentoML): classify mentions with adaptive batching, search, similar cases and
response recommendations.

    bentoml serve serving.service:Yuqing           # model: the MLflow registry's champion
    yuqing bento && bentoml build                   # packs the champion into the bento

Which model: YUQING_MODEL_URI (any MLflow URI) when set; otherwise the BentoML store's
`yuqing-classifier` (packed into a built bento by `yuqing bento`; YUQING_BENTO_MODEL names
another tag); otherwise the MLflow registry's champion."""

from __future__ import annotations

import os

import bentoml
from typing import Annotated

from pydantic import StringConstraints

from playbooks.recommend import Incident
from search.query import Filters, SearchQuery
from serving.runtime import Runtime
from yuqing.schemas import Prediction



def _packed_model():
    """The BentoML-store model to serve, or None to load from the MLflow registry instead."""
    if os.environ.get("YUQING_MODEL_URI"):
        return None
    tag = os.environ.get("YUQING_BENTO_MODEL", "yuqing-classifier:latest")
    try:
        bentoml.models.get(tag)
    except bentoml.exceptions.NotFound:
        return None
    return bentoml.models.BentoModel(tag)
MAX_TEXT_CHARS = 5000


# Checked per request before batching, so one bad text never fails another client's request.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT_CHARS)]


@bentoml.service(name="yuqing", traffic={"timeout": 60, "concurrency": 32}, workers=1)
class Yuqing:
    bento_model = _packed_model()

    def __init__(self) -> None:
        predictor = None
        if self.bento_model is not None:
            import mlflow.pyfunc

            predictor = mlflow.pyfunc.load_model(self.bento_model.path_of("mlflow_model")).unwrap_python_model().predictor
        self.runtime = Runtime(model_uri=os.environ.get("YUQING_MODEL_URI"), predictor=predictor)
        self.runtime.predictor  # load now, not on the first request

    @bentoml.api(batchable=True, max_batch_size=64, max_latency_ms=30)
    def classify(self, texts: list[Text]) -> list[Prediction]:
        """Sentiment, topic and crisis type with per-label scores and the embedding; adaptive batching
        merges concurrent requests into one forward pass."""
        return self.runtime.classify(texts)

    @bentoml.api
    def search(self, query: SearchQuery, collection: str = "mentions") -> dict:
        return self.runtime.backend.search(collection, query).model_dump(mode="json")

    @bentoml.api
    def dashboard(self, filters: Filters = Filters(), interval: str = "1d") -> dict:
        return self.runtime.backend.dashboard(filters, interval)

    @bentoml.api
    def similar(self, text: str, k: int = 5) -> list[dict]:
        return self.runtime.similar(text, k)

    @bentoml.api
    def recommend(self, incident: Incident, k: int = 5) -> dict:
        return self.runtime.recommend(incident, k).model_dump(mode="json")
