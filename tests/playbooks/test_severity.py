"""Severity rule boundaries, Chinese numerals and signal extraction."""

from __future__ import annotations

import pytest

from playbooks.severity import IncidentMetrics, grade
from playbooks.signals import parse_number, read_signals


@pytest.mark.parametrize("text, value", [
    ("3.2万", 32_000), ("1.5亿", 150_000_000), ("两千余", 2000), ("800万", 8_000_000), ("1,200", 1200),
    ("十余", 10), ("上千", 1000), ("一千二百", 1200), ("三万五千", 35_000), ("两亿", 200_000_000), ("十五", 15),
    ("数百", 300), ("近万", 9000), ("１２００", 1200),
])
def test_chinese_numbers(text, value):
    import unicodedata

    assert parse_number(unicodedata.normalize("NFKC", text)) == value


def test_signals_read_from_text():
    s = read_signals("视频播放量达1.2亿，转发3.2万次，已致2人死亡、15人受伤，涉及用户约两千余人，金额约800万元，"
                     "央视报道后登上微博热搜第一，警方已立案调查，企业超过30小时未回应")
    assert (s.views, s.reposts, s.deaths, s.injured, s.amount_yuan) == (1.2e8, 32_000, 2, 15, 8e6)
    assert s.affected_people == 2000 and s.unanswered_hours == 30
    assert s.central_media and s.national_hot_search and s.regulator_formal


def test_negated_signals_do_not_count():
    s = read_signals("目前尚无央媒报道，未造成人员死亡，未见主流媒体报道")
    assert not s.central_media and s.deaths is None and not s.provincial_media


def test_local_hot_search_is_not_national():
    s = read_signals("登上本地热搜第3")
    assert s.hot_search and not s.national_hot_search


@pytest.mark.parametrize("reposts, expected", [(999, "minor"), (1000, "general"), (9999, "general"), (10000, "major")])
def test_repost_boundaries(reposts, expected):
    assert grade(f"相关微博转发{reposts}次", crisis_type="misconduct").severity == expected


def test_below_a_round_number_stays_below():
    assert grade("微博转发不足1000次", crisis_type="misconduct").severity == "minor"


def test_crisis_type_weight_scales_reach():
    assert grade("转发900次", crisis_type="safety_accident").severity == "general"  # 900 × 1.5
    assert grade("转发1200次", crisis_type="rumor").severity == "minor"  # 1200 × 0.8


def test_any_death_is_major_and_reasons_are_listed():
    result = grade("工地发生坍塌，1名工人死亡", crisis_type="safety_accident")
    assert result.severity == "major" and any("死亡" in r for r in result.reasons)


def test_metric_escalations():
    calm = IncidentMetrics(mentions=10, negative_share=0.5, max_reposts=1000)
    assert grade("", calm).severity == "minor"  # thresholds are "above"
    negative = IncidentMetrics(mentions=10, negative_share=0.51)
    assert grade("", negative).severity == "general"
    both = IncidentMetrics(mentions=10, negative_share=0.8, max_reposts=1500)
    result = grade("", both)
    assert result.severity == "major" and len(result.reasons) == 2
    spike = IncidentMetrics(mentions=40, mentions_last_hour=15, baseline_per_hour=4)  # 3.75× the baseline
    assert grade("", spike).severity == "general"


def test_regulator_presence_is_the_event_for_a_penalty():
    text = "区市场监管局公示处罚：某药店因违规被罚款2万元，阅读约1200"
    assert grade(text, crisis_type="regulatory_penalty").severity == "minor"
    assert grade(text, crisis_type="product_quality").severity == "general"


def test_long_silence_while_spreading_escalates():
    result = grade("话题在微博、抖音、小红书多平台扩散，企业已超过30小时未回应", crisis_type="service_failure")
    assert result.severity == "major"
