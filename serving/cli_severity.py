"""Severity commands for the `yuqing` CLI: `evaluate-severity` and `train-severity`.

Wired in by serving/cli.py with `register(app)`. Severity needs no classifier here: each incident is
graded with its gold crisis type, so the figures measure the grader, not the crisis-type model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

console = Console()
EXPERIMENT = "yuqing-severity"
MODEL_NAME = "yuqing-severity"


def _rows(data: Optional[list[Path]]) -> list[dict]:
    from playbooks.evaluate import load_writer_sets

    rows = load_writer_sets(data or None)
    if not rows:
        console.print("[bold red]error:[/] no incidents (give --data FILE, or put w*.jsonl under playbooks/incidents/)")
        raise typer.Exit(2)
    return rows


UNDER_GRADE_BAR = 0.05


def pick_policy(lowo: dict) -> str:
    """Best leave-one-writer-out mean accuracy among the policies whose pooled under-grade rate is
    within the bar (under-grading is the dangerous direction); if none is, the lowest under-grade rate."""
    within = [p for p in lowo if lowo[p]["pooled_under_grade_rate"] <= UNDER_GRADE_BAR]
    if within:
        return max(within, key=lambda p: (lowo[p]["mean_accuracy"], -lowo[p]["pooled_under_grade_rate"], p == "rule"))
    return min(lowo, key=lambda p: (lowo[p]["pooled_under_grade_rate"], -lowo[p]["mean_accuracy"]))


def _pyfunc_class():
    import mlflow.pyfunc

    class SeverityModel(mlflow.pyfunc.PythonModel):
        """Registered form of the grader: input columns text (+ crisis_type), output severity + reasons."""

        def load_context(self, context):
            from playbooks.grader import LearnedGrader

            self.grader = LearnedGrader.load(Path(context.artifacts["grader"]))

        def predict(self, context, model_input, params=None):
            import pandas as pd

            rows = model_input.to_dict("records")
            grades = [self.grader.grade(r.get("text", ""), None, r.get("crisis_type")) for r in rows]
            return pd.DataFrame({"severity": [g.severity for g in grades], "reasons": ["；".join(g.reasons) for g in grades]})

    return SeverityModel


def SeverityModel():
    return _pyfunc_class()()


def register(app: typer.Typer) -> None:
    """Add `evaluate-severity` and `train-severity` to the given Typer app."""

    @app.command("evaluate-severity")
    def evaluate_severity(
        data: Optional[list[Path]] = typer.Option(None, "--data", help="JSONL incidents with gold severity (repeatable); default playbooks/incidents/w*.jsonl"),
        leave_one_writer_out: bool = typer.Option(False, "--leave-one-writer-out", help="also fit on all writers but one and test on that one, for rule / learned / max"),
        grader: str = typer.Option("default", help="'rule', 'default' (YUQING_SEVERITY_MODEL or the packaged model) or a grader directory"),
        second_grades: Optional[Path] = typer.Option(None, help="JSONL {id, severity} from an independent second grader: Cohen's kappa with the writers' grades"),
        show_misses: bool = typer.Option(False, help="list every miss"),
    ):
        """Severity accuracy, confusion, under-grade rate, per writer and per form (crisis type taken from the gold label)."""
        from playbooks import evaluate as ev
        from playbooks.grader import LearnedGrader, default_grader

        rows = _rows(data)
        chosen = None if grader == "rule" else (default_grader() if grader == "default" else LearnedGrader.load(Path(grader)))
        graded = ev.grade_incidents(rows, chosen)
        report = ev.severity_report(rows, graded)
        report["grader"] = "rule" if chosen is None else f"{chosen.policy} ({grader})"
        report["note"] = "crisis_type taken from the gold label: severity figures do not depend on the classifier"
        if not show_misses:
            report["misses"] = len(report["misses"])
        if leave_one_writer_out:
            report["leave_one_writer_out"] = ev.leave_one_writer_out(rows)
        if second_grades:
            second = {r["id"]: r["severity"] for r in ev.load_incidents(second_grades)}
            both = [(r, g) for r, g in zip(rows, graded) if r.get("id") in second]
            writers = [r["severity"] for r, _ in both]
            report["second_grading"] = {
                "incidents": len(both),
                "kappa_writer_vs_second": round(ev.cohen_kappa(writers, [second[r["id"]] for r, _ in both]), 4),
                "kappa_grader_vs_writer": round(ev.cohen_kappa(writers, [g for _, g in both]), 4)}
        console.print_json(json.dumps(report, ensure_ascii=False))

    @app.command("train-severity")
    def train_severity(
        data: Optional[list[Path]] = typer.Option(None, "--data", help="JSONL incidents with gold severity and writer (repeatable); default playbooks/incidents/w*.jsonl"),
        policy: str = typer.Option("auto", help="'auto' (best leave-one-writer-out mean accuracy, under-grade rate as tie-break), 'rule', 'learned' or 'max'"),
        c: float = typer.Option(0.5, help="inverse regularisation strength of the logistic regression"),
        output: Path = typer.Option(Path("playbooks/grader_model"), help="directory to write the fitted grader to"),
        register_model: bool = typer.Option(True, "--register/--no-register", help=f"register the logged directory as model {MODEL_NAME!r}"),
    ):
        """Fit the learned severity grader on all writers, pick rule/learned/max by leave-one-writer-out,
        save it as a directory, log params + LOWO metrics to MLflow and register it."""
        import mlflow

        from playbooks import evaluate as ev
        from playbooks.grader import LearnedGrader
        from training.train import use_experiment

        rows = _rows(data)
        lowo = ev.leave_one_writer_out(rows, c=c)
        chosen = policy if policy != "auto" else pick_policy(lowo)
        grader = LearnedGrader.fit(rows, policy=chosen, c=c)
        grader.meta["leave_one_writer_out"] = {p: {k: v for k, v in r.items() if k != "confusion"} for p, r in lowo.items()}
        grader.meta["writers"] = sorted({r["writer"] for r in rows})
        grader.save(output)
        use_experiment(EXPERIMENT)
        with mlflow.start_run(run_name=f"severity-{chosen}") as run:
            mlflow.log_params({"policy": chosen, "c": c, "incidents": len(rows), "writers": ",".join(grader.meta["writers"]),
                               "model": "StandardScaler+LogisticRegression"})
            for p, r in lowo.items():
                mlflow.log_metrics({f"lowo_{p}_mean_accuracy": r["mean_accuracy"], f"lowo_{p}_worst_accuracy": r["worst_accuracy"],
                                    f"lowo_{p}_under_grade_rate": r["pooled_under_grade_rate"],
                                    f"lowo_{p}_major_as_minor": r["pooled_major_as_minor"]})
                for writer, figures in r["per_writer"].items():
                    mlflow.log_metric(f"lowo_{p}_{writer}_accuracy", figures["accuracy"])
            mlflow.log_artifacts(str(output), "grader")
            info = mlflow.pyfunc.log_model(name="severity_model", python_model=SeverityModel(), artifacts={"grader": str(output)},
                                           pip_requirements=["scikit-learn", "joblib", "pydantic", "pyyaml", "mlflow"],
                                           code_paths=[str(Path(__file__).parents[1] / "playbooks"), str(Path(__file__).parents[1] / "yuqing")])
            uri = info.model_uri
            version = mlflow.register_model(uri, MODEL_NAME).version if register_model else None
        console.print_json(json.dumps({"policy": chosen, "saved": str(output), "run_id": run.info.run_id, "artifact_uri": uri,
                                       "registered": f"models:/{MODEL_NAME}/{version}" if version else None,
                                       "leave_one_writer_out": {p: {k: r[k] for k in ("mean_accuracy", "worst_accuracy", "pooled_under_grade_rate", "pooled_major_as_minor")}
                                                                for p, r in lowo.items()}}, ensure_ascii=False))
        console.print(f"load it with: YUQING_SEVERITY_MODEL=<downloaded dir> (mlflow artifacts download -u {uri})")
