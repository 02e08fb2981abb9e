"""Severity commands for the `yuqing` CLI: `evaluate-severity`, `train-severity` and `first-read`.

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


def _rows(data: Optional[list[Path]], with_guide: bool = False) -> list[dict]:
    from playbooks.evaluate import grader_rows, load_writer_sets

    rows = (grader_rows if with_guide else load_writer_sets)(data or None)
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
            from playbooks.grader import StackedGrader

            self.grader = StackedGrader.load(Path(context.artifacts["grader"]))

        def predict(self, context, model_input, params=None):
            import pandas as pd

            rows = model_input.to_dict("records")
            grades = [self.grader.grade(r.get("text", ""), None, r.get("crisis_type")) for r in rows]
            return pd.DataFrame({"severity": [g.severity for g in grades], "reasons": ["；".join(g.reasons) for g in grades]})

    return SeverityModel


def SeverityModel():
    return _pyfunc_class()()


def register(app: typer.Typer) -> None:
    """Add `evaluate-severity`, `train-severity` and `first-read` to the given Typer app."""

    @app.command("evaluate-severity")
    def evaluate_severity(
        data: Optional[list[Path]] = typer.Option(None, "--data", help="JSONL incidents with gold severity (repeatable); default playbooks/incidents/w*.jsonl"),
        leave_one_writer_out: bool = typer.Option(False, "--leave-one-writer-out", help="also, for each writer with a first read: the rule's first read, and the stacked grader fitted on the other writers"),
        grader: str = typer.Option("default", help="'rule', 'default' (YUQING_SEVERITY_MODEL or the packaged model) or a grader directory"),
        second_grades: Optional[Path] = typer.Option(None, help="JSONL {id, severity} from an independent second grader: Cohen's kappa with the writers' grades"),
        show_misses: bool = typer.Option(False, help="list every miss"),
    ):
        """Severity accuracy, confusion, under-grade rate, per writer and per form (crisis type taken from the gold label)."""
        from playbooks import evaluate as ev
        from playbooks.grader import StackedGrader, default_grader, load_first_reads

        rows = _rows(data)
        chosen = None if grader == "rule" else (default_grader() if grader == "default" else StackedGrader.load(Path(grader)))
        graded = ev.grade_incidents(rows, chosen)
        report = ev.severity_report(rows, graded)
        report["grader"] = "rule" if chosen is None else f"{chosen.policy} ({grader})"
        report["note"] = "crisis_type taken from the gold label: severity figures do not depend on the classifier"
        if not show_misses:
            report["misses"] = len(report["misses"])
        if leave_one_writer_out:
            report["leave_one_writer_out"] = ev.leave_one_writer_out(ev.grader_rows(data or None), load_first_reads())
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
        policy: str = typer.Option("auto", help="'auto' (best leave-one-writer-out mean accuracy with the under-grade rate within the bar), 'rule' or 'stacked'"),
        c: float = typer.Option(4.0, help="inverse regularisation strength of the text model's logistic regression"),
        stack_c: float = typer.Option(1.0, help="inverse regularisation strength of the stacker"),
        major_as_minor_cost: float = typer.Option(3.0, help="what grading a major incident minor costs, against 1 for any other miss"),
        output: Path = typer.Option(Path("playbooks/grader_model"), help="directory to write the fitted grader to"),
        register_model: bool = typer.Option(True, "--register/--no-register", help=f"register the logged directory as model {MODEL_NAME!r}"),
    ):
        """Fit the stacked severity grader on all writers, pick rule or stacked by leave-one-writer-out
        over the first-read writers, save it as a directory, log params + LOWO metrics to MLflow and register it."""
        import mlflow

        from playbooks import evaluate as ev
        from playbooks.grader import StackedGrader, load_first_reads
        from training.train import use_experiment

        rows, first_reads = _rows(data, with_guide=True), load_first_reads()
        options = {"c": c, "stack_c": stack_c, "major_as_minor_cost": major_as_minor_cost}
        lowo = ev.leave_one_writer_out(rows, first_reads, **options)
        chosen = policy if policy != "auto" else pick_policy(lowo)
        grader = StackedGrader.fit(rows, first_reads, policy=chosen, **options)
        grader.meta["leave_one_writer_out"] = {p: {k: v for k, v in r.items() if k != "confusion"} for p, r in lowo.items()}
        grader.meta["writers"] = sorted({r["writer"] for r in rows})
        grader.save(output)
        use_experiment(EXPERIMENT)
        with mlflow.start_run(run_name=f"severity-{chosen}") as run:
            mlflow.log_params({"policy": chosen, **options, "incidents": len(rows),
                               "first_reads": sum(r["id"] in first_reads for r in rows),
                               "writers": ",".join(grader.meta["writers"]), "model": grader.meta.get("model", "rule")})
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

    @app.command("first-read")
    def first_read(
        data: list[Path] = typer.Option(..., "--data", help="JSONL incidents of a new writer, before the rule has been changed for them (repeatable)"),
    ):
        """Record how today's committed rule grades a new writer, before anyone extends the lexicons from
        its misses: the honest figure the stacked grader is fitted and measured on (playbooks/first_reads.jsonl)."""
        from playbooks import evaluate as ev
        from playbooks import grader

        commit = committed_rule(Path(__file__).parents[1])
        if commit is None:
            console.print(f"[bold red]error:[/] the rule has uncommitted changes ({', '.join(RULE_FILES)}); "
                          "commit it first, so the first read names the rule that made it")
            raise typer.Exit(2)
        rows = _rows(data)
        graded = ev.grade_incidents(rows)
        added, kept = grader.append_first_reads(rows, graded, commit, grader.FIRST_READS)
        report = ev.severity_report(rows, graded)
        console.print_json(json.dumps({"added": added, "already_read": kept, "file": str(grader.FIRST_READS), "rule_commit": commit,
                                       **{k: report[k] for k in ("incidents", "accuracy", "under_grade_rate", "major_as_minor")}},
                                      ensure_ascii=False))


RULE_FILES = ("playbooks/signals.py", "playbooks/severity.py", "playbooks/severity.yaml")


def committed_rule(root: Path) -> str | None:
    """The commit today's rule comes from, or None while the rule files have uncommitted changes."""
    import subprocess

    changed = subprocess.run(["git", "status", "--porcelain", *RULE_FILES], cwd=root, capture_output=True, text=True, check=True).stdout
    if changed.strip():
        return None
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
