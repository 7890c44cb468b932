"""The notifications sent to an applicant about one case, with their delivery status (RULES.md
Art. 29): readable by whoever may read the case itself (the filing or booking permission and
its jurisdiction). The number is shown masked; the text is what was sent, or for a message not
sent yet, what would be sent now."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api_internal.common import CASE_REFUSED
from api_internal.deps import Backend, BackendDep, StaffDep
from domain.errors import NotFound
from domain.permissions import Command, authorize
from domain.sealing import ERASED
from projections.internal.notification_delivery import DELIVERY_NAMES_ZH, Delivery
from projections.internal.notification_messages import TEMPLATES_ZH, mask_phone, render
from projections.internal.notifications import Outbox
from projections.internal.queries import shanghai_iso

router = APIRouter(prefix="/api/v1/notifications", tags=["申请人通知 notifications"])
READ = {"filing": Command.VIEW_FILINGS, "booking": Command.VIEW_BOOKINGS}


def _outbox(request: Request, backend: Backend) -> Outbox:
    # Built once per app: the Backend predates the outbox, and its tables are created here if
    # the notifier has not run yet.
    outbox: Outbox | None = getattr(request.app.state, "notification_outbox", None)
    if outbox is None:
        outbox = Outbox(backend.services.context.app, backend.projector.store)
        request.app.state.notification_outbox = outbox
    return outbox


def _public(row: dict[str, Any], backend: Backend) -> dict[str, Any]:
    status = Delivery(row["status"])
    recipient = backend.sealer.open(row["recipient"])
    text = row["text"] or render(row["template"], row["params"], backend.calendar, backend.agencies)
    return {
        "id": row["id"],
        "template": row["template"],
        "template_zh": TEMPLATES_ZH.get(row["template"], row["template"]),
        "event_at": shanghai_iso(row["event_at"]),
        "status": str(status),
        "status_zh": DELIVERY_NAMES_ZH[status],
        "attempts": row["attempts"],
        "next_attempt_at": (
            shanghai_iso(row["next_attempt_at"]) if status is Delivery.PENDING else None
        ),
        "last_error": row["last_error"],
        "sender": row["sender"],
        "sent_at": shanghai_iso(row["sent_at"]) if row["sent_at"] else None,
        "recipient": recipient if recipient == ERASED else mask_phone(recipient),
        "text": text,
    }


@router.get(
    "",
    summary="某案件发给申请人的通知及送达状态",
    description="有权查看该备案或预约的人员可查看（同案件详情的角色和管辖范围）。状态：pending "
    "待发送（含等待重试，next_attempt_at 为下次尝试时间）、sending 发送中、sent 已发送、failed "
    "多次尝试后失败、recipient_erased 联系人个人信息已删除未发送、expired 事件过久未发送。"
    "手机号仅显示前 3 位和后 4 位；通知内容不含联系人姓名和查询码。",
    responses=CASE_REFUSED,
)
def notifications(
    actor: StaffDep,
    backend: BackendDep,
    request: Request,
    receipt_number: Annotated[
        str, Query(pattern=r"^[A-Za-z0-9-]{1,40}$", description="受理编号 receipt number")
    ],
) -> dict[str, Any]:
    outbox = _outbox(request, backend)
    outbox.catch_up()  # read-your-writes, as for the case itself
    receipt = receipt_number.upper()
    case = outbox.case(receipt)
    if case is None:
        raise NotFound("案件不存在或尚无通知", "no such case, or no notification for it yet")
    authorize(actor, READ[case["case_type"]], backend.agencies, case["agency"])
    rows = outbox.messages(receipt)
    return {
        "receipt_number": receipt,
        "notifications": [_public(row, backend) for row in rows],
        "count": len(rows),
    }
