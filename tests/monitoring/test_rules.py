"""Alert rules in event time: window and threshold boundaries, spikes against a seasonal
baseline, single-mention rules, cooldown."""

from __future__ import annotations

from monitoring.rules import SubjectWindow, spike
from monitoring.subjects import SpikeRule
from tests.monitoring.conftest import mention, subject

QUIET_RULES = {"spike": {"enabled": False}, "silence": {"enabled": False}}


def rules_fired(result) -> list[str]:
    return [a.rule for a in result.alerts]


# ---- negative share ---------------------------------------------------------------------------

def test_negative_share_needs_min_volume(make_monitor):
    monitor, _ = make_monitor(subject(rules=QUIET_RULES))
    nineteen = [mention(f"n{i}", i, sentiment="negative") for i in range(19)]
    assert monitor.ingest(nineteen).alerts == []          # 19 stories, all negative: below 20
    result = monitor.ingest([mention("n19", 19, sentiment="negative")])
    assert rules_fired(result) == ["negative_share"]
    alert = result.alerts[0]
    assert alert.drivers["volume"] == 20 and alert.drivers["value"] == 1.0 and alert.drivers["threshold"] == 0.5
    assert alert.drivers["window_minutes"] == 60 and len(alert.mention_ids) == 20
    assert alert.fired_at == "2026-11-02T00:19:00+08:00"  # the event time of the crossing mention


def test_negative_share_must_be_strictly_above_threshold(make_monitor):
    monitor, _ = make_monitor(subject(rules=QUIET_RULES))
    half = [mention(f"m{i}", i, sentiment="negative" if i % 2 else "neutral") for i in range(20)]
    assert monitor.ingest(half).alerts == []              # exactly 50 %: not above
    assert rules_fired(monitor.ingest([mention("m20", 20, sentiment="negative")])) == ["negative_share"]


def test_window_is_half_open_in_event_time(make_monitor):
    """A mention exactly one window before `now` is outside (now − 60 min, now]."""
    monitor, _ = make_monitor(subject(rules=QUIET_RULES))
    first = [mention("edge", 0, sentiment="negative")] + [mention(f"w{i}", 30 + i, sentiment="negative") for i in range(18)]
    assert monitor.ingest(first).alerts == []
    # At minute 60 the window (0, 60] no longer holds the mention of minute 0: 19 + this one = 19.
    assert monitor.ingest([mention("late", 60, sentiment="negative")]).alerts == []
    # At minute 59.9 it would have held it — shown on a fresh monitor with the same stream.


def test_window_counts_the_mention_just_inside(make_monitor, tmp_path):
    monitor, _ = make_monitor(subject(rules=QUIET_RULES), data_dir=tmp_path / "other")
    first = [mention("edge", 0, sentiment="negative")] + [mention(f"w{i}", 30 + i, sentiment="negative") for i in range(18)]
    monitor.ingest(first)
    assert rules_fired(monitor.ingest([mention("late", 59.9, sentiment="negative")])) == ["negative_share"]


def test_copies_do_not_add_volume(make_monitor):
    """Volume counts stories: twenty reposts of one text are one story."""
    monitor, _ = make_monitor(subject(rules=QUIET_RULES))
    text = "青禾启护3段奶粉罐底发现黑色颗粒，孩子喝了以后呕吐，大家快看看自己家的批号"
    copies = [mention(f"c{i}", i, text=("转发：" if i else "") + text, sentiment="negative") for i in range(25)]
    assert monitor.ingest(copies).alerts == []


# ---- single-mention rules -----------------------------------------------------------------------

def test_viral_boundaries(make_monitor):
    monitor, _ = make_monitor(subject(rules=QUIET_RULES, cooldown_hours=0.001))
    assert monitor.ingest([mention("r1000", 0, reposts=1000), mention("v999", 10, views=999_999)]).alerts == []
    assert rules_fired(monitor.ingest([mention("r1001", 20, reposts=1001)])) == ["viral"]
    result = monitor.ingest([mention("v1m", 30, views=1_000_000)])
    assert rules_fired(result) == ["viral"] and result.alerts[0].drivers["measure"] == "views"
    assert result.alerts[0].mention_ids == ["v1m"]


def test_authority_needs_crisis_confidence_and_source(make_monitor):
    monitor, _ = make_monitor(subject(rules=QUIET_RULES, cooldown_hours=0.001))
    ingest = lambda *m: rules_fired(monitor.ingest(list(m)))
    assert ingest(mention("a1", 0, crisis="product_quality", confidence=0.69, channel="regulator")) == []
    assert ingest(mention("a2", 10, crisis="none", channel="regulator")) == []
    assert ingest(mention("a3", 20, crisis="product_quality", confidence=0.9, channel="weibo", author="小王")) == []
    assert ingest(mention("a4", 30, crisis="product_quality", confidence=0.7, channel="regulator")) == ["authority"]
    result = monitor.ingest([mention("a5", 40, crisis="product_quality", confidence=0.95, channel="news",
                                     author="新华社")])
    assert rules_fired(result) == ["authority"] and result.alerts[0].drivers["source"] == "新华社"


