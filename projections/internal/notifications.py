"""The outbox of notifications to applicants (RULES.md Art. 9, 15, 16, 29): a follower of the
internal notification log, and the delivery status of every message.

Two kinds of table, kept apart on purpose:

- ``notification_cases`` and ``notification_outbox`` are *derived*: one row per case (where its
  messages go, as a sealed reference) and one per message (template and facts, from
  projections.internal.notification_messages). Written with the tracking position in one
  transaction under a compare-and-set (projections.internal.tracking); dropped and replayed
  by ``rebuild`` to the same rows.
- ``notification_delivery`` (projections.internal.notification_delivery) records what
  happened in the world outside, which no event says, so it cannot be rebuilt: ``rebuild``
  never drops it, and the follower only adds a pending row for a message that has none. A
  message sent before a rebuild stays sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from eventsourcing.persistence import Notification

from projections.internal.notification_delivery import (
    DELIVERY_SCHEMA,
    Delivery,
    DeliveryRecord,
    utc,
)
from projections.internal.notification_messages import case_of, notice_for
from projections.internal.tracking import RebuildableFollower
from projections.store import Tx

NAME = "notification_outbox"
TOPIC_PREFIXES = ("firegov:Filing.", "firegov:Booking.")
DERIVED = ["notification_outbox", "notification_cases"]
SCHEMA = [
    """CREATE TABLE IF NOT EXISTS notification_cases (
        case_id TEXT PRIMARY KEY,
        receipt_number TEXT NOT NULL UNIQUE,
        case_type TEXT NOT NULL,
        kind TEXT NOT NULL,
        route TEXT NOT NULL,
        agency TEXT NOT NULL,
        received_at TEXT NOT NULL,
        recipient TEXT NOT NULL,
        recipient_subject TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS notification_outbox (
        id TEXT PRIMARY KEY,
        receipt_number TEXT NOT NULL,
        case_type TEXT NOT NULL,
        agency TEXT NOT NULL,
        template TEXT NOT NULL,
        params TEXT NOT NULL,
        recipient TEXT NOT NULL,
        recipient_subject TEXT NOT NULL,
        event_at TEXT NOT NULL,
        position BIGINT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS notification_outbox_case ON notification_outbox (receipt_number)",
]


class Outbox(RebuildableFollower, DeliveryRecord):
    """The follower that fills the outbox, and the delivery record of its messages.

    The delivery table is in the schema (created with the others) but not derived: a rebuild
    creates it if missing and otherwise leaves it as it is."""

    name = NAME
    schema = (*SCHEMA, *DELIVERY_SCHEMA)
    derived = DERIVED

    def apply(self, tx: Tx, notifications: Sequence[Notification], start: int) -> None:
        """Add the messages of the filings' and bookings' events in ``notifications``."""
        for notification in notifications:
            if notification.topic.startswith(TOPIC_PREFIXES):
                event = self.app.mapper.to_domain_event(notification)
                self._apply(tx, event, notification.id)

    @staticmethod
    def _apply(tx: Tx, event: Any, position: int) -> None:
        opened = case_of(event)
        if opened is not None:
            columns = list(opened)
            tx.execute(
                f"INSERT INTO notification_cases ({', '.join(columns)}) "  # noqa: S608 - fixed names
                f"VALUES ({', '.join('?' for _ in columns)})",
                [opened[c] for c in columns],
            )
        case = opened or tx.fetchone(
            "SELECT * FROM notification_cases WHERE case_id = ?", [str(event.originator_id)]
        )
        notice = notice_for(event, case)
        if notice is None or case is None:
            return
        message_id = f"{case['receipt_number']}#{event.originator_version}"
        event_at = utc(event.timestamp)
        tx.execute(
            "INSERT INTO notification_outbox (id, receipt_number, case_type, agency, template,"
            " params, recipient, recipient_subject, event_at, position)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                message_id, case["receipt_number"], case["case_type"], case["agency"],
                notice.template, orjson.dumps(notice.params).decode(), case["recipient"],
                case["recipient_subject"], event_at, position,
            ],
        )  # fmt: skip
        # Only a message without a delivery record gets one: a rebuild keeps what was sent.
        tx.execute(
            "INSERT INTO notification_delivery (id, status, attempts, next_attempt_at,"
            " updated_at) VALUES (?, ?, 0, ?, ?) ON CONFLICT (id) DO NOTHING",
            [message_id, str(Delivery.PENDING), event_at, event_at],
        )

    # -- queries -------------------------------------------------------------------------------

    def case(self, receipt_number: str) -> dict[str, Any] | None:
        """The case's type and agency (to authorise a reader), or None if it has no messages."""
        with self.store.reading() as tx:
            return tx.fetchone(
                "SELECT case_type, agency FROM notification_cases WHERE receipt_number = ?",
                [receipt_number],
            )

    def messages(self, receipt_number: str | None = None) -> list[dict[str, Any]]:
        """The messages (of one case, or all) with their delivery status, oldest first."""
        sql = (
            "SELECT o.id, o.receipt_number, o.case_type, o.agency, o.template, o.params,"
            " o.recipient, o.recipient_subject, o.event_at, o.position, d.status, d.attempts,"
            " d.next_attempt_at, d.last_error, d.sender, d.text, d.sent_at"
            " FROM notification_outbox o JOIN notification_delivery d ON d.id = o.id"
        )
        params: list[Any] = []
        if receipt_number is not None:
            sql += " WHERE o.receipt_number = ?"
            params.append(receipt_number)
        with self.store.reading() as tx:
            rows = tx.fetchall(sql + " ORDER BY o.position, o.id", params)
        for row in rows:
            row["params"] = orjson.loads(row["params"])
        return rows

    def derived_rows(self) -> dict[str, list[dict[str, Any]]]:
        """Every derived row, for comparing a rebuild with incremental following."""
        with self.store.reading() as tx:
            return {
                table: tx.fetchall(f"SELECT * FROM {table} ORDER BY 1")  # noqa: S608 - fixed
                for table in DERIVED
            }
