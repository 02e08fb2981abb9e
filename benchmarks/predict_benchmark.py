"""Classifier benchmark: training time, load time, predict throughput and peak memory, per model kind.

What it measures, for each kind in --kinds (baseline, transformer):
  * training time (s): baseline = `training.baseline.BaselinePredictor.fit` on the corpus' train split
    (`training.data.corpus_splits()[0]`); transformer = `training.transformer.fine_tune(train, base_model,
    output_dir, epochs=...)` (HF Trainer, CPU unless CUDA is present; the time includes saving and
    re-loading the fine-tuned model, as fine_tune does). The benchmark trains for --epochs (default 1,
    NOT the 6 of `yuqing train`), so the transformer's time is per epoch, not a release training.
    --train-limit subsamples the training rows (seeded).
    With --model-uri-baseline / --model-uri-transformer nothing is trained: the registered MLflow model
    is loaded with `yuqing.predictor.load_predictor(uri)` and its load time is reported instead.
  * predict throughput (texts/s) at batch sizes 1 and 32 (--batch-sizes) over N texts (default 440)
    from the held-out set training/data/heldout/g/*.jsonl (420 texts; repeated to reach N): batch size
    b means N/b calls of `predictor.predict(texts[i:i+b], batch_size=b)`, one after another, after one
    untimed warm-up call. Per-call latency p50/p95 is reported too.
  * peak RSS (MB) of this process after each phase (resource.getrusage; it only grows, so with
    several kinds in one run the later kinds include the earlier ones: run one kind for its own figure).
  * a sanity check only: held-out accuracy per task of the batch-32 predictions (small --train-limit
    and 1 epoch give poor models; this is not an evaluation).
torch uses --threads threads (default: the CPU count).

Run (from the repository root, with the project's virtualenv):

    .venv/bin/python benchmarks/predict_benchmark.py --kinds baseline --train-limit 500     # quick try
    .venv/bin/python benchmarks/predict_benchmark.py --kinds baseline,transformer --epochs 1 --json /tmp/predict.json
    .venv/bin/python benchmarks/predict_benchmark.py --kinds transformer --base-model /tmp/bench_tiny --train-limit 300
    .venv/bin/python benchmarks/predict_benchmark.py --model-uri-baseline models:/yuqing-classifier/1 \\
        --model-uri-transformer models:/yuqing-classifier/2        # no training: load registered models
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (HELDOUT_GLOB, environment, finish_run, log, package_versions, peak_rss_mb, percentiles,  # noqa: E402
                     print_table, read_jsonl)

KINDS = ("baseline", "transformer")


def current_rss_mb() -> float | None:
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return None


def heldout_rows(n: int) -> list[dict]:
    rows = [r for r in read_jsonl(HELDOUT_GLOB) if isinstance(r.get("text"), str) and r["text"].strip()]
    if not rows:
        raise SystemExit("no held-out texts found")
    return [rows[i % len(rows)] for i in range(n)]


def training_split(limit: int | None, seed: int):
    from training.data import corpus_splits

    train = corpus_splits()[0]
    if limit and limit < len(train):
        train = train.shuffle(seed=seed).select(range(limit))
    return train


def train_baseline(train):
    from training.baseline import BaselinePredictor
    from yuqing.labels import TASKS

    return BaselinePredictor.fit(train["text"], {task: train[task] for task in TASKS})


def train_transformer(train, base_model: str, output_dir: Path, epochs: float, batch_size: int):
    from training.transformer import fine_tune

    return fine_tune(train, base_model, output_dir, epochs=epochs, batch_size=batch_size)


def throughput(predictor, texts: list[str], batch_size: int) -> dict:
    predictor.predict(texts[:batch_size], batch_size=batch_size)  # warm-up (lazy init, first-call costs)
    calls, predictions = [], []
    started = time.perf_counter()
    for start in range(0, len(texts), batch_size):
        chunk = texts[start:start + batch_size]
        t0 = time.perf_counter()
        predictions.extend(predictor.predict(chunk, batch_size=batch_size))
        calls.append(time.perf_counter() - t0)
    seconds = time.perf_counter() - started
    latency = percentiles(calls)
    return {"batch_size": batch_size, "texts": len(texts), "seconds": seconds, "texts_per_s": len(texts) / seconds,
            "call_p50_ms": latency["p50_ms"], "call_p95_ms": latency["p95_ms"], "_predictions": predictions}


def accuracy(predictions, rows: list[dict]) -> dict:
    from yuqing.labels import TASKS

    seen = {}
    for prediction, row in zip(predictions, rows):
        seen.setdefault(row["text"], (prediction, row))  # repeated texts count once
    scores = {}
    for task in TASKS:
        pairs = [(getattr(p, task), r.get(task)) for p, r in seen.values() if r.get(task)]
        scores[task] = sum(a == b for a, b in pairs) / len(pairs) if pairs else None
    return scores


def bench_kind(kind: str, args, rows: list[dict], train_cache: dict) -> dict:
    texts = [r["text"] for r in rows]
    uri = getattr(args, f"model_uri_{kind}")
    figures = {"kind": kind, "rss_mb_before": current_rss_mb()}
    folder = None
    if uri:
        started = time.perf_counter()
        import mlflow.pyfunc  # noqa: F401 - a heavy import, timed apart from the model load

        from yuqing.predictor import load_predictor

        figures["mlflow_import_seconds"] = time.perf_counter() - started
        log(f"[{kind}] loading {uri}")
        started = time.perf_counter()
        predictor = load_predictor(uri)
        figures.update(source=uri, load_seconds=time.perf_counter() - started, train_seconds=None)
        if getattr(predictor, "kind", None) != kind:
            log(f"  WARNING: {uri} holds a {getattr(predictor, 'kind', '?')} model, not {kind}")
        figures["loaded_kind"] = getattr(predictor, "kind", None)
    else:
        if "train" not in train_cache:
            train_cache["train"] = training_split(args.train_limit, args.seed)
        train = train_cache["train"]
        figures.update(source="trained here", train_rows=len(train))
        log(f"[{kind}] training on {len(train):,} rows" + (f", {args.epochs:g} epoch(s), base {args.base_model}"
                                                           if kind == "transformer" else ""))
        started = time.perf_counter()
        if kind == "baseline":
            predictor = train_baseline(train)
        else:
            folder = Path(args.output_dir) if args.output_dir else Path(tempfile.mkdtemp(prefix="yuqing-predict-bench-"))
            predictor = train_transformer(train, args.base_model, folder, args.epochs, args.train_batch_size)
        figures["train_seconds"] = time.perf_counter() - started
        figures["epochs"] = args.epochs if kind == "transformer" else None
        figures["base_model"] = args.base_model if kind == "transformer" else None
        if kind == "transformer":  # load time of what fine_tune saved (what serving does at start-up)
            from training.transformer import TransformerPredictor

            del predictor
            gc.collect()
            started = time.perf_counter()
            predictor = TransformerPredictor.load(folder)
            figures["load_seconds"] = time.perf_counter() - started
        else:
            figures["load_seconds"] = None
    figures["peak_rss_mb_after_load"] = peak_rss_mb()
    figures["throughput"] = {}
    for batch_size in args.batch_sizes:
        log(f"[{kind}] predicting {len(texts)} texts at batch size {batch_size}")
        result = throughput(predictor, texts, batch_size)
        predictions = result.pop("_predictions")
        figures["throughput"][str(batch_size)] = result
        if batch_size == max(args.batch_sizes):
            figures["heldout_accuracy_sanity"] = accuracy(predictions, rows)
        log(f"  {result['texts_per_s']:,.1f} texts/s")
    figures["peak_rss_mb"] = peak_rss_mb()
    figures["rss_mb_after"] = current_rss_mb()
    del predictor
    gc.collect()
    if folder is not None and not args.output_dir:
        shutil.rmtree(folder, ignore_errors=True)
    return figures


def report(figures: dict) -> None:
    config = figures["config"]
    rows = []
    for kind, f in figures["kinds"].items():
        source = f["source"] if f["source"] != "trained here" else (
            f"trained: {f['train_rows']:,} rows" + (f", {f['epochs']:g} epoch(s), {Path(str(f['base_model'])).name}"
                                                   if kind == "transformer" else ""))
        rows.append([kind, source, f.get("train_seconds"), f.get("load_seconds"), f.get("mlflow_import_seconds"),
                     f["peak_rss_mb"]])
    print_table("models" + (f" (transformer trained for {config['epochs']:g} epoch(s) only: benchmark setting)"
                            if "transformer" in figures["kinds"] and figures["kinds"]["transformer"]["source"] == "trained here" else ""),
                ["kind", "source", "train s", "load s", "mlflow import s", "peak RSS MB"], rows)
    rows = []
    for kind, f in figures["kinds"].items():
        for batch_size, t in f["throughput"].items():
            rows.append([kind, int(batch_size), t["texts"], t["seconds"], t["texts_per_s"], t["call_p50_ms"], t["call_p95_ms"]])
    print_table(f"predict throughput over {config['texts']} held-out texts, {config['threads']} torch thread(s)",
                ["kind", "batch size", "texts", "seconds", "texts/s", "call p50 ms", "call p95 ms"], rows)
    rows = []
    for kind, f in figures["kinds"].items():
        acc = f.get("heldout_accuracy_sanity") or {}
        rows.append([kind, *(acc.get(t) for t in ("sentiment", "topic", "crisis_type"))])
    print_table("held-out accuracy (sanity check only, not an evaluation)", ["kind", "sentiment", "topic", "crisis_type"], rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog="See the module docstring.")
    parser.add_argument("--kinds", default="baseline,transformer", help="comma-separated: baseline,transformer")
    parser.add_argument("--base-model", default="m3e-small", help="transformer base: alias, local directory or hub id")
    parser.add_argument("--epochs", type=float, default=1.0, help="transformer fine-tuning epochs (default 1: benchmark only)")
    parser.add_argument("--train-batch-size", type=int, default=32, help="transformer training batch size (default 32)")
    parser.add_argument("--train-limit", type=int, help="use at most this many training rows (seeded sample)")
    parser.add_argument("--texts", type=int, default=440, help="held-out texts to predict (default 440)")
    parser.add_argument("--batch-sizes", default="1,32", help="comma-separated predict batch sizes (default 1,32)")
    parser.add_argument("--model-uri-baseline", help="load this MLflow model instead of training (e.g. models:/yuqing-classifier/1)")
    parser.add_argument("--model-uri-transformer", help="load this MLflow model instead of training")
    parser.add_argument("--output-dir", help="keep the fine-tuned transformer here (default: a temporary folder)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch threads (default: CPU count)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    if not kinds or set(kinds) - set(KINDS):
        parser.error(f"--kinds takes a comma-separated subset of {', '.join(KINDS)}")
    try:
        args.batch_sizes = sorted({int(b) for b in args.batch_sizes.split(",") if b.strip()})
    except ValueError:
        parser.error("--batch-sizes takes comma-separated integers")
    if not args.batch_sizes or min(args.batch_sizes) < 1 or args.texts < 1 or args.threads < 1:
        parser.error("--batch-sizes, --texts and --threads must be positive")

    os.environ["YUQING_TORCH_THREADS"] = str(args.threads)  # TransformerPredictor.load reads it
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    torch.set_num_threads(args.threads)
    from yuqing.text import segment

    segment("预热分词词典")  # load jieba's dictionary before anything is timed

    rows = heldout_rows(args.texts)
    figures = {
        "config": {"kinds": kinds, "texts": args.texts, "batch_sizes": args.batch_sizes, "epochs": args.epochs,
                   "train_limit": args.train_limit, "base_model": args.base_model, "threads": args.threads,
                   "seed": args.seed, "cuda": torch.cuda.is_available()},
        "environment": environment(),
        "versions": package_versions(["torch", "transformers", "scikit-learn", "mlflow", "jieba"]),
        "kinds": {},
    }
    train_cache: dict = {}
    wall = time.perf_counter()
    for kind in kinds:
        figures["kinds"][kind] = bench_kind(kind, args, rows, train_cache)
    figures["wall_seconds"] = time.perf_counter() - wall
    summary = (f"torch threads {torch.get_num_threads()}; CUDA {'yes' if torch.cuda.is_available() else 'no'}; "
               f"peak RSS {peak_rss_mb():,.0f} MB; whole run {figures['wall_seconds']:.0f} s")
    return finish_run(figures, report, summary, args.json)


if __name__ == "__main__":
    sys.exit(main())
