"""The contract every classifier meets, and loading one from the MLflow registry.

Search and playbooks take a `Predictor` as an argument instead of importing training code,
so the dependency arrows stay core ← {training, search, playbooks} ← serving."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, Sequence, runtime_checkable

from yuqing.schemas import Prediction

if TYPE_CHECKING:
    import numpy as np


@runtime_checkable
class Predictor(Protocol):
    kind: str  # "baseline" | "transformer" | ...

    def predict(self, texts: Sequence[str], batch_size: int = 32) -> list[Prediction]:
        """Labels, per-label scores and (where the model has one) the embedding of each text."""
        ...


def load_predictor(model_uri: str | None = None) -> Predictor:
    """Load a registered model (default: the registry's champion) and return its predictor.

    Accepts any MLflow model URI: models:/name@alias, models:/name/3, runs:/…/model, a path."""
    import mlflow.pyfunc

    from yuqing.config import configure_environment

    settings = configure_environment()
    uri = model_uri or settings.champion_uri
    try:
        model = mlflow.pyfunc.load_model(uri)
    except Exception as error:  # MLflow raises several types for "not found"
        raise LookupError(
            f"cannot load model {uri!r}: {error}. Train one with `yuqing train` "
            "and promote it with `yuqing promote`, or pass --model."
        ) from error
    return model.unwrap_python_model().predictor


def build_predictions(probabilities: dict[str, "np.ndarray"], embeddings: "np.ndarray | None" = None) -> list[Prediction]:
    """Turn per-task probability matrices (rows = texts, columns = TASKS order) into Predictions."""
    from yuqing.labels import TASKS

    count = len(next(iter(probabilities.values())))
    predictions = []
    for row in range(count):
        scores = {
            task: {label: round(float(p), 6) for label, p in zip(TASKS[task], probabilities[task][row])}
            for task in TASKS
        }
        labels = {task: max(scores[task], key=scores[task].get) for task in TASKS}
        embedding = None if embeddings is None else [float(x) for x in embeddings[row]]
        predictions.append(Prediction(**labels, scores=scores, embedding=embedding))
    return predictions
