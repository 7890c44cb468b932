"""``firegov calendar``: look at the working-day calendar (domain/calendar.py) from the shell.

``add`` counts working days the way deadlines are counted; ``check`` tells whether a year is
covered before a deadline reaches into it (exit 1 if not: usable in a cron job or a deploy
check). Errors print in Chinese and English to stderr and exit 2, without a traceback.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, NoReturn

import typer

from deployment.settings import load_internal_settings
from domain.calendar import SHANGHAI, WorkingDayCalendar
from domain.errors import DomainError

calendar_app = typer.Typer(help="工作日历 Working-day calendar", no_args_is_help=True)


def _calendar() -> WorkingDayCalendar:
    return WorkingDayCalendar(load_internal_settings().calendar_dir)


def _fail(message_zh: str, message_en: str) -> NoReturn:
    typer.echo(message_zh, err=True)
    typer.echo(message_en, err=True)
    raise typer.Exit(2)


def _parse_start(text: str) -> date | datetime:
    # date.fromisoformat refuses a time part, so "2026-09-30" stays a date and is not read as
    # midnight of some zone; a datetime without offset is a time on a Chinese office clock.
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        _fail(
            f"无法识别的日期或时间：{text!r}（例：2026-09-30、2026-09-30T15:00）",
            f"Not a date or datetime: {text!r} (e.g. 2026-09-30, 2026-09-30T15:00)",
        )
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=SHANGHAI)


@calendar_app.command("add")
def add(
    start: Annotated[
        str,
        typer.Argument(
            help="起始日期或时间 Start: 2026-09-30, 2026-09-30T15:00 (Asia/Shanghai) "
            "or 2026-09-30T07:00+00:00.",
            show_default=False,
        ),
    ],
    n: Annotated[int, typer.Argument(min=0, help="工作日数 Number of working days (>= 0).")],
) -> None:
    """Print the date N working days after START (counting from the next working day).

    计算 START 之后第 N 个工作日，例：2026-09-30 加 2 个工作日为 2026-10-09。
    """
    when = _parse_start(start)
    try:
        typer.echo(_calendar().add_working_days(when, n).isoformat())
    except DomainError as error:
        _fail(error.message_zh, error.message_en)


@calendar_app.command("check")
def check(
    year: Annotated[int, typer.Argument(min=1, max=9999, help="年份 Year, e.g. 2027.")],
) -> None:
    """Tell whether YEAR's working days are known; exit 0 if covered, 1 if not, 2 if invalid.

    检查某年的工作日历是否已配置（内置数据或 <year>.toml 覆盖文件）。
    """
    try:
        coverage = _calendar().coverage(year)
    except DomainError as error:
        _fail(error.message_zh, error.message_en)
    typer.echo(str(coverage))
    if not coverage.covered:
        raise typer.Exit(1)
