"""Days with room, inside (issue 4, capacity): the booked places are counted by a read model that
follows the half days' events (one query per run, not one aggregate per half day), free places
never go below zero, a publication that repeats the last one is refused, and a list of half
days out of order or with more free places than capacity never becomes a fact."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from domain.actor import Actor, Role
from domain.availability import BookingAvailability, HalfDayRoom
from domain.calendar import SHANGHAI
from domain.errors import IllegalTransition, InvalidInput
from domain.events import by
from domain.services import Services
from domain.services.availability import AvailabilityService
from projections.internal.slot_counts import SlotCounts
from projections.store import SqliteViewStore
from tests.booking_support import ERQI, JINSHUI, booking_input, staff
from tests.support import Clock, memory_services

WINDOW = Actor("window", Role.WINDOW_CLERK, JINSHUI)
SYSTEM = Actor.system("zz", "availability")
TUESDAY = datetime(2026, 11, 24, 9, 30, tzinfo=SHANGHAI)
FRIDAY = date(2026, 11, 27)


class Inside:
    """Services over the in-memory store, the slot counts over an in-memory SQLite."""

    def __init__(self) -> None:
        self.clock = Clock(TUESDAY)
        self.services: Services = memory_services(self.clock)
        self.app = self.services.context.app
        self.counts = SlotCounts(self.app, SqliteViewStore(":memory:"), batch_size=3)
        self.head = staff(self.services, "head", JINSHUI, Role.DEPT_HEAD)
        self.handler = staff(self.services, "handler", JINSHUI)

    def offer(self, day: date, half: str) -> str:
        bookings = self.services.bookings
        receipt: str = bookings.request(WINDOW, **booking_input())
        bookings.forward(WINDOW, receipt, "防火监督科")
        bookings.assign(self.head, receipt, self.handler.actor_id)
        bookings.reply_with_slot(self.handler, receipt, day, half)
        return receipt

    def service(self, capacity: int = 4) -> AvailabilityService:
        return AvailabilityService(
            self.services.context, lambda agency: capacity, self.counts.booked, days=4
        )


def test_slot_counts_follow_booked_and_released_places_and_a_rebuild_counts_the_same() -> None:
    inside = Inside()
    first = inside.offer(FRIDAY, "am")
    second = inside.offer(FRIDAY, "am")
    inside.offer(FRIDAY, "pm")
    inside.services.bookings.cancel(WINDOW, first)

    counted = dict(inside.counts.booked(FRIDAY, FRIDAY))
    inside.counts.rebuild()

    assert counted == {(JINSHUI, "2026-11-27", "am"): 1, (JINSHUI, "2026-11-27", "pm"): 1}
    assert inside.counts.booked(FRIDAY, FRIDAY) == counted
    assert inside.services.bookings.booked_places(JINSHUI, FRIDAY, "am") == [second]


def test_two_followers_of_the_slot_counts_count_each_place_once() -> None:
    inside = Inside()
    rival = SlotCounts(inside.app, inside.counts.store)
    inside.offer(FRIDAY, "am")
    rival.catch_up()
    inside.offer(FRIDAY, "am")

    assert inside.counts.booked(FRIDAY, FRIDAY) == {(JINSHUI, "2026-11-27", "am"): 2}
    assert rival.booked(FRIDAY, FRIDAY) == {(JINSHUI, "2026-11-27", "am"): 2}
    assert rival.position() == inside.app.recorder.max_notification_id()


def test_a_capacity_lowered_below_the_places_booked_shows_no_room_never_a_negative_count() -> None:
    inside = Inside()
    inside.offer(FRIDAY, "am")
    inside.offer(FRIDAY, "am")

    figures = inside.service(capacity=1).figures(
        JINSHUI, [FRIDAY], inside.counts.booked(FRIDAY, FRIDAY)
    )

    assert figures == [
        {"day": "2026-11-27", "half": "am", "capacity": 1, "free": 0},
        {"day": "2026-11-27", "half": "pm", "capacity": 1, "free": 1},
    ]


def test_the_job_publishes_only_the_agencies_whose_figures_changed() -> None:
    inside = Inside()
    service = inside.service()
    everyone = service.publish_changed(SYSTEM)

    inside.offer(FRIDAY, "pm")
    changed = service.publish_changed(SYSTEM)
    unchanged = service.publish_changed(SYSTEM)

    assert len(everyone) == len(inside.services.context.agencies.all())
    assert (changed, unchanged) == ([JINSHUI], [])
    published = inside.app.repository.get(BookingAvailability.create_id(JINSHUI))
    assert published.days[-1] == {"day": "2026-11-27", "half": "pm", "capacity": 4, "free": 3}
    assert published.days[0]["day"] == "2026-11-24"  # today counts when it is a working day
    erqi = inside.app.repository.get(BookingAvailability.create_id(ERQI))
    assert erqi.version == 2  # opened and published once


def test_only_the_platform_itself_publishes_the_days_with_room() -> None:
    from domain.errors import NotPermitted

    with pytest.raises(NotPermitted):
        Inside().service().publish_changed(WINDOW)


def record(days: list[HalfDayRoom]) -> BookingAvailability:
    availability: BookingAvailability = BookingAvailability._create(
        BookingAvailability.Opened,
        id=BookingAvailability.create_id(JINSHUI),
        agency=JINSHUI,
        **by(SYSTEM, TUESDAY),
    )
    if days:
        availability.publish(days, **by(SYSTEM, TUESDAY))
    return availability


AM = HalfDayRoom(day="2026-11-27", half="am", capacity=4, free=4)
PM = HalfDayRoom(day="2026-11-27", half="pm", capacity=4, free=0)


def test_a_publication_that_repeats_the_last_one_is_refused() -> None:
    availability = record([AM, PM])

    with pytest.raises(IllegalTransition) as refused:
        availability.publish([AM, PM], **by(SYSTEM, TUESDAY))

    assert refused.value.code == "availability_unchanged"
    assert not availability.differs([AM, PM])
    assert availability.differs([AM])


def test_even_an_empty_first_list_is_published_once() -> None:
    availability = record([])

    availability.publish([], **by(SYSTEM, TUESDAY))

    assert not availability.differs([])


@pytest.mark.parametrize(
    "days",
    [
        [PM, AM],  # out of order
        [AM, AM],  # twice
        [{**AM, "free": 5}],  # more free places than the capacity
        [{**AM, "free": -1}],
        [{**AM, "half": "noon"}],
        [{**AM, "day": "27.11.2026"}],
    ],
)
def test_a_list_out_of_order_or_with_impossible_figures_is_refused(
    days: list[HalfDayRoom],
) -> None:
    with pytest.raises(InvalidInput) as refused:
        record(days)

    assert refused.value.code == "invalid_half_day"
