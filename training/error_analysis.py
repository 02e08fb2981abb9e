"""Error analysis of a classifier on a labelled file: the logic behind notebooks/error_analysis.ipynb.

Plain functions over a pandas frame with one row per mention: `text`, the gold labels, `channel`,
`writer`, and per task the prediction, its confidence and the runner-up (`prediction_columns`).
Plots draw on a given matplotlib Axes (or a new figure) with label ids on the axes, so no CJK
font is needed."""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from training.data import DataValidationError, RowProblem, validate_record
from yuqing.config import PROJECT_ROOT
from yuqing.jsonl import parse_lines
from yuqing.labels import TASKS
from yuqing.schemas import Prediction

WRITER_FOLDERS = ("corpus", "heldout")  # training/data/<these>/<writer>/*.jsonl
MISSING = "(none)"


# ---- data ---------------------------------------------------------------------------------------

def resolve_files(data: str | Path, root: Path = PROJECT_ROOT) -> list[Path]:
    """The files a path or glob names; relative ones are taken from the project root."""
    pattern = Path(data) if Path(data).is_absolute() else root / data
    files = sorted(Path(p) for p in glob.glob(str(pattern)))
    if not files:
        raise FileNotFoundError(f"no labelled file matches {pattern}")
    return files


def writer_of(path: Path, record: dict) -> str:
    """The record's `writer`, else the writer folder it lives in (corpus/<w>/, heldout/<w>/)."""
    if record.get("writer") not in (None, ""):
        return str(record["writer"])
    if path.parent.parent.name in WRITER_FOLDERS:
        return path.parent.name
    return MISSING


def load_rows(data: str | Path, root: Path = PROJECT_ROOT) -> pd.DataFrame:
    """Labelled JSONL file(s) as a frame: text, sentiment, topic, crisis_type (None where missing),
    channel and writer. Bad lines raise DataValidationError naming every one, as `yuqing train` does."""
    rows = []
    for path in resolve_files(data, root):
        records, unparsed = parse_lines(path)
        problems = [RowProblem(line, problem) for line, problem in unparsed]
        for number, record in records:
            row, problem = validate_record(record)
            if row is None:
                problems.append(RowProblem(number, problem or "invalid row"))
                continue
            channel = record.get("channel")
            rows.append({**row, "channel": str(channel) if channel not in (None, "") else MISSING,
                         "writer": writer_of(path, record)})
        if problems:
            raise DataValidationError(path, sorted(problems, key=lambda p: p.line))
    return pd.DataFrame(rows, columns=["text", *TASKS, "channel", "writer"])


def prediction_columns(predictions: Sequence[Prediction]) -> pd.DataFrame:
    """Per task: `<task>_pred`, `<task>_confidence`, `<task>_runner_up`, `<task>_runner_up_score`."""
    columns: dict[str, list] = {}
    for task in TASKS:
        ranked = [sorted(p.scores[task].items(), key=lambda kv: kv[1], reverse=True) for p in predictions]
        columns[f"{task}_pred"] = [getattr(p, task) for p in predictions]
        columns[f"{task}_confidence"] = [p.confidence(task) for p in predictions]
        columns[f"{task}_runner_up"] = [r[1][0] if len(r) > 1 else None for r in ranked]
        columns[f"{task}_runner_up_score"] = [r[1][1] if len(r) > 1 else np.nan for r in ranked]
    return pd.DataFrame(columns)


def gold_labels(frame: pd.DataFrame) -> dict[str, list[str | None]]:
    """{task: gold labels} with None where a row has no label (NaN included), as training.metrics.score takes."""
    return {task: [v if isinstance(v, str) else None for v in frame[task]] for task in TASKS if task in frame}


def labelled(frame: pd.DataFrame, task: str) -> pd.DataFrame:
    """The rows that carry a gold label for `task`."""
    return frame[frame[task].notna()]


# ---- scores -------------------------------------------------------------------------------------

