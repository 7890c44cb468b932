"""Bookings of on-site inspections (网上预约, RULES.md Art. 11-16).

The window reviews every booking: inside its agency's remit it forwards the booking to the
responsible department or brigade by noon of a working day (late forwarding is recorded, not
refused: refusing would help nobody); outside it, it rejects at once, naming the competent
agency (Art. 15). On the notice-and-commitment route (告知承诺) the window's review is also the
permit, issued on the spot against the signed commitment. The head assigns one main handler and
any assistants; the main handler replies within 2 working days with a half-day slot or a
refusal (Art. 16); the applicant accepts, asks for another slot (a new reply cycle) or cancels;
the main handler records the result. Deadlines are computed from the event times
(domain.booking_deadlines), never stored.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from eventsourcing.domain import Aggregate

from domain.booking_guards import BookingGuards, check_slot
from domain.booking_rules import (
    BEFORE_REPLY,
    CANCELLABLE,
    Basis,
    BookingKind,
    BookingStatus,
    Half,
    Route,
    check_document_reference,
    check_recheck,
)
from domain.errors import IllegalTransition, InvalidInput
from domain.events import StaffCreated, StaffEvent
from domain.sealing import is_sealed
from domain.text import required_text


class Booking(BookingGuards, Aggregate):
    """One booking, identified by its receipt number (YY…)."""

    TOPIC = "firegov:Booking"

    class Event(StaffEvent):
        TOPIC = "firegov:Booking.Event"

    class Created(StaffCreated):
        TOPIC = "firegov:Booking.Created"

    class Requested(StaffCreated):
        TOPIC = "firegov:Booking.Requested"
        receipt_number: str
        kind: str
        route: str
        agency: str  # the agency asked
        district: str
        organisation_name: str
        credit_code: str
        project_name: str
        wished_time: str  # ISO, Asia/Shanghai
        contact_subject: str
        contact_name: str  # sealed
        contact_phone: str  # sealed
        basis: Basis
        channel: str  # "online" (through intake) or "window"
        query_code_hash: str

    def __init__(  # the creation event hands over only the fields named here
        self,
        receipt_number: str,
        kind: str,
        route: str,
        agency: str,
        district: str,
        credit_code: str,
        project_name: str,
        contact_subject: str,
        basis: Basis,
        query_code_hash: str,
    ) -> None:
        self.receipt_number = receipt_number
        self.kind = BookingKind(kind)
        self.route = Route(route)
        self.agency = agency
        self.district = district
        self.credit_code = credit_code
        self.project_name = project_name
        self.contact_subject = contact_subject
        self.query_code_hash = query_code_hash  # checks the applicant's answers online
        self.basis = basis
        self.status = BookingStatus.RECEIVED
        self.received_at: datetime = self.created_on  # the window's receipt (Art. 15, 16)
        self.reply_from: datetime = self.created_on  # start of the current reply cycle
        self.forwarded_at: datetime | None = None  # acceptance
        self.department: str | None = None
        self.permit_issued_at: datetime | None = None
        self.main_handler: str | None = None
        self.assistants: tuple[str, ...] = ()
        self.slot: tuple[date, Half] | None = None  # offered or accepted
        self.result: tuple[bool, tuple[str, ...], date | None] | None = None

    # -- window review (Art. 15) --------------------------------------------------------------

    def forward(
        self, department: str, competent_agency: str, inside_remit: bool, late: bool, **by: Any
    ) -> None:
        self.check_review(competent_agency, inside_remit)
        if self.route is Route.NOTICE_COMMITMENT:
            raise IllegalTransition(
                "告知承诺方式应在审查时当场作出许可（凭申请人签署的承诺书）",
                "on the notice-and-commitment route the window issues the permit on the spot",
                code="permit_due_on_the_spot",
            )
        department = required_text(department, "department", "承办科室或大队", 100)
        self.trigger_event(self.Forwarded, department=department, late=late, **by)

    class Forwarded(StaffEvent):
        TOPIC = "firegov:Booking.Forwarded"
        department: str
        late: bool  # after noon of the working day it was due (Art. 15)

        def apply(self, aggregate: Booking) -> None:
            aggregate.status = BookingStatus.FORWARDED
            aggregate.forwarded_at = self.timestamp
            aggregate.department = self.department

    def issue_permit_on_commitment(
        self,
        department: str,
        commitment_document: str,
        competent_agency: str,
        inside_remit: bool,
        late: bool,
        **by: Any,
    ) -> None:
        """告知承诺 (Fire Protection Law Art. 15): the review forwards the booking and issues
        the permit at once, against the applicant's signed commitment."""
        self.check_review(competent_agency, inside_remit)
        if self.route is not Route.NOTICE_COMMITMENT:
            raise IllegalTransition(
                "该预约未选择告知承诺方式，应按一般程序转交",
                "this booking is on the ordinary route: forward it",
                code="not_on_commitment_route",
            )
        department = required_text(department, "department", "承办科室或大队", 100)
        document = check_document_reference(commitment_document, "commitment_document")
        self.trigger_event(self.Forwarded, department=department, late=late, **by)
        self.trigger_event(self.PermitIssuedOnCommitment, commitment_document=document, **by)

    class PermitIssuedOnCommitment(StaffEvent):
        TOPIC = "firegov:Booking.PermitIssuedOnCommitment"
        commitment_document: str  # the signed commitment (告知承诺书), "sha256:<hex>"

        def apply(self, aggregate: Booking) -> None:
            aggregate.permit_issued_at = self.timestamp

    def reject(self, competent_agency: str, **by: Any) -> None:
        self.check_status(BookingStatus.RECEIVED, action_zh="不予受理", action="reject")
        if competent_agency == self.agency:
            raise IllegalTransition(
                "本机构对该项目所在地有管辖权，不能以不属受理范围为由不予受理",
                "this agency is competent for the project's district; it cannot reject",
                code="agency_is_competent",
            )
        self.trigger_event(self.RejectedOutsideRemit, competent_agency=competent_agency, **by)

    class RejectedOutsideRemit(StaffEvent):
        TOPIC = "firegov:Booking.RejectedOutsideRemit"
        competent_agency: str

        def apply(self, aggregate: Booking) -> None:
            aggregate.status = BookingStatus.REJECTED

    # -- assignment and reply (Art. 16) -------------------------------------------------------

    def assign(self, main_handler: str, assistants: list[str], **by: Any) -> None:
        self.check_status(*BEFORE_REPLY, action_zh="指派承办人", action="assign handlers")
        if main_handler in assistants or len(set(assistants)) != len(assistants):
            raise InvalidInput(
                "协办人不得重复，主办人不得同时为协办人",
                "assistants are distinct and the main handler is not one of them",
                code="handler_named_twice",
                field="assistants",
            )
        self.trigger_event(
            self.HandlersAssigned, main_handler=main_handler, assistants=assistants, **by
        )

    class HandlersAssigned(StaffEvent):
        TOPIC = "firegov:Booking.HandlersAssigned"
        main_handler: str  # account id
        assistants: list[str]

        def apply(self, aggregate: Booking) -> None:
            aggregate.status = BookingStatus.ASSIGNED
            aggregate.main_handler = self.main_handler
            aggregate.assistants = tuple(self.assistants)

    def offer_slot(self, day: date, half: Half, working_day: bool, late: bool, **by: Any) -> None:
        self.check_reply(by["actor_id"])
        check_slot(day, half, working_day, by["timestamp"])
        self.trigger_event(self.SlotOffered, day=day.isoformat(), half=str(half), late=late, **by)

    class SlotOffered(StaffEvent):
        TOPIC = "firegov:Booking.SlotOffered"
        day: str  # ISO date
        half: str
        late: bool  # after the 2 working days of the reply cycle (Art. 16)

        def apply(self, aggregate: Booking) -> None:
            aggregate.status = BookingStatus.SLOT_OFFERED
            aggregate.slot = (date.fromisoformat(self.day), Half(self.half))

    def refuse(self, reason: str, late: bool, **by: Any) -> None:
        self.check_reply(by["actor_id"])
        self.check_permit_not_issued("不予安排", "refused")
        reason = required_text(reason, "reason", "不予安排检查的理由", 500)
        self.trigger_event(self.InspectionRefused, reason=reason, late=late, **by)

    class InspectionRefused(StaffEvent):
        TOPIC = "firegov:Booking.InspectionRefused"
        reason: str
        late: bool

        def apply(self, aggregate: Booking) -> None:
            aggregate.status = BookingStatus.REFUSED

    # -- the applicant's answer ---------------------------------------------------------------

    def accept_slot(self, **by: Any) -> None:
        self.check_status(BookingStatus.SLOT_OFFERED, action_zh="确认时间", action="accept")
        if self.slot_begins() <= by["timestamp"]:
            raise IllegalTransition(
                "所回复的检查时段已过，请要求另行安排",
                "the offered slot has begun: ask for another",
                code="slot_passed",
            )
        self.trigger_event(self.SlotAccepted, **by)

    class SlotAccepted(StaffEvent):
        TOPIC = "firegov:Booking.SlotAccepted"

        def apply(self, aggregate: Booking) -> None:
            aggregate.status = BookingStatus.SCHEDULED

    def ask_for_another_slot(self, **by: Any) -> None:
        self.check_status(
            BookingStatus.SLOT_OFFERED, action_zh="要求另行安排", action="ask for another slot"
        )
        self.trigger_event(self.AnotherSlotRequested, **by)

    class AnotherSlotRequested(StaffEvent):
        """A new reply cycle: its 2 working days run from this request."""

        TOPIC = "firegov:Booking.AnotherSlotRequested"

        def apply(self, aggregate: Booking) -> None:
            aggregate.status = BookingStatus.ASSIGNED
            aggregate.reply_from = self.timestamp
            aggregate.slot = None

    def cancel(self, sealed_reason: str, **by: Any) -> None:
        """``sealed_reason``: the applicant's reason, sealed for the contact ("" if none)."""
        self.check_status(*CANCELLABLE, action_zh="取消", action="cancel")
        self.check_permit_not_issued("取消", "cancelled")
        if self.status is BookingStatus.SCHEDULED and self.slot_begins() <= by["timestamp"]:
            raise IllegalTransition(
                "检查时段已开始，不能取消",
                "the inspection's half day has begun",
                code="inspection_begun",
            )
        if sealed_reason and not is_sealed(sealed_reason):
            raise ValueError("a cancellation reason is the applicant's: sealed, never plain")
        self.trigger_event(self.Cancelled, reason=sealed_reason, **by)

    class Cancelled(StaffEvent):
        TOPIC = "firegov:Booking.Cancelled"
        reason: str  # sealed for the contact; plain in events recorded before issue 16

        def apply(self, aggregate: Booking) -> None:
            aggregate.status = BookingStatus.CANCELLED
            aggregate.slot = None

    # -- the inspection -----------------------------------------------------------------------

    def record_result(
        self,
        passed: bool,
        findings: list[str],
        recheck_day: date | None,
        recheck_working_day: bool,
        **by: Any,
    ) -> None:
        self.check_status(BookingStatus.SCHEDULED, action_zh="记录检查结果", action="record")
        self.check_main_handler(by["actor_id"])
        if by["timestamp"] < self.slot_begins():
            raise IllegalTransition(
                "检查时段尚未开始，不能记录检查结果",
                "the inspection's half day has not begun",
                code="inspection_not_begun",
            )
        findings = [
            required_text(f, "findings", "检查发现的问题", 500) for f in findings if f.strip()
        ]
        inspected = self.slot_begins().date()
        check_recheck(passed, findings, recheck_day, recheck_working_day, inspected)
        self.trigger_event(
            self.InspectionResultRecorded,
            passed=passed,
            findings=findings,
            recheck_date=recheck_day.isoformat() if recheck_day else None,
            **by,
        )

    class InspectionResultRecorded(StaffEvent):
        TOPIC = "firegov:Booking.InspectionResultRecorded"
        passed: bool
        findings: list[str]
        recheck_date: str | None  # ISO date of the re-check (复查) after a failed inspection

        def apply(self, aggregate: Booking) -> None:
            aggregate.status = BookingStatus.INSPECTED
            recheck = date.fromisoformat(self.recheck_date) if self.recheck_date else None
            aggregate.result = (self.passed, tuple(self.findings), recheck)
