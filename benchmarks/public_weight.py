"""Should iNews rows weigh more in the baseline's sentiment head? For each fold — held-out (train on
every writer) and each writer left out — fits the shared TF-IDF features once, then the sentiment
head with iNews rows weighted 1, 2, 3…, and prints sentiment macro-F1 on the fold's test sets
(held-out and iNews test, or the writer left out). Only the sentiment head: the weight does not
touch topic or crisis type.

    .venv/bin/python benchmarks/public_weight.py --folds heldout i e k l --weights 1 2 3"""

from __future__ import annotations

import argparse
from types import SimpleNamespace

import numpy as np
from datasets import Dataset, concatenate_datasets
from sklearn.linear_model import LogisticRegression

from training import data as data_module
from training.baseline import SharedFeatures
from training.generalisation import inews_test, writer_datasets
from training.metrics import score
from yuqing.config import configure_environment


def sentiment_macro_f1(gold: list[str], predicted: list[str]) -> float:
    """Sentiment macro-F1 as `training.metrics.score` computes it for every model (labels present in either list)."""
    no_labels = [None] * len(gold)
    results = score([SimpleNamespace(sentiment=label) for label in predicted],
                    {"sentiment": gold, "topic": no_labels, "crisis_type": no_labels})
    return results["sentiment"]["macro_f1"]


def fold_sets(fold: str, by_writer: dict[str, Dataset]) -> tuple[list[Dataset], dict[str, Dataset]]:
    if fold == "heldout":
        return list(by_writer.values()), {"held-out": data_module.heldout(), "iNews test": inews_test()}
    return [d for w, d in by_writer.items() if w != fold], {f"writer {fold}": by_writer[fold]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", nargs="+", default=["heldout", "i", "e", "k", "l"])
    parser.add_argument("--weights", nargs="+", type=float, default=[1.0, 2.0, 3.0])
    options = parser.parse_args()
    configure_environment()
    by_writer = writer_datasets()
    inews = data_module.public_sets(["inews"], None, 0)
    extra = [data_module.case_rows(), data_module.incident_rows()]
    for fold in options.folds:
        writers, tests = fold_sets(fold, by_writer)
        train = concatenate_datasets(writers + extra + [inews])  # iNews last: its rows are the tail
        features = SharedFeatures()
        matrix = features.fit_transform(train["text"])
        rows = np.array([i for i, y in enumerate(train["sentiment"]) if y is not None])
        for weight in options.weights:
            weights = np.ones(len(train))
            weights[len(train) - len(inews):] = weight
            head = LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced")
            head.fit(matrix[rows], [train["sentiment"][i] for i in rows], sample_weight=weights[rows])
            scores = []
            for name, test in tests.items():
                predicted = list(head.predict(features.transform(test["text"])))
                scores.append(f"{name} {sentiment_macro_f1(list(test['sentiment']), predicted):.3f}")
            print(f"fold {fold:<8} iNews weight {weight:g}: " + "  ".join(scores), flush=True)


if __name__ == "__main__":
    main()
