"""The public side's read models, fed only by the receiver: case tracking, the certificate
register, published inspection results and ledger checkpoints (RULES.md Art. 10, 20, 29);
the bookings on tracking and the days with room are in projections.public.bookings.

Each ``apply_*`` is a pure step from a public event to rows; the receiver calls ``apply`` inside
the transaction that also moves its position, so every event takes effect exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from projections.public import bookings, calendar
from projections.public.tracking import add_step as _timeline
from projections.public.tracking import json_text as _json
from projections.public.tracking import update_case as _update_case
from projections.store import Tx

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS public_cases (
        receipt_number TEXT PRIMARY KEY, kind TEXT NOT NULL, organisation_name TEXT NOT NULL,
        credit_code TEXT NOT NULL, project_name TEXT NOT NULL, district TEXT NOT NULL,
        agency TEXT NOT NULL, agency_name TEXT NOT NULL, channel TEXT NOT NULL,
        status TEXT NOT NULL, received_at TEXT NOT NULL, review_deadline TEXT,
        certificate_number TEXT, certificate_issued_at TEXT, query_code_hash TEXT NOT NULL,
        last_notice TEXT, referral TEXT, updated_at TEXT NOT NULL, seq BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS public_case_timeline (
        receipt_number TEXT NOT NULL, seq BIGINT NOT NULL, type TEXT NOT NULL,
        at TEXT NOT NULL, details TEXT NOT NULL, PRIMARY KEY (receipt_number, seq))""",
    """CREATE TABLE IF NOT EXISTS public_certificates (
        certificate_number TEXT PRIMARY KEY, receipt_number TEXT NOT NULL, kind TEXT NOT NULL,
        organisation_name TEXT NOT NULL, credit_code TEXT NOT NULL, project_name TEXT NOT NULL,
        district TEXT NOT NULL, agency TEXT NOT NULL, agency_name TEXT NOT NULL,
        issued_at TEXT NOT NULL, status TEXT NOT NULL, withdrawn_at TEXT,
        withdrawal_reason TEXT)""",
    """CREATE TABLE IF NOT EXISTS public_inspection_results (
        seq BIGINT PRIMARY KEY, receipt_number TEXT NOT NULL, published_at TEXT NOT NULL,
        passed BOOLEAN NOT NULL, findings TEXT NOT NULL, kind TEXT NOT NULL,
        certificate_number TEXT NOT NULL, organisation_name TEXT NOT NULL,
        credit_code TEXT NOT NULL, project_name TEXT NOT NULL, district TEXT NOT NULL,
        agency TEXT NOT NULL, agency_name TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS public_results_filter"
    " ON public_inspection_results (agency, district, published_at)",
    """CREATE TABLE IF NOT EXISTS public_quarantine (
        receipt_number TEXT PRIMARY KEY, quarantined_at TEXT NOT NULL, code TEXT NOT NULL,
        field TEXT NOT NULL, reason_zh TEXT NOT NULL, reason_en TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS public_checkpoints (
        seq BIGINT PRIMARY KEY, position BIGINT NOT NULL, head_hash TEXT NOT NULL,
        hash_alg TEXT NOT NULL, recorded_at TEXT NOT NULL)""",
    *bookings.SCHEMA,
    *calendar.SCHEMA,
]
TABLES = [
    "public_cases",
    "public_case_timeline",
    "public_certificates",
    "public_inspection_results",
    "public_checkpoints",
    "public_quarantine",
    *bookings.TABLES,
    *calendar.TABLES,
]


STATUS_NAMES_ZH = {
    "received": "已接收，审查中",
    "awaiting_supplement": "待补正",
    "certified": "已备案",
    "withdrawn": "已撤回",
    "referred": "不予受理（请向有管辖权的机构申请）",
    "selected_for_inspection": "被抽中检查",
    "result_published": "检查结果已公布",
    "certificate_revoked": "备案凭证已撤销",
}
STEP_NAMES_ZH = {
    "received": "收到备案材料",
    "supplement_requested": "出具补正通知",
    "resubmitted": "收到补正材料",
    "certificate_issued": "出具备案凭证",
    "withdrawn": "撤回",
    "referred": "告知向有管辖权的机构申请",
    "selected_for_inspection": "被随机抽中检查",
    "inspection_result_published": "公布检查结果",
    "certificate_revoked": "撤销备案凭证",
}


def received(tx: Tx, seq: int, p: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO public_cases VALUES"
        " (?, ?, ?, ?, ?, ?, ?, ?, ?, 'received', ?, ?, NULL, NULL, ?, NULL, NULL, ?, ?)",
        [
            p["receipt_number"],
            p["kind"],
            p["organisation_name"],
            p["credit_code"],
            p["project_name"],
            p["district"],
            p["agency"],
            p["agency_name"],
            p["channel"],
            p["received_at"],
            p["review_deadline"],
            p["query_code_hash"],
            p["received_at"],
            seq,
        ],
    )
    _timeline(
        tx,
        seq,
        p["receipt_number"],
        "received",
        p["received_at"],
        {"review_deadline": p["review_deadline"], "agency_name": p["agency_name"]},
    )


def supplement_requested(tx: Tx, seq: int, p: dict[str, Any]) -> None:
    notice = {"issued_at": p["issued_at"], "items": p["items"]}
    _update_case(
        tx,
        seq,
        p["receipt_number"],
        p["issued_at"],
        status="awaiting_supplement",
        review_deadline=None,
        last_notice=_json(notice),
    )
    _timeline(tx, seq, p["receipt_number"], "supplement_requested", p["issued_at"], notice)


def resubmitted(tx: Tx, seq: int, p: dict[str, Any]) -> None:
    _update_case(
        tx,
        seq,
        p["receipt_number"],
        p["received_at"],
        status="received",
        review_deadline=p["review_deadline"],
    )
    _timeline(
        tx,
        seq,
        p["receipt_number"],
        "resubmitted",
        p["received_at"],
        {"review_deadline": p["review_deadline"], "changed_items": p["changed_items"]},
    )


def certificate_issued(tx: Tx, seq: int, p: dict[str, Any]) -> None:
    _update_case(
        tx,
        seq,
        p["receipt_number"],
        p["issued_at"],
        status="certified",
        review_deadline=None,
        certificate_number=p["certificate_number"],
        certificate_issued_at=p["issued_at"],
    )
    tx.execute(
        "INSERT INTO public_certificates"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'valid', NULL, NULL)",
        [
            p["certificate_number"],
            p["receipt_number"],
            p["kind"],
            p["organisation_name"],
            p["credit_code"],
            p["project_name"],
            p["district"],
            p["agency"],
            p["agency_name"],
            p["issued_at"],
        ],
    )
    _timeline(
        tx,
        seq,
        p["receipt_number"],
        "certificate_issued",
        p["issued_at"],
        {"certificate_number": p["certificate_number"]},
    )


def certificate_revoked(tx: Tx, seq: int, p: dict[str, Any]) -> None:
    _update_case(tx, seq, p["receipt_number"], p["revoked_at"], status="certificate_revoked")
    tx.execute(
        "UPDATE public_certificates SET status = 'withdrawn', withdrawn_at = ?,"
        " withdrawal_reason = ? WHERE certificate_number = ?",
        [p["revoked_at"], p["reason"], p["certificate_number"]],
    )
    _timeline(
        tx,
        seq,
        p["receipt_number"],
        "certificate_revoked",
        p["revoked_at"],
        {"certificate_number": p["certificate_number"], "reason": p["reason"]},
    )


def withdrawn(tx: Tx, seq: int, p: dict[str, Any]) -> None:
    _update_case(
        tx, seq, p["receipt_number"], p["withdrawn_at"], status="withdrawn", review_deadline=None
    )
    _timeline(tx, seq, p["receipt_number"], "withdrawn", p["withdrawn_at"], {})


def referred(tx: Tx, seq: int, p: dict[str, Any]) -> None:
    referral = {"agency": p["competent_agency"], "agency_name": p["competent_agency_name"]}
    _update_case(
        tx,
        seq,
        p["receipt_number"],
        p["referred_at"],
        status="referred",
        review_deadline=None,
        referral=_json(referral),
    )
    _timeline(tx, seq, p["receipt_number"], "referred", p["referred_at"], referral)


def selected(tx: Tx, seq: int, p: dict[str, Any]) -> None:
    _update_case(tx, seq, p["receipt_number"], p["selected_at"], status="selected_for_inspection")
    _timeline(
        tx,
        seq,
        p["receipt_number"],
        "selected_for_inspection",
        p["selected_at"],
        {"draw_reference": p["draw_reference"]},
    )


def result_published(tx: Tx, seq: int, p: dict[str, Any]) -> None:
    _update_case(tx, seq, p["receipt_number"], p["published_at"], status="result_published")
    tx.execute(
        "INSERT INTO public_inspection_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            seq,
            p["receipt_number"],
            p["published_at"],
            p["passed"],
            _json(p["findings"]),
            p["kind"],
            p["certificate_number"],
            p["organisation_name"],
            p["credit_code"],
            p["project_name"],
            p["district"],
            p["agency"],
            p["agency_name"],
        ],
    )
    _timeline(
        tx,
        seq,
        p["receipt_number"],
        "inspection_result_published",
        p["published_at"],
        {"passed": p["passed"], "findings": p["findings"]},
    )


def quarantined(tx: Tx, seq: int, p: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO public_quarantine VALUES (?, ?, ?, ?, ?, ?)",
        [p["receipt_number"], p["quarantined_at"], p["code"], p["field"], p["reason_zh"],
         p["reason_en"]],
    )  # fmt: skip


def checkpoint(tx: Tx, seq: int, p: dict[str, Any]) -> None:
    tx.execute(
        "INSERT INTO public_checkpoints VALUES (?, ?, ?, ?, ?)",
        [seq, p["position"], p["head_hash"], p["hash_alg"], p["recorded_at"]],
    )


APPLY: dict[str, Callable[[Tx, int, dict[str, Any]], None]] = {
    "filing.received.v1": received,
    "filing.supplement_requested.v1": supplement_requested,
    "filing.resubmitted.v1": resubmitted,
    "filing.certificate_issued.v1": certificate_issued,
    "filing.withdrawn.v1": withdrawn,
    "filing.certificate_revoked.v1": certificate_revoked,
    "filing.referred.v1": referred,
    "filing.selected_for_inspection.v1": selected,
    "filing.inspection_result_published.v1": result_published,
    "intake.quarantined.v1": quarantined,
    "ledger.checkpoint.v1": checkpoint,
    **bookings.APPLY,
    **calendar.APPLY,
}


def ensure_schema(tx: Tx) -> None:
    for statement in SCHEMA:
        tx.execute(statement)


def drop(tx: Tx) -> None:
    for table in TABLES:
        tx.execute(f"DROP TABLE IF EXISTS {table}")


def apply(tx: Tx, seq: int, event_type: str, payload: dict[str, Any]) -> None:
    APPLY[event_type](tx, seq, payload)
