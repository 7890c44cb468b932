"""How ``firegov calendar import`` shows a holiday notice and writes it as an override file.

The table puts what the notice says beside what the statutory rules ask (放假办法), so the
operator checks it against the published text before writing; the file is the format of
deployment/calendar/README.md with one commented line per festival.
"""

from __future__ import annotations

import json
from datetime import date

from domain.holiday_notice import HolidayNotice, statutory_days

_WEEKDAY_ZH = "一二三四五六日"


def _day(day: date) -> str:
    return f"{day.isoformat()}（周{_WEEKDAY_ZH[day.weekday()]}）"


def _days(days: tuple[date, ...]) -> str:
    if not days:
        return "—"
    if len(days) > 2 and (days[-1] - days[0]).days == len(days) - 1:
        return f"{_day(days[0])} 至 {_day(days[-1])}"
    return "、".join(map(_day, days))


def notice_table(notice: HolidayNotice) -> str:
    rules = statutory_days(notice.year)
    lines = [
        f"{notice.source}",
        f"{notice.year} 年 / year {notice.year}",
        "",
        "| 节日 festival | 放假 days off | 共 days | 法定 statutory "
        "| 调休上班 make-up working days |",
        "| --- | --- | --- | --- | --- |",
    ]
    for item in notice.items:
        required = sum(rules[f] for f in item.festival.split("、"))
        lines.append(
            f"| {item.festival} | {_days(item.days_off)} | {len(item.days_off)} | {required} "
            f"| {_days(item.workdays)} |"
        )
    weekdays_off = sum(d.weekday() < 5 for d in notice.holidays)
    lines += [
        "",
        f"放假 {len(notice.holidays)} 天（其中工作日 {weekdays_off} 天），"
        f"调休上班 {len(notice.workdays)} 天；法定节假日共 {sum(rules.values())} 天 / "
        f"{len(notice.holidays)} days off ({weekdays_off} on weekdays), "
        f"{len(notice.workdays)} make-up working days; {sum(rules.values())} statutory days",
    ]
    if notice.other_years:
        named = "、".join(d.isoformat() for d in notice.other_years)
        lines.append(
            f"通知提及的其他年份日期 {named} 由该年的日历决定，不写入本年文件 / "
            f"dates in other years ({named}) are left to those years' calendars"
        )
    lines += [f"提示 warning: {warning}" for warning in notice.warnings]
    return "\n".join(lines)


def notice_toml(notice: HolidayNotice) -> str:
    def listed(days: tuple[date, ...]) -> str:
        return ", ".join(f'"{d.isoformat()}"' for d in days if d.year == notice.year)

    out = [
        f"# 由 firegov calendar import 从《{notice.title}》生成；请与原文逐日核对。",
        f"# Written by `firegov calendar import` from the notice of {notice.year}.",
        f"year = {notice.year}",
        f"source = {json.dumps(notice.source, ensure_ascii=False)}",  # a TOML basic string
        "complete = true",
        "",
        "holidays = [",
    ]
    out += [
        f"    {listed(i.days_off)},  # {i.festival}" for i in notice.items if listed(i.days_off)
    ]
    out += ["]", "", "workdays = ["]
    out += [
        f"    {listed(i.workdays)},  # {i.festival}" for i in notice.items if listed(i.workdays)
    ]
    out += ["]", ""]
    return "\n".join(out)
