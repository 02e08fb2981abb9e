"""Prediction speed of every classifier path, measured in one run on the same texts.

What it measures (all on the held-out mentions, training/data/heldout/g/*.jsonl, 420 texts):
  * the limits: the raw encoder's forward passes in fp32 and in int8 (torch dynamic quantisation of
    its Linear layers) over the texts already tokenised, in the length-sorted chunks the predictor
    makes (so only the encoder's matrix work is timed: no tokenising, no heads, no output building);
  * the baseline (shared TF-IDF pass, three heads), the transformer in fp32 and in int8 (texts in,
    `Prediction`s with three heads and the embedding out), and the champion: the ensemble of the
    baseline and the int8 transformer;
  at batch sizes 1 and 32: batch size b means len(texts)/b calls of `predict(texts[i:i+b], batch_size=b)`.
  Paths are interleaved: each repeat runs every path once, and the median over --repeats is
  reported, so all figures see the same machine load. Each figure is also given as a ratio to the
  int8 raw limit of the same batch size. Peak RSS is this process's high-water mark during that
  measurement (reset before it through /proc/self/clear_refs; it includes every model loaded here);
  Also texts per CPU-second of this process (all its threads): on a machine other processes keep
  busy, the wall-clock figure of single-threaded code (the baseline) is its CPU figure times the
  share of a core it got;
  * start-up: a fresh Python process imports, loads the champion (the ensemble saved as `yuqing
    train`/`yuqing ensemble` save it) and predicts one text; wall clock and that process' peak RSS;
  * with --accuracy: held-out macro-F1 per task of the transformer and the champion in fp32 and int8
    (issue #10: int8 may lose at most 0.5 point per task to be the default);
  * with --stream-lines N: `yuqing.streaming.predict_file` with the champion over N mentions
    (held-out texts made unique with a suffix), wall clock and peak RSS.

Models: --champion (an MLflow URI or model directory holding an ensemble of a baseline and a
transformer), or --baseline and --transformer (URIs or directories), else the registry's champion
when it is such an ensemble, else quick models trained here (--train-rows, --train-epochs): so it
runs on a fresh machine. An int8 transformer's directory holds its fp32 weights: both are derived.

    .venv/bin/python benchmarks/predict_benchmark.py --train-rows 600 --train-epochs 1     # fresh machine
    .venv/bin/python benchmarks/predict_benchmark.py --champion models:/yuqing-classifier@champion --stream-lines 10000
    .venv/bin/python benchmarks/predict_benchmark.py --baseline /tmp/b --transformer /tmp/t --json /tmp/predict.json

Bars (issue #10): champion ≥ 0.8 × the int8 limit at batch 32 and ≥ 0.6 × at batch 1; baseline
≥ 3,000 texts/s at batch 32; champion loaded and first prediction < 10 s; 10,000 mentions < 120 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    HELDOUT_GLOB,
    REPO_ROOT,
    environment,
    finish_run,
    log,
    markdown_table,
    package_versions,
    peak_rss_since_reset_mb,
    read_jsonl,
    reset_peak_rss,
    verdict,
)

BARS = {"champion_b32_ratio": 0.8, "champion_b1_ratio": 0.6, "baseline_b32": 3000.0, "startup_s": 10.0,
        "stream_10k_s": 120.0}
LIMIT = "raw encoder int8"


def heldout_texts(n: int | None) -> list[str]:
    texts = [r["text"] for r in read_jsonl(HELDOUT_GLOB) if isinstance(r.get("text"), str) and r["text"].strip()]
    if not texts:
        raise SystemExit("no held-out texts found")
    return texts if not n else [texts[i % len(texts)] for i in range(n)]


# ---- models --------------------------------------------------------------------------------------

def load_any(spec: str):
    """A predictor from a model directory (training.persistence) or an MLflow model URI."""
    if Path(spec).is_dir():
        from training.persistence import load_predictor_from

        return load_predictor_from(Path(spec))
    from yuqing.predictor import load_predictor

    return load_predictor(spec)


def members_of(champion) -> tuple[object | None, object | None, list[float] | None]:
    """(baseline, transformer of either precision, weights) of an ensemble; Nones when it is not one."""
    if getattr(champion, "kind", None) != "ensemble":
        return None, None, None
    kinds = {m.kind: m for m in champion.members}
    transformer = kinds.get("transformer-int8") or kinds.get("transformer")
    if "baseline" not in kinds or transformer is None:
        return None, None, None
    weights = [champion.weights[champion.members.index(kinds["baseline"])],
               champion.weights[champion.members.index(transformer)]]
    return kinds["baseline"], transformer, weights


def registered_champion():
    try:
        from yuqing.config import configure_environment

        uri = configure_environment().champion_uri
        return load_any(uri), uri
    except Exception as error:  # nothing registered (fresh machine) or not loadable: train instead
        log(f"no usable registered champion ({type(error).__name__}: {str(error).splitlines()[0][:120]})")
        return None, None


def training_split(rows: int | None, seed: int):
    from training.data import corpus_splits

    train = corpus_splits()[0]
    if rows and rows < len(train):
        train = train.shuffle(seed=seed).select(range(rows))
    return train


def get_models(args, workdir: Path) -> dict:
    """baseline, fp32 and int8 transformers, champion weights, and where they came from."""
    from training.quantized import QuantizedTransformerPredictor
    from training.transformer import TransformerPredictor

    info: dict = {"train_seconds": {}, "load_seconds": {}}
    baseline = transformer = weights = None
    if args.champion or not (args.baseline or args.transformer or args.train):
        if args.champion:
            started = time.perf_counter()
            champion, uri = load_any(args.champion), args.champion
            info["load_seconds"]["champion"] = time.perf_counter() - started
        else:
            champion, uri = registered_champion()
        baseline, transformer, weights = members_of(champion) if champion is not None else (None, None, None)
        if champion is not None and baseline is None:
            log(f"{uri} is not an ensemble of a baseline and a transformer: its members are trained here")
        info["source"] = uri if baseline is not None else None
    for name in ("baseline", "transformer"):
        spec = getattr(args, name)
        if spec:
            started = time.perf_counter()
            loaded = load_any(spec)
            info["load_seconds"][name] = time.perf_counter() - started
            if name == "baseline":
                baseline = loaded
            else:
                transformer = loaded
            info.setdefault("source_" + name, spec)
    train = None
    if baseline is None:
        train = training_split(args.train_rows, args.seed)
        log(f"training a baseline on {len(train):,} rows")
        from training.baseline import BaselinePredictor
        from yuqing.labels import TASKS

        started = time.perf_counter()
        baseline = BaselinePredictor.fit(train["text"], {task: train[task] for task in TASKS})
        info["train_seconds"]["baseline"] = time.perf_counter() - started
        info["source_baseline"] = f"trained here on {len(train):,} rows"
    if transformer is None:
        from training.transformer import fine_tune

        train = train if train is not None else training_split(args.train_rows, args.seed)
        log(f"fine-tuning {args.base_model} on {len(train):,} rows for {args.train_epochs:g} epoch(s)")
        started = time.perf_counter()
        transformer = fine_tune(train, args.base_model, workdir / "transformer", epochs=args.train_epochs)
        info["train_seconds"]["transformer"] = time.perf_counter() - started
        info["source_transformer"] = f"fine-tuned here: {len(train):,} rows, {args.train_epochs:g} epoch(s)"
    if transformer.kind == "transformer-int8":
        fp32 = TransformerPredictor.load(transformer.directory)
    else:
        fp32 = transformer
    started = time.perf_counter()
    int8 = QuantizedTransformerPredictor.from_fp32(fp32)
    info["quantize_seconds"] = time.perf_counter() - started
    info["weights"] = weights or [1.0, 1.0]
    return {"baseline": baseline, "fp32": fp32, "int8": int8, "info": info}


# ---- measuring ---------------------------------------------------------------------------------------

def raw_runner(predictor, texts: list[str], batch_size: int):
    """The encoder's forward passes alone over pre-tokenised, length-sorted chunks (the limit)."""
    import torch

    from yuqing.text import normalize

    clean = [normalize(t) for t in texts]
    batches = []
    for start in range(0, len(clean), batch_size):
        call = clean[start:start + batch_size]
        for rows in predictor.chunks(call, batch_size):
            encoded = predictor.encode([call[i] for i in rows], normalized=True)
            batches.append((encoded["input_ids"], encoded["attention_mask"]))
    encoder = predictor.model.encoder

    def run() -> list[float]:
        calls = []
        with torch.inference_mode():
            for ids, mask in batches:
                started = time.perf_counter()
                encoder(input_ids=ids, attention_mask=mask)
                calls.append(time.perf_counter() - started)
        return calls

    return run


