"""MLflow side: the pyfunc wrapper, logging a trained predictor, registering and promoting it."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import mlflow
import mlflow.pyfunc
import pandas as pd
from mlflow import MlflowClient

from training.persistence import load_predictor_from
from yuqing.config import configure_environment, get_settings
from yuqing.errors import ModelNotFoundError, UserError
from yuqing.labels import TASKS


class MentionClassifier(mlflow.pyfunc.PythonModel):
    """pyfunc face of any predictor: DataFrame(text) in, labels and per-label scores out."""

    def load_context(self, context):
        self.predictor = load_predictor_from(Path(context.artifacts["model_dir"]))

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
        pip_requirements=["torch", "transformers", "scikit-learn", "jieba", "jieba-fast-dat", "pandas", "mlflow"],
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


class PromotionRefused(UserError):
    """Candidate and champion were scored on different dev sets: their numbers are not comparable."""


def _run_facts(version) -> tuple[float, str | None]:
    """(mean dev macro-F1, dev-set hash) logged by the version's training run."""
    run = client().get_run(version.run_id)
    return run.data.metrics.get("dev_macro_f1_mean", float("-inf")), run.data.params.get("dev_hash")


def latest_version():
    settings = get_settings()
    versions = client().search_model_versions(f"name='{settings.model_name}'")
    if not versions:
        raise ModelNotFoundError(f"no version of {settings.model_name!r} is registered; run `yuqing train` first")
    return max(versions, key=lambda v: int(v.version))


def promote(version: str | None = None, force: bool = False) -> dict:
    """Move the champion alias to `version` (default: the newest) if it beats the champion on
    the same dev set. Scores on different dev sets are refused (`force` promotes regardless)."""
    settings = get_settings()
    candidate = client().get_model_version(settings.model_name, version) if version else latest_version()
    champion = champion_version()
    candidate_score, candidate_dev = _run_facts(candidate)
    champion_score, champion_dev = _run_facts(champion) if champion else (None, None)
    if champion and candidate_dev != champion_dev and not force:
        raise PromotionRefused(
            f"v{candidate.version} was scored on dev set {candidate_dev} but champion v{champion.version} on "
            f"{champion_dev}: the scores are not comparable. Evaluate both on one file with `yuqing evaluate "
            "--data FILE --model models:/…`, then `yuqing promote --version N --force`.")
    wins = champion is None or candidate_score > champion_score
    promoted = force or wins
    if promoted:
        client().set_registered_model_alias(settings.model_name, settings.champion_alias, candidate.version)
    return {
        "candidate": candidate.version, "candidate_dev_macro_f1_mean": candidate_score,
        "champion": champion.version if champion else None, "champion_dev_macro_f1_mean": champion_score,
        "dev_hash": candidate_dev, "promoted": promoted, "forced": force and not wins,
    }


def log_confusion_matrices(results: dict, prefix: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from sklearn.metrics import ConfusionMatrixDisplay

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
