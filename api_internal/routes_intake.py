"""Citizens' submissions seen from the staff side (issue 4, intake; RULES.md Art. 29): the
submissions that the internal side refused on import, with the reason the applicant reads on
the tracking page. Thin: authorise, one query, respond."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api_internal.common import ROLE_REFUSED, caught_up
from api_internal.deps import BackendDep, StaffDep
from domain.permissions import Command, authorize

router = APIRouter(prefix="/api/v1/intake", tags=["网上申报 intake"])


@router.get(
    "/quarantine",
    summary="导入时被拒收的网上申报（最新在前，分页）",
    description="内网导入时复核不通过、未予受理的网上申报：受理编号、申报类型（filing 备案 / "
    "booking 预约）、原因代码、出错的字段或文件（整条记录有误时为 null）、中英文原因（与申请人"
    "在进度查询页看到的相同）、拒收时间（北京时间）。受理窗口、纪保督察和审计管理员可看全市"
    "（拒收的申报未成为案件，常常无法确定管辖机构；所列内容不含个人信息）。按拒收时间倒序，"
    "page 从 1 起，size 每页 1-100 条（默认 20）；可按 receipt_number 查一件。",
    responses=ROLE_REFUSED,
)
def quarantined_submissions(
    actor: StaffDep,
    backend: BackendDep,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
    receipt_number: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9-]{1,40}$")] = None,
) -> dict[str, Any]:
    """Scoping: city-wide for every permitted role, clerks of every brigade included.

    A submission refused on import never became a case and often has no agency at all (an
    unknown district, a record that is not even JSON); the refusal is recorded under the
    system actor, with no competent agency, so there is no jurisdiction to scope it by. What
    the list shows is safe to show to every window: the receipt number, a code, a field name
    and a reason written for the applicant, never the submitted values or personal data. And
    an applicant who asks why may call or visit any window with the receipt number, so every
    window must be able to answer. Supervisors and auditors read the whole city anyway.
    """
    authorize(actor, Command.VIEW_QUARANTINE, backend.agencies)
    found = caught_up(backend).quarantine_queries.page(
        page, size, receipt_number.upper() if receipt_number else None
    )
    return asdict(found)
