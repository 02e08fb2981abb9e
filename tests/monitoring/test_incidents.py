"""Incidents: grouping alerts, silence via tick, steps and their effect, escalation, resolve/reopen."""

from __future__ import annotations

from tests.monitoring.conftest import at, mention, subject

CRISIS = {"sentiment": "negative", "crisis": "product_quality"}
NO_WINDOW_RULES = {"spike": {"enabled": False}, "negative_share": {"enabled": False}}


def crisis_mention(id, minutes, **kw):
    return mention(id, minutes, **{**CRISIS, **kw})


def test_alerts_of_one_subject_and_type_make_one_incident(make_monitor):
    monitor, events = make_monitor(subject(rules={"spike": {"enabled": False}, "silence": {"enabled": False}}))
    alerts = []
    alerts += monitor.ingest([crisis_mention("v", 0, reposts=3000)]).alerts                       # viral
    alerts += monitor.ingest([crisis_mention(f"n{i}", 1 + i) for i in range(20)]).alerts            # negative share
    alerts += monitor.ingest([crisis_mention("g", 30, channel="regulator", confidence=0.9)]).alerts  # authority
    alerts += monitor.ingest([crisis_mention("v2", 47 * 60, reposts=3000)]).alerts                 # viral again, 47 h later
    assert [a.rule for a in alerts] == ["viral", "negative_share", "authority", "viral"]
    assert len({a.incident_id for a in alerts}) == 1
    assert events.types().count("incident.opened") == 1
    incident = monitor.incidents.describe(alerts[0].incident_id)
    assert incident["crisis_type"] == "product_quality" and incident["mentions"] >= 23
    assert incident["steps"] and incident["steps"][0]["due_at"] > incident["opened_at"]


def test_other_crisis_type_or_beyond_the_window_opens_another(make_monitor):
    monitor, _ = make_monitor(subject(rules={**NO_WINDOW_RULES, "silence": {"enabled": False}}, cooldown_hours=0.01))
    a = monitor.ingest([crisis_mention("a", 0, reposts=3000)]).alerts[0]
    b = monitor.ingest([mention("b", 10, reposts=3000, sentiment="negative", crisis="service_failure")]).alerts[0]
    c = monitor.ingest([crisis_mention("c", 49 * 60, reposts=3000)]).alerts[0]
    assert len({a.incident_id, b.incident_id, c.incident_id}) == 3


def test_silence_fires_via_tick_at_the_golden_deadline_once(make_monitor):
    monitor, events = make_monitor(subject(rules=NO_WINDOW_RULES))
    opened = monitor.ingest([crisis_mention("v", 0, reposts=3000)]).alerts[0]
    assert monitor.tick(at(3 * 60 + 59)) == []
    [silence] = monitor.tick(at(4 * 60 + 7))          # a tick a little after the deadline
    assert silence.rule == "silence" and silence.incident_id == opened.incident_id
    assert silence.fired_at == "2026-11-02T04:00:00+08:00"   # the deadline itself, in event time
    assert silence.drivers["value"] == 4.0 and silence.drivers["threshold"] == 4.0 and "v" in silence.mention_ids
    assert monitor.tick(at(12 * 60)) == []
    assert "step.overdue" in events.types()


def test_a_step_done_in_time_prevents_silence(make_monitor):
    monitor, _ = make_monitor(subject(rules=NO_WINDOW_RULES))
    incident_id = monitor.ingest([crisis_mention("v", 0, reposts=3000)]).alerts[0].incident_id
    step = monitor.incidents.steps(incident_id)[0]
    done = monitor.mark_step_done(incident_id, step["no"], by="公关部王五", at=at(90))
    assert done["done_by"] == "公关部王五" and done["done_at"] == "2026-11-02T01:30:00+08:00"
    assert monitor.incidents.describe(incident_id)["state"] == "responding"
    assert monitor.tick(at(5 * 60)) == []


def test_escalation_publishes_and_moves_to_the_higher_tier(make_monitor):
    monitor, events = make_monitor(subject(rules=NO_WINDOW_RULES))
    first = monitor.ingest([mention("g", 0, text="青禾乳业某批次奶粉情况说明", sentiment="neutral", crisis="product_quality",
                                    channel="regulator", confidence=0.9)]).alerts[0]
    assert first.rule == "authority" and first.severity == "minor"
    minor_steps = [s["action"] for s in monitor.incidents.steps(first.incident_id)]
    later = monitor.ingest([crisis_mention("v", 30, reposts=20000)]).alerts[0]
    assert later.rule == "viral" and later.incident_id == first.incident_id and later.severity == "major"
    [(_, payload)] = [(e, p) for e, p in events.events if e == "incident.escalated"]
    assert payload["from"] == "minor" and payload["to"] == "major" and payload["reasons"]
    assert [s["action"] for s in monitor.incidents.steps(first.incident_id)] != minor_steps


def test_resolve_then_a_new_alert_in_the_window_reopens(make_monitor):
    monitor, events = make_monitor(subject(rules={**NO_WINDOW_RULES, "silence": {"enabled": False}}, cooldown_hours=1))
    incident_id = monitor.ingest([crisis_mention("v", 0, reposts=3000)]).alerts[0].incident_id
    monitor.resolve(incident_id, by="值班经理", at=at(600))
    assert monitor.incidents.describe(incident_id)["state"] == "resolved" and "incident.resolved" in events.types()
    again = monitor.ingest([crisis_mention("v2", 700, reposts=3000)]).alerts[0]
    assert again.incident_id == incident_id and monitor.incidents.describe(incident_id)["state"] == "reopened"


def test_effect_of_a_step_is_measured_before_and_after(make_monitor):
    monitor, _ = make_monitor(subject(rules={**NO_WINDOW_RULES, "silence": {"enabled": False}}))
    incident_id = monitor.ingest([crisis_mention("v", 0, reposts=3000)]).alerts[0].incident_id
    monitor.ingest([crisis_mention(f"b{i}", 10 + i) for i in range(9)])                 # 10 negative before
    monitor.ingest([mention(f"a{i}", 200 + i, sentiment="negative" if i == 0 else "neutral") for i in range(4)])
    monitor.mark_step_done(incident_id, 1, by="客服部", at=at(120))
    [effect] = monitor.incidents.step_effects(incident_id)
    assert effect["before"]["mentions"] == 10 and effect["before"]["negative_share"] == 1.0
    assert effect["after"]["mentions"] == 4 and effect["after"]["negative_share"] == 0.25
    assert effect["effective"] is True and set(effect["after"]["mention_ids"]) == {"a0", "a1", "a2", "a3"}
