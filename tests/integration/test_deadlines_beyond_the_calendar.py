"""Issue 16: citizens never meet silence. A deadline that falls in a year whose holidays the
State Council has not published yet is said in words on tracking ("期限待国务院公布2027年节假日
安排后确定"); when the year's calendar file is loaded, the deadline appears without anyone
touching the case, and both sides' health say how far the calendar reaches.

The clock is set to the last days of 2026; the calendar directory is the test's own, and the
2027 file written here is a test fixture, not the State Council's arrangement."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api_public.app import create_public_app
from domain.calendar import SHANGHAI
from tests.booking_support import JINSHUI
from tests.integration.booking_bridge_fixtures import Desks
from tests.integration.bridge_fixtures import Installation, install

MONDAY_28_DECEMBER = datetime(2026, 12, 28, 10, 0, tzinfo=SHANGHAI)
# A test calendar for 2027: 1 January off, every other weekday worked.
TEST_2027 = """year = 2027
source = "test fixture: not the State Council's arrangement"
complete = true
holidays = ["2027-01-01"]
workdays = []
"""


@pytest.fixture(name="site")
def site_fixture(tmp_path: Path) -> Iterator[Installation]:
    calendar_dir = tmp_path / "calendar"
    calendar_dir.mkdir()
    built = install(tmp_path, calendar_dir=calendar_dir)
    built.clock.now = MONDAY_28_DECEMBER
    built.public.backend.clock = built.clock
    try:
        yield built
    finally:
        built.public.close()
        built.platform.close()


def track(site: Installation, receipt: str, code: str) -> dict[str, object]:
    client = TestClient(create_public_app(site.public.backend))
    response = client.get(f"/api/v1/cases/{receipt}", headers={"X-Query-Code": code})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def load_2027(site: Installation) -> None:
    (site.settings.calendar_dir / "2027.toml").write_text(TEST_2027, encoding="utf-8")


def test_a_deadline_in_an_uncovered_year_is_said_in_words_not_left_out(
    site: Installation,
) -> None:
    site.platform.record_calendar_coverage()
    receipt, code = site.file()
    site.cross()
    case = track(site, receipt, code)
    assert case["review_deadline"] is None
    assert case["deadlines_pending"] == {
        "review_deadline": {
            "year": 2027,
            "message_zh": "期限待国务院公布2027年节假日安排后确定",
            "message_en": "The deadline will be set once the State Council publishes the "
            "holidays of 2027",
        }
    }
    page = TestClient(create_public_app(site.public.backend)).post(
        "/track", data={"receipt_number": receipt, "query_code": code}
    )
    assert page.status_code == 200
    assert "审查期限：</strong>期限待国务院公布2027年节假日安排后确定" in page.text


def test_loading_the_years_calendar_determines_waiting_deadlines_without_touching_cases(
    site: Installation,
) -> None:
    site.platform.record_calendar_coverage()
    receipt, code = site.file()
    desks = Desks(site)
    booking, booking_code = desks.book(site)
    site.cross()
    assert track(site, booking, booking_code)["deadlines_pending"] == {}  # forwarded by noon
    load_2027(site)
    site.clock.advance(minutes=5)
    site.platform.projector.catch_up()  # the open cases come from the staff read model
    change = site.platform.record_calendar_coverage()
    assert change is not None
    assert change.first_uncovered_year == 2028
    assert change.determined == 1  # the filing; the booking's deadline was never pending
    site.cross()
    case = track(site, receipt, code)
    # Monday 28 December + 5 working days: 29, 30, 31 December, (1 January off), 4, 5 January.
    assert case["review_deadline"] == "2027-01-05T23:59:59+08:00"
    assert case["deadlines_pending"] == {}
    assert site.platform.record_calendar_coverage() is None  # nothing changed: nothing recorded


def test_a_deadline_no_longer_waited_on_is_not_brought_back(site: Installation) -> None:
    site.platform.record_calendar_coverage()
    receipt, code = site.file()
    site.cross()
    site.certify(receipt)  # the review ended before the calendar came
    site.cross()
    load_2027(site)
    site.platform.record_calendar_coverage()
    site.cross()
    case = track(site, receipt, code)
    assert case["review_deadline"] is None
    assert case["deadlines_pending"] == {}


def test_both_sides_health_report_how_far_the_calendar_reaches(site: Installation) -> None:
    site.platform.record_calendar_coverage()
    site.cross()
    public = TestClient(create_public_app(site.public.backend)).get("/health").json()
    assert public["calendar_covered_until"] == "2026-12-31"
    assert public["calendar_first_uncovered_year"] == 2027
    load_2027(site)
    site.platform.record_calendar_coverage()
    site.cross()
    public = TestClient(create_public_app(site.public.backend)).get("/health").json()
    assert public["calendar_covered_until"] == "2027-12-31"


def test_the_reach_is_recorded_by_the_platform_itself_for_the_audit(site: Installation) -> None:
    site.platform.record_calendar_coverage()
    history = [
        n.topic
        for n in site.platform.app.recorder.select_notifications(start=1, limit=100)
        if "WorkingCalendarCoverage" in n.topic
    ]
    assert history == [
        "firegov:WorkingCalendarCoverage.Created",
        "firegov:WorkingCalendarCoverage.Recorded",
    ]


def test_the_booking_calendar_says_why_its_list_of_days_ends(site: Installation) -> None:
    site.platform.keep_calendar_and_availability()
    site.cross()
    client = TestClient(create_public_app(site.public.backend))
    answer = client.get(f"/api/v1/agencies/{JINSHUI}/availability").json()
    assert {d["day"] for d in answer["days"]} <= {
        "2026-12-28",
        "2026-12-29",
        "2026-12-30",
        "2026-12-31",
    }
    assert (
        answer["calendar_note"]["message_zh"]
        == "2027年的日期待国务院公布2027年节假日安排后开放预约"
    )
    load_2027(site)
    site.platform.keep_calendar_and_availability()
    site.cross()
    answer = client.get(f"/api/v1/agencies/{JINSHUI}/availability").json()
    assert "2027-01-04" in {d["day"] for d in answer["days"]}
    assert answer["calendar_note"] is None
