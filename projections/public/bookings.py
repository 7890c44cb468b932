"""Bookings on the public side (RULES.md Art. 11-16, 29; issue 4): each booking on case
tracking, with its status, every step and its date, the deadlines the applicant waits on, the
offered or accepted half day, the refusal, rejection or cancellation reason and the result; and
per agency the days with room it last published.

A booking is a ``public_cases`` row like a filing (so tracking, the query code and the
timeline work the same), plus a ``public_bookings`` row for what only bookings have. The days
with room are replaced whole by each publication of an agency; the past is dropped when a
query asks (projections.public.queries), since only the reader knows what time it is now.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from projections.public.calendar import forget_pending
from projections.public.tracking import add_step, json_text, update_case
from projections.store import Tx

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS public_bookings (
        receipt_number TEXT PRIMARY KEY, route TEXT NOT NULL, wished_time TEXT NOT NULL,
        basis_kind TEXT NOT NULL, basis_number TEXT NOT NULL, forwarding_deadline TEXT,
        forwarded_at TEXT, department TEXT, reply_deadline TEXT, inspection_deadline TEXT,
        permit_issued_at TEXT, assigned_at TEXT, slot_day TEXT, slot_half TEXT,
        slot_accepted_at TEXT, refusal_reason TEXT, cancel_reason TEXT, result TEXT)""",
    """CREATE TABLE IF NOT EXISTS public_availability (
        agency TEXT NOT NULL, day TEXT NOT NULL, half TEXT NOT NULL,
        capacity INTEGER NOT NULL, free INTEGER NOT NULL, PRIMARY KEY (agency, day, half))""",
    """CREATE TABLE IF NOT EXISTS public_availability_agencies (
        agency TEXT PRIMARY KEY, agency_name TEXT NOT NULL, published_at TEXT NOT NULL,
        seq BIGINT NOT NULL)""",
]
TABLES = ["public_bookings", "public_availability", "public_availability_agencies"]

HALF_NAMES_ZH = {"am": "上午", "pm": "下午"}
KIND_NAMES_ZH = {
    "pre_opening": "公众聚集场所投入使用、营业前消防安全检查",
    "fire_acceptance": "消防验收现场检查",
    "completion_spot_check": "竣工验收消防备案抽查现场检查",
}
STATUS_NAMES_ZH = {
    "received": "已接收，待窗口审查",
    "rejected": "不予受理（请向有管辖权的机构申请）",
    "forwarded": "已转交承办科室或大队",
    "assigned": "已指派承办人，待回复检查时间",
    "slot_offered": "已回复检查时间，待申请人确认",
    "refused": "不予安排检查",
    "scheduled": "检查时间已确认，待检查",
    "cancelled": "已取消",
    "inspected": "已检查",
}
STEP_NAMES_ZH = {
    "received": "收到预约申请",
    "forwarded": "窗口审查通过，转交承办科室或大队",
    "permit_issued": "告知承诺，当场作出许可",
    "rejected": "不予受理，告知向有管辖权的机构申请",
    "handlers_assigned": "指派承办人",
    "slot_offered": "回复检查时间",
    "inspection_refused": "回复不予安排检查",
    "slot_accepted": "确认检查时间",
    "another_slot_requested": "要求另行安排检查时间",
    "cancelled": "取消预约",
    "inspection_result_recorded": "记录检查结果",
}


def _booking(tx: Tx, receipt: str, **changes: Any) -> None:
    assignments = ", ".join(f"{column} = ?" for column in changes)
    tx.execute(
        f"UPDATE public_bookings SET {assignments} WHERE receipt_number = ?",  # noqa: S608 - fixed names
        [*changes.values(), receipt],
    )
    forget_pending(tx, receipt, changes)


def _slot(day: str, half: str) -> dict[str, str]:
    return {"day": day, "half": half, "half_zh": HALF_NAMES_ZH.get(half, half)}


