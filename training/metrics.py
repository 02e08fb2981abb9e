"""Per-task accuracy, macro-F1, per-class reports and confusion matrices."""

from __future__ import annotations

from collections.abc import Sequence

from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score

from yuqing.labels import TASKS
from yuqing.predictor import Predictor
from yuqing.schemas import Prediction


def score(predictions: Sequence[Prediction], gold: dict[str, Sequence[str | None]]) -> dict:
    """{task: {accuracy, macro_f1, n, report, confusion, labels}} over rows labelled for that task."""
    results = {}
    for task, labels in TASKS.items():
        rows = [i for i, y in enumerate(gold[task]) if y is not None]
        if not rows:
            continue
        y_true = [gold[task][i] for i in rows]
        y_pred = [getattr(predictions[i], task) for i in rows]
        present = [label for label in labels if label in set(y_true) | set(y_pred)]
        results[task] = {
            "n": len(rows),
            "accuracy": accuracy_score(y_true, y_pred),
            "macro_f1": f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0),
            "report": classification_report(y_true, y_pred, labels=present, output_dict=True, zero_division=0),
            "confusion": confusion_matrix(y_true, y_pred, labels=present).tolist(),
            "labels": present,
        }
    return results


def evaluate(predictor: Predictor, dataset, batch_size: int = 32) -> dict:
    predictions = predictor.predict(dataset["text"], batch_size=batch_size)
    return score(predictions, {task: dataset[task] for task in TASKS})


def mean_macro_f1(results: dict) -> float:
    """The promotion criterion: macro-F1 averaged over the tasks that were scored."""
    present = [t for t in TASKS if t in results]
    return sum(results[t]["macro_f1"] for t in present) / len(present) if present else float("nan")


def flat_metrics(results: dict, prefix: str) -> dict[str, float]:
    metrics = {}
    for task, result in results.items():
        metrics[f"{prefix}_{task}_accuracy"] = result["accuracy"]
        metrics[f"{prefix}_{task}_macro_f1"] = result["macro_f1"]
    metrics[f"{prefix}_macro_f1_mean"] = mean_macro_f1(results)
    return metrics


def format_table(results: dict) -> str:
    """A plain-text per-task summary and per-class F1 table."""
    lines = [f"{'task':<12} {'n':>5} {'accuracy':>9} {'macro-F1':>9}"]
    for task, r in results.items():
        lines.append(f"{task:<12} {r['n']:>5} {r['accuracy']:>9.3f} {r['macro_f1']:>9.3f}")
    for task, r in results.items():
        lines.append(f"\n{task}: {'label':<24} {'prec':>6} {'recall':>6} {'f1':>6} {'support':>7}")
        for label in r["labels"]:
            c = r["report"][label]
            lines.append(f"  {label:<32} {c['precision']:>6.3f} {c['recall']:>6.3f} {c['f1-score']:>6.3f} {int(c['support']):>7}")
    return "\n".join(lines)
