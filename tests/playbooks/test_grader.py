"""The stacked severity grader: first reads, fit, save/load round trip, reasons, leave-one-writer-out,
the packaged model."""

from __future__ import annotations

import json

import pytest

from playbooks.evaluate import (
    cohen_kappa,
    grade_incidents,
    leave_one_writer_out,
    load_writer_sets,
    severity_report,
    under_grade_rate,
)
from playbooks.grader import (
    DEFAULT_MODEL_DIR,
    FIRST_READS,
    POLICIES,
    StackedGrader,
    TextModel,
    append_first_reads,
    load_first_reads,
)
from playbooks.severity import GRADES

FIRST = load_first_reads()
# three writers the rule had not read when it first graded them, and one it was written with
ROWS = [r for r in load_writer_sets() if r["writer"] in ("w1", "w7", "w8", "w9")]


@pytest.fixture(scope="module")
def stacked() -> StackedGrader:
    return StackedGrader.fit(ROWS, FIRST)


def test_every_first_read_is_an_incident_graded_by_a_named_commit():
    incidents = {r["id"]: r for r in load_writer_sets()}
    rows = [json.loads(line) for line in FIRST_READS.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(FIRST) >= 1000  # one first read per incident
    assert all(r["id"] in incidents and r["severity"] in GRADES and len(r["rule_commit"]) == 40 for r in rows)
    # writers the rule was written with have no first read: their grades were never blind
    assert not any(i.startswith(("w1-", "w2-", "w6-")) for i in FIRST)


def test_append_first_reads_never_replaces_a_first_read(tmp_path):
    path = tmp_path / "first_reads.jsonl"
    item = {"id": "x-1", "text": "工地坍塌，1名工人死亡", "crisis_type": "safety_accident"}
    assert append_first_reads([item], grade_incidents([item]), "a" * 40, path) == (1, 0)
    both = [item, {**item, "id": "x-2"}]
    assert append_first_reads(both, grade_incidents(both), "b" * 40, path) == (1, 1)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r["severity"], r["rule_commit"][0]) for r in rows] == [("x-1", "major", "a"), ("x-2", "major", "b")]


def test_fit_needs_first_reads_from_two_writers():
    with pytest.raises(ValueError, match="first reads"):
        StackedGrader.fit(ROWS, {})


def test_round_trip_save_load(stacked, tmp_path):
    texts = [r["text"] for r in ROWS[:40]]
    rule = [GRADES.index(g) for g in grade_incidents(ROWS[:40])]
    before = stacked.levels(texts, rule)
    loaded = StackedGrader.load(stacked.save(tmp_path / "grader"))
    assert loaded.policy == "stacked" and loaded.levels(texts, rule) == before
    StackedGrader.fit(ROWS, FIRST, policy="rule").save(tmp_path / "grader")  # refit as rule-only in the same place
    assert not (tmp_path / "grader" / "model.joblib").exists()
    assert StackedGrader.load(tmp_path / "grader").policy == "rule"


def test_a_grade_names_the_text_models_reading_in_chinese(stacked):
    text = "幼儿园午餐后12名幼儿呕吐腹泻，其中3人住院治疗，央视报道，市场监管局已责令停业整改"
    grade = stacked.grade(text, crisis_type="product_quality")
    learned = grade.reasons[-1]
    assert grade.severity == "major" and learned.startswith("学习模型（文本 轻微 ")
    assert "主要依据" in learned and "维持规则等级 重大" in learned


def test_contributors_are_ngrams_of_the_text():
    rows = ROWS[:200]
    model = TextModel().fit([r["text"] for r in rows], [GRADES.index(r["severity"]) for r in rows])
    text = rows[0]["text"]
    grams = model.contributors(text, GRADES.index(rows[0]["severity"]))
    assert grams and all(g in text.lower() or g in text for g in grams)


def test_leave_one_writer_out_starts_from_the_first_reads():
    result = leave_one_writer_out(ROWS, FIRST)
    assert set(result) == {"rule", "stacked"} and set(result["rule"]["per_writer"]) == {"w7", "w8", "w9"}
    w7 = [r for r in ROWS if r["writer"] == "w7"]
    first_read_accuracy = sum(GRADES[FIRST[r["id"]]] == r["severity"] for r in w7) / len(w7)
    assert result["rule"]["per_writer"]["w7"]["accuracy"] == round(first_read_accuracy, 4)
    assert 0 < result["stacked"]["mean_accuracy"] <= 1


def test_load_refuses_a_directory_without_meta_or_of_an_older_format(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"meta.json"):
        StackedGrader.load(tmp_path)
    (tmp_path / "meta.json").write_text(json.dumps({"format_version": 1, "policy": "learned"}), encoding="utf-8")
    with pytest.raises(ValueError, match="train-severity"):
        StackedGrader.load(tmp_path)


