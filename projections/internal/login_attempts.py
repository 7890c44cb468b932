"""The failed logins the security administrator sees (docs/security.md, "Login lockout"): per
account and source (the client key an attempt came from), how many failed logins in a row,
the first and the last, the last reason, and until when the account is locked for that source.
No password, no code: the events carry none.

A follower of its own (tracking name ``login_attempts``, projections.internal.tracking) over
the staff accounts' login events: a login from a source ends that source's row (the count
starts again, as the account's own does); a row whose last failure is older than
``RETENTION`` goes when a later failure is recorded, so the table holds what is recent. Both
follow from event times alone: replaying from the start (``rebuild``) gives the same rows.
Events from before sources were counted (class version 1) name none: they are shown under
``UNKNOWN_SOURCE``, and a lock among them locked every source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.persistence import Notification

from domain.staff import StaffAccount
from projections.internal.tracking import RebuildableFollower
from projections.store import Tx

NAME = "login_attempts"
OPENED = StaffAccount.Opened.TOPIC
FAILED = StaffAccount.LoginFailed.TOPIC
LOCKED = StaffAccount.Locked.TOPIC
LOGGED_IN = StaffAccount.LoggedIn.TOPIC
RETENTION = timedelta(days=30)
UNKNOWN_SOURCE = "（未记录）"
SCHEMA = [
    """CREATE TABLE IF NOT EXISTS view_login_accounts (
        account_id TEXT PRIMARY KEY, username TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS view_login_attempts (
        account_id TEXT NOT NULL, source TEXT NOT NULL, failures INTEGER NOT NULL,
        first_failed_at TEXT NOT NULL, last_failed_at TEXT NOT NULL, last_reason TEXT NOT NULL,
        locked_until TEXT, PRIMARY KEY (account_id, source))""",
    "CREATE INDEX IF NOT EXISTS view_login_attempts_last ON view_login_attempts (last_failed_at)",
]


def utc(moment: datetime) -> str:
    """Stored in UTC, so that the text sorts as the moments do."""
    return moment.astimezone(UTC).isoformat()


@dataclass(frozen=True)
class LoginAttempt:
    username: str
    account_id: str
    source: str
    failures: int  # in a row from this source, since its last login
    first_failed_at: datetime
    last_failed_at: datetime
    last_reason: str
    locked_until: datetime | None  # only while the lock lasts


class LoginAttempts(RebuildableFollower):
    name = NAME
    schema = SCHEMA
    derived = ("view_login_accounts", "view_login_attempts")
    topics = (OPENED, FAILED, LOCKED, LOGGED_IN)

    def apply(self, tx: Tx, notifications: Sequence[Notification], start: int) -> None:
        for notification in notifications:
            event: Any = self.app.mapper.to_domain_event(notification)
            account = str(event.originator_id)
            if notification.topic == OPENED:
                tx.execute(
                    "INSERT INTO view_login_accounts VALUES (?, ?) ON CONFLICT DO NOTHING",
                    [account, event.username],
                )
            elif notification.topic == FAILED:
                self._failed(tx, account, event)
            elif notification.topic == LOCKED and event.source is None:  # the whole account
                tx.execute(
                    "UPDATE view_login_attempts SET locked_until = ? WHERE account_id = ?",
                    [utc(event.until), account],
                )
            elif notification.topic == LOCKED:
                tx.execute(
                    "UPDATE view_login_attempts SET locked_until = ?"
                    " WHERE account_id = ? AND source = ?",
                    [utc(event.until), account, event.source],
                )
            elif event.source is None:  # a login of version 1 cleared every count
                tx.execute("DELETE FROM view_login_attempts WHERE account_id = ?", [account])
            else:
                tx.execute(
                    "DELETE FROM view_login_attempts WHERE account_id = ? AND source = ?",
                    [account, event.source],
                )

    @staticmethod
    def _failed(tx: Tx, account: str, event: Any) -> None:
        at = utc(event.timestamp)
        tx.execute(
            "DELETE FROM view_login_attempts WHERE last_failed_at < ?",
            [utc(event.timestamp - RETENTION)],
        )
        tx.execute(
            "INSERT INTO view_login_attempts VALUES (?, ?, 1, ?, ?, ?, NULL)"
            " ON CONFLICT (account_id, source) DO UPDATE SET"
            " failures = view_login_attempts.failures + 1,"
            " last_failed_at = excluded.last_failed_at, last_reason = excluded.last_reason",
            [account, event.source or UNKNOWN_SOURCE, at, at, event.reason],
        )

    def recent(self, now: datetime, limit: int = 200) -> list[LoginAttempt]:
        """The accounts and sources with failed logins, the latest first, as of now."""
        self.catch_up()
        with self.store.reading() as tx:
            rows = tx.fetchall(
                "SELECT a.*, u.username FROM view_login_attempts a"
                " LEFT JOIN view_login_accounts u ON u.account_id = a.account_id"
                " ORDER BY a.last_failed_at DESC, a.account_id, a.source LIMIT ?",
                [limit],
            )
        found = []
        for row in rows:
            until = datetime.fromisoformat(row["locked_until"]) if row["locked_until"] else None
            found.append(
                LoginAttempt(
                    username=row["username"] or row["account_id"],
                    account_id=row["account_id"],
                    source=row["source"],
                    failures=int(row["failures"]),
                    first_failed_at=datetime.fromisoformat(row["first_failed_at"]),
                    last_failed_at=datetime.fromisoformat(row["last_failed_at"]),
                    last_reason=row["last_reason"],
                    locked_until=until if until and now < until else None,
                )
            )
        return found
