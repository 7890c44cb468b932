"""``firegov calendar``: look at the working-day calendar (domain/calendar.py) from the shell.

``add`` counts working days the way deadlines are counted; ``check`` tells whether a year is
covered before a deadline reaches into it (exit 1 if not: usable in a cron job or a deploy
check); ``import`` reads the State Council's notice of a year's holidays and, with ``--write``,
turns it into that year's override file. Errors print in Chinese and English to stderr and exit
2, without a traceback.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from deployment.calendar_notice import notice_table, notice_toml
from deployment.settings import load_internal_settings
from domain.calendar import SHANGHAI, WorkingDayCalendar, parse_override
from domain.errors import DomainError
from domain.holiday_notice import read_notice

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


@calendar_app.command("import")
def import_notice(
    notice: Annotated[
        Path,
        typer.Argument(
            help="通知全文（UTF-8 文本）The notice's text as published, UTF-8.",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    year: Annotated[
        int | None,
        typer.Option(min=2000, max=2999, help="年份（默认取自标题）Year; default: the title's."),
    ] = None,
    write: Annotated[
        bool, typer.Option("--write", help="写入 <year>.toml Write the override file.")
    ] = False,
    replace: Annotated[
        bool, typer.Option("--replace", help="覆盖已有文件 Replace an existing file.")
    ] = False,
) -> None:
    """Read a State Council holiday notice; print what was understood; --write the year file.

    读取国务院办公厅《关于YYYY年部分节假日安排的通知》全文，列出放假与调休上班日期及法定假日
    核对；加 --write 才写入 <calendar_dir>/<year>.toml。任何无法识别的条目都报错并指明行号。
    """
    try:
        text = notice.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        _fail(f"无法读取 {notice}：{error}", f"Cannot read {notice}: {error}")
    try:
        understood = read_notice(text, year)
    except DomainError as error:
        _fail(error.message_zh, error.message_en)
    typer.echo(notice_table(understood))
    target = load_internal_settings().calendar_dir / f"{understood.year}.toml"
    if not write:
        typer.echo(f"未写入：确认无误后加 --write 写入 {target} / not written: add --write")
        return
    if target.exists() and not replace:
        _fail(
            f"{target} 已存在：核对后加 --replace 覆盖",
            f"{target} exists: add --replace to overwrite it after checking",
        )
    content = notice_toml(understood)
    try:  # what is written is what will be read
        parse_override(content, target, understood.year)
    except DomainError as error:
        _fail(error.message_zh, error.message_en)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(content, encoding="utf-8")
    partial.replace(target)
    typer.echo(f"已写入 {target} / written: {target}")
    if replace:  # a year file already read is kept until restart (domain/calendar.py)
        typer.echo("已替换原文件：请重启平台使更正生效 / replaced: restart the platform to apply")
