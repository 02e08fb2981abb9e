"""Daily and weekly reports, the incident 专报, and cases written from resolved incidents.

A report is built as data first (`period_report`, `incident_report`: plain dicts whose figures
carry the ids of the mentions they were counted from) and then rendered by Jinja2 templates to a
self-contained HTML page (charts as base64 PNG) and to Markdown. A section with too little data
says so instead of drawing a chart of three points."""

from __future__ import annotations

import base64
import io
import json
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from jinja2 import Environment, FileSystemLoader, select_autoescape

from monitoring.incidents import IncidentBook, IncidentError
from monitoring.store import Store
from monitoring.subjects import Subject
from monitoring.timeutil import HOUR, from_ts, iso
from yuqing.labels import CRISIS_TYPE, SENTIMENT, SEVERITY, TOPIC
from yuqing.schemas import Case

TEMPLATES = Path(__file__).with_name("templates")
MIN_FOR_TREND = 10    # mentions below which a trend chart says nothing
MIN_FOR_SHARES = 5    # mentions below which shares (channel, topic) are not worth a chart
TOP_MENTIONS = 10
IDS_SHOWN = 50        # mention ids listed under one figure (the count says how many in all)
PHASES = ("初期", "发酵期", "高峰期", "缓和期")


# ---- period reports (daily, weekly) -------------------------------------------------------------

def period_bounds(kind: str, day: date, tz: ZoneInfo) -> tuple[float, float]:
    """Daily: that calendar day. Weekly: the seven days ending with that day."""
    end = datetime.combine(day + timedelta(days=1), time(0), tz)
    start = end - timedelta(days=1 if kind == "daily" else 7)
    return start.timestamp(), end.timestamp()


def period_report(store: Store, subjects: list[Subject], kind: str, day: date, tz: ZoneInfo) -> dict:
    start, end = period_bounds(kind, day, tz)
    length = end - start
    return {"kind": kind, "title": f"舆情{'日报' if kind == 'daily' else '周报'}",
            "start": iso(start, tz), "end": iso(end, tz), "day": day.isoformat(),
            "subjects": [_subject_section(store, s, start, end, length, tz) for s in subjects]}


def _rows(store: Store, subject: str, start: float, end: float) -> list[dict]:
    return [dict(r) for r in store.query(
        "SELECT m.id, m.text, m.channel, m.author, m.ts, m.reposts, m.comments, m.likes, m.views, m.sentiment, "
        "m.topic, m.crisis_type, m.story_id FROM mention_subjects s JOIN mentions m ON m.id=s.mention_id "
        "WHERE s.subject=? AND s.ts>=? AND s.ts<? ORDER BY m.ts, m.id", (subject, start, end))]


def _subject_section(store: Store, subject: Subject, start: float, end: float, length: float, tz: ZoneInfo) -> dict:
    rows = _rows(store, subject.id, start, end)
    previous = _rows(store, subject.id, start - length, start)
    overview, before = _overview(rows), _overview(previous)
    alerts = store.alerts("subject=? AND ts>=? AND ts<?", (subject.id, start, end))
    previous_alerts = store.alerts("subject=? AND ts>=? AND ts<?", (subject.id, start - length, start))
    bucket = HOUR if length <= 86400 else 86400
    trend = _trend(rows, start, end, bucket, tz)
    return {
        "id": subject.id, "name": subject.name, "overview": overview,
        "changes": _changes(overview, before, len(alerts), len(previous_alerts)),
        "trend": trend, "trend_enough": len(rows) >= MIN_FOR_TREND,
        "trend_chart": _trend_chart(trend) if len(rows) >= MIN_FOR_TREND else None,
        "channels": _shares(rows, "channel"), "shares_enough": len(rows) >= MIN_FOR_SHARES,
        "channel_chart": _bar_chart(_shares(rows, "channel"), "mentions by channel") if len(rows) >= MIN_FOR_SHARES else None,
        "topics": _shares(rows, "topic", TOPIC), "crisis_types": _shares([r for r in rows if r["crisis_type"] != "none"],
                                                                         "crisis_type", CRISIS_TYPE),
        "top_mentions": _top_mentions(rows, tz),
        "alerts": [{**a, "rule_name": RULE_NAMES.get(a["rule"], a["rule"])} for a in alerts],
        "incidents": _open_incidents(store, subject, end, tz),
    }


