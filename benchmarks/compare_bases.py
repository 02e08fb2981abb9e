"""Compare candidate base encoders for the multi-task classifier on an equal, small budget:
the same training subset and epochs for each, then dev macro-F1 per task, training time and
prediction speed. Used to choose the default base (see README, "Choosing the base").

    .venv/bin/python benchmarks/compare_bases.py --bases m3e-small e5-small --train-rows 1500 --epochs 2
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from training.data import corpus_splits
from training.metrics import evaluate, mean_macro_f1
from training.transformer import fine_tune
from yuqing.config import configure_environment


def measure(base: str, train, dev, epochs: float, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        predictor = fine_tune(train, base, Path(folder), epochs=epochs, seed=seed)
        train_seconds = time.perf_counter() - started
        started = time.perf_counter()
        results = evaluate(predictor, dev, batch_size=32)
        predict_seconds = time.perf_counter() - started
    return {"base": base, "train_seconds": round(train_seconds, 1),
            "dev_texts_per_second": round(len(dev) / predict_seconds, 1),
            **{f"dev_{task}_macro_f1": round(r["macro_f1"], 4) for task, r in results.items()},
            "dev_mean_macro_f1": round(mean_macro_f1(results), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bases", nargs="+", default=["m3e-small", "e5-small"])
    parser.add_argument("--train-rows", type=int, default=1500)
    parser.add_argument("--epochs", type=float, default=2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    configure_environment()
    torch.set_num_threads(torch.get_num_threads())
    train, dev = corpus_splits()
    train = train.shuffle(seed=args.seed).select(range(min(args.train_rows, len(train))))
    rows = [measure(base, train, dev, args.epochs, args.seed) for base in args.bases]
    print(f"\nequal budget: {len(train)} training rows, {args.epochs} epochs, dev {len(dev)} rows, "
          f"{torch.get_num_threads()} threads")
    keys = list(rows[0])
    print(" | ".join(keys))
    for row in rows:
        print(" | ".join(str(row[k]) for k in keys))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
