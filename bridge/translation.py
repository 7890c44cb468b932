"""What every translation of the allow-list shares (bridge.allow_list for filings and intake,
bridge.allow_list_bookings for bookings): the shape of a public event, the aggregates as of
a version, the sources a translation may consult, and how moments and deadlines are written.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.agencies import AgencyDirectory
from domain.booking import Booking
from domain.calendar import SHANGHAI, CalendarNotCovered, WorkingDayCalendar
from domain.filing import Filing

PublicEvent = tuple[str, dict[str, Any]]


class RecentAggregates:
    """Aggregates as of a version, for the translations. The outbound reads the log in order,
    so it rolls the aggregates it has seen forward with each event (no query); anything else
    is rebuilt from the store. Private to one outbound bridge: nothing else mutates them."""

    def __init__(self, app: Any, size: int = 2048) -> None:
        self.app = app
        self.size = size
        self._cache: OrderedDict[Any, Any] = OrderedDict()

    def observe(self, event: Any) -> None:
        """Roll the cached aggregate forward by ``event`` (read in log order)."""
        key = event.originator_id
        cached = self._cache.pop(key, None)
        if event.originator_version == 1:
            cached = event.mutate(None)
        elif cached is not None and cached.version == event.originator_version - 1:
            cached = event.mutate(cached)
        else:
            return  # not seen from the start: rebuilt on demand
        self._cache[key] = cached
        if len(self._cache) > self.size:
            self._cache.popitem(last=False)

    def at(self, aggregate_id: Any, version: int) -> Any:
        cached = self._cache.get(aggregate_id)
        if cached is not None and cached.version == version:
            return cached
        return self.app.repository.get(aggregate_id, version=version)


@dataclass(frozen=True)
class Sources:
    """What translations may consult besides the event itself."""

    calendar: WorkingDayCalendar
    agencies: AgencyDirectory
    filing_at: Callable[[Any, int], Filing]  # the filing as of a version
    booking_at: Callable[[Any, int], Booking]  # the booking as of a version


def at(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")


# The deadlines a translation could not compute for want of a year's calendar, as
# (deadline field, year): bridge.allow_list.translate adds a case.deadline_pending.v1 for each.
_pending: ContextVar[list[tuple[str, int]] | None] = ContextVar("pending", default=None)


def known(compute: Callable[[], datetime | None], deadline: str = "") -> str | None:
    """A deadline as the public sees it, or None while the calendar of its year is not
    configured (or no period runs): the bridge must never stop for want of a deadline. The
    first is noted under ``deadline`` (the payload field, with the year it waits for) so that
    the applicant is told why."""
    try:
        moment = compute()
    except CalendarNotCovered as missing:
        noted = _pending.get()
        if noted is not None and deadline:
            noted.append((deadline, missing.year))
        return None
    return at(moment) if moment is not None else None


def noting_pending(translate: Callable[[], list[PublicEvent]]) -> list[PublicEvent]:
    """The public events of one translation, each deadline it could not compute followed by a
    case.deadline_pending.v1 naming the year whose calendar is missing."""
    noted: list[tuple[str, int]] = []
    token = _pending.set(noted)
    try:
        events = translate()
    finally:
        _pending.reset(token)
    receipt = next((p["receipt_number"] for _, p in events if "receipt_number" in p), None)
    if not noted or receipt is None:
        return events
    return events + [
        ("case.deadline_pending.v1", {"receipt_number": receipt, "deadline": name, "year": year})
        for name, year in dict(noted).items()
    ]
