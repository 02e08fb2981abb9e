"""Alert rules, evaluated in EVENT time (a mention's published_at), never arrival time.

Window rules count stories (a story's first mention for the subject), so a post copied a hundred
times is one item of volume and its copies add reach instead. Each subject keeps the sorted event
times of its story starts in memory (rebuilt from the store on start), so a window count is two
binary searches and a spike baseline is ~20 of them: cheap enough to evaluate on every story.

A window ending at `now` is the half-open interval (now − window, now]."""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field

from monitoring.store import Store
from monitoring.subjects import AuthorityRule, NegativeShareRule, SpikeRule, Subject, ViralRule
from yuqing.text import tokenize

DAY = 86400.0
MAX_IDS = 500  # mention ids listed on one alert
TERMS_FROM = 200  # mentions read for an alert's top terms
STOPWORDS = set(["的", "了", "是", "在", "和", "也", "就", "都", "而", "及", "与", "着", "或", "一个", "没有", "我们", "你们", "他们", "这个", "那个", "什么", "怎么", "还是", "已经", "就是", "不是", "自己", "这样", "可以", "因为", "所以", "但是", "如果", "今天", "现在", "真的", "还有", "一下", "这么", "那么", "有没有", "大家", "网友", "表示", "记者", "回复", "转发", "视频", "相关", "情况", "目前", "进行", "发布", "工作", "问题", "一些", "这些", "那些", "知道", "觉得", "感觉", "一事", "上午", "下午", "今日", "晚上", "企业", "出现", "反映", "一步", "两个", "已经", "之后", "以后", "还是", "不能", "不会", "一直", "希望"])


@dataclass
class AlertDraft:
    """A rule that crossed its threshold, before cooldown and incident grouping."""

    subject: str
    rule: str
    ts: float
    drivers: dict
    mention_ids: list[str]
    crisis_type: str = "none"
    incident_id: str | None = None  # set by rules about one incident (silence)


@dataclass
class SubjectWindow:
    """Sorted event times (and ids) of one subject's story starts, all and negative ones."""

    times: list[float] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    negative_times: list[float] = field(default_factory=list)
    negative_ids: list[str] = field(default_factory=list)
    first_ts: float | None = None

    def add(self, ts: float, mention_id: str, negative: bool) -> None:
        _insert(self.times, self.ids, ts, mention_id)
        if negative:
            _insert(self.negative_times, self.negative_ids, ts, mention_id)
        self.first_ts = ts if self.first_ts is None else min(self.first_ts, ts)

    def count(self, start: float, end: float) -> int:
        return bisect_right(self.times, end) - bisect_right(self.times, start)

    def negatives(self, start: float, end: float) -> int:
        return bisect_right(self.negative_times, end) - bisect_right(self.negative_times, start)

    def ids_between(self, start: float, end: float, negative: bool = False) -> list[str]:
        times, ids = (self.negative_times, self.negative_ids) if negative else (self.times, self.ids)
        return ids[bisect_right(times, start):bisect_right(times, end)]

    def prune(self, before: float) -> None:
        for times, ids in ((self.times, self.ids), (self.negative_times, self.negative_ids)):
            cut = bisect_left(times, before)
            del times[:cut], ids[:cut]


def _insert(times: list[float], ids: list[str], ts: float, mention_id: str) -> None:
    at = bisect_right(times, ts)  # usually the end: the stream is (mostly) in event-time order
    times.insert(at, ts)
    ids.insert(at, mention_id)


# ---- window rules ------------------------------------------------------------------------------

def negative_share(rule: NegativeShareRule, window: SubjectWindow, now: float) -> dict | None:
    width = rule.window_minutes * 60
    volume = window.count(now - width, now)
    if volume < rule.min_volume:
        return None
    negative = window.negatives(now - width, now)
    share = negative / volume
    if share <= rule.above:
        return None
    negative_ids = window.ids_between(now - width, now, negative=True)
    flagged = set(negative_ids)
    others = [i for i in window.ids_between(now - width, now) if i not in flagged]
    return {"numbers": {"value": round(share, 4), "threshold": rule.above, "window_minutes": rule.window_minutes,
                        "negative": negative, "volume": volume, "min_volume": rule.min_volume},
            "mention_ids": (negative_ids + others)[:MAX_IDS]}


