"""Properties of working-day counting over the bundled years (2005-2026).

Start dates stop at 2026-10-31 so that 30 working days never run into uncovered 2027.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import SHANGHAI, WorkingDayCalendar

# An override directory that holds nothing: the properties are about the bundled data.
CALENDAR = WorkingDayCalendar(Path(__file__).resolve().parent / "no-calendar-overrides")
FIRST, LAST = date(2005, 1, 1), date(2026, 10, 31)
FAST = settings(max_examples=150, deadline=None)

days = st.dates(min_value=FIRST, max_value=LAST)
counts = st.integers(min_value=0, max_value=30)
zones = st.sampled_from(
    [SHANGHAI, UTC, timezone(timedelta(hours=-10)), timezone(timedelta(hours=14))]
)
moments = st.datetimes(datetime(2005, 1, 2), datetime(2026, 10, 30), timezones=zones)


@FAST
@given(days, st.integers(min_value=1, max_value=30))
def test_a_deadline_is_a_working_day_after_the_start(start: date, n: int) -> None:
    deadline = CALENDAR.add_working_days(start, n)
    assert deadline > start
    assert CALENDAR.is_working_day(deadline)


@FAST
@given(days, counts)
def test_exactly_n_working_days_lie_after_the_start_up_to_the_deadline(start: date, n: int) -> None:
    deadline = CALENDAR.add_working_days(start, n)
    between = [start + timedelta(days=i) for i in range(1, (deadline - start).days + 1)]
    assert sum(map(CALENDAR.is_working_day, between)) == n


@FAST
@given(days, counts, counts)
def test_more_days_never_give_an_earlier_deadline(start: date, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert CALENDAR.add_working_days(start, low) <= CALENDAR.add_working_days(start, high)


@FAST
@given(days, st.integers(min_value=0, max_value=15), st.integers(min_value=0, max_value=15))
def test_counting_in_two_steps_is_counting_at_once(start: date, a: int, b: int) -> None:
    in_two = CALENDAR.add_working_days(CALENDAR.add_working_days(start, a), b)
    assert in_two == CALENDAR.add_working_days(start, a + b)


@FAST
@given(moments)
def test_next_working_noon_is_noon_of_a_working_day_strictly_after_the_moment(
    moment: datetime,
) -> None:
    # Strictly after always: before noon of a working day it is that noon; at noon or later,
    # or on a day off, it is a later day's noon.
    noon = CALENDAR.next_working_noon(moment)
    assert noon.tzinfo is SHANGHAI
    assert noon.time() == time(12)
    assert CALENDAR.is_working_day(noon.date())
    assert noon > moment
    # ...and no working noon lies in between: it is the first one.
    local = moment.astimezone(SHANGHAI)
    day = local.date()
    while day < noon.date():
        assert not CALENDAR.is_working_day(day) or (
            day == local.date() and local.time() >= time(12)
        )
        day += timedelta(days=1)


@FAST
@given(moments, counts)
def test_the_time_left_to_a_fresh_deadline_is_its_number_of_working_days(
    moment: datetime, n: int
) -> None:
    deadline = CALENDAR.deadline_after(moment, n)
    assert CALENDAR.working_days_left(moment, deadline) == n
    assert not CALENDAR.is_overdue(moment, deadline)
    assert CALENDAR.is_overdue(deadline + timedelta(microseconds=1), deadline)
