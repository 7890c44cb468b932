"""Follows the internal notification log into the staff console's read models.

The projector pulls (SQLite has no subscription); each batch and its new tracking position are
written in one transaction, with a compare-and-set on the position so that two projectors never
apply the same notification twice (projections.internal.tracking). ``rebuild`` drops the tables
and replays from the start and gives the same rows as incremental processing.

The filings (projections.internal.filings), the bookings (projections.internal.bookings) and
the quarantined submissions (projections.internal.quarantine) read models share the tracking
position and each batch's transaction, with the documents the cases' events name
(projections.internal.document_references).

Nothing here needs the working-day calendar: deadlines are computed by the queries, so no event
can stop the projector for want of a calendar year.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import structlog
from eventsourcing.persistence import Notification

from projections.internal import bookings, document_references, filings, quarantine
from projections.internal.tracking import RebuildableFollower
from projections.store import Tx

log = structlog.get_logger()
NAME = "internal_views"


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


class InternalProjector(RebuildableFollower):
    """The staff console's read models: one tracking position for all of them."""

    name = NAME
    schema = (
        *(statement for _, module, _, _ in MODELS for statement in module.SCHEMA),
        *document_references.SCHEMA,
    )
    derived = (
        *(table for _, module, _, _ in MODELS for table in module.TABLES),
        *document_references.TABLES,
    )

    def apply(self, tx: Tx, notifications: Sequence[Notification], start: int) -> None:
        for notification in notifications:
            model = _model(notification.topic)
            if model is None:
                continue
            event = self.app.mapper.to_domain_event(notification)
            self._apply(tx, *model, event, notification.id)

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
        projected = module.project(row, event)
        _upsert(tx, table, projected, "id")
        # The documents a case's events name, for the console's document view.
        document_references.record(tx, event, projected, position)
        if history_table is None:
            return
        history = module.history_row(event, position)
        tx.execute(
            f"INSERT INTO {history_table} ({', '.join(history)}) "  # noqa: S608
            f"VALUES ({', '.join('?' for _ in history)})",
            list(history.values()),
        )

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