# ---- spike against the subject's own (seasonal) baseline -----------------------------------------

def _window(counts_by_hour: dict[int, int]) -> SubjectWindow:
    """Story starts spread evenly inside each hour (hour index from T0)."""
    window = SubjectWindow()
    for hour, count in counts_by_hour.items():
        for k in range(count):
            window.add(hour * 3600 + (k + 0.5) * 3600 / count, f"h{hour}-{k}", False)
    return window


def _week(rush: int = 12, normal: int = 2, rush_hour: int = 9) -> dict[int, int]:
    """Seven days of `normal` stories an hour, with a daily rush hour (09:00–10:00)."""
    return {d * 24 + h: (rush if h == rush_hour else normal) for d in range(7) for h in range(24)}


def test_daily_rush_hour_is_not_a_spike():
    counts = _week()
    counts[7 * 24 + 9] = 12                       # day 8, 09:00–10:00: the usual rush
    for h in range(7 * 24, 7 * 24 + 9):
        counts[h] = 2
    now = (7 * 24 + 10) * 3600 - 1               # just before 10:00 on day 8
    assert spike(SpikeRule(), _window(counts), now) is None


def test_same_count_at_an_unusual_hour_is_a_spike():
    counts = _week()
    for h in range(7 * 24, 7 * 24 + 15):
        counts[h] = 2
    counts[7 * 24 + 15] = 12                     # 15:00–16:00, normally 2
    found = spike(SpikeRule(), _window(counts), (7 * 24 + 16) * 3600 - 1)
    assert found is not None
    assert found["numbers"]["value"] == 12 and found["numbers"]["ratio"] >= 3 and found["numbers"]["z"] >= 3
    assert found["numbers"]["seasonal_days"] == 7 and found["numbers"]["recent_windows"] == 12
    assert len(found["mention_ids"]) == 12


def test_quiet_subject_does_not_spike_below_min_count():
    counts = {d * 24 + h: (1 if h == 12 else 0) for d in range(7) for h in range(24)}
    counts[7 * 24 + 20] = 9                      # 9× the usual, but only 9 stories
    assert spike(SpikeRule(), _window(counts), (7 * 24 + 21) * 3600 - 1) is None
    counts[7 * 24 + 20] = 10
    assert spike(SpikeRule(), _window(counts), (7 * 24 + 21) * 3600 - 1) is not None


def test_no_verdict_without_history():
    counts = {0: 1, 1: 15}
    assert spike(SpikeRule(), _window(counts), 2 * 3600 - 1) is None            # 2 h of history < 12 h
    assert spike(SpikeRule(min_history_hours=1), _window(counts), 2 * 3600 - 1) is not None


def test_spike_through_the_engine(make_monitor):
    monitor, _ = make_monitor(subject(rules={"negative_share": {"enabled": False}, "silence": {"enabled": False}}))
    baseline = [mention(f"b{i}", i * 60 + 30) for i in range(24)]         # one story an hour for a day
    assert monitor.ingest(baseline).alerts == []
    burst = [mention(f"s{i}", 24 * 60 + 35 + i * 3) for i in range(10)]  # ten in half an hour
    result = monitor.ingest(burst)
    assert rules_fired(result) == ["spike"]
    assert result.alerts[0].mention_ids == [f"s{i}" for i in range(10)]
    assert result.alerts[0].fired_at == "2026-11-03T01:02:00+08:00"       # at the tenth, not later


# ---- cooldown ------------------------------------------------------------------------------------

def test_cooldown_per_subject_and_rule(make_monitor):
    monitor, _ = make_monitor(subject(rules=QUIET_RULES))
    assert rules_fired(monitor.ingest([mention("v1", 0, reposts=5000)])) == ["viral"]
    assert monitor.ingest([mention("v2", 6 * 60 - 1, reposts=5000)]).alerts == []   # 5 h 59 min later
    assert rules_fired(monitor.ingest([mention("v3", 6 * 60, reposts=5000)])) == ["viral"]  # 6 h: again


def test_cooldown_survives_a_restart(make_monitor, tmp_path):
    first, _ = make_monitor(subject(rules=QUIET_RULES), data_dir=tmp_path / "d")
    first.ingest([mention("v1", 0, reposts=5000)])
    first.store.close()
    again, _ = make_monitor(subject(rules=QUIET_RULES), data_dir=tmp_path / "d")
    assert again.ingest([mention("v2", 60, reposts=5000)]).alerts == []


def test_alert_explains_terms_channels_authors(make_monitor):
    monitor, _ = make_monitor(subject(rules=QUIET_RULES))
    text = "青禾启护奶粉罐底发现黑色颗粒，宝宝喝完呕吐"
    alert = monitor.ingest([mention("x", 0, text=text, reposts=3000, author="米粒妈", channel="weibo")]).alerts[0]
    drivers = alert.drivers
    assert drivers["rule"] == "viral" and drivers["channels"] == {"weibo": 1} and drivers["authors"] == ["米粒妈"]
    assert "黑色" in drivers["top_terms"] or "颗粒" in drivers["top_terms"]
    assert not any("青禾" in t for t in drivers["top_terms"])   # the subject's own name is not a finding
