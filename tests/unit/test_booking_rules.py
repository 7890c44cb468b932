"""Bookings of on-site inspections (RULES.md Art. 11-16) through the services, in memory.

One test per rule: the form and the basis it rests on, the window's review and its noon
deadline (with the calendar's edges: the eve of National Day, make-up working Saturdays, New
Year's Eve with 2027 not yet covered), the notice-and-commitment route, assignment, the reply
within 2 working days and the half day's capacity, the applicant's answer, the result, and what
every stored event carries.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time
from typing import Any

import pytest

from domain.actor import Actor, Role
from domain.agencies import AgencyDirectory
from domain.booking import Booking
from domain.booking_rules import BookingStatus, Half
from domain.calendar import SHANGHAI, CalendarNotCovered, WorkingDayCalendar
from domain.certificate_index import CertificateIndex
from domain.errors import (
    IllegalTransition,
    InvalidInput,
    NotPermitted,
    OutsideJurisdiction,
    StaleVersion,
)
from domain.inspection_slot import InspectionSlot
from domain.sealing import is_sealed
from domain.services import Services
from domain.services.bookings import booking_id
from tests.booking_support import DETACHMENT, ERQI, JINSHUI, booking_input, staff
from tests.support import (
    HYPOTHETICAL,
    Clock,
    credit_code,
    document,
    filing_input,
    materials,
    memory_services,
)

WINDOW = Actor("window-jinshui", Role.WINDOW_CLERK, JINSHUI)
ERQI_WINDOW = Actor("window-erqi", Role.WINDOW_CLERK, ERQI)
DETACHMENT_WINDOW = Actor("window-zz", Role.WINDOW_CLERK, DETACHMENT)
INTAKE = Actor.system(DETACHMENT, "intake")
COMMITMENT = document("signed commitment")
GOOD_CODE = credit_code("org")
WRONG_CHECK_CHARACTER = GOOD_CODE[:-1] + ("1" if GOOD_CODE[-1] != "1" else "2")


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def end_of(year: int, month: int, day: int) -> datetime:
    """The last instant of a day: working-day periods end with their last day."""
    return datetime.combine(date(year, month, day), time.max, SHANGHAI)


@pytest.fixture
def clock() -> Clock:
    return Clock()  # Tuesday 2026-11-24 09:30, Asia/Shanghai


@pytest.fixture
def services(clock: Clock) -> Services:
    built: Services = memory_services(clock)
    return built


@pytest.fixture
def head(services: Services) -> Actor:
    return staff(services, "head.jinshui", JINSHUI, Role.DEPT_HEAD)


@pytest.fixture
def main(services: Services) -> Actor:
    return staff(services, "main.jinshui", JINSHUI)


@pytest.fixture
def assistant(services: Services) -> Actor:
    return staff(services, "assistant.jinshui", JINSHUI)


def request(services: Services, actor: Actor = INTAKE, **overrides: Any) -> str:
    return services.bookings.request(actor, **booking_input(**overrides))


def events(services: Services, receipt: str) -> list[Any]:
    return list(services.context.app.events.get(booking_id(receipt)))


def assigned(services: Services, head: Actor, main: Actor, **overrides: Any) -> str:
    receipt = request(services, **overrides)
    services.bookings.forward(WINDOW, receipt, "防火监督科")
    services.bookings.assign(head, receipt, main.actor_id)
    return receipt


def scheduled(services: Services, head: Actor, main: Actor, day: str = "2026-11-26") -> str:
    receipt = assigned(services, head, main)
    services.bookings.reply_with_slot(main, receipt, day, "am")
    services.bookings.accept_slot(INTAKE, receipt)
    return receipt


def refusal(command: Callable[[], Any], error: type[Exception] = IllegalTransition) -> Any:
    with pytest.raises(error) as refused:
        command()
    return refused.value


# -- the form (Art. 13-14) --------------------------------------------------------------------


def test_a_booking_gets_a_yy_receipt_number_of_the_day_in_letters_only(services: Services) -> None:
    receipt = request(services)

    assert re.fullmatch(r"YY20261124[A-HJ-NP-Z]{6}", receipt)
    booking = services.bookings.load(receipt)
    assert booking.status is BookingStatus.RECEIVED
    assert booking.agency == JINSHUI  # the competent agency unless another is asked
    assert isinstance(events(services, receipt)[0], Booking.Requested)


@pytest.mark.parametrize(
    ("kind", "basis_kind"),
    [
        ("pre_opening", "acceptance_receipt"),
        ("fire_acceptance", "inspection_receipt"),
        ("completion_spot_check", "acceptance_receipt"),
    ],
)
def test_each_kind_rests_on_its_own_basis(services: Services, kind: str, basis_kind: str) -> None:
    error = refusal(lambda: request(services, kind=kind, basis_kind=basis_kind), InvalidInput)
    assert (error.code, error.field) == ("basis_does_not_fit_kind", "basis")


def test_only_the_completion_certificate_can_come_from_this_platform(services: Services) -> None:
    error = refusal(lambda: request(services, basis_on_platform=True), InvalidInput)
    assert (error.code, error.field) == ("not_issued_on_platform", "basis")


@pytest.mark.parametrize("reference", ["", "scan.pdf", "sha256:XYZ", "sha256:" + "0" * 63])
def test_a_scanned_basis_references_an_uploaded_document(
    services: Services, reference: str
) -> None:
    error = refusal(lambda: request(services, basis_document=reference), InvalidInput)
    assert (error.code, error.field) == ("invalid_document_reference", "basis")


def certified_completion_filing(services: Services, **overrides: Any) -> str:
    """A completion filing certified by the 金水区 window; returns its certificate number."""
    values = {
        "kind": "completion",
        "materials": materials("completion"),
        "project_name": "测试购物中心",
    }
    receipt = services.filings.submit(WINDOW, **filing_input(**(values | overrides)))
    return services.filings.issue_certificate(WINDOW, receipt)


def spot_check(services: Services, number: str, **overrides: Any) -> str:
    return request(
        services,
        kind="completion_spot_check",
        basis_kind="completion_certificate",
        basis_number=number,
        basis_on_platform=True,
        basis_document="",
        **overrides,
    )


def test_a_certificate_issued_here_is_found_through_the_register_of_certificates(
    services: Services,
) -> None:
    number = certified_completion_filing(services, credit_code=credit_code("org"))

    receipt = spot_check(services, number)

    basis = services.bookings.load(receipt).basis
    filing = services.filings.load(basis["filing_receipt_number"])
    assert (basis["number"], basis["on_platform"], basis["document"]) == (number, True, "")
    assert filing.certificate_number == number


def test_a_certificate_not_issued_here_is_refused(services: Services) -> None:
    error = refusal(lambda: spot_check(services, "郑金消竣备字〔2026〕第9999号"), InvalidInput)
    assert (error.code, error.field) == ("unknown_certificate", "basis")


def test_a_certificate_of_another_organisation_or_project_is_refused(services: Services) -> None:
    number = certified_completion_filing(services)
    other_code = refusal(
        lambda: spot_check(services, number, credit_code=credit_code("other")), InvalidInput
    )
    other_project = refusal(
        lambda: spot_check(services, number, project_name="别的项目"), InvalidInput
    )
    assert other_code.code == other_project.code == "certificate_mismatch"


def test_a_design_filing_certificate_is_no_basis_for_a_spot_check(services: Services) -> None:
    number = certified_completion_filing(services, kind="design", materials=materials("design"))
    error = refusal(lambda: spot_check(services, number), InvalidInput)
    assert error.code == "not_a_completion_certificate"


def test_a_revoked_certificate_is_no_basis(services: Services) -> None:
    number = certified_completion_filing(services)
    entry: CertificateIndex = services.context.app.repository.get(
        CertificateIndex.create_id(number)
    )
    approver = Actor("approver-jinshui", Role.APPROVER, JINSHUI)
    services.filings.revoke_certificate(approver, entry.filing_receipt_number, "材料虚假")

    error = refusal(lambda: spot_check(services, number), InvalidInput)
    assert error.code == "certificate_revoked"


def test_the_contact_person_and_phone_are_sealed_under_a_subject_per_booking(
    services: Services,
) -> None:
    first, second = request(services), request(services)

    requested = [events(services, receipt)[0] for receipt in (first, second)]
    assert requested[0].contact_subject != requested[1].contact_subject
    for event in requested:
        assert is_sealed(event.contact_name)
        assert is_sealed(event.contact_phone)
        assert services.context.sealer.open(event.contact_phone) == "13912345678"
        assert services.context.sealer.open(event.contact_name) == "李娜"


def test_the_wished_time_needs_a_time_zone_and_is_kept_in_shanghai_time(
    services: Services,
) -> None:
    naive = refusal(lambda: request(services, wished_time=datetime(2026, 12, 1, 9)), InvalidInput)
    assert naive.field == "wished_time"

    receipt = request(services, wished_time=datetime.fromisoformat("2026-12-01T01:00:00+00:00"))
    assert events(services, receipt)[0].wished_time == "2026-12-01T09:00+08:00"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "drawing_check"}, "kind"),
        ({"route": "express"}, "route"),
        ({"credit_code": WRONG_CHECK_CHARACTER}, "credit_code"),
        ({"contact_phone": "0371-1234"}, "contact_phone"),
        ({"contact_name": "  "}, "contact_name"),
        ({"organisation_name": "公司\x00"}, "organisation_name"),
        ({"project_name": ""}, "project_name"),
        ({"district": "海淀区"}, "district"),
        ({"basis_kind": "licence"}, "basis"),
        ({"basis_number": " "}, "basis"),
    ],
)
def test_bad_input_is_refused_naming_its_field_and_records_nothing(
    services: Services, overrides: dict[str, Any], field: str
) -> None:
    error = refusal(lambda: request(services, **overrides), InvalidInput)
    assert error.field == field
    assert services.context.app.recorder.max_notification_id() in (None, 0)


def test_only_a_pre_opening_inspection_may_take_the_notice_and_commitment_route(
    services: Services,
) -> None:
    error = refusal(
        lambda: request(
            services, kind="fire_acceptance", basis_kind="acceptance_receipt",
            route="notice_commitment",
        ),
        InvalidInput,
    )  # fmt: skip
    assert (error.code, error.field) == ("route_not_allowed", "route")


def test_the_window_records_bookings_for_its_own_agency_only(services: Services) -> None:
    assert request(services, WINDOW)
    refusal(lambda: request(services, ERQI_WINDOW), OutsideJurisdiction)
    refusal(lambda: request(services, Actor("h", Role.HANDLER, JINSHUI)), NotPermitted)


# -- the window's review (Art. 15) ------------------------------------------------------------


def test_inside_the_remit_the_window_forwards_to_the_responsible_department(
    services: Services,
) -> None:
    receipt = request(services)

    services.bookings.forward(WINDOW, receipt, "金水区消防救援大队")

    booking = services.bookings.load(receipt)
    assert (booking.status, booking.department) == (BookingStatus.FORWARDED, "金水区消防救援大队")
    refusal(lambda: services.bookings.forward(WINDOW, receipt, "防火监督科"))  # reviewed once


def test_the_window_names_the_department_it_forwards_to(services: Services) -> None:
    receipt = request(services)
    error = refusal(lambda: services.bookings.forward(WINDOW, receipt, " "), InvalidInput)
    assert error.field == "department"


def test_outside_the_remit_the_window_rejects_at_once_naming_the_competent_agency(
    services: Services,
) -> None:
    receipt = request(services, agency=JINSHUI, district="二七区")

    error = refusal(lambda: services.bookings.forward(WINDOW, receipt, "防火监督科"))
    assert (error.code, error.details["competent_agency"]) == ("outside_remit", ERQI)
    assert services.bookings.reject(WINDOW, receipt) == ERQI

    assert services.bookings.load(receipt).status is BookingStatus.REJECTED
    assert events(services, receipt)[-1].competent_agency == ERQI


def test_the_competent_agency_cannot_reject(services: Services) -> None:
    receipt = request(services)
    assert refusal(lambda: services.bookings.reject(WINDOW, receipt)).code == "agency_is_competent"


def test_the_detachment_may_take_a_booking_of_any_district_or_name_the_brigade(
    services: Services,
) -> None:
    taken, passed_on = request(services, agency=DETACHMENT), request(services, agency=DETACHMENT)

    services.bookings.forward(DETACHMENT_WINDOW, taken, "防火监督处")
    assert services.bookings.reject(DETACHMENT_WINDOW, passed_on) == JINSHUI

    assert services.bookings.load(taken).status is BookingStatus.FORWARDED
    assert services.bookings.load(passed_on).status is BookingStatus.REJECTED
    refusal(lambda: services.bookings.forward(WINDOW, request(services, agency=DETACHMENT), "x"),
            OutsideJurisdiction)  # fmt: skip


def forward_by(services: Services, clock: Clock, received: datetime) -> datetime | None:
    clock.now = received
    receipt = request(services)
    return services.bookings.deadlines(services.bookings.load(receipt)).forward_by.at


def test_a_booking_at_1159_before_national_day_is_forwarded_by_noon_that_day(
    services: Services, clock: Clock
) -> None:
    assert forward_by(services, clock, at(2026, 9, 30, 11, 59)) == at(2026, 9, 30, 12, 0)


def test_a_booking_at_1201_before_national_day_is_forwarded_by_noon_after_the_holiday(
    services: Services, clock: Clock
) -> None:
    # 1-7 October are off; Thursday 8 October is the next working day.
    assert forward_by(services, clock, at(2026, 9, 30, 12, 1)) == at(2026, 10, 8, 12, 0)


@pytest.mark.parametrize("saturday", [date(2026, 2, 14), date(2026, 2, 28)])
def test_a_booking_on_a_make_up_working_saturday_morning_is_forwarded_by_its_noon(
    services: Services, clock: Clock, saturday: date
) -> None:
    received = datetime.combine(saturday, time(10), SHANGHAI)
    assert forward_by(services, clock, received) == received.replace(hour=12)


def test_a_booking_on_a_make_up_saturday_afternoon_waits_for_the_spring_festival_to_end(
    services: Services, clock: Clock
) -> None:
    # Saturday 14 February 2026 is worked; 15-23 February are the Spring Festival holiday.
    assert forward_by(services, clock, at(2026, 2, 14, 13, 0)) == at(2026, 2, 24, 12, 0)


def test_a_booking_on_an_ordinary_saturday_morning_is_forwarded_by_monday_noon(
    services: Services, clock: Clock
) -> None:
    assert forward_by(services, clock, at(2026, 11, 28, 10, 0)) == at(2026, 11, 30, 12, 0)


def test_forwarding_after_noon_is_allowed_and_recorded_as_late(
    services: Services, clock: Clock
) -> None:
    clock.now = at(2026, 9, 30, 11, 59)
    in_time, late = request(services), request(services)
    clock.now = at(2026, 9, 30, 12, 0)
    services.bookings.forward(WINDOW, in_time, "防火监督科")
    clock.now = at(2026, 9, 30, 12, 1)
    services.bookings.forward(WINDOW, late, "防火监督科")

    assert events(services, in_time)[-1].late is False
    assert events(services, late)[-1].late is True


def test_a_booking_on_new_years_eve_is_accepted_with_its_deadlines_unknown(
    services: Services, clock: Clock
) -> None:
    """The bundled calendar ends with 2026: the next working day after 31 December 2026 is not
    known, so the deadlines are unknown; the booking itself needs none and is taken."""
    clock.now = at(2026, 12, 31, 15, 0)
    receipt = request(services)

    deadlines = services.bookings.deadlines(services.bookings.load(receipt))
    assert deadlines.forward_by.unknown
    assert deadlines.forward_by.uncovered_year == 2027
    assert deadlines.reply_by.unknown


def test_forwarding_on_new_years_eve_is_in_time_whatever_2027_brings(
    services: Services, clock: Clock
) -> None:
    clock.now = at(2026, 12, 31, 15, 0)
    receipt = request(services)
    clock.now = at(2026, 12, 31, 17, 0)

    services.bookings.forward(WINDOW, receipt, "防火监督科")

    assert events(services, receipt)[-1].late is False


def test_forwarding_in_an_uncovered_year_asks_for_the_calendar_and_records_nothing(
    services: Services, clock: Clock
) -> None:
    clock.now = at(2026, 12, 31, 15, 0)
    receipt = request(services)
    clock.now = at(2027, 1, 4, 10, 0)

    error = refusal(
        lambda: services.bookings.forward(WINDOW, receipt, "防火监督科"), CalendarNotCovered
    )

    assert error.year == 2027
    assert services.bookings.load(receipt).status is BookingStatus.RECEIVED


def test_with_the_operators_2027_calendar_the_new_year_deadline_is_known(
    services: Services, clock: Clock
) -> None:
    services.context.calendar = WorkingDayCalendar(HYPOTHETICAL)  # a made-up 2027 file
    clock.now = at(2026, 12, 31, 15, 0)
    receipt = request(services)
    clock.now = at(2027, 1, 4, 11, 0)

    services.bookings.forward(WINDOW, receipt, "防火监督科")

    booking = services.bookings.load(receipt)
    assert services.bookings.deadlines(booking).forward_by.at == at(2027, 1, 4, 12, 0)
    assert events(services, receipt)[-1].late is False


# -- notice and commitment (告知承诺, Fire Protection Law Art. 15) ------------------------------


def test_on_the_commitment_route_the_window_issues_the_permit_on_the_spot(
    services: Services,
) -> None:
    receipt = request(services, route="notice_commitment")

    services.bookings.issue_permit_on_commitment(WINDOW, receipt, "防火监督科", COMMITMENT)

    forwarded, permit = events(services, receipt)[-2:]
    assert isinstance(forwarded, Booking.Forwarded)
    assert isinstance(permit, Booking.PermitIssuedOnCommitment)
    assert permit.commitment_document == COMMITMENT
    assert forwarded.timestamp == permit.timestamp
    booking = services.bookings.load(receipt)
    assert (booking.status, booking.permit_issued_at) == (BookingStatus.FORWARDED, permit.timestamp)


def test_the_site_check_after_a_permit_is_due_within_20_working_days(
    services: Services,
) -> None:
    receipt = request(services, route="notice_commitment")
    services.bookings.issue_permit_on_commitment(WINDOW, receipt, "防火监督科", COMMITMENT)

    deadlines = services.bookings.deadlines(services.bookings.load(receipt))

    # From Tuesday 24 November 2026: 20 working days end on Tuesday 22 December.
    assert deadlines.inspect_by is not None
    assert deadlines.inspect_by.at == end_of(2026, 12, 22)


def test_the_ordinary_route_inspects_within_10_working_days_of_acceptance(
    services: Services,
) -> None:
    receipt = request(services)
    assert services.bookings.deadlines(services.bookings.load(receipt)).inspect_by is None

    services.bookings.forward(WINDOW, receipt, "防火监督科")

    deadlines = services.bookings.deadlines(services.bookings.load(receipt))
    assert deadlines.inspect_by is not None
    assert deadlines.inspect_by.at == end_of(2026, 12, 8)


def test_a_commitment_booking_is_not_forwarded_without_its_permit(services: Services) -> None:
    receipt = request(services, route="notice_commitment")
    error = refusal(lambda: services.bookings.forward(WINDOW, receipt, "防火监督科"))
    assert error.code == "permit_due_on_the_spot"


def test_an_ordinary_booking_gets_no_permit_on_commitment(services: Services) -> None:
    receipt = request(services)
    error = refusal(
        lambda: services.bookings.issue_permit_on_commitment(WINDOW, receipt, "科", COMMITMENT)
    )
    assert error.code == "not_on_commitment_route"


def test_the_permit_needs_the_signed_commitment_document(services: Services) -> None:
    receipt = request(services, route="notice_commitment")
    error = refusal(
        lambda: services.bookings.issue_permit_on_commitment(WINDOW, receipt, "科", "承诺书.pdf"),
        InvalidInput,
    )
    assert error.field == "commitment_document"


def test_after_a_permit_the_site_check_is_neither_refused_nor_cancelled(
    services: Services, head: Actor, main: Actor
) -> None:
    receipt = request(services, route="notice_commitment")
    services.bookings.issue_permit_on_commitment(WINDOW, receipt, "防火监督科", COMMITMENT)
    services.bookings.assign(head, receipt, main.actor_id)

    refused = refusal(lambda: services.bookings.reply_with_refusal(main, receipt, "无需检查"))
    cancelled = refusal(lambda: services.bookings.cancel(INTAKE, receipt, "不需要了"))

    assert refused.code == cancelled.code == "site_check_required_after_permit"


# -- assignment (Art. 16) ---------------------------------------------------------------------


def test_the_head_assigns_one_main_handler_and_assistants_of_the_agency(
    services: Services, head: Actor, main: Actor, assistant: Actor
) -> None:
    receipt = request(services)
    services.bookings.forward(WINDOW, receipt, "防火监督科")

    services.bookings.assign(head, receipt, main.actor_id, [assistant.actor_id])

    booking = services.bookings.load(receipt)
    assert booking.status is BookingStatus.ASSIGNED
    assert (booking.main_handler, booking.assistants) == (main.actor_id, (assistant.actor_id,))


@pytest.mark.parametrize(
    ("who", "code"),
    [
        ("nobody", "unknown_handler"),
        ("clerk", "not_a_handler"),
        ("erqi handler", "handler_of_another_agency"),
    ],
)
def test_only_handlers_of_the_bookings_agency_are_assigned(
    services: Services, head: Actor, main: Actor, who: str, code: str
) -> None:
    receipt = request(services)
    services.bookings.forward(WINDOW, receipt, "防火监督科")
    account = {
        "nobody": "00000000-0000-0000-0000-000000000000",
        "clerk": staff(services, "clerk.jinshui", JINSHUI, Role.WINDOW_CLERK).actor_id,
        "erqi handler": staff(services, "handler.erqi", ERQI).actor_id,
    }[who]

    as_main = refusal(lambda: services.bookings.assign(head, receipt, account), InvalidInput)
    as_assistant = refusal(
        lambda: services.bookings.assign(head, receipt, main.actor_id, [account]), InvalidInput
    )

    assert (as_main.code, as_main.field) == (code, "main_handler")
    assert (as_assistant.code, as_assistant.field) == (code, "assistants")


def test_the_main_handler_is_not_also_an_assistant_and_nobody_is_named_twice(
    services: Services, head: Actor, main: Actor, assistant: Actor
) -> None:
    receipt = request(services)
    services.bookings.forward(WINDOW, receipt, "防火监督科")
    for assistants in ([main.actor_id], [assistant.actor_id, assistant.actor_id]):
        with pytest.raises(InvalidInput) as refused:
            services.bookings.assign(head, receipt, main.actor_id, assistants)
        assert (refused.value.code, refused.value.field) == ("handler_named_twice", "assistants")


def test_handlers_may_be_reassigned_until_the_reply(
    services: Services, head: Actor, main: Actor, assistant: Actor
) -> None:
    receipt = assigned(services, head, main)

    services.bookings.assign(head, receipt, assistant.actor_id, [main.actor_id])
    assert services.bookings.load(receipt).main_handler == assistant.actor_id

    services.bookings.reply_with_slot(assistant, receipt, "2026-11-26", "am")
    refusal(lambda: services.bookings.assign(head, receipt, main.actor_id))


def test_the_booking_is_assigned_only_after_forwarding_and_only_by_a_head(
    services: Services, head: Actor, main: Actor
) -> None:
    receipt = request(services)
    refusal(lambda: services.bookings.assign(head, receipt, main.actor_id))
    services.bookings.forward(WINDOW, receipt, "防火监督科")
    refusal(lambda: services.bookings.assign(WINDOW, receipt, main.actor_id), NotPermitted)


def test_a_detachment_head_assigns_a_brigades_booking_to_the_brigades_handlers(
    services: Services, main: Actor
) -> None:
    detachment_head = staff(services, "head.zz", DETACHMENT, Role.DEPT_HEAD)
    receipt = request(services)
    services.bookings.forward(WINDOW, receipt, "防火监督科")

    services.bookings.assign(detachment_head, receipt, main.actor_id)

    assert services.bookings.load(receipt).main_handler == main.actor_id


# -- the reply (Art. 16) ----------------------------------------------------------------------


def test_only_the_main_handler_replies(
    services: Services, head: Actor, main: Actor, assistant: Actor
) -> None:
    receipt = request(services)
    services.bookings.forward(WINDOW, receipt, "防火监督科")
    services.bookings.assign(head, receipt, main.actor_id, [assistant.actor_id])

    error = refusal(
        lambda: services.bookings.reply_with_slot(assistant, receipt, "2026-11-26", "am"),
        NotPermitted,
    )

    assert error.code == "not_the_main_handler"


def test_the_reply_deadline_is_2_working_days_after_receipt_across_a_holiday(
    services: Services, clock: Clock, head: Actor, main: Actor
) -> None:
    clock.now = at(2026, 9, 30, 10, 0)
    in_time, late = assigned(services, head, main), assigned(services, head, main)
    # 1-7 October are off: the two working days are Thursday 8 and Friday 9 October.
    deadline = services.bookings.deadlines(services.bookings.load(in_time)).reply_by.at
    assert deadline == end_of(2026, 10, 9)

    clock.now = at(2026, 10, 9, 23, 59)
    services.bookings.reply_with_slot(main, in_time, "2026-10-12", "am")
    clock.now = at(2026, 10, 10, 0, 0)  # a make-up working Saturday, but past the deadline
    services.bookings.reply_with_slot(main, late, "2026-10-12", "pm")

    assert events(services, in_time)[-1].late is False
    assert events(services, late)[-1].late is True


@pytest.mark.parametrize(
    ("day", "half", "code"),
    [
        ("2026-11-28", "am", "not_a_working_day"),  # a Saturday
        ("2026-11-24", "am", "slot_in_the_past"),  # this morning, already begun at 09:30
        ("2026-11-23", "pm", "slot_in_the_past"),
        ("2026-11-31", "am", "invalid_date"),
        ("2026-11-26", "evening", "invalid_half"),
    ],
)
def test_a_reply_offers_a_half_day_of_a_working_day_not_yet_begun(
    services: Services, head: Actor, main: Actor, day: str, half: str, code: str
) -> None:
    receipt = assigned(services, head, main)

    error = refusal(
        lambda: services.bookings.reply_with_slot(main, receipt, day, half), InvalidInput
    )

    assert error.code == code
    assert services.bookings.load(receipt).status is BookingStatus.ASSIGNED


def test_this_afternoon_may_be_offered_in_the_morning(
    services: Services, head: Actor, main: Actor
) -> None:
    receipt = assigned(services, head, main)
    services.bookings.reply_with_slot(main, receipt, date(2026, 11, 24), "pm")
    assert services.bookings.load(receipt).slot is not None


def test_a_full_half_day_cannot_be_booked(services: Services, head: Actor, main: Actor) -> None:
    services.bookings.inspections_per_half_day = 2
    receipts = [assigned(services, head, main) for _ in range(3)]
    for receipt in receipts[:2]:
        services.bookings.reply_with_slot(main, receipt, "2026-11-26", "am")

    error = refusal(
        lambda: services.bookings.reply_with_slot(main, receipts[2], "2026-11-26", "am")
    )

    assert error.code == "slot_full"
    assert services.bookings.load(receipts[2]).status is BookingStatus.ASSIGNED
    assert services.bookings.booked_places(JINSHUI, date(2026, 11, 26), "am") == receipts[:2]
    services.bookings.reply_with_slot(main, receipts[2], "2026-11-26", "pm")  # the other half


def test_a_reply_racing_another_for_the_last_place_conflicts_and_then_finds_it_full(
    services: Services, head: Actor, main: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The place is booked in the reply's own transaction: a rival that took it in between
    makes the save conflict, and the retry sees the half day full."""
    services.bookings.inspections_per_half_day = 1
    late_comer, rival = assigned(services, head, main), assigned(services, head, main)
    save = services.context.save
    raced: list[bool] = []

    def save_after_the_rival(*aggregates: Any) -> None:
        if not raced:
            raced.append(True)
            services.bookings.reply_with_slot(main, rival, "2026-11-26", "am")
        save(*aggregates)

    monkeypatch.setattr(services.context, "save", save_after_the_rival)
    error = refusal(lambda: services.bookings.reply_with_slot(main, late_comer, "2026-11-26", "am"))

    assert error.code == "slot_full"
    assert services.bookings.booked_places(JINSHUI, date(2026, 11, 26), "am") == [rival]
    assert services.bookings.load(late_comer).status is BookingStatus.ASSIGNED


