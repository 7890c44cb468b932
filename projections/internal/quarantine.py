"""The window's list of citizens' submissions that the internal side refused on import (issue
4, intake; RULES.md Art. 29): one row per ``QuarantinedSubmission.Quarantined`` event — the
receipt number, the stable code, the field at fault, the reason in Chinese and English, and
when — and the query that pages through them, newest first.

A refused submission never becomes a case (it "never half-exists"), so without this list the
staff would learn of it only when the applicant phones: the reason the applicant reads on the
tracking page is the one the clerk reads here. The rows hold no personal data: the reason is
written for the applicant and names fields and files, never their values.

A quarantine is a single event, so the model has no history table (the audit trail of the
event itself is the ledger's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Any

from domain.quarantine import QuarantinedSubmission
from projections.internal.queries import shanghai_iso
from projections.store import ViewStore

TOPIC_PREFIX = "firegov:QuarantinedSubmission."
SCHEMA = [
    """CREATE TABLE IF NOT EXISTS view_quarantine (
        id TEXT PRIMARY KEY,
        receipt_number TEXT NOT NULL UNIQUE,
        code TEXT NOT NULL,
        field TEXT NOT NULL,
        reason_zh TEXT NOT NULL,
        reason_en TEXT NOT NULL,
        quarantined_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        version INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS view_quarantine_newest ON view_quarantine (quarantined_at)",
]
TABLES = ["view_quarantine"]
# What a receipt number's prefix says the refused submission was (domain.numbering).
SUBMISSION_KINDS = {"BA": "filing", "YY": "booking"}


def project(row: dict[str, Any] | None, event: Any) -> dict[str, Any]:
    """The row after ``event`` (a pure function of the previous row and the event)."""
    # Kept in UTC so that the text sorts in time order whatever offset the clock gave.
    at = event.timestamp.astimezone(UTC).isoformat()
    if isinstance(event, QuarantinedSubmission.Quarantined):
        row = {
            "id": str(event.originator_id),
            "receipt_number": event.receipt_number,
            "code": event.code,
            "field": event.field,
            "reason_zh": event.reason_zh,
            "reason_en": event.reason_en,
            "quarantined_at": at,
        }
    elif row is None:
        raise ValueError(f"{type(event).__name__} arrived before Quarantined")
    else:
        row = dict(row)  # a later event of a kind this model does not show yet
    row["version"] = event.originator_version
    row["updated_at"] = at
    return row


@dataclass(frozen=True)
class QuarantinePage:
    items: list[dict[str, Any]]
    total: int
    page: int
    size: int


class QuarantineQueries:
    def __init__(self, store: ViewStore) -> None:
        self.store = store

    def page(
        self, page: int = 1, size: int = 20, receipt_number: str | None = None
    ) -> QuarantinePage:
        """Quarantined submissions, newest first (ties by receipt number, so that pages never
        overlap), ``size`` a page; only ``receipt_number`` if given."""
        where, params = "", []
        if receipt_number is not None:
            where, params = " WHERE receipt_number = ?", [receipt_number]
        columns = "receipt_number, code, field, reason_zh, reason_en, quarantined_at"
        order = " ORDER BY quarantined_at DESC, receipt_number DESC LIMIT ? OFFSET ?"
        with self.store.reading() as tx:  # the clauses are fixed text; values are parameters
            total = tx.fetchone(f"SELECT COUNT(*) AS n FROM view_quarantine{where}", params)  # noqa: S608
            rows = tx.fetchall(
                f"SELECT {columns} FROM view_quarantine{where}{order}",  # noqa: S608
                [*params, size, (page - 1) * size],
            )
        for row in rows:
            row["submission_kind"] = SUBMISSION_KINDS.get(row["receipt_number"][:2], "unknown")
            row["field"] = row["field"] or None  # "" when the whole record was at fault
            row["quarantined_at"] = shanghai_iso(row["quarantined_at"])
        return QuarantinePage(rows, int(total["n"]) if total else 0, page, size)

    def rows(self) -> list[dict[str, Any]]:
        """Every row, for comparing a rebuild with incremental processing."""
        with self.store.reading() as tx:
            return tx.fetchall("SELECT * FROM view_quarantine ORDER BY id")
