"""Bookings of on-site inspections for staff (RULES.md Art. 11-16): each role's work queue,
the overdue bookings per agency, the booking with its whole history, and one route per command
of domain.services.bookings. Thin: parse, one service call, respond."""

from __future__ import annotations

from collections import Counter
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
from api_internal.deps import Backend, BackendDep, StaffDep
from api_internal.schemas import (
    BookingCreate,
    BookingResultCreate,
    CancellationCreate,
    ForwardingCreate,
    HandlersCreate,
    PermitOnCommitmentCreate,
    ReceiptPublic,
    ReferralPublic,
    RefusalCreate,
    SlotOfferCreate,
)
from domain.actor import Actor, Role
from domain.calendar import SHANGHAI
from domain.errors import NotFound
from domain.permissions import Command, authorize
from domain.query_code import hash_query_code, new_query_code
from projections.internal.booking_queries import CASE_TASKS, BookingQueueItem, Task

log = structlog.get_logger()
router = APIRouter(prefix="/api/v1/bookings", tags=["网上预约 bookings"])

# The queue each role works; the other readers (supervisors, approvers) see every overdue item.
# A handler's queue holds the bookings they are the main handler of, and those they assist.
ROLE_TASKS = {
    Role.WINDOW_CLERK: [Task.REVIEW],
    Role.DEPT_HEAD: [Task.ASSIGN],
    Role.HANDLER: [Task.REPLY, Task.INSPECT, Task.ASSIST],
}


def my_queue(
    backend: Backend, actor: Actor, overdue_only: bool = False
) -> tuple[list[Task] | None, list[BookingQueueItem]]:
    """The tasks of ``actor``'s role (None: a reader of every overdue item) and the items
    waiting for them; shared with the console's "my work" page."""
    authorize(actor, Command.VIEW_BOOKINGS, backend.agencies)
    agencies = visible_agencies(backend, actor)
    queries = caught_up(backend).booking_queries
    tasks = ROLE_TASKS.get(actor.role)
    if tasks is None:
        return None, queries.queue(CASE_TASKS, agencies, backend.clock(), overdue_only=True)
    handler = actor.actor_id if actor.role is Role.HANDLER else None
    return tasks, queries.queue(tasks, agencies, backend.clock(), handler, overdue_only)


def _done(event: str, receipt_number: str) -> Response:
    log.info(event, receipt_number=receipt_number)
    return Response(status_code=204)


@router.get(
    "/queue",
    summary="本人的预约待办（按期限排序）；督察看各机构超期情况",
    description="登录角色决定待办：受理窗口为待审查（转交或不予受理）的预约，期限为收到后下一个"
    "工作日中午 12:00（上午收到且为工作日的为当日 12:00）；科室或大队负责人为已转交待指派的"
    "预约，期限为回复期限；承办人为本人主办、待回复的预约（本轮回复周期起 2 个工作日）和已确认"
    "时段待检查的预约（一般程序转交后 10 个工作日，告知承诺许可后 20 个工作日；其他类型以确认的"
    "时段为准，无单独期限），以及本人为协办人、自指派起至检查前的预约（task 为 assist，期限为"
    "检查期限）；督察和审批领导为所有超期事项。每项含期限、剩余工作日和是否超期，"
    "overdue_by_agency 为各机构超期数；期限所在年份的工作日历尚未配置时 deadline 为 null、"
    "deadline_unknown 为 true，deadline_note 指出应补充的日历文件。",
    responses=ROLE_REFUSED,
)
def booking_queue(
    actor: StaffDep, backend: BackendDep, overdue_only: Annotated[bool, Query()] = False
) -> dict[str, Any]:
    tasks, items = my_queue(backend, actor, overdue_only)
    overdue = Counter(i.agency for i in items if i.overdue)
    return {
        "tasks": [str(t) for t in tasks or CASE_TASKS],
        "items": [asdict(i) for i in items],
        "count": len(items),
        "overdue": sum(overdue.values()),
        "overdue_by_agency": dict(sorted(overdue.items())),
    }