def received(tx: Tx, seq: int, p: dict[str, Any]) -> None:
    receipt, at = p["receipt_number"], p["received_at"]
    tx.execute(
        "INSERT INTO public_cases (receipt_number, kind, organisation_name, credit_code,"
        " project_name, district, agency, agency_name, channel, status, received_at,"
        " query_code_hash, updated_at, seq)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'received', ?, ?, ?, ?)",
        [receipt, p["kind"], p["organisation_name"], p["credit_code"], p["project_name"],
         p["district"], p["agency"], p["agency_name"], p["channel"], at, p["query_code_hash"],
         at, seq],
    )  # fmt: skip
    tx.execute(
        "INSERT INTO public_bookings (receipt_number, route, wished_time, basis_kind,"
        " basis_number, forwarding_deadline) VALUES (?, ?, ?, ?, ?, ?)",
        [receipt, p["route"], p["wished_time"], p["basis_kind"], p["basis_number"],
         p["forwarding_deadline"]],
    )  # fmt: skip
    details = {"forwarding_deadline": p["forwarding_deadline"], "agency_name": p["agency_name"]}
    add_step(tx, seq, receipt, "received", at, details)


def forwarded(tx: Tx, seq: int, p: dict[str, Any]) -> None:
    receipt, at = p["receipt_number"], p["forwarded_at"]
    update_case(tx, seq, receipt, at, status="forwarded")
    deadlines = {
        "reply_deadline": p["reply_deadline"],
        "inspection_deadline": p["inspection_deadline"],
    }
    _booking(
        tx, receipt, forwarding_deadline=None, forwarded_at=at, department=p["department"],
        **deadlines,
    )  # fmt: skip
    add_step(tx, seq, receipt, "forwarded", at, {"department": p["department"], **deadlines})


def permit_issued(tx: Tx, seq: int, p: dict[str, Any]) -> None:
    receipt, at = p["receipt_number"], p["issued_at"]
    update_case(tx, seq, receipt, at)
    _booking(tx, receipt, permit_issued_at=at, inspection_deadline=p["inspection_deadline"])
    add_step(
        tx, seq, receipt, "permit_issued", at, {"inspection_deadline": p["inspection_deadline"]}
    )


def rejected(tx: Tx, seq: int, p: dict[str, Any]) -> None:
    receipt, at = p["receipt_number"], p["rejected_at"]
    referral = {"agency": p["competent_agency"], "agency_name": p["competent_agency_name"]}
    update_case(tx, seq, receipt, at, status="rejected", referral=json_text(referral))
    _booking(tx, receipt, forwarding_deadline=None)
    add_step(tx, seq, receipt, "rejected", at, referral)


def handlers_assigned(tx: Tx, seq: int, p: dict[str, Any]) -> None:
    receipt, at = p["receipt_number"], p["assigned_at"]
    update_case(tx, seq, receipt, at, status="assigned")
    _booking(tx, receipt, assigned_at=at, reply_deadline=p["reply_deadline"])
    add_step(tx, seq, receipt, "handlers_assigned", at, {"reply_deadline": p["reply_deadline"]})


def slot_offered(tx: Tx, seq: int, p: dict[str, Any]) -> None:
    receipt, at = p["receipt_number"], p["offered_at"]
    update_case(tx, seq, receipt, at, status="slot_offered")
    _booking(tx, receipt, reply_deadline=None, slot_day=p["day"], slot_half=p["half"])
    add_step(tx, seq, receipt, "slot_offered", at, _slot(p["day"], p["half"]))


def inspection_refused(tx: Tx, seq: int, p: dict[str, Any]) -> None:
    receipt, at = p["receipt_number"], p["refused_at"]
    update_case(tx, seq, receipt, at, status="refused")
    _booking(tx, receipt, reply_deadline=None, inspection_deadline=None, refusal_reason=p["reason"])
    add_step(tx, seq, receipt, "inspection_refused", at, {"reason": p["reason"]})


