"""The State Council's yearly holiday notice (国务院办公厅关于YYYY年部分节假日安排的通知), read.

Each November or December the General Office publishes the next year's days off and make-up
working days as numbered items::

    一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
    三、清明节：4月5日放假，4月6日（星期一）补休。

``read_notice`` turns the text as published (full-width or ASCII punctuation, 周/星期, ranges
across months and years, lunar remarks in brackets, several make-up days in one sentence,
与周末连休, 不调休, 补休) into the holidays and working days of the year. Nothing is guessed:
an item clause it does not understand, a weekday in brackets that is not the date's weekday,
a "共N天" that is not the length of the range, a make-up working day that is not on a weekend,
a day both off and worked, or an unknown festival is a NoticeNotUnderstood error naming the
line. Encouragements (鼓励…休息) bind no one and are kept as remarks. What the statutory rules
say (全国年节及纪念日放假办法: 13 statutory days from 2025, 11 before; at most six working
days in a row around a holiday) is checked as warnings, never as errors: the notice is the law.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

from domain.errors import InvalidInput

# Statutory days off per festival (全国年节及纪念日放假办法 Art. 2), as amended in 2024 for
# 2025 onwards (除夕 and 2 May added) and as in force from 2008 before that.
STATUTORY_DAYS_FROM_2025 = {
    "元旦": 1, "春节": 4, "清明节": 1, "劳动节": 2, "端午节": 1, "中秋节": 1, "国庆节": 3,
}  # fmt: skip
STATUTORY_DAYS_2008_TO_2024 = {**STATUTORY_DAYS_FROM_2025, "春节": 3, "劳动节": 1}
MAX_WORKING_DAYS_IN_A_ROW = 6  # 放假办法 (2024): 原则上连续工作不超过6天

# "一、元旦：…", or as news agencies reprint it, "——元旦：…".
_ITEM = re.compile(
    r"^\s*(?:(?P<no>[一二三四五六七八九十]+)\s*[、.]|[-—–•·*]+)?\s*"
    r"(?P<name>[^:,。]{1,12}?)\s*:(?P<body>.+)$"
)
_DATE = re.compile(
    r"(?:(?P<y>\d{4})年)?(?:(?P<m>\d{1,2})月)?(?P<d>\d{1,2})日(?:\((?P<remark>[^()]*)\))?"
)
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAY = re.compile(r"(?:周|星期|礼拜)(?P<day>[一二三四五六日天])")
_YEAR = re.compile(r"(?:关于|现将)\s*(?P<y>\d{4})\s*年")
_NUMBER = re.compile(r"国办发(?:明电)?\s*[〔\[(]\s*\d{4}\s*[〕\])]\s*\d+\s*号")
_WEEKEND_JOINED = re.compile(r"^与(?:周末|周六|周日|星期六|星期日)连休$")
_SPACES = re.compile(r"\s+")


class NoticeNotUnderstood(InvalidInput):
    code = "holiday_notice_not_understood"

    def __init__(self, line_no: int, line: str, problem_zh: str, problem_en: str) -> None:
        self.line_no = line_no
        super().__init__(
            f"第 {line_no} 行无法识别（{problem_zh}）：{line.strip()}",
            f"Line {line_no} not understood ({problem_en}): {line.strip()}",
            line=line_no,
        )


@dataclass(frozen=True)
class NoticeItem:
    """One numbered item: a festival (or two merged), its days off and make-up working days."""

    line_no: int
    festival: str
    days_off: tuple[date, ...]
    workdays: tuple[date, ...]
    stated_total: int | None
    remarks: tuple[str, ...] = ()


@dataclass(frozen=True)
class HolidayNotice:
    year: int
    title: str
    document_number: str | None
    items: tuple[NoticeItem, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def holidays(self) -> tuple[date, ...]:
        """Days off in the notice's year (a range reaching into another year is cut)."""
        return tuple(sorted({d for i in self.items for d in i.days_off if d.year == self.year}))

    @property
    def workdays(self) -> tuple[date, ...]:
        return tuple(sorted({d for i in self.items for d in i.workdays if d.year == self.year}))

    @property
    def other_years(self) -> tuple[date, ...]:
        """Days the notice names in a neighbouring year (e.g. 2022-12-31 in the 2023 notice):
        that year's own calendar decides them; they are shown, never written here."""
        named = {d for i in self.items for d in (*i.days_off, *i.workdays)}
        return tuple(sorted(d for d in named if d.year != self.year))

    @property
    def source(self) -> str:
        return f"{self.title}（{self.document_number}）" if self.document_number else self.title


def statutory_days(year: int) -> dict[str, int]:
    return STATUTORY_DAYS_FROM_2025 if year >= 2025 else STATUTORY_DAYS_2008_TO_2024