def test_an_agency_sets_its_own_number_of_inspections_per_half_day(
    services: Services, head: Actor, main: Actor
) -> None:
    agencies = services.context.agencies
    services.context.agencies = AgencyDirectory(
        [
            replace(a, inspections_per_half_day=1) if a.code == JINSHUI else a
            for a in agencies.all()
        ],
        city=agencies.city,
    )
    assert (services.bookings.capacity(JINSHUI), services.bookings.capacity(ERQI)) == (1, 4)
    first, second = assigned(services, head, main), assigned(services, head, main)
    services.bookings.reply_with_slot(main, first, "2026-11-26", "am")

    error = refusal(lambda: services.bookings.reply_with_slot(main, second, "2026-11-26", "am"))

    assert error.code == "slot_full"


def test_a_refusal_gives_its_reason_and_ends_the_booking(
    services: Services, head: Actor, main: Actor
) -> None:
    receipt = assigned(services, head, main)
    blank = refusal(lambda: services.bookings.reply_with_refusal(main, receipt, " "), InvalidInput)
    assert blank.field == "reason"

    services.bookings.reply_with_refusal(main, receipt, "尚未取得消防安全检查申请受理凭证")

    assert services.bookings.load(receipt).status is BookingStatus.REFUSED
    refusal(lambda: services.bookings.cancel(INTAKE, receipt))


