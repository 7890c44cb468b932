"""Staff sessions: opaque random tokens (256 bits), kept server-side, ended by logout, after
the idle timeout (30 minutes by default), and after their absolute lifetime (12 hours by
default) whatever the activity (MLPS 等保: a session does not live for ever by being used).
Only a hash of each token is stored, so reading the table does not give anyone a session.

Beside them, the login tickets of domain.services.staff_login ("password verified, code
pending"): the same kind of token, hashed the same way, with the account, an expiry and the
attempts left, and nothing of the password. Kept in the same store as the sessions (not in a
process's memory), so the second step of a login may reach any worker process.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from domain.actor import Actor, Role
from domain.services.staff_login import HeldTicket
from projections.store import ViewStore

SCHEMA = """CREATE TABLE IF NOT EXISTS staff_sessions (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    role TEXT NOT NULL,
    agency TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen TEXT NOT NULL
)"""


TICKETS_SCHEMA = """CREATE TABLE IF NOT EXISTS staff_login_tickets (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    role TEXT,
    expires_at BIGINT NOT NULL,
    attempts_left INTEGER NOT NULL
)"""


TOUCH_GRANULARITY = timedelta(minutes=1)
DEFAULT_LIFETIME = timedelta(hours=12)


class Ended(StrEnum):
    """Why a token no longer opens a session."""

    UNKNOWN = "unknown"  # never opened, logged out, or ended before
    IDLE = "idle"  # nothing done for longer than the idle timeout
    LIFETIME = "lifetime"  # opened longer ago than the absolute lifetime


@dataclass(frozen=True)
class Session:
    actor: Actor
    ends_by: datetime  # its absolute end, however active it stays


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _instant(moment: datetime) -> int:
    """Microseconds since the epoch: compared in SQL alike on SQLite and PostgreSQL."""
    return round(moment.timestamp() * 1_000_000)


class LoginTicketStore:
    """domain.services.staff_login.LoginTickets over the sessions' store."""

    def __init__(self, store: ViewStore) -> None:
        self.store = store
        with store.transaction() as tx:
            tx.execute(TICKETS_SCHEMA)

    def issue(
        self, account_id: str, role: str | None, now: datetime, expires_at: datetime, attempts: int
    ) -> str:
        token = secrets.token_urlsafe(32)
        with self.store.transaction() as tx:
            # Tickets that ran out go when the next one is issued: nothing else has to sweep.
            tx.execute("DELETE FROM staff_login_tickets WHERE expires_at <= ?", [_instant(now)])
            tx.execute(
                "INSERT INTO staff_login_tickets VALUES (?, ?, ?, ?, ?)",
                [_hash(token), account_id, role, _instant(expires_at), attempts],
            )
        return token

    def find(self, ticket: str, now: datetime) -> HeldTicket | None:
        with self.store.reading() as tx:
            row = tx.fetchone(
                "SELECT * FROM staff_login_tickets"
                " WHERE token_hash = ? AND expires_at > ? AND attempts_left > 0",
                [_hash(ticket), _instant(now)],
            )
        return self._held(row)

    def take_attempt(self, ticket: str, now: datetime) -> HeldTicket | None:
        key = _hash(ticket)
        with self.store.transaction() as tx:
            # One statement: parallel attempts with one ticket never take more than it has.
            taken = tx.execute(
                "UPDATE staff_login_tickets SET attempts_left = attempts_left - 1"
                " WHERE token_hash = ? AND expires_at > ? AND attempts_left > 0",
                [key, _instant(now)],
            )
            row = tx.fetchone("SELECT * FROM staff_login_tickets WHERE token_hash = ?", [key])
        return self._held(row) if taken == 1 else None

    def spend(self, ticket: str) -> bool:
        with self.store.transaction() as tx:
            gone = tx.execute(
                "DELETE FROM staff_login_tickets WHERE token_hash = ?", [_hash(ticket)]
            )
        return gone == 1

    @staticmethod
    def _held(row: dict[str, Any] | None) -> HeldTicket | None:
        if row is None:
            return None
        return HeldTicket(
            account_id=row["account_id"],
            role=row["role"],
            expires_at=datetime.fromtimestamp(int(row["expires_at"]) / 1_000_000, UTC),
            attempts_left=int(row["attempts_left"]),
        )


class SessionStore:
    def __init__(
        self, store: ViewStore, idle: timedelta, lifetime: timedelta = DEFAULT_LIFETIME
    ) -> None:
        self.store = store
        self.idle = idle
        self.lifetime = lifetime
        with store.transaction() as tx:
            tx.execute(SCHEMA)
        self.tickets = LoginTicketStore(store)

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
        """The session's actor, sliding its idle timeout; None if it has ended."""
        found = self.resume(token, now)
        return found.actor if isinstance(found, Session) else None

    def resume(self, token: str, now: datetime) -> Session | Ended:
        """The session, its idle timeout slid; or why it has ended (and it is gone)."""
        key = _hash(token)
        with self.store.reading() as tx:
            row = tx.fetchone("SELECT * FROM staff_sessions WHERE token_hash = ?", [key])
        if row is None:
            return Ended.UNKNOWN
        idle_for = now - datetime.fromisoformat(row["last_seen"])
        ends_by = datetime.fromisoformat(row["created_at"]) + self.lifetime
        ended = Ended.IDLE if idle_for > self.idle else Ended.LIFETIME if now >= ends_by else None
        if ended is not None:
            self.end(token)
            return ended
        # Sliding the timeout to the minute is enough, and spares a write per request.
        if idle_for >= TOUCH_GRANULARITY:
            with self.store.transaction() as tx:
                tx.execute(
                    "UPDATE staff_sessions SET last_seen = ?"
                    " WHERE token_hash = ? AND last_seen = ?",
                    [now.isoformat(), key, row["last_seen"]],
                )
        return Session(Actor(row["account_id"], Role(row["role"]), row["agency"]), ends_by)

    def end(self, token: str) -> None:
        with self.store.transaction() as tx:
            tx.execute("DELETE FROM staff_sessions WHERE token_hash = ?", [_hash(token)])