@router.get(
    "/overdue",
    summary="各机构超期预约数（按所待环节分列）",
    description="科室或大队负责人、审批领导和督察可看：本人可查看的每个机构（大队的为本大队；"
    "支队负责人、支队审批领导和督察为全市）超期的预约数，按所待环节分列（review 待窗口审查、"
    "assign 待指派、reply 待回复、inspect 待检查）；每个预约只计一次，协办不重复计数；没有超期"
    "的机构计 0。期限在查询时按工作日历计算，as_of 为计算时刻（北京时间）；期限所在年份的日历"
    "尚未配置、期限未知的预约不计为超期。",
    responses=ROLE_REFUSED,
)
def overdue_per_agency(actor: StaffDep, backend: BackendDep) -> dict[str, Any]:
    authorize(actor, Command.VIEW_OVERDUE_COUNTS, backend.agencies)
    visible = visible_agencies(backend, actor)
    now = backend.clock()
    counts = caught_up(backend).booking_queries.overdue_counts(visible, now)
    agencies = [
        {
            "agency": agency.code,
            "agency_name": agency.name,
            "overdue": sum(counts.get(agency.code, {}).values()),
            "by_task": {str(t): counts.get(agency.code, {}).get(str(t), 0) for t in CASE_TASKS},
        }
        for agency in backend.agencies.all()
        if visible is None or agency.code in visible
    ]
    return {
        "as_of": now.astimezone(SHANGHAI).isoformat(timespec="seconds"),
        "total": sum(a["overdue"] for a in agencies),
        "agencies": agencies,
    }


@router.get(
    "/{receipt_number}", summary="预约详情（含联系人，仅限有权人员）", responses=CASE_REFUSED
)
def booking_detail(
    receipt_number: Receipt, actor: StaffDep, backend: BackendDep, response: Response
) -> dict[str, Any]:
    row = caught_up(backend).booking_queries.booking(receipt_number.upper(), backend.clock())
    if row is None:
        raise NotFound("预约不存在", "booking not found")
    authorize(actor, Command.VIEW_BOOKINGS, backend.agencies, row["agency"])
    row["contact_name"] = backend.sealer.open(row["contact_name"])
    row["contact_phone"] = backend.sealer.open(row["contact_phone"])
    if row["outcome"] and "cancel_reason" in row["outcome"]:  # the applicant's, sealed
        row["outcome"]["cancel_reason"] = backend.sealer.open_or_none(
            row["outcome"]["cancel_reason"]
        )
    row["history"] = backend.booking_queries.history(row["id"])
    response.headers["ETag"] = f'"{row["version"]}"'
    return row


@router.get(
    "/{receipt_number}/history",
    summary="预约全部历史：何时、何人、何角色、何机构、何事",
    responses=CASE_REFUSED,
)
def booking_history(
    receipt_number: Receipt, actor: StaffDep, backend: BackendDep
) -> dict[str, Any]:
    entries = backend.services.audit.history(actor, receipt_number.upper())
    return {"receipt_number": receipt_number.upper(), "events": [asdict(e) for e in entries]}


@router.post(
    "",
    status_code=201,
    summary="窗口代录预约（申请人来电或到窗口）",
    description="规则（第十三、十四条）：每类预约以其凭证为依据——营业前消防安全检查为消防安全检查"
    "申请受理凭证，消防验收现场检查为消防验收申请受理凭证，竣工验收消防备案抽查为竣工验收消防备案"
    "凭证；本平台出具的备案凭证按本平台记录核对编号、单位和项目，其他凭证须上传扫描件；"
    "只有营业前消防安全检查可选告知承诺方式；统一社会信用代码须通过校验，手机号须有效，"
    "希望检查时间须带时区；联系人姓名和手机号按个人信息密封保存；缺省预约有管辖权的机构。",
    responses=ROLE_REFUSED,
)
def request_booking(body: BookingCreate, actor: StaffDep, backend: BackendDep) -> ReceiptPublic:
    query_code = new_query_code()
    receipt = backend.services.bookings.request(
        actor,
        **body.model_dump(),
        query_code_hash=hash_query_code(query_code),
        channel="window",
    )
    log.info("booking_requested", receipt_number=receipt, channel="window")
    return ReceiptPublic(receipt_number=receipt, query_code=query_code)


