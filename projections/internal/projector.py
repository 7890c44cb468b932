"""Follows the internal notification log into the staff console's read models.

The projector pulls (SQLite has no subscription); each batch and its new tracking position are
written in one transaction, with a compare-and-set on the position so that two projectors never
apply the same notification twice. ``rebuild`` drops the tables and replays from the start and
gives the same rows as incremental processing.

The filings (projections.internal.filings), the bookings (projections.internal.bookings) and
the quarantined submissions (projections.internal.quarantine) read models share the tracking
position and each batch's transaction.

Nothing here needs the working-day calendar: deadlines are computed by the queries, so no event
can stop the projector for want of a calendar year.
"""

from __future__ import annotations

import threading
from types import ModuleType
from typing import Any

import structlog
from eventsourcing.application import Application

from projections.internal import bookings, filings, quarantine
from projections.store import Tx, ViewStore

log = structlog.get_logger()
NAME = "internal_views"
TRACKING = (
    "CREATE TABLE IF NOT EXISTS view_tracking (name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
)


# Each read model: the topic prefix of its events, its module (SCHEMA, TABLES, project,
# history_row), its row table and its history table (None: the model keeps no history).
MODELS: list[tuple[str, ModuleType, str, str | None]] = [
    ("firegov:Filing.", filings, "view_filings", "view_filing_history"),
    (bookings.TOPIC_PREFIX, bookings, "view_bookings", "view_booking_history"),
    (quarantine.TOPIC_PREFIX, quarantine, "view_quarantine", None),
]


def _model(topic: str) -> tuple[ModuleType, str, str | None] | None:
    for prefix, module, table, history in MODELS:
        if topic.startswith(prefix):
            return module, table, history
    return None


def _upsert(tx: Tx, table: str, row: dict[str, Any], key: str) -> None:
    columns = list(row)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
    tx.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)}) "  # noqa: S608 - fixed identifiers
        f"ON CONFLICT ({key}) DO UPDATE SET {updates}",
        [row[c] for c in columns],
    )


class InternalProjector:
    def __init__(self, app: Application[Any], store: ViewStore) -> None:
        self.app = app
        self.store = store
        self.ensure_schema()

    def ensure_schema(self) -> None:
        with self.store.transaction() as tx:
            self._create_schema(tx)

    @staticmethod
    def _create_schema(tx: Tx) -> None:
        tx.execute(TRACKING)
        for _, module, _, _ in MODELS:
            for statement in module.SCHEMA:
                tx.execute(statement)
        tx.execute(
            "INSERT INTO view_tracking (name, position) VALUES (?, 0)"
            " ON CONFLICT (name) DO NOTHING",
            [NAME],
        )

    def position(self) -> int:
        with self.store.reading() as tx:
            row = tx.fetchone("SELECT position FROM view_tracking WHERE name = ?", [NAME])
        return int(row["position"]) if row else 0

    def catch_up(self, batch_size: int = 500) -> int:
        """Apply every notification not yet applied; returns the new position."""
        while True:
            applied = self._apply_batch(batch_size)
            if applied < batch_size:
                return self.position()

    def _apply_batch(self, batch_size: int) -> int:
        start = self.position()
        notifications = self.app.recorder.select_notifications(
            start=start + 1, limit=batch_size, topics=()
        )
        if not notifications:
            return 0
        with self.store.transaction() as tx:
            moved = tx.execute(
                "UPDATE view_tracking SET position = ? WHERE name = ? AND position = ?",
                [notifications[-1].id, NAME, start],
            )
            if moved != 1:
                return batch_size  # another projector took this batch; read again
            for notification in notifications:
                model = _model(notification.topic)
                if model is None:
                    continue
                event = self.app.mapper.to_domain_event(notification)
                self._apply(tx, *model, event, notification.id)
        return len(notifications)

    @staticmethod
    def _apply(
        tx: Tx,
        module: ModuleType,
        table: str,
        history_table: str | None,
        event: Any,
        position: int,
    ) -> None:
        row = tx.fetchone(
            f"SELECT * FROM {table} WHERE id = ?",  # noqa: S608 - fixed identifiers
            [str(event.originator_id)],
        )
        _upsert(tx, table, module.project(row, event), "id")
        if history_table is None:
            return
        history = module.history_row(event, position)
        tx.execute(
            f"INSERT INTO {history_table} ({', '.join(history)}) "  # noqa: S608
            f"VALUES ({', '.join('?' for _ in history)})",
            list(history.values()),
        )

    def rebuild(self) -> int:
        """Drop the read models and replay them from the start; returns the new position.

        Dropping, creating again and resetting the position are one transaction: a server
        reading meanwhile sees the old tables or the new empty ones, never no table at all.
        """
        with self.store.transaction() as tx:
            for _, module, _, _ in MODELS:
                for table in module.TABLES:
                    tx.execute(f"DROP TABLE IF EXISTS {table}")
            self._create_schema(tx)
            tx.execute("UPDATE view_tracking SET position = 0 WHERE name = ?", [NAME])
        return self.catch_up()

    def run(self, stop: threading.Event, interval: float = 0.5) -> None:
        """Poll until ``stop`` is set (the embedded store has no subscription).

        A failed round is logged and tried again at the next one: the position moves only with
        the rows, so nothing is lost, and the read models must not stop following for good.
        """
        while not stop.is_set():
            try:
                self.catch_up()
            except Exception:
                log.exception("internal_projector_failed")
            stop.wait(interval)
