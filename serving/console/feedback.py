"""Analysts' label corrections: one SQLite file `<data_dir>/console/feedback.db`, and their export
as training rows for `yuqing train --data`.

Every correction is kept (mention id, task, old label, new label, who, when, and the text as it
was corrected); the export takes the latest correction of each (mention, task) and writes one
JSONL line per mention with its text and only the corrected labels, so the model's own guesses
never come back as training data (a task left out is masked in the loss)."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

from yuqing.labels import TASKS

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback(
  id INTEGER PRIMARY KEY AUTOINCREMENT, mention_id TEXT NOT NULL, task TEXT NOT NULL, old TEXT, new TEXT NOT NULL,
  who TEXT NOT NULL, at TEXT NOT NULL, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS feedback_mention ON feedback(mention_id, task, id);
"""


class FeedbackError(ValueError):
    pass


def feedback_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / "console" / "feedback.db"


class FeedbackStore:
    def __init__(self, data_dir: str | Path):
        self.path = feedback_path(data_dir)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def correct(self, mention_id: str, task: str, old: str | None, new: str, who: str, text: str,
                at: datetime | None = None) -> dict:
        if task not in TASKS:
            raise FeedbackError(f"未知任务 {task!r}（可选：{', '.join(TASKS)}）")
        if new not in TASKS[task]:
            raise FeedbackError(f"{task} 没有标签 {new!r}")
        if new == old:
            raise FeedbackError("新标签与当前标签相同，未记录")
        when = (at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
        with self._lock:
            cursor = self.db.execute("INSERT INTO feedback(mention_id, task, old, new, who, at, text) VALUES (?,?,?,?,?,?,?)",
                                     (mention_id, task, old, new, who, when, text))
        return {"id": cursor.lastrowid, "mention_id": mention_id, "task": task, "old": old, "new": new, "who": who, "at": when}

    def latest(self, mention_ids: list[str]) -> dict[str, dict[str, dict]]:
        """mention id -> task -> its latest correction."""
        out: dict[str, dict[str, dict]] = {}
        ids = list(dict.fromkeys(mention_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            with self._lock:
                rows = self.db.execute(f"SELECT * FROM feedback WHERE mention_id IN ({','.join('?' * len(chunk))}) "
                                       "ORDER BY id", chunk).fetchall()
            for row in rows:
                out.setdefault(row["mention_id"], {})[row["task"]] = dict(row)
        return out

    def recent(self, limit: int = 200) -> list[dict]:
        with self._lock:
            return [dict(r) for r in self.db.execute("SELECT * FROM feedback ORDER BY id DESC LIMIT ?", (limit,))]

    def count(self) -> int:
        with self._lock:
            return self.db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0]

    def training_rows(self) -> list[dict]:
        """One row per corrected mention: id, text and the latest corrected label of each task."""
        rows: dict[str, dict] = {}
        with self._lock:
            records = self.db.execute("SELECT * FROM feedback ORDER BY id").fetchall()
        for record in records:
            row = rows.setdefault(record["mention_id"], {"id": record["mention_id"], "text": record["text"]})
            row[record["task"]] = record["new"]
            row["text"] = record["text"]
            row["corrected_by"] = record["who"]
            row["corrected_at"] = record["at"]
        return [{"id": r["id"], "text": r["text"], **{t: r[t] for t in TASKS if t in r},
                 "source": "analyst-feedback", "corrected_by": r["corrected_by"], "corrected_at": r["corrected_at"]}
                for r in rows.values()]


def export_feedback(data_dir: str | Path, path: str | Path) -> int:
    """Write the analysts' corrections under `data_dir` as JSONL training rows to `path`
    (`{"id", "text", <task>: <corrected label>…, "source", "corrected_by", "corrected_at"}`; the
    extra keys are ignored by `yuqing train --data`). Returns the number of rows written."""
    source = feedback_path(data_dir)
    rows: list[dict] = []
    if source.exists():
        store = FeedbackStore(data_dir)
        try:
            rows = store.training_rows()
        finally:
            store.close()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(rows)
