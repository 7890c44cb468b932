"""The allow-list of bookings (DESIGN.md decision 4; RULES.md Art. 11-16, 29): what of each
booking event the applicant may follow on public tracking, and the days with room each agency
publishes.

Never crossing: the contact person and means (sealed; the bridge holds no key to open them),
the staff (a head's assignment crosses as "assigned" and when, never who), the certificate's
uploaded scan and the signed commitment (documents stay inside), lateness flags (they judge the
staff, and the deadlines that cross let anyone judge for themselves), and what the applicant
typed for themselves (the reason they cancel: sealed for them inside, shown back to them on
tracking from the public side's own sealed copy). Staff's free text — refusal reasons,
findings, the department — is masked.

Deadlines the applicant should see are computed here from the event times, as the staff
console does (domain.booking_deadlines): the window's forwarding deadline on receipt, the
reply deadline on forwarding, on assignment and on each new reply cycle, and the inspection
deadline where a period runs. Each is None while the calendar of its year is not configured.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bridge.sanitise import mask
from bridge.translation import PublicEvent, Sources, at, known
from domain.availability import BookingAvailability
from domain.booking import Booking
from domain.booking_deadlines import forwarding_deadline, inspection_deadline, reply_deadline
from domain.booking_rules import Route


def _booking(event: Any, sources: Sources) -> Booking:
    return sources.booking_at(event.originator_id, event.originator_version)


def _reply_by(sources: Sources, booking: Booking) -> str | None:
    return known(lambda: reply_deadline(sources.calendar, booking.reply_from), "reply_deadline")


def _inspect_by(sources: Sources, booking: Booking) -> str | None:
    return known(
        lambda: inspection_deadline(
            sources.calendar,
            booking.kind,
            booking.route,
            booking.forwarded_at,
            booking.permit_issued_at,
        ),
        "inspection_deadline",
    )


def received(event: Booking.Requested, sources: Sources) -> list[PublicEvent]:
    agency = sources.agencies.get(event.agency)
    basis = event.basis
    return [
        (
            "booking.received.v1",
            {
                "receipt_number": event.receipt_number,
                "kind": event.kind,
                "route": event.route,
                "organisation_name": mask(event.organisation_name),
                "credit_code": mask(event.credit_code),
                "project_name": mask(event.project_name),
                "district": event.district,
                "agency": agency.code,
                "agency_name": agency.name,
                "channel": event.channel,
                "wished_time": event.wished_time,
                "basis_kind": basis["kind"],
                "basis_number": mask(basis["number"]),
                "received_at": at(event.timestamp),
                "forwarding_deadline": known(
                    lambda: forwarding_deadline(sources.calendar, event.timestamp),
                    "forwarding_deadline",
                ),
                "query_code_hash": event.query_code_hash,
            },
        )
    ]


def forwarded(event: Booking.Forwarded, sources: Sources) -> list[PublicEvent]:
    """On the notice-and-commitment route the permit follows in the same step and brings its
    own site-check period: the ordinary route's period must not show in between."""
    booking = _booking(event, sources)
    commitment = booking.route is Route.NOTICE_COMMITMENT
    return [
        (
            "booking.forwarded.v1",
            {
                "receipt_number": booking.receipt_number,
                "forwarded_at": at(event.timestamp),
                "department": mask(event.department),
                "reply_deadline": _reply_by(sources, booking),
                "inspection_deadline": None if commitment else _inspect_by(sources, booking),
            },
        )
    ]


def permit_issued(event: Booking.PermitIssuedOnCommitment, sources: Sources) -> list[PublicEvent]:
    booking = _booking(event, sources)
    return [
        (
            "booking.permit_issued.v1",
            {
                "receipt_number": booking.receipt_number,
                "issued_at": at(event.timestamp),
                "inspection_deadline": _inspect_by(sources, booking),
            },
        )
    ]


def rejected(event: Booking.RejectedOutsideRemit, sources: Sources) -> list[PublicEvent]:
    booking = _booking(event, sources)
    competent = sources.agencies.get(event.competent_agency)
    return [
        (
            "booking.rejected.v1",
            {
                "receipt_number": booking.receipt_number,
                "rejected_at": at(event.timestamp),
                "competent_agency": competent.code,
                "competent_agency_name": competent.name,
            },
        )
    ]


def handlers_assigned(event: Booking.HandlersAssigned, sources: Sources) -> list[PublicEvent]:
    """Only that the booking has its handlers, and when: never who they are."""
    booking = _booking(event, sources)
    return [
        (
            "booking.handlers_assigned.v1",
            {
                "receipt_number": booking.receipt_number,
                "assigned_at": at(event.timestamp),
                "reply_deadline": _reply_by(sources, booking),
            },
        )
    ]


