"""Routing, the payload contract and the Chinese message, without any network."""

from __future__ import annotations

from monitoring.delivery.contract import normalise_payload
from monitoring.delivery.events import envelope, event_id, routed_channels
from monitoring.delivery.message import Notice, truncate_utf8
from tests.monitoring.delivery.conftest import sample_payload


def test_routing_by_severity_with_chinese_keys_everyone_key_and_event_filter():
    routing = {"轻微": ["analysts"], "major": ["analysts", "leadership", {"type": "email", "to": ["a@x.cn"]}],
               "*": {"channels": ["duty-mail"], "events": ["incident.opened"]}}
    names = lambda sev, ev: [r.name for r in routed_channels(routing, sev, ev)]
    assert names("minor", "alert.raised") == ["analysts"]
    assert names("重大", "incident.opened")[:3] == ["duty-mail", "analysts", "leadership"]
    assert names("major", "incident.opened")[3].startswith("inline-email-")
    assert names("general", "alert.raised") == [] and routed_channels(None, "major", "alert.raised") == []


def test_event_id_is_stable_and_ignores_routing():
    a = event_id("alert.raised", sample_payload(routing={"major": ["x"]}))
    assert a == event_id("alert.raised", sample_payload(routing={}))
    assert a != event_id("incident.opened", sample_payload())
    body = envelope("alert.raised", sample_payload(routing={"major": ["x"]}))
    assert "routing" not in body["data"] and body["data"]["severity_zh"] == "重大"


def test_engine_nested_payloads_are_brought_to_the_contract():
    incident = {"id": "inc-1", "subject": "lanshan", "crisis_type": "product_quality", "severity": "general",
                "opened_at": "2025-06-01T14:00:00+08:00", "last_alert_at": "2025-06-01T15:00:00+08:00",
                "description": "澜山乳业产品质量危机：网传奶粉检出异物", "steps": [
                    {"action": "已完成的步骤", "owner": "质量部", "due_at": "x", "due_ts": 1, "done_ts": 2},
                    {"action": "发布声明", "owner": "公关部", "due_at": "2025-06-01T16:00:00+08:00", "due_ts": 3, "done_ts": None}]}
    data = normalise_payload("incident.opened", {"incident": incident, "subject_name": "澜山乳业", "routing": {}},
                             "https://yq.example.com/i/{incident_id}")
    assert data["subject"] == {"id": "lanshan", "name": "澜山乳业"} and data["severity"] == "general"
    assert data["first_steps"] == [{"action": "发布声明", "owner": "公关部", "due_at": "2025-06-01T16:00:00+08:00"}]
    assert data["link"] == "https://yq.example.com/i/inc-1" and data["incident_id"] == "inc-1"
    assert data["title"].startswith("澜山乳业产品质量危机") and data["incident"] is incident

    alert = {"id": "a1", "subject": "lanshan", "rule": "volume", "fired_at": "2025-06-01T15:00:00+08:00",
             "incident_id": "inc-1", "severity": "minor", "drivers": {"mentions_1h": 40, "top_terms": ["异物"]},
             "mention_ids": ["m1"]}
    data = normalise_payload("alert.raised", {"alert": alert, "crisis_type": "product_quality", "subject_name": "澜山乳业"})
    assert (data["occurred_at"], data["mention_ids"], data["title"]) == (alert["fired_at"], ["m1"], "澜山乳业产品质量危机")
    text = Notice.from_event("alert.raised", data).text()
    assert "近1小时声量 40" in text and "top_terms" not in text  # only numbers are shown as drivers


def test_notice_text_for_an_overdue_step():
    data = sample_payload(step={"action": "发布初步声明", "owner": "品牌公关部", "due_at": "2025-06-01T08:00:00Z"})
    text = Notice.from_event("step.overdue", normalise_payload("step.overdue", data)).text()
    assert text.splitlines()[0] == "【重大】处置步骤已超时：网传澜山乳业奶粉检出异物"
    assert "到期步骤：发布初步声明（品牌公关部，06-01 16:00前完成）" in text


def test_truncation_keeps_whole_characters():
    cut = truncate_utf8("舆情" * 3000, 4096)
    assert len(cut.encode()) <= 4096 and cut.endswith("（已截断）")
