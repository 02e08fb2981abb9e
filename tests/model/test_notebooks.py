"""notebooks/error_analysis.ipynb run top to bottom (nbclient) on a tiny baseline registered in a
temporary project, the helpers behind it on small synthetic inputs, and the stored notebooks kept
free of outputs."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import sample_rows
from yuqing.labels import TASKS

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
ERROR_ANALYSIS = NOTEBOOKS / "error_analysis.ipynb"


# ---- helpers on synthetic inputs ------------------------------------------------------------------

def _frame(gold: list[dict], probabilities: dict[str, list[list[float]]], **extra):
    """Rows with gold labels (None where missing) plus the prediction columns of the given probabilities."""
    import pandas as pd

    from training.error_analysis import prediction_columns
    from yuqing.predictor import build_predictions

    count = len(gold)
    full = {task: np.array(probabilities.get(task) or [[1.0] + [0.0] * (len(labels) - 1)] * count)
            for task, labels in TASKS.items()}
    rows = pd.DataFrame([{"text": g.get("text", f"第{i}条"), **{t: g.get(t) for t in TASKS}} for i, g in enumerate(gold)])
    for column, values in extra.items():
        rows[column] = values
    return pd.concat([rows, prediction_columns(build_predictions(full))], axis=1)


def test_reliability_bins_and_expected_calibration_error():
    from training.error_analysis import expected_calibration_error, reliability_table

    table = reliability_table([0.05, 0.15, 0.55, 0.95, 0.95], [False, True, True, True, False], bins=10)
    assert len(table) == 10 and table["n"].tolist() == [1, 1, 0, 0, 0, 1, 0, 0, 0, 2]
    assert table.loc[9, "accuracy"] == pytest.approx(0.5) and table.loc[9, "confidence"] == pytest.approx(0.95)
    assert np.isnan(table.loc[2, "accuracy"])  # empty bins are kept, without numbers
    # ECE = (1·0.05 + 1·0.85 + 1·0.45 + 2·0.45) / 5
    assert expected_calibration_error(table) == pytest.approx(0.45)

    edges = reliability_table([0.0, 0.5, 1.0], [True, True, True], bins=4)
    assert edges["n"].tolist() == [1, 1, 0, 1]  # 0 in the first bin, 0.5 closes (0.25, 0.5], 1 in the last
    assert expected_calibration_error(reliability_table([1.0, 1.0], [True, True])) == pytest.approx(0.0)
    assert np.isnan(expected_calibration_error(reliability_table([], [])))
    with pytest.raises(ValueError, match="same length"):
        reliability_table([0.5], [True, False])


def test_worst_errors_are_the_most_confident_wrong_predictions():
    from training.error_analysis import task_reliability, worst_errors

    # sentiment columns: negative, neutral, positive
    frame = _frame(
        gold=[{"sentiment": "positive", "text": "长" * 100}, {"sentiment": "negative"}, {"sentiment": "neutral"},
              {"sentiment": "positive"}, {"sentiment": None}],
        probabilities={"sentiment": [[0.9, 0.06, 0.04], [0.8, 0.15, 0.05], [0.1, 0.3, 0.6], [0.5, 0.4, 0.1], [0.99, 0.0, 0.01]]},
        writer=["a", "a", "b", "b", "b"])
    table = worst_errors(frame, "sentiment", n=10, width=20)
    # row 1 is right and row 4 has no gold label: the three wrong rows, most confident first
    assert table["confidence"].tolist() == [0.9, 0.6, 0.5]
    assert table["gold"].tolist() == ["positive", "neutral", "positive"]
    assert table["predicted"].tolist() == ["negative", "positive", "negative"]
    assert table["runner_up"].tolist() == ["neutral", "neutral", "neutral"]
    assert table["runner_up_score"].tolist() == [0.06, 0.3, 0.4]
    assert table["text"][0] == "长" * 19 + "…" and table["writer"].tolist() == ["a", "b", "b"]
    assert list(table.columns[:6]) == ["text", "gold", "predicted", "confidence", "runner_up", "runner_up_score"]
    assert len(worst_errors(frame, "sentiment", n=2)) == 2

    reliability, ece = task_reliability(frame, "sentiment", bins=5)
    assert reliability["n"].sum() == 4 and 0 < ece <= 1


def test_breakdown_and_class_table():
    from training.error_analysis import breakdown, class_table
    from training.metrics import score
    from yuqing.predictor import build_predictions

    frame = _frame(
        gold=[{"sentiment": "negative"}, {"sentiment": "positive"}, {"sentiment": "negative"}, {"sentiment": "positive"}],
        probabilities={"sentiment": [[0.9, 0.05, 0.05], [0.1, 0.1, 0.8], [0.9, 0.05, 0.05], [0.9, 0.05, 0.05]]},
        writer=["good", "good", "bad", "bad"], channel=["weibo", "news", "weibo", "news"])
    table = breakdown(frame, "writer", tasks=["sentiment"])
    assert table.index.tolist() == ["bad", "good"]  # worst first
    assert table.loc["good", "sentiment"] == 1.0 and table.loc["bad", "n"] == 2
    assert table.loc["bad", "sentiment"] == pytest.approx(round(1 / 3, 3))  # F1 1/3·2 for negative, 0 for positive → mean 1/3
    assert set(breakdown(frame, "channel", tasks=["sentiment"]).index) == {"weibo", "news"}

    predictions = build_predictions({t: np.array([[1.0] + [0.0] * (len(TASKS[t]) - 1)] * 2) for t in TASKS})
    results = score(predictions, {"sentiment": ["negative", "positive"], "topic": [None, None], "crisis_type": [None, None]})
    classes = class_table(results["sentiment"])
    assert classes.loc["negative", "recall"] == 1.0 and classes.loc["positive", "support"] == 1
    assert list(classes.columns) == ["precision", "recall", "f1", "support"]


def test_load_rows_takes_writer_from_column_or_corpus_folder(tmp_path):
    from training.data import DataValidationError
    from training.error_analysis import MISSING, gold_labels, load_rows

    folder = tmp_path / "corpus" / "k"
    folder.mkdir(parents=True)
    (folder / "01.jsonl").write_text(
        '{"text": "银行App崩了", "sentiment": "negative", "channel": "weibo"}\n'
        '{"text": "捐赠牛奶", "sentiment": "positive", "writer": "z"}\n', encoding="utf-8")
    rows = load_rows("corpus/*/*.jsonl", root=tmp_path)
    assert rows["writer"].tolist() == ["k", "z"] and rows["channel"].tolist() == ["weibo", MISSING]
    assert rows["topic"].isna().all()
    assert gold_labels(rows)["topic"] == [None, None]  # missing labels reach metrics.score as None, never NaN

    loose = tmp_path / "loose.jsonl"
    loose.write_text('{"text": "好", "sentiment": "positive"}\n{"text": "坏", "sentiment": "awful"}\n', encoding="utf-8")
    with pytest.raises(DataValidationError, match="line 2: unknown sentiment label 'awful'"):
        load_rows(loose)
    with pytest.raises(FileNotFoundError):
        load_rows(tmp_path / "nothing*.jsonl")


# ---- the notebook, executed -------------------------------------------------------------------------

def test_stored_notebooks_carry_no_outputs():
    for path in NOTEBOOKS.glob("*.ipynb"):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name} was saved with outputs"
    cells = json.loads(ERROR_ANALYSIS.read_text(encoding="utf-8"))["cells"]
    parameters = next(c for c in cells if c["cell_type"] == "code")
    assert "parameters" in parameters["metadata"].get("tags", [])
    assert "MODEL_URI" in "".join(parameters["source"]) and "DATA" in "".join(parameters["source"])


@pytest.fixture
def tiny_model_uri(project):
    """A baseline trained on the sample rows, registered as version 1 of the temporary project."""
    import tempfile

    import mlflow

    from training.baseline import BaselinePredictor
    from training.persistence import save_predictor
    from training.registry import log_model
    from training.train import use_experiment
    from yuqing.config import configure_environment

    configure_environment()
    rows = sample_rows(repeat=3)
    predictor = BaselinePredictor.fit([r["text"] for r in rows], {t: [r[t] for r in rows] for t in TASKS})
    use_experiment("yuqing-classifiers")
    with mlflow.start_run(run_name="notebook-test"), tempfile.TemporaryDirectory() as folder:
        save_predictor(predictor, Path(folder))
        version = log_model(Path(folder))
    return f"models:/yuqing-classifier/{version}"


def _labelled_file(path: Path) -> Path:
    """Sample rows over two writers and two channels, some gold labels flipped so there are errors,
    one row without a topic label."""
    rows = []
    for i, row in enumerate(sample_rows(repeat=2)):
        row = {**row, "writer": "w1" if i % 2 else "w2", "channel": "weibo" if i % 3 else "news"}
        if i % 4 == 0:
            row["sentiment"] = "positive" if row["sentiment"] != "positive" else "negative"
            row["crisis_type"] = "rumor" if row["crisis_type"] != "rumor" else "none"
        if i == 5:
            row["topic"] = None
        rows.append(row)
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


def test_error_analysis_notebook_runs_top_to_bottom(project, tiny_model_uri, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    # A kernel named python3 that is this interpreter (the venv's), whatever kernels the machine has.
    spec = tmp_path / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (yuqing venv)", "language": "python"}), encoding="utf-8")
    manager = KernelManager(kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")]))

    notebook = nbformat.read(ERROR_ANALYSIS, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("import sys; print('KERNEL', sys.executable)"))
    env = {**os.environ,
           "YUQING_NOTEBOOK_MODEL_URI": tiny_model_uri,
           "YUQING_NOTEBOOK_DATA": str(_labelled_file(tmp_path / "labelled.jsonl")),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "MPLBACKEND": "Agg"}
    assert env["YUQING_DATA_DIR"] == str(project / "data") and str(project) in env["MLFLOW_TRACKING_URI"]
    client = nbclient.NotebookClient(notebook, km=manager, timeout=60, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute(env=env)  # raises CellExecutionError, naming the cell, on any error

    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(o.get("text", "") + "\n".join(str(v) for k, v in o.get("data", {}).items() if k != "image/png")
                     for o in outputs)
    assert f"KERNEL {sys.executable}" in text
    assert f"model {tiny_model_uri} (baseline), 28 rows" in text
    assert re.search(r"^topic\s+27\s", text, re.MULTILINE)  # the row without a topic label is not scored
    for expected in ("macro_f1", "precision", "runner_up", "by writer", "w1", "w2", "by channel", "weibo", "news"):
        assert expected in text, expected
    for task in TASKS:
        assert f"{task}: ECE = " in text

    def images(marker: str) -> int:
        [cell] = [c for c in notebook.cells if c.cell_type == "code" and marker in c.source]
        return sum("image/png" in o.get("data", {}) for o in cell.outputs)

    assert images("plot_confusion") == len(TASKS)  # one confusion-matrix heatmap per task
    assert images("plot_reliability") == len(TASKS)  # one reliability diagram per task
    # the executed copy stays in memory: the stored notebook keeps no outputs
    assert all(not c.get("outputs") for c in json.loads(ERROR_ANALYSIS.read_text(encoding="utf-8"))["cells"])
