"""Construction fire filings for staff (RULES.md Art. 7-10): the window's work queue, the case
with its whole history, and one route per command. Thin: parse, one service call, respond."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Query, Response

from api_internal.common import (
    CASE_REFUSED,
    COMMAND_REFUSED,
    ROLE_REFUSED,
    ExpectedVersion,
    Receipt,
    caught_up,
    visible_agencies,
)
from api_internal.deps import BackendDep, StaffDep
from api_internal.schemas import (
    CertificatePublic,
    FilingCreate,
    InspectionResultCreate,
    ReceiptPublic,
    ReferralPublic,
    ResubmissionCreate,
    RevocationCreate,
    SelectionCreate,
    SupplementNoticeCreate,
    WithdrawalCreate,
)
from domain.errors import NotFound
from domain.filing import CHECKLISTS, KIND_NAMES_ZH, Material, NoticeItem
from domain.permissions import Command, authorize
from domain.query_code import hash_query_code, new_query_code

log = structlog.get_logger()
router = APIRouter(prefix="/api/v1/filings", tags=["消防备案 filings"])


@router.get("/checklists", summary="各类备案的材料清单（补正通知按此逐项列明）")
def checklists(actor: StaffDep) -> dict[str, Any]:
    return {
        str(kind): {
            "name": KIND_NAMES_ZH[kind],
            "items": [{"item": k, "name": n, "required": r} for k, (n, r) in items.items()],
        }
        for kind, items in CHECKLISTS.items()
    }


@router.get(
    "/queue",
    summary="窗口待审查备案（按期限排序）",
    description="本人可办理机构的待审查备案（窗口为本机构；支队科室负责人、审批领导、法制和保密审查"
    "为全市），每项含审查期限（收到材料后 5 个工作日）、剩余工作日和是否超期；"
    "期限所在年份的工作日历尚未配置时，deadline 为 null、deadline_unknown 为 true，"
    "deadline_note 指出应补充的日历文件。",
    responses=ROLE_REFUSED,
)
def review_queue(
    actor: StaffDep, backend: BackendDep, overdue_only: Annotated[bool, Query()] = False
) -> dict[str, Any]:
    authorize(actor, Command.VIEW_FILINGS, backend.agencies)
    items = caught_up(backend).queries.review_queue(
        visible_agencies(backend, actor), backend.clock(), overdue_only
    )
    return {
        "items": [asdict(i) for i in items],
        "count": len(items),
        "overdue": sum(i.overdue for i in items),
    }


@router.get(
    "/{receipt_number}", summary="备案详情（含联系人，仅限有权人员）", responses=CASE_REFUSED
)
def filing_detail(
    receipt_number: Receipt, actor: StaffDep, backend: BackendDep, response: Response
) -> dict[str, Any]:
    row = caught_up(backend).queries.filing(receipt_number.upper(), backend.clock())
    if row is None:
        raise NotFound("备案不存在", "filing not found")
    authorize(actor, Command.VIEW_FILINGS, backend.agencies, row["agency"])
    row["contact_name"] = backend.sealer.open(row["contact_name"])
    row["contact_phone"] = backend.sealer.open(row["contact_phone"])
    row["history"] = backend.queries.history(row["id"])
    response.headers["ETag"] = f'"{row["version"]}"'
    return row


@router.get(
    "/{receipt_number}/history",
    summary="案件全部历史：何时、何人、何角色、何机构、何事",
    responses=CASE_REFUSED,
)
def filing_history(receipt_number: Receipt, actor: StaffDep, backend: BackendDep) -> dict[str, Any]:
    entries = backend.services.audit.history(actor, receipt_number.upper())
    return {"receipt_number": receipt_number.upper(), "events": [asdict(e) for e in entries]}


@router.post(
    "",
    status_code=201,
    summary="窗口代录备案（现场递交）",
    description="规则：统一社会信用代码须通过 GB 32100 校验；联系人手机号须为有效的 11 位手机号；"
    "工程所在区县须属本市，缺省由其确定管辖机构；材料项须属于该类备案的材料清单且不重复；"
    "联系人姓名和手机号按个人信息密封保存。",
    responses=ROLE_REFUSED,
)
def submit_filing(body: FilingCreate, actor: StaffDep, backend: BackendDep) -> ReceiptPublic:
    query_code = new_query_code()
    receipt = backend.services.filings.submit(
        actor,
        **body.model_dump(exclude={"materials"}),
        query_code_hash=hash_query_code(query_code),
        materials=[Material(**m.model_dump()) for m in body.materials],  # type: ignore[typeddict-item]
        channel="window",
    )
    log.info("filing_submitted", receipt_number=receipt, channel="window")
    return ReceiptPublic(receipt_number=receipt, query_code=query_code)


@router.post(
    "/{receipt_number}/supplement-notice",
    status_code=204,
    summary="出具补正通知（一次性告知全部补正项）",
    description="规则：仅在“待审查”状态且收到材料后 5 个工作日内；"
    "逐项写明缺少或不符合法定形式及理由；"
    "再次通知只能列出上次通知后申请人修改过的项，或上次通知已列出的项。",
    responses=COMMAND_REFUSED,
)
def issue_supplement_notice(
    receipt_number: Receipt, body: SupplementNoticeCreate, actor: StaffDep, backend: BackendDep,
    version: ExpectedVersion,
) -> Response:  # fmt: skip
    backend.services.filings.issue_supplement_notice(
        actor,
        receipt_number.upper(),
        [NoticeItem(**i.model_dump()) for i in body.items],  # type: ignore[typeddict-item]
        version,
    )
    log.info("filing_supplement_notice_issued", receipt_number=receipt_number.upper())
    return Response(status_code=204)


@router.post(
    "/{receipt_number}/resubmission",
    status_code=204,
    summary="窗口代录补正材料",
    description="规则：仅在“待补正”状态；须至少修改一项材料。",
    responses=COMMAND_REFUSED,
)
def resubmit(
    receipt_number: Receipt, body: ResubmissionCreate, actor: StaffDep, backend: BackendDep,
    version: ExpectedVersion,
) -> Response:  # fmt: skip
    backend.services.filings.resubmit(
        actor,
        receipt_number.upper(),
        [Material(**m.model_dump()) for m in body.materials],  # type: ignore[typeddict-item]
        version,
    )
    log.info("filing_resubmitted", receipt_number=receipt_number.upper())
    return Response(status_code=204)


@router.post(
    "/{receipt_number}/certificate",
    summary="出具备案凭证",
    description="规则：仅在“待审查”状态且必备材料齐全；编号按机构、类型、年度连续编号。",
    responses=COMMAND_REFUSED,
)
def issue_certificate(
    receipt_number: Receipt, actor: StaffDep, backend: BackendDep, version: ExpectedVersion
) -> CertificatePublic:
    number = backend.services.filings.issue_certificate(actor, receipt_number.upper(), version)
    log.info("filing_certificate_issued", receipt_number=receipt_number.upper(), number=number)
    return CertificatePublic(certificate_number=number)


@router.post(
    "/{receipt_number}/withdrawal",
    status_code=204,
    summary="撤回备案（申请人书面申请）",
    responses=COMMAND_REFUSED,
)
def withdraw(
    receipt_number: Receipt, body: WithdrawalCreate, actor: StaffDep, backend: BackendDep,
    version: ExpectedVersion,
) -> Response:  # fmt: skip
    backend.services.filings.withdraw(actor, receipt_number.upper(), body.reason, version)
    log.info("filing_withdrawn", receipt_number=receipt_number.upper())
    return Response(status_code=204)


@router.post(
    "/{receipt_number}/referral",
    summary="无管辖权不予受理，告知有管辖权的机构",
    description="规则：仅在“待审查”状态；有管辖权的机构由工程所在区县确定，不能是本机构。",
    responses=COMMAND_REFUSED,
)
def refer(
    receipt_number: Receipt, actor: StaffDep, backend: BackendDep, version: ExpectedVersion
) -> ReferralPublic:
    code = backend.services.filings.refer(actor, receipt_number.upper(), version)
    log.info("filing_referred", receipt_number=receipt_number.upper(), competent_agency=code)
    return ReferralPublic(
        competent_agency=code, competent_agency_name=backend.agencies.get(code).name
    )


@router.post(
    "/{receipt_number}/inspection-selection",
    status_code=204,
    summary="记录被随机抽中检查",
    responses=COMMAND_REFUSED,
)
def select_for_inspection(
    receipt_number: Receipt, body: SelectionCreate, actor: StaffDep, backend: BackendDep,
    version: ExpectedVersion,
) -> Response:  # fmt: skip
    backend.services.filings.select_for_inspection(
        actor, receipt_number.upper(), body.draw_reference, version
    )
    log.info("filing_selected_for_inspection", receipt_number=receipt_number.upper())
    return Response(status_code=204)


@router.post(
    "/{receipt_number}/inspection-result",
    status_code=204,
    summary="记录检查结果（合格，或不合格并列明问题）",
    responses=COMMAND_REFUSED,
)
def record_inspection_result(
    receipt_number: Receipt, body: InspectionResultCreate, actor: StaffDep, backend: BackendDep,
    version: ExpectedVersion,
) -> Response:  # fmt: skip
    backend.services.filings.record_inspection_result(
        actor, receipt_number.upper(), body.passed, body.findings, version
    )
    log.info("filing_inspection_result_recorded", receipt_number=receipt_number.upper())
    return Response(status_code=204)


@router.post(
    "/{receipt_number}/result-approval",
    status_code=204,
    summary="批准公布检查结果（审批人不得为结果记录人）",
    responses=COMMAND_REFUSED,
)
def approve_result(
    receipt_number: Receipt, actor: StaffDep, backend: BackendDep, version: ExpectedVersion
) -> Response:
    backend.services.filings.approve_result_for_publication(actor, receipt_number.upper(), version)
    log.info("filing_result_approved", receipt_number=receipt_number.upper())
    return Response(status_code=204)


@router.post(
    "/{receipt_number}/certificate-revocation",
    status_code=204,
    summary="撤销备案凭证（审批领导；理由随撤销公示）",
    description="规则：仅对已出具备案凭证的备案；须写明理由；外网凭证核验随即显示“已撤销”。",
    responses=COMMAND_REFUSED,
)
def revoke_certificate(
    receipt_number: Receipt,
    body: RevocationCreate,
    actor: StaffDep,
    backend: BackendDep,
    version: ExpectedVersion,
) -> Response:
    backend.services.filings.revoke_certificate(actor, receipt_number.upper(), body.reason, version)
    log.info("filing_certificate_revoked", receipt_number=receipt_number.upper())
    return Response(status_code=204)
