"""Reading the State Council's holiday notice (domain/holiday_notice.py): the real notices of
past years give, day by day, exactly the working days of the chinesecalendar package; nothing
the reader does not understand is guessed."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import InvalidInput
from domain.holiday_notice import NoticeNotUnderstood, is_working_day, read_notice

NOTICES = Path(__file__).resolve().parents[1] / "calendars" / "notices"


def notice_text(year: int) -> str:
    return (NOTICES / f"{year}.txt").read_text(encoding="utf-8")


def differing(year: int) -> list[date]:
    notice = read_notice(notice_text(year))
    assert notice.year == year
    return [d for d in days_of(year) if is_working_day(notice, d) != chinese_calendar.is_workday(d)]


def days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


@pytest.mark.parametrize("year", [2017, 2023, 2024, 2025, 2026])
def test_calendar_import_reads_past_notices_exactly_as_chinesecalendar(year: int) -> None:
    notice = read_notice(notice_text(year))
    assert notice.year == year
    differing = [
        d for d in days_of(year) if is_working_day(notice, d) != chinese_calendar.is_workday(d)
    ]
    assert differing == []


def test_a_separate_notice_of_the_year_is_the_only_difference_in_2015() -> None:
    # 2015's three days off for the 70th anniversary of the victory (3-5 September, the Sunday
    # the 6th worked) came in a notice of their own, which the package includes.
    notice = read_notice(notice_text(2015))
    differing = [
        d for d in days_of(2015) if is_working_day(notice, d) != chinese_calendar.is_workday(d)
    ]
    assert differing == [date(2015, 9, 3), date(2015, 9, 4), date(2015, 9, 6)]


def test_make_up_rest_days_and_joined_weekends_are_read() -> None:
    notice = read_notice(notice_text(2015))
    assert {date(2015, 4, 5), date(2015, 4, 6), date(2015, 6, 22), date(2015, 5, 1)} <= set(
        notice.holidays
    )
    assert date(2015, 10, 10) in notice.workdays


def test_a_range_reaching_into_the_previous_year_is_cut_at_the_year() -> None:
    notice = read_notice(notice_text(2023))
    assert notice.other_years == (date(2022, 12, 31),)
    assert date(2022, 12, 31) not in notice.holidays
    assert {date(2023, 1, 1), date(2023, 1, 2)} <= set(notice.holidays)


def test_an_encouragement_to_rest_binds_no_one() -> None:
    notice = read_notice(notice_text(2024))
    assert date(2024, 2, 9) not in notice.holidays  # 除夕: encouraged, not a day off
    spring = next(item for item in notice.items if item.festival == "春节")
    assert any(remark.startswith("鼓励") for remark in spring.remarks)


def test_the_title_and_document_number_become_the_source() -> None:
    notice = read_notice(notice_text(2025))
    assert notice.source == "国务院办公厅关于2025年部分节假日安排的通知（国办发明电〔2024〕12号）"


def test_seven_working_days_in_a_row_are_a_warning_not_an_error() -> None:
    notice = read_notice(notice_text(2023))
    assert any("2023-01-28" in warning and "7" in warning for warning in notice.warnings)
    assert read_notice(notice_text(2026)).warnings == ()


NEXT_YEAR = """国务院办公厅关于2099年部分节假日安排的通知
一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
{line}
"""


def refused(line: str) -> NoticeNotUnderstood:
    with pytest.raises(NoticeNotUnderstood) as caught:
        read_notice(NEXT_YEAR.format(line=line))
    return caught.value


def test_a_line_the_reader_does_not_understand_is_an_error_naming_the_line() -> None:
    error = refused("二、春节：2月15日至23日放假调休，共9天，另行通知。")
    assert error.line_no == 3
    assert "第 3 行" in error.message_zh
    assert "Line 3" in error.message_en


@pytest.mark.parametrize(
    "line",
    [
        "二、春节：2月15日（周一）至23日放假调休，共9天。",  # 2099-02-15 is a Sunday
        "二、春节：2月15日至23日放假调休，共8天。",  # nine days, not eight
        "二、春节：2月15日至23日放假调休，共9天。2月18日（周三）上班。",  # not a weekend
        "二、植树节：3月12日放假。",  # no such holiday
        "二、春节：2月30日放假。",  # no such date
        "二、春节：2月23日至15日放假调休。",  # ends before it starts
        "2月15日至23日放假调休，共9天。",  # days off outside an item
    ],
)
def test_nothing_is_guessed(line: str) -> None:
    assert refused(line).line_no == 3


def test_the_year_given_must_be_the_notices_year() -> None:
    with pytest.raises(InvalidInput, match="2098"):
        read_notice(NEXT_YEAR.format(line=""), 2098)
    headless = "一、元旦：1月1日放假。"
    with pytest.raises(InvalidInput) as caught:
        read_notice(headless)
    assert caught.value.code == "holiday_notice_without_year"
    assert read_notice(headless, 2099).holidays == (date(2099, 1, 1),)


def test_ascii_punctuation_and_the_news_agencies_dashes_are_read_alike() -> None:
    ascii_form = "2099年\n——元旦:1月1日(星期四)至3日(星期六)放假调休,共3天。1月4日(星期日)上班。"
    official = read_notice(NEXT_YEAR.format(line=""))
    assert read_notice(ascii_form, 2099).holidays == official.holidays
    assert read_notice(ascii_form, 2099).workdays == official.workdays == (date(2099, 1, 4),)


WEEKDAY = "一二三四五六日"
FESTIVALS = ["元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"]


@st.composite
def arrangements(draw: st.DrawFn) -> tuple[int, list[tuple[date, date]], list[date]]:
    """Disjoint ranges of days off in one year and weekend make-up days outside them."""
    year = draw(st.integers(2030, 2090))
    starts = sorted(draw(st.sets(st.integers(0, 330), min_size=1, max_size=7)))
    ranges: list[tuple[date, date]] = []
    for offset in starts:
        first = date(year, 1, 1) + timedelta(days=offset)
        if ranges and first <= ranges[-1][1] + timedelta(days=1):
            continue
        length = draw(st.integers(1, 9))
        ranges.append((first, min(first + timedelta(days=length - 1), date(year, 12, 31))))
    off = {d for a, b in ranges for d in (a + timedelta(n) for n in range((b - a).days + 1))}
    weekends = [d for d in days_of(year) if d.weekday() >= 5 and d not in off]
    made = sorted(draw(st.sets(st.sampled_from(weekends), max_size=len(ranges))))
    return year, ranges, made


def _written(day: date, last_month: int, style: int) -> str:
    weekday = ("周", "星期")[style % 2] + WEEKDAY[day.weekday()]
    month = "" if day.month == last_month else f"{day.month}月"
    brackets = ("（", "）") if style < 2 else ("(", ")")
    return f"{month}{day.day}日{brackets[0]}{weekday}{brackets[1]}"


@settings(max_examples=150, deadline=None)
@given(arrangements(), st.integers(0, 3))
def test_any_arrangement_written_as_a_notice_reads_back_day_by_day(
    arrangement: tuple[int, list[tuple[date, date]], list[date]], style: int
) -> None:
    year, ranges, made = arrangement
    colon, comma = ("：", "，") if style < 2 else (":", ",")
    lines = [f"国务院办公厅关于{year}年部分节假日安排的通知"]
    for number, (first, last) in enumerate(ranges):
        days = (last - first).days + 1
        span = _written(first, 0, style)
        if days > 1:
            span += "至" + _written(last, first.month, style)
        makeup = [d for d in made if made.index(d) == number]
        worked = "、".join(_written(d, 0, style) for d in makeup)
        tail = f"{worked}上班。" if worked else ""
        lines.append(
            f"{'一二三四五六七'[number]}、{FESTIVALS[number]}{colon}{span}放假调休{comma}"
            f"共{days}天。{tail}"
        )
    notice = read_notice("\n".join(lines))
    expected_off = {
        d for a, b in ranges for d in (a + timedelta(n) for n in range((b - a).days + 1))
    }
    expected_made = set(made[: len(ranges)])
    for day in days_of(year):
        working = day in expected_made or (day.weekday() < 5 and day not in expected_off)
        assert is_working_day(notice, day) == working, day
