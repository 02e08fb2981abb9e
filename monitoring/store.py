"""SQLite store of the monitor: one file `<data_dir>/monitoring.db`, WAL, fsync on commit.

Times are UTC epoch floats (`ts`) so windows are plain range queries; labels are kept with their
confidence. Every public write commits before it returns, unless it runs inside `transaction()`,
which commits once at its end (the engine wraps one ingest batch in one transaction)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS mentions(
  id TEXT PRIMARY KEY, text TEXT NOT NULL, title TEXT, channel TEXT, author TEXT, url TEXT,
  ts REAL NOT NULL, reposts INTEGER NOT NULL DEFAULT 0, comments INTEGER NOT NULL DEFAULT 0,
  likes INTEGER NOT NULL DEFAULT 0, views INTEGER NOT NULL DEFAULT 0,
  sentiment TEXT, topic TEXT, crisis_type TEXT, sentiment_confidence REAL, crisis_confidence REAL,
  scores TEXT, story_id TEXT, subjects TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS mentions_ts ON mentions(ts);
CREATE INDEX IF NOT EXISTS mentions_story ON mentions(story_id);
CREATE TABLE IF NOT EXISTS mention_subjects(
  subject TEXT NOT NULL, mention_id TEXT NOT NULL, ts REAL NOT NULL,
  story_start INTEGER NOT NULL, negative INTEGER NOT NULL, PRIMARY KEY(subject, mention_id));
CREATE INDEX IF NOT EXISTS mention_subjects_ts ON mention_subjects(subject, ts);
CREATE TABLE IF NOT EXISTS stories(
  id TEXT PRIMARY KEY, first_ts REAL NOT NULL, last_ts REAL NOT NULL, mentions INTEGER NOT NULL,
  reposts INTEGER NOT NULL, views INTEGER NOT NULL, signature BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS stories_last ON stories(last_ts);
CREATE TABLE IF NOT EXISTS alerts(
  id TEXT PRIMARY KEY, subject TEXT NOT NULL, rule TEXT NOT NULL, ts REAL NOT NULL, fired_at TEXT NOT NULL,
  incident_id TEXT, severity TEXT, crisis_type TEXT, drivers TEXT NOT NULL, mention_ids TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS alerts_subject_ts ON alerts(subject, ts);
CREATE TABLE IF NOT EXISTS incidents(
  id TEXT PRIMARY KEY, subject TEXT NOT NULL, crisis_type TEXT NOT NULL, state TEXT NOT NULL,
  opened_ts REAL NOT NULL, last_alert_ts REAL NOT NULL, resolved_ts REAL, resolved_by TEXT,
  severity TEXT NOT NULL, severity_reasons TEXT NOT NULL, description TEXT NOT NULL,
  graded_ts REAL NOT NULL, silence_alerted INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS incidents_subject ON incidents(subject, state);
CREATE TABLE IF NOT EXISTS incident_mentions(
  incident_id TEXT NOT NULL, mention_id TEXT NOT NULL, ts REAL NOT NULL, PRIMARY KEY(incident_id, mention_id));
CREATE INDEX IF NOT EXISTS incident_mentions_ts ON incident_mentions(incident_id, ts);
CREATE TABLE IF NOT EXISTS incident_steps(
  incident_id TEXT NOT NULL, step_no INTEGER NOT NULL, action TEXT NOT NULL, owner TEXT NOT NULL,
  deadline_hours REAL NOT NULL, due_ts REAL NOT NULL, template TEXT, channels TEXT NOT NULL,
  done_by TEXT, done_ts REAL, overdue_notified INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(incident_id, step_no));
CREATE TABLE IF NOT EXISTS incident_timeline(
  incident_id TEXT NOT NULL, ts REAL NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL, ref TEXT);
CREATE INDEX IF NOT EXISTS incident_timeline_ts ON incident_timeline(incident_id, ts);
CREATE TABLE IF NOT EXISTS rule_state(
  subject TEXT NOT NULL, rule TEXT NOT NULL, last_fired_ts REAL NOT NULL, PRIMARY KEY(subject, rule));
"""

MENTION_COLUMNS = ("id", "text", "title", "channel", "author", "url", "ts", "reposts", "comments", "likes", "views",
                   "sentiment", "topic", "crisis_type", "sentiment_confidence", "crisis_confidence", "scores",
                   "story_id", "subjects")