# -- the applicant's answer -------------------------------------------------------------------


def test_the_applicant_accepts_the_offered_slot(
    services: Services, head: Actor, main: Actor
) -> None:
    receipt = assigned(services, head, main)
    services.bookings.reply_with_slot(main, receipt, "2026-11-26", "am")

    services.bookings.accept_slot(INTAKE, receipt)

    booking = services.bookings.load(receipt)
    assert (booking.status, booking.slot) == (BookingStatus.SCHEDULED, (date(2026, 11, 26), "am"))


def test_the_window_records_an_answer_given_by_phone_and_nobody_else_does(
    services: Services, head: Actor, main: Actor
) -> None:
    receipt = assigned(services, head, main)
    services.bookings.reply_with_slot(main, receipt, "2026-11-26", "am")

    refusal(lambda: services.bookings.accept_slot(main, receipt), NotPermitted)
    refusal(lambda: services.bookings.accept_slot(ERQI_WINDOW, receipt), OutsideJurisdiction)
    services.bookings.accept_slot(WINDOW, receipt)


def test_asking_for_another_slot_frees_the_place_and_starts_a_new_reply_cycle(
    services: Services, clock: Clock, head: Actor, main: Actor
) -> None:
    receipt = assigned(services, head, main)
    services.bookings.reply_with_slot(main, receipt, "2026-11-26", "am")
    clock.now = at(2026, 11, 25, 16, 0)

    services.bookings.request_another_slot(INTAKE, receipt)

    booking = services.bookings.load(receipt)
    assert (booking.status, booking.slot) == (BookingStatus.ASSIGNED, None)
    assert services.bookings.booked_places(JINSHUI, date(2026, 11, 26), "am") == []
    # Two working days from Wednesday 25 November: Thursday 26 and Friday 27.
    reply_by = services.bookings.deadlines(booking).reply_by.at
    assert reply_by == end_of(2026, 11, 27)
    services.bookings.reply_with_slot(main, receipt, "2026-11-30", "pm")