def predict_runner(predictor, texts: list[str], batch_size: int):
    def run() -> list[float]:
        calls = []
        for start in range(0, len(texts), batch_size):
            chunk = texts[start:start + batch_size]
            started = time.perf_counter()
            predictor.predict(chunk, batch_size=batch_size)
            calls.append(time.perf_counter() - started)
        return calls

    return run


def measure(paths: dict, texts: list[str], batch_sizes: list[int], repeats: int) -> dict:
    """{path: {batch: {texts_per_s, runs, call_p50_ms, peak_rss_mb}}}, interleaved over repeats."""
    runners = {}
    for name, (kind, predictor) in paths.items():
        for b in batch_sizes:
            runner = raw_runner(predictor, texts, b) if kind == "raw" else predict_runner(predictor, texts, b)
            runners[(name, b)] = runner
            (raw_runner(predictor, texts[:b], b) if kind == "raw" else predict_runner(predictor, texts[:b], b))()
    samples: dict = {key: [] for key in runners}
    cpu: dict = {key: [] for key in runners}
    peaks: dict = {key: 0.0 for key in runners}
    p50: dict = {key: [] for key in runners}
    for repeat in range(repeats):
        log(f"repeat {repeat + 1}/{repeats}")
        for key, runner in runners.items():
            reset_peak_rss()
            started, cpu_started = time.perf_counter(), time.process_time()
            calls = runner()
            seconds = time.perf_counter() - started
            samples[key].append(len(texts) / seconds)
            cpu[key].append(len(texts) / max(time.process_time() - cpu_started, 1e-9))
            p50[key].append(statistics.median(calls) * 1000)
            peaks[key] = max(peaks[key], peak_rss_since_reset_mb())
            log(f"  {key[0]:<28} batch {key[1]:>3}: {samples[key][-1]:8,.1f} texts/s")
    results: dict = {}
    for (name, b), values in samples.items():
        results.setdefault(name, {})[b] = {"texts_per_s": statistics.median(values), "runs": values,
                                           "texts_per_cpu_s": statistics.median(cpu[(name, b)]),
                                           "call_p50_ms": statistics.median(p50[(name, b)]),
                                           "peak_rss_mb": peaks[(name, b)]}
    return results


