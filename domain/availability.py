"""Days with room (issue 4, capacity; RULES.md Art. 11-16, 29): what one agency tells the
public about its next working days — per half day, how many inspections it can carry out and
how many places are still free.

The public side knows neither the working-day calendar nor the agencies' capacities nor the
booked places, so the internal side publishes the facts: one ``BookingAvailability`` per agency
(natural id: the agency code), whose ``Published`` events each record the whole list as it
stands. A publication that would repeat the last one is refused, so the store holds a new
fact only when the figures changed (a place booked or released, the day rolled over, a
capacity changed). The job that publishes is domain.services.availability.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypedDict
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.booking_rules import Half
from domain.errors import IllegalTransition, InvalidInput
from domain.events import StaffCreated, StaffEvent
from domain.numbering import natural_id


class HalfDayRoom(TypedDict):
    """One half day of an agency: the day (ISO), am/pm, its capacity and its free places."""

    day: str
    half: str
    capacity: int
    free: int


def check_days(days: list[HalfDayRoom]) -> None:
    """Half days in order, each once, on real dates, with 0 <= free <= capacity."""
    keys: list[tuple[date, bool]] = []
    for entry in days:
        try:
            day, half = date.fromisoformat(entry["day"]), Half(entry["half"])
            valid = day.isoformat() == entry["day"] and 0 <= entry["free"] <= entry["capacity"]
        except ValueError:
            valid = False
        if not valid:
            raise InvalidInput(
                "可预约时段数据无效（日期、上下午或名额有误）",
                f"invalid half day {entry!r}: ISO day, am/pm and 0 <= free <= capacity",
                code="invalid_half_day",
                field="days",
            )
        keys.append((day, half != Half.AM))
    if keys != sorted(set(keys)):
        raise InvalidInput(
            "可预约时段须按时间先后排列且不重复",
            "half days are listed in order, each once",
            code="invalid_half_day",
            field="days",
        )


class BookingAvailability(Aggregate):
    """The days with room that one agency last published."""

    TOPIC = "firegov:BookingAvailability"

    class Event(StaffEvent):
        TOPIC = "firegov:BookingAvailability.Event"

    class Created(StaffCreated):
        TOPIC = "firegov:BookingAvailability.Created"

    class Opened(StaffCreated):
        TOPIC = "firegov:BookingAvailability.Opened"
        agency: str

    def __init__(self, agency: str, actor_id: str, actor_role: str, actor_agency: str) -> None:
        self.agency = agency
        self.days: list[HalfDayRoom] = []  # as last published
        self.published_at: datetime | None = None

    @staticmethod
    def create_id(agency: str) -> UUID:
        return natural_id("availability", agency)

    def differs(self, days: list[HalfDayRoom]) -> bool:
        """True if ``days`` are not what was last published (a first list always differs)."""
        return self.published_at is None or days != self.days

    def publish(self, days: list[HalfDayRoom], **by: Any) -> None:
        check_days(days)
        if not self.differs(days):
            raise IllegalTransition(
                "可预约时段没有变化，无需再次公布",
                "the days with room have not changed since the last publication",
                code="availability_unchanged",
            )
        self.trigger_event(self.Published, agency=self.agency, days=list(days), **by)

    class Published(StaffEvent):
        TOPIC = "firegov:BookingAvailability.Published"
        agency: str  # carried again, so that the public translation needs no state
        days: list[HalfDayRoom]

        def apply(self, aggregate: BookingAvailability) -> None:
            aggregate.days = [HalfDayRoom(**entry) for entry in self.days]
            aggregate.published_at = self.timestamp
