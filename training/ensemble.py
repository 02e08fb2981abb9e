"""An ensemble of registered models: their per-task probabilities averaged (weighted), the
embedding taken from the first member that has one. TF-IDF and the fine-tuned encoder make
different mistakes, so their average is usually better than either."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from training.persistence import load_predictor_from, save_predictor
from yuqing.labels import TASKS
from yuqing.predictor import build_predictions
from yuqing.schemas import Prediction
from yuqing.text import normalize

META_FILE = "ensemble.json"


def _member_probabilities(member, normalized_texts: list[str], batch_size: int):
    """(probabilities per task, embeddings or None) of a member on already normalised texts."""
    if hasattr(member, "probabilities"):
        return member.probabilities(normalized_texts, batch_size, normalized=True)
    predictions = member.predict(normalized_texts, batch_size=batch_size)  # any other Predictor
    probabilities = {task: np.array([[p.scores[task][label] for label in labels] for p in predictions])
                     for task, labels in TASKS.items()}
    with_embedding = predictions and predictions[0].embedding is not None
    return probabilities, np.array([p.embedding for p in predictions]) if with_embedding else None


class EnsemblePredictor:
    kind = "ensemble"

    def __init__(self, members: list, weights: Sequence[float] | None = None):
        if not members:
            raise ValueError("an ensemble needs at least one member")
        weights = list(weights) if weights is not None else [1.0] * len(members)
        if len(weights) != len(members) or min(weights) < 0 or sum(weights) == 0:
            raise ValueError("give one non-negative weight per member, not all zero")
        self.members = members
        self.weights = [w / sum(weights) for w in weights]

    def predict(self, texts: Sequence[str], batch_size: int = 32) -> list[Prediction]:
        texts = list(texts)
        if not texts:
            return []
        return build_predictions(*self.probabilities(texts, batch_size))

    def probabilities(self, texts: Sequence[str], batch_size: int = 32,
                      normalized: bool = False) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
        """Weighted average of the members' probability matrices, the embedding of the first member
        that has one. Texts are normalised once here and each member runs once on them."""
        texts = list(texts) if normalized else [normalize(t) for t in texts]
        outputs = [_member_probabilities(m, texts, batch_size) for m in self.members]
        probabilities = {task: sum(w * out[0][task] for w, out in zip(self.weights, outputs)) for task in TASKS}
        embeddings = next((out[1] for out in outputs if out[1] is not None), None)
        return probabilities, embeddings

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        for index, member in enumerate(self.members):
            save_predictor(member, directory / f"member{index}")
        (directory / META_FILE).write_text(json.dumps({"weights": self.weights, "members": len(self.members)}))

    @classmethod
    def load(cls, directory: Path) -> EnsemblePredictor:
        meta = json.loads((Path(directory) / META_FILE).read_text())
        members = [load_predictor_from(Path(directory) / f"member{i}") for i in range(meta["members"])]
        return cls(members, meta["weights"])
