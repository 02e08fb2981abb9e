"""Reports on a fixed data set: the numbers in them, too-little-data notes, the 专报, cases."""

from __future__ import annotations

from datetime import date

import pytest

from monitoring.incidents import IncidentError
from monitoring.reports import case_from_incident, incident_report, period_report, render, write_case, write_report
from playbooks.library import load_cases
from tests.monitoring.conftest import TZ, at, mention, subject

DAY = 24 * 60
MIXED = [("positive", "weibo")] * 3 + [("positive", "news")] * 2 + [("neutral", "news")] * 2 + \
        [("neutral", "douyin")] + [("negative", "weibo")] * 3 + [("negative", "douyin")]


@pytest.fixture
def reported(make_monitor):
    qinghe = subject(rules={"spike": {"enabled": False}})
    quiet = subject(id="chenghu", name="澄湖农商银行", keywords={"any": ["澄湖农商"]})
    monitor, _ = make_monitor(qinghe, quiet)
    monitor.ingest([mention(f"p{i}", i * 30, sentiment="neutral") for i in range(2)])             # day 1: 2
    monitor.ingest([mention(f"d{i}", DAY + 60 + i * 30, sentiment=s, channel=c, reposts=i * 10)   # day 2: 12
                    for i, (s, c) in enumerate(MIXED)])
    monitor.ingest([mention(f"q{i}", DAY + 120 + i, text=f"澄湖农商银行网点第{i}号通知", channel="news") for i in range(3)])
    return monitor, [qinghe, quiet]


def test_daily_numbers_net_sentiment_and_channels(reported):
    monitor, subjects = reported
    report = period_report(monitor.store, subjects, "daily", date(2026, 11, 3), TZ)
    qinghe, quiet = report["subjects"]
    o = qinghe["overview"]
    assert (o["mentions"]["count"], o["positive"]["count"], o["neutral"]["count"], o["negative"]["count"]) == (12, 5, 3, 4)
    assert o["net_sentiment"] == 1 and o["net_sentiment_share"] == round(1 / 12, 4)
    assert o["negative"]["ids"] == ["d8", "d9", "d10", "d11"]
    channels = {c["key"]: (c["count"], c["share"], c["ids"]) for c in qinghe["channels"]}
    assert channels["weibo"][:2] == (6, 0.5) and channels["news"][:2] == (4, round(4 / 12, 4))
    assert channels["douyin"][2] == ["d7", "d11"]
    assert qinghe["changes"]["mentions"] == 10 and qinghe["changes"]["previous_mentions"] == 2
    assert [m["id"] for m in qinghe["top_mentions"][:2]] == ["d11", "d10"]          # by reposts
    assert sum(b["total"] for b in qinghe["trend"]) == 12 and len(qinghe["trend"]) == 24
    assert quiet["overview"]["mentions"]["count"] == 3 and not quiet["trend_enough"]
    md = render(report, "md")
    assert "| 12 | 12 | 5 | 3 | 4 | 33.3% | 1 | 8.3% |" in md
    assert "| weibo | 6 | 50.0% |" in md
    assert "数据不足：本期仅 3 条信息" in md


def test_weekly_and_empty_day_render(reported, tmp_path):
    monitor, subjects = reported
    weekly = period_report(monitor.store, subjects, "weekly", date(2026, 11, 8), TZ)
    assert weekly["subjects"][0]["overview"]["mentions"]["count"] == 14 and len(weekly["subjects"][0]["trend"]) == 7
    empty = period_report(monitor.store, subjects, "daily", date(2026, 12, 1), TZ)
    html, md = write_report(empty, tmp_path, "empty")
    assert "本期没有关于青禾乳业的信息" in md.read_text(encoding="utf-8")
    assert "<html" in html.read_text(encoding="utf-8")


@pytest.fixture
def resolved(make_monitor):
    monitor, _ = make_monitor(subject(rules={"spike": {"enabled": False}, "silence": {"enabled": False}}))
    crisis = {"sentiment": "negative", "crisis": "product_quality"}
    monitor.ingest([mention(f"e{i}", i * 20, **crisis) for i in range(3)])                   # 初期
    incident_id = monitor.ingest([mention("v", 90, reposts=5000, **crisis)]).alerts[0].incident_id
    monitor.ingest([mention(f"h{i}", 100 + i * 3, **crisis) for i in range(30)])             # 高峰期
    monitor.ingest([mention(f"c{i}", 300 + i * 30, sentiment="neutral", crisis="product_quality") for i in range(6)])
    monitor.mark_step_done(incident_id, 1, by="品控部", at=at(150))
    return monitor, incident_id


def test_incident_report_phases_actions_lessons(resolved, tmp_path):
    monitor, incident_id = resolved
    report = incident_report(monitor.store, [subject()], incident_id, TZ)
    phases = [p["phase"] for p in report["phases"]]
    assert phases[0] == "初期" and "高峰期" in phases
    assert sum(p["count"] for p in report["phases"]) == report["overview"]["mentions"]["count"] == 40
    assert report["effects"][0]["step"]["done_by"] == "品控部"
    assert any("黄金4小时内" in lesson for lesson in report["lessons"])
    html, md = write_report(report, tmp_path, "incident")
    assert "data:image/png;base64," in html.read_text(encoding="utf-8") and "经验教训" in md.read_text(encoding="utf-8")


def test_case_from_a_resolved_incident_loads_in_the_case_library(resolved, tmp_path):
    monitor, incident_id = resolved
    with pytest.raises(IncidentError, match="not resolved"):
        case_from_incident(monitor.store, [subject()], incident_id, TZ)
    monitor.resolve(incident_id, by="值班经理", at=at(24 * 60))
    case = case_from_incident(monitor.store, [subject(industry="乳制品")], incident_id, TZ)
    assert case.crisis_type == "product_quality" and case.organisation == "青禾乳业" and case.industry == "乳制品"
    assert case.outcome.hours_to_resolution == 24.0 and case.actions[0].action
    path = write_case(case, tmp_path / "cases")
    [loaded] = load_cases(tmp_path / "cases")
    assert loaded.id == case.id == f"case-{incident_id}" and path.exists()
