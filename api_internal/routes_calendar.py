"""How far the working-day calendar reaches (issue 16; RULES.md "Time"): each year around today,
covered or not, from which source (the bundled package and its version, or an operator file with
its path and ``source`` line), the last day covered, and how to load a year. Any member of staff
may read it (domain.permissions VIEW_CALENDAR_COVERAGE); the console's calendar page shows the
same data (api_internal.pages_calendar)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api_internal.deps import BackendDep, StaffDep
from domain.calendar import WARN_FROM, CalendarCoverage, CalendarSource, CoverageStatus
from domain.calendar_watch import LOAD_COMMAND
from domain.permissions import Command, authorize

router = APIRouter(prefix="/api/v1/calendar", tags=["工作日历 calendar"])


class CalendarSourcePublic(BaseModel):
    kind: Literal["package", "operator_file", "invalid_file"] = Field(
        description="package 内置数据包 / operator_file 运维文件 / invalid_file 无效的运维文件"
    )
    package: str | None = Field(description="数据包及版本，如 chinese-calendar 1.11.0")
    path: str | None = Field(description="运维文件的路径（<calendar_dir>/<year>.toml）")
    source: str | None = Field(description="运维文件的 source 行：数据出处（国务院通知）")
    complete: bool | None = Field(description="运维文件是否定义全年（false：仅更正部分日期）")
    problem_zh: str | None = Field(description="文件无效的原因（中文）")
    problem_en: str | None = Field(description="why the file is refused (English)")


class CalendarYearPublic(BaseModel):
    year: int
    covered: bool = Field(description="该年每一天是否为工作日均已知")
    sources: list[CalendarSourcePublic] = Field(description="数据来源；未覆盖时可能为空")
    missing_file: str | None = Field(description="未覆盖时应写入的文件；已覆盖时为 null")


class CalendarCoveragePublic(BaseModel):
    today: date = Field(description="今天（北京时间）")
    covered_until: date | None = Field(
        description="从今年起连续覆盖的最后一天（某年 12 月 31 日）；今年未覆盖时为 null"
    )
    first_uncovered_year: int = Field(description="从今年起第一个未覆盖的年份")
    warning: bool = Field(
        description="是否提示全体工作人员：自 11 月 1 日起明年仍未覆盖，或今年未覆盖"
    )
    warn_from: str = Field(description="每年开始提示的日期（月-日）", examples=["11-01"])
    calendar_dir: str = Field(description="运维文件所在目录（FIREGOV_CALENDAR_DIR）")
    load_command: str = Field(description="载入某年工作日历的命令（在内网服务器上运行）")
    years: list[CalendarYearPublic] = Field(description="上一年、今年和后两年")


def _source(origin: CalendarSource) -> CalendarSourcePublic:
    kind: Literal["package", "operator_file", "invalid_file"] = (
        "package" if origin.package else "invalid_file" if origin.problem_zh else "operator_file"
    )
    is_file = kind == "operator_file"
    return CalendarSourcePublic(
        kind=kind,
        package=origin.package,
        path=str(origin.path) if origin.path else None,
        source=origin.source if is_file else None,
        complete=origin.complete if is_file else None,
        problem_zh=origin.problem_zh,
        problem_en=origin.problem_en,
    )


def _year(coverage: CalendarCoverage) -> CalendarYearPublic:
    return CalendarYearPublic(
        year=coverage.year,
        covered=coverage.covered,
        sources=[_source(origin) for origin in coverage.origins],
        missing_file=str(coverage.override_path) if coverage.override_path else None,
    )


def coverage_public(status: CoverageStatus, calendar_dir: Path) -> CalendarCoveragePublic:
    return CalendarCoveragePublic(
        today=status.today,
        covered_until=status.covered_until,
        first_uncovered_year=status.first_uncovered_year,
        warning=status.warn,
        warn_from=f"{WARN_FROM[0]:02d}-{WARN_FROM[1]:02d}",
        calendar_dir=str(calendar_dir),
        load_command=LOAD_COMMAND,
        years=[_year(coverage) for coverage in status.years],
    )


@router.get(
    "/coverage",
    response_model=CalendarCoveragePublic,
    summary="工作日历覆盖范围：各年是否已载入、数据来源",
    description="上一年至后两年的工作日历是否已覆盖（每一天是否为工作日均已知），来源为内置数据包"
    "（及版本）还是运维文件（路径及 source 行），从今年起连续覆盖到哪一天，以及载入某年的命令。"
    "自每年 11 月 1 日起，明年仍未覆盖时 warning 为 true（控制台向全体工作人员显示提示）。"
    "任何工作人员均可读取（不含业务数据），故登录后不会因角色被拒（401 见总说明）。",
)
def calendar_coverage(actor: StaffDep, backend: BackendDep) -> CalendarCoveragePublic:
    authorize(actor, Command.VIEW_CALENDAR_COVERAGE, backend.agencies)
    return coverage_public(backend.calendar_watch.status(), backend.calendar.override_dir)
