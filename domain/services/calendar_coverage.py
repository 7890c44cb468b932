"""Recording how far the working-day calendar reaches (issue 16): a job of the platform itself
(the system actor), run beside the days with room.

Each round compares the calendar's reach as of today (domain.calendar.coverage_status) with the
last recorded one and records a change only. When the reach grew — the State Council's notice
of a new year was loaded — the record names the open cases whose deadlines now fall in the
newly covered years, so their deadlines reach the applicants without anyone touching the cases.
The open cases come from a read model handed in by the composition root (one query, not a scan
of every aggregate); each is loaded and its deadlines computed again here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from domain.actor import Actor
from domain.application import Context
from domain.booking import Booking
from domain.booking_deadlines import booking_deadlines
from domain.booking_rules import CLOSED
from domain.calendar import (
    CalendarNotCovered,
    WorkingDayCalendar,
    coverage_status,
    to_shanghai_date,
)
from domain.calendar_coverage import CaseAsOf, WorkingCalendarCoverage
from domain.errors import ConcurrentChange, NotFound
from domain.events import by
from domain.filing import Filing, FilingStatus
from domain.permissions import Command, authorize
from domain.services.filings import REVIEW_WORKING_DAYS

# ("filing" | "booking", aggregate id) of every case that may still wait on a deadline.
OpenCases = Callable[[], Iterable[tuple[str, UUID]]]


@dataclass(frozen=True)
class CoverageChange:
    covered_until: date | None
    first_uncovered_year: int
    determined: int  # open cases whose deadlines the new reach determined


class CalendarCoverageService:
    def __init__(self, context: Context, open_cases: OpenCases) -> None:
        self.ctx = context
        self.open_cases = open_cases

    def _record(self, stamp: dict[str, object]) -> WorkingCalendarCoverage:
        try:
            return self.ctx.load(
                WorkingCalendarCoverage, WorkingCalendarCoverage.create_id(), "工作日历", "calendar"
            )
        except NotFound:
            created: WorkingCalendarCoverage = WorkingCalendarCoverage._create(
                WorkingCalendarCoverage.Created, id=WorkingCalendarCoverage.create_id(), **stamp
            )
            return created

    def record_changed(self, actor: Actor, now: datetime | None = None) -> CoverageChange | None:
        """Record the calendar's reach if it changed since the last record; None if not."""
        authorize(actor, Command.RECORD_CALENDAR_COVERAGE, self.ctx.agencies)
        stamp = self.ctx.stamp(actor) if now is None else by(actor, now)
        status = coverage_status(self.ctx.calendar, to_shanghai_date(stamp["timestamp"]))
        record = self._record(stamp)
        if not record.differs(status.first_uncovered_year):
            return None
        previous = record.first_uncovered_year
        grew = previous is not None and status.first_uncovered_year > previous
        determined = self._determined(previous) if grew and previous is not None else []
        sources = [f"{c.year}: {'; '.join(c.sources)}" for c in status.years if c.covered]
        record.record(
            status.covered_until, status.first_uncovered_year, sources, determined, **stamp
        )
        try:
            self.ctx.save(record)
        except ConcurrentChange:
            return None  # another process recorded it first; the next round compares again
        return CoverageChange(status.covered_until, status.first_uncovered_year, len(determined))

    def _determined(self, newly_covered_from: int) -> list[CaseAsOf]:
        """The open cases with a deadline in a year from ``newly_covered_from`` on: before the
        file was loaded those deadlines could not be computed."""
        found: list[CaseAsOf] = []
        for case_type, case_id in self.open_cases():
            try:
                case: Filing | Booking = self.ctx.app.repository.get(case_id)
            except AggregateNotFoundError:
                continue  # the read model follows this store; never expected, never fatal
            due = running_deadlines(self.ctx.calendar, case).values()
            if any(day.year >= newly_covered_from for day in due):
                found.append(CaseAsOf(case_type=case_type, id=str(case_id), version=case.version))
        return found


def running_deadlines(calendar: WorkingDayCalendar, case: Filing | Booking) -> dict[str, datetime]:
    """The deadlines an open case waits on, by name, as far as the calendar knows them: a
    filing's review deadline while it is under review, a booking's forwarding, reply and
    inspection deadlines while it is not closed. The coverage job and the bridge both ask."""
    if isinstance(case, Filing):
        if case.status != FilingStatus.RECEIVED:
            return {}
        try:
            return {
                "review_deadline": calendar.deadline_after(case.received_at, REVIEW_WORKING_DAYS)
            }
        except CalendarNotCovered:
            return {}
    if case.status in CLOSED:
        return {}
    due = booking_deadlines(calendar, case)
    named = {
        "forwarding_deadline": due.forward_by,
        "reply_deadline": due.reply_by,
        "inspection_deadline": due.inspect_by,
    }
    return {name: d.at for name, d in named.items() if d is not None and d.at is not None}
