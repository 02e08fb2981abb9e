"""SQLite tables for subscriptions and deliveries (the queue itself is huey's).

The deliveries table is the record of truth: what was published, each attempt's outcome, what is
dead. The queue only carries delivery ids, so a delivery the queue lost (a consumer killed mid-send)
is found again here and re-queued."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"

SCHEMA = """
create table if not exists subscriptions (
    id text primary key,
    url text not null,
    secret text not null,
    events text not null,              -- JSON list of event types, or ["*"]
    active integer not null default 1,
    description text not null default '',
    created_at text not null,
    updated_at text not null
);
create table if not exists deliveries (
    id text primary key,               -- stable: hash of event id and target
    event_id text not null,
    event_type text not null,
    target text not null,              -- subscription:<id> | channel:<name>
    channel text,                      -- inline channel config (JSON) when routing gave one
    body text not null,                -- the JSON envelope, sent byte-for-byte
    status text not null,              -- pending | delivered | dead
    attempts integer not null default 0,
    last_error text,
    next_attempt_at text,
    created_at text not null,
    updated_at text not null,
    delivered_at text
);
create index if not exists deliveries_status on deliveries (status, updated_at);
create table if not exists attempts (
    delivery_id text not null,
    attempt integer not null,
    at text not null,
    ok integer not null,
    error text,
    duration_ms integer not null
);
create index if not exists attempts_delivery on attempts (delivery_id);
"""


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds") if moment else None


@dataclass(frozen=True)
class Subscription:
    id: str
    url: str
    secret: str
    events: list[str]
    active: bool
    description: str
    created_at: str

    def wants(self, event_type: str) -> bool:
        return self.active and ("*" in self.events or event_type in self.events)

    def public(self) -> dict:
        """For listings: the secret is only shown when created or rotated."""
        return {"id": self.id, "url": self.url, "events": self.events, "active": self.active,
                "description": self.description, "created_at": self.created_at,
                "secret": self.secret[:6] + "…"}


@dataclass(frozen=True)
class Delivery:
    id: str
    event_id: str
    event_type: str
    target: str
    channel: dict | None
    body: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: str | None
    created_at: str
    updated_at: str
    delivered_at: str | None

    def summary(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("body", "channel")}


def _subscription(row: sqlite3.Row) -> Subscription:
    return Subscription(row["id"], row["url"], row["secret"], json.loads(row["events"]),
                        bool(row["active"]), row["description"], row["created_at"])


def _delivery(row: sqlite3.Row) -> Delivery:
    fields = dict(row)
    fields["channel"] = json.loads(fields["channel"]) if fields["channel"] else None
    return Delivery(**fields)


@dataclass(frozen=True)
class NewDelivery:
    id: str
    event_id: str
    event_type: str
    target: str
    channel: dict | None
    body: str


class DeliveryStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute("pragma journal_mode=wal")  # readers (CLI, HTTP) never block the consumer
            db.executescript(SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A connection per operation: cheap for SQLite, and safe across the consumer's threads."""
        db = sqlite3.connect(self.path, timeout=10)
        db.row_factory = sqlite3.Row
        try:
            with db:  # commit, or roll back on error
                yield db
        finally:
            db.close()

    # ---- subscriptions ----------------------------------------------------------------------

    def add_subscription(self, sub: Subscription) -> None:
        now = iso(utcnow())
        with self._db() as db:
            db.execute("insert into subscriptions values (?,?,?,?,?,?,?,?)",
                       (sub.id, sub.url, sub.secret, json.dumps(sub.events), int(sub.active),
                        sub.description, sub.created_at, now))

    def subscriptions(self) -> list[Subscription]:
        with self._db() as db:
            return [_subscription(r) for r in db.execute("select * from subscriptions order by created_at")]

    def subscription(self, sub_id: str) -> Subscription | None:
        with self._db() as db:
            row = db.execute("select * from subscriptions where id = ?", (sub_id,)).fetchone()
        return _subscription(row) if row else None

    def update_subscription(self, sub_id: str, **fields) -> bool:
        if "events" in fields:
            fields["events"] = json.dumps(fields["events"])
        if "active" in fields:
            fields["active"] = int(fields["active"])
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self._db() as db:
            cursor = db.execute(f"update subscriptions set {assignments}, updated_at = ? where id = ?",
                                (*fields.values(), iso(utcnow()), sub_id))
        return cursor.rowcount == 1

    def delete_subscription(self, sub_id: str) -> bool:
        with self._db() as db:
            return db.execute("delete from subscriptions where id = ?", (sub_id,)).rowcount == 1

    # ---- deliveries -------------------------------------------------------------------------

    def insert_deliveries(self, rows: list[NewDelivery]) -> list[str]:
        """Insert in one transaction; return the ids that are new (a re-published event's
        deliveries already exist and are not queued twice)."""
        now = iso(utcnow())
        inserted = []
        with self._db() as db:
            for row in rows:
                cursor = db.execute(
                    "insert or ignore into deliveries (id, event_id, event_type, target, channel, body, status,"
                    " created_at, updated_at) values (?,?,?,?,?,?,?,?,?)",
                    (row.id, row.event_id, row.event_type, row.target,
                     json.dumps(row.channel, ensure_ascii=False) if row.channel else None,
                     row.body, PENDING, now, now))
                if cursor.rowcount:
                    inserted.append(row.id)
        return inserted

    def delivery(self, delivery_id: str) -> Delivery | None:
        with self._db() as db:
            row = db.execute("select * from deliveries where id = ?", (delivery_id,)).fetchone()
        return _delivery(row) if row else None

    def deliveries(self, status: str | None = None, limit: int = 100) -> list[Delivery]:
        query, params = "select * from deliveries", []
        if status:
            query, params = query + " where status = ?", [status]
        with self._db() as db:
            rows = db.execute(query + " order by created_at desc, id limit ?", (*params, limit))
            return [_delivery(r) for r in rows]

    def attempts(self, delivery_id: str) -> list[dict]:
        with self._db() as db:
            rows = db.execute("select * from attempts where delivery_id = ? order by attempt", (delivery_id,))
            return [dict(r) for r in rows]

    def begin_attempt(self, delivery_id: str) -> int | None:
        """Count an attempt on a pending delivery; None when it is no longer pending (a duplicate
        queue entry for a delivery that already went out, or one that is dead)."""
        with self._db() as db:
            row = db.execute(
                "update deliveries set attempts = attempts + 1, updated_at = ? where id = ? and status = ?"
                " returning attempts", (iso(utcnow()), delivery_id, PENDING)).fetchone()
        return row[0] if row else None

    def finish_attempt(self, delivery_id: str, attempt: int, *, error: str | None, duration_ms: int,
                       status: str = PENDING, next_attempt_at: datetime | None = None) -> None:
        now = iso(utcnow())
        with self._db() as db:
            db.execute("insert into attempts values (?,?,?,?,?,?)",
                       (delivery_id, attempt, now, int(error is None), error, duration_ms))
            db.execute(
                "update deliveries set status = ?, last_error = coalesce(?, last_error), next_attempt_at = ?,"
                " updated_at = ?, delivered_at = case when ? = 'delivered' then ? else delivered_at end"
                " where id = ?",
                (status, error, iso(next_attempt_at), now, status, now, delivery_id))

    def reopen(self, delivery_id: str) -> bool:
        """A dead delivery becomes pending again with a fresh attempt budget (replay)."""
        with self._db() as db:
            cursor = db.execute(
                "update deliveries set status = ?, attempts = 0, next_attempt_at = null, updated_at = ?"
                " where id = ? and status = ?", (PENDING, iso(utcnow()), delivery_id, DEAD))
        return cursor.rowcount == 1

    def stale_pending(self, older_than: timedelta) -> list[str]:
        """Pending deliveries untouched for a while: candidates the queue may have lost."""
        cutoff = iso(utcnow() - older_than)
        with self._db() as db:
            rows = db.execute("select id from deliveries where status = ? and updated_at <= ?"
                              " order by created_at", (PENDING, cutoff))
            return [r[0] for r in rows]

    def counts(self) -> dict[str, int]:
        with self._db() as db:
            return dict(db.execute("select status, count(*) from deliveries group by status").fetchall())
