"""The guards of a booking (domain.booking): each raises a domain error before anything
changes, so a refused command leaves the booking as it was."""

from __future__ import annotations

from datetime import date, datetime

from domain.booking_rules import BOOKING_STATUS_NAMES_ZH, BookingStatus, Half, slot_start
from domain.errors import IllegalTransition, InvalidInput, NotPermitted

PERMIT_CODE = "site_check_required_after_permit"


class BookingGuards:
    """Mixed into ``Booking``: the state the guards read, and the guards."""

    receipt_number: str
    status: BookingStatus
    main_handler: str | None
    permit_issued_at: datetime | None
    slot: tuple[date, Half] | None

    def check_status(self, *allowed: BookingStatus, action_zh: str, action: str) -> None:
        if self.status not in allowed:
            raise IllegalTransition(
                f"预约 {self.receipt_number} 当前状态为“{BOOKING_STATUS_NAMES_ZH[self.status]}”，"
                f"不能{action_zh}",
                f"booking {self.receipt_number} is {self.status}; cannot {action}",
                status=str(self.status),
            )

    def check_main_handler(self, actor_id: str) -> None:
        if actor_id != self.main_handler:
            raise NotPermitted(
                "只有该预约的主办人可以办理",
                "only the booking's main handler may do this",
                code="not_the_main_handler",
            )

    def check_reply(self, actor_id: str) -> None:
        self.check_status(BookingStatus.ASSIGNED, action_zh="回复", action="reply")
        self.check_main_handler(actor_id)

    def check_permit_not_issued(self, action_zh: str, action: str) -> None:
        if self.permit_issued_at is not None:
            raise IllegalTransition(
                f"已按告知承诺作出许可，许可后的现场核查不能{action_zh}",
                f"a permit was issued on commitment: the site check after it cannot be {action}",
                code=PERMIT_CODE,
            )

    def slot_begins(self) -> datetime:
        """When the offered or accepted half day begins."""
        if self.slot is None:
            raise IllegalTransition(
                f"预约 {self.receipt_number} 没有检查时段",
                f"booking {self.receipt_number} has no slot",
                code="no_slot",
            )
        return slot_start(*self.slot)

    def check_review(self, competent_agency: str, inside_remit: bool) -> None:
        self.check_status(BookingStatus.RECEIVED, action_zh="转交", action="forward")
        if not inside_remit:
            raise IllegalTransition(
                f"项目所在地由 {competent_agency} 管辖，不属本机构受理范围，应不予受理并告知",
                f"the project lies in the remit of {competent_agency}: reject and name it",
                code="outside_remit",
                competent_agency=competent_agency,
            )


def check_slot(day: date, half: Half, working_day: bool, now: datetime) -> None:
    """An offered half day is on a working day and has not begun."""
    if not working_day:
        raise InvalidInput(
            f"{day.isoformat()} 不是工作日",
            f"{day.isoformat()} is not a working day",
            code="not_a_working_day",
            field="day",
        )
    if slot_start(day, half) <= now:
        raise InvalidInput(
            "检查时段须晚于回复时间",
            "the slot must begin after the reply",
            code="slot_in_the_past",
            field="day",
        )
