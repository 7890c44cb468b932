"""How far the working-day calendar reaches (issue 16): a fact the public side needs and cannot
compute, since it knows no calendar.

One ``WorkingCalendarCoverage`` record (natural id) whose ``Recorded`` events say, each time the
reach changes, the last day of the unbroken run of covered years and the first year not
covered. When the reach grows (the State Council's notice was loaded with ``firegov calendar
import``), the event also names the open cases whose deadlines fall in the newly covered years,
each as of its version then, so that the bridge can tell the public side their deadlines
without anyone touching the cases, and an auditor sees why they appeared when they did.
"""

from __future__ import annotations

from datetime import date
from typing import Any, TypedDict
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import IllegalTransition
from domain.events import StaffCreated, StaffEvent
from domain.numbering import natural_id


class CaseAsOf(TypedDict):
    """An open case whose deadline the new reach determines: filing or booking, as of a version."""

    case_type: str
    id: str
    version: int


class WorkingCalendarCoverage(Aggregate):
    TOPIC = "firegov:WorkingCalendarCoverage"

    class Event(StaffEvent):
        TOPIC = "firegov:WorkingCalendarCoverage.Event"

    class Created(StaffCreated):
        TOPIC = "firegov:WorkingCalendarCoverage.Created"

    def __init__(self, actor_id: str, actor_role: str, actor_agency: str) -> None:
        self.covered_until: date | None = None
        self.first_uncovered_year: int | None = None

    @staticmethod
    def create_id() -> UUID:
        return natural_id("calendar", "coverage")

    def differs(self, first_uncovered_year: int) -> bool:
        return self.first_uncovered_year != first_uncovered_year

    def record(
        self,
        covered_until: date | None,
        first_uncovered_year: int,
        sources: list[str],
        determined: list[CaseAsOf],
        **by: Any,
    ) -> None:
        if not self.differs(first_uncovered_year):
            raise IllegalTransition(
                "工作日历覆盖范围没有变化", "the calendar's reach has not changed",
                code="calendar_coverage_unchanged",
            )  # fmt: skip
        self.trigger_event(
            self.Recorded,
            covered_until=covered_until.isoformat() if covered_until else None,
            first_uncovered_year=first_uncovered_year,
            sources=list(sources),
            determined=list(determined),
            **by,
        )

    class Recorded(StaffEvent):
        TOPIC = "firegov:WorkingCalendarCoverage.Recorded"
        covered_until: str | None  # ISO date
        first_uncovered_year: int
        sources: list[str]  # where each covered year comes from, for the audit trail
        determined: list[CaseAsOf]

        def apply(self, aggregate: WorkingCalendarCoverage) -> None:
            until = self.covered_until
            aggregate.covered_until = date.fromisoformat(until) if until else None
            aggregate.first_uncovered_year = self.first_uncovered_year
