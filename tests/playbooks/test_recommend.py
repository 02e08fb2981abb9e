"""Recommendations: dated steps (across midnight and time zones), similar cases, the batch command."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from playbooks.library import default_playbooks
from playbooks.recommend import Incident, fill_template, recommend, render_text, schedule
from serving.cli import app
from tests.conftest import sample_rows
from training.baseline import BaselinePredictor
from yuqing.labels import TASKS

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def predictor():
    rows = sample_rows(repeat=3)
    return BaselinePredictor.fit([r["text"] for r in rows], {t: [r[t] for r in rows] for t in TASKS})


def test_deadlines_cross_midnight():
    detected = datetime(2026, 11, 22, 23, 30, tzinfo=SHANGHAI)
    steps = schedule(default_playbooks()["service_failure"], "major", detected, {})
    for step in steps:
        assert step.due_at == detected + timedelta(hours=step.deadline_hours)
    two_hours = next(s for s in steps if s.deadline_hours == 2)
    assert two_hours.due_at.date().day == 23 and two_hours.due_at.hour == 1 and two_hours.due_at.minute == 30


def test_detection_time_in_another_zone_is_shown_in_shanghai_time(predictor):
    detected_utc = datetime(2026, 11, 22, 17, 0, tzinfo=UTC)  # 01:00 next day in Shanghai
    plan = recommend(Incident(text="华岳银行App崩了，转发2000次", detected_at=detected_utc), predictor)
    assert plan.detected_at.utcoffset() == timedelta(hours=8)
    assert plan.detected_at.hour == 1 and plan.detected_at.day == 23
    assert plan.steps[0].due_at == plan.detected_at + timedelta(hours=plan.steps[0].deadline_hours)


def test_recommendation_picks_type_tier_and_explains(predictor):
    plan = recommend(Incident(text="星澜科技数据库遭黑客入侵，十万用户信息泄露，央视报道", organisation="星澜科技"), predictor)
    assert plan.crisis_type == "data_breach" and plan.severity == "major"
    assert plan.playbook == "playbook-data_breach"
    assert [s.action for s in plan.steps] == [s.action for s in default_playbooks()["data_breach"].tiers["major"].steps]
    assert any("央媒" in r for r in plan.severity_reasons)
    filled = " ".join(s.template or "" for s in plan.steps)
    assert "星澜科技" in filled and "{organisation}" not in filled
    text = render_text(plan)
    assert "【处置步骤】" in text and "【切忌】" in text and "重大" in text


def test_template_blanks_stay_visible():
    assert fill_template("{organisation}将于{date}公布，咨询{hotline}", {"organisation": "华岳银行"}) == \
        "华岳银行将于【日期】公布，咨询【客服热线】"


def test_batch_command_end_to_end(project, labelled_file, tmp_path):
    runner = CliRunner()
    assert runner.invoke(app, ["train", "--model", "baseline", "--no-corpus", "--data", str(labelled_file)]).exit_code == 0
    assert runner.invoke(app, ["promote"]).exit_code == 0
    incidents = tmp_path / "incidents.jsonl"
    incidents.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in [
        {"id": "a", "text": "安禾化工厂排放黑烟，周边居民闻到刺鼻气味，本地热搜", "detected_at": "2026-11-22T23:10:00+08:00"},
        {"id": "b", "text": "速达物流拖欠快递员三个月工资，两百多名员工集体讨薪", "crisis_type": "labor_dispute"},
    ]) + "\n", encoding="utf-8")
    output = tmp_path / "plans.jsonl"
    result = runner.invoke(app, ["recommend", "--input", str(incidents), "--output", str(output)])
    assert result.exit_code == 0, result.output
    first, second = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert first["id"] == "a" and first["crisis_type"] == "environmental_pollution" and first["severity"] == "general"
    assert first["playbook"] == "playbook-environmental_pollution"
    assert first["steps"][0]["due_at"].startswith("2026-11-2")
    assert len(first["similar_cases"]) == 5 and {"id", "crisis_type", "score"} <= set(first["similar_cases"][0])
    assert first["similar_cases"][0]["crisis_type"] == "environmental_pollution"
    assert second["given_crisis_type"] == "labor_dispute" and second["crisis_type"] == "labor_dispute"


def test_batch_command_rejects_bad_lines_before_doing_anything(project, tmp_path):
    incidents = tmp_path / "bad.jsonl"
    incidents.write_text('{"text": "好的事件描述文本"}\n{"txt": "typo"}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["recommend", "--input", str(incidents), "--output", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2 and "line 2" in result.output and not (tmp_path / "o.jsonl").exists()