def _fold(text: str) -> str:
    # Full-width digits and punctuation to ASCII, one code point for one; 。、〔〕 stay.
    return unicodedata.normalize("NFKC", text)


class _Line:
    """Reads the dates of one item line, remembering the year and month last named."""

    def __init__(self, line_no: int, raw: str, year: int) -> None:
        self.line_no, self.raw, self.year, self.month = line_no, raw, year, 0

    def fail(self, zh: str, en: str) -> NoticeNotUnderstood:
        return NoticeNotUnderstood(self.line_no, self.raw, zh, en)

    def day(self, match: re.Match[str]) -> date:
        if match["y"]:
            self.year = int(match["y"])
        if match["m"]:
            self.month = int(match["m"])
        if not self.month:
            raise self.fail("日期缺少月份", "a date without its month")
        try:
            day = date(self.year, self.month, int(match["d"]))
        except ValueError:
            raise self.fail(f"{match[0]} 不是有效日期", f"{match[0]} is not a date") from None
        if remark := match["remark"]:
            named = _WEEKDAY.search(remark)
            if named and _WEEKDAYS[named["day"]] != day.weekday():
                raise self.fail(
                    f"{day.isoformat()} 不是{named[0]}", f"{day.isoformat()} is not a {named[0]}"
                )
        return day

    def dates(self, text: str, joiner: str) -> list[date] | None:
        """All of ``text`` as dates joined by ``joiner`` ("至" for a range, "、" for a list)."""
        found, at = [], 0
        for index, match in enumerate(_DATE.finditer(text)):
            gap = text[at : match.start()]
            if gap != ("" if index == 0 else joiner):
                return None
            found.append(self.day(match))
            at = match.end()
        return found if found and at == len(text) else None


def _span(first: date, last: date) -> tuple[date, ...]:
    return tuple(first + timedelta(days=n) for n in range((last - first).days + 1))


def _is_festival(name: str) -> bool:
    parts = re.split(r"[、和]", _SPACES.sub("", name))
    return all(p in STATUTORY_DAYS_FROM_2025 for p in parts)


def _festival(line: _Line, name: str) -> str:
    parts = [p for p in re.split(r"[、和]", name) if p]
    if not parts or any(p not in STATUTORY_DAYS_FROM_2025 for p in parts):
        raise line.fail(f"未知节日「{name}」", f"unknown festival {name!r}")
    return "、".join(parts)


class _Collected:
    """What the clauses of one item said so far."""

    def __init__(self, line: _Line) -> None:
        self.line = line
        self.days_off: list[date] = []
        self.workdays: list[date] = []
        self.remarks: list[str] = []
        self.stated: int | None = None

    def clause(self, clause: str) -> None:
        line = self.line
        if total := re.fullmatch(r"共(\d+)天", clause):
            self.stated = int(total[1])
        elif clause == "不调休" or _WEEKEND_JOINED.match(clause):
            self.remarks.append(clause)
        elif off := re.fullmatch(r"(?P<dates>.+?)放假(?:调休)?(?:(?P<n>\d+)天)?", clause):
            got = line.dates(off["dates"], "至")
            if got is None or len(got) > 2:
                raise line.fail(f"无法识别的放假日期「{clause}」", f"days off: {clause!r}")
            span = _span(got[0], got[-1])
            if not span:
                raise line.fail("放假区间首尾颠倒", "the range of days off ends before it starts")
            if off["n"] and int(off["n"]) != len(span):
                raise line.fail(f"「{clause}」天数不符", f"{clause!r}: count differs")
            self.days_off.extend(span)
        elif made := re.fullmatch(r"(?P<dates>.+?)(?P<kind>上班|补休)", clause):
            got = line.dates(made["dates"], "、")
            if got is None:
                raise line.fail(f"无法识别的日期「{clause}」", f"dates: {clause!r}")
            (self.workdays if made["kind"] == "上班" else self.days_off).extend(got)
        else:
            raise line.fail(f"无法识别「{clause}」", f"clause {clause!r}")

    def checked(self) -> None:
        line, days_off, workdays = self.line, self.days_off, self.workdays
        if not days_off:
            raise line.fail("没有放假日期", "no days off")
        first_range = _span(min(days_off), max(days_off))
        if self.stated is not None and self.stated != len(first_range):
            raise line.fail(
                f"「共{self.stated}天」与放假日期（{len(first_range)} 天）不符",
                f"'{self.stated} days in all' differs from the days off ({len(first_range)})",
            )
        if weekday_workdays := [d.isoformat() for d in workdays if d.weekday() < 5]:
            raise line.fail(
                f"调休上班日 {weekday_workdays} 不在周末",
                f"make-up days {weekday_workdays} not weekends",
            )
        if both := sorted({d.isoformat() for d in days_off} & {d.isoformat() for d in workdays}):
            raise line.fail(f"{both} 既放假又上班", f"{both} both off and worked")


