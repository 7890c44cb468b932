"""The working-day calendar (工作日历): every deadline counted in working days (工作日) uses it.

China's working days come from the ``chinese_calendar`` package (2004-2026) and from operator
override files ``<calendar_dir>/<year>.toml`` (format: deployment/calendar/README.md). A date
that neither covers is refused with CalendarNotCovered: a weekday-only guess would silently
move legal deadlines across holidays and make-up working days (调休上班). All in Asia/Shanghai.
"""

from __future__ import annotations

import threading
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar

from domain.errors import InvalidInput

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = time(12)
# Same place as InternalSettings.calendar_dir's default; the domain must not import deployment.
DEFAULT_OVERRIDE_DIR = Path(__file__).resolve().parents[1] / "deployment" / "calendar"
_PACKAGE = f"chinese-calendar {version('chinesecalendar')}"
_KEYS = frozenset({"year", "source", "complete", "holidays", "workdays"})


def _shown(path: Path) -> str:
    """The path relative to the working directory when it lies below it: shorter in messages."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class CalendarNotCovered(InvalidInput):
    """Neither the bundled data nor an override file says which days of this year are worked."""

    code = "calendar_not_covered"

    def __init__(self, year: int, override_path: Path) -> None:
        self.year = year
        self.override_path = override_path
        super().__init__(
            f"{year} 年的工作日历尚未配置："
            f"请在 {_shown(override_path)} 中填写国务院公布的节假日安排",
            f"The working-day calendar of {year} is not configured: put the State Council's "
            f"holiday arrangement into {_shown(override_path)} (see deployment/calendar/README.md)",
            year=year,
            override_path=str(override_path),
        )


class CalendarOverrideInvalid(InvalidInput):
    code = "calendar_override_invalid"

    def __init__(self, path: Path, problem_zh: str, problem_en: str) -> None:
        self.path = path
        super().__init__(
            f"工作日历覆盖文件 {_shown(path)} 无效：{problem_zh}",
            f"Calendar override file {_shown(path)} is invalid: {problem_en}",
            path=str(path),
        )


@dataclass(frozen=True)
class CalendarSource:
    """One source of a year's working days, for the people who keep the calendar: the bundled
    ``package`` (name and version), or an operator file at ``path`` with its ``source`` line
    and whether it declares the ``complete`` year; a refused file says why (``problem_*``)."""

    package: str | None = None
    path: Path | None = None
    source: str = ""
    complete: bool = False
    problem_zh: str | None = None
    problem_en: str | None = None


@dataclass(frozen=True)
class CalendarCoverage:
    year: int
    covered: bool
    sources: tuple[str, ...]
    override_path: Path | None = None  # where the missing file goes; named when not covered
    origins: tuple[CalendarSource, ...] = ()  # ``sources`` as data (the console's calendar page)

    def __str__(self) -> str:
        listed = ", ".join(self.sources)
        if self.covered:
            return f"{self.year} 年工作日历已覆盖（{listed}） / {self.year} is covered by: {listed}"
        where = _shown(self.override_path) if self.override_path else f"{self.year}.toml"
        partial = f"; present: {listed}" if listed else ""
        return (
            f"{self.year} 年工作日历未覆盖：请在 {where} 中填写国务院公布的节假日安排 / "
            f"{self.year} is NOT covered: write {where} with complete = true{partial}"
        )


@dataclass(frozen=True)
class _Override:
    source: str
    complete: bool
    holidays: frozenset[date]
    workdays: frozenset[date]


def _iso_date(item: Any) -> date:
    # TOML's own dates are fine too; strings must be exactly YYYY-MM-DD ("2027-W01-1" and
    # "20270101" parse with date.fromisoformat but are not what an operator means to write).
    if type(item) is date:
        return item
    try:
        day = date.fromisoformat(item) if isinstance(item, str) else None
    except ValueError:
        day = None
    if day is None or day.isoformat() != item:
        raise ValueError(f'"{item}"')
    return day


def _parse(path: Path, year: int) -> _Override:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CalendarOverrideInvalid(path, f"无法读取：{error}", f"unreadable: {error}") from None
    return parse_override(text, path, year)


def parse_override(text: str, path: Path, year: int) -> _Override:
    """An override file's content, checked as the calendar checks it when it reads the file."""

    def bad(zh: str, en: str) -> CalendarOverrideInvalid:
        return CalendarOverrideInvalid(path, zh, en)

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise bad(f"无法读取：{error}", f"unreadable: {error}") from None
    if unknown := sorted(set(data) - _KEYS):
        raise bad(f"未知字段 {unknown}", f"unknown keys {unknown}")
    if type(data.get("year")) is not int or data["year"] != year:
        raise bad(f"year 必须为 {year}（与文件名一致）", f"year must be {year}, as the file name")
    source, complete = data.get("source"), data.get("complete")
    if not isinstance(source, str) or not source.strip():
        raise bad("缺少 source（数据出处）", "source (where the data comes from) is missing")
    if not isinstance(complete, bool):
        raise bad("complete 必须为 true 或 false", "complete must be true or false")
    lists: dict[str, frozenset[date]] = {}
    for key in ("holidays", "workdays"):
        raw = data.get(key, [])
        if not isinstance(raw, list):
            raise bad(f"{key} 必须是日期列表", f"{key} must be a list of dates")
        try:
            lists[key] = frozenset(map(_iso_date, raw))
        except ValueError as error:
            raise bad(
                f"{key} 含非 YYYY-MM-DD 日期：{error}", f"{key}: not an ISO date: {error}"
            ) from None
        if stray := sorted(str(d) for d in lists[key] if d.year != year):
            raise bad(f"{key} 中的 {stray} 不属于 {year} 年", f"{key}: {stray} not in {year}")
    if both := sorted(str(d) for d in lists["holidays"] & lists["workdays"]):
        raise bad(f"{both} 同时列于 holidays 与 workdays", f"{both} in both lists")
    return _Override(source.strip(), complete, lists["holidays"], lists["workdays"])


