"""Days with room (issue 4, capacity; RULES.md Art. 16, 29): each agency publishes, per upcoming
working day, its capacity and free places in the morning and the afternoon; the public side
lists the half days that still have room. A full half day disappears, a release brings it back,
nothing is published again while nothing changed, holidays are never listed, and a year the
calendar does not cover ends the list without failing anything.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from api_public.app import create_public_app
from domain.availability import BookingAvailability
from domain.calendar import SHANGHAI
from domain.services.booking_base import DEFAULT_INSPECTIONS_PER_HALF_DAY
from tests.booking_support import JINSHUI, booking_input
from tests.integration.booking_bridge_fixtures import (  # noqa: F401 - the fixture
    Desks,
    both_fixture,
)
from tests.integration.bridge_fixtures import (  # noqa: F401 - the fixture
    CLERK,
    Installation,
    installation_fixture,
)

AGENCIES = 17  # Zhengzhou's detachment and its 16 brigades (deployment/data/zhengzhou.toml)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def client_of(installation: Installation) -> TestClient:
    installation.public.backend.clock = installation.clock
    return TestClient(create_public_app(installation.public.backend), raise_server_exceptions=False)


def publish_and_cross(installation: Installation) -> list[str]:
    published = installation.platform.publish_availability()
    installation.cross()
    return published


def room(installation: Installation, agency: str = JINSHUI) -> list[tuple[str, str, int]]:
    """The public list of ``agency``: (day, half, free) of each half day with room."""
    response = client_of(installation).get(f"/api/v1/agencies/{agency}/availability")
    assert response.status_code == 200, response.text
    return [(d["day"], d["half"], d["free"]) for d in response.json()["days"]]


def published_at(installation: Installation) -> dict[str, str]:
    agencies = client_of(installation).get("/api/v1/availability").json()["agencies"]
    return {a["agency"]: a["published_at"] for a in agencies}


def offer(desks: Desks, installation: Installation, day: str, half: str) -> str:
    receipt, _ = desks.book(installation)
    desks.up_to_reply(receipt)
    desks.bookings.reply_with_slot(desks.handler, receipt, day, half)
    return receipt


def test_capacity_a_full_half_day_disappears_from_the_public_list_and_a_release_brings_it_back(
    both: Installation,
) -> None:
    installation, desks = both, Desks(both)
    installation.clock.now = at(11, 24, 9, 30)  # Tuesday morning
    assert len(publish_and_cross(installation)) == AGENCIES
    listed = room(installation)
    # Today's morning has begun; its afternoon and the next 19 working days are open.
    assert listed[:3] == [("2026-11-24", "pm", 4), ("2026-11-25", "am", 4), ("2026-11-25", "pm", 4)]
    assert len(listed) == 20 * 2 - 1
    assert ("2026-11-28", "am", 4) not in listed  # a Saturday

    receipts = [
        offer(desks, installation, "2026-11-27", "am")
        for _ in range(DEFAULT_INSPECTIONS_PER_HALF_DAY)
    ]
    assert publish_and_cross(installation) == [JINSHUI]  # only the agency whose places changed
    full = room(installation)
    assert [entry for entry in full if entry[0] == "2026-11-27"] == [("2026-11-27", "pm", 4)]

    desks.bookings.cancel(desks.window, receipts[0], "计划有变")
    publish_and_cross(installation)
    assert ("2026-11-27", "am", 1) in room(installation)


def test_nothing_is_published_again_while_nothing_changed(installation: Installation) -> None:
    installation.clock.now = at(11, 24, 9, 30)
    publish_and_cross(installation)
    events = installation.platform.app.recorder.max_notification_id()
    published = published_at(installation)

    assert publish_and_cross(installation) == []
    installation.clock.now = at(11, 24, 17)  # later the same day, nothing booked
    assert publish_and_cross(installation) == []
    assert installation.platform.app.recorder.max_notification_id() == events
    assert published_at(installation) == published


def test_the_day_rolling_over_publishes_the_list_again_from_the_new_day(
    installation: Installation,
) -> None:
    installation.clock.now = at(11, 24, 23, 59)
    publish_and_cross(installation)

    installation.clock.now = at(11, 25, 0, 1)
    assert len(publish_and_cross(installation)) == AGENCIES
    availability = BookingAvailability.create_id(JINSHUI)
    days: list[Any] = installation.platform.app.repository.get(availability).days

    assert days[0] == {"day": "2026-11-25", "half": "am", "capacity": 4, "free": 4}
    assert len(days) == 20 * 2


def test_a_holiday_is_not_listed_and_a_make_up_working_saturday_is(
    installation: Installation,
) -> None:
    installation.clock.now = at(9, 24, 9)  # Thursday before the Mid-Autumn and National Day
    publish_and_cross(installation)

    days = sorted({day for day, _, _ in room(installation)})

    assert days[:6] == [
        "2026-09-24",
        "2026-09-28",  # Friday 25th is the Mid-Autumn holiday
        "2026-09-29",
        "2026-09-30",
        "2026-10-08",  # 1-7 October: National Day
        "2026-10-09",
    ]
    assert "2026-10-10" in days  # the make-up working Saturday (调休上班)
    assert "2026-09-25" not in days
    assert len(days) == 20


def test_a_year_the_calendar_does_not_cover_ends_the_list_without_failing(
    installation: Installation,
) -> None:
    installation.clock.now = at(12, 24, 13)  # Thursday afternoon; 2027 is not configured

    assert len(publish_and_cross(installation)) == AGENCIES
    days = sorted({day for day, _, _ in room(installation)})

    assert days == ["2026-12-25", "2026-12-28", "2026-12-29", "2026-12-30", "2026-12-31"]
    assert installation.public.receiver.status().healthy


def test_half_days_that_have_begun_are_dropped_when_the_public_asks(
    installation: Installation,
) -> None:
    installation.clock.now = at(11, 24, 9, 30)
    publish_and_cross(installation)

    installation.clock.now = at(11, 25, 13)  # the public side asks the next afternoon

    assert room(installation)[0] == ("2026-11-26", "am", 4)


def test_an_unknown_agency_is_a_404_problem_in_chinese_and_english(
    installation: Installation,
) -> None:
    publish_and_cross(installation)
    client = client_of(installation)

    unknown = client.get("/api/v1/agencies/zz-nowhere/availability")
    filtered = client.get("/api/v1/availability", params={"agency": "zz-nowhere"})
    everyone = client.get("/api/v1/availability").json()["agencies"]
    one = client.get("/api/v1/availability", params={"agency": JINSHUI}).json()["agencies"]

    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["code"] == "agency_not_found"
    assert unknown.json()["message_zh"]
    assert unknown.json()["message_en"]
    assert filtered.status_code == 404
    assert len(everyone) == AGENCIES
    assert [(a["agency"], a["agency_name"]) for a in one] == [(JINSHUI, "郑州市金水区消防救援大队")]
    assert one[0]["days"][0]["half_zh"] in {"上午", "下午"}


def test_before_any_publication_an_agency_has_no_list_yet(installation: Installation) -> None:
    response = client_of(installation).get(f"/api/v1/agencies/{JINSHUI}/availability")

    assert response.status_code == 404


def test_the_days_with_room_are_documented_in_chinese(installation: Installation) -> None:
    spec: dict[str, Any] = client_of(installation).get("/openapi.json").json()

    operation = spec["paths"]["/api/v1/agencies/{code}/availability"]["get"]

    assert "可预约" in operation["summary"]
    assert "404" in operation["description"]
    assert "/api/v1/availability" in spec["paths"]


def test_a_booking_submitted_elsewhere_does_not_move_the_figures_until_a_slot_is_offered(
    installation: Installation,
) -> None:
    installation.clock.now = at(11, 24, 9, 30)
    publish_and_cross(installation)

    installation.platform.services.bookings.request(CLERK, **booking_input())

    assert publish_and_cross(installation) == []
