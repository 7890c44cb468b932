"""What the applicant is told, and when (RULES.md Art. 9, 15, 16, 29): which events of a filing
or a booking make a notification, and its short Simplified Chinese text.

Two pure halves. ``notice_for`` turns one event (and the case it belongs to) into a template
code and the facts the text needs, all taken from events, so the outbox
(projections.internal.notifications) is rebuilt to the same rows. ``render`` writes the text
when it is sent: deadlines are computed from the event times with the working-day calendar then
(DESIGN.md decision 3), and a deadline in a year the calendar does not cover yet is left out of
the text rather than guessed.

A text carries the receipt number, what happened and the deadline or slot that matters, and
ends by pointing to online tracking. It never carries the contact's name, the query code, a
refusal reason or inspection findings (free text that may hold anything): the applicant reads
those on the tracking page with the query code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.agencies import AgencyDirectory
from domain.booking import Booking
from domain.booking_deadlines import (
    COMMITMENT_CHECK_WORKING_DAYS,
    forwarding_deadline,
    reply_deadline,
)
from domain.booking_rules import BOOKING_KIND_NAMES_ZH, BookingKind, Half, Route
from domain.calendar import SHANGHAI, CalendarNotCovered, WorkingDayCalendar
from domain.filing import KIND_NAMES_ZH, Filing, FilingKind
from domain.services.filings import REVIEW_WORKING_DAYS

TRACKING = "凭查询码在网上查询进度。"
HALVES_ZH = {Half.AM: "上午", Half.PM: "下午"}

# Template code -> what it tells, for the staff console.
TEMPLATES_ZH = {
    "filing_received": "备案已收到",
    "filing_supplement_notice": "补正通知",
    "filing_certificate_issued": "已出具备案凭证",
    "filing_referred": "不予受理，告知有管辖权机构",
    "booking_received": "预约已收到",
    "booking_forwarded": "预约已转交",
    "booking_rejected": "不属受理范围，告知有管辖权机构",
    "booking_slot_offered": "回复检查时间",
    "booking_refused": "不予安排检查",
    "booking_permit_issued": "告知承诺当场许可",
    "booking_result": "检查结果",
}


@dataclass(frozen=True)
class Notice:
    """One notification an event causes: its template and the facts its text needs."""

    template: str
    params: dict[str, Any]


def case_of(event: Any) -> dict[str, Any] | None:
    """The case row a creation event opens: where later notifications of the case go."""
    if isinstance(event, Filing.Submitted | Booking.Requested):
        return {
            "case_id": str(event.originator_id),
            "receipt_number": event.receipt_number,
            "case_type": "filing" if isinstance(event, Filing.Submitted) else "booking",
            "kind": event.kind,
            "route": getattr(event, "route", ""),
            "agency": event.agency,
            "received_at": event.timestamp.isoformat(),
            # The sealed reference only: opened when the message is sent (DESIGN.md 8).
            "recipient": event.contact_phone,
            "recipient_subject": event.contact_subject,
        }
    return None


def _notice(event: Any, case: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    at = event.timestamp.isoformat()
    if isinstance(event, Filing.Submitted):  # online or at the window: both are received
        return "filing_received", {"received_at": at}
    if isinstance(event, Filing.SupplementNoticeIssued):
        return "filing_supplement_notice", {"items": len(event.items)}
    if isinstance(event, Filing.CertificateIssued):
        return "filing_certificate_issued", {"certificate_number": event.certificate_number}
    if isinstance(event, Filing.ReferredForLackOfJurisdiction | Booking.RejectedOutsideRemit):
        template = "filing_referred" if isinstance(event, Filing.Event) else "booking_rejected"
        return template, {"competent_agency": event.competent_agency}
    if isinstance(event, Booking.Requested):
        return "booking_received", {"received_at": at}
    if isinstance(event, Booking.Forwarded):
        if case["route"] == Route.NOTICE_COMMITMENT:
            return None  # the permit issued in the same review says more: one message, not two
        return "booking_forwarded", {
            "department": event.department,
            "reply_from": case["received_at"],  # the first reply cycle runs from the receipt
        }
    if isinstance(event, Booking.SlotOffered):
        return "booking_slot_offered", {"day": event.day, "half": event.half}
    if isinstance(event, Booking.InspectionRefused):
        return "booking_refused", {}
    if isinstance(event, Booking.PermitIssuedOnCommitment):
        return "booking_permit_issued", {"permit_issued_at": at}
    if isinstance(event, Booking.InspectionResultRecorded):
        return "booking_result", {"passed": event.passed, "recheck_date": event.recheck_date}
    return None


def notice_for(event: Any, case: dict[str, Any] | None) -> Notice | None:
    """The notification ``event`` causes, if any (a pure function of the event and its case)."""
    if case is None:
        return None
    found = _notice(event, case)
    if found is None:
        return None
    template, params = found
    base = {key: case[key] for key in ("receipt_number", "kind", "agency")}
    return Notice(template, base | params)


def mask_phone(number: str) -> str:
    """138****5678: the first 3 and last 4 digits of a mobile number; anything else hidden."""
    if len(number) == 11 and number.isdigit():
        return f"{number[:3]}****{number[-4:]}"
    return "*" * len(number)


def _day(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def _moment(value: datetime) -> str:
    local = value.astimezone(SHANGHAI)
    return f"{_day(local.date())}{local.hour}时"


def _by(sentence: str, compute: Callable[[], str]) -> str:
    """``sentence`` with the deadline filled in; where the calendar does not know its year yet,
    said so (issue 16: the applicant never meets silence), never guessed."""
    try:
        return sentence.format(compute())
    except CalendarNotCovered as missing:
        return f"，期限待国务院公布{missing.year}年节假日安排后确定"


def _kind_zh(kind: str) -> str:
    if kind in set(FilingKind):
        return KIND_NAMES_ZH[FilingKind(kind)]
    return BOOKING_KIND_NAMES_ZH[BookingKind(kind)] + "预约"


@dataclass(frozen=True)
class _Text:
    """What the sentences of one notification can use."""

    p: dict[str, Any]
    calendar: WorkingDayCalendar
    agencies: AgencyDirectory

    def at(self, key: str) -> datetime:
        return datetime.fromisoformat(self.p[key])

    def working_days_after(self, key: str, days: int) -> str:
        return _day(self.calendar.add_working_days(self.at(key), days))

    def reply_by(self, key: str) -> str:
        return _by(
            "，承办人将于{}前回复检查时间",
            lambda: _day(reply_deadline(self.calendar, self.at(key)).date()),
        )

    def competent(self) -> str:
        code = self.p["competent_agency"]
        if code not in self.agencies:
            return str(code)
        agency = self.agencies.get(code)
        return f"{agency.name}（电话{agency.phone}）"


def _filing_received(t: _Text) -> str:
    days = REVIEW_WORKING_DAYS
    return (
        "已收到" + _by("，审查期限至{}", lambda: t.working_days_after("received_at", days)) + "。"
    )


def _booking_received(t: _Text) -> str:
    forward = _by(
        "，窗口将于{}前审查",
        lambda: _moment(forwarding_deadline(t.calendar, t.at("received_at"))),
    )
    return f"已收到{forward}{t.reply_by('received_at')}。"


def _permit_issued(t: _Text) -> str:
    days = COMMITMENT_CHECK_WORKING_DAYS
    check = _by("，将于{}前到场核查", lambda: t.working_days_after("permit_issued_at", days))
    return f"已按告知承诺方式当场作出许可{check}。"


def _slot_offered(t: _Text) -> str:
    slot = _day(date.fromisoformat(t.p["day"])) + HALVES_ZH[Half(t.p["half"])]
    return f"现场检查时间安排在{slot}，请在网上确认或要求另行安排。"


def _result(t: _Text) -> str:
    if t.p["passed"]:
        return "现场检查合格。"
    recheck = t.p["recheck_date"]
    when = f"，复查日期{_day(date.fromisoformat(recheck))}" if recheck else ""
    return f"现场检查不合格{when}，发现的问题请在网上查看。"


# Template code -> what follows "您的…（受理编号…）" in its text.
BODIES: dict[str, Callable[[_Text], str]] = {
    "filing_received": _filing_received,
    "filing_supplement_notice": lambda t: (
        f"需补正材料{t.p['items']}项，已一次性告知全部补正内容，请补正后重新提交。"
    ),
    "filing_certificate_issued": lambda t: f"已备案，备案凭证编号{t.p['certificate_number']}。",
    "filing_referred": lambda t: f"不属本机构管辖，不予受理，请向{t.competent()}申请。",
    "booking_received": _booking_received,
    "booking_forwarded": lambda t: f"已转交{t.p['department']}办理{t.reply_by('reply_from')}。",
    "booking_rejected": lambda t: f"不属本机构受理范围，请向{t.competent()}预约。",
    "booking_slot_offered": _slot_offered,
    "booking_refused": lambda t: "经审查不予安排现场检查，理由请在网上查看。",
    "booking_permit_issued": _permit_issued,
    "booking_result": _result,
}


def render(
    template: str,
    params: dict[str, Any],
    calendar: WorkingDayCalendar,
    agencies: AgencyDirectory,
) -> str:
    """The text of one notification: signed with the agency's name, ending with tracking."""
    body = BODIES.get(template)
    if body is None:
        raise ValueError(f"unknown notification template {template!r}")
    code = params["agency"]
    signature = agencies.get(code).name if code in agencies else code
    case = f"您的{_kind_zh(params['kind'])}（受理编号{params['receipt_number']}）"
    return f"【{signature}】{case}{body(_Text(params, calendar, agencies))}{TRACKING}"
