"""Queries of the staff console over the bookings read model: the work queues of each role,
and the overdue items per agency.

- the window: bookings to review (forward or reject) by noon of the next working day after
  receipt (Art. 15);
- the head: forwarded bookings to assign; the reply deadline of the cycle already runs, so it
  is the head's deadline too (Art. 16);
- the handler: bookings whose main handler they are and that wait for a reply (2 working days
  from the start of the reply cycle), and accepted slots to inspect (the inspection deadline of
  domain.booking_deadlines; a kind without a period of its own has its slot as its date and
  no deadline); and, as a task of its own, the bookings on which they are an assistant (Art.
  16: the head names one main handler and any assistants), from the assignment until the
  inspection or the end of the booking, with the inspection deadline they help to keep.

Each booking waits for at most one of the case tasks (review, assign, reply, inspect), so they
are what the overdue counts per agency add up; an assistant's item repeats the inspection of a
booking that the main handler's queue already holds, and is never counted twice.

Deadlines, working days left and overdue flags are computed at query time with the calendar,
through domain.booking_deadlines. A deadline in a year the calendar does not cover yet is shown
as unknown, with a note that names the missing calendar file: it never fails the queue.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Sequence
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
    ASSIST = "assist"  # an assistant: take part in the inspection (Art. 16)


# The case tasks: the one step each booking waits for, by its status.
TASK_STATUS = {
    Task.REVIEW: BookingStatus.RECEIVED,
    Task.ASSIGN: BookingStatus.FORWARDED,
    Task.REPLY: BookingStatus.ASSIGNED,
    Task.INSPECT: BookingStatus.SCHEDULED,
}
CASE_TASKS = tuple(TASK_STATUS)
# An assistant's booking is live from the assignment until the inspection or its end.
ASSIST_STATUSES = (BookingStatus.ASSIGNED, BookingStatus.SLOT_OFFERED, BookingStatus.SCHEDULED)


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
    assistants: tuple[str, ...]
    slot_day: str | None
    slot_half: str | None
    deadline: str | None
    working_days_left: int | None
    overdue: bool
    deadline_unknown: bool
    deadline_note: str | None


def _moment(iso: str | None) -> datetime | None:
    return datetime.fromisoformat(iso) if iso else None


def _item(task: Task, row: dict[str, Any], deadline: Deadline) -> BookingQueueItem:
    return BookingQueueItem(
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
        assistants=tuple(orjson.loads(row["assistants"])),
        slot_day=row["slot_day"],
        slot_half=row["slot_half"],
        deadline=deadline.deadline,
        working_days_left=deadline.working_days_left,
        overdue=deadline.overdue,
        deadline_unknown=deadline.deadline_unknown,
        deadline_note=deadline.deadline_note,
    )


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
        elif task in (Task.INSPECT, Task.ASSIST):
            forwarded, permit = _moment(row["forwarded_at"]), _moment(row["permit_issued_at"])
            compute = lambda: inspection_deadline(  # noqa: E731
                calendar, row["kind"], row["route"], forwarded, permit
            )
        else:  # assign and reply: the reply cycle's 2 working days
            cycle = datetime.fromisoformat(row["reply_from"])
            compute = lambda: reply_deadline(calendar, cycle)  # noqa: E731
        return self._deadline(compute, now)

    def _rows(
        self,
        statuses: Collection[str],
        agencies: Collection[str] | None,
        clause: str = "",
        params: Sequence[Any] = (),
    ) -> list[dict[str, Any]]:
        """Rows in ``statuses`` and ``agencies`` (None: every agency), narrowed by the fixed
        SQL ``clause`` with its ``params``."""
        if not statuses or (agencies is not None and not agencies):
            return []
        sql = f"SELECT * FROM view_bookings WHERE status IN ({', '.join('?' for _ in statuses)})"  # noqa: S608
        values: list[Any] = list(statuses)
        if agencies is not None:
            sql += f" AND agency IN ({', '.join('?' for _ in agencies)})"
            values += list(agencies)
        with self.store.reading() as tx:
            return tx.fetchall(
                sql + clause + " ORDER BY received_at, receipt_number", [*values, *params]
            )

    def _assisted(self, agencies: Collection[str] | None, handler: str) -> list[dict[str, Any]]:
        """Live bookings on which ``handler`` is an assistant. ``assistants`` is a JSON list of
        account ids: LIKE narrows the rows on both engines, the parsed list decides."""
        rows = self._rows(
            [str(s) for s in ASSIST_STATUSES],
            agencies,
            " AND assistants LIKE ?",
            [f'%"{handler}"%'],
        )
        return [row for row in rows if handler in orjson.loads(row["assistants"])]

    def queue(
        self,
        tasks: Collection[Task],
        agencies: Collection[str] | None,
        now: datetime,
        handler: str | None = None,
        overdue_only: bool = False,
    ) -> list[BookingQueueItem]:
        """The bookings waiting for ``tasks`` in ``agencies`` (None: every agency); earliest
        deadline first, unknown deadlines last.

        With ``handler``, that handler's own items only: the case tasks of the bookings whose
        main handler they are, and ``Task.ASSIST`` for those on which they are an assistant.
        ``Task.ASSIST`` belongs to one handler, so it needs ``handler``."""
        if Task.ASSIST in tasks and handler is None:
            raise ValueError("Task.ASSIST lists one handler's bookings: name the handler")
        by_status = {str(TASK_STATUS[t]): t for t in tasks if t is not Task.ASSIST}
        clause, params = (" AND main_handler = ?", [handler]) if handler is not None else ("", [])
        found: list[tuple[Task, dict[str, Any]]] = [
            (by_status[r["status"]], r) for r in self._rows(by_status, agencies, clause, params)
        ]
        if Task.ASSIST in tasks and handler is not None:
            found += [(Task.ASSIST, row) for row in self._assisted(agencies, handler)]
        items = []
        for task, row in found:
            deadline = self.deadline_of(task, row, now)
            if overdue_only and not deadline.overdue:
                continue
            items.append(_item(task, row, deadline))
        items.sort(key=lambda i: (i.deadline is None, i.deadline or "", i.receipt_number, i.task))
        return items

    def overdue_counts(
        self, agencies: Collection[str] | None, now: datetime
    ) -> dict[str, dict[str, int]]:
        """Overdue case tasks per agency and task (agencies with none are left out); each
        overdue booking counts once, under the step it waits for (Art. 31 quantified
        management, Art. 33 supervision)."""
        counts: dict[str, Counter[str]] = {}
        for item in self.queue(CASE_TASKS, agencies, now, overdue_only=True):
            counts.setdefault(item.agency, Counter())[item.task] += 1
        return {agency: dict(counts[agency]) for agency in sorted(counts)}

    def overdue_by_agency(self, agencies: Collection[str] | None, now: datetime) -> dict[str, int]:
        """How many bookings are overdue, per agency (for supervisors)."""
        return {a: sum(c.values()) for a, c in self.overdue_counts(agencies, now).items()}

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
