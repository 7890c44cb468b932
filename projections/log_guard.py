"""A follower never skips an event silently (issue 16; DESIGN.md decision 5): one that finds the
notification log no longer holding what it has passed stops and says so.

A follower's position is the id of the last notification it has taken into account. Were the
log ever to hand an id out again (SQLite without AUTOINCREMENT gives a deleted last row's id to
the next event), the follower would read on from above it and skip the new event for ever; were
events deleted, its position would point past the log's end. So beside its position each
follower keeps a witness: the notification at its position (or, where ids skip numbers, the
last one below it it read), by id, originator and version, written in the transaction that
moves the position. Before each round it checks that the log's newest id is not below its
position and that the witness is still there, the same event.

If not, the follower records the stop in ``follower_stops``, logs ``follower_stopped`` (an
error) and raises ``LogWentBack`` on every round, moving nothing, until the log holds again what
it had passed (restored from a backup) or the follower is rebuilt from the start. The deployment
shows the stops (``firegov status``, the staff API's ``/health``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from eventsourcing.persistence import ApplicationRecorder, Notification

from projections.store import Tx, ViewStore

log = structlog.get_logger()
SCHEMA = [
    """CREATE TABLE IF NOT EXISTS follower_witness (
        name TEXT PRIMARY KEY, position BIGINT NOT NULL, originator_id TEXT NOT NULL,
        originator_version BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS follower_stops (
        name TEXT PRIMARY KEY, position BIGINT NOT NULL, newest BIGINT NOT NULL,
        reason TEXT NOT NULL, stopped_at TEXT NOT NULL)""",
]


@dataclass(frozen=True)
class Witness:
    """The notification at (or just below) a follower's position, as it was when passed."""

    position: int
    originator_id: str
    originator_version: int

    @classmethod
    def of(cls, notification: Notification) -> Witness:
        return cls(
            notification.id, str(notification.originator_id), notification.originator_version
        )

    def still(self, found: Sequence[Notification]) -> bool:
        return bool(found) and Witness.of(found[0]) == self


@dataclass(frozen=True)
class Stop:
    """A follower that stopped: where it stood, the log's newest id then, and why."""

    name: str
    position: int
    newest: int
    reason: str
    stopped_at: str


class LogWentBack(RuntimeError):
    """The log no longer holds what the follower has passed: it stopped, and moves nothing."""

    def __init__(self, stop: Stop) -> None:
        super().__init__(f"follower {stop.name} stopped at {stop.position}: {stop.reason}")
        self.stop = stop


def ensure_schema(tx: Tx) -> None:
    for statement in SCHEMA:
        tx.execute(statement)


def stops(store: ViewStore) -> list[Stop]:
    """Every follower stopped on this store, by name."""
    with store.reading() as tx:
        rows: list[dict[str, Any]] = tx.fetchall("SELECT * FROM follower_stops ORDER BY name")
    return [
        Stop(r["name"], int(r["position"]), int(r["newest"]), r["reason"], r["stopped_at"])
        for r in rows
    ]


class LogGuard:
    """The check of one follower (``name``) of the log that ``recorder`` keeps."""

    def __init__(self, name: str, recorder: ApplicationRecorder, store: ViewStore) -> None:
        self.name, self.recorder, self.store = name, recorder, store
        self._maybe_stopped = True  # a stop recorded before this process began is cleared once
        self._reported = False  # logged by this process already
        with store.transaction() as tx:
            ensure_schema(tx)

    def check(self, position: int) -> int:
        """The log's newest id, once the log still holds what the follower has passed at
        ``position``; otherwise the stop is recorded and ``LogWentBack`` raised."""
        newest = self.recorder.max_notification_id() or 0
        if newest < position:
            self._stop(position, newest, f"the log's newest id {newest} is below the position")
        witness = self._witness()
        if witness is not None and witness.position <= position:
            at = witness.position
            if not witness.still(self.recorder.select_notifications(start=at, limit=1, stop=at)):
                self._stop(
                    position,
                    newest,
                    f"notification {at}, already passed, is gone or is another event:"
                    " ids were reused or events deleted",
                )
        if self._maybe_stopped:
            self._resume()
        return newest

    def witness_for(self, position: int, read: Sequence[Notification]) -> Witness | None:
        """The witness of a move to ``position`` after reading ``read`` (asked of the log
        before the move's transaction); None keeps the one recorded."""
        if read and read[-1].id == position:
            return Witness.of(read[-1])
        found = self.recorder.select_notifications(start=position, limit=1, stop=position)
        if found:
            return Witness.of(found[0])
        return Witness.of(read[-1]) if read else None  # ids skip numbers (PostgreSQL)

    def record(self, tx: Tx, witness: Witness | None) -> None:
        """Keep ``witness`` in the transaction that moves the position."""
        if witness is None:
            return
        tx.execute(
            "INSERT INTO follower_witness (name, position, originator_id, originator_version)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position,"
            " originator_id = excluded.originator_id,"
            " originator_version = excluded.originator_version",
            [self.name, witness.position, witness.originator_id, witness.originator_version],
        )

    def forget(self, tx: Tx) -> None:
        """Back to the start (a rebuild): no witness, no stop."""
        tx.execute("DELETE FROM follower_witness WHERE name = ?", [self.name])
        tx.execute("DELETE FROM follower_stops WHERE name = ?", [self.name])

    def _witness(self) -> Witness | None:
        with self.store.reading() as tx:
            row = tx.fetchone("SELECT * FROM follower_witness WHERE name = ?", [self.name])
        if row is None:
            return None
        return Witness(int(row["position"]), row["originator_id"], int(row["originator_version"]))

    def _stop(self, position: int, newest: int, reason: str) -> None:
        stop = Stop(self.name, position, newest, reason, datetime.now(UTC).isoformat())
        with self.store.transaction() as tx:
            new = tx.execute(
                "INSERT INTO follower_stops (name, position, newest, reason, stopped_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
                [stop.name, stop.position, stop.newest, stop.reason, stop.stopped_at],
            )
        self._maybe_stopped = True
        if new == 1 or not self._reported:
            self._reported = True
            log.error(
                "follower_stopped", follower=self.name, position=position, newest=newest,
                reason=reason,
            )  # fmt: skip
        raise LogWentBack(stop)

    def _resume(self) -> None:
        with self.store.transaction() as tx:
            cleared = tx.execute("DELETE FROM follower_stops WHERE name = ?", [self.name])
        if cleared:
            log.warning("follower_resumed", follower=self.name)
        self._maybe_stopped = self._reported = False
