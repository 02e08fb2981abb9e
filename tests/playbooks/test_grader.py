"""The learned severity grader: fit, save/load round trip, reasons, the packaged model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from playbooks.evaluate import cohen_kappa, severity_report, under_grade_rate
from playbooks.grader import DEFAULT_MODEL_DIR, LearnedGrader

GUIDE = Path(__file__).parents[2] / "playbooks" / "severity_guide_examples.jsonl"
ROWS = [json.loads(line) for line in GUIDE.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_round_trip_save_load(tmp_path):
    grader = LearnedGrader.fit(ROWS, policy="learned")
    before = grader.predict_levels(ROWS)
    loaded = LearnedGrader.load(grader.save(tmp_path / "grader"))
    assert loaded.policy == "learned" and loaded.predict_levels(ROWS) == before
    assert (tmp_path / "grader" / "model.joblib").exists() and json.loads((tmp_path / "grader" / "meta.json").read_text())["features"]
    LearnedGrader.fit(ROWS, policy="rule").save(tmp_path / "grader")  # refit as rule-only in the same place
    assert not (tmp_path / "grader" / "model.joblib").exists()
    assert LearnedGrader.load(tmp_path / "grader").policy == "rule"


def test_max_policy_never_grades_below_the_rule():
    grader = LearnedGrader.fit(ROWS, policy="max")
    from playbooks.evaluate import grade_incidents

    rule = grade_incidents(ROWS)
    learned = grade_incidents(ROWS, grader)
    order = ["minor", "general", "major"]
    assert all(order.index(m) >= order.index(r) for r, m in zip(rule, learned))


def test_learned_reason_is_chinese_and_names_contributors():
    grader = LearnedGrader.fit(ROWS, policy="learned")
    x = grader.model[0].mean_  # any vector will do for the explanation's shape
    reason = grader._explain(x, 2, 1)
    assert reason.startswith("学习模型：") and "推高一级" in reason


def test_load_refuses_a_directory_without_meta(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"meta.json"):
        LearnedGrader.load(tmp_path)


def test_packaged_model_loads():
    assert (DEFAULT_MODEL_DIR / "meta.json").exists()
    grader = LearnedGrader.load(DEFAULT_MODEL_DIR)
    assert grader.policy in ("rule", "learned", "max")


def test_report_figures():
    gold = ["major", "major", "general", "minor"]
    got = ["minor", "major", "minor", "general"]
    assert under_grade_rate(gold, got) == 0.5
    report = severity_report([{"severity": g, "writer": "w"} for g in gold], got)
    assert report["confusion"]["major"]["minor"] == 1 and report["major_as_minor"] == 1
    assert cohen_kappa(gold, gold) == 1.0
