"""Days with room (issue 4, capacity): per agency, the upcoming working days whose morning or
afternoon still has free inspection places, as the internal side last published them
(projections.public.bookings). The public side knows no calendar and no capacity of its own;
it only drops the half days that have begun."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from api_public.problems import PublicProblem
from api_public.routes import BackendDep, rate_limited
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
    return found[0]


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
    return {"agencies": found}
