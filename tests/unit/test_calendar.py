"""The working-day calendar: bundled Chinese holidays, operator overrides, Art. 15 noon rule."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from domain.calendar import (
    DEFAULT_OVERRIDE_DIR,
    SHANGHAI,
    CalendarCoverage,
    CalendarNotCovered,
    CalendarOverrideInvalid,
    WorkingDayCalendar,
)
from domain.errors import InvalidInput

REPO = Path(__file__).resolve().parents[2]

OVERRIDE_2027 = """
year = 2027
source = "国务院办公厅关于2027年部分节假日安排的通知"
complete = true
holidays = ["2027-01-01", "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10",
            "2027-02-11", "2027-02-12"]
workdays = ["2027-02-20"]
"""


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A moment on the Asia/Shanghai clock."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def end_of(year: int, month: int, day: int) -> datetime:
    """The last instant of a day in Shanghai: what deadline_after returns."""
    return datetime.combine(date(year, month, day), time.max, tzinfo=SHANGHAI)


@pytest.fixture
def calendar(tmp_path: Path) -> WorkingDayCalendar:
    """Bundled data only: an empty override directory, whatever deployment/calendar holds."""
    return WorkingDayCalendar(tmp_path)


def write(directory: Path, year: int, text: str) -> Path:
    path = directory / f"{year}.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- the bundled chinese_calendar data (2004-2026) -------------------------------------------


def test_deadline_after_national_day_2026_skips_the_holiday_week(
    calendar: WorkingDayCalendar,
) -> None:
    # 10-01..10-07 off, 10-08 (Thursday) is the first working day, 10-09 the second.
    assert calendar.add_working_days(date(2026, 9, 30), 2) == date(2026, 10, 9)
    deadline = calendar.deadline_after(sh(2026, 9, 30, 15, 0), 2)
    assert deadline == end_of(2026, 10, 9)
    assert deadline.utcoffset() == timedelta(hours=8)


def test_2026_make_up_working_days_count(calendar: WorkingDayCalendar) -> None:
    # Saturdays of the Spring Festival arrangement (调休上班) and Sunday 2026-01-04.
    for make_up in (date(2026, 2, 14), date(2026, 2, 28), date(2026, 1, 4)):
        assert make_up.weekday() >= 5
        assert calendar.is_working_day(make_up)
    # Friday 2026-02-13 + 1 working day is the make-up Saturday, not Tuesday after the holiday.
    assert calendar.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)


def test_weekdays_inside_a_holiday_period_are_days_off(calendar: WorkingDayCalendar) -> None:
    assert not calendar.is_working_day(date(2026, 10, 5))  # Monday, National Day
    assert not calendar.is_working_day(date(2026, 2, 16))  # Monday, Spring Festival
    assert not calendar.is_working_day(date(2020, 1, 31))  # the 2020 extension is bundled


def test_an_ordinary_week_is_monday_to_friday(calendar: WorkingDayCalendar) -> None:
    week = [date(2026, 3, 9) + timedelta(days=i) for i in range(7)]
    assert [calendar.is_working_day(d) for d in week] == [True] * 5 + [False] * 2


def test_counting_starts_the_next_working_day_after_the_start(
    calendar: WorkingDayCalendar,
) -> None:
    assert calendar.add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)  # Fri -> Mon
    assert calendar.add_working_days(date(2026, 10, 3), 1) == date(2026, 10, 8)  # in holiday


def test_zero_working_days_is_the_start_date_itself_even_on_a_holiday(
    calendar: WorkingDayCalendar,
) -> None:
    assert calendar.add_working_days(date(2026, 10, 1), 0) == date(2026, 10, 1)
    assert calendar.deadline_after(sh(2026, 10, 1, 9, 0), 0) == end_of(2026, 10, 1)


def test_a_negative_number_of_working_days_is_refused(calendar: WorkingDayCalendar) -> None:
    with pytest.raises(ValueError, match=">= 0"):
        calendar.add_working_days(date(2026, 3, 9), -1)


def test_late_evening_utc_is_already_the_next_day_in_shanghai(
    calendar: WorkingDayCalendar,
) -> None:
    # Thursday 20:00 UTC is Friday 04:00 in Shanghai: counting starts after Friday.
    thursday_evening_utc = datetime(2026, 3, 5, 20, 0, tzinfo=UTC)
    assert calendar.add_working_days(thursday_evening_utc, 0) == date(2026, 3, 6)
    assert calendar.add_working_days(thursday_evening_utc, 1) == date(2026, 3, 9)
    assert calendar.deadline_after(thursday_evening_utc, 1) == end_of(2026, 3, 9)
    assert calendar.is_working_day(datetime(2026, 9, 30, 16, 30, tzinfo=UTC)) is False  # 10-01
    assert calendar.next_working_noon(thursday_evening_utc) == sh(2026, 3, 6, 12, 0)


def test_a_naive_datetime_is_refused_everywhere(calendar: WorkingDayCalendar) -> None:
    naive = datetime(2026, 3, 9, 10, 0)
    aware = sh(2026, 3, 9, 10, 0)
    for call in (
        lambda: calendar.is_working_day(naive),
        lambda: calendar.add_working_days(naive, 1),
        lambda: calendar.deadline_after(naive, 1),
        lambda: calendar.next_working_noon(naive),
        lambda: calendar.working_days_left(naive, aware),
        lambda: calendar.working_days_left(aware, naive),
        lambda: calendar.is_overdue(naive, aware),
        lambda: calendar.is_overdue(aware, naive),
    ):
        with pytest.raises(ValueError, match="naive datetime"):
            call()


# --- Art. 15: before 12:00 of the next working day --------------------------------------------


def test_before_noon_on_a_working_day_gives_noon_the_same_day(
    calendar: WorkingDayCalendar,
) -> None:
    assert calendar.next_working_noon(sh(2026, 3, 9, 9, 30)) == sh(2026, 3, 9, 12, 0)
    just_before = sh(2026, 3, 9, 12, 0) - timedelta(microseconds=1)
    assert calendar.next_working_noon(just_before) == sh(2026, 3, 9, 12, 0)


def test_noon_itself_and_the_afternoon_give_noon_of_the_next_working_day(
    calendar: WorkingDayCalendar,
) -> None:
    assert calendar.next_working_noon(sh(2026, 3, 9, 12, 0)) == sh(2026, 3, 10, 12, 0)
    assert calendar.next_working_noon(sh(2026, 3, 9, 15, 0)) == sh(2026, 3, 10, 12, 0)


def test_on_a_holiday_eve_noon_waits_for_the_end_of_the_holiday(
    calendar: WorkingDayCalendar,
) -> None:
    assert calendar.next_working_noon(sh(2026, 9, 30, 16, 0)) == sh(2026, 10, 8, 12, 0)
    assert calendar.next_working_noon(sh(2026, 10, 3, 9, 0)) == sh(2026, 10, 8, 12, 0)


def test_friday_afternoon_gives_monday_noon_or_the_make_up_saturday(
    calendar: WorkingDayCalendar,
) -> None:
    assert calendar.next_working_noon(sh(2026, 3, 6, 15, 0)) == sh(2026, 3, 9, 12, 0)
    assert calendar.next_working_noon(sh(2026, 3, 7, 9, 0)) == sh(2026, 3, 9, 12, 0)  # Sat
    # Friday 2026-02-13 afternoon: Saturday 02-14 is a make-up working day (调休上班).
    assert calendar.next_working_noon(sh(2026, 2, 13, 15, 0)) == sh(2026, 2, 14, 12, 0)


def test_next_working_noon_is_on_the_shanghai_clock(calendar: WorkingDayCalendar) -> None:
    # 03:59 UTC is 11:59 in Shanghai, 04:00 UTC is noon.
    assert calendar.next_working_noon(datetime(2026, 3, 9, 3, 59, tzinfo=UTC)) == sh(
        2026, 3, 9, 12, 0
    )
    result = calendar.next_working_noon(datetime(2026, 3, 9, 4, 0, tzinfo=UTC))
    assert result == sh(2026, 3, 10, 12, 0)
    assert result.tzinfo is SHANGHAI


# --- time left and overdue ----------------------------------------------------------------------


def test_working_days_left_counts_the_days_after_today_up_to_the_deadline(
    calendar: WorkingDayCalendar,
) -> None:
    now = sh(2026, 9, 30, 10, 0)
    deadline = calendar.deadline_after(now, 2)
    assert calendar.working_days_left(now, deadline) == 2  # 10-08 and 10-09
    assert calendar.working_days_left(sh(2026, 10, 5, 10, 0), deadline) == 2
    assert calendar.working_days_left(sh(2026, 10, 8, 10, 0), deadline) == 1


def test_no_working_days_are_left_on_the_deadline_day_or_after_it(
    calendar: WorkingDayCalendar,
) -> None:
    deadline = end_of(2026, 10, 9)
    assert calendar.working_days_left(sh(2026, 10, 9, 8, 0), deadline) == 0
    assert calendar.working_days_left(sh(2026, 10, 12, 8, 0), deadline) == 0


def test_working_days_left_uses_the_shanghai_date_of_now(calendar: WorkingDayCalendar) -> None:
    # Thursday 20:00 UTC is already Friday in Shanghai: only Monday is left before Monday night.
    deadline = end_of(2026, 3, 9)
    assert calendar.working_days_left(datetime(2026, 3, 5, 20, 0, tzinfo=UTC), deadline) == 1


def test_overdue_means_strictly_after_the_deadline(calendar: WorkingDayCalendar) -> None:
    deadline = calendar.deadline_after(sh(2026, 9, 30, 10, 0), 2)
    assert not calendar.is_overdue(deadline, deadline)
    assert calendar.is_overdue(deadline + timedelta(microseconds=1), deadline)
    # The same instant in UTC compares as the same instant.
    assert not calendar.is_overdue(deadline.astimezone(UTC), deadline)
    assert calendar.is_overdue(datetime(2026, 10, 9, 16, 0, tzinfo=UTC), deadline)


# --- years the package does not cover ------------------------------------------------------------


def test_2027_without_override_raises_clear_error_naming_year_and_path(tmp_path: Path) -> None:
    calendar = WorkingDayCalendar(tmp_path)
    with pytest.raises(CalendarNotCovered) as raised:
        calendar.is_working_day(date(2027, 3, 1))
    error = raised.value
    assert isinstance(error, InvalidInput)
    assert error.code == "calendar_not_covered"
    assert error.year == 2027
    assert error.override_path == tmp_path / "2027.toml"
    assert "2027 年的工作日历尚未配置" in error.message_zh
    assert str(tmp_path / "2027.toml") in error.message_zh
    assert str(tmp_path / "2027.toml") in error.message_en
    assert "2027" in error.message_en


def test_the_default_directory_names_deployment_calendar_for_the_first_uncovered_year(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The first year neither the package nor deployment/calendar covers: 2027 today, later
    # years once the operator's files for them are committed.
    monkeypatch.chdir(REPO)
    assert DEFAULT_OVERRIDE_DIR == REPO / "deployment" / "calendar"
    year = WorkingDayCalendar().coverage(2027).year
    while WorkingDayCalendar().coverage(year).covered:
        year += 1
    with pytest.raises(CalendarNotCovered) as raised:
        WorkingDayCalendar().add_working_days(date(year, 1, 4), 1)
    assert raised.value.override_path == DEFAULT_OVERRIDE_DIR / f"{year}.toml"
    assert raised.value.message_zh == (
        f"{year} 年的工作日历尚未配置：请在 deployment/calendar/{year}.toml 中"
        "填写国务院公布的节假日安排"
    )


def test_a_deadline_running_into_an_uncovered_year_is_refused_not_guessed(
    calendar: WorkingDayCalendar,
) -> None:
    with pytest.raises(CalendarNotCovered) as raised:
        calendar.add_working_days(date(2026, 12, 31), 1)
    assert raised.value.year == 2027
    with pytest.raises(CalendarNotCovered, match="2003"):
        calendar.is_working_day(date(2003, 12, 31))


def test_2027_with_override_file_gives_the_right_answer(tmp_path: Path) -> None:
    write(tmp_path, 2027, OVERRIDE_2027)
    calendar = WorkingDayCalendar(tmp_path)
    assert not calendar.is_working_day(date(2027, 1, 1))  # listed holiday
    assert calendar.is_working_day(date(2027, 2, 20))  # listed make-up Saturday
    assert not calendar.is_working_day(date(2027, 2, 6))  # unlisted Saturday: Mon-Fri rule
    assert calendar.is_working_day(date(2027, 2, 15))  # unlisted Monday
    assert calendar.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert calendar.add_working_days(date(2027, 2, 4), 1) == date(2027, 2, 15)
    assert calendar.add_working_days(date(2027, 2, 19), 1) == date(2027, 2, 20)


def test_the_example_file_is_a_valid_complete_year(tmp_path: Path) -> None:
    sample = REPO / "deployment" / "calendar" / "example-2027.toml.sample"
    shutil.copy(sample, tmp_path / "2027.toml")
    calendar = WorkingDayCalendar(tmp_path)
    assert calendar.coverage(2027).covered
    assert calendar.is_working_day(date(2027, 2, 20))
    assert not calendar.is_working_day(date(2027, 10, 1))


def test_an_override_added_later_is_picked_up_without_a_restart(tmp_path: Path) -> None:
    calendar = WorkingDayCalendar(tmp_path)
    with pytest.raises(CalendarNotCovered):
        calendar.is_working_day(date(2027, 1, 1))
    write(tmp_path, 2027, OVERRIDE_2027)
    assert not calendar.is_working_day(date(2027, 1, 1))


def test_an_override_file_is_read_once(tmp_path: Path) -> None:
    path = write(tmp_path, 2027, OVERRIDE_2027)
    calendar = WorkingDayCalendar(tmp_path)
    assert calendar.is_working_day(date(2027, 2, 20))
    path.unlink()
    assert calendar.is_working_day(date(2027, 2, 20))


def test_an_incomplete_override_does_not_cover_an_uncovered_year(tmp_path: Path) -> None:
    write(
        tmp_path,
        2027,
        'year = 2027\nsource = "draft"\ncomplete = false\nworkdays = ["2027-02-20"]\n',
    )
    calendar = WorkingDayCalendar(tmp_path)
    assert calendar.is_working_day(date(2027, 2, 20))  # what it lists is answered
    with pytest.raises(CalendarNotCovered):
        calendar.is_working_day(date(2027, 2, 22))  # the rest is not guessed
    coverage = calendar.coverage(2027)
    assert not coverage.covered
    assert "draft" in coverage.sources[0]


# --- overrides of bundled years -------------------------------------------------------------


def test_override_corrects_bundled_year(tmp_path: Path) -> None:
    write(
        tmp_path,
        2026,
        'year = 2026\nsource = "更正通知"\ncomplete = false\n'
        'holidays = ["2026-10-08"]\nworkdays = ["2026-10-05"]\n',
    )
    calendar = WorkingDayCalendar(tmp_path)
    assert not calendar.is_working_day(date(2026, 10, 8))  # corrected
    assert calendar.is_working_day(date(2026, 10, 5))  # corrected
    assert calendar.is_working_day(date(2026, 2, 14))  # untouched bundled make-up day
    assert not calendar.is_working_day(date(2026, 10, 6))  # untouched bundled holiday
    assert calendar.add_working_days(date(2026, 10, 6), 2) == date(2026, 10, 10)  # 10-09, 10-10
    assert calendar.coverage(2026).sources[1].startswith("override ")
    assert "更正通知" in calendar.coverage(2026).sources[1]


def test_a_complete_override_replaces_the_bundled_year(tmp_path: Path) -> None:
    write(tmp_path, 2026, 'year = 2026\nsource = "test"\ncomplete = true\n')
    calendar = WorkingDayCalendar(tmp_path)
    assert calendar.is_working_day(date(2026, 10, 1))  # Thursday: the file says nothing
    assert not calendar.is_working_day(date(2026, 2, 14))  # Saturday


def test_toml_native_dates_are_accepted(tmp_path: Path) -> None:
    write(
        tmp_path,
        2027,
        'year = 2027\nsource = "s"\ncomplete = true\nworkdays = [2027-02-20]\n',
    )
    assert WorkingDayCalendar(tmp_path).is_working_day(date(2027, 2, 20))


HEADER = 'year = 2027\nsource = "s"\ncomplete = true\n'


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param('year = 2026\nsource = "s"\ncomplete = true\n', "year", id="year-mismatch"),
        pytest.param('year = "2027"\nsource = "s"\ncomplete = true\n', "year", id="year-string"),
        pytest.param('source = "s"\ncomplete = true\n', "year", id="year-missing"),
        pytest.param("year = 2027\ncomplete = true\n", "source", id="source-missing"),
        pytest.param('year = 2027\nsource = " "\ncomplete = true\n', "source", id="source-empty"),
        pytest.param('year = 2027\nsource = "s"\n', "complete", id="complete-missing"),
        pytest.param('year = 2027\nsource = "s"\ncomplete = "yes"\n', "complete", id="complete"),
        pytest.param(HEADER + 'holiday = ["2027-01-01"]\n', "holiday", id="unknown-key"),
        pytest.param(HEADER + 'holidays = "2027-01-01"\n', "list", id="not-a-list"),
        pytest.param(HEADER + 'holidays = ["2026-12-31"]\n', "2026-12-31", id="other-year"),
        pytest.param(HEADER + 'holidays = ["2027/01/01"]\n', "2027/01/01", id="slashes"),
        pytest.param(HEADER + 'holidays = ["20270101"]\n', "20270101", id="basic-iso"),
        pytest.param(HEADER + 'holidays = ["2027-W07-6"]\n', "2027-W07-6", id="week-date"),
        pytest.param(HEADER + 'holidays = ["2027-02-30"]\n', "2027-02-30", id="no-such-day"),
        pytest.param(HEADER + "holidays = [20270101]\n", "20270101", id="integer"),
        pytest.param(
            HEADER + "holidays = [2027-01-01T08:00:00]\n", "2027-01-01", id="toml-datetime"
        ),
        pytest.param(
            HEADER + 'holidays = ["2027-02-20"]\nworkdays = ["2027-02-20"]\n',
            "both",
            id="in-both-lists",
        ),
        pytest.param("year = 2027\nsource = \n", "unreadable", id="broken-toml"),
    ],
)
def test_an_invalid_override_file_is_refused_naming_the_file(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = write(tmp_path, 2027, text)
    calendar = WorkingDayCalendar(tmp_path)
    with pytest.raises(CalendarOverrideInvalid) as raised:
        calendar.is_working_day(date(2027, 3, 1))
    error = raised.value
    assert error.code == "calendar_override_invalid"
    assert isinstance(error, InvalidInput)
    assert str(path) in error.message_zh
    assert str(path) in error.message_en
    assert problem in error.message_en
    with pytest.raises(CalendarOverrideInvalid):  # also when asked for the coverage
        calendar.coverage(2027)


def test_an_invalid_file_fixed_later_is_read_again(tmp_path: Path) -> None:
    write(tmp_path, 2027, 'year = 2026\nsource = "s"\ncomplete = true\n')
    calendar = WorkingDayCalendar(tmp_path)
    with pytest.raises(CalendarOverrideInvalid):
        calendar.is_working_day(date(2027, 3, 1))
    write(tmp_path, 2027, OVERRIDE_2027)
    assert calendar.is_working_day(date(2027, 3, 1))


# --- coverage --------------------------------------------------------------------------------


def test_coverage_of_a_bundled_year_names_the_package(calendar: WorkingDayCalendar) -> None:
    coverage = calendar.coverage(2026)
    assert coverage.covered
    assert coverage.year == 2026
    assert len(coverage.sources) == 1
    assert coverage.sources[0].startswith("chinese-calendar 1.")
    line = str(coverage)
    assert "\n" not in line
    assert "已覆盖" in line
    assert "covered" in line
    assert calendar.coverage(2004).covered
    assert not calendar.coverage(2003).covered


def test_coverage_of_an_uncovered_year_says_where_the_file_goes(tmp_path: Path) -> None:
    coverage = WorkingDayCalendar(tmp_path).coverage(2027)
    assert coverage == CalendarCoverage(2027, False, (), tmp_path / "2027.toml")
    line = str(coverage)
    assert "\n" not in line
    assert "未覆盖" in line
    assert "NOT covered" in line
    assert str(tmp_path / "2027.toml") in line


def test_coverage_of_an_override_year_names_the_file_and_its_source(tmp_path: Path) -> None:
    write(tmp_path, 2027, OVERRIDE_2027)
    coverage = WorkingDayCalendar(tmp_path).coverage(2027)
    assert coverage.covered
    (source,) = coverage.sources
    assert str(tmp_path / "2027.toml") in source
    assert "国务院办公厅关于2027年部分节假日安排的通知" in source
    assert source in str(coverage)