def test_an_offered_slot_that_has_begun_can_no_longer_be_accepted(
    services: Services, clock: Clock, head: Actor, main: Actor
) -> None:
    receipt = assigned(services, head, main)
    services.bookings.reply_with_slot(main, receipt, "2026-11-26", "am")
    clock.now = at(2026, 11, 26, 0, 0)

    assert refusal(lambda: services.bookings.accept_slot(INTAKE, receipt)).code == "slot_passed"
    services.bookings.request_another_slot(INTAKE, receipt)


def test_cancelling_before_the_inspection_frees_the_place(
    services: Services, head: Actor, main: Actor
) -> None:
    receipt = scheduled(services, head, main)

    services.bookings.cancel(INTAKE, receipt, "场所装修推迟")

    assert services.bookings.load(receipt).status is BookingStatus.CANCELLED
    assert services.bookings.booked_places(JINSHUI, date(2026, 11, 26), "am") == []
    # The applicant's reason, sealed for the booking's contact (erased with them).
    reason = events(services, receipt)[-1].reason
    assert is_sealed(reason)
    assert services.bookings.ctx.sealer.open(reason) == "场所装修推迟"


def test_a_booking_cannot_be_cancelled_once_its_inspection_began(
    services: Services, clock: Clock, head: Actor, main: Actor
) -> None:
    receipt = scheduled(services, head, main)
    clock.now = at(2026, 11, 26, 9, 0)

    assert refusal(lambda: services.bookings.cancel(INTAKE, receipt)).code == "inspection_begun"