def slot_offered(event: Booking.SlotOffered, sources: Sources) -> list[PublicEvent]:
    booking = _booking(event, sources)
    return [
        (
            "booking.slot_offered.v1",
            {
                "receipt_number": booking.receipt_number,
                "offered_at": at(event.timestamp),
                "day": event.day,
                "half": event.half,
            },
        )
    ]


def inspection_refused(event: Booking.InspectionRefused, sources: Sources) -> list[PublicEvent]:
    booking = _booking(event, sources)
    return [
        (
            "booking.inspection_refused.v1",
            {
                "receipt_number": booking.receipt_number,
                "refused_at": at(event.timestamp),
                "reason": mask(event.reason),
            },
        )
    ]


def slot_accepted(event: Booking.SlotAccepted, sources: Sources) -> list[PublicEvent]:
    booking = _booking(event, sources)
    if booking.slot is None:  # the aggregate accepts only an offered slot
        raise ValueError(f"{booking.receipt_number}: a slot accepted without an offered slot")
    day, half = booking.slot
    return [
        (
            "booking.slot_accepted.v1",
            {
                "receipt_number": booking.receipt_number,
                "accepted_at": at(event.timestamp),
                "day": day.isoformat(),
                "half": str(half),
                "inspection_deadline": _inspect_by(sources, booking),
            },
        )
    ]


def another_slot_requested(
    event: Booking.AnotherSlotRequested, sources: Sources
) -> list[PublicEvent]:
    """A new reply cycle: its own 2 working days run from the request (Art. 16)."""
    booking = _booking(event, sources)
    return [
        (
            "booking.another_slot_requested.v1",
            {
                "receipt_number": booking.receipt_number,
                "requested_at": at(event.timestamp),
                "reply_deadline": _reply_by(sources, booking),
            },
        )
    ]


def cancelled(event: Booking.Cancelled, sources: Sources) -> list[PublicEvent]:
    """That and when, never why: the reason is the applicant's own (sealed inside; shown back
    to them on tracking from their own step, docs/personal-data.md)."""
    booking = _booking(event, sources)
    return [
        (
            "booking.cancelled.v2",
            {"receipt_number": booking.receipt_number, "cancelled_at": at(event.timestamp)},
        )
    ]


def result_recorded(event: Booking.InspectionResultRecorded, sources: Sources) -> list[PublicEvent]:
    booking = _booking(event, sources)
    return [
        (
            "booking.inspection_result_recorded.v1",
            {
                "receipt_number": booking.receipt_number,
                "recorded_at": at(event.timestamp),
                "passed": event.passed,
                "findings": [mask(finding) for finding in event.findings],
                "recheck_date": event.recheck_date,
            },
        )
    ]


def availability(event: BookingAvailability.Published, sources: Sources) -> list[PublicEvent]:
    """The days with room of one agency, whole: the public side replaces what it had."""
    agency = sources.agencies.get(event.agency)
    days = [
        {
            "day": entry["day"],
            "half": entry["half"],
            "capacity": entry["capacity"],
            "free": entry["free"],
        }
        for entry in event.days
    ]
    return [
        (
            "booking.availability.v1",
            {
                "agency": agency.code,
                "agency_name": agency.name,
                "published_at": at(event.timestamp),
                "days": days,
            },
        )
    ]


BOOKING_ALLOW_LIST: dict[tuple[str, int], Callable[[Any, Sources], list[PublicEvent]]] = {
    ("firegov:Booking.Requested", 1): received,
    ("firegov:Booking.Forwarded", 1): forwarded,
    ("firegov:Booking.PermitIssuedOnCommitment", 1): permit_issued,
    ("firegov:Booking.RejectedOutsideRemit", 1): rejected,
    ("firegov:Booking.HandlersAssigned", 1): handlers_assigned,
    ("firegov:Booking.SlotOffered", 1): slot_offered,
    ("firegov:Booking.InspectionRefused", 1): inspection_refused,
    ("firegov:Booking.SlotAccepted", 1): slot_accepted,
    ("firegov:Booking.AnotherSlotRequested", 1): another_slot_requested,
    ("firegov:Booking.Cancelled", 1): cancelled,
    ("firegov:Booking.InspectionResultRecorded", 1): result_recorded,
    ("firegov:BookingAvailability.Published", 1): availability,
}
