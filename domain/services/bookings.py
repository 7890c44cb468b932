"""Booking commands (RULES.md Art. 11-16): request, the window's review (forward, reject, or
on the notice-and-commitment route issue the permit on the spot), assignment; the reply, the
applicant's answer and the result are in domain.services.booking_replies.

A certificate issued on this platform is checked against its filing when the booking comes in
(domain.services.booking_base); an uploaded scan is for the window to check when it reviews.
"""

from __future__ import annotations

from datetime import datetime

from domain.actor import Actor
from domain.application import retrying
from domain.booking import Booking
from domain.booking_deadlines import (
    BookingDeadlines,
    booking_deadlines,
    forwarding_deadline,
    is_late,
)
from domain.booking_rules import (
    BEFORE_REPLY,
    Basis,
    BookingKind,
    Route,
    check_basis,
    check_document_reference,
    parse_choice,
    shanghai_iso,
)
from domain.calendar import to_shanghai_date
from domain.errors import InvalidInput
from domain.identifiers import validate_credit_code, validate_mobile
from domain.numbering import new_receipt_number
from domain.permissions import Command, authorize
from domain.services.booking_base import (
    DEFAULT_INSPECTIONS_PER_HALF_DAY,
    booking_id,
    check_handler,
    platform_certificate,
)
from domain.services.booking_replies import BookingReplies
from domain.text import required_text

__all__ = ["DEFAULT_INSPECTIONS_PER_HALF_DAY", "BookingService", "booking_id"]