def _item(line_no: int, raw: str, year: int) -> NoticeItem:
    match = _ITEM.match(_fold(raw))
    assert match is not None  # noqa: S101 - the caller matched it already
    line = _Line(line_no, raw, year)
    festival = _festival(line, _SPACES.sub("", match["name"]))
    said = _Collected(line)
    for sentence in filter(None, _SPACES.sub("", match["body"]).split("。")):
        if sentence.startswith("鼓励"):  # an encouragement binds no one: 除夕 stays a workday
            said.remarks.append(sentence)
            continue
        for clause in filter(None, sentence.split(",")):
            said.clause(clause)
    said.checked()
    return NoticeItem(
        line_no, festival, tuple(sorted(set(said.days_off))), tuple(sorted(set(said.workdays))),
        said.stated, tuple(said.remarks),
    )  # fmt: skip


def read_notice(text: str, year: int | None = None) -> HolidayNotice:
    """The notice's items; ``year`` must agree with the year the notice names, if it names one."""
    lines = text.splitlines()
    named = next((int(m["y"]) for raw in lines if (m := _YEAR.search(_fold(raw)))), None)
    if year is not None and named is not None and year != named:
        raise InvalidInput(
            f"通知所述年份为 {named} 年，与指定的 {year} 年不符",
            f"The notice is about {named}, not {year}",
            code="holiday_notice_wrong_year",
        )
    year = year if year is not None else named
    if year is None:
        raise InvalidInput(
            "通知中找不到年份（如「关于2027年部分节假日安排的通知」）：请用 --year 指定",
            "The notice names no year (e.g. 关于2027年部分节假日安排的通知): give --year",
            code="holiday_notice_without_year",
        )
    title = next(
        (_SPACES.sub("", s) for s in lines if "节假日安排的通知" in s and "关于" in s),
        f"国务院办公厅关于{year}年部分节假日安排的通知",
    )
    number = next((_SPACES.sub("", m[0]) for s in lines if (m := _NUMBER.search(_fold(s)))), None)
    items: list[NoticeItem] = []
    for line_no, raw in enumerate(lines, start=1):
        folded = _fold(raw)
        item = _ITEM.match(folded)
        if item and (item["no"] or _is_festival(item["name"])):
            items.append(_item(line_no, raw, year))
        elif re.match(r"^\s*(?:\d{4}年)?\d{1,2}月\d{1,2}日.*(?:放假|上班|补休)", folded):
            # Days off outside an item: an item whose festival was lost in copying?
            raise NoticeNotUnderstood(line_no, raw, "放假安排不在节日条目中", "not in an item")
    if not items:
        raise InvalidInput(
            "通知中没有找到节假日条目（如「一、元旦：1月1日放假……」）",
            "No holiday items found (lines like 一、元旦：1月1日放假……)",
            code="holiday_notice_empty",
        )
    notice = HolidayNotice(year, title, number, tuple(items))
    if both := sorted(set(notice.holidays) & set(notice.workdays)):
        raise InvalidInput(
            f"{[d.isoformat() for d in both]} 在不同条目中既放假又上班",
            f"{[d.isoformat() for d in both]} both off and worked in different items",
            code="holiday_notice_contradicts_itself",
        )
    return HolidayNotice(year, title, number, tuple(items), tuple(_warnings(notice)))


def is_working_day(notice: HolidayNotice, day: date) -> bool:
    """The day as the notice decides it (a complete year: Monday-Friday unless listed)."""
    if day in notice.holidays:
        return False
    return day in notice.workdays or day.weekday() < 5


def _warnings(notice: HolidayNotice) -> list[str]:
    found = []
    rules = statutory_days(notice.year)
    for item in notice.items:
        required = sum(rules[f] for f in item.festival.split("、"))
        if len(item.days_off) < required:
            found.append(
                f"{item.festival}放假 {len(item.days_off)} 天，少于法定 {required} 天 / "
                f"{item.festival}: {len(item.days_off)} days off, fewer than {required} statutory"
            )
    if missing := sorted(set(rules) - {f for i in notice.items for f in i.festival.split("、")}):
        found.append(f"通知未列出 {'、'.join(missing)} / not in the notice: {missing}")
    run: list[date] = []
    day, last = date(notice.year, 1, 1), date(notice.year, 12, 31)
    while day <= last + timedelta(days=1):
        if day <= last and is_working_day(notice, day):
            run.append(day)
        else:
            if len(run) > MAX_WORKING_DAYS_IN_A_ROW:
                found.append(
                    f"连续工作 {len(run)} 天：{run[0].isoformat()} 至 {run[-1].isoformat()} / "
                    f"{len(run)} working days in a row: {run[0]} to {run[-1]}"
                )
            run = []
        day += timedelta(days=1)
    return found
