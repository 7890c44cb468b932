"""Booking handling (RULES.md Art. 11-16): the window forwards a booking to the department, or
rejects one outside its remit naming the competent agency (pre-filled from the district); on
the notice-and-commitment route (告知承诺, Fire Protection Law Art. 15) it issues the permit on
the spot instead, against the applicant's signed commitment, uploaded here; the head assigns
the main handler and assistants from the agency's handlers; the main handler replies with a
free half day of the agency's calendar, or refuses with a reason, and records the inspection's
result. The window also records what the applicant says by phone or at the counter: the answer
to an offered slot, or that they cancel the booking (with the reason they give). Each command
is the JSON route's (domain.services.bookings), with the page's version as If-Match.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.responses import Response

from api_internal.common import caught_up, expected_version
from api_internal.deps import Backend, BackendDep
from api_internal.pages_permit import commitment_of, issue_permit
from api_internal.pages_web import (
    ConsoleUser,
    FormDep,
    FormInvalid,
    PageRoute,
    UserDep,
    field_errors,
    render,
    see_other,
    text,
    texts,
)
from api_internal.pages_web import (
    receipt_of as web_receipt_of,
)
from api_internal.problems import status_of
from domain.actor import Role
from domain.availability import HalfDayRoom
from domain.booking_rules import (
    BASIS_NAMES_ZH,
    BEFORE_REPLY,
    BOOKING_KIND_NAMES_ZH,
    CANCELLABLE,
    BasisKind,
    BookingKind,
    BookingStatus,
    Half,
    Route,
    slot_start,
)
from domain.calendar import to_shanghai_date
from domain.errors import ConcurrentChange, DomainError, InvalidInput, NotFound, NotPermitted
from domain.permissions import Command, authorize, in_jurisdiction, may

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Command_ = Callable[[Backend, ConsoleUser, str, FormData, int | None], None]


def _forward(b: Backend, u: ConsoleUser, r: str, f: FormData, v: int | None) -> None:
    b.services.bookings.forward(u.actor, r, text(f, "department"), v)


def _reject(b: Backend, u: ConsoleUser, r: str, f: FormData, v: int | None) -> None:
    b.services.bookings.reject(u.actor, r, v)


def _cancel(b: Backend, u: ConsoleUser, r: str, f: FormData, v: int | None) -> None:
    # The window records the applicant's request: what they gave as the reason is kept with it.
    reason = text(f, "cancel_reason").strip()
    if not reason:
        raise InvalidInput(
            "请写明申请人取消预约的理由", "write down the applicant's reason", field="reason"
        )
    b.services.bookings.cancel(u.actor, r, reason, v)


def _assign(b: Backend, u: ConsoleUser, r: str, f: FormData, v: int | None) -> None:
    main = text(f, "main_handler")
    if not main:
        raise InvalidInput("请选择主办人", "choose the main handler", field="main_handler")
    b.services.bookings.assign(u.actor, r, main, texts(f, "assistants"), v)


def _slot(b: Backend, u: ConsoleUser, r: str, f: FormData, v: int | None) -> None:
    day, _, half = text(f, "slot").partition(":")
    if not day:
        raise InvalidInput("请选择检查时段", "choose a half day", field="day")
    b.services.bookings.reply_with_slot(u.actor, r, day, half, v)


def _refuse(b: Backend, u: ConsoleUser, r: str, f: FormData, v: int | None) -> None:
    b.services.bookings.reply_with_refusal(u.actor, r, text(f, "refusal_reason"), v)


def _accept(b: Backend, u: ConsoleUser, r: str, f: FormData, v: int | None) -> None:
    b.services.bookings.accept_slot(u.actor, r, v)


def _another(b: Backend, u: ConsoleUser, r: str, f: FormData, v: int | None) -> None:
    b.services.bookings.request_another_slot(u.actor, r, v)


def _result(b: Backend, u: ConsoleUser, r: str, f: FormData, v: int | None) -> None:
    verdict = text(f, "passed")
    if verdict not in {"yes", "no"}:
        raise InvalidInput(
            "请选择检查结论（合格或不合格）", "choose passed or failed", field="passed"
        )
    findings = [line.strip() for line in text(f, "findings").splitlines() if line.strip()]
    recheck = text(f, "recheck_date").strip() or None
    b.services.bookings.record_result(u.actor, r, verdict == "yes", findings, recheck, v)


# action -> (command, the domain's field names -> the page's, message once done)
ACTIONS: dict[str, tuple[Command_, dict[str, str], str]] = {
    "forward": (_forward, {"department": "department"}, "已转交承办科室（大队）。"),
    "reject": (_reject, {}, "已不予受理，并告知申请人有管辖权的机构。"),
    "permit": (
        issue_permit,
        {"department": "department", "commitment_document": "commitment_document"},
        "已凭申请人签署的告知承诺书当场作出许可，并转交承办科室（大队）在 20 个工作日内现场核查。",
    ),
    "cancel": (_cancel, {"reason": "cancel_reason"}, "已记录申请人取消预约，所占检查名额已释放。"),
    "assign": (
        _assign,
        {"main_handler": "main_handler", "assistants": "assistants"},
        "已指派主办人和协办人。",
    ),
    "slot": (_slot, {"day": "slot", "half": "slot"}, "已回复检查时间，等待申请人确认。"),
    "refuse": (_refuse, {"reason": "refusal_reason"}, "已回复不予安排检查。"),
    "accept": (_accept, {}, "已记录申请人确认检查时间。"),
    "another": (_another, {}, "已记录申请人要求另行安排，新的回复期限开始计算。"),
    "result": (
        _result,
        {"passed": "passed", "findings": "findings", "recheck_date": "recheck_date"},
        "已记录检查结果。",
    ),
}
FORM_OF = {"accept": "answer", "another": "answer"}  # several buttons of one form
# The error places of each part of the page, shown only when that part is.
PLACES = {
    "review": ("form-forward", "form-reject", "department", "form-permit", "commitment_document"),
    "assign": ("form-assign", "main_handler", "assistants"),
    "reply": ("form-slot", "form-refuse", "slot", "refusal_reason"),
    "answer": ("form-answer",),
    "record": ("form-result", "passed", "findings", "recheck_date"),
    "cancel": ("form-cancel", "cancel_reason"),
}


def receipt_of(value: str) -> str:
    return web_receipt_of(value, "预约", "booking")


def readable_booking(backend: Backend, user: ConsoleUser, receipt: str) -> dict[str, Any]:
    row = caught_up(backend).booking_queries.booking(receipt, backend.clock())
    if row is None:
        raise NotFound("预约不存在", "booking not found")
    authorize(user.actor, Command.VIEW_BOOKINGS, backend.agencies, row["agency"])
    row["contact_name"] = backend.sealer.open(row["contact_name"])
    row["contact_phone"] = backend.sealer.open(row["contact_phone"])
    if row["outcome"] and "cancel_reason" in row["outcome"]:  # the applicant's, sealed
        row["outcome"]["cancel_reason"] = backend.sealer.open_or_none(
            row["outcome"]["cancel_reason"]
        )
    return row


def free_half_days(backend: Backend, agency: str) -> list[HalfDayRoom]:
    """The agency's next working days' half days with a free place, not yet begun (the
    figures the days-with-room job publishes, domain.services.availability)."""
    service = backend.availability
    if service is None:
        return []
    now = backend.clock()
    days = service.working_days(to_shanghai_date(now))
    if not days:
        return []
    figures = service.figures(agency, days, service.booked(days[0], days[-1]))
    return [
        f
        for f in figures
        if f["free"] > 0 and slot_start(date.fromisoformat(f["day"]), Half(f["half"])) > now
    ]


def _name(backend: Backend, account_id: str | None) -> str:
    if not account_id:
        return ""
    try:
        return backend.services.staff.account(account_id).display_name
    except (NotFound, ValueError):
        return account_id


def booking_page(
    backend: Backend,
    user: ConsoleUser,
    receipt: str,
    status: int = 200,
    errors: dict[str, str] | None = None,
    typed: FormData | None = None,
    message: str | None = None,
) -> Response:
    row = readable_booking(backend, user, receipt)
    actor, agencies = user.actor, backend.agencies
    here = in_jurisdiction(actor, agencies, row["agency"])
    state = BookingStatus(row["status"])
    main = row["main_handler"] == actor.actor_id
    competent = agencies.competent_for(row["district"])
    on_commitment = row["route"] == Route.NOTICE_COMMITMENT
    review = Command.ISSUE_PERMIT_ON_COMMITMENT if on_commitment else Command.FORWARD_BOOKING
    can = {
        "review": state is BookingStatus.RECEIVED and here and may(actor, review),
        "assign": state in BEFORE_REPLY and here and may(actor, Command.ASSIGN_BOOKING_HANDLERS),
        "reply": state is BookingStatus.ASSIGNED and main,
        "answer": state is BookingStatus.SLOT_OFFERED and here and actor.role is Role.WINDOW_CLERK,
        "record": state is BookingStatus.SCHEDULED and main,
        "cancel": _cancellable(backend, row, state) and here and may(actor, Command.CANCEL_BOOKING),
    }
    basis = row["basis"] or {}
    errors = errors or {}
    # An error whose form is gone (the case moved on meanwhile) is shown under the status.
    shown = {place for part, places in PLACES.items() if can[part] for place in places}
    orphans = {key: text for key, text in errors.items() if key not in shown}
    return render(
        "booking.html",
        status,
        user=user,
        booking=row,
        kind_zh=BOOKING_KIND_NAMES_ZH[BookingKind(row["kind"])],
        basis_zh=BASIS_NAMES_ZH.get(BasisKind(basis["kind"]), "") if basis else "",
        basis_document=(basis.get("document") or "").removeprefix("sha256:"),
        agency_name=agencies.get(row["agency"]).name,
        agency_names={a.code: a.name for a in agencies.all()},
        competent=competent,
        inside_remit=agencies.covers(row["agency"], competent.code),
        main_name=_name(backend, row["main_handler"]),
        assistant_names=[_name(backend, a) for a in row["assistants"] or []],
        handlers=backend.services.staff.holders_of(Role.HANDLER, row["agency"])
        if can["assign"]
        else [],
        free=free_half_days(backend, row["agency"]) if can["reply"] else [],
        can=can,
        errors=errors,
        orphans=orphans,
        typed={k: v for k, v in typed.multi_items() if isinstance(v, str)} if typed else {},
        typed_assistants=texts(typed, "assistants") if typed else [],
        on_commitment=on_commitment,
        commitment=commitment_of(backend, row),
        max_upload=backend.max_upload_bytes,
        message=message,
    )


def _cancellable(backend: Backend, row: dict[str, Any], state: BookingStatus) -> bool:
    """Before the inspection's half day begins, and never the site check after a permit on the
    spot (domain.booking checks the same)."""
    if state not in CANCELLABLE or row["permit_issued_at"]:
        return False
    if state is BookingStatus.SCHEDULED and row["slot_day"]:
        begins = slot_start(date.fromisoformat(row["slot_day"]), Half(row["slot_half"]))
        return begins > backend.clock()
    return True


@router.get("/console/bookings/{receipt}")
def booking_handling(
    receipt: str, user: UserDep, backend: BackendDep, done: str | None = None
) -> Response:
    message = ACTIONS[done][2] if done in ACTIONS else None
    return booking_page(backend, user, receipt_of(receipt), message=message)


@router.post("/console/bookings/{receipt}/{action}")
def act(receipt: str, action: str, user: UserDep, form: FormDep, backend: BackendDep) -> Response:
    receipt = receipt_of(receipt)
    if action not in ACTIONS:
        raise NotFound("没有该操作", "no such action")
    command, fields, _ = ACTIONS[action]
    try:
        version = expected_version(text(form, "version") or None)
        command(backend, user, receipt, form, version)
    except (NotFound, NotPermitted):
        raise
    except DomainError as error:
        form_key = f"form-{FORM_OF.get(action, action)}"
        errors = field_errors(error, fields, form_key)
        status = status_of(error)
        typed: FormData | None = form  # what was typed stays
        if isinstance(error, FormInvalid):
            # The page's own checks name every field at once (a file too large is a 413).
            errors = {fields.get(key, key): message for key, message in error.errors.items()}
            status = error.status
        if isinstance(error, ConcurrentChange):
            errors = {form_key: f"{error.message_zh}（下方已显示最新内容）"}
            typed = None
        return booking_page(backend, user, receipt, status, errors, typed)
    return see_other(f"/console/bookings/{receipt}?done={action}")
