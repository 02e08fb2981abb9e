"""How good are the recommendations and the severity grades on labelled incidents.

* `evaluate`: crisis-type accuracy, severity accuracy (with confusion and under-grade rate) and
  precision@k of similar cases sharing the incident's crisis type, through the full recommender.
* `severity_report` / `leave_one_writer_out`: severity alone, graded with the gold crisis type (no
  classifier involved), per writer and per form; leave-one-writer-out starts from the rule's first
  read of each writer (playbooks/first_reads.jsonl) and fits the stacked grader on the other writers.
* `cohen_kappa`: agreement between two graders (writer grades vs an independent second grading)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from playbooks.recommend import Incident, Recommendation
from playbooks.severity import GRADES, rule_grade

INCIDENT_DIR = Path(__file__).with_name("incidents")
GUIDE_EXAMPLES = Path(__file__).with_name("severity_guide_examples.jsonl")


def load_incidents(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def writer_files(directory: Path = INCIDENT_DIR) -> list[Path]:
    """w1.jsonl … wN.jsonl, whichever exist (a writer still writing is picked up when the file appears)."""
    return sorted(Path(directory).glob("w*.jsonl"))


def load_writer_sets(paths: Sequence[Path] | None = None) -> list[dict]:
    rows = []
    for path in paths or writer_files():
        for row in load_incidents(path):
            row.setdefault("writer", Path(path).stem)
            rows.append(row)
    return rows


GUIDE_WEIGHT = 3.0  # the guide is the standard: its examples count three times in the text model


def grader_rows(paths: Sequence[Path] | None = None) -> list[dict]:
    """What the stacked grader learns from: the writers' incidents and the guide's own examples (writer
    "guide", weighted; they have no first read, so they teach the text model only)."""
    guide = [{**row, "writer": "guide", "weight": GUIDE_WEIGHT} for row in load_incidents(GUIDE_EXAMPLES)]
    return load_writer_sets(paths) + guide


def severity_confusion(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, dict[str, int]]:
    """confusion[gold][predicted] over minor/general/major."""
    table = {g: {p: 0 for p in GRADES} for g in GRADES}
    for g, p in zip(gold, predicted):
        table[g][p] += 1
    return table


def under_grade_rate(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Share of incidents graded below their gold grade (major→minor/general, general→minor)."""
    return sum(GRADES.index(p) < GRADES.index(g) for g, p in zip(gold, predicted)) / max(len(gold), 1)


def _summary(gold: list[str], predicted: list[str]) -> dict:
    n = len(gold)
    return {"incidents": n, "accuracy": round(sum(g == p for g, p in zip(gold, predicted)) / max(n, 1), 4),
            "under_grade_rate": round(under_grade_rate(gold, predicted), 4),
            "over_grade_rate": round(sum(GRADES.index(p) > GRADES.index(g) for g, p in zip(gold, predicted)) / max(n, 1), 4),
            "major_as_minor": sum(g == "major" and p == "minor" for g, p in zip(gold, predicted))}


def severity_report(incidents: Sequence[dict], predicted: Sequence[str]) -> dict:
    """Accuracy, confusion, under-grade rate, per writer and per form, with the misses listed."""
    gold = [item["severity"] for item in incidents]
    report = {**_summary(gold, list(predicted)), "confusion": severity_confusion(gold, predicted)}
    for key in ("writer", "form"):
        groups = defaultdict(list)
        for item, p in zip(incidents, predicted):
            if item.get(key):
                groups[item[key]].append((item["severity"], p))
        if groups:
            report[f"per_{key}"] = {k: _summary([g for g, _ in v], [p for _, p in v]) for k, v in sorted(groups.items())}
    report["misses"] = [{"id": item.get("id"), "gold": item["severity"], "got": p}
                        for item, p in zip(incidents, predicted) if p != item["severity"]]
    return report


