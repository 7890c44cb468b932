"""Warnings before the year turns, on the staff side (issue 16; RULES.md "Time"): from 1 November,
while next year's working-day calendar is not loaded, every member of staff sees a banner on
every console page saying so and how to load it; the staff API's ``/health`` reports how far the
calendar reaches; the calendar page (and its JSON route) shows each year around today, covered
or not, and from which source. Loading the year ends the warning without a restart.

The calendar lives in a temporary directory per test; its files are test fixtures written here
(Monday to Friday worked, no holidays), never the State Council's arrangements. The clock is
set by each test; years count from the first year the bundled package lacks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from deployment.bootstrap import Platform
from domain.actor import Role
from domain.calendar import SHANGHAI
from tests.integration.api_fixtures import assert_problem
from tests.integration.test_staff_pages import (
    SESSION_COOKIE,
    assert_accessible_page,
    console_client,
)
from tests.support import Clock, make_platform, open_account, settings_for
from tests.unit.test_calendar_coverage import FIXTURE_SOURCE, Y, write_year

STAFF_ROLES = [role for role in Role if role not in {Role.APPLICANT, Role.SYSTEM}]
DETACHMENT, JINSHUI = "zz", "zz-jinshui"
BANNER = re.compile(
    r'<div class="calendar-warning" id="calendar-warning" role="status">(.*?)</div>', re.S
)


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


@pytest.fixture(name="clock")
def clock_fixture() -> Clock:
    return Clock(at(date(Y - 1, 11, 1)))


@pytest.fixture(name="calendar_dir")
def calendar_dir_fixture(tmp_path: Path) -> Path:
    return tmp_path / "calendar"


@pytest.fixture(name="platform")
def platform_fixture(tmp_path: Path, clock: Clock, calendar_dir: Path) -> Iterator[Platform]:
    built = make_platform(settings_for(tmp_path, calendar_dir=calendar_dir), clock)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture(name="console")
def console_fixture(platform: Platform) -> TestClient:
    return console_client(platform)


class Staff:
    """A member of staff with a console session, in ``role``."""

    def __init__(self, platform: Platform, clock: Clock, role: Role) -> None:
        agency = JINSHUI if role in {Role.WINDOW_CLERK, Role.HANDLER} else DETACHMENT
        self.actor, _ = open_account(platform, f"cal-{role}", role, agency)
        self.platform, self.clock = platform, clock
        self.client = console_client(platform)

    def get(self, path: str, status: int = 200) -> str:
        # A fresh session each time: the tests' clock jumps past the idle timeout.
        token = self.platform.sessions.open(self.actor, self.clock.now)
        self.client.cookies.set(SESSION_COOKIE, token)
        response = self.client.get(path)
        assert response.status_code == status, response.text
        assert_accessible_page(response)
        html: str = response.text
        return html

    def bearer(self) -> dict[str, str]:
        token = self.platform.sessions.open(self.actor, self.clock.now)
        return {"Authorization": f"Bearer {token}"}


def banner(html: str) -> str | None:
    found = BANNER.search(html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip() if found else None


def test_from_november_every_staff_member_sees_that_next_year_is_not_covered(
    platform: Platform, clock: Clock
) -> None:
    for role in STAFF_ROLES:
        member = Staff(platform, clock, role)
        for path, status in [("/console", 200), ("/console/calendar", 200),
                             ("/console/find?receipt=%3F", 422)]:  # fmt: skip
            html = member.get(path, status)
            said = banner(html)
            assert said is not None, (role, path)
            assert said.startswith(f"{Y} 年工作日历尚未载入：")
            assert f"《关于{Y}年部分节假日安排的通知》" in said
            assert "请系统管理员运行 firegov calendar import 通知.txt --write" in said
            assert f"期限落在 {Y} 年的案件暂时显示“期限未知”" in said
            # The way to the calendar page, which every member of staff may read.
            assert '<a href="/console/calendar">工作日历</a>' in html


def test_no_banner_before_november_or_once_next_year_is_loaded(
    platform: Platform, clock: Clock, calendar_dir: Path
) -> None:
    clerk = Staff(platform, clock, Role.WINDOW_CLERK)
    clock.now = at(date(Y - 1, 10, 31), 23)
    assert banner(clerk.get("/console")) is None
    clock.advance(hours=1)  # 1 November, 00:00 in Shanghai
    assert banner(clerk.get("/console")) is not None
    write_year(calendar_dir, Y)  # loaded while the console runs: no restart
    assert banner(clerk.get("/console")) is None
    clock.now = at(date(Y, 1, 4))
    assert banner(clerk.get("/console")) is None
    clock.now = at(date(Y, 11, 1))  # and a year later, the year after is missing
    assert f"{Y + 1} 年工作日历尚未载入" in (banner(clerk.get("/console")) or "")


def test_health_reports_calendar_covered_until(
    platform: Platform, clock: Clock, calendar_dir: Path, console: TestClient
) -> None:
    clock.now = at(date(Y - 1, 10, 31))
    health = console.get("/health").json()
    assert health["calendar_covered_until"] == f"{Y - 1}-12-31"
    assert health["calendar_warning"] is False
    assert health["status"] == "ok"
    clock.now = at(date(Y - 1, 11, 1))
    health = console.get("/health").json()
    assert health["calendar_covered_until"] == f"{Y - 1}-12-31"
    assert health["calendar_warning"] is True
    assert health["status"] == "ok"  # a warning, not a failure: the platform goes on
    clock.now = at(date(Y, 1, 1))
    assert console.get("/health").json()["calendar_covered_until"] is None
    write_year(calendar_dir, Y)
    health = console.get("/health").json()
    assert health["calendar_covered_until"] == f"{Y}-12-31"
    assert health["calendar_warning"] is False


def test_the_calendar_page_shows_each_year_and_its_source(
    platform: Platform, clock: Clock, calendar_dir: Path, console: TestClient
) -> None:
    loaded = write_year(calendar_dir, Y)
    refused = calendar_dir / f"{Y + 1}.toml"
    refused.write_text(f'year = {Y + 1}\nsource = "草稿"\ncomplete = "yes"\n', encoding="utf-8")
    # The system administrator keeps the calendar; every role reads it, read-only.
    for role in [Role.SYSTEM_ADMIN, Role.HANDLER, Role.AUDITOR]:
        member = Staff(platform, clock, role)
        html = member.get("/console/calendar")
        assert "<h1>工作日历</h1>" in html
        assert re.search(r'<dd id="covered-until">\s*' + f"{Y}-12-31", html)
        rows = dict(re.findall(r'<tr id="year-(\d+)"[^>]*>(.*?)</tr>', html, re.S))
        assert sorted(rows) == [str(y) for y in range(Y - 2, Y + 2)]
        assert "已覆盖" in rows[str(Y - 1)]
        assert "内置数据包 <code>chinese-calendar 1." in rows[str(Y - 1)]
        assert "已覆盖" in rows[str(Y)]
        assert f"运维文件 <code>{loaded}</code>（出处：{FIXTURE_SOURCE}；全年）" in rows[str(Y)]
        assert "未覆盖" in rows[str(Y + 1)]
        assert f"运维文件 <code>{refused}</code> 无效，未采用：" in rows[str(Y + 1)]
        assert "complete 必须为 true 或 false" in rows[str(Y + 1)]
        assert "<code>firegov calendar import 通知.txt --write</code>" in html
        assert f"<code>{calendar_dir}/{Y + 1}.toml</code>" in html
        # Read-only: the only forms are the frame's (large text, logout).
        assert re.findall(r'<form[^>]*action="([^"]+)"', html) == [
            "/console/large-text",
            "/console/logout",
        ]

        body = console.get("/api/v1/calendar/coverage", headers=member.bearer()).json()
        assert body["today"] == f"{Y - 1}-11-01"
        assert body["covered_until"] == f"{Y}-12-31"
        assert body["first_uncovered_year"] == Y + 1
        assert body["warning"] is False  # next year is loaded
        assert body["calendar_dir"] == str(calendar_dir)
        assert body["load_command"] == "firegov calendar import 通知.txt --write"
        years = {y["year"]: y for y in body["years"]}
        assert [s["kind"] for s in years[Y - 1]["sources"]] == ["package"]
        assert years[Y - 1]["sources"][0]["package"].startswith("chinese-calendar 1.")
        (own,) = years[Y]["sources"]
        assert own == {
            "kind": "operator_file", "package": None, "path": str(loaded),
            "source": FIXTURE_SOURCE, "complete": True, "problem_zh": None, "problem_en": None,
        }  # fmt: skip
        (bad,) = years[Y + 1]["sources"]
        assert bad["kind"] == "invalid_file"
        assert "complete must be true or false" in bad["problem_en"]
        assert years[Y + 1]["missing_file"] == str(refused)
        assert years[Y - 2]["covered"] is True  # last year, this year and the next two
        assert years[Y]["missing_file"] is None


def test_the_calendar_coverage_needs_a_session(console: TestClient) -> None:
    assert_problem(console.get("/api/v1/calendar/coverage"), 401, "not_authenticated")
    page = console.get("/console/calendar")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/console/login")


def test_the_calendar_coverage_is_documented(console: TestClient) -> None:
    document = console.get("/openapi.json").json()
    operation = document["paths"]["/api/v1/calendar/coverage"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] == (
        "#/components/schemas/CalendarCoveragePublic"
    )
    assert "/console/calendar" not in document["paths"]
