"""Queries of the staff console over the internal read models: rows, never aggregates.

Working time left and the overdue flag are computed at query time from the calendar, so they
are right at every moment without anyone updating a row.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from domain.calendar import SHANGHAI, WorkingDayCalendar
from domain.filing import STATUS_NAMES_ZH, FilingStatus
from projections.store import ViewStore


@dataclass(frozen=True)
class QueueItem:
    receipt_number: str
    kind: str
    agency: str
    organisation_name: str
    project_name: str
    district: str
    received_at: str
    deadline: str
    working_days_left: int
    overdue: bool


def _shanghai(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(SHANGHAI).isoformat(timespec="seconds")


class FilingQueries:
    def __init__(self, store: ViewStore, calendar: WorkingDayCalendar) -> None:
        self.store = store
        self.calendar = calendar

    def review_queue(
        self, agencies: Collection[str] | None, now: datetime, overdue_only: bool = False
    ) -> list[QueueItem]:
        """Filings waiting for the window's review, earliest deadline first.

        ``agencies=None`` means every agency (city-wide readers)."""
        sql = "SELECT * FROM view_filings WHERE status = ?"
        params: list[Any] = [str(FilingStatus.RECEIVED)]
        if agencies is not None:
            if not agencies:
                return []
            sql += f" AND agency IN ({', '.join('?' for _ in agencies)})"
            params += list(agencies)
        with self.store.reading() as tx:
            rows = tx.fetchall(sql + " ORDER BY review_deadline, receipt_number", params)
        items = []
        for row in rows:
            deadline = datetime.fromisoformat(row["review_deadline"])
            item = QueueItem(
                receipt_number=row["receipt_number"],
                kind=row["kind"],
                agency=row["agency"],
                organisation_name=row["organisation_name"],
                project_name=row["project_name"],
                district=row["district"],
                received_at=_shanghai(row["received_at"]),
                deadline=_shanghai(row["review_deadline"]),
                working_days_left=self.calendar.working_days_left(now, deadline),
                overdue=self.calendar.is_overdue(now, deadline),
            )
            if item.overdue or not overdue_only:
                items.append(item)
        return items

    def filing(self, receipt_number: str) -> dict[str, Any] | None:
        with self.store.reading() as tx:
            row = tx.fetchone(
                "SELECT * FROM view_filings WHERE receipt_number = ?", [receipt_number]
            )
        if row is None:
            return None
        for key in ("materials", "last_notice", "result"):
            row[key] = orjson.loads(row[key]) if row[key] else None
        for key in ("submitted_at", "received_at", "updated_at", "review_deadline"):
            row[key] = _shanghai(row[key]) if row[key] else None
        row["status_zh"] = STATUS_NAMES_ZH[FilingStatus(row["status"])]
        return row

    def history(self, filing_id: str) -> list[dict[str, Any]]:
        with self.store.reading() as tx:
            rows = tx.fetchall(
                "SELECT * FROM view_filing_history WHERE filing_id = ? ORDER BY version",
                [filing_id],
            )
        for row in rows:
            row["at"] = _shanghai(row["at"])
        return rows

    def rows(self) -> list[dict[str, Any]]:
        """Every filing row, for comparing a rebuild with incremental processing."""
        with self.store.reading() as tx:
            return tx.fetchall("SELECT * FROM view_filings ORDER BY id")
