"""Warnings before the year turns (issue 16; RULES.md "Time"): how far the working-day calendar
reaches (``coverage_status``), when staff must be warned (from 1 November while next year is
not covered, and all the time while this year is not), the watch that keeps the answer for the
Shanghai day and sees a new file at once, and the log's warning given once a day.

Years are counted from the first year the bundled package lacks (2027 with chinesecalendar
1.11), so the tests hold when a newer package covers more. The calendar files are written by
the tests into temporary directories: test fixtures, not the State Council's arrangements.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from deployment.calendar_warning import calendar_warning
from domain.calendar import SHANGHAI, WorkingDayCalendar, coverage_status
from domain.calendar_watch import CoverageWatch
from tests.support import Clock


def _first_year_the_package_lacks() -> int:
    calendar, year = WorkingDayCalendar(Path(tempfile.mkdtemp())), 2000
    while not calendar.coverage(year).covered:  # before the package's first year (2004)
        year += 1
    while calendar.coverage(year).covered:
        year += 1
    return year


Y = _first_year_the_package_lacks()  # 2027 with chinesecalendar 1.11.0
FIXTURE_SOURCE = "测试用日历文件，非国务院公布的安排 (test fixture)"


def write_year(directory: Path, year: int, complete: bool = True) -> Path:
    """A calendar file for ``year`` (a test fixture: Monday to Friday worked, no holidays)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{year}.toml"
    path.write_text(
        f'year = {year}\nsource = "{FIXTURE_SOURCE}"\ncomplete = {str(complete).lower()}\n',
        encoding="utf-8",
    )
    return path


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


# --- coverage_status -------------------------------------------------------------------------


def test_covered_until_is_the_package_s_last_day_without_files(tmp_path: Path) -> None:
    status = coverage_status(WorkingDayCalendar(tmp_path), date(Y - 1, 6, 1))
    assert status.covered_until == date(Y - 1, 12, 31)
    assert status.first_uncovered_year == Y
    assert [c.year for c in status.years] == [Y - 2, Y - 1, Y, Y + 1]
    last_year, this_year, next_year, _ = status.years
    assert [last_year.covered, this_year.covered, next_year.covered] == [True, True, False]
    assert this_year.origins[0].package is not None
    assert this_year.origins[0].package.startswith("chinese-calendar ")
    assert next_year.origins == ()
    assert next_year.override_path == tmp_path / f"{Y}.toml"


def test_covered_until_runs_on_through_complete_operator_files(tmp_path: Path) -> None:
    write_year(tmp_path, Y)
    write_year(tmp_path, Y + 1)
    status = coverage_status(WorkingDayCalendar(tmp_path), date(Y - 1, 6, 1))
    assert status.covered_until == date(Y + 1, 12, 31)
    assert status.first_uncovered_year == Y + 2
    (origin,) = status.years[2].origins
    assert origin.package is None
    assert origin.path == tmp_path / f"{Y}.toml"
    assert origin.source == FIXTURE_SOURCE
    assert origin.complete


def test_covered_until_stops_at_the_first_gap_and_at_a_file_of_corrections(
    tmp_path: Path,
) -> None:
    write_year(tmp_path, Y + 1)  # the year after next, but next year missing
    assert coverage_status(WorkingDayCalendar(tmp_path), date(Y - 1, 6, 1)).covered_until == (
        date(Y - 1, 12, 31)
    )
    write_year(tmp_path, Y, complete=False)  # corrections only: the year is not known
    status = coverage_status(WorkingDayCalendar(tmp_path), date(Y - 1, 6, 1))
    assert status.covered_until == date(Y - 1, 12, 31)
    assert not status.years[2].covered
    assert status.years[2].origins[0].complete is False


def test_an_invalid_file_counts_as_not_covered_and_says_why(tmp_path: Path) -> None:
    path = tmp_path / f"{Y}.toml"
    path.write_text(f'year = {Y + 5}\nsource = "x"\ncomplete = true\n', encoding="utf-8")
    status = coverage_status(WorkingDayCalendar(tmp_path), date(Y - 1, 11, 20))
    assert status.covered_until == date(Y - 1, 12, 31)
    assert status.warn
    (refused,) = status.years[2].origins
    assert refused.path == path
    assert "year" in (refused.problem_zh or "")
    assert "invalid" in (refused.problem_en or "")


def test_the_warning_starts_on_1_november_while_next_year_is_not_covered(tmp_path: Path) -> None:
    calendar = WorkingDayCalendar(tmp_path)
    assert not coverage_status(calendar, date(Y - 1, 10, 31)).warn
    assert coverage_status(calendar, date(Y - 1, 11, 1)).warn
    assert coverage_status(calendar, date(Y - 1, 12, 31)).warn