def slot_accepted(tx: Tx, seq: int, p: dict[str, Any]) -> None:
    receipt, at = p["receipt_number"], p["accepted_at"]
    update_case(tx, seq, receipt, at, status="scheduled")
    _booking(
        tx, receipt, slot_day=p["day"], slot_half=p["half"], slot_accepted_at=at,
        inspection_deadline=p["inspection_deadline"],
    )  # fmt: skip
    details = {**_slot(p["day"], p["half"]), "inspection_deadline": p["inspection_deadline"]}
    add_step(tx, seq, receipt, "slot_accepted", at, details)


def another_slot_requested(tx: Tx, seq: int, p: dict[str, Any]) -> None:
    receipt, at = p["receipt_number"], p["requested_at"]
    update_case(tx, seq, receipt, at, status="assigned")
    _booking(tx, receipt, reply_deadline=p["reply_deadline"], slot_day=None, slot_half=None)
    details = {"reply_deadline": p["reply_deadline"]}
    add_step(tx, seq, receipt, "another_slot_requested", at, details)


def cancelled(tx: Tx, seq: int, p: dict[str, Any]) -> None:
    """v1's reason is not kept (a replay of batches sent before issue 16 included): the
    reason is the applicant's own, shown to them from their sealed step (api_public.routes)."""
    receipt, at = p["receipt_number"], p["cancelled_at"]
    update_case(tx, seq, receipt, at, status="cancelled")
    _booking(
        tx, receipt, forwarding_deadline=None, reply_deadline=None, inspection_deadline=None,
        slot_day=None, slot_half=None, slot_accepted_at=None, cancel_reason=None,
    )  # fmt: skip
    add_step(tx, seq, receipt, "cancelled", at, {})


def result_recorded(tx: Tx, seq: int, p: dict[str, Any]) -> None:
    receipt, at = p["receipt_number"], p["recorded_at"]
    result = {"passed": p["passed"], "findings": p["findings"], "recheck_date": p["recheck_date"]}
    update_case(tx, seq, receipt, at, status="inspected")
    _booking(tx, receipt, inspection_deadline=None, result=json_text(result))
    add_step(tx, seq, receipt, "inspection_result_recorded", at, result)


def availability(tx: Tx, seq: int, p: dict[str, Any]) -> None:
    """Each publication replaces the agency's days whole: a day no longer listed is gone."""
    agency = p["agency"]
    tx.execute("DELETE FROM public_availability WHERE agency = ?", [agency])
    for entry in p["days"]:
        tx.execute(
            "INSERT INTO public_availability VALUES (?, ?, ?, ?, ?)",
            [agency, entry["day"], entry["half"], entry["capacity"], entry["free"]],
        )
    tx.execute(
        "INSERT INTO public_availability_agencies VALUES (?, ?, ?, ?) ON CONFLICT (agency)"
        " DO UPDATE SET agency_name = excluded.agency_name,"
        " published_at = excluded.published_at, seq = excluded.seq",
        [agency, p["agency_name"], p["published_at"], seq],
    )


APPLY: dict[str, Callable[[Tx, int, dict[str, Any]], None]] = {
    "booking.received.v1": received,
    "booking.forwarded.v1": forwarded,
    "booking.permit_issued.v1": permit_issued,
    "booking.rejected.v1": rejected,
    "booking.handlers_assigned.v1": handlers_assigned,
    "booking.slot_offered.v1": slot_offered,
    "booking.inspection_refused.v1": inspection_refused,
    "booking.slot_accepted.v1": slot_accepted,
    "booking.another_slot_requested.v1": another_slot_requested,
    "booking.cancelled.v1": cancelled,
    "booking.cancelled.v2": cancelled,
    "booking.inspection_result_recorded.v1": result_recorded,
    "booking.availability.v1": availability,
}
