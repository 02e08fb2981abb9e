"""Print label counts of the corpus, its dev split and the held-out set as Markdown tables.

    python -m training.data_stats"""

from __future__ import annotations

from collections import Counter

from training.data import corpus_splits, heldout
from yuqing.labels import CHINESE_NAMES, TASKS


def table() -> str:
    train, dev = corpus_splits()
    splits = {"train": train, "dev": dev, "held-out": heldout()}
    lines = ["rows: " + ", ".join(f"{name} {len(split)}" for name, split in splits.items())]
    for task, labels in TASKS.items():
        counts = {name: Counter(split[task]) for name, split in splits.items()}
        lines += ["", f"| {task} | " + " | ".join(splits) + " |", "|---|" + "---:|" * len(splits)]
        lines += [f"| `{label}` {CHINESE_NAMES[task][label]} | " + " | ".join(str(counts[n][label]) for n in splits) + " |"
                  for label in labels]
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
