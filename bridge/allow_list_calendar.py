"""What crosses of the working-day calendar (issue 16): how far it reaches, and the deadlines
that its growth determined.

``WorkingCalendarCoverage.Recorded`` crosses as ``calendar.coverage.v1`` (the public side's
health and its wording of pending deadlines), followed by a ``case.deadline_determined.v1`` for
each deadline of each case the record names, computed from the case as of the version the
record names: the deadlines the coverage job itself looked at (running_deadlines). The public
side applies one only where that deadline was pending, so a deadline that no longer runs is
never brought back.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from bridge.translation import PublicEvent, Sources, at
from domain.booking import Booking
from domain.calendar_coverage import CaseAsOf, WorkingCalendarCoverage
from domain.filing import Filing
from domain.services.calendar_coverage import running_deadlines


def _due(case: CaseAsOf, sources: Sources) -> tuple[str, dict[str, datetime]]:
    """The receipt number and the running deadlines of one case, as of its version in the
    record (domain.services.calendar_coverage.running_deadlines, as the job computed them)."""
    case_id, version = UUID(case["id"]), case["version"]
    found: Filing | Booking = (
        sources.filing_at(case_id, version)
        if case["case_type"] == "filing"
        else sources.booking_at(case_id, version)
    )
    return found.receipt_number, running_deadlines(sources.calendar, found)


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
