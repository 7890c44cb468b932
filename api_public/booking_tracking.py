"""A booking on public tracking (RULES.md Art. 11-16, 29): what anyone with the receipt number
sees (status, deadlines, every step and its date) and what only the applicant sees with the
query code (project, the half day offered or accepted, reasons, result). Personal data never
reached the public side: the contact person stayed sealed inside."""

from __future__ import annotations

from typing import Any

from projections.public import bookings

# The public calendar's deadline columns, as tracking names them (booking_summary's keys).
TRACKING_NAMES = {
    "review_deadline": "review_deadline",
    "forwarding_deadline": "forward_by",
    "reply_deadline": "reply_by",
    "inspection_deadline": "inspect_by",
}


def pending_notes(case: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each deadline the case waits on that falls in a year whose holidays are not yet known:
    said in words, never left out (issue 16); determined once that year's calendar is loaded."""
    return {
        TRACKING_NAMES[column]: {
            "year": year,
            "message_zh": f"期限待国务院公布{year}年节假日安排后确定",
            "message_en": f"The deadline will be set once the State Council publishes the "
            f"holidays of {year}",
        }
        for column, year in sorted(case.get("pending_deadlines", {}).items())
        if column in TRACKING_NAMES
    }


def booking_summary(case: dict[str, Any], detailed: bool) -> dict[str, Any]:
    """A booking on tracking: status, the deadlines it waits on and every step with its date;
    with the query code also the project, the half day, the reasons and the result."""
    booking = case["booking"]
    summary: dict[str, Any] = {
        "receipt_number": case["receipt_number"],
        "case_type": "booking",
        "status": case["status"],
        "status_zh": bookings.STATUS_NAMES_ZH.get(case["status"], case["status"]),
        "received_at": case["received_at"],
        "agency_name": case["agency_name"],
        "deadlines": {
            "forward_by": booking["forwarding_deadline"],
            "reply_by": booking["reply_deadline"],
            "inspect_by": booking["inspection_deadline"],
        },
        "deadlines_pending": pending_notes(case),
        "details_shown": detailed,
        "timeline": [
            {
                "step": t["type"],
                "step_zh": bookings.STEP_NAMES_ZH.get(t["type"], t["type"]),
                "at": t["at"],
                **({"details": t["details"]} if detailed else {}),
            }
            for t in case["timeline"]
        ],
    }
    if not detailed:
        return summary
    slot = None
    if booking["slot_day"] is not None:
        half = booking["slot_half"]
        slot = {
            "day": booking["slot_day"],
            "half": half,
            "half_zh": bookings.HALF_NAMES_ZH.get(half, half),
            "accepted": booking["slot_accepted_at"] is not None,
            "accepted_at": booking["slot_accepted_at"],
        }
    return summary | {
        "kind": case["kind"],
        "kind_zh": bookings.KIND_NAMES_ZH.get(case["kind"], case["kind"]),
        "route": booking["route"],
        "organisation_name": case["organisation_name"],
        "credit_code": case["credit_code"],
        "project_name": case["project_name"],
        "district": case["district"],
        "wished_time": booking["wished_time"],
        "basis": {"kind": booking["basis_kind"], "number": booking["basis_number"]},
        "department": booking["department"],
        "permit_issued_at": booking["permit_issued_at"],
        "slot": slot,
        "refusal_reason": booking["refusal_reason"],
        "cancel_reason": booking["cancel_reason"],
        "referral": case["referral"],
        "result": booking["result"],
    }
