"""Stories (near-duplicate grouping), idempotent and durable storage, state rebuilt on restart."""

from __future__ import annotations

import sqlite3

from monitoring.store import Store
from monitoring.stories import StoryIndex
from tests.monitoring.conftest import mention, subject

ORIGINAL = "【求扩散】多位妈妈反映青禾启护3段罐底出现黑色颗粒，孩子喝后呕吐腹泻，批号集中在同一批次。青禾客服至今只说登记核实。"


def test_reposts_and_light_rewrites_join_one_story(tmp_path):
    stories = StoryIndex(Store(tmp_path))
    first, started = stories.assign("a", ORIGINAL, 0.0, 3200, 0)
    assert (first, started) == ("a", True)
    assert stories.assign("b", "转发：" + ORIGINAL, 60.0, 5, 0) == ("a", False)
    assert stories.assign("c", "太可怕了//@育儿博主米粒妈：" + ORIGINAL, 120.0, 1, 0) == ("a", False)
    washed = ORIGINAL.replace("多位妈妈反映", "不少家长称")  # 洗稿: one phrase reworded (true Jaccard 0.74)
    assert stories.assign("d", washed, 180.0, 0, 0) == ("a", False)
    assert stories.assign("e", "青禾乳业发布第三季度财报，营收同比增长8.6%，低温奶增速领先", 200.0, 0, 0) == ("e", True)
    reach = stories.store.story_reach(["a", "e"])
    assert reach["a"] == (4, 3206, 0) and reach["e"][0] == 1


def test_a_copy_after_the_gap_starts_a_new_story(tmp_path):
    stories = StoryIndex(Store(tmp_path), max_gap_hours=72)
    stories.assign("a", ORIGINAL, 0.0, 0, 0)
    assert stories.assign("b", "转发：" + ORIGINAL, 73 * 3600.0, 0, 0) == ("b", True)


def test_story_index_is_rebuilt_from_the_store(tmp_path):
    store = Store(tmp_path)
    StoryIndex(store).assign("a", ORIGINAL, 0.0, 0, 0)
    store.upsert_mention({"id": "a", "text": ORIGINAL, "title": None, "channel": None, "author": None, "url": None,
                          "ts": 0.0, "reposts": 0, "comments": 0, "likes": 0, "views": 0, "sentiment": "negative",
                          "topic": None, "crisis_type": None, "sentiment_confidence": 1, "crisis_confidence": 1,
                          "scores": None, "story_id": "a", "subjects": []})
    store.close()
    assert StoryIndex(Store(tmp_path)).assign("b", "转发：" + ORIGINAL, 10.0, 0, 0) == ("a", False)


def test_ingest_is_idempotent_by_mention_id(make_monitor):
    monitor, _ = make_monitor(subject(rules={"spike": {"enabled": False}}))
    batch = [mention(f"n{i}", i, sentiment="negative") for i in range(15)]
    first = monitor.ingest(batch)
    again = monitor.ingest([{**m, "reposts": 7} for m in batch] + [mention("n15", 15, sentiment="negative")])
    assert (first.accepted, again.accepted, again.updated) == (15, 1, 15)
    assert monitor.store.scalar("SELECT COUNT(*) FROM mentions") == 16
    assert monitor.store.scalar("SELECT COUNT(*) FROM mention_subjects") == 16
    assert monitor.store.scalar("SELECT SUM(reposts) FROM mentions") == 15 * 7
    assert again.alerts == []   # 16 stories: re-sent ids did not count twice toward min volume 20


def test_writes_are_committed_when_ingest_returns(make_monitor, tmp_path):
    monitor, _ = make_monitor(subject(), data_dir=tmp_path / "d")
    monitor.ingest([mention("v", 0, reposts=5000)])
    other = sqlite3.connect(tmp_path / "d" / "monitoring.db")   # another connection, no close on ours
    assert other.execute("SELECT COUNT(*) FROM mentions").fetchone()[0] == 1
    assert other.execute("SELECT rule FROM alerts").fetchall() == [("viral",)]
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_windows_are_rebuilt_after_a_restart(make_monitor, tmp_path):
    rules = {"spike": {"enabled": False}}
    first, _ = make_monitor(subject(rules=rules), data_dir=tmp_path / "d")
    first.ingest([mention(f"n{i}", i, sentiment="negative") for i in range(19)])
    first.store.close()
    again, _ = make_monitor(subject(rules=rules), data_dir=tmp_path / "d")
    assert [a.rule for a in again.ingest([mention("n19", 19, sentiment="negative")]).alerts] == ["negative_share"]


def test_unlabelled_mentions_are_classified_and_bad_ones_rejected(make_monitor):
    monitor, _ = make_monitor(subject())
    result = monitor.ingest([
        {"id": "u1", "text": "青禾奶粉里有黑色颗粒，孩子呕吐", "published_at": "2026-11-02T08:00:00+08:00"},
        {"id": "u2", "text": "", "published_at": "2026-11-02T08:00:00+08:00"},
        {"id": "u3", "text": "青禾酸奶"},
        {"id": "u4", "text": "别的牌子", "published_at": "2026-11-02T08:00:00"},
    ])
    assert result.accepted == 1 and result.unmatched == 1 and len(result.rejected) == 2
    assert any(r.startswith("u2: text") for r in result.rejected) and any("published_at" in r for r in result.rejected)
    row = monitor.store.mentions(["u1"])[0]
    assert (row["sentiment"], row["crisis_type"], row["crisis_confidence"]) == ("negative", "product_quality", 0.9)
