"""An ensemble of registered models: their per-task probabilities averaged (weighted), the
embedding taken from the first member that has one. TF-IDF and the fine-tuned encoder make
different mistakes, so their average is usually better than either."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from yuqing.labels import TASKS
from yuqing.predictor import build_predictions
from yuqing.schemas import Prediction

META_FILE = "ensemble.json"


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
        outputs = [m.predict(texts, batch_size=batch_size) for m in self.members]
        probabilities = {
            task: sum(w * np.array([[p.scores[task][l] for l in labels] for p in out])
                      for w, out in zip(self.weights, outputs))
            for task, labels in TASKS.items()
        }
        with_embedding = next((out for out in outputs if out[0].embedding is not None), None)
        embeddings = np.array([p.embedding for p in with_embedding]) if with_embedding else None
        return build_predictions(probabilities, embeddings)

    def save(self, directory: Path) -> None:
        from training.registry import save_predictor_dir

        directory = Path(directory)
        for index, member in enumerate(self.members):
            save_predictor_dir(member, directory / f"member{index}")
        (directory / META_FILE).write_text(json.dumps({"weights": self.weights, "members": len(self.members)}))

    @classmethod
    def load(cls, directory: Path) -> "EnsemblePredictor":
        from training.registry import load_predictor_dir

        meta = json.loads((Path(directory) / META_FILE).read_text())
        members = [load_predictor_dir(Path(directory) / f"member{i}") for i in range(meta["members"])]
        return cls(members, meta["weights"])
