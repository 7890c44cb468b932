"""A source that keeps failing logins across accounts is throttled (docs/security.md, "Login
lockout"): after ``max_failures`` failed logins from one client key within ``window``, whatever
the usernames (unknown ones too, which no account records), that source is refused with 429
and Retry-After until it falls below again. The account's own lock (domain.staff) is per
account and source; this one stops a source that sprays many accounts, a few guesses each.

A throttled attempt is refused before the password is looked at and counts nothing, so a
source keeps at most ``max_failures`` rows here at a time, and rows older than the window go
with the next failure: the table stays bounded by the sources that failed in the last window.
Kept in the sessions' store (not in a process's memory), so every worker process counts the
same failures and a restart forgets none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from projections.store import ViewStore

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS staff_login_failures (
        source TEXT NOT NULL, at DOUBLE PRECISION NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS staff_login_failures_source ON staff_login_failures (source, at)",
    "CREATE INDEX IF NOT EXISTS staff_login_failures_at ON staff_login_failures (at)",
)


class LoginThrottled(Exception):
    """Too many failed logins from this source: answered 429 with Retry-After."""

    code = "login_throttled"
    message_zh = "您所在的地址登录失败次数过多，请稍后再试"
    message_en = "too many failed logins from your address; try again later"

    def __init__(self, retry_after: int) -> None:
        super().__init__(self.message_en)
        self.retry_after = retry_after


@dataclass(frozen=True)
class FailingSource:
    """A source with failed logins in the current window, as the security administrator sees it."""

    source: str
    failures: int
    last_failed_at: datetime
    throttled_for: int  # seconds; 0: not throttled


class SourceThrottle:
    def __init__(self, store: ViewStore, max_failures: int, window: timedelta) -> None:
        self.store, self.max_failures, self.window = store, max_failures, window
        with store.transaction() as tx:
            for statement in SCHEMA:
                tx.execute(statement)

    def wait(self, source: str, now: datetime) -> int:
        """0 if ``source`` may try to log in now, else the seconds until it may."""
        with self.store.reading() as tx:
            rows = tx.fetchall(
                "SELECT at FROM staff_login_failures WHERE source = ? AND at > ?"
                " ORDER BY at DESC LIMIT ?",
                [source, (now - self.window).timestamp(), self.max_failures],
            )
        if len(rows) < self.max_failures:
            return 0
        # Below the limit again once the oldest of the newest max_failures leaves the window.
        free_at = float(rows[-1]["at"]) + self.window.total_seconds()
        return max(1, math.ceil(free_at - now.timestamp()))

    def failed(self, source: str, now: datetime) -> None:
        with self.store.transaction() as tx:
            tx.execute(
                "DELETE FROM staff_login_failures WHERE at <= ?",
                [(now - self.window).timestamp()],
            )
            tx.execute("INSERT INTO staff_login_failures VALUES (?, ?)", [source, now.timestamp()])

    def failing(self, now: datetime, limit: int = 100) -> list[FailingSource]:
        """The sources with failed logins in the window, the most failures first."""
        with self.store.reading() as tx:
            rows = tx.fetchall(
                "SELECT source, COUNT(*) AS failures, MAX(at) AS last FROM staff_login_failures"
                " WHERE at > ? GROUP BY source ORDER BY COUNT(*) DESC, MAX(at) DESC LIMIT ?",
                [(now - self.window).timestamp(), limit],
            )
        return [
            FailingSource(
                row["source"],
                int(row["failures"]),
                datetime.fromtimestamp(float(row["last"]), now.tzinfo),
                self.wait(row["source"], now) if row["failures"] >= self.max_failures else 0,
            )
            for row in rows
        ]