def grade_incidents(incidents: Sequence[dict], grader=None) -> list[str]:
    """Grades with the gold crisis type: the rule when grader is None, else a StackedGrader on top of it."""
    rule_levels = [rule_grade(item["text"], crisis_type=item.get("crisis_type")).level for item in incidents]
    levels = rule_levels if grader is None else grader.levels([item["text"] for item in incidents], rule_levels)
    return [GRADES[level] for level in levels]


def leave_one_writer_out(incidents: Sequence[dict], first_reads: dict[str, int],
                         policies: Sequence[str] = ("rule", "stacked"), **fit_options) -> dict:
    """For each writer with first reads: "rule" is the rule's first read of that writer (how it grades
    a writer its lexicons have not read); "stacked" fits the text model and the stacker on every other
    writer and lets them move that first read. Per policy: per writer, mean, worst, pooled figures."""
    from playbooks.grader import StackedGrader

    writers = sorted({i["writer"] for i in incidents if i["id"] in first_reads}, key=lambda w: (len(w), w))
    result = {}
    for policy in policies:
        per_writer, pooled_gold, pooled_pred = {}, [], []
        for writer in writers:
            test = [i for i in incidents if i["writer"] == writer and i["id"] in first_reads]
            rule_levels = [first_reads[i["id"]] for i in test]
            if policy == "rule":
                levels = rule_levels
            else:
                train = [i for i in incidents if i["writer"] != writer]
                grader = StackedGrader.fit(train, first_reads, policy, **fit_options)
                levels = grader.levels([i["text"] for i in test], rule_levels)
            gold, predicted = [i["severity"] for i in test], [GRADES[level] for level in levels]
            per_writer[writer] = _summary(gold, predicted)
            pooled_gold += gold
            pooled_pred += predicted
        accuracies = [v["accuracy"] for v in per_writer.values()]
        result[policy] = {"per_writer": per_writer, "mean_accuracy": round(sum(accuracies) / len(accuracies), 4),
                          "worst_accuracy": min(accuracies), **{f"pooled_{k}": v for k, v in _summary(pooled_gold, pooled_pred).items()},
                          "confusion": severity_confusion(pooled_gold, pooled_pred)}
    return result


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float:
    """Cohen's kappa between two graders over the same incidents."""
    n = len(a)
    if n == 0:
        return float("nan")
    observed = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def evaluate(incidents: list[dict], recommend: Callable[[Incident], Recommendation], k: int = 5) -> dict:
    crisis_hits = severity_hits = 0
    precisions: list[float] = []
    confusion: Counter[tuple[str, str]] = Counter()
    misses: list[dict] = []
    gold_sev, got_sev = [], []
    for item in incidents:
        plan = recommend(Incident(text=item["text"]))
        crisis_hits += plan.crisis_type == item["crisis_type"]
        severity_hits += plan.severity == item["severity"]
        confusion[(item["severity"], plan.severity)] += 1
        gold_sev.append(item["severity"])
        got_sev.append(plan.severity)
        if plan.similar_cases:
            top = plan.similar_cases[:k]
            precisions.append(sum(c.crisis_type == item["crisis_type"] for c in top) / len(top))
        if plan.crisis_type != item["crisis_type"] or plan.severity != item["severity"]:
            misses.append({"id": item.get("id"), "gold": [item["crisis_type"], item["severity"]],
                           "got": [plan.crisis_type, plan.severity]})
    n = len(incidents)
    return {"incidents": n, "crisis_type_accuracy": crisis_hits / n, "severity_accuracy": severity_hits / n,
            "severity_under_grade_rate": under_grade_rate(gold_sev, got_sev),
            f"precision_at_{k}": sum(precisions) / len(precisions) if precisions else None,
            "severity_confusion": {f"{g}->{p}": c for (g, p), c in sorted(confusion.items())},
            "severity_confusion_matrix": severity_confusion(gold_sev, got_sev), "misses": misses}
