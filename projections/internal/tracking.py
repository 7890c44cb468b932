"""Following the internal notification log under a tracking position (DESIGN.md "Read side",
decision 5): what the staff views, the ledger, the slot counts and the notification outbox share.

Each follower owns one row of ``view_tracking (name, position)`` and moves it in the same
transaction as the rows it writes. The move is a compare-and-set from the position the round
started at: a follower that finds the position moved meanwhile (another follower, another
process or a rebuild took that stretch) writes nothing and reads the position again. So each
notification takes effect once however many followers race, and a follower that dies between
reading and writing loses nothing. On PostgreSQL the conditional update waits for a concurrent
one to commit and then finds the position taken; on SQLite writers queue for the one lock.

SQLite has no subscription (DESIGN.md "Known traps"), so followers poll ``select_notifications``.
A follower that reads only a few exact topics asks for them alone, up to the newest notification
id it saw first (ids become visible in commit order), so that it moves past a stretch without
any of its events and never reads it again.

Before each move the follower checks that the log still holds what it has passed
(projections.log_guard): ids are never reused, and one that finds otherwise stops and says so
instead of skipping an event.

A follower whose rows come from events alone is a ``RebuildableFollower``: ``rebuild`` drops its
derived tables and replays from the start to the same rows. The ledger is not one: it is the
tamper evidence of the log, and computing it again from the log as it is now would hide the
very rewrite it exists to show.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from projections.log_guard import LogGuard, stops
from projections.store import Tx, ViewStore

__all__ = ["RebuildableFollower", "TrackedFollower", "stops"]  # stops: for the staff API's health

TRACKING = (
    "CREATE TABLE IF NOT EXISTS view_tracking (name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
)


class TrackedFollower(ABC):
    """A follower of the notification log with its own tracking position (``name``).

    Subclasses name their tables' ``schema`` (``CREATE ... IF NOT EXISTS``), optionally the exact
    ``topics`` they read (none: every notification), and ``apply`` one batch inside the
    transaction that moves the position.
    """

    name: ClassVar[str]
    schema: ClassVar[Sequence[str]] = ()
    topics: ClassVar[Sequence[str]] = ()
    batch_size: int = 500

    def __init__(
        self, app: Application[Any], store: ViewStore, batch_size: int | None = None
    ) -> None:
        self.app = app
        self.store = store
        if batch_size is not None:
            self.batch_size = batch_size
        self.ensure_schema()
        self.guard = LogGuard(self.name, app.recorder, store)

    @abstractmethod
    def apply(self, tx: Tx, notifications: Sequence[Notification], start: int) -> None:
        """Write the effect of ``notifications``, the next ones after position ``start`` (the
        position this follower's rows stand at), in the transaction that moves the position."""

    def ensure_schema(self) -> None:
        """Create the tables and the tracking row if missing; idempotent."""
        with self.store.transaction() as tx:
            self._create_schema(tx)

    def _create_schema(self, tx: Tx) -> None:
        tx.execute(TRACKING)
        for statement in self.schema:
            tx.execute(statement)
        tx.execute(
            "INSERT INTO view_tracking (name, position) VALUES (?, 0)"
            " ON CONFLICT (name) DO NOTHING",
            [self.name],
        )

    def position(self) -> int:
        """The id of the last notification this follower has taken into account."""
        with self.store.reading() as tx:
            row = tx.fetchone("SELECT position FROM view_tracking WHERE name = ?", [self.name])
        return int(row["position"]) if row else 0

    def catch_up(self, batch_size: int | None = None) -> int:
        """Apply every notification not yet applied, batch by batch; returns the new position."""
        limit = batch_size or self.batch_size
        while True:
            start = self.position()
            self.guard.check(start)  # LogWentBack: stopped, nothing moves
            notifications, reached = self._next(start, limit)
            if reached == start:
                return start
            witness = self.guard.witness_for(reached, notifications)
            with self.store.transaction() as tx:
                moved = tx.execute(
                    "UPDATE view_tracking SET position = ? WHERE name = ? AND position = ?",
                    [reached, self.name, start],
                )
                if moved != 1:
                    continue  # another follower took this stretch: read the position again
                self.apply(tx, notifications, start)
                self.guard.record(tx, witness)
            if len(notifications) < limit:
                return reached

    def _next(self, start: int, limit: int) -> tuple[Sequence[Notification], int]:
        """The next batch after ``start`` and the position it reaches (``start``: nothing new)."""
        recorder = self.app.recorder
        if not self.topics:
            every = recorder.select_notifications(start=start + 1, limit=limit, topics=())
            return every, (every[-1].id if every else start)
        newest = recorder.max_notification_id() or 0
        if newest <= start:
            return [], start
        chosen = recorder.select_notifications(
            start=start + 1, limit=limit, stop=newest, topics=self.topics
        )
        # A full batch may stop short of the newest id; a short one has read the whole stretch.
        return chosen, (chosen[-1].id if len(chosen) == limit else newest)


class RebuildableFollower(TrackedFollower):
    """A follower whose ``derived`` tables come from events alone and can be replayed."""

    derived: ClassVar[Sequence[str]]

    def rebuild(self) -> int:
        """Drop the derived tables and replay them from the start; returns the new position.

        Dropping, creating again and resetting the position are one transaction: a reader
        meanwhile sees the old rows or the new empty tables, never no table at all. Tables of
        the schema that are not derived (a record of the world outside) are kept as they are.
        """
        with self.store.transaction() as tx:
            for table in self.derived:
                tx.execute(f"DROP TABLE IF EXISTS {table}")
            self._create_schema(tx)
            tx.execute("UPDATE view_tracking SET position = 0 WHERE name = ?", [self.name])
            self.guard.forget(tx)  # a stop is over: the replay reads the log as it is now
        return self.catch_up()
