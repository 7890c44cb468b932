"""Days with room (issue 4, capacity): per agency, the upcoming working days whose morning or
afternoon still has free inspection places, as the internal side last published them
(projections.public.bookings). The public side knows no calendar and no capacity of its own;
it only drops the half days that have begun."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from api_public.pages_render import SHANGHAI
from api_public.problems import PublicProblem
from api_public.routes import BackendDep, PublicBackend, rate_limited
from projections.api_docs import problems

router = APIRouter(prefix="/api/v1", dependencies=[Depends(rate_limited)])

AVAILABILITY_DESCRIPTION = (
    "各消防救援机构今后若干个工作日（按工作日历，不含节假日）每个半天（上午/下午）的检查名额"
    "（capacity）和剩余名额（free）；只列出仍有剩余名额、尚未开始的半天。数据由内网按预约情况"
    "公布，名额变化后片刻即更新。"
)


def unknown_agency(code: str) -> PublicProblem:
    return PublicProblem(
        404,
        "agency_not_found",
        "没有该消防救援机构的可预约时段，请核对机构代码",
        "no days with room are published for this agency code",
        agency=code,
    )


@router.get(
    "/agencies/{code}/availability",
    tags=["预约 bookings"],
    summary="某机构可预约检查的工作日（上午/下午剩余名额）",
    description=AVAILABILITY_DESCRIPTION + "机构代码未知返回 404。",
    responses=problems(404),
)
def agency_availability(code: str, backend: BackendDep, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "no-cache"  # a place booked a moment ago is gone
    found = backend.queries.availability(backend.clock(), code.strip()[:32])
    if not found:
        raise unknown_agency(code[:32])
    return found[0] | {"calendar_note": calendar_note(backend)}


@router.get(
    "/availability",
    tags=["预约 bookings"],
    summary="各机构可预约检查的工作日（上午/下午剩余名额）",
    description=AVAILABILITY_DESCRIPTION + "可按机构代码（agency）筛选；机构代码未知返回 404。",
    responses=problems(404),
)
def availability(
    backend: BackendDep,
    response: Response,
    agency: Annotated[str | None, Query(max_length=32)] = None,
) -> dict[str, Any]:
    response.headers["Cache-Control"] = "no-cache"
    found = backend.queries.availability(backend.clock(), agency.strip() if agency else None)
    if agency and not found:
        raise unknown_agency(agency)
    return {"agencies": found, "calendar_note": calendar_note(backend)}


# The list of days is at most FIREGOV_AVAILABILITY_DAYS (20) working days: about four weeks,
# six around the Spring Festival. Within this many days of the calendar's end, say why it ends.
NOTE_WITHIN_DAYS = 45


def calendar_note(backend: PublicBackend) -> dict[str, Any] | None:
    """Why the list of days ends early: the next year's holidays are not published yet (issue
    16). None when the calendar reaches far enough, or before the internal side said anything."""
    coverage = backend.queries.calendar_coverage()
    if coverage is None:
        return None
    today = backend.clock().astimezone(SHANGHAI).date()
    until, year = coverage["covered_until"], int(coverage["first_uncovered_year"])
    if until is not None and (date.fromisoformat(until) - today).days > NOTE_WITHIN_DAYS:
        return None
    return {
        "covered_until": until,
        "year": year,
        "message_zh": f"{year}年的日期待国务院公布{year}年节假日安排后开放预约",
        "message_en": f"Days in {year} open for booking once the State Council publishes the "
        f"holidays of {year}",
    }