# -- the inspection's result ------------------------------------------------------------------


def test_the_main_handler_records_a_pass_once_the_inspection_began(
    services: Services, clock: Clock, head: Actor, main: Actor
) -> None:
    receipt = scheduled(services, head, main)
    early = refusal(lambda: services.bookings.record_result(main, receipt, True, []))
    assert early.code == "inspection_not_begun"
    clock.now = at(2026, 11, 26, 10, 0)

    services.bookings.record_result(main, receipt, True, [])

    booking = services.bookings.load(receipt)
    assert (booking.status, booking.result) == (BookingStatus.INSPECTED, (True, (), None))


@pytest.mark.parametrize(
    ("passed", "findings", "recheck", "code"),
    [
        (False, [], "2026-12-03", "missing_findings"),
        (False, ["  "], "2026-12-03", "missing_findings"),
        (False, ["疏散通道堵塞"], None, "missing_recheck_date"),
        (False, ["疏散通道堵塞"], "2026-11-26", "invalid_recheck_date"),  # the inspection day
        (False, ["疏散通道堵塞"], "2026-11-28", "invalid_recheck_date"),  # a Saturday
        (True, [], "2026-12-03", "recheck_without_failure"),
    ],
)
def test_a_failure_lists_its_findings_and_a_recheck_on_a_later_working_day(
    services: Services,
    clock: Clock,
    head: Actor,
    main: Actor,
    passed: bool,
    findings: list[str],
    recheck: str | None,
    code: str,
) -> None:
    receipt = scheduled(services, head, main)
    clock.now = at(2026, 11, 26, 11, 0)

    error = refusal(
        lambda: services.bookings.record_result(main, receipt, passed, findings, recheck),
        InvalidInput,
    )

    assert error.code == code
    services.bookings.record_result(main, receipt, False, ["疏散通道堵塞"], "2026-12-03")
    assert services.bookings.load(receipt).result == (False, ("疏散通道堵塞",), date(2026, 12, 3))


