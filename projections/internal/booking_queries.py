"""Queries of the staff console over the bookings read model: the work queues of each role,
and the overdue items per agency.

- the window: bookings to review (forward or reject) by noon of the next working day after
  receipt (Art. 15);
- the head: forwarded bookings to assign; the reply deadline of the cycle already runs, so it
  is the head's deadline too (Art. 16);
- the handler: bookings whose main handler they are and that wait for a reply (2 working days
  from the start of the reply cycle), and accepted slots to inspect (the inspection deadline of
  domain.booking_deadlines; a kind without a period of its own has its slot as its date and
  no deadline).

Deadlines, working days left and overdue flags are computed at query time with the calendar,
through domain.booking_deadlines. A deadline in a year the calendar does not cover yet is shown
as unknown, with a note that names the missing calendar file: it never fails the queue.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson

from domain.booking_deadlines import forwarding_deadline, inspection_deadline, reply_deadline
from domain.booking_rules import BOOKING_STATUS_NAMES_ZH, BookingStatus
from domain.calendar import CalendarNotCovered, WorkingDayCalendar
from projections.internal.queries import Deadline, history_rows, shanghai_iso, with_deadline
from projections.store import ViewStore


class Task(StrEnum):
    REVIEW = "review"  # the window: forward or reject (Art. 15)
    ASSIGN = "assign"  # the head: name the handlers (Art. 16)
    REPLY = "reply"  # the main handler: offer a slot or refuse (Art. 16)
    INSPECT = "inspect"  # the main handler: inspect the accepted slot


TASK_STATUS = {
    Task.REVIEW: BookingStatus.RECEIVED,
    Task.ASSIGN: BookingStatus.FORWARDED,
    Task.REPLY: BookingStatus.ASSIGNED,
    Task.INSPECT: BookingStatus.SCHEDULED,
}


@dataclass(frozen=True)
class BookingQueueItem:
    task: str
    receipt_number: str
    kind: str
    route: str
    agency: str
    status: str
    organisation_name: str
    project_name: str
    district: str
    received_at: str
    department: str | None
    main_handler: str | None
    slot_day: str | None
    slot_half: str | None
    deadline: str | None
    working_days_left: int | None
    overdue: bool
    deadline_unknown: bool
    deadline_note: str | None


def _moment(iso: str | None) -> datetime | None:
    return datetime.fromisoformat(iso) if iso else None


class BookingQueries:
    def __init__(self, store: ViewStore, calendar: WorkingDayCalendar) -> None:
        self.store = store
        self.calendar = calendar

    def _deadline(self, compute: Callable[[], datetime | None], now: datetime) -> Deadline:
        try:
            deadline = compute()
            if deadline is None:  # no period runs (a kind without one of its own)
                return Deadline(None, None, False, False, None)
            left = self.calendar.working_days_left(now, deadline)
        except CalendarNotCovered as missing:
            return Deadline(None, None, False, True, f"{missing.message_zh} / {missing.message_en}")
        overdue = self.calendar.is_overdue(now, deadline)
        return Deadline(shanghai_iso(deadline.isoformat()), left, overdue, False, None)

    def deadline_of(self, task: Task, row: dict[str, Any], now: datetime) -> Deadline:
        """The deadline of ``task`` on the booking ``row`` as of ``now``."""
        calendar = self.calendar
        compute: Callable[[], datetime | None]
        if task is Task.REVIEW:
            received = datetime.fromisoformat(row["received_at"])
            compute = lambda: forwarding_deadline(calendar, received)  # noqa: E731
        elif task is Task.INSPECT:
            forwarded, permit = _moment(row["forwarded_at"]), _moment(row["permit_issued_at"])
            compute = lambda: inspection_deadline(  # noqa: E731
                calendar, row["kind"], row["route"], forwarded, permit
            )
        else:  # assign and reply: the reply cycle's 2 working days
            cycle = datetime.fromisoformat(row["reply_from"])
            compute = lambda: reply_deadline(calendar, cycle)  # noqa: E731
        return self._deadline(compute, now)

    def _rows(
        self, statuses: Collection[str], agencies: Collection[str] | None, handler: str | None
    ) -> list[dict[str, Any]]:
        sql = f"SELECT * FROM view_bookings WHERE status IN ({', '.join('?' for _ in statuses)})"  # noqa: S608
        params: list[Any] = list(statuses)
        if agencies is not None:
            if not agencies:
                return []
            sql += f" AND agency IN ({', '.join('?' for _ in agencies)})"
            params += list(agencies)
        if handler is not None:
            sql += " AND main_handler = ?"
            params.append(handler)
        with self.store.reading() as tx:
            return tx.fetchall(sql + " ORDER BY received_at, receipt_number", params)

    def queue(
        self,
        tasks: Collection[Task],
        agencies: Collection[str] | None,
        now: datetime,
        main_handler: str | None = None,
        overdue_only: bool = False,
    ) -> list[BookingQueueItem]:
        """The bookings waiting for ``tasks`` in ``agencies`` (None: every agency), those of
        ``main_handler`` only if given; earliest deadline first, unknown deadlines last."""
        by_status = {str(TASK_STATUS[t]): t for t in tasks}
        items = []
        for row in self._rows(list(by_status), agencies, main_handler):
            task = by_status[row["status"]]
            deadline = self.deadline_of(task, row, now)
            if overdue_only and not deadline.overdue:
                continue
            items.append(
                BookingQueueItem(
                    task=str(task),
                    receipt_number=row["receipt_number"],
                    kind=row["kind"],
                    route=row["route"],
                    agency=row["agency"],
                    status=row["status"],
                    organisation_name=row["organisation_name"],
                    project_name=row["project_name"],
                    district=row["district"],
                    received_at=shanghai_iso(row["received_at"]),
                    department=row["department"],
                    main_handler=row["main_handler"],
                    slot_day=row["slot_day"],
                    slot_half=row["slot_half"],
                    deadline=deadline.deadline,
                    working_days_left=deadline.working_days_left,
                    overdue=deadline.overdue,
                    deadline_unknown=deadline.deadline_unknown,
                    deadline_note=deadline.deadline_note,
                )
            )
        items.sort(key=lambda i: (i.deadline is None, i.deadline or "", i.receipt_number))
        return items

    def overdue_by_agency(self, agencies: Collection[str] | None, now: datetime) -> dict[str, int]:
        """How many items of every queue are overdue, per agency (for supervisors)."""
        items = self.queue(list(Task), agencies, now, overdue_only=True)
        return dict(sorted(Counter(i.agency for i in items).items()))

    def booking(self, receipt_number: str, now: datetime) -> dict[str, Any] | None:
        """One booking's row; one waiting for a task also gets that task's deadline."""
        with self.store.reading() as tx:
            row = tx.fetchone(
                "SELECT * FROM view_bookings WHERE receipt_number = ?", [receipt_number]
            )
        if row is None:
            return None
        waiting = {str(s): t for t, s in TASK_STATUS.items()}.get(row["status"])
        deadline = self.deadline_of(waiting, row, now) if waiting else None
        for key in ("basis", "assistants", "outcome", "result"):
            row[key] = orjson.loads(row[key]) if row[key] else None
        for key in ("received_at", "reply_from", "forwarded_at", "permit_issued_at", "updated_at"):
            row[key] = shanghai_iso(row[key]) if row[key] else None
        row["forwarded_late"] = bool(row["forwarded_late"])
        row["replied_late"] = bool(row["replied_late"])
        row["status_zh"] = BOOKING_STATUS_NAMES_ZH[BookingStatus(row["status"])]
        row["task"] = str(waiting) if waiting else None
        row["deadline"] = deadline.deadline if deadline else None
        return with_deadline(row, deadline)

    def history(self, booking_id: str) -> list[dict[str, Any]]:
        return history_rows(self.store, "view_booking_history", "booking_id", booking_id)

    def rows(self) -> list[dict[str, Any]]:
        """Every booking row, for comparing a rebuild with incremental processing."""
        with self.store.reading() as tx:
            return tx.fetchall("SELECT * FROM view_bookings ORDER BY id")
