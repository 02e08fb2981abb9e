"""The contract every classifier meets, and loading one from the MLflow registry.

Search and playbooks take a `Predictor` as an argument instead of importing training code,
so the dependency arrows stay core ← {training, search, playbooks} ← serving."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from yuqing.errors import ModelLoadError, ModelNotFoundError
from yuqing.schemas import Prediction

if TYPE_CHECKING:
    import numpy as np


DEFAULT_SERVING_BATCH_SIZE = 64  # an encoder's pass: larger batches add latency, not throughput


@runtime_checkable
class Predictor(Protocol):
    kind: str  # "baseline" | "transformer" | ...

    def predict(self, texts: Sequence[str], batch_size: int = 32) -> list[Prediction]:
        """Labels, per-label scores and (where the model has one) the embedding of each text."""
        ...


def serving_batch_size(predictor: Predictor) -> int:
    """Texts per forward pass that serve this model best (a model may declare `serving_batch_size`)."""
    return int(getattr(predictor, "serving_batch_size", DEFAULT_SERVING_BATCH_SIZE))


def load_predictor(model_uri: str | None = None) -> Predictor:
    """Load a registered model (default: the registry's champion) and return its predictor.

    Accepts any MLflow model URI: models:/name@alias, models:/name/3, runs:/…/model, a path.
    Raises ModelNotFoundError when nothing is there, ModelLoadError when what is there is broken."""
    import mlflow.pyfunc

    from yuqing.config import configure_environment

    uri = model_uri or configure_environment().champion_uri
    _check_exists(uri)
    try:
        model = mlflow.pyfunc.load_model(uri)
    except Exception as error:  # the artifact exists, so any failure here means it is broken
        raise ModelLoadError(f"model {uri!r} exists but failed to load: {type(error).__name__}: {error}") from error
    return unwrap(model)


def unwrap(pyfunc_model) -> Predictor:
    """The predictor inside a loaded MLflow pyfunc model (our MentionClassifier wrapper)."""
    wrapper = pyfunc_model.unwrap_python_model()
    predictor = getattr(wrapper, "predictor", None)
    if predictor is None:
        raise ModelLoadError(f"{type(wrapper).__name__} is not a yuqing model (no predictor inside)")
    return predictor


def _check_exists(uri: str) -> None:
    """Raise ModelNotFoundError when the URI names nothing: no registered version or alias, no path."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    hint = "Train one with `yuqing train` and promote it with `yuqing promote`, or pass --model."
    if uri.startswith("models:/"):
        name, _, ref = uri[len("models:/"):].partition("@")
        client = MlflowClient()
        try:
            if ref:
                client.get_model_version_by_alias(name, ref)
            else:
                name, _, version = name.partition("/")
                client.get_model_version(name, version) if version else client.get_registered_model(name)
        except MlflowException as error:
            if error.error_code == "RESOURCE_DOES_NOT_EXIST" or "not found" in str(error).lower():
                raise ModelNotFoundError(f"no model at {uri!r}. {hint}") from None
            raise
    elif "://" not in uri and not uri.startswith("runs:/") and not Path(uri).exists():
        raise ModelNotFoundError(f"no model directory {uri!r}. {hint}")


def build_predictions(probabilities: dict[str, np.ndarray], embeddings: np.ndarray | None = None) -> list[Prediction]:
    """Turn per-task probability matrices (rows = texts, columns = TASKS order) into Predictions."""
    from yuqing.labels import TASKS

    count = len(next(iter(probabilities.values())))
    predictions = []
    for row in range(count):
        scores = {
            task: {label: round(float(p), 6) for label, p in zip(TASKS[task], probabilities[task][row])}
            for task in TASKS
        }
        labels = {task: _best(scores[task]) for task in TASKS}
        embedding = None if embeddings is None else [float(x) for x in embeddings[row]]
        predictions.append(Prediction(**labels, scores=scores, embedding=embedding))
    return predictions


def _best(scores: dict[str, float]) -> str:
    return max(scores.items(), key=lambda item: item[1])[0]
