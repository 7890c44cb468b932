"""Staff sessions: opaque random tokens (256 bits), kept server-side, ended by logout or after
the idle timeout (30 minutes by default). Only a hash of each token is stored, so reading the
table does not give anyone a session."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from domain.actor import Actor, Role
from projections.store import ViewStore

SCHEMA = """CREATE TABLE IF NOT EXISTS staff_sessions (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    role TEXT NOT NULL,
    agency TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen TEXT NOT NULL
)"""


TOUCH_GRANULARITY = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    def __init__(self, store: ViewStore, idle: timedelta) -> None:
        self.store = store
        self.idle = idle
        with store.transaction() as tx:
            tx.execute(SCHEMA)

    def open(self, actor: Actor, now: datetime) -> str:
        token = secrets.token_urlsafe(32)
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO staff_sessions VALUES (?, ?, ?, ?, ?, ?)",
                [_hash(token), actor.actor_id, str(actor.role), actor.agency,
                 now.isoformat(), now.isoformat()],
            )  # fmt: skip
        return token

    def touch(self, token: str, now: datetime) -> Actor | None:
        """The session's actor, sliding its idle timeout; None if unknown or idle too long."""
        key = _hash(token)
        with self.store.reading() as tx:
            row = tx.fetchone("SELECT * FROM staff_sessions WHERE token_hash = ?", [key])
        if row is None:
            return None
        idle_for = now - datetime.fromisoformat(row["last_seen"])
        if idle_for > self.idle:
            self.end(token)
            return None
        # Sliding the timeout to the minute is enough, and spares a write per request.
        if idle_for >= TOUCH_GRANULARITY:
            with self.store.transaction() as tx:
                tx.execute(
                    "UPDATE staff_sessions SET last_seen = ?"
                    " WHERE token_hash = ? AND last_seen = ?",
                    [now.isoformat(), key, row["last_seen"]],
                )
        return Actor(row["account_id"], Role(row["role"]), row["agency"])

    def end(self, token: str) -> None:
        with self.store.transaction() as tx:
            tx.execute("DELETE FROM staff_sessions WHERE token_hash = ?", [_hash(token)])
