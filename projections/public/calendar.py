"""The working-day calendar on the public side (issue 16): how far it reaches, and which
deadlines wait for a year it does not cover yet.

A deadline column that is null while the case waits on it is ambiguous: no period runs, or the
State Council has not yet published the holidays of the year it falls in. The bridge says which
(``case.deadline_pending.v1``, right after the event that set the column), so tracking can tell
the applicant "期限待国务院公布YYYY年节假日安排后确定" instead of nothing. A pending deadline is
forgotten as soon as any later event sets its column (tracking.forget_pending), and determined
(``case.deadline_determined.v1``) only while it is still pending.
"""

from __future__ import annotations

from typing import Any

from projections.store import Tx

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS public_calendar_coverage (
        id INTEGER PRIMARY KEY, covered_until TEXT, first_uncovered_year INTEGER NOT NULL,
        recorded_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS public_pending_deadlines (
        receipt_number TEXT NOT NULL, deadline TEXT NOT NULL, year INTEGER NOT NULL,
        PRIMARY KEY (receipt_number, deadline))""",
]
TABLES = ["public_calendar_coverage", "public_pending_deadlines"]
# Where each deadline lives: filings' review deadline on the case, bookings' on the booking.
DEADLINE_TABLES = {
    "review_deadline": "public_cases",
    "forwarding_deadline": "public_bookings",
    "reply_deadline": "public_bookings",
    "inspection_deadline": "public_bookings",
}


def coverage(tx: Tx, seq: int, p: dict[str, Any]) -> None:
    tx.execute("DELETE FROM public_calendar_coverage")
    tx.execute(
        "INSERT INTO public_calendar_coverage VALUES (1, ?, ?, ?)",
        [p["covered_until"], p["first_uncovered_year"], p["recorded_at"]],
    )


def deadline_pending(tx: Tx, seq: int, p: dict[str, Any]) -> None:
    if p["deadline"] not in DEADLINE_TABLES:
        return  # a deadline this side does not show
    receipt, deadline = p["receipt_number"], p["deadline"]
    tx.execute(
        "DELETE FROM public_pending_deadlines WHERE receipt_number = ? AND deadline = ?",
        [receipt, deadline],
    )
    tx.execute(
        "INSERT INTO public_pending_deadlines VALUES (?, ?, ?)", [receipt, deadline, p["year"]]
    )


def deadline_determined(tx: Tx, seq: int, p: dict[str, Any]) -> None:
    receipt, deadline = p["receipt_number"], p["deadline"]
    table = DEADLINE_TABLES.get(deadline)
    pending = tx.fetchone(
        "SELECT 1 AS pending FROM public_pending_deadlines"
        " WHERE receipt_number = ? AND deadline = ?",
        [receipt, deadline],
    )
    if table is None or pending is None:
        return  # no longer waited on (the step was done meanwhile): nothing to bring back
    tx.execute(
        f"UPDATE {table} SET {deadline} = ? WHERE receipt_number = ?",  # noqa: S608 - fixed names
        [p["due_at"], receipt],
    )
    forget_pending(tx, receipt, [deadline])


def forget_pending(tx: Tx, receipt: str, columns: Any) -> None:
    """An event set these columns: whatever was pending for them no longer is."""
    for deadline in DEADLINE_TABLES.keys() & set(columns):
        tx.execute(
            "DELETE FROM public_pending_deadlines WHERE receipt_number = ? AND deadline = ?",
            [receipt, deadline],
        )


APPLY = {
    "calendar.coverage.v1": coverage,
    "case.deadline_pending.v1": deadline_pending,
    "case.deadline_determined.v1": deadline_determined,
}