def test_packaged_model_loads_and_keeps_a_death_major():
    assert (DEFAULT_MODEL_DIR / "meta.json").exists()
    grader = StackedGrader.load(DEFAULT_MODEL_DIR)
    assert grader.policy in POLICIES
    assert grader.grade("工地发生坍塌，1名工人死亡", crisis_type="safety_accident").severity == "major"


def test_report_figures():
    gold = ["major", "major", "general", "minor"]
    got = ["minor", "major", "minor", "general"]
    assert under_grade_rate(gold, got) == 0.5
    report = severity_report([{"severity": g, "writer": "w"} for g in gold], got)
    assert report["confusion"]["major"]["minor"] == 1 and report["major_as_minor"] == 1
    assert cohen_kappa(gold, gold) == 1.0


# ---- the commands ------------------------------------------------------------------------------

def _git(root, *args):
    import subprocess

    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def test_a_first_read_needs_a_committed_rule(tmp_path):
    from serving.cli_severity import committed_rule

    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "signals.py").write_text("RULE = 1\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "empty", "--allow-empty")
    assert committed_rule(tmp_path) is None  # the rule file is not committed yet
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "rule")
    commit = committed_rule(tmp_path)
    assert commit is not None and len(commit) == 40
    (tmp_path / "playbooks" / "signals.py").write_text("RULE = 2\n")
    assert committed_rule(tmp_path) is None


def test_first_read_command_records_once(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import playbooks.grader
    import serving.cli_severity
    from serving.cli import app

    monkeypatch.setattr(serving.cli_severity, "committed_rule", lambda root: "c" * 40)
    monkeypatch.setattr(playbooks.grader, "FIRST_READS", tmp_path / "first_reads.jsonl")
    data = tmp_path / "w99.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS[:3]) + "\n", encoding="utf-8")
    first = CliRunner().invoke(app, ["first-read", "--data", str(data)])
    again = CliRunner().invoke(app, ["first-read", "--data", str(data)])
    assert first.exit_code == 0 and again.exit_code == 0, first.output
    assert '"added": 3' in first.output and '"already_read": 3' in again.output
    assert len((tmp_path / "first_reads.jsonl").read_text().splitlines()) == 3


def test_train_severity_picks_by_leave_one_writer_out_and_saves(project, tmp_path):
    from typer.testing import CliRunner

    from serving.cli import app

    files = [str(p) for p in sorted((DEFAULT_MODEL_DIR.parent / "incidents").glob("w[789].jsonl"))]
    args = ["train-severity", "--output", str(tmp_path / "grader"), "--no-register"]
    result = CliRunner().invoke(app, [*args, *(x for f in files for x in ("--data", f))])
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "grader" / "meta.json").read_text(encoding="utf-8"))
    lowo = meta["leave_one_writer_out"]
    assert set(lowo) == {"rule", "stacked"} and set(lowo["rule"]["per_writer"]) == {"w7", "w8", "w9"}
    assert meta["policy"] in POLICIES and StackedGrader.load(tmp_path / "grader").policy == meta["policy"]


def test_grading_a_major_incident_minor_costs_more_than_other_misses():
    import numpy as np

    probabilities = np.array([[0.5, 0.3, 0.2]])  # minor is likeliest, but a fifth of the mass is major
    assert StackedGrader(policy="rule", meta={"major_as_minor_cost": 1.0})._decide(probabilities) == [0]
    assert StackedGrader(policy="rule", meta={"major_as_minor_cost": 3.0})._decide(probabilities) == [1]
    assert StackedGrader(policy="rule", meta={"major_as_minor_cost": 3.0})._decide(np.array([[0.8, 0.15, 0.05]])) == [0]


def test_a_fragment_is_graded_by_the_rule_alone(stacked):
    from playbooks.severity import rule_grade

    fragment = "某批次奶粉情况说明"  # a headline: too short for the text model, which would read the topic
    graded = stacked.grade(fragment, crisis_type="product_quality")
    assert graded.severity == rule_grade(fragment, crisis_type="product_quality").severity
    assert graded.reasons[-1].startswith("学习模型未参与")
    assert stacked.levels([fragment], [0]) == [0]


def test_the_guides_examples_teach_the_text_model_with_more_weight():
    from playbooks.evaluate import GUIDE_WEIGHT, grader_rows

    guide = [r for r in grader_rows() if r["writer"] == "guide"]
    assert len(guide) >= 70 and all(r["weight"] == GUIDE_WEIGHT > 1 for r in guide)
    assert not any(r["id"] in FIRST for r in guide)  # they teach the text model, never the stacker
