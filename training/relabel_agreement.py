"""Inter-annotator agreement of the sentiment relabelling: Cohen's kappa between the corpus labels
and an independent second pass over 300 sampled rows (training/data/relabel/)."""

from __future__ import annotations

import json

from sklearn.metrics import cohen_kappa_score, confusion_matrix

from training.data import DATA_DIR
from yuqing.labels import TASKS

RELABEL_DIR = DATA_DIR / "relabel"


def paired_labels() -> list[tuple[str, str, str]]:
    """(ref, corpus label, second-pass label) for every row of the agreement sample."""
    pairs = []
    for line in (RELABEL_DIR / "agreement_second_pass.jsonl").read_text(encoding="utf-8").splitlines():
        second = json.loads(line)
        file, number = second["ref"].split(":")
        row = json.loads((DATA_DIR / "corpus" / file).read_text(encoding="utf-8").splitlines()[int(number) - 1])
        pairs.append((second["ref"], row["sentiment"], second["sentiment"]))
    return pairs


def main() -> None:
    pairs = paired_labels()
    first, second = [p[1] for p in pairs], [p[2] for p in pairs]
    agreement = sum(a == b for a, b in zip(first, second)) / len(pairs)
    print(f"rows {len(pairs)}  Cohen's kappa {cohen_kappa_score(first, second):.3f}  raw agreement {agreement:.3f}")
    print("rows: corpus label, columns: second pass", TASKS["sentiment"])
    print(confusion_matrix(first, second, labels=TASKS["sentiment"]))
    for ref, a, b in pairs:
        if a != b:
            print(f"  {ref}: corpus {a}, second pass {b}")


if __name__ == "__main__":
    main()
