"""The delivery record of notifications to applicants: what happened to each message of the
outbox (projections.internal.notifications) in the world outside.

``notification_delivery`` holds one row per message: pending, sending, sent, failed,
recipient_erased or expired, with the attempts, the next attempt's time, the last error (masked
by the worker) and the text that went out. No event says that an SMS went out, so this table is
not rebuilt from the log: the outbox's rebuild never drops it.

Several delivery workers may run: each claims due messages with a conditional update (status
and time re-checked in the ``WHERE``), which on PostgreSQL waits for a concurrent claim to
commit and then finds the row taken, and on SQLite runs under the writer's lock. A claim is a
lease: a worker that dies while sending leaves the message to be tried again when the lease
runs out (``attempts`` counts it).

Times are stored as UTC ISO text of one fixed width, so comparing the text compares the times.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import orjson

from projections.store import ViewStore

DELIVERY_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS notification_delivery (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at TEXT NOT NULL,
        last_error TEXT,
        claim TEXT,
        claimed_until TEXT,
        sender TEXT,
        text TEXT,
        sent_at TEXT,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS notification_delivery_due"
    " ON notification_delivery (status, next_attempt_at)",
]


class Delivery(StrEnum):
    PENDING = "pending"  # 待发送（含等待重试）
    SENDING = "sending"  # 发送中（已被某个发送进程领取）
    SENT = "sent"  # 已发送
    FAILED = "failed"  # 多次尝试后发送失败
    RECIPIENT_ERASED = "recipient_erased"  # 联系人个人信息已删除，不再发送
    EXPIRED = "expired"  # 事件过久，不再发送


DELIVERY_NAMES_ZH = {
    Delivery.PENDING: "待发送",
    Delivery.SENDING: "发送中",
    Delivery.SENT: "已发送",
    Delivery.FAILED: "发送失败",
    Delivery.RECIPIENT_ERASED: "联系人信息已删除，未发送",
    Delivery.EXPIRED: "已过时效，未发送",
}


def utc(moment: datetime) -> str:
    """Fixed-width UTC ISO text: comparing two such texts compares the times."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Claimed:
    """A message a worker holds for one attempt; ``attempt`` counts this one."""

    id: str
    receipt_number: str
    template: str
    params: dict[str, Any]
    recipient: str  # sealed
    recipient_subject: str
    event_at: datetime
    attempt: int
    claim: str


class DeliveryRecord:
    """Claims and outcomes of delivery attempts, over the views' store."""

    store: ViewStore

    def claim_due(self, now: datetime, lease: timedelta, limit: int = 20) -> list[Claimed]:
        """Take up to ``limit`` messages due at ``now`` (pending and due, or held by a worker
        whose lease ran out) for one attempt each, under a new claim token."""
        moment, until, token = utc(now), utc(now + lease), secrets.token_hex(8)
        due = (
            "((d.status = 'pending' AND d.next_attempt_at <= ?)"
            " OR (d.status = 'sending' AND d.claimed_until <= ?))"
        )
        # Looked for in a read first: an idle worker polls often, and on SQLite every write
        # transaction waits for the one writer.
        with self.store.reading() as tx:
            candidates = tx.fetchall(
                "SELECT d.id FROM notification_delivery d JOIN notification_outbox o"  # noqa: S608
                f" ON o.id = d.id WHERE {due} ORDER BY d.next_attempt_at, d.id LIMIT ?",
                [moment, moment, limit],
            )
        if not candidates:
            return []
        with self.store.transaction() as tx:
            taken = [
                row["id"]
                for row in candidates
                if tx.execute(
                    "UPDATE notification_delivery AS d SET status = 'sending', claim = ?,"  # noqa: S608
                    " claimed_until = ?, attempts = attempts + 1, updated_at = ?"
                    f" WHERE d.id = ? AND {due}",
                    [token, until, moment, row["id"], moment, moment],
                )
                == 1
            ]
            if not taken:
                return []
            rows = tx.fetchall(
                "SELECT o.*, d.attempts FROM notification_outbox o JOIN notification_delivery d"  # noqa: S608
                f" ON d.id = o.id WHERE o.id IN ({', '.join('?' for _ in taken)}) ORDER BY o.id",
                taken,
            )
        return [
            Claimed(
                id=row["id"],
                receipt_number=row["receipt_number"],
                template=row["template"],
                params=orjson.loads(row["params"]),
                recipient=row["recipient"],
                recipient_subject=row["recipient_subject"],
                event_at=datetime.fromisoformat(row["event_at"]),
                attempt=int(row["attempts"]),
                claim=token,
            )
            for row in rows
        ]

    def record(
        self,
        claimed: Claimed,
        status: Delivery,
        now: datetime,
        *,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
        sender: str | None = None,
        text: str | None = None,
    ) -> bool:
        """Record the outcome of a claimed attempt; False if the claim was lost meanwhile (its
        lease ran out and another worker took the message)."""
        moment = utc(now)
        with self.store.transaction() as tx:
            changed = tx.execute(
                "UPDATE notification_delivery SET status = ?, claim = NULL,"
                " claimed_until = NULL, updated_at = ?,"
                " next_attempt_at = COALESCE(?, next_attempt_at),"
                " last_error = COALESCE(?, last_error), sender = COALESCE(?, sender),"
                " text = COALESCE(?, text), sent_at = ?"
                " WHERE id = ? AND claim = ?",
                [
                    str(status), moment, utc(next_attempt_at) if next_attempt_at else None,
                    error, sender, text, moment if status is Delivery.SENT else None,
                    claimed.id, claimed.claim,
                ],
            )  # fmt: skip
        return changed == 1
