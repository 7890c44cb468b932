"""What crosses of the working-day calendar (issue 16): how far it reaches, and the deadlines
that its growth determined.

``WorkingCalendarCoverage.Recorded`` crosses as ``calendar.coverage.v1`` (the public side's
health and its wording of pending deadlines), followed by a ``case.deadline_determined.v1`` for
each deadline of each case the record names, computed from the case as of the version the
record names — the same arithmetic as every other public deadline (domain.booking_deadlines,
the review period of filings). The public side applies one only where that deadline was
pending, so a deadline that no longer runs is never brought back.
"""

from __future__ import annotations

import contextlib
from typing import Any
from uuid import UUID

from bridge.translation import PublicEvent, Sources, at
from domain.booking_deadlines import booking_deadlines
from domain.calendar import CalendarNotCovered
from domain.calendar_coverage import CaseAsOf, WorkingCalendarCoverage
from domain.filing import FilingStatus
from domain.services.filings import REVIEW_WORKING_DAYS


def _due(case: CaseAsOf, sources: Sources) -> tuple[str, dict[str, Any]]:
    """The receipt number and the deadlines of one case, as of its version in the record."""
    case_id, version = UUID(case["id"]), case["version"]
    if case["case_type"] == "filing":
        filing = sources.filing_at(case_id, version)
        due: dict[str, Any] = {}
        if filing.status == FilingStatus.RECEIVED:
            with contextlib.suppress(CalendarNotCovered):
                due["review_deadline"] = sources.calendar.deadline_after(
                    filing.received_at, REVIEW_WORKING_DAYS
                )
        return filing.receipt_number, due
    booking = sources.booking_at(case_id, version)
    deadlines = booking_deadlines(sources.calendar, booking)
    named = {
        "forwarding_deadline": deadlines.forward_by,
        "reply_deadline": deadlines.reply_by,
        "inspection_deadline": deadlines.inspect_by,
    }
    return booking.receipt_number, {
        name: d.at for name, d in named.items() if d is not None and d.at is not None
    }


def coverage_recorded(
    event: WorkingCalendarCoverage.Recorded, sources: Sources
) -> list[PublicEvent]:
    events: list[PublicEvent] = [
        (
            "calendar.coverage.v1",
            {
                "covered_until": event.covered_until,
                "first_uncovered_year": event.first_uncovered_year,
                "recorded_at": at(event.timestamp),
            },
        )
    ]
    for case in event.determined:
        receipt, due = _due(case, sources)
        events += [
            (
                "case.deadline_determined.v1",
                {"receipt_number": receipt, "deadline": name, "due_at": at(moment)},
            )
            for name, moment in sorted(due.items())
        ]
    return events


CALENDAR_ALLOW_LIST = {("firegov:WorkingCalendarCoverage.Recorded", 1): coverage_recorded}
