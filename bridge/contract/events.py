"""The public contract: every event type the public side may learn, with the exact fields it
carries (DESIGN.md decision 4). Stable, versioned names; a new field or meaning is a new
version. This module imports nothing of the project: the outbound bridge and the receiver share
it, and the receiver checks every payload against it again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

# field name -> type; "str?" may be null; lists are spelled "list:str", "list:item" (notice
# items) and "list:half_day" (a half day with room: ISO day, am/pm, capacity, free places)
PUBLIC_EVENTS: dict[str, dict[str, str]] = {
    "filing.received.v1": {
        "receipt_number": "str",
        "kind": "str",
        "organisation_name": "str",
        "credit_code": "str",
        "project_name": "str",
        "district": "str",
        "agency": "str",
        "agency_name": "str",
        "channel": "str",
        "received_at": "str",
        "review_deadline": "str?",
        "query_code_hash": "str",
    },
    "filing.supplement_requested.v1": {
        "receipt_number": "str",
        "issued_at": "str",
        "items": "list:item",
    },
    "filing.resubmitted.v1": {
        "receipt_number": "str",
        "received_at": "str",
        "review_deadline": "str?",
        "changed_items": "list:str",
    },
    "filing.certificate_issued.v1": {
        "receipt_number": "str",
        "certificate_number": "str",
        "issued_at": "str",
        "kind": "str",
        "organisation_name": "str",
        "credit_code": "str",
        "project_name": "str",
        "district": "str",
        "agency": "str",
        "agency_name": "str",
    },
    "filing.withdrawn.v1": {"receipt_number": "str", "withdrawn_at": "str"},
    "filing.certificate_revoked.v1": {
        "receipt_number": "str",
        "certificate_number": "str",
        "revoked_at": "str",
        "reason": "str",
    },
    "filing.referred.v1": {
        "receipt_number": "str",
        "referred_at": "str",
        "competent_agency": "str",
        "competent_agency_name": "str",
    },
    "filing.selected_for_inspection.v1": {
        "receipt_number": "str",
        "selected_at": "str",
        "draw_reference": "str",
    },
    "filing.inspection_result_published.v1": {
        "receipt_number": "str",
        "published_at": "str",
        "passed": "bool",
        "findings": "list:str",
        "kind": "str",
        "certificate_number": "str",
        "organisation_name": "str",
        "credit_code": "str",
        "project_name": "str",
        "district": "str",
        "agency": "str",
        "agency_name": "str",
    },
    "intake.quarantined.v1": {
        "receipt_number": "str",
        "quarantined_at": "str",
        "code": "str",
        "field": "str",
        "reason_zh": "str",
        "reason_en": "str",
    },
    # Bookings of on-site inspections (Art. 11-16): what the applicant follows on tracking.
    # Never the contact person or means (sealed), never a staff member's name or account.
    "booking.received.v1": {
        "receipt_number": "str",
        "kind": "str",
        "route": "str",
        "organisation_name": "str",
        "credit_code": "str",
        "project_name": "str",
        "district": "str",
        "agency": "str",
        "agency_name": "str",
        "channel": "str",
        "wished_time": "str",
        "basis_kind": "str",
        "basis_number": "str",
        "received_at": "str",
        "forwarding_deadline": "str?",
        "query_code_hash": "str",
    },
    "booking.forwarded.v1": {
        "receipt_number": "str",
        "forwarded_at": "str",
        "department": "str",
        "reply_deadline": "str?",
        "inspection_deadline": "str?",
    },
    "booking.permit_issued.v1": {
        "receipt_number": "str",
        "issued_at": "str",
        "inspection_deadline": "str?",
    },
    "booking.rejected.v1": {
        "receipt_number": "str",
        "rejected_at": "str",
        "competent_agency": "str",
        "competent_agency_name": "str",
    },
    "booking.handlers_assigned.v1": {
        "receipt_number": "str",
        "assigned_at": "str",
        "reply_deadline": "str?",
    },
    "booking.slot_offered.v1": {
        "receipt_number": "str",
        "offered_at": "str",
        "day": "str",
        "half": "str",
    },
    "booking.inspection_refused.v1": {
        "receipt_number": "str",
        "refused_at": "str",
        "reason": "str",
    },
    "booking.slot_accepted.v1": {
        "receipt_number": "str",
        "accepted_at": "str",
        "day": "str",
        "half": "str",
        "inspection_deadline": "str?",
    },
    "booking.another_slot_requested.v1": {
        "receipt_number": "str",
        "requested_at": "str",
        "reply_deadline": "str?",
    },
    # v1 carried the (masked) reason; since issue 16 the reason, the applicant's own, never
    # crosses. v1 stays for the batches already sent; its reason is not kept on arrival.
    "booking.cancelled.v1": {
        "receipt_number": "str",
        "cancelled_at": "str",
        "reason": "str",
    },
    "booking.cancelled.v2": {"receipt_number": "str", "cancelled_at": "str"},
    "booking.inspection_result_recorded.v1": {
        "receipt_number": "str",
        "recorded_at": "str",
        "passed": "bool",
        "findings": "list:str",
        "recheck_date": "str?",
    },
    # Days with room (issue 4, capacity): the next working days of one agency, each half day
    # with its capacity and free places; each publication replaces the agency's previous one.
    "booking.availability.v1": {
        "agency": "str",
        "agency_name": "str",
        "published_at": "str",
        "days": "list:half_day",
    },
    # How far the working-day calendar reaches (issue 16). A deadline that falls beyond it is
    # null where it would be, and said pending (the year whose holidays the State Council has
    # yet to publish); it is determined once that year's file is loaded inside. ``deadline`` is
    # one of DEADLINE_FIELDS, the name of the column the deadline takes on tracking.
    "calendar.coverage.v1": {
        "covered_until": "str?",
        "first_uncovered_year": "int",
        "recorded_at": "str",
    },
    "case.deadline_pending.v1": {"receipt_number": "str", "deadline": "str", "year": "int"},
    "case.deadline_determined.v1": {"receipt_number": "str", "deadline": "str", "due_at": "str"},
    "ledger.checkpoint.v1": {
        "position": "int",
        "head_hash": "str",
        "hash_alg": "str",
        "recorded_at": "str",
    },
}
DEADLINE_FIELDS = frozenset(
    {"review_deadline", "forwarding_deadline", "reply_deadline", "inspection_deadline"}
)
NOTICE_ITEM_FIELDS = {"item": "str", "name": "str", "problem": "str", "reason": "str"}
HALF_DAY_FIELDS = {"day": "str", "half": "str", "capacity": "int", "free": "int"}
HALVES = frozenset({"am", "pm"})


class ContractViolation(ValueError):
    """A payload that the contract does not allow: refused whole, never trimmed."""


def _is_item(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == set(NOTICE_ITEM_FIELDS)
        and all(isinstance(value[k], str) for k in NOTICE_ITEM_FIELDS)
    )


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_half_day(value: Any) -> bool:
    """A half day with room: exactly its fields, an am/pm half, 0 <= free <= capacity."""
    return (
        isinstance(value, dict)
        and set(value) == set(HALF_DAY_FIELDS)
        and isinstance(value["day"], str)
        and value["half"] in HALVES
        and _is_count(value["capacity"])
        and _is_count(value["free"])
        and value["free"] <= value["capacity"]
    )


CHECKS: dict[str, Callable[[Any], bool]] = {
    "str": lambda v: isinstance(v, str),
    "str?": lambda v: v is None or isinstance(v, str),  # None: not known yet
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "list:str": lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
    "list:item": lambda v: isinstance(v, list) and all(_is_item(i) for i in v),
    "list:half_day": lambda v: isinstance(v, list) and all(_is_half_day(i) for i in v),
}


def validate(event_type: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload, if it has exactly the fields of ``event_type`` with the right types."""
    fields = PUBLIC_EVENTS.get(event_type)
    if fields is None:
        raise ContractViolation(f"{event_type!r} is not a public event type")
    names = payload.keys() if isinstance(payload, Mapping) else set(payload)
    if names != fields.keys():  # compared as sets
        extra, missing = sorted(set(payload) - set(fields)), sorted(set(fields) - set(payload))
        raise ContractViolation(f"{event_type}: unexpected {extra}, missing {missing}")
    for name, kind in fields.items():  # the receiver checks every event: kept lean
        if not CHECKS[kind](payload[name]):
            raise ContractViolation(f"{event_type}.{name}: expected {kind}")
    return dict(payload)