def _figure(rows: list[dict]) -> dict:
    """A count with the ids of the mentions it counts (the first IDS_SHOWN of them)."""
    ids = [r["id"] for r in rows]
    return {"count": len(ids), "ids": ids[:IDS_SHOWN], "more": max(0, len(ids) - IDS_SHOWN)}


def _overview(rows: list[dict]) -> dict:
    by = defaultdict(list)
    for r in rows:
        by[r["sentiment"]].append(r)
    total = len(rows)
    positive, negative = len(by["positive"]), len(by["negative"])
    return {"mentions": _figure(rows), "stories": len({r["story_id"] for r in rows}),
            "positive": _figure(by["positive"]), "neutral": _figure(by["neutral"]), "negative": _figure(by["negative"]),
            "negative_share": round(negative / total, 4) if total else None,
            # 情感净值: positive minus negative, as a count and as a share of all mentions
            "net_sentiment": positive - negative,
            "net_sentiment_share": round((positive - negative) / total, 4) if total else None,
            "reposts": sum(r["reposts"] for r in rows), "views": sum(r["views"] for r in rows)}


def _changes(now: dict, before: dict, alerts: int, previous_alerts: int) -> dict:
    def delta(a, b):
        return None if a is None or b is None else round(a - b, 4)
    return {"previous_mentions": before["mentions"]["count"],
            "mentions": now["mentions"]["count"] - before["mentions"]["count"],
            "negative_share": delta(now["negative_share"], before["negative_share"]),
            "net_sentiment": now["net_sentiment"] - before["net_sentiment"],
            "alerts": alerts - previous_alerts, "previous_alerts": previous_alerts}


def _trend(rows: list[dict], start: float, end: float, bucket: float, tz: ZoneInfo) -> list[dict]:
    buckets = []
    t = start
    while t < end:
        inside = [r for r in rows if t <= r["ts"] < t + bucket]
        counts = Counter(r["sentiment"] for r in inside)
        label = from_ts(t, tz).strftime("%H:00" if bucket == HOUR else "%m-%d")
        buckets.append({"label": label, "total": len(inside), **{s: counts.get(s, 0) for s in SENTIMENT},
                        "ids": [r["id"] for r in inside][:IDS_SHOWN], "more": max(0, len(inside) - IDS_SHOWN)})
        t += bucket
    return buckets


def _shares(rows: list[dict], field: str, names: dict | None = None) -> list[dict]:
    groups = defaultdict(list)
    for r in rows:
        groups[r[field] or "unknown"].append(r)
    total = len(rows)
    return [{"key": key, "name": (names or {}).get(key, key), **_figure(members),
             "share": round(len(members) / total, 4)}
            for key, members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))]


def _top_mentions(rows: list[dict], tz: ZoneInfo) -> list[dict]:
    ranked = sorted(rows, key=lambda r: (-r["reposts"], -r["views"], -r["comments"], r["id"]))[:TOP_MENTIONS]
    return [{"id": r["id"], "at": iso(r["ts"], tz), "channel": r["channel"], "author": r["author"],
             "reposts": r["reposts"], "views": r["views"], "sentiment": SENTIMENT.get(r["sentiment"], "?"),
             "text": r["text"][:120]} for r in ranked]


def _open_incidents(store: Store, subject: Subject, end: float, tz: ZoneInfo) -> list[dict]:
    """Incidents open at the end of the period, with playbook progress and overdue steps."""
    rows = store.query("SELECT id FROM incidents WHERE subject=? AND opened_ts<? AND (resolved_ts IS NULL OR resolved_ts>=?) "
                       "ORDER BY opened_ts, id", (subject.id, end, end))
    book = IncidentBook(store, {subject.id: subject}, lambda *_: None, tz)
    out = []
    for row in rows:
        incident = book.describe(row["id"])
        steps = incident["steps"]
        done = [s for s in steps if s["done_ts"] is not None and s["done_ts"] < end]
        overdue = [s for s in steps if s["due_ts"] <= end and (s["done_ts"] is None or s["done_ts"] >= end)]
        out.append({**incident, "crisis_name": CRISIS_TYPE[incident["crisis_type"]],
                    "severity_name": SEVERITY[incident["severity"]], "steps_done": len(done),
                    "steps_total": len(steps), "overdue": overdue})
    return out


