"""The filings read model of the staff console: one row per filing (status, when the current
round of materials arrived, notices, certificate) and its history, derived from events only.

The row keeps ``received_at`` and no review deadline: the deadline (5 working days, Art. 9) is
computed when a query asks (projections.internal.queries). Computing it here would stop the
projector, and every query of every agency with it, at the first filing whose deadline falls in
a year the working-day calendar does not cover yet.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from domain.filing import Filing, FilingStatus

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS view_filings (
        id TEXT PRIMARY KEY,
        receipt_number TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        agency TEXT NOT NULL,
        status TEXT NOT NULL,
        organisation_name TEXT NOT NULL,
        credit_code TEXT NOT NULL,
        project_name TEXT NOT NULL,
        project_address TEXT NOT NULL,
        district TEXT NOT NULL,
        contact_subject TEXT NOT NULL,
        contact_name TEXT NOT NULL,
        contact_phone TEXT NOT NULL,
        channel TEXT NOT NULL,
        submitted_at TEXT NOT NULL,
        received_at TEXT NOT NULL,
        notices INTEGER NOT NULL,
        last_notice TEXT,
        certificate_number TEXT,
        materials TEXT NOT NULL,
        result TEXT,
        updated_at TEXT NOT NULL,
        version INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS view_filings_queue ON view_filings (agency, status, received_at)",
    """CREATE TABLE IF NOT EXISTS view_filing_history (
        filing_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        position BIGINT NOT NULL,
        at TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        actor_role TEXT NOT NULL,
        actor_agency TEXT NOT NULL,
        event TEXT NOT NULL,
        PRIMARY KEY (filing_id, version)
    )""",
]
TABLES = ["view_filings", "view_filing_history"]
COLUMNS = [
    "id", "receipt_number", "kind", "agency", "status", "organisation_name", "credit_code",
    "project_name", "project_address", "district", "contact_subject", "contact_name",
    "contact_phone", "channel", "submitted_at", "received_at", "notices",
    "last_notice", "certificate_number", "materials", "result", "updated_at", "version",
]  # fmt: skip


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _dump(value: Any) -> str:
    return orjson.dumps(value).decode()


def project(row: dict[str, Any] | None, event: Any) -> dict[str, Any]:
    """The filing row after ``event`` (a pure function of the previous row and the event)."""
    at = _iso(event.timestamp)
    if isinstance(event, Filing.Submitted):
        row = {
            "id": str(event.originator_id),
            "receipt_number": event.receipt_number,
            "kind": event.kind,
            "agency": event.agency,
            "status": str(FilingStatus.RECEIVED),
            "organisation_name": event.organisation_name,
            "credit_code": event.credit_code,
            "project_name": event.project_name,
            "project_address": event.project_address,
            "district": event.district,
            "contact_subject": event.contact_subject,
            "contact_name": event.contact_name,
            "contact_phone": event.contact_phone,
            "channel": event.channel,
            "submitted_at": at,
            "received_at": at,
            "notices": 0,
            "last_notice": None,
            "certificate_number": None,
            "materials": _dump(event.materials),
            "result": None,
        }
    else:
        if row is None:
            raise ValueError(f"{type(event).__name__} arrived before Submitted")
        row = dict(row)
        if isinstance(event, Filing.SupplementNoticeIssued):
            row["status"] = str(FilingStatus.AWAITING_SUPPLEMENT)
            row["notices"] += 1
            row["last_notice"] = _dump({"at": at, "items": event.items})
        elif isinstance(event, Filing.Resubmitted):
            row["status"] = str(FilingStatus.RECEIVED)
            row["received_at"] = at
            row["materials"] = _dump(event.materials)
        elif isinstance(event, Filing.CertificateIssued):
            row["status"] = str(FilingStatus.CERTIFIED)
            row["certificate_number"] = event.certificate_number
        elif isinstance(event, Filing.Withdrawn):
            row["status"] = str(FilingStatus.WITHDRAWN)
        elif isinstance(event, Filing.ReferredForLackOfJurisdiction):
            row["status"] = str(FilingStatus.REFERRED)
            row["result"] = _dump({"competent_agency": event.competent_agency})
        elif isinstance(event, Filing.SelectedForInspection):
            row["status"] = str(FilingStatus.SELECTED)
            row["result"] = _dump({"draw_reference": event.draw_reference})
        elif isinstance(event, Filing.InspectionResultRecorded):
            row["status"] = str(FilingStatus.INSPECTED)
            row["result"] = _dump({"passed": event.passed, "findings": event.findings})
        elif isinstance(event, Filing.ResultApprovedForPublication):
            row["status"] = str(FilingStatus.RESULT_PUBLISHED)
        elif isinstance(event, Filing.CertificateRevoked):
            row["status"] = str(FilingStatus.CERTIFICATE_REVOKED)
    row["version"] = event.originator_version
    row["updated_at"] = at
    return row


def history_row(event: Any, position: int) -> dict[str, Any]:
    return {
        "filing_id": str(event.originator_id),
        "version": event.originator_version,
        "position": position,
        "at": _iso(event.timestamp),
        "actor_id": event.actor_id,
        "actor_role": event.actor_role,
        "actor_agency": event.actor_agency,
        "event": type(event).__name__,
    }