@router.post(
    "/{receipt_number}/forwarding",
    status_code=204,
    summary="窗口审查后转交承办科室或大队",
    description="规则（第十五条）：仅在“已接收”状态；项目须属本机构（或其上级支队）受理范围，否则"
    "应不予受理；上午收到且为工作日的当日 12:00 前转交，否则下一个工作日 12:00 前，逾期转交照常"
    "办理并记录为逾期；告知承诺方式的预约应当场许可，不能转交。",
    responses=COMMAND_REFUSED,
)
def forward(
    receipt_number: Receipt, body: ForwardingCreate, actor: StaffDep, backend: BackendDep,
    version: ExpectedVersion,
) -> Response:  # fmt: skip
    backend.services.bookings.forward(actor, receipt_number.upper(), body.department, version)
    return _done("booking_forwarded", receipt_number.upper())


@router.post(
    "/{receipt_number}/permit-on-commitment",
    status_code=204,
    summary="告知承诺：审查时凭承诺书当场许可并转交",
    description="规则：仅告知承诺方式的营业前消防安全检查，且在“已接收”状态、属本机构受理范围；"
    "须引用申请人签署的告知承诺书；许可后 20 个工作日内现场核查，核查不能取消或不予安排。",
    responses=COMMAND_REFUSED,
)
def issue_permit_on_commitment(
    receipt_number: Receipt, body: PermitOnCommitmentCreate, actor: StaffDep, backend: BackendDep,
    version: ExpectedVersion,
) -> Response:  # fmt: skip
    backend.services.bookings.issue_permit_on_commitment(
        actor, receipt_number.upper(), body.department, body.commitment_document, version
    )
    return _done("booking_permit_issued_on_commitment", receipt_number.upper())


@router.post(
    "/{receipt_number}/rejection",
    summary="不属本机构受理范围，不予受理并告知有管辖权的机构",
    description="规则（第十五条）：仅在“已接收”状态；有管辖权的机构由项目所在区县确定，"
    "不能是本机构。",
    responses=COMMAND_REFUSED,
)
def reject(
    receipt_number: Receipt, actor: StaffDep, backend: BackendDep, version: ExpectedVersion
) -> ReferralPublic:
    code = backend.services.bookings.reject(actor, receipt_number.upper(), version)
    log.info("booking_rejected", receipt_number=receipt_number.upper(), competent_agency=code)
    return ReferralPublic(
        competent_agency=code, competent_agency_name=backend.agencies.get(code).name
    )


@router.post(
    "/{receipt_number}/handlers",
    status_code=204,
    summary="指派主办人和协办人",
    description="规则（第十六条）：科室或大队负责人指派一名主办人和若干协办人，均须为承办该预约的"
    "机构的承办人，主办人不得同时为协办人、协办人不得重复；回复之前可重新指派。",
    responses=COMMAND_REFUSED,
)
def assign(
    receipt_number: Receipt, body: HandlersCreate, actor: StaffDep, backend: BackendDep,
    version: ExpectedVersion,
) -> Response:  # fmt: skip
    backend.services.bookings.assign(
        actor, receipt_number.upper(), body.main_handler, body.assistants, version
    )
    return _done("booking_handlers_assigned", receipt_number.upper())