def spike(rule: SpikeRule, window: SubjectWindow, now: float) -> dict | None:
    """Last window against the subject's own baseline: the previous hours and the same hour on
    previous days. The higher of the two means is the expectation, so a daily rush hour that the
    seasonal baseline knows does not alert even when the night before was quiet."""
    width = rule.window_minutes * 60
    current = window.count(now - width, now)
    if current < rule.min_count or window.first_ts is None:
        return None
    if (now - window.first_ts) / 3600 < rule.min_history_hours:
        return None
    covered = lambda end: end > window.first_ts
    recent_windows = max(1, int(rule.recent_hours * 60 / rule.window_minutes))
    recent = [window.count(now - (k + 1) * width, now - k * width)
              for k in range(1, recent_windows + 1) if covered(now - k * width)]
    seasonal = [window.count(now - d * DAY - width, now - d * DAY)
                for d in range(1, rule.seasonal_days + 1) if covered(now - d * DAY)]
    expected, spread, basis = _expectation(recent, seasonal)
    sigma = max(spread, math.sqrt(max(expected, 1.0)))  # Poisson floor: a flat zero baseline is not certainty
    ratio = current / max(expected, 1.0)
    z = (current - expected) / sigma
    if ratio < rule.ratio_at_least or z < rule.z_at_least:
        return None
    return {"numbers": {"value": current, "threshold": rule.min_count, "window_minutes": rule.window_minutes,
                        "ratio": round(ratio, 2), "ratio_threshold": rule.ratio_at_least, "z": round(z, 2),
                        "z_threshold": rule.z_at_least, "expected": round(expected, 2), "baseline": basis,
                        "recent_mean": round(_mean(recent), 2), "seasonal_mean": round(_mean(seasonal), 2),
                        "recent_windows": len(recent), "seasonal_days": len(seasonal)},
            "mention_ids": window.ids_between(now - width, now)[:MAX_IDS]}


def _mean(values: list[int]) -> float:
    return sum(values) / len(values) if values else 0.0


def _std(values: list[int]) -> float:
    if len(values) < 2:
        return 0.0
    mean = _mean(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def _expectation(recent: list[int], seasonal: list[int]) -> tuple[float, float, str]:
    if _mean(seasonal) > _mean(recent):
        return _mean(seasonal), _std(seasonal), "seasonal"
    return _mean(recent), _std(recent), "recent"


# ---- single-mention rules ----------------------------------------------------------------------

def viral(rule: ViralRule, mention: dict) -> dict | None:
    reposts, views = mention["reposts"], mention["views"]
    if reposts > rule.reposts_above:
        numbers = {"value": reposts, "threshold": rule.reposts_above, "measure": "reposts", "views": views}
    elif views >= rule.views_at_least:
        numbers = {"value": views, "threshold": rule.views_at_least, "measure": "views", "reposts": reposts}
    else:
        return None
    return {"numbers": {**numbers, "window_minutes": 0}, "mention_ids": [mention["id"]]}


def authoritative_source(rule: AuthorityRule, channel: str | None, author: str | None) -> str | None:
    """The channel or author that makes a mention authoritative, or None."""
    if channel and channel in rule.channels:
        return channel
    author = (author or "").lower()
    return next((name for name in rule.authors if name.lower() in author), None) if author else None


def authority(rule: AuthorityRule, mention: dict) -> dict | None:
    if mention["crisis_type"] in (None, "none"):
        return None
    confidence = mention["crisis_confidence"]
    if confidence < rule.min_confidence:
        return None
    source = authoritative_source(rule, mention["channel"], mention["author"])
    if source is None:
        return None
    return {"numbers": {"value": round(confidence, 4), "threshold": rule.min_confidence, "window_minutes": 0,
                        "source": source, "crisis_type": mention["crisis_type"]},
            "mention_ids": [mention["id"]]}


# ---- explanation --------------------------------------------------------------------------------

def explain(store: Store, subject: Subject, mention_ids: list[str]) -> dict:
    """What an alert's mentions say and where: top terms, channels, authors, reach, crisis types."""
    rows = store.mentions(mention_ids, light=True)
    own = subject.own_words()
    terms = Counter(t for r in rows[:TERMS_FROM] for t in _terms(r["text"])
                    if t not in STOPWORDS and not any(t in word for word in own))
    crisis = Counter(r["crisis_type"] for r in rows if r["crisis_type"] and r["crisis_type"] != "none")
    return {
        "mentions": len(rows),
        "reposts": sum(r["reposts"] for r in rows),
        "views": sum(r["views"] for r in rows),
        "top_terms": [t for t, _ in sorted(terms.items(), key=lambda kv: (-kv[1], kv[0]))[:8]],
        "channels": dict(sorted(Counter(r["channel"] or "unknown" for r in rows).items(), key=lambda kv: (-kv[1], kv[0]))),
        "authors": [a for a, _ in sorted(Counter(r["author"] for r in rows if r["author"]).items(),
                                         key=lambda kv: (-kv[1], kv[0]))[:8]],
        "crisis_types": dict(sorted(crisis.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def _terms(text: str) -> set[str]:
    """Words of two or more characters, keeping only the longest of overlapping search-mode tokens
    (千家万户, not also 千家 and 万户)."""
    tokens = {t for t in tokenize(text) if len(t) > 1 and not t.isdigit()}
    return {t for t in tokens if not any(t != other and t in other for other in tokens)}


def dominant_crisis_type(crisis_types: dict[str, int]) -> str:
    return next(iter(crisis_types), "none")  # already sorted by count, then name