def test_on_1_january_of_an_uncovered_year_the_warning_goes_on(tmp_path: Path) -> None:
    status = coverage_status(WorkingDayCalendar(tmp_path), date(Y, 1, 1))
    assert status.warn
    assert status.covered_until is None
    assert status.first_uncovered_year == Y
    assert coverage_status(WorkingDayCalendar(tmp_path), date(Y, 7, 1)).warn  # all year


def test_once_next_year_is_loaded_the_warning_waits_for_the_next_november(tmp_path: Path) -> None:
    write_year(tmp_path, Y)
    calendar = WorkingDayCalendar(tmp_path)
    assert not coverage_status(calendar, date(Y - 1, 11, 1)).warn
    assert not coverage_status(calendar, date(Y, 1, 1)).warn
    assert not coverage_status(calendar, date(Y, 10, 31)).warn
    assert coverage_status(calendar, date(Y, 11, 1)).warn  # now Y + 1 is missing


@settings(max_examples=60, deadline=None)
@given(
    files=st.sets(st.integers(Y, Y + 6), max_size=7),
    today=st.dates(date(Y - 1, 1, 1), date(Y + 6, 12, 31)),
)
def test_covered_until_and_the_warning_follow_the_files(files: set[int], today: date) -> None:
    """Against a model: covered years are the package's and those with a complete file; the
    reach is the unbroken run from today's year; warn from 1 November if next year is outside
    it, and always if this year is."""
    with tempfile.TemporaryDirectory() as name:
        for year in files:
            write_year(Path(name), year)
        status = coverage_status(WorkingDayCalendar(Path(name)), today)
    covered = set(range(Y - 30, Y)) | files
    first = today.year
    while first in covered:
        first += 1
    assert status.first_uncovered_year == first
    assert status.covered_until == (date(first - 1, 12, 31) if first > today.year else None)
    assert status.warn == (
        first == today.year or (first == today.year + 1 and today >= date(today.year, 11, 1))
    )
    assert [c.covered for c in status.years] == [
        y in covered for y in range(today.year - 1, today.year + 3)
    ]


# --- the watch and the log -------------------------------------------------------------------


def test_the_watch_keeps_the_day_s_answer_and_sees_a_new_file_at_once(tmp_path: Path) -> None:
    clock = Clock(at(date(Y - 1, 11, 2)))
    watch = CoverageWatch(WorkingDayCalendar(tmp_path), clock)
    first = watch.status()
    assert first.warn
    assert watch.status() is first  # the same day, the same files: not computed again
    write_year(tmp_path, Y)  # loaded without a restart
    assert not watch.status().warn
    assert watch.status().covered_until == date(Y, 12, 31)
    clock.advance(days=1)
    assert watch.status().today == date(Y - 1, 11, 3)


def test_the_watch_counts_days_in_shanghai(tmp_path: Path) -> None:
    # 31 October 17:00 UTC is already 1 November 01:00 in Shanghai.
    utc_evening = datetime(Y - 1, 10, 31, 17, tzinfo=UTC)
    watch = CoverageWatch(WorkingDayCalendar(tmp_path), Clock(utc_evening))
    assert watch.status().today == date(Y - 1, 11, 1)
    assert watch.status().warn


def test_the_next_year_warning_is_logged_once_a_day(tmp_path: Path) -> None:
    clock = Clock(at(date(Y - 1, 10, 31), 23))
    with capture_logs() as logs:
        step = calendar_warning(WorkingDayCalendar(tmp_path), clock)
        assert step() is False  # never "moved": the loop waits its interval
        assert logs == []  # 31 October: not yet
        clock.advance(hours=1)  # 1 November 00:00 in Shanghai
        for _ in range(3):
            step()
            clock.advance(hours=7)  # 00:00, 07:00, 14:00: the same day
        assert len(logs) == 1
        clock.advance(hours=3)  # 2 November 00:00
        step()
        step()
    assert [log["event"] for log in logs] == ["calendar_next_year_not_covered"] * 2
    first = logs[0]
    assert first["log_level"] == "warning"
    assert first["year"] == Y
    assert first["covered_until"] == date(Y - 1, 12, 31).isoformat()
    assert first["file"] == str(tmp_path / f"{Y}.toml")
    assert "firegov calendar import" in first["load_with"]


def test_no_warning_is_logged_once_next_year_is_loaded(tmp_path: Path) -> None:
    clock = Clock(at(date(Y - 1, 11, 20)))
    with capture_logs() as logs:
        step = calendar_warning(WorkingDayCalendar(tmp_path), clock)
        step()
        write_year(tmp_path, Y)
        clock.advance(days=1)
        step()
        clock.advance(days=30)
        step()
    assert len(logs) == 1
