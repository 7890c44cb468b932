"""The deadlines of a booking, computed from its event times (DESIGN.md decision 3).

- Forwarding (Art. 15): by noon of the day of receipt if it arrived before noon on a working
  day, else by noon of the next working day.
- Reply (Art. 16): within 2 working days of the window's receipt; after the applicant asks for
  another slot, within 2 working days of that request.
- On-site inspection of a pre-opening booking: within 10 working days of acceptance (the
  forwarding) on the ordinary route; within 20 working days of the permit on the
  notice-and-commitment route (Fire Protection Law Art. 15). The other kinds have no period of
  their own in the rules: the accepted slot is their date.

A deadline in a year the working-day calendar does not cover yet is *unknown* (``Due.at`` is
None), never guessed; receiving a booking does not need any deadline, so a booking that comes
in on New Year's Eve is accepted all the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from domain.booking import Booking
from domain.booking_rules import BookingKind, Route
from domain.calendar import SHANGHAI, CalendarNotCovered, WorkingDayCalendar

REPLY_WORKING_DAYS = 2  # Art. 16
ORDINARY_INSPECTION_WORKING_DAYS = 10  # ordinary route: from acceptance
COMMITMENT_CHECK_WORKING_DAYS = 20  # 告知承诺: from the permit


def forwarding_deadline(calendar: WorkingDayCalendar, received_at: datetime) -> datetime:
    return calendar.next_working_noon(received_at)


def reply_deadline(calendar: WorkingDayCalendar, cycle_from: datetime) -> datetime:
    return calendar.deadline_after(cycle_from, REPLY_WORKING_DAYS)


def inspection_deadline(
    calendar: WorkingDayCalendar,
    kind: str,
    route: str,
    forwarded_at: datetime | None,
    permit_issued_at: datetime | None,
) -> datetime | None:
    """None where no period runs: not yet accepted, or a kind without a period of its own."""
    if permit_issued_at is not None and route == Route.NOTICE_COMMITMENT:
        return calendar.deadline_after(permit_issued_at, COMMITMENT_CHECK_WORKING_DAYS)
    if forwarded_at is not None and kind == BookingKind.PRE_OPENING:
        return calendar.deadline_after(forwarded_at, ORDINARY_INSPECTION_WORKING_DAYS)
    return None


@dataclass(frozen=True)
class Due:
    """A deadline as far as the calendar knows it; ``at`` is None while its year is uncovered."""

    at: datetime | None
    uncovered_year: int | None = None  # the year whose calendar file is missing

    @property
    def unknown(self) -> bool:
        return self.at is None


def due(compute: Callable[[], datetime]) -> Due:
    try:
        return Due(compute())
    except CalendarNotCovered as missing:
        return Due(None, missing.year)


def is_late(now: datetime, compute: Callable[[], datetime]) -> bool:
    """True if ``now`` is past the deadline.

    The calendar walks forward day by day, so when it stops at a year it does not cover, the
    deadline lies in that year or later: any moment before that year is in time. Only a
    moment inside an uncovered year is undecidable, and then CalendarNotCovered tells the
    operator which file to write, rather than recording a guess.
    """
    try:
        return now > compute()
    except CalendarNotCovered as missing:
        if now < datetime(missing.year, 1, 1, tzinfo=SHANGHAI):
            return False
        raise


@dataclass(frozen=True)
class BookingDeadlines:
    forward_by: Due
    reply_by: Due  # of the current reply cycle
    inspect_by: Due | None  # None where no inspection period runs


def booking_deadlines(calendar: WorkingDayCalendar, booking: Booking) -> BookingDeadlines:
    try:
        at = inspection_deadline(
            calendar, booking.kind, booking.route, booking.forwarded_at, booking.permit_issued_at
        )
        inspect_by = Due(at) if at is not None else None
    except CalendarNotCovered as missing:
        inspect_by = Due(None, missing.year)
    return BookingDeadlines(
        forward_by=due(lambda: forwarding_deadline(calendar, booking.received_at)),
        reply_by=due(lambda: reply_deadline(calendar, booking.reply_from)),
        inspect_by=inspect_by,
    )
