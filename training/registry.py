"""MLflow side: the pyfunc wrapper, logging a trained predictor, registering and promoting it."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import mlflow
import mlflow.pyfunc
import pandas as pd
from mlflow import MlflowClient

from yuqing.config import configure_environment, get_settings
from yuqing.labels import TASKS

KIND_FILE = "kind.json"


def load_predictor_dir(directory: Path):
    """The predictor saved in a model directory, whichever kind it is."""
    from training.baseline import BaselinePredictor
    from training.ensemble import EnsemblePredictor
    from training.transformer import TransformerPredictor

    kind = json.loads((Path(directory) / KIND_FILE).read_text())["kind"]
    kinds = {"baseline": BaselinePredictor, "transformer": TransformerPredictor, "ensemble": EnsemblePredictor}
    return kinds[kind].load(directory)


def save_predictor_dir(predictor, directory: Path) -> None:
    Path(directory).mkdir(parents=True, exist_ok=True)
    predictor.save(directory)
    (Path(directory) / KIND_FILE).write_text(json.dumps({"kind": predictor.kind}))


class MentionClassifier(mlflow.pyfunc.PythonModel):
    """pyfunc face of any predictor: DataFrame(text) in, labels and per-label scores out."""

    def load_context(self, context):
        self.predictor = load_predictor_dir(Path(context.artifacts["model_dir"]))

    def predict(self, context, model_input, params=None):
        texts = model_input["text"].astype(str).tolist() if isinstance(model_input, pd.DataFrame) else list(model_input)
        rows = []
        for p in self.predictor.predict(texts):
            row = {task: getattr(p, task) for task in TASKS}
            row.update({f"{task}_score": p.confidence(task) for task in TASKS})
            rows.append(row)
        return pd.DataFrame(rows)


def log_model(model_dir: Path, register: bool = True) -> str | None:
    """Log the model directory as a pyfunc in the active run; register a new version. Returns it."""
    settings = get_settings()
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=MentionClassifier(),
        artifacts={"model_dir": str(model_dir)},
        pip_requirements=["torch", "transformers", "scikit-learn", "jieba", "pandas", "mlflow"],
        registered_model_name=settings.model_name if register else None,
    )
    return str(info.registered_model_version) if register else None


def client() -> MlflowClient:
    configure_environment()
    return MlflowClient()


def champion_version():
    settings = get_settings()
    try:
        return client().get_model_version_by_alias(settings.model_name, settings.champion_alias)
    except mlflow.exceptions.MlflowException:
        return None


def version_score(version) -> float:
    run = client().get_run(version.run_id)
    return run.data.metrics.get("dev_macro_f1_mean", float("-inf"))


def latest_version():
    settings = get_settings()
    versions = client().search_model_versions(f"name='{settings.model_name}'")
    if not versions:
        raise LookupError(f"no version of {settings.model_name!r} is registered; run `yuqing train` first")
    return max(versions, key=lambda v: int(v.version))


def promote(version: str | None = None, force: bool = False) -> dict:
    """Move the champion alias to `version` (default: the newest) if it beats the champion."""
    settings = get_settings()
    candidate = client().get_model_version(settings.model_name, version) if version else latest_version()
    champion = champion_version()
    candidate_score = version_score(candidate)
    champion_score = version_score(champion) if champion else None
    wins = champion is None or candidate_score > champion_score
    promoted = force or wins
    if promoted:
        client().set_registered_model_alias(settings.model_name, settings.champion_alias, candidate.version)
    return {
        "candidate": candidate.version, "candidate_dev_macro_f1_mean": candidate_score,
        "champion": champion.version if champion else None, "champion_dev_macro_f1_mean": champion_score,
        "promoted": promoted, "forced": force and not wins,
    }


def log_confusion_matrices(results: dict, prefix: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay
    import numpy as np

    for task, r in results.items():
        figure, axes = plt.subplots(figsize=(1 + 0.7 * len(r["labels"]), 1 + 0.6 * len(r["labels"])))
        ConfusionMatrixDisplay(np.array(r["confusion"]), display_labels=r["labels"]).plot(
            ax=axes, xticks_rotation=60, colorbar=False)
        axes.set_title(f"{prefix} {task}")
        figure.tight_layout()
        mlflow.log_figure(figure, f"confusion/{prefix}_{task}.png")
        plt.close(figure)


def log_reports(results: dict, prefix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{prefix}_report.json"
        path.write_text(json.dumps({t: r["report"] for t, r in results.items()}, ensure_ascii=False, indent=1))
        mlflow.log_artifact(str(path), "reports")
