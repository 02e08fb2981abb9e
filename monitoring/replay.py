"""Replay a JSONL mention stream through a monitor in event-time order.

Mentions are fed in batches that never straddle a tick boundary, and `tick` runs at every boundary
of event time (also across quiet gaps), so time-based rules fire as they would have live. The same
stream into a fresh data dir always gives the same alerts file."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import IO

from pydantic import BaseModel, Field

from monitoring.engine import Alert, Classify, Monitor, noop
from monitoring.incidents import Publish
from monitoring.store import Store
from monitoring.subjects import load_subjects
from monitoring.timeutil import from_ts, parse_time, zone
from yuqing.jsonl import read_records

TICK_MINUTES = 5.0
MAX_BATCH = 1000


class ReplayResult(BaseModel):
    mentions: int = 0
    accepted: int = 0
    unmatched: int = 0
    rejected: list[str] = Field(default_factory=list)
    alerts: list[Alert] = Field(default_factory=list)
    incidents: list[str] = Field(default_factory=list)
    seconds: float = 0.0


def replay(input_path: str | Path, subjects_path: str | Path, data_dir: str | Path, classify: Classify,
           speed: float | None = None, alerts_out: str | Path | None = None, publish: Publish = noop,
           timezone: str | None = None, tick_minutes: float = TICK_MINUTES, durable: bool = True) -> ReplayResult:
    """Play `input_path` against `data_dir` (created if new). `speed=None` runs as fast as possible,
    `speed=60` plays an hour of event time per minute. `alerts_out` gets one JSON line per alert."""
    started = time.perf_counter()
    tz = zone(timezone)
    records, undated = _in_event_order(read_records(input_path, require=("id", "text")), tz)
    monitor = Monitor(Store(data_dir, durable=durable), load_subjects(subjects_path), classify, publish=publish, timezone=timezone)
    result = ReplayResult(mentions=len(records) + len(undated),
                          rejected=[f"{r['id']}: published_at missing or not an ISO time (alerts run on event time)"
                                    for r in undated])
    out = _open_out(alerts_out)
    try:
        for alerts in _play(monitor, records, tz, speed, tick_minutes * 60, result):
            result.alerts += alerts
            _write(out, alerts)
    finally:
        if out:
            out.close()
    result.incidents = sorted({a.incident_id for a in result.alerts})
    result.seconds = round(time.perf_counter() - started, 3)
    monitor.store.close()
    return result


def _in_event_order(records: list[dict], tz) -> tuple[list[tuple[float, dict]], list[dict]]:
    dated, undated = [], []
    for record in records:
        try:
            dated.append((parse_time(record["published_at"], tz), record))
        except (KeyError, TypeError, ValueError):  # missing or unreadable: cannot be placed in event time
            undated.append(record)
    dated.sort(key=lambda pair: (pair[0], str(pair[1]["id"])))
    return dated, undated


def _play(monitor: Monitor, records: list[tuple[float, dict]], tz, speed: float | None, step: float,
          result: ReplayResult):
    """Yield the alerts of each tick and each batch, in event-time order."""
    if not records:
        return
    next_tick = (records[0][0] // step + 1) * step
    previous_ts = records[0][0]
    for batch in _batches(records, step):
        first_ts = batch[0][0]
        while next_tick <= first_ts:  # every boundary passed, quiet gaps included
            yield monitor.tick(from_ts(next_tick, tz))
            next_tick += step
        if speed:
            time.sleep(max(0.0, (first_ts - previous_ts) / speed))
        previous_ts = first_ts
        ingested = monitor.ingest([record for _, record in batch])
        result.accepted += ingested.accepted
        result.unmatched += ingested.unmatched
        result.rejected += ingested.rejected
        yield ingested.alerts
    yield monitor.tick(from_ts(next_tick, tz))


def _batches(records: list[tuple[float, dict]], step: float):
    batch: list[tuple[float, dict]] = []
    for ts, record in records:
        if batch and (ts // step != batch[0][0] // step or len(batch) >= MAX_BATCH):
            yield batch
            batch = []
        batch.append((ts, record))
    if batch:
        yield batch


def _open_out(path: str | Path | None) -> IO[str] | None:
    if path is None:
        return None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("w", encoding="utf-8")


def _write(out: IO[str] | None, alerts: list[Alert]) -> None:
    if out is None:
        return
    for alert in alerts:
        out.write(json.dumps(alert.line(), ensure_ascii=False, sort_keys=False) + "\n")
    out.flush()  # a long real-time replay shows alerts as they fire


def read_alerts(path: str | Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def as_datetime(value: str, timezone: str | None = None) -> datetime:
    return from_ts(parse_time(value, zone(timezone)), zone(timezone))