class Store:
    def __init__(self, data_dir: str | Path, durable: bool = True):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.data_dir / "monitoring.db"
        # Autocommit mode: we open transactions ourselves, so a lone write is committed at once.
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before we return. NORMAL (replays, tests) stays consistent after a
        # crash but may lose the last commits on power loss; a replay can simply be run again.
        self.db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        self.db.executescript(SCHEMA)
        self._depth = 0

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Nested use joins the outer transaction; the outermost commits (or rolls back)."""
        if self._depth == 0:
            self.db.execute("BEGIN IMMEDIATE")
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self.db.execute("ROLLBACK")
            raise
        self._depth -= 1
        if self._depth == 0:
            self.db.execute("COMMIT")

    # ---- generic --------------------------------------------------------------------------------

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        return self.db.execute(sql, tuple(params)).fetchall()

    def scalar(self, sql: str, params: Iterable[Any] = ()) -> Any:
        row = self.db.execute(sql, tuple(params)).fetchone()
        return row[0] if row else None

    def execute(self, sql: str, params: Iterable[Any] = ()) -> None:
        with self.transaction():
            self.db.execute(sql, tuple(params))

    # ---- mentions -------------------------------------------------------------------------------

    def existing_ids(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in self.db.execute(f"SELECT id FROM mentions WHERE id IN ({marks})", chunk))
        return found

    def upsert_mention(self, row: dict) -> None:
        """Idempotent by id: a second write of the same mention replaces it (reach may have grown)."""
        values = [json.dumps(row[c], ensure_ascii=False) if c in ("scores", "subjects") and row[c] is not None
                  else row[c] for c in MENTION_COLUMNS]
        with self.transaction():
            self.db.execute(f"INSERT OR REPLACE INTO mentions({','.join(MENTION_COLUMNS)}) "
                            f"VALUES ({','.join('?' * len(MENTION_COLUMNS))})", values)

    def update_reach(self, mention_id: str, reposts: int, comments: int, likes: int, views: int) -> None:
        with self.transaction():
            self.db.execute("UPDATE mentions SET reposts=?, comments=?, likes=?, views=? WHERE id=?",
                            (reposts, comments, likes, views, mention_id))

    def link_subject(self, subject: str, mention_id: str, ts: float, story_start: bool, negative: bool) -> None:
        with self.transaction():
            self.db.execute("INSERT OR IGNORE INTO mention_subjects VALUES (?,?,?,?,?)",
                            (subject, mention_id, ts, int(story_start), int(negative)))

    def mentions(self, ids: Iterable[str], light: bool = False) -> list[dict]:
        """Mention rows by id, in the order asked (unknown ids are left out). `light` leaves out
        the scores and subject list (no JSON to decode: what grading and explaining need)."""
        ids = list(dict.fromkeys(ids))
        columns = ", ".join(c for c in MENTION_COLUMNS if c not in ("scores", "subjects")) if light else "*"
        rows: dict[str, dict] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            for r in self.db.execute(f"SELECT {columns} FROM mentions WHERE id IN ({','.join('?' * len(chunk))})", chunk):
                rows[r["id"]] = dict(r) if light else mention_row(r)
        return [rows[i] for i in ids if i in rows]

    def subject_window_rows(self, subject: str, since_ts: float) -> list[sqlite3.Row]:
        return self.query("SELECT s.mention_id, s.ts, s.story_start, s.negative, m.story_id FROM mention_subjects s "
                          "JOIN mentions m ON m.id=s.mention_id WHERE s.subject=? AND s.ts>=? ORDER BY s.ts, s.mention_id",
                          (subject, since_ts))

    def subject_first_ts(self, subject: str) -> float | None:
        return self.scalar("SELECT MIN(ts) FROM mention_subjects WHERE subject=?", (subject,))

    # ---- stories --------------------------------------------------------------------------------

    def insert_story(self, story_id: str, ts: float, reposts: int, views: int, signature: bytes) -> None:
        with self.transaction():
            self.db.execute("INSERT OR IGNORE INTO stories VALUES (?,?,?,?,?,?,?)",
                            (story_id, ts, ts, 1, reposts, views, signature))

    def grow_story(self, story_id: str, ts: float, reposts: int, views: int) -> None:
        with self.transaction():
            self.db.execute("UPDATE stories SET mentions=mentions+1, reposts=reposts+?, views=views+?, "
                            "last_ts=MAX(last_ts, ?), first_ts=MIN(first_ts, ?) WHERE id=?",
                            (reposts, views, ts, ts, story_id))

    def recent_stories(self, since_ts: float) -> list[sqlite3.Row]:
        return self.query("SELECT id, first_ts, last_ts, signature FROM stories WHERE last_ts>=? ORDER BY first_ts, id",
                          (since_ts,))

    def story_reach(self, story_ids: Iterable[str]) -> dict[str, tuple[int, int, int]]:
        """Story id -> (mentions, total reposts, total views)."""
        ids = list(dict.fromkeys(story_ids))
        out = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            for r in self.db.execute(f"SELECT id, mentions, reposts, views FROM stories WHERE id IN "
                                     f"({','.join('?' * len(chunk))})", chunk):
                out[r["id"]] = (r["mentions"], r["reposts"], r["views"])
        return out

    def latest_ts(self) -> float | None:
        return self.scalar("SELECT MAX(ts) FROM mentions")

    # ---- alerts and rule state ------------------------------------------------------------------

    def insert_alert(self, alert: dict) -> None:
        with self.transaction():
            self.db.execute("INSERT INTO alerts VALUES (?,?,?,?,?,?,?,?,?,?)", (
                alert["id"], alert["subject"], alert["rule"], alert["ts"], alert["fired_at"], alert["incident_id"],
                alert["severity"], alert["crisis_type"], json.dumps(alert["drivers"], ensure_ascii=False),
                json.dumps(alert["mention_ids"], ensure_ascii=False)))

    def alert_exists(self, alert_id: str) -> bool:
        return self.scalar("SELECT 1 FROM alerts WHERE id=?", (alert_id,)) is not None

    def alerts(self, where: str = "1=1", params: Iterable[Any] = ()) -> list[dict]:
        return [alert_row(r) for r in self.query(f"SELECT * FROM alerts WHERE {where} ORDER BY ts, id", params)]

    def last_fired(self, subject: str, rule: str) -> float | None:
        return self.scalar("SELECT last_fired_ts FROM rule_state WHERE subject=? AND rule=?", (subject, rule))

    def set_last_fired(self, subject: str, rule: str, ts: float) -> None:
        with self.transaction():
            self.db.execute("INSERT OR REPLACE INTO rule_state VALUES (?,?,?)", (subject, rule, ts))


def mention_row(r: sqlite3.Row) -> dict:
    row = dict(r)
    row["scores"] = json.loads(row["scores"]) if row["scores"] else None
    row["subjects"] = json.loads(row["subjects"])
    return row


def alert_row(r: sqlite3.Row) -> dict:
    row = dict(r)
    row["drivers"] = json.loads(row["drivers"])
    row["mention_ids"] = json.loads(row["mention_ids"])
    return row