def test_only_the_main_handler_records_the_result(
    services: Services, clock: Clock, head: Actor, main: Actor, assistant: Actor
) -> None:
    receipt = scheduled(services, head, main)
    clock.now = at(2026, 11, 26, 11, 0)
    refusal(lambda: services.bookings.record_result(assistant, receipt, True, []), NotPermitted)


# -- every event, concurrency, audit ----------------------------------------------------------


def test_every_event_carries_actor_role_agency_and_time(
    services: Services, clock: Clock, head: Actor, main: Actor
) -> None:
    receipt = scheduled(services, head, main)
    clock.now = at(2026, 11, 26, 11, 0)
    services.bookings.record_result(main, receipt, True, [])

    stored = events(services, receipt)
    assert [type(e).__name__ for e in stored] == [
        "Requested", "Forwarded", "HandlersAssigned", "SlotOffered", "SlotAccepted",
        "InspectionResultRecorded",
    ]  # fmt: skip
    who = [(e.actor_id, e.actor_role, e.actor_agency) for e in stored]
    assert who == [
        (INTAKE.actor_id, "system", DETACHMENT),
        (WINDOW.actor_id, "window_clerk", JINSHUI),
        (head.actor_id, "dept_head", JINSHUI),
        (main.actor_id, "handler", JINSHUI),
        (INTAKE.actor_id, "system", DETACHMENT),
        (main.actor_id, "handler", JINSHUI),
    ]
    assert all(e.timestamp.tzinfo is not None for e in stored)
    assert services.bookings.load(receipt).version == len(stored)


