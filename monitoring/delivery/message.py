"""The short Chinese message people get: severity, what drives it, the first steps with their
deadlines, and a link to the incident. One `Notice`, rendered per channel format."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from monitoring.delivery.events import EVENT_TYPES

SEVERITY_ZH = {"minor": "轻微", "general": "一般", "major": "重大"}
MAX_STEPS = 5  # a chat message is read on a phone; the incident page has the full plan

# Names of the drivers the engine is expected to send; unknown keys are shown as they are.
DRIVER_NAMES = {
    "mentions": "相关声量",
    "mentions_1h": "近1小时声量",
    "mentions_24h": "近24小时声量",
    "negative_share": "负面占比",
    "growth": "增速",
    "growth_rate": "增速",
    "reach": "覆盖人数",
    "reposts": "转发",
    "comments": "评论",
    "likes": "点赞",
    "views": "阅读",
    "media_count": "媒体报道数",
    "influencer_count": "大V参与数",
    "score": "风险分",
}
PERCENT_SUFFIXES = ("_share", "_ratio", "_rate")


def format_time(value: Any, tz: str) -> str:
    """ISO time → 'MM-DD HH:MM' in the organisation's timezone (naive times are taken as local)."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo(tz))
    return moment.strftime("%m-%d %H:%M")


def format_driver(key: str, value: Any) -> str:
    name = DRIVER_NAMES.get(key, key)
    if isinstance(value, float) and key.endswith(PERCENT_SUFFIXES) and 0 <= value <= 1:
        return f"{name} {value:.0%}"
    if isinstance(value, float):
        return f"{name} {value:.3g}"
    return f"{name} {value}"


def format_step(step: Mapping[str, Any], tz: str) -> str:
    owner = str(step.get("owner") or "").strip()
    due = format_time(step.get("due_at"), tz)
    tail = "，".join(p for p in (owner, f"{due}前完成" if due else "") if p)
    action = str(step.get("action", ""))
    return f"{action}（{tail}）" if tail else action


@dataclass(frozen=True)
class Notice:
    heading: str  # 【重大】事件升级：澜山乳业奶粉异物
    facts: list[tuple[str, str]]  # (label, value) lines
    steps: list[str]
    link: str | None

    @classmethod
    def from_event(cls, event_type: str, data: Mapping[str, Any], tz: str = "Asia/Shanghai") -> Notice:
        severity = SEVERITY_ZH.get(str(data.get("severity")), str(data.get("severity") or "未定级"))
        subject = data.get("subject") or {}
        heading = f"【{severity}】{EVENT_TYPES.get(event_type, event_type)}：{data.get('title', '')}"
        facts = [("主体", str(subject.get("name") or subject.get("id") or "")), ("级别", severity)]
        if data.get("step"):  # step.due / step.overdue name the step concerned
            facts.append(("到期步骤", format_step(data["step"], tz)))
        # Only the numbers: engines also put explanations (top terms, channels …) among drivers.
        numbers = {k: v for k, v in (data.get("drivers") or {}).items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool)}
        if numbers:
            facts.append(("依据", "，".join(format_driver(k, v) for k, v in numbers.items())))
        if data.get("occurred_at"):
            facts.append(("时间", format_time(data["occurred_at"], tz)))
        steps = [format_step(s, tz) for s in (data.get("first_steps") or [])[:MAX_STEPS]]
        return cls(heading, facts, steps, data.get("link"))

    def text(self) -> str:
        lines = [self.heading, *(f"{label}：{value}" for label, value in self.facts)]
        if self.steps:
            lines.append("建议首要步骤：")
            lines += [f"{i}. {s}" for i, s in enumerate(self.steps, 1)]
        if self.link:
            lines.append(f"事件详情：{self.link}")
        return "\n".join(lines)

    def markdown(self, block_sep: str = "\n") -> str:
        """Markdown subset both 企业微信 and 钉钉 render (headings, bold, lists, links).
        钉钉 needs blank lines between blocks, so it passes block_sep='\\n\\n'."""
        blocks = [f"### {self.heading}", *(f"**{label}**：{value}" for label, value in self.facts)]
        if self.steps:
            blocks.append("**建议首要步骤**：")
            blocks.append("\n".join(f"{i}. {s}" for i, s in enumerate(self.steps, 1)))
        if self.link:
            blocks.append(f"[查看事件详情]({self.link})")
        return block_sep.join(blocks)

    def html(self) -> str:
        esc = html.escape
        facts = "".join(f"<li><b>{esc(label)}</b>：{esc(value)}</li>" for label, value in self.facts)
        steps = "".join(f"<li>{esc(s)}</li>" for s in self.steps)
        parts = [f"<h3>{esc(self.heading)}</h3>", f"<ul>{facts}</ul>"]
        if steps:
            parts.append(f"<p><b>建议首要步骤</b></p><ol>{steps}</ol>")
        if self.link:
            parts.append(f'<p><a href="{esc(self.link, quote=True)}">查看事件详情</a></p>')
        return "<html><body>" + "".join(parts) + "</body></html>"


def truncate_utf8(text: str, max_bytes: int) -> str:
    """Vendors limit message size in bytes; cut on a character boundary and say so."""
    encoded = text.encode()
    if len(encoded) <= max_bytes:
        return text
    marker = "…（已截断）"
    room = max_bytes - len(marker.encode())
    return encoded[:room].decode(errors="ignore") + marker
