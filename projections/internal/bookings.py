"""The bookings read model of the staff console (RULES.md Art. 11-16): one row per booking
(status, when it was received and forwarded, the department, the handlers, the start of the
current reply cycle, the slot, the result) and its history, derived from events only.

Like the filings rows (projections.internal.filings), a row stores the event times and no
deadline: the forwarding, reply and inspection deadlines are computed when a query asks
(projections.internal.booking_queries, with domain.booking_deadlines), so no booking whose
deadline falls in a year the calendar does not cover can stop the projector.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from domain.booking import Booking
from domain.booking_rules import BookingStatus

TOPIC_PREFIX = "firegov:Booking."
SCHEMA = [
    """CREATE TABLE IF NOT EXISTS view_bookings (
        id TEXT PRIMARY KEY,
        receipt_number TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        route TEXT NOT NULL,
        agency TEXT NOT NULL,
        district TEXT NOT NULL,
        status TEXT NOT NULL,
        organisation_name TEXT NOT NULL,
        credit_code TEXT NOT NULL,
        project_name TEXT NOT NULL,
        wished_time TEXT NOT NULL,
        contact_subject TEXT NOT NULL,
        contact_name TEXT NOT NULL,
        contact_phone TEXT NOT NULL,
        basis TEXT NOT NULL,
        channel TEXT NOT NULL,
        received_at TEXT NOT NULL,
        reply_from TEXT NOT NULL,
        forwarded_at TEXT,
        forwarded_late INTEGER NOT NULL,
        department TEXT,
        permit_issued_at TEXT,
        main_handler TEXT,
        assistants TEXT NOT NULL,
        slot_day TEXT,
        slot_half TEXT,
        replied_late INTEGER NOT NULL,
        outcome TEXT,
        result TEXT,
        updated_at TEXT NOT NULL,
        version INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS view_bookings_queue ON view_bookings (agency, status, received_at)",
    """CREATE TABLE IF NOT EXISTS view_booking_history (
        booking_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        position BIGINT NOT NULL,
        at TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        actor_role TEXT NOT NULL,
        actor_agency TEXT NOT NULL,
        event TEXT NOT NULL,
        PRIMARY KEY (booking_id, version)
    )""",
]
TABLES = ["view_bookings", "view_booking_history"]


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _dump(value: Any) -> str:
    return orjson.dumps(value).decode()


def _requested(event: Booking.Requested) -> dict[str, Any]:
    at = _iso(event.timestamp)
    return {
        "id": str(event.originator_id),
        "receipt_number": event.receipt_number,
        "kind": event.kind,
        "route": event.route,
        "agency": event.agency,
        "district": event.district,
        "status": str(BookingStatus.RECEIVED),
        "organisation_name": event.organisation_name,
        "credit_code": event.credit_code,
        "project_name": event.project_name,
        "wished_time": event.wished_time,
        "contact_subject": event.contact_subject,
        "contact_name": event.contact_name,
        "contact_phone": event.contact_phone,
        "basis": _dump(event.basis),
        "channel": event.channel,
        "received_at": at,
        "reply_from": at,  # the first reply cycle runs from the window's receipt (Art. 16)
        "forwarded_at": None,
        "forwarded_late": 0,
        "department": None,
        "permit_issued_at": None,
        "main_handler": None,
        "assistants": _dump([]),
        "slot_day": None,
        "slot_half": None,
        "replied_late": 0,
        "outcome": None,  # why a booking ended without an inspection: referral, refusal, cancel
        "result": None,
    }


def _apply(row: dict[str, Any], event: Any) -> None:
    at = _iso(event.timestamp)
    if isinstance(event, Booking.Forwarded):
        row["status"] = str(BookingStatus.FORWARDED)
        row["forwarded_at"] = at
        row["forwarded_late"] = int(event.late)
        row["department"] = event.department
    elif isinstance(event, Booking.PermitIssuedOnCommitment):
        row["permit_issued_at"] = at
    elif isinstance(event, Booking.RejectedOutsideRemit):
        row["status"] = str(BookingStatus.REJECTED)
        row["outcome"] = _dump({"competent_agency": event.competent_agency})
    elif isinstance(event, Booking.HandlersAssigned):
        row["status"] = str(BookingStatus.ASSIGNED)
        row["main_handler"] = event.main_handler
        row["assistants"] = _dump(event.assistants)
    elif isinstance(event, Booking.SlotOffered):
        row["status"] = str(BookingStatus.SLOT_OFFERED)
        row["slot_day"], row["slot_half"] = event.day, event.half
        row["replied_late"] = int(event.late)
    elif isinstance(event, Booking.InspectionRefused):
        row["status"] = str(BookingStatus.REFUSED)
        row["replied_late"] = int(event.late)
        row["outcome"] = _dump({"refusal_reason": event.reason})
    elif isinstance(event, Booking.SlotAccepted):
        row["status"] = str(BookingStatus.SCHEDULED)
    elif isinstance(event, Booking.AnotherSlotRequested):
        row["status"] = str(BookingStatus.ASSIGNED)
        row["reply_from"] = at  # a new reply cycle
        row["slot_day"] = row["slot_half"] = None
        row["replied_late"] = 0
    elif isinstance(event, Booking.Cancelled):
        row["status"] = str(BookingStatus.CANCELLED)
        row["slot_day"] = row["slot_half"] = None
        row["outcome"] = _dump({"cancel_reason": event.reason})
    elif isinstance(event, Booking.InspectionResultRecorded):
        row["status"] = str(BookingStatus.INSPECTED)
        row["result"] = _dump(
            {"passed": event.passed, "findings": event.findings, "recheck_date": event.recheck_date}
        )


def project(row: dict[str, Any] | None, event: Any) -> dict[str, Any]:
    """The booking row after ``event`` (a pure function of the previous row and the event)."""
    if isinstance(event, Booking.Requested):
        row = _requested(event)
    else:
        if row is None:
            raise ValueError(f"{type(event).__name__} arrived before Requested")
        row = dict(row)
        _apply(row, event)
    row["version"] = event.originator_version
    row["updated_at"] = _iso(event.timestamp)
    return row


def history_row(event: Any, position: int) -> dict[str, Any]:
    return {
        "booking_id": str(event.originator_id),
        "version": event.originator_version,
        "position": position,
        "at": _iso(event.timestamp),
        "actor_id": event.actor_id,
        "actor_role": event.actor_role,
        "actor_agency": event.actor_agency,
        "event": type(event).__name__,
    }