class WorkingDayCalendar:
    """Answers "is this a working day" and counts working days; thread-safe, files read once."""

    def __init__(self, override_dir: Path | None = None) -> None:
        self._dir = override_dir if override_dir is not None else DEFAULT_OVERRIDE_DIR
        self._overrides: dict[int, _Override | None] = {}
        self._answers: dict[date, bool] = {}  # only answers; a refusal is asked again
        self._lock = threading.Lock()

    def _path(self, year: int) -> Path:
        return self._dir / f"{year}.toml"

    def _override(self, year: int) -> _Override | None:
        with self._lock:
            if year in self._overrides:
                return self._overrides[year]
            path = self._path(year)
            override = _parse(path, year) if path.is_file() else None
            # Not cached: an invalid file (the error repeats until fixed) and a missing file of a
            # year the package lacks (the operator may add it without restarting the platform).
            if override is not None or _package_covers(year):
                self._overrides[year] = override
            return override

    def is_working_day(self, day: date) -> bool:
        day = to_shanghai_date(day)  # a datetime's own date may not be Shanghai's date
        answer = self._answers.get(day)
        if answer is None:
            answer = self._answers[day] = self._decide(day)
        return answer

    def _decide(self, day: date) -> bool:
        override = self._override(day.year)
        if override is not None:
            if day in override.holidays:
                return False
            if day in override.workdays:
                return True
            if override.complete:  # the operator declared the whole year: Mon-Fri is sanctioned
                return day.weekday() < 5
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            raise CalendarNotCovered(day.year, self._path(day.year)) from None

    def add_working_days(self, start: date | datetime, n: int) -> date:
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        day = to_shanghai_date(start)
        while n > 0:
            day += timedelta(days=1)
            n -= self.is_working_day(day)
        return day

    def deadline_after(self, moment: datetime, n: int) -> datetime:
        return datetime.combine(self.add_working_days(moment, n), time.max, tzinfo=SHANGHAI)

    def next_working_noon(self, moment: datetime) -> datetime:
        """Art. 15: noon of the same working day if before it, else noon of the next one."""
        local = _in_shanghai(moment)
        day = local.date()
        if not (self.is_working_day(day) and local.time() < NOON):
            day = self.add_working_days(day, 1)
        return datetime.combine(day, NOON, tzinfo=SHANGHAI)

    def working_days_left(self, now: datetime, deadline: datetime) -> int:
        day, last = to_shanghai_date(now), to_shanghai_date(deadline)
        left = 0
        while day < last:
            day += timedelta(days=1)
            left += self.is_working_day(day)
        return left

    def is_overdue(self, now: datetime, deadline: datetime) -> bool:
        return _in_shanghai(now) > _in_shanghai(deadline)

    def coverage(self, year: int) -> CalendarCoverage:
        path, override, bundled = self._path(year), self._override(year), _package_covers(year)
        sources = [_PACKAGE] if bundled else []
        origins = [CalendarSource(package=_PACKAGE)] if bundled else []
        if override is not None:
            kind = "complete year" if override.complete else "corrections"
            sources.append(f"override {_shown(path)} ({override.source}; {kind})")
            origins.append(CalendarSource(None, path, override.source, override.complete))
        covered = bundled or (override is not None and override.complete)
        return CalendarCoverage(
            year, covered, tuple(sources), None if covered else path, tuple(origins)
        )

    @property
    def override_dir(self) -> Path:
        """Where the operator files are: a file appearing there may change the coverage."""
        return self._dir