STARTUP = """
import json, os, sys, time, resource
started = time.perf_counter()
sys.path.insert(0, {root!r})
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ["YUQING_TORCH_THREADS"] = {threads!r}
if {mlflow!r}:
    from yuqing.predictor import load_predictor as load
    import mlflow.pyfunc
else:
    from training.persistence import load_predictor_from as load
imported = time.perf_counter()
predictor = load({path!r})
loaded = time.perf_counter()
predictor.predict(["华岳银行手机银行App又崩了，工资转不出去"])
done = time.perf_counter()
print(json.dumps({{"import_s": imported - started, "load_s": loaded - imported, "first_predict_s": done - loaded,
                  "in_process_s": done - started,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def startup(model_path: Path, threads: int, repeats: int, through_mlflow: bool) -> dict:
    """Fresh interpreter: import, load the champion, predict one text; the run of median wall clock.
    `through_mlflow`: load as serving does (yuqing.predictor.load_predictor on an MLflow pyfunc model)."""
    runs = []
    for _ in range(repeats):
        code = STARTUP.format(root=str(REPO_ROOT), path=str(model_path), threads=str(threads), mlflow=through_mlflow)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"start-up run failed:\n{done.stderr[-2000:]}")
        runs.append({**json.loads(done.stdout.strip().splitlines()[-1]), "wall_s": wall})
    median = sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]
    return {**median, "walls": [r["wall_s"] for r in runs], "through_mlflow": through_mlflow}


def save_pyfunc(model_dir: Path, target: Path) -> Path:
    """The champion as the MLflow pyfunc model the registry stores (same wrapper, no tracking store)."""
    import mlflow.pyfunc

    from training.registry import MentionClassifier

    mlflow.pyfunc.save_model(path=str(target), python_model=MentionClassifier(),
                             artifacts={"model_dir": str(model_dir)}, pip_requirements=["scikit-learn"])
    return target


def accuracy(paths: dict) -> dict:
    """Held-out macro-F1 per task of each predictor (training.data.heldout(), scored by training.metrics)."""
    from training.data import heldout
    from training.metrics import evaluate
    from yuqing.labels import TASKS

    data = heldout()
    return {name: {task: r["macro_f1"] for task, r in evaluate(predictor, data).items() if task in TASKS}
            for name, predictor in paths.items()}


def stream(champion, texts: list[str], lines: int, workdir: Path) -> dict:
    from yuqing.streaming import predict_file

    source = workdir / "stream-in.jsonl"
    with source.open("w", encoding="utf-8") as handle:
        for i in range(lines):
            handle.write(json.dumps({"id": f"m{i}", "text": f"{texts[i % len(texts)]} {i}", "channel": "weibo"},
                                    ensure_ascii=False) + "\n")
    reset_peak_rss()
    before = peak_rss_since_reset_mb()
    started = time.perf_counter()
    count = predict_file(champion, source, workdir / "stream-out.jsonl",
                         progress=lambda done, total: log(f"  streamed {done:,}/{total:,}") if done % 2048 == 0 else None)
    seconds = time.perf_counter() - started
    return {"lines": count, "seconds": seconds, "lines_per_s": count / seconds, "rss_mb_before": before,
            "peak_rss_mb": peak_rss_since_reset_mb()}


# ---- report ---------------------------------------------------------------------------------------------

def report(figures: dict) -> None:
    results, sizes = figures["throughput"], figures["config"]["batch_sizes"]
    columns = ["path"]
    for b in sizes:
        columns += [f"batch {b} texts/s", f"batch {b} × int8 limit"]
    columns += [f"batch {max(sizes)} texts per CPU-second", "batch 1 call p50 ms" if 1 in sizes else "call p50 ms",
                "peak RSS MB"]
    rows = []
    for name, per_batch in results.items():
        row = [name]
        for b in sizes:
            value = per_batch[b]["texts_per_s"]
            row += [f"{value:,.0f}", f"{value / results[LIMIT][b]['texts_per_s']:.2f}"]
        first = per_batch[min(sizes)]
        row += [f"{per_batch[max(sizes)]['texts_per_cpu_s']:,.0f}",
                f"{first['call_p50_ms']:.1f}", f"{max(p['peak_rss_mb'] for p in per_batch.values()):,.0f}"]
        rows.append(row)
    info = figures["models"]
    print(f"\n### Predict throughput: {figures['config']['texts']} held-out texts, median of "
          f"{figures['config']['repeats']} interleaved runs, {figures['config']['threads']} torch threads\n")
    print(markdown_table(columns, rows))
    print("\nraw encoder = forward passes only, over pre-tokenised length-sorted chunks (the limit); "
          "champion = baseline + int8 transformer, weights " + ", ".join(f"{w:g}" for w in info["weights"]))
    print("models: " + "; ".join(f"{k}: {v}" for k, v in info.items()
                                 if k.startswith("source") and v) + f"; quantising took {info['quantize_seconds']:.2f} s")
    checks = []
    if 32 in sizes:
        ratio = results["champion"][32]["texts_per_s"] / results[LIMIT][32]["texts_per_s"]
        checks.append(["champion batch 32 / int8 limit", f"{ratio:.2f}", f"≥ {BARS['champion_b32_ratio']}",
                       verdict(ratio >= BARS["champion_b32_ratio"])])
        value = results["baseline"][32]["texts_per_s"]
        checks.append(["baseline batch 32 texts/s", f"{value:,.0f}", f"≥ {BARS['baseline_b32']:,.0f}",
                       verdict(value >= BARS["baseline_b32"])])
    if 1 in sizes:
        ratio = results["champion"][1]["texts_per_s"] / results[LIMIT][1]["texts_per_s"]
        checks.append(["champion batch 1 / int8 limit", f"{ratio:.2f}", f"≥ {BARS['champion_b1_ratio']}",
                       verdict(ratio >= BARS["champion_b1_ratio"])])
    def startup_row(label: str, s: dict) -> list:
        return [label, f"{s['wall_s']:.1f} s (imports {s['import_s']:.1f}, load {s['load_s']:.1f}, "
                       f"first predict {s['first_predict_s']:.2f}; peak RSS {s['peak_rss_mb']:,.0f} MB)",
                f"< {BARS['startup_s']:g} s", verdict(s["wall_s"] < BARS["startup_s"])]

    if figures.get("startup"):
        checks.append(startup_row("champion start-up: process start → loaded (MLflow pyfunc) → first prediction",
                                  figures["startup"]))
        if figures.get("startup_no_mlflow"):
            checks.append(startup_row("the same from the model directory (training.persistence, no MLflow)",
                                      figures["startup_no_mlflow"]))
    if figures.get("stream"):
        s = figures["stream"]
        scaled = s["seconds"] * 10_000 / s["lines"]
        checks.append([f"predict_file, champion, {s['lines']:,} mentions",
                       f"{s['seconds']:.1f} s ({s['lines_per_s']:,.0f}/s; peak RSS {s['peak_rss_mb']:,.0f} MB, "
                       f"{s['rss_mb_before']:,.0f} before)", f"10,000 in < {BARS['stream_10k_s']:g} s",
                       verdict(scaled < BARS["stream_10k_s"])])
    if figures.get("accuracy"):
        acc = figures["accuracy"]
        tasks = list(next(iter(acc.values())))
        rows = [[name, *(f"{scores[t]:.4f}" for t in tasks)] for name, scores in acc.items()]
        for fp, q in (("transformer fp32", "transformer int8"), ("champion with fp32", "champion")):
            deltas = [100 * (acc[q][t] - acc[fp][t]) for t in tasks]
            rows.append([f"{q} − {fp} (points)", *(f"{d:+.2f}" for d in deltas)])
            checks.append([f"{q} vs {fp}: held-out macro-F1 drop per task", ", ".join(f"{d:+.2f}" for d in deltas),
                           "≥ −0.5 each", verdict(min(deltas) >= -0.5)])
        print("\n### Held-out macro-F1 (training.data.heldout())\n")
        print(markdown_table(["model", *tasks], rows))
    print("\n### Bars\n")
    print(markdown_table(["check", "measured", "bar", "verdict"], checks))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog="See the module docstring.")
    parser.add_argument("--champion", help="MLflow URI or model directory of an ensemble (baseline + transformer)")
    parser.add_argument("--baseline", help="MLflow URI or model directory of a baseline")
    parser.add_argument("--transformer", help="MLflow URI or model directory of a transformer (fp32 or int8)")
    parser.add_argument("--train", action="store_true", help="train quick models even if a champion is registered")
    parser.add_argument("--train-rows", type=int, help="train quick models on at most this many corpus rows")
    parser.add_argument("--train-epochs", type=float, default=1.0, help="fine-tuning epochs of a quick transformer")
    parser.add_argument("--base-model", default="m3e-small", help="base of a quick transformer")
    parser.add_argument("--texts", type=int, help="texts to predict (default: the held-out set, 420)")
    parser.add_argument("--batch-sizes", default="1,32")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs per path; the median is reported")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch threads (default: CPU count)")
    parser.add_argument("--startup-runs", type=int, default=3, help="fresh-process start-up runs (0: skip)")
    parser.add_argument("--stream-lines", type=int, default=0, help="also stream this many mentions through predict_file")
    parser.add_argument("--accuracy", action="store_true",
                        help="also score held-out macro-F1 of fp32 vs int8 (transformer and champion)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    try:
        args.batch_sizes = sorted({int(b) for b in args.batch_sizes.split(",") if b.strip()})
    except ValueError:
        parser.error("--batch-sizes takes comma-separated integers")
    if not args.batch_sizes or min(args.batch_sizes) < 1 or args.threads < 1 or args.repeats < 1:
        parser.error("--batch-sizes, --threads and --repeats must be positive")

    os.environ["YUQING_TORCH_THREADS"] = str(args.threads)  # TransformerPredictor.load reads it
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    torch.set_num_threads(args.threads)
    texts = heldout_texts(args.texts)
    with tempfile.TemporaryDirectory(prefix="yuqing-predict-bench-") as folder:
        workdir = Path(folder)
        models = get_models(args, workdir)
        torch.set_num_threads(args.threads)  # loading may have set it from the environment
        from training.ensemble import EnsemblePredictor
        from training.persistence import save_predictor

        champion = EnsemblePredictor([models["baseline"], models["int8"]], models["info"]["weights"])
        for predictor in (models["baseline"], champion):
            predictor.predict(texts[:2])  # segmenter dictionaries loaded before anything is timed
        paths = {
            "raw encoder fp32": ("raw", models["fp32"]),
            LIMIT: ("raw", models["int8"]),
            "baseline": ("predict", models["baseline"]),
            "transformer fp32": ("predict", models["fp32"]),
            "transformer int8": ("predict", models["int8"]),
            "champion": ("predict", champion),
        }
        figures = {
            "config": {"texts": len(texts), "batch_sizes": args.batch_sizes, "repeats": args.repeats,
                       "threads": args.threads, "train_rows": args.train_rows, "train_epochs": args.train_epochs},
            "environment": environment(),
            "versions": package_versions(["torch", "transformers", "scikit-learn", "jieba", "jieba-fast-dat", "mlflow"]),
            "models": models["info"],
        }
        wall = time.perf_counter()
        figures["throughput"] = measure(paths, texts, args.batch_sizes, args.repeats)
        if args.startup_runs:
            save_predictor(champion, workdir / "champion")
            log("start-up: fresh process loads the champion (MLflow pyfunc) and predicts one text")
            figures["startup"] = startup(save_pyfunc(workdir / "champion", workdir / "pyfunc"), args.threads,
                                         args.startup_runs, through_mlflow=True)
            log("start-up without MLflow: the model directory through training.persistence")
            figures["startup_no_mlflow"] = startup(workdir / "champion", args.threads, args.startup_runs,
                                                   through_mlflow=False)
        if args.accuracy:
            log("held-out macro-F1 of fp32 and int8 paths")
            figures["accuracy"] = accuracy({
                "baseline": models["baseline"], "transformer fp32": models["fp32"], "transformer int8": models["int8"],
                "champion with fp32": EnsemblePredictor([models["baseline"], models["fp32"]], models["info"]["weights"]),
                "champion": champion})
        if args.stream_lines:
            log(f"streaming {args.stream_lines:,} mentions through predict_file")
            figures["stream"] = stream(champion, texts, args.stream_lines, workdir)
        figures["wall_seconds"] = time.perf_counter() - wall
    summary = f"torch threads {torch.get_num_threads()}; measuring took {figures['wall_seconds']:.0f} s"
    return finish_run(figures, report, summary, args.json)


if __name__ == "__main__":
    sys.exit(main())