def test_a_command_on_a_stale_version_is_refused(services: Services) -> None:
    receipt = request(services)
    refusal(
        lambda: services.bookings.forward(WINDOW, receipt, "科", expected_version=2), StaleVersion
    )
    services.bookings.forward(WINDOW, receipt, "科", expected_version=1)


def test_the_history_of_a_booking_is_found_by_its_receipt_within_its_agency(
    services: Services, head: Actor, main: Actor
) -> None:
    receipt = assigned(services, head, main)
    services.bookings.reply_with_slot(main, receipt, "2026-11-26", "am")

    history = services.audit.history(WINDOW, receipt.lower())

    assert [entry.what_zh for entry in history] == [
        "提交预约", "转交承办科室（大队）", "指派主办人、协办人", "回复检查时间",
    ]  # fmt: skip
    assert history[0].details["contact_phone"] == "〔密封 sealed〕"
    refusal(lambda: services.audit.history(ERQI_WINDOW, receipt), OutsideJurisdiction)


def test_the_history_of_a_half_day_is_for_auditors_only(
    services: Services, head: Actor, main: Actor
) -> None:
    receipt = assigned(services, head, main)
    services.bookings.reply_with_slot(main, receipt, "2026-11-26", "am")
    slot_id = str(InspectionSlot.create_id(JINSHUI, date(2026, 11, 26), Half.AM))

    refusal(lambda: services.audit.history(WINDOW, slot_id), NotPermitted)
    auditor = Actor("auditor", Role.AUDITOR, DETACHMENT)
    assert [e.what_zh for e in services.audit.history(auditor, slot_id)] == [
        "开设检查时段", "占用检查名额",
    ]  # fmt: skip
