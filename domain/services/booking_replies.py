"""The main handler's reply (Art. 16), the applicant's answer, and the inspection's result.

A reply that offers a slot books a place in the agency's half day (domain.inspection_slot) in
the same transaction as the reply; asking for another slot or cancelling releases the place
the same way. A conflict with another booking of the same half day is retried.

The reason for a cancellation is the applicant's own, typed by them online or told to the
window: it is sealed under the booking's contact (DESIGN.md decision 8), so staff read it and
erasing the contact erases it, and it never crosses to the public side (docs/personal-data.md).
"""

from __future__ import annotations

from datetime import date

from domain.actor import Actor
from domain.application import retrying
from domain.booking_deadlines import is_late, reply_deadline
from domain.booking_rules import Half, parse_choice
from domain.errors import NotFound
from domain.inspection_slot import InspectionSlot
from domain.permissions import Command
from domain.services.booking_base import BookingServiceBase, parse_day
from domain.text import required_text

ATTEMPTS = 5


class BookingReplies(BookingServiceBase):
    def _slot(self, agency: str, day: date, half: Half, actor: Actor) -> InspectionSlot:
        slot_id = InspectionSlot.create_id(agency, day, half)
        try:
            return self.ctx.load(InspectionSlot, slot_id, "检查时段", "inspection slot")
        except NotFound:
            pass  # the first booking of this half day opens it
        return InspectionSlot._create(
            InspectionSlot.HalfDayOpened,
            id=slot_id,
            agency=agency,
            day=day.isoformat(),
            half=str(half),
            **self.ctx.stamp(actor),
        )

    def booked_places(self, agency: str, day: date, half: str) -> list[str]:
        """The receipt numbers holding a place in ``agency``'s half day."""
        slot_id = InspectionSlot.create_id(agency, day, Half(half))
        try:
            return list(self.ctx.load(InspectionSlot, slot_id, "检查时段", "slot").booked)
        except NotFound:
            return []

    def reply_with_slot(
        self,
        actor: Actor,
        receipt_number: str,
        day: date | str,
        half: str,
        expected_version: int | None = None,
    ) -> None:
        """Offer a half day on a working day, not yet begun, with a place left."""
        slot_day = parse_day(day, "day")
        slot_half = parse_choice(Half, half, "half", "检查时段（am/pm）")

        def attempt() -> None:
            booking = self._act(actor, Command.REPLY_TO_BOOKING, receipt_number, expected_version)
            booking.check_reply(actor.actor_id)
            stamp = self.ctx.stamp(actor)
            calendar = self.ctx.calendar
            late = is_late(stamp["timestamp"], lambda: reply_deadline(calendar, booking.reply_from))
            working = calendar.is_working_day(slot_day)
            booking.offer_slot(slot_day, slot_half, working, late, **stamp)
            slot = self._slot(booking.agency, slot_day, slot_half, actor)
            slot.book(booking.receipt_number, self.capacity(booking.agency), **stamp)
            self.ctx.save(booking, slot)

        retrying(ATTEMPTS, attempt)

    def reply_with_refusal(
        self,
        actor: Actor,
        receipt_number: str,
        reason: str,
        expected_version: int | None = None,
    ) -> None:
        booking = self._act(actor, Command.REPLY_TO_BOOKING, receipt_number, expected_version)
        booking.check_reply(actor.actor_id)
        stamp = self.ctx.stamp(actor)
        calendar = self.ctx.calendar
        late = is_late(stamp["timestamp"], lambda: reply_deadline(calendar, booking.reply_from))
        booking.refuse(reason, late, **stamp)
        self.ctx.save(booking)

    def accept_slot(
        self, actor: Actor, receipt_number: str, expected_version: int | None = None
    ) -> None:
        booking = self._act(actor, Command.ACCEPT_BOOKING_SLOT, receipt_number, expected_version)
        booking.accept_slot(**self.ctx.stamp(actor))
        self.ctx.save(booking)

    def request_another_slot(
        self, actor: Actor, receipt_number: str, expected_version: int | None = None
    ) -> None:
        """A new reply cycle; the offered place is released in the same transaction."""

        def attempt() -> None:
            booking = self._act(
                actor, Command.REQUEST_ANOTHER_SLOT, receipt_number, expected_version
            )
            held = booking.slot
            stamp = self.ctx.stamp(actor)
            booking.ask_for_another_slot(**stamp)
            if held is None:  # an offered slot always holds a place; kept safe all the same
                self.ctx.save(booking)
                return
            slot = self._slot(booking.agency, *held, actor)
            slot.release(booking.receipt_number, **stamp)
            self.ctx.save(booking, slot)

        retrying(ATTEMPTS, attempt)

    def cancel(
        self,
        actor: Actor,
        receipt_number: str,
        reason: str = "",
        expected_version: int | None = None,
    ) -> None:
        """Cancel before the inspection; a place held by an offered or accepted slot is freed."""

        reason = required_text(reason, "reason", "取消理由", 500) if reason.strip() else ""

        def attempt() -> None:
            booking = self._act(actor, Command.CANCEL_BOOKING, receipt_number, expected_version)
            held = booking.slot
            stamp = self.ctx.stamp(actor)
            booking.cancel(self._sealed(booking.contact_subject, reason), **stamp)
            if held is None:
                self.ctx.save(booking)
                return
            slot = self._slot(booking.agency, *held, actor)
            slot.release(booking.receipt_number, **stamp)
            self.ctx.save(booking, slot)

        retrying(ATTEMPTS, attempt)

    def _sealed(self, subject: str, text: str) -> str:
        """``text`` sealed for the booking's contact; nothing once they were erased (their
        words are not taken again for a person whose data is gone)."""
        if not text or self.ctx.sealer.is_erased(subject):
            return ""
        return self.ctx.sealer.seal(subject, text)

    def record_result(
        self,
        actor: Actor,
        receipt_number: str,
        passed: bool,
        findings: list[str],
        recheck_date: date | str | None = None,
        expected_version: int | None = None,
    ) -> None:
        """Pass, or fail with findings and a re-check on a working day after the inspection."""
        recheck = parse_day(recheck_date, "recheck_date") if recheck_date else None
        booking = self._act(actor, Command.RECORD_BOOKING_RESULT, receipt_number, expected_version)
        working = recheck is not None and self.ctx.calendar.is_working_day(recheck)
        booking.record_result(passed, findings, recheck, working, **self.ctx.stamp(actor))
        self.ctx.save(booking)
