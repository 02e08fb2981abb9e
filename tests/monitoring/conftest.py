"""Fakes and builders for the monitoring tests: a keyword classifier, a label-reading classifier
for the sample stream, and mentions on a fixed clock."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitoring.engine import Monitor
from monitoring.store import Store
from monitoring.subjects import Subject
from yuqing.labels import TASKS
from yuqing.schemas import Prediction

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 2, 0, 0, tzinfo=TZ)  # the fixed clock: Monday 00:00
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SAMPLES = ROOT / "monitoring" / "samples"
# Common characters to make texts that share no 3-grams by chance (each is its own story).
CHARS = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def unique_text(seed: int, prefix: str = "青禾") -> str:
    rng = random.Random(seed)
    return prefix + "".join(rng.choice(CHARS) for _ in range(24))


def mention(id: str, minutes: float, text: str | None = None, sentiment: str = "neutral", crisis: str = "none",
            topic: str = "product_quality", reposts: int = 0, views: int = 0, channel: str = "weibo",
            author: str | None = "网友", confidence: float | None = None) -> dict:
    """A labelled mention at T0 + minutes (labels given, so the classifier is not called)."""
    record = {"id": id, "text": text or unique_text(_seed(id)),
              "published_at": at(minutes).isoformat(), "channel": channel, "author": author,
              "reposts": reposts, "views": views, "sentiment": sentiment, "topic": topic, "crisis_type": crisis}
    if confidence is not None:
        record["scores"] = {"sentiment": {sentiment: 0.9}, "topic": {topic: 0.9}, "crisis_type": {crisis: confidence}}
    return record


def _seed(id: str) -> int:
    return sum(ord(c) * 131 ** i for i, c in enumerate(id)) % 2_147_483_647


NEGATIVE_WORDS = ("异物", "黑色颗粒", "呕吐", "腹泻", "投诉", "失望", "避雷", "退货", "说法", "崩了", "太慢")
CRISIS_WORDS = {"product_quality": ("异物", "黑色颗粒", "呕吐", "腹泻", "焦粒", "召回"),
                "service_failure": ("崩了", "无法登录", "转不出去")}
POSITIVE_WORDS = ("好喝", "推荐", "点赞", "喜欢", "放心", "不错")


def keyword_classify(texts: list[str]) -> list[Prediction]:
    """A deterministic keyword classifier: FAKE, for tests only (the real one is the champion)."""
    out = []
    for text in texts:
        crisis = next((c for c, words in CRISIS_WORDS.items() if any(w in text for w in words)), "none")
        sentiment = "negative" if any(w in text for w in NEGATIVE_WORDS) else \
            "positive" if any(w in text for w in POSITIVE_WORDS) else "neutral"
        labels = {"sentiment": sentiment, "topic": "product_quality", "crisis_type": crisis}
        out.append(Prediction(**labels, scores={t: {labels[t]: 0.9} for t in TASKS}))
    return out


def label_reader(path: Path = HERE / "data" / "stream_labels.jsonl"):
    """A fake classifier for the sample stream: the labels its writer intended (a test-only copy)."""
    labels = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        labels[row["text"]] = row

    def classify(texts: list[str]) -> list[Prediction]:
        rows = [labels[t.split("\n")[-1]] for t in texts]
        return [Prediction(**{k: r[k] for k in TASKS}, scores={k: {r[k]: 0.9} for k in TASKS}) for r in rows]
    return classify


class Recorder:
    """The publish hook, recording (event type, payload)."""

    def __init__(self):
        self.events: list[tuple[str, dict]] = []

    def __call__(self, event_type: str, payload: dict) -> None:
        self.events.append((event_type, payload))

    def types(self) -> list[str]:
        return [e for e, _ in self.events]


def subject(**overrides) -> Subject:
    data = {"id": "qinghe", "name": "青禾乳业", "keywords": {"any": ["青禾"]}}
    data.update(overrides)
    return Subject.model_validate(data)


@pytest.fixture
def make_monitor(tmp_path):
    """Monitor(subjects…) on a fresh data dir, keyword classifier, recording publisher."""
    def make(*subjects: Subject, data_dir: Path | None = None, classify=keyword_classify) -> tuple[Monitor, Recorder]:
        recorder = Recorder()
        store = Store(data_dir or tmp_path / "data", durable=False)
        return Monitor(store, list(subjects) or [subject()], classify, publish=recorder, timezone="Asia/Shanghai"), recorder
    return make
