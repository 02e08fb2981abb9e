"""How good are the recommendations on labelled incidents: crisis-type accuracy, severity accuracy
and precision@k of similar cases sharing the incident's crisis type."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Callable

from playbooks.recommend import Incident, Recommendation


def load_incidents(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate(incidents: list[dict], recommend: Callable[[Incident], Recommendation], k: int = 5) -> dict:
    crisis_hits = severity_hits = 0
    precisions, confusion, misses = [], Counter(), []
    for item in incidents:
        plan = recommend(Incident(text=item["text"]))
        crisis_hits += plan.crisis_type == item["crisis_type"]
        severity_hits += plan.severity == item["severity"]
        confusion[(item["severity"], plan.severity)] += 1
        if plan.similar_cases:
            top = plan.similar_cases[:k]
            precisions.append(sum(c.crisis_type == item["crisis_type"] for c in top) / len(top))
        if plan.crisis_type != item["crisis_type"] or plan.severity != item["severity"]:
            misses.append({"id": item.get("id"), "gold": [item["crisis_type"], item["severity"]],
                           "got": [plan.crisis_type, plan.severity]})
    n = len(incidents)
    return {"incidents": n, "crisis_type_accuracy": crisis_hits / n, "severity_accuracy": severity_hits / n,
            f"precision_at_{k}": sum(precisions) / len(precisions) if precisions else None,
            "severity_confusion": {f"{g}->{p}": c for (g, p), c in sorted(confusion.items())}, "misses": misses}