@dataclass(frozen=True)
class CoverageStatus:
    """How far ahead the calendar knows the working days, as of ``today`` (Asia/Shanghai).

    ``warn``: from 1 November (WARN_FROM) while next year is not covered, every staff member is
    told, the health checks say so and a warning is logged once a day, so that the State
    Council's notice is loaded before the first deadline reaches into the new year."""

    today: date
    covered_until: date | None  # last day of the unbroken run of covered years from today's
    first_uncovered_year: int
    years: tuple[CalendarCoverage, ...]  # last year, this year and the next two

    @property
    def warn(self) -> bool:
        return (
            self.first_uncovered_year <= self.today.year + 1
            and (self.today.month, self.today.day) >= WARN_FROM
        ) or self.first_uncovered_year <= self.today.year


WARN_FROM = (11, 1)  # the notice usually comes in November or December
_LONGEST_LOOK_AHEAD = 50  # years; ends the walk for a directory full of complete-year files


def coverage_status(calendar: WorkingDayCalendar, today: date) -> CoverageStatus:
    """Coverage from ``today``'s year on. An invalid override file counts as not covered here
    (the error itself surfaces wherever a deadline needs that year)."""

    def covered(year: int) -> bool:
        try:
            return calendar.coverage(year).covered
        except CalendarOverrideInvalid:
            return False

    year = today.year
    while covered(year) and year < today.year + _LONGEST_LOOK_AHEAD:
        year += 1
    years = []
    for shown in range(today.year - 1, today.year + 3):
        try:
            years.append(calendar.coverage(shown))
        except CalendarOverrideInvalid as invalid:
            path = invalid.path
            refused = CalendarSource(
                path=path, problem_zh=invalid.message_zh, problem_en=invalid.message_en
            )
            years.append(
                CalendarCoverage(shown, False, (f"invalid {_shown(path)}",), path, (refused,))
            )
    until = date(year - 1, 12, 31) if year > today.year else None
    return CoverageStatus(today, until, year, tuple(years))


def _package_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))  # raises for years outside its data
    except NotImplementedError:
        return False
    return True


def _in_shanghai(moment: datetime) -> datetime:
    # A naive datetime could be UTC or local time: guessing shifts deadlines by a day at night.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} refused: give it a time zone")
    return moment.astimezone(SHANGHAI)


def to_shanghai_date(moment: date | datetime) -> date:
    """The Asia/Shanghai calendar date of a moment; a plain date is taken as it is."""
    return _in_shanghai(moment).date() if isinstance(moment, datetime) else moment