def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Macro-F1 over the labels present in gold or prediction (as training.metrics.score does)."""
    present = sorted(set(gold) | set(predicted))
    return float(f1_score(list(gold), list(predicted), labels=present, average="macro", zero_division=0))


def class_table(result: dict) -> pd.DataFrame:
    """Per-class precision, recall, F1 and support from one task of training.metrics.score."""
    report = result["report"]
    table = pd.DataFrame({label: report[label] for label in result["labels"]}).T
    table = table.rename(columns={"f1-score": "f1"})[["precision", "recall", "f1", "support"]]
    table["support"] = table["support"].astype(int)
    table.index.name = "label"
    return table.round(3)


def summary_table(results: dict) -> pd.DataFrame:
    """One row per task: n, accuracy, macro-F1."""
    return pd.DataFrame({task: {"n": r["n"], "accuracy": r["accuracy"], "macro_f1": r["macro_f1"]}
                         for task, r in results.items()}).T.astype({"n": int}).round(3)


def breakdown(frame: pd.DataFrame, by: str, tasks: Sequence[str] = tuple(TASKS)) -> pd.DataFrame:
    """Macro-F1 of each task per value of `by` (writer, channel), with the row count; worst first."""
    table = {}
    for group, rows in frame.groupby(by, sort=True):
        entry: dict[str, float] = {"n": len(rows)}
        for task in tasks:
            scored = labelled(rows, task)
            entry[task] = macro_f1(scored[task], scored[f"{task}_pred"]) if len(scored) else np.nan
        table[group] = entry
    result = pd.DataFrame(table).T.astype({"n": int})
    result["mean_macro_f1"] = result[list(tasks)].mean(axis=1)
    result.index.name = by
    return result.sort_values("mean_macro_f1").round(3)


def worst_errors(frame: pd.DataFrame, task: str, n: int = 10, width: int = 60) -> pd.DataFrame:
    """The `n` wrong predictions of `task` made with the highest confidence: text (cut to `width`
    characters), gold, predicted, confidence, runner-up and its score, plus writer and channel."""
    scored = labelled(frame, task)
    wrong = scored[scored[task] != scored[f"{task}_pred"]]
    wrong = wrong.sort_values(f"{task}_confidence", ascending=False, kind="stable").head(n)
    table = pd.DataFrame({
        "text": [t if len(t) <= width else t[: width - 1] + "…" for t in wrong["text"]],
        "gold": wrong[task].to_numpy(),
        "predicted": wrong[f"{task}_pred"].to_numpy(),
        "confidence": wrong[f"{task}_confidence"].round(3).to_numpy(),
        "runner_up": wrong[f"{task}_runner_up"].to_numpy(),
        "runner_up_score": wrong[f"{task}_runner_up_score"].round(3).to_numpy(),
    })
    for column in ("writer", "channel"):
        if column in wrong:
            table[column] = wrong[column].to_numpy()
    return table


# ---- calibration --------------------------------------------------------------------------------

def reliability_table(confidence: Sequence[float], correct: Sequence[bool], bins: int = 10) -> pd.DataFrame:
    """Equal-width confidence bins over [0, 1] (each (lower, upper], the first also holding 0):
    count, mean confidence, accuracy and their gap. Empty bins are kept with n = 0."""
    confidences = np.asarray(confidence, dtype=float)
    hits = np.asarray(correct, dtype=float)
    if confidences.shape != hits.shape:
        raise ValueError("confidence and correct must have the same length")
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.searchsorted(edges, confidences, side="left") - 1, 0, bins - 1)
    rows = []
    for b in range(bins):
        members = index == b
        count = int(members.sum())
        mean_confidence = float(confidences[members].mean()) if count else np.nan
        accuracy = float(hits[members].mean()) if count else np.nan
        rows.append({"lower": edges[b], "upper": edges[b + 1], "n": count, "confidence": mean_confidence,
                     "accuracy": accuracy, "gap": abs(accuracy - mean_confidence) if count else np.nan})
    return pd.DataFrame(rows)


def expected_calibration_error(table: pd.DataFrame) -> float:
    """ECE: the bins' |accuracy − confidence|, weighted by their share of the rows."""
    total = table["n"].sum()
    if not total:
        return float("nan")
    filled = table[table["n"] > 0]
    return float((filled["n"] / total * filled["gap"]).sum())


def task_reliability(frame: pd.DataFrame, task: str, bins: int = 10) -> tuple[pd.DataFrame, float]:
    """(reliability table, ECE) of one task's top-label confidence on its labelled rows."""
    scored = labelled(frame, task)
    table = reliability_table(scored[f"{task}_confidence"], scored[task] == scored[f"{task}_pred"], bins)
    return table, expected_calibration_error(table)


# ---- plots --------------------------------------------------------------------------------------

def _axes(ax, size):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=size)[1]


def plot_confusion(result: dict, task: str, ax=None):
    """Heatmap of one task's confusion matrix (rows gold, columns predicted), counts written in."""
    matrix = np.asarray(result["confusion"])
    labels = result["labels"]
    side = 2.5 + 0.55 * len(labels)
    ax = _axes(ax, (side + 1, side))
    image = ax.imshow(matrix, cmap="Blues")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    threshold = matrix.max() / 2 if matrix.size else 0
    for (i, j), count in np.ndenumerate(matrix):
        if count:
            ax.text(j, i, str(count), ha="center", va="center", fontsize=8,
                    color="white" if count > threshold else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(f"{task}: confusion matrix (n={int(matrix.sum())})")
    ax.figure.tight_layout()
    return ax


def plot_reliability(table: pd.DataFrame, task: str, ece: float, ax=None):
    """Reliability diagram: accuracy per confidence bin against the diagonal of perfect calibration."""
    ax = _axes(ax, (5, 4.5))
    width = float(table["upper"].iloc[0] - table["lower"].iloc[0])
    filled = table[table["n"] > 0]
    ax.bar(filled["lower"], filled["accuracy"], width=width, align="edge", edgecolor="black", alpha=0.8, label="accuracy")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    ax.plot(filled["confidence"], filled["accuracy"], marker="o", color="tab:red", label="mean confidence")
    for _, row in filled.iterrows():
        ax.text(row["lower"] + width / 2, min(row["accuracy"] + 0.02, 0.97), str(int(row["n"])), ha="center", fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence of the predicted label")
    ax.set_ylabel("accuracy")
    ax.set_title(f"{task}: reliability (ECE {ece:.3f})")
    ax.legend(loc="upper left", fontsize=8)
    ax.figure.tight_layout()
    return ax
