"""The public contract of bookings (DESIGN.md decision 4; RULES.md Art. 11-16, 29): each booking
event crosses with exactly its contract's fields, the contact person and means never cross
(sealed inside; the bridge never opens them), nor who handled the booking; free text is masked;
the deadlines the applicant waits on are computed from the calendar, and unknown (None) where
the calendar does not cover the year, never guessed and never stopping the bridge."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import pytest

from bridge.allow_list import AGGREGATE_TOPICS, UnlistedVersion, translate
from bridge.contract.events import ContractViolation, validate
from bridge.translation import PublicEvent, Sources
from domain.actor import Actor, Role
from domain.booking import Booking
from domain.calendar import SHANGHAI
from domain.services import Services
from tests.booking_support import ERQI, JINSHUI, booking_input, staff
from tests.support import Clock, document, memory_services

WINDOW = Actor("window", Role.WINDOW_CLERK, JINSHUI)
MOBILE, CONTACT = "13912345678", "李娜"
BANK_CARD = "6222020200112233446"  # Luhn-valid


def moment(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


class Desk:
    """Bookings of 金水区 handled through the services over the in-memory store."""

    def __init__(self, when: datetime) -> None:
        self.clock = Clock(when)
        self.services: Services = memory_services(self.clock)
        self.bookings = self.services.bookings
        self.head = staff(self.services, "head", JINSHUI, Role.DEPT_HEAD)
        self.handler = staff(self.services, "handler", JINSHUI)
        self.app = self.services.context.app

    def book(self, **overrides: Any) -> str:
        values = booking_input(contact_name=CONTACT, contact_phone=MOBILE, **overrides)
        return str(self.bookings.request(WINDOW, **values, query_code_hash="query-code-hash"))

    def assigned(self, **overrides: Any) -> str:
        receipt = self.book(**overrides)
        self.bookings.forward(WINDOW, receipt, "防火监督科")
        self.bookings.assign(self.head, receipt, self.handler.actor_id)
        return receipt

    def crossed(self) -> list[PublicEvent]:
        """Every public event the stored internal events give, checked against the contract."""
        app = self.app
        sources = Sources(
            calendar=self.services.context.calendar,
            agencies=self.services.context.agencies,
            filing_at=lambda i, v: app.repository.get(i, version=v),
            booking_at=lambda i, v: app.repository.get(i, version=v),
        )
        events: list[PublicEvent] = []
        for notification in app.recorder.select_notifications(start=1, limit=10_000):
            events += translate(app.mapper.to_domain_event(notification), sources)
        for event_type, payload in events:
            validate(event_type, payload)
        return events

    def payloads(self, event_type: str) -> list[dict[str, Any]]:
        return [payload for kind, payload in self.crossed() if kind == event_type]


def test_art14_the_contact_person_and_phone_never_cross_nor_the_sealed_values() -> None:
    desk = Desk(moment(11, 24, 9, 30))
    desk.assigned(project_name=f"测试购物中心（联系 {MOBILE}）")
    (stored,) = desk.app.recorder.select_notifications(
        start=1, limit=100, topics=["firegov:Booking.Requested"]
    )
    requested: Any = desk.app.mapper.to_domain_event(stored)

    everything = orjson.dumps(desk.crossed()).decode()

    assert MOBILE not in everything
    assert CONTACT not in everything
    assert requested.contact_name not in everything  # not even sealed
    assert requested.contact_phone not in everything
    assert requested.contact_subject not in everything
    (received,) = desk.payloads("booking.received.v1")
    assert received["project_name"] == "测试购物中心（联系 139****5678）"
    assert received["organisation_name"] == "郑州测试商业管理有限公司"  # organisations cross


def test_art16_an_assignment_crosses_as_assigned_and_when_never_who() -> None:
    desk = Desk(moment(11, 24, 9, 30))
    desk.assigned()

    (assigned,) = desk.payloads("booking.handlers_assigned.v1")
    everything = orjson.dumps(desk.crossed()).decode()

    assert set(assigned) == {"receipt_number", "assigned_at", "reply_deadline"}
    assert desk.handler.actor_id not in everything
    assert desk.head.actor_id not in everything
    assert "测试handler" not in everything


@pytest.mark.parametrize(
    ("received_at", "forward_by"),
    [
        (moment(11, 24, 11, 59), "2026-11-24T12:00:00+08:00"),  # before noon: by noon today
        (moment(11, 24, 12, 1), "2026-11-25T12:00:00+08:00"),  # after: noon next working day
        (moment(9, 30, 12, 1), "2026-10-08T12:00:00+08:00"),  # the eve of National Day
        (moment(10, 10, 9), "2026-10-10T12:00:00+08:00"),  # a make-up working Saturday
    ],
)
def test_art15_the_forwarding_deadline_crosses_with_the_received_booking(
    received_at: datetime, forward_by: str
) -> None:
    desk = Desk(received_at)
    desk.book()

    (received,) = desk.payloads("booking.received.v1")

    assert received["forwarding_deadline"] == forward_by
    assert received["received_at"] == received_at.isoformat(timespec="seconds")


def test_art16_the_reply_deadline_spans_a_holiday_and_restarts_with_another_slot_request() -> None:
    desk = Desk(moment(9, 30, 9))  # Wednesday before National Day
    receipt = desk.assigned()
    (forwarded,) = desk.payloads("booking.forwarded.v1")
    desk.bookings.reply_with_slot(desk.handler, receipt, "2026-10-09", "am")
    desk.clock.now = moment(10, 8, 10)
    desk.bookings.request_another_slot(WINDOW, receipt)

    (again,) = desk.payloads("booking.another_slot_requested.v1")

    assert forwarded["reply_deadline"] == "2026-10-09T23:59:59+08:00"  # 1-7 October are off
    # 10 working days: 8, 9, the make-up Saturday 10, then 12-16, 19 and 20 October
    assert forwarded["inspection_deadline"] == "2026-10-20T23:59:59+08:00"
    assert again["reply_deadline"] == "2026-10-10T23:59:59+08:00"  # the make-up Saturday counts


def test_a_deadline_in_a_year_the_calendar_does_not_cover_crosses_as_none() -> None:
    desk = Desk(moment(12, 31, 15))
    desk.assigned()

    (received,) = desk.payloads("booking.received.v1")
    (forwarded,) = desk.payloads("booking.forwarded.v1")

    assert received["forwarding_deadline"] is None
    assert forwarded["reply_deadline"] is None
    assert forwarded["inspection_deadline"] is None


def test_art15_the_rejection_names_the_competent_agency_by_code_and_name() -> None:
    desk = Desk(moment(11, 24, 9, 30))
    receipt = desk.book(district="二七区", agency=JINSHUI)
    desk.bookings.reject(WINDOW, receipt)

    (rejected,) = desk.payloads("booking.rejected.v1")

    assert rejected["competent_agency"] == ERQI
    assert rejected["competent_agency_name"] == "郑州市二七区消防救援大队"


def test_reasons_and_findings_are_masked_and_the_slot_crosses_as_day_and_half() -> None:
    desk = Desk(moment(11, 24, 9, 30))
    refused, inspected, cancelled = desk.assigned(), desk.assigned(), desk.assigned()
    desk.bookings.reply_with_refusal(desk.handler, refused, f"请先缴费，账号 {BANK_CARD}")
    desk.bookings.reply_with_slot(desk.handler, inspected, "2026-11-27", "pm")
    desk.bookings.accept_slot(WINDOW, inspected)
    desk.bookings.reply_with_slot(desk.handler, cancelled, "2026-11-27", "am")
    desk.bookings.cancel(WINDOW, cancelled, f"请回电 {MOBILE}")
    desk.clock.now = moment(11, 27, 14)
    desk.bookings.record_result(desk.handler, inspected, False, [f"联系 {MOBILE}"], "2026-12-01")

    everything = orjson.dumps(desk.crossed()).decode()
    (accepted,) = desk.payloads("booking.slot_accepted.v1")
    (result,) = desk.payloads("booking.inspection_result_recorded.v1")
    (cancel,) = desk.payloads("booking.cancelled.v2")
    (refusal,) = desk.payloads("booking.inspection_refused.v1")

    assert BANK_CARD not in everything
    assert MOBILE not in everything
    assert refusal["reason"] == "请先缴费，账号 ***************3446"
    assert set(cancel) == {"receipt_number", "cancelled_at"}  # the applicant's why stays inside
    assert "请回电" not in everything
    assert (accepted["day"], accepted["half"]) == ("2026-11-27", "pm")
    assert result == {
        "receipt_number": inspected, "recorded_at": "2026-11-27T14:00:00+08:00",
        "passed": False, "findings": ["联系 139****5678"], "recheck_date": "2026-12-01",
    }  # fmt: skip


def test_notice_and_commitment_the_permit_crosses_with_its_site_check_deadline() -> None:
    desk = Desk(moment(11, 24, 9, 30))
    receipt = desk.book(route="notice_commitment")
    desk.bookings.issue_permit_on_commitment(
        WINDOW, receipt, "防火监督科", document("signed commitment")
    )

    (forwarded,) = desk.payloads("booking.forwarded.v1")
    (permit,) = desk.payloads("booking.permit_issued.v1")
    everything = orjson.dumps(desk.crossed()).decode()

    assert forwarded["inspection_deadline"] is None  # not the ordinary route's 10 days
    assert permit["inspection_deadline"] == "2026-12-22T23:59:59+08:00"  # 20 working days
    assert "sha256:" not in everything  # neither the scan nor the signed commitment


def test_booking_and_availability_events_are_decoded_by_the_outbound() -> None:
    assert "firegov:Booking." in AGGREGATE_TOPICS
    assert "firegov:BookingAvailability." in AGGREGATE_TOPICS
    assert "firegov:InspectionSlot." not in AGGREGATE_TOPICS  # booked places stay inside


def test_a_booking_event_in_an_unknown_version_stops_the_bridge() -> None:
    class NewerCancelled(Booking.Cancelled):
        TOPIC = "firegov:Booking.Cancelled"
        class_version = 2

    with pytest.raises(UnlistedVersion):
        translate(NewerCancelled.__new__(NewerCancelled), None)  # type: ignore[arg-type]


GOOD_DAY = {"day": "2026-11-27", "half": "am", "capacity": 4, "free": 1}


@pytest.mark.parametrize(
    "entry",
    [
        {**GOOD_DAY, "free": 5},  # more free places than the capacity
        {**GOOD_DAY, "free": -1},
        {**GOOD_DAY, "capacity": True},  # a bool is no count
        {**GOOD_DAY, "half": "evening"},
        {**GOOD_DAY, "contact": MOBILE},  # a field the contract does not name
        {"day": "2026-11-27", "half": "am", "capacity": 4},
    ],
)
def test_the_contract_refuses_a_half_day_that_is_not_exactly_day_half_capacity_free(
    entry: dict[str, Any],
) -> None:
    payload = {"agency": JINSHUI, "agency_name": "金水", "published_at": "x", "days": [entry]}

    assert validate("booking.availability.v1", {**payload, "days": [GOOD_DAY]})
    with pytest.raises(ContractViolation):
        validate("booking.availability.v1", payload)