class BookingService(BookingReplies):
    """All booking commands; ``inspections_per_half_day`` is the capacity of an agency whose
    data sets none."""

    def deadlines(self, booking: Booking) -> BookingDeadlines:
        """Forwarding, reply and inspection deadlines as of the booking's events; unknown
        (never guessed) where the working-day calendar does not cover the year yet."""
        return booking_deadlines(self.ctx.calendar, booking)

    def request(
        self,
        actor: Actor,
        *,
        kind: str,
        district: str,
        organisation_name: str,
        credit_code: str,
        project_name: str,
        wished_time: datetime,
        contact_name: str,
        contact_phone: str,
        basis_kind: str,
        basis_number: str,
        basis_on_platform: bool = False,
        basis_document: str = "",
        agency: str | None = None,
        route: str = "ordinary",
        channel: str = "window",
        query_code_hash: str = "",
        receipt_number: str | None = None,
        contact_subject: str | None = None,
    ) -> str:
        """Record a booking (Art. 13-14); returns its receipt number. The agency asked defaults
        to the competent one; another one is for the window to reject, naming the competent.
        No deadline is needed here, so a booking is taken whatever the calendar covers.

        Intake passes the ``receipt_number`` the public side issued: the booking's id derives
        from it, so requesting the same receipt twice conflicts (ConcurrentChange) instead of
        making a second case; and the submission's ``contact_subject``, under whose key it
        already sealed the uploaded scan (domain.documents)."""
        booking_kind = parse_choice(BookingKind, kind, "kind", "预约类型")
        booking_route = parse_choice(Route, route, "route", "办理方式")
        if booking_route is Route.NOTICE_COMMITMENT and booking_kind is not BookingKind.PRE_OPENING:
            raise InvalidInput(
                "只有公众聚集场所投入使用、营业前消防安全检查可以选择告知承诺方式",
                "only a pre-opening inspection may take the notice-and-commitment route",
                code="route_not_allowed",
                field="route",
            )
        competent = self.ctx.agencies.competent_for(district)
        asked = self.ctx.agencies.get(agency).code if agency else competent.code
        authorize(actor, Command.REQUEST_BOOKING, self.ctx.agencies, asked)
        number = check_basis(booking_kind, basis_kind, basis_number, basis_on_platform)
        document = "" if basis_on_platform else check_document_reference(basis_document, "basis")
        phone = validate_mobile(contact_phone, "contact_phone")
        name = required_text(contact_name, "contact_name", "联系人姓名", 50)
        organisation = required_text(organisation_name, "organisation_name", "单位全称")
        code = validate_credit_code(credit_code, "credit_code")
        project = required_text(project_name, "project_name", "项目名称")
        wished = shanghai_iso(wished_time, "wished_time")
        filing = platform_certificate(self.ctx, number, code, project) if basis_on_platform else ""
        basis = Basis(
            kind=basis_kind,
            number=number,
            on_platform=basis_on_platform,
            document=document,
            filing_receipt_number=filing,
        )
        # Each booking's contact is a subject of their own (as for filings). Sealed last, so a
        # refused booking makes no key.
        subject = contact_subject or self.ctx.sealer.new_subject()
        sealed_name, sealed_phone = self.ctx.sealer.seal_many(subject, name, phone)
        fields = {
            "kind": str(booking_kind),
            "route": str(booking_route),
            "agency": asked,
            "district": district.strip(),
            "organisation_name": organisation,
            "credit_code": code,
            "project_name": project,
            "wished_time": wished,
            "contact_subject": subject,
            "contact_name": sealed_name,
            "contact_phone": sealed_phone,
            "basis": basis,
            "channel": channel if channel in {"online", "window"} else "window",
            "query_code_hash": query_code_hash,
        }

        def attempt() -> str:
            stamp = self.ctx.stamp(actor)
            receipt = receipt_number or new_receipt_number(
                "YY", to_shanghai_date(stamp["timestamp"])
            )
            booking = Booking._create(
                Booking.Requested, id=booking_id(receipt), receipt_number=receipt, **fields, **stamp
            )
            self.ctx.save(booking)
            return receipt

        result: str = attempt() if receipt_number else retrying(3, attempt)
        return result

    def _review(self, booking: Booking, now: datetime) -> tuple[str, bool, bool]:
        """The competent agency; whether the booking lies in the remit of the agency asked
        (that agency, or the detachment above it); whether the review is late (Art. 15)."""
        competent = self.ctx.agencies.competent_for(booking.district).code
        inside = self.ctx.agencies.covers(booking.agency, competent)
        booking.check_review(competent, inside)  # refusals first, before asking the calendar
        late = is_late(now, lambda: forwarding_deadline(self.ctx.calendar, booking.received_at))
        return competent, inside, late

    def forward(
        self,
        actor: Actor,
        receipt_number: str,
        department: str,
        expected_version: int | None = None,
    ) -> None:
        booking = self._act(actor, Command.FORWARD_BOOKING, receipt_number, expected_version)
        stamp = self.ctx.stamp(actor)
        competent, inside, late = self._review(booking, stamp["timestamp"])
        booking.forward(department, competent, inside, late, **stamp)
        self.ctx.save(booking)

    def issue_permit_on_commitment(
        self,
        actor: Actor,
        receipt_number: str,
        department: str,
        commitment_document: str,
        expected_version: int | None = None,
    ) -> None:
        """告知承诺: the window's review forwards the booking and issues the permit at once."""
        booking = self._act(
            actor, Command.ISSUE_PERMIT_ON_COMMITMENT, receipt_number, expected_version
        )
        stamp = self.ctx.stamp(actor)
        competent, inside, late = self._review(booking, stamp["timestamp"])
        booking.issue_permit_on_commitment(
            department, commitment_document, competent, inside, late, **stamp
        )
        self.ctx.save(booking)

    def reject(self, actor: Actor, receipt_number: str, expected_version: int | None = None) -> str:
        """Reject a booking outside the remit at once; returns the competent agency's code."""
        booking = self._act(actor, Command.REJECT_BOOKING, receipt_number, expected_version)
        competent = self.ctx.agencies.competent_for(booking.district).code
        booking.reject(competent, **self.ctx.stamp(actor))
        self.ctx.save(booking)
        return competent

    def assign(
        self,
        actor: Actor,
        receipt_number: str,
        main_handler: str,
        assistants: list[str] | tuple[str, ...] = (),
        expected_version: int | None = None,
    ) -> None:
        """Name the main handler and any assistants, all handlers of the booking's agency;
        again, with other names, as long as nobody has replied."""
        booking = self._act(
            actor, Command.ASSIGN_BOOKING_HANDLERS, receipt_number, expected_version
        )
        booking.check_status(*BEFORE_REPLY, action_zh="指派承办人", action="assign handlers")
        check_handler(self.ctx, main_handler, booking.agency, "main_handler")
        for assistant in assistants:
            check_handler(self.ctx, assistant, booking.agency, "assistants")
        booking.assign(main_handler, list(assistants), **self.ctx.stamp(actor))
        self.ctx.save(booking)