RULE_NAMES = {"negative_share": "负面占比", "viral": "单条高传播", "spike": "声量突增", "authority": "权威信源报道危机",
              "silence": "黄金4小时未回应"}


# ---- the incident 专报 ----------------------------------------------------------------------------

def incident_report(store: Store, subjects: list[Subject], incident_id: str, tz: ZoneInfo) -> dict:
    known = {s.id: s for s in subjects}
    book = IncidentBook(store, known, lambda *_: None, tz)
    incident = book.describe(incident_id)
    mentions = book.incident_mentions(incident_id)
    timeline = book.timeline(incident_id)
    phases = _phases(mentions, timeline, tz)
    effects = book.step_effects(incident_id)
    alerts = store.alerts("incident_id=?", (incident_id,))
    subject = known.get(incident["subject"])
    return {"title": f"舆情专报：{subject.name if subject else incident['subject']}"
                     f"{CRISIS_TYPE[incident['crisis_type']] if incident['crisis_type'] != 'none' else '负面舆情'}",
            "incident": {**incident, "crisis_name": CRISIS_TYPE[incident["crisis_type"]],
                         "severity_name": SEVERITY[incident["severity"]]},
            "overview": _overview(mentions), "phases": phases, "enough": len(mentions) >= MIN_FOR_TREND,
            "chart": _phase_chart(mentions, phases, tz) if len(mentions) >= MIN_FOR_TREND else None,
            "alerts": [{**a, "rule_name": RULE_NAMES.get(a["rule"], a["rule"])} for a in alerts],
            "effects": effects, "timeline": timeline, "lessons": _lessons(incident, effects, alerts, timeline, subject)}


def _hourly(mentions: list[dict]) -> list[tuple[float, list[dict]]]:
    if not mentions:
        return []
    first = mentions[0]["ts"] // HOUR * HOUR
    hours = defaultdict(list)
    for m in mentions:
        hours[(m["ts"] - first) // HOUR].append(m)
    last = max(hours)
    return [(first + h * HOUR, hours.get(h, [])) for h in range(int(last) + 1)]


def _phases(mentions: list[dict], timeline: list[dict], tz: ZoneInfo) -> list[dict]:
    """初期 until hourly volume first reaches 20 % of the peak hour, 发酵期 until it reaches 50 %,
    高峰期 while it stays at or above 50 % (first to last such hour), 缓和期 after."""
    hours = _hourly(mentions)
    if not hours:
        return []
    counts = [len(ms) for _, ms in hours]
    peak = max(counts)
    ferment = next(i for i, c in enumerate(counts) if c >= 0.2 * peak)
    high = [i for i, c in enumerate(counts) if c >= 0.5 * peak]
    bounds = {"初期": (0, ferment), "发酵期": (ferment, high[0]), "高峰期": (high[0], high[-1] + 1),
              "缓和期": (high[-1] + 1, len(hours))}
    phases = []
    for name in PHASES:
        lo, hi = bounds[name]
        if lo >= hi:
            continue
        start, end = hours[lo][0], hours[hi - 1][0] + HOUR
        inside = [m for _, ms in hours[lo:hi] for m in ms]
        negative = sum(m["sentiment"] == "negative" for m in inside)
        top = max(inside, key=lambda m: (m["reposts"], -m["ts"]), default=None)
        phases.append({"phase": name, "start": iso(start, tz), "end": iso(end, tz), "start_ts": start, "end_ts": end,
                       **_figure(inside), "negative_share": round(negative / len(inside), 4) if inside else None,
                       "top": {"id": top["id"], "text": top["text"][:120], "reposts": top["reposts"]} if top else None,
                       "events": [e for e in timeline if start <= e["ts"] < end]})
    return phases


def _lessons(incident: dict, effects: list[dict], alerts: list[dict], timeline: list[dict], subject: Subject | None) -> list[str]:
    """Lessons read off the record: response time against the golden hours, overdue steps, effect."""
    opened = datetime.fromisoformat(incident["opened_at"]).timestamp()
    golden = subject.rules.silence.hours if subject else 4.0
    done = sorted(s["done_ts"] for s in incident["steps"] if s["done_ts"])
    lessons = []
    if not done:
        lessons.append(f"发现后未记录任何处置步骤完成；黄金{golden:g}小时内应至少完成研判与首次回应。")
    else:
        first = (done[0] - opened) / 3600
        lessons.append(f"首个处置步骤在发现后 {first:.1f} 小时完成，"
                       + (f"在黄金{golden:g}小时内。" if first <= golden else f"超过黄金{golden:g}小时，应提前。"))
    late = [s for s in incident["steps"] if s["done_ts"] and s["done_ts"] > s["due_ts"]]
    missed = [s for s in incident["steps"] if not s["done_ts"]]
    if late or missed:
        lessons.append(f"{len(late)} 个步骤逾期完成，{len(missed)} 个步骤未完成：" +
                       "；".join(f"{s['owner']}·{s['action'][:24]}" for s in (late + missed)[:3]))
    helped = [e for e in effects if e["effective"]]
    if effects:
        lessons.append(f"{len(helped)}/{len(effects)} 个已完成步骤之后 {effects[0]['window_hours']:g} 小时内声量或负面占比下降。")
    rules = Counter(a["rule"] for a in alerts)
    if rules.get("authority"):
        lessons.append("权威信源（央媒/监管）介入后应在同一时段发布权威口径，避免信息真空。")
    if rules.get("viral"):
        lessons.append("单条高传播内容出现时即应启动研判，不要等投诉累积。")
    return lessons


# ---- charts --------------------------------------------------------------------------------------

def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _trend_chart(trend: list[dict]) -> str:
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(8, 2.8))
    labels = [b["label"] for b in trend]
    bottom = [0] * len(trend)
    for sentiment, colour in (("negative", "#d9534f"), ("neutral", "#aaaaaa"), ("positive", "#5cb85c")):
        values = [b[sentiment] for b in trend]
        axis.bar(labels, values, bottom=bottom, color=colour, label=sentiment)
        bottom = [a + b for a, b in zip(bottom, values)]
    axis.set_ylabel("mentions")
    axis.legend(loc="upper left", fontsize=8)
    axis.tick_params(axis="x", labelrotation=60, labelsize=7)
    return _png(figure)


