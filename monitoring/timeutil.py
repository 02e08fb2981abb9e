"""Event-time helpers: every time is kept as a UTC epoch float and shown in the configured zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

HOUR = 3600.0


def zone(name: str | None = None) -> ZoneInfo:
    if name is None:
        from yuqing.config import get_settings

        name = get_settings().timezone
    return ZoneInfo(name)


def aware(moment: datetime, tz: ZoneInfo) -> datetime:
    """A naive time is read in the configured zone (how Chinese sources write times)."""
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def to_ts(moment: datetime, tz: ZoneInfo) -> float:
    return aware(moment, tz).timestamp()


def from_ts(ts: float, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ts, tz)


def iso(ts: float, tz: ZoneInfo) -> str:
    """ISO 8601 with offset, seconds precision: 2026-11-03T09:15:00+08:00."""
    return datetime.fromtimestamp(round(ts), tz).isoformat()


def parse_time(value: str | datetime, tz: ZoneInfo) -> float:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return to_ts(moment, tz)


def utc_now() -> datetime:
    return datetime.now(UTC)
