"""The inspection capacity of one agency for one half day (检查时段, Art. 16 bookings).

Each agency can carry out only so many on-site inspections per half day. A reply that offers a
slot books a place here, in the same transaction as the reply: two handlers offering the last
place at once conflict in the store, and the one retried finds the half day full. A place is
released when the applicant asks for another slot or cancels.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.booking_rules import Half
from domain.errors import IllegalTransition
from domain.events import StaffCreated, StaffEvent
from domain.numbering import natural_id


class InspectionSlot(Aggregate):
    """The booked places of one agency's half day; created with its first booking."""

    TOPIC = "firegov:InspectionSlot"

    class Event(StaffEvent):
        TOPIC = "firegov:InspectionSlot.Event"

    class Created(StaffCreated):
        TOPIC = "firegov:InspectionSlot.Created"

    class HalfDayOpened(StaffCreated):
        TOPIC = "firegov:InspectionSlot.HalfDayOpened"
        agency: str
        day: str  # ISO date
        half: str

    def __init__(
        self, agency: str, day: str, half: str, actor_id: str, actor_role: str, actor_agency: str
    ) -> None:
        self.agency = agency
        self.day = date.fromisoformat(day)
        self.half = Half(half)
        self.booked: list[str] = []  # booking receipt numbers, in the order they were booked

    @staticmethod
    def create_id(agency: str, day: date, half: Half) -> UUID:
        return natural_id("slot", f"{agency}:{day.isoformat()}:{half}")

    def book(self, booking_receipt: str, capacity: int, **by: Any) -> None:
        if booking_receipt in self.booked:
            raise IllegalTransition(
                f"预约 {booking_receipt} 已占用该时段",
                f"booking {booking_receipt} already holds a place in this half day",
                code="slot_already_held",
            )
        if len(self.booked) >= capacity:
            raise IllegalTransition(
                f"{self.day.isoformat()} {'上午' if self.half is Half.AM else '下午'}"
                f"的检查名额（{capacity} 个）已满，请另选时段",
                f"the half day {self.day.isoformat()} {self.half} is full "
                f"({capacity} inspections); choose another",
                code="slot_full",
                capacity=capacity,
            )
        self.trigger_event(
            self.PlaceBooked, booking_receipt=booking_receipt, capacity=capacity, **by
        )

    class PlaceBooked(StaffEvent):
        TOPIC = "firegov:InspectionSlot.PlaceBooked"
        booking_receipt: str
        capacity: int  # the capacity in force when the place was booked

        def apply(self, aggregate: InspectionSlot) -> None:
            aggregate.booked.append(self.booking_receipt)

    def release(self, booking_receipt: str, **by: Any) -> None:
        if booking_receipt not in self.booked:
            raise IllegalTransition(
                f"预约 {booking_receipt} 未占用该时段",
                f"booking {booking_receipt} holds no place in this half day",
                code="slot_not_held",
            )
        self.trigger_event(self.PlaceReleased, booking_receipt=booking_receipt, **by)

    class PlaceReleased(StaffEvent):
        TOPIC = "firegov:InspectionSlot.PlaceReleased"
        booking_receipt: str

        def apply(self, aggregate: InspectionSlot) -> None:
            aggregate.booked.remove(self.booking_receipt)