@router.post(
    "/{receipt_number}/slot-offer",
    status_code=204,
    summary="主办人回复检查时段",
    description="规则（第十六条）：仅主办人、在“已指派”状态；窗口收到后（或申请人要求另行安排后）"
    "2 个工作日内回复，逾期回复照常办理并记录为逾期；时段须为工作日的上午或下午、晚于回复时间，"
    "且本机构该半天的检查名额未满（回复即占用一个名额）。",
    responses=COMMAND_REFUSED,
)
def reply_with_slot(
    receipt_number: Receipt, body: SlotOfferCreate, actor: StaffDep, backend: BackendDep,
    version: ExpectedVersion,
) -> Response:  # fmt: skip
    backend.services.bookings.reply_with_slot(
        actor, receipt_number.upper(), body.day, body.half, version
    )
    return _done("booking_slot_offered", receipt_number.upper())


@router.post(
    "/{receipt_number}/refusal",
    status_code=204,
    summary="主办人回复不予安排检查（写明理由）",
    description="规则（第十六条）：仅主办人、在“已指派”状态、2 个工作日内；须写明理由；"
    "告知承诺许可后的现场核查不能不予安排。",
    responses=COMMAND_REFUSED,
)
def reply_with_refusal(
    receipt_number: Receipt, body: RefusalCreate, actor: StaffDep, backend: BackendDep,
    version: ExpectedVersion,
) -> Response:  # fmt: skip
    backend.services.bookings.reply_with_refusal(
        actor, receipt_number.upper(), body.reason, version
    )
    return _done("booking_refused", receipt_number.upper())


@router.post(
    "/{receipt_number}/slot-acceptance",
    status_code=204,
    summary="窗口代录申请人确认检查时段",
    description="规则：仅在“已回复检查时间”状态，且所回复的时段尚未开始。",
    responses=COMMAND_REFUSED,
)
def accept_slot(
    receipt_number: Receipt, actor: StaffDep, backend: BackendDep, version: ExpectedVersion
) -> Response:
    backend.services.bookings.accept_slot(actor, receipt_number.upper(), version)
    return _done("booking_slot_accepted", receipt_number.upper())


@router.post(
    "/{receipt_number}/another-slot",
    status_code=204,
    summary="窗口代录申请人要求另行安排时段",
    description="规则：仅在“已回复检查时间”状态；释放所占名额，开始新一轮回复周期"
    "（自要求之时起 2 个工作日内回复）。",
    responses=COMMAND_REFUSED,
)
def request_another_slot(
    receipt_number: Receipt, actor: StaffDep, backend: BackendDep, version: ExpectedVersion
) -> Response:
    backend.services.bookings.request_another_slot(actor, receipt_number.upper(), version)
    return _done("booking_another_slot_requested", receipt_number.upper())


@router.post(
    "/{receipt_number}/cancellation",
    status_code=204,
    summary="窗口代录申请人取消预约",
    description="规则：检查之前可取消（检查时段开始后不能取消），释放所占名额；"
    "告知承诺许可后的现场核查不能取消。",
    responses=COMMAND_REFUSED,
)
def cancel(
    receipt_number: Receipt, body: CancellationCreate, actor: StaffDep, backend: BackendDep,
    version: ExpectedVersion,
) -> Response:  # fmt: skip
    backend.services.bookings.cancel(actor, receipt_number.upper(), body.reason, version)
    return _done("booking_cancelled", receipt_number.upper())


@router.post(
    "/{receipt_number}/inspection-result",
    status_code=204,
    summary="主办人记录检查结果（合格，或不合格并列明问题和复查日期）",
    description="规则：仅主办人、在“检查时间已确认”状态，且检查时段已开始；不合格须列明发现的问题"
    "并确定检查日之后某个工作日复查；合格则无复查。",
    responses=COMMAND_REFUSED,
)
def record_result(
    receipt_number: Receipt, body: BookingResultCreate, actor: StaffDep, backend: BackendDep,
    version: ExpectedVersion,
) -> Response:  # fmt: skip
    backend.services.bookings.record_result(
        actor, receipt_number.upper(), body.passed, body.findings, body.recheck_date, version
    )
    return _done("booking_result_recorded", receipt_number.upper())