def _bar_chart(shares: list[dict], title: str) -> str:
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6, 2.6))
    axis.barh([s["key"] for s in shares][::-1], [s["count"] for s in shares][::-1], color="#337ab7")
    axis.set_title(title, fontsize=9)
    return _png(figure)


def _phase_chart(mentions: list[dict], phases: list[dict], tz: ZoneInfo) -> str:
    plt = _pyplot()
    hours = _hourly(mentions)
    figure, axis = plt.subplots(figsize=(9, 3))
    xs = list(range(len(hours)))
    axis.bar(xs, [len(ms) for _, ms in hours], color="#337ab7", label="mentions / hour")
    axis.plot(xs, [sum(m["sentiment"] == "negative" for m in ms) for _, ms in hours], color="#d9534f", label="negative")
    colours = {"初期": "#f7f7f7", "发酵期": "#fcf8e3", "高峰期": "#f2dede", "缓和期": "#dff0d8"}
    for phase in phases:
        lo = (phase["start_ts"] - hours[0][0]) / HOUR
        hi = (phase["end_ts"] - hours[0][0]) / HOUR
        axis.axvspan(lo - 0.5, hi - 0.5, color=colours[phase["phase"]], zorder=0)
    ticks = xs[::max(1, len(xs) // 12)]
    axis.set_xticks(ticks, [from_ts(hours[i][0], tz).strftime("%m-%d %H:00") for i in ticks], rotation=45, fontsize=7)
    axis.legend(fontsize=8)
    return _png(figure)


# ---- rendering -----------------------------------------------------------------------------------

def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = lambda v: "—" if v is None else f"{v:.1%}"
    env.filters["signed"] = lambda v: "—" if v is None else (f"{v:+,}" if isinstance(v, int) else f"{v:+.1%}")
    env.filters["ids"] = lambda figure: "、".join(figure["ids"]) + (f" 等共 {figure['count']} 条" if figure.get("more") else "")
    env.filters["tojson"] = lambda v: json.dumps(v, ensure_ascii=False)
    env.globals["SENTIMENT"], env.globals["SEVERITY"] = SENTIMENT, SEVERITY
    return env


def render(report: dict, fmt: str) -> str:
    """fmt: html or md."""
    name = "incident" if "incident" in report else "period"
    return _environment().get_template(f"{name}.{fmt}.j2").render(r=report)


def write_report(report: dict, out_dir: str | Path, stem: str) -> tuple[Path, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    html, md = out / f"{stem}.html", out / f"{stem}.md"
    html.write_text(render(report, "html"), encoding="utf-8")
    md.write_text(render(report, "md"), encoding="utf-8")
    return html, md


# ---- cases ---------------------------------------------------------------------------------------

def case_from_incident(store: Store, subjects: list[Subject], incident_id: str, tz: ZoneInfo) -> Case:
    """A resolved incident as a case-library entry (validated against yuqing.schemas.Case)."""
    report = incident_report(store, subjects, incident_id, tz)
    incident = report["incident"]
    if incident["state"] != "resolved":
        raise IncidentError(f"incident {incident_id} is {incident['state']}, not resolved: resolve it before writing a case")
    if incident["crisis_type"] == "none":
        raise IncidentError(f"incident {incident_id} has no crisis type: a case needs one")
    subject = next((s for s in subjects if s.id == incident["subject"]), None)
    book = IncidentBook(store, {s.id: s for s in subjects}, lambda *_: None, tz)
    mentions = book.incident_mentions(incident_id)
    started = min([m["ts"] for m in mentions] + [datetime.fromisoformat(incident["opened_at"]).timestamp()])
    resolved = datetime.fromisoformat(incident["resolved_at"]).timestamp()
    hours = lambda ts: round(max(0.0, (ts - started) / 3600), 2)
    first_done = min((s["done_ts"] for s in incident["steps"] if s["done_ts"]), default=None)
    split = first_done or datetime.fromisoformat(incident["opened_at"]).timestamp()
    before = [m for m in mentions if m["ts"] <= split]
    after = [m for m in mentions if m["ts"] > max(split, resolved - 24 * HOUR)]
    actions = [{"at_hours": hours(e["step"]["done_ts"]), "action": e["step"]["action"], "effective": bool(e["effective"])}
               for e in report["effects"]] or [{"at_hours": hours(resolved), "action": "未记录处置步骤，事件自然平息后结案", "effective": False}]
    timeline = [{"phase": p["phase"], "at_hours": hours(p["start_ts"]),
                 "event": (p["top"]["text"] if p["top"] else p["phase"])[:80]} for p in report["phases"]]
    name = subject.name if subject else incident["subject"]
    summary = incident["description"]
    if len(summary) < 20:
        summary += f"（共 {len(mentions)} 条相关信息）"
    case = Case(
        id=f"case-{incident_id}", title=f"{name}{CRISIS_TYPE[incident['crisis_type']]}（{from_ts(started, tz):%Y年%m月}）",
        organisation=name, industry=subject.industry if subject else "未注明", crisis_type=incident["crisis_type"],
        severity=incident["severity"], started_at=from_ts(started, tz), summary=summary,
        timeline=timeline or [{"phase": "初期", "at_hours": 0, "event": summary[:80]}], actions=actions,
        outcome={"hours_to_resolution": max(0.1, hours(resolved)), "negative_share_before": _negative_share(before),
                 "negative_share_after": _negative_share(after),
                 "what_went_wrong": _what_went_wrong(report["lessons"], incident)},
        lessons=report["lessons"], tags=[name, CRISIS_TYPE[incident["crisis_type"]], "监测自动生成"])
    return case


def _negative_share(mentions: list[dict]) -> float:
    labelled = [m for m in mentions if m["sentiment"]]
    return round(sum(m["sentiment"] == "negative" for m in labelled) / len(labelled), 4) if labelled else 0.0


def _what_went_wrong(lessons: list[str], incident: dict) -> str:
    problems = [lesson for lesson in lessons if "超过" in lesson or "逾期" in lesson or "未记录" in lesson]
    return "；".join(problems) if problems else "未发现明显失误"


def write_case(case: Case, folder: str | Path) -> Path:
    """One case per file, as a one-item list: the case library's format (playbooks/cases/*.yaml)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{case.id}.yaml"
    data = [case.model_dump(mode="json", exclude_none=True)]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120), encoding="utf-8")
    return path
