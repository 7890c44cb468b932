"""Publishing the days with room (issue 4, capacity): a job of the platform itself (the system
actor) that tells the public side, per agency, which of the next working days still have free
inspection places in the morning and the afternoon (domain.availability).

The days are the next N working days from today in Asia/Shanghai (today included when it is
one), as far as the working-day calendar knows them: the list stops at the first year the
calendar does not cover, it never guesses. Free places are the agency's capacity per half day
(BookingServiceBase.capacity) less the places booked (domain.inspection_slot), read from a
read model of slot counts handed in by the composition root, so a run costs one query rather
than loading every half day's aggregate. A new publication is recorded for an agency only when
its figures differ from the last one: after a place is booked or released, when the day rolls
over, or when a capacity changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta

from domain.actor import Actor
from domain.application import Context
from domain.availability import BookingAvailability, HalfDayRoom
from domain.booking_rules import Half
from domain.calendar import CalendarNotCovered, to_shanghai_date
from domain.errors import ConcurrentChange, NotFound
from domain.events import by
from domain.permissions import Command, authorize

# (agency, ISO day, half) -> places booked, for the half days from the first to the last day.
BookedPlaces = Callable[[date, date], Mapping[tuple[str, str, str], int]]
DEFAULT_DAYS = 20
# Calendar days looked at, at most: ends the walk even for an override file without working days.
LONGEST_WALK = 366


class AvailabilityService:
    def __init__(
        self,
        context: Context,
        capacity: Callable[[str], int],
        booked: BookedPlaces,
        days: int = DEFAULT_DAYS,
    ) -> None:
        self.ctx = context
        self.capacity = capacity
        self.booked = booked
        self.days = days

    def working_days(self, today: date) -> list[date]:
        """The next working days from ``today`` (itself included when it is one); fewer when
        the calendar stops at a year it does not cover."""
        found: list[date] = []
        day = today
        for _ in range(LONGEST_WALK):
            if len(found) >= self.days:
                break
            try:
                if self.ctx.calendar.is_working_day(day):
                    found.append(day)
            except CalendarNotCovered:
                break  # nothing beyond is known: the list ends here, and nothing fails
            day += timedelta(days=1)
        return found

    def figures(
        self, agency: str, days: list[date], booked: Mapping[tuple[str, str, str], int]
    ) -> list[HalfDayRoom]:
        """Capacity and free places of each half day of ``days`` for ``agency``. A capacity
        lowered below the places already booked shows no room, never a negative count."""
        capacity = self.capacity(agency)
        return [
            HalfDayRoom(
                day=day.isoformat(),
                half=str(half),
                capacity=capacity,
                free=max(0, capacity - booked.get((agency, day.isoformat(), str(half)), 0)),
            )
            for day in days
            for half in Half
        ]

    def _availability(self, agency: str, stamp: dict[str, object]) -> BookingAvailability:
        try:
            return self.ctx.load(
                BookingAvailability, BookingAvailability.create_id(agency), "可预约时段", "days"
            )
        except NotFound:
            pass  # the first publication of this agency opens its record
        opened: BookingAvailability = BookingAvailability._create(
            BookingAvailability.Opened,
            id=BookingAvailability.create_id(agency),
            agency=agency,
            **stamp,
        )
        return opened

    def publish_changed(self, actor: Actor, now: datetime | None = None) -> list[str]:
        """Publish the days with room of every agency whose figures changed since its last
        publication; returns the codes of the agencies published (none: nothing changed)."""
        authorize(actor, Command.PUBLISH_AVAILABILITY, self.ctx.agencies)
        stamp = self.ctx.stamp(actor) if now is None else by(actor, now)
        days = self.working_days(to_shanghai_date(stamp["timestamp"]))
        booked = self.booked(days[0], days[-1]) if days else {}
        published: list[str] = []
        for agency in self.ctx.agencies.all():
            figures = self.figures(agency.code, days, booked)
            availability = self._availability(agency.code, stamp)
            if not availability.differs(figures):
                continue
            availability.publish(figures, **stamp)
            try:
                self.ctx.save(availability)
            except ConcurrentChange:
                continue  # another publisher was first; the next round compares again
            published.append(agency.code)
        return published
