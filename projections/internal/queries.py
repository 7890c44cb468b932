"""Queries of the staff console over the internal read models: rows, never aggregates.

The review deadline, the working days left and the overdue flag are computed at query time from
``received_at`` and the calendar, so they are right at every moment without anyone updating a
row. A deadline in a year the calendar does not cover yet is shown as unknown, with a note that
names the missing calendar file: one such case never hides the others (RULES.md "Time": never
guess, and never fail the whole queue either).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from domain.calendar import SHANGHAI, CalendarNotCovered, WorkingDayCalendar
from domain.filing import STATUS_NAMES_ZH, FilingStatus
from domain.services.filings import REVIEW_WORKING_DAYS
from projections.store import ViewStore


@dataclass(frozen=True)
class Deadline:
    """A review deadline as the console shows it; ``deadline`` is None while unknown."""

    deadline: str | None
    working_days_left: int | None
    overdue: bool
    deadline_unknown: bool
    deadline_note: str | None  # Chinese and English: which calendar file is missing


@dataclass(frozen=True)
class QueueItem:
    receipt_number: str
    kind: str
    agency: str
    organisation_name: str
    project_name: str
    district: str
    received_at: str
    deadline: str | None
    working_days_left: int | None
    overdue: bool
    deadline_unknown: bool
    deadline_note: str | None


def shanghai_iso(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(SHANGHAI).isoformat(timespec="seconds")


def with_deadline(row: dict[str, Any], deadline: Deadline | None) -> dict[str, Any]:
    """The row with its deadline's working time left and overdue flag, if it has one."""
    if deadline is not None:
        row["working_days_left"] = deadline.working_days_left
        row["overdue"] = deadline.overdue
        row["deadline_unknown"] = deadline.deadline_unknown
        row["deadline_note"] = deadline.deadline_note
    return row


def history_rows(store: ViewStore, table: str, column: str, case_id: str) -> list[dict[str, Any]]:
    """Who did what when on one case, oldest first, times in Asia/Shanghai."""
    with store.reading() as tx:
        rows = tx.fetchall(
            f"SELECT * FROM {table} WHERE {column} = ? ORDER BY version",  # noqa: S608 - fixed names
            [case_id],
        )
    for row in rows:
        row["at"] = shanghai_iso(row["at"])
    return rows


class FilingQueries:
    def __init__(self, store: ViewStore, calendar: WorkingDayCalendar) -> None:
        self.store = store
        self.calendar = calendar

    def review_deadline(self, received_at: str, now: datetime) -> Deadline:
        """The review deadline of materials received at ``received_at`` (ISO), as of ``now``."""
        try:
            deadline = self.calendar.deadline_after(
                datetime.fromisoformat(received_at), REVIEW_WORKING_DAYS
            )
            left = self.calendar.working_days_left(now, deadline)
        except CalendarNotCovered as missing:
            return Deadline(None, None, False, True, f"{missing.message_zh} / {missing.message_en}")
        overdue = self.calendar.is_overdue(now, deadline)
        return Deadline(shanghai_iso(deadline.isoformat()), left, overdue, False, None)

    def review_queue(
        self, agencies: Collection[str] | None, now: datetime, overdue_only: bool = False
    ) -> list[QueueItem]:
        """Filings waiting for the window's review, earliest first (the deadline follows the
        day of receipt, so this is also earliest deadline first).

        ``agencies=None`` means every agency (city-wide readers)."""
        sql = "SELECT * FROM view_filings WHERE status = ?"
        params: list[Any] = [str(FilingStatus.RECEIVED)]
        if agencies is not None:
            if not agencies:
                return []
            sql += f" AND agency IN ({', '.join('?' for _ in agencies)})"
            params += list(agencies)
        with self.store.reading() as tx:
            rows = tx.fetchall(sql + " ORDER BY received_at, receipt_number", params)
        items = []
        for row in rows:
            deadline = self.review_deadline(row["received_at"], now)
            item = QueueItem(
                receipt_number=row["receipt_number"],
                kind=row["kind"],
                agency=row["agency"],
                organisation_name=row["organisation_name"],
                project_name=row["project_name"],
                district=row["district"],
                received_at=shanghai_iso(row["received_at"]),
                deadline=deadline.deadline,
                working_days_left=deadline.working_days_left,
                overdue=deadline.overdue,
                deadline_unknown=deadline.deadline_unknown,
                deadline_note=deadline.deadline_note,
            )
            if item.overdue or not overdue_only:
                items.append(item)
        return items

    def filing(self, receipt_number: str, now: datetime) -> dict[str, Any] | None:
        """One filing's row; a case waiting for review also gets its deadline as of ``now``."""
        with self.store.reading() as tx:
            row = tx.fetchone(
                "SELECT * FROM view_filings WHERE receipt_number = ?", [receipt_number]
            )
        if row is None:
            return None
        waiting = FilingStatus(row["status"]) is FilingStatus.RECEIVED
        deadline = self.review_deadline(row["received_at"], now) if waiting else None
        for key in ("materials", "last_notice", "result"):
            row[key] = orjson.loads(row[key]) if row[key] else None
        for key in ("submitted_at", "received_at", "updated_at"):
            row[key] = shanghai_iso(row[key])
        row["status_zh"] = STATUS_NAMES_ZH[FilingStatus(row["status"])]
        row["review_deadline"] = deadline.deadline if deadline else None
        return with_deadline(row, deadline)

    def history(self, filing_id: str) -> list[dict[str, Any]]:
        return history_rows(self.store, "view_filing_history", "filing_id", filing_id)

    def rows(self) -> list[dict[str, Any]]:
        """Every filing row, for comparing a rebuild with incremental processing."""
        with self.store.reading() as tx:
            return tx.fetchall("SELECT * FROM view_filings ORDER BY id")
