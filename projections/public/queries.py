"""Queries of the public portal over the public read models: rows only, never anything the
bridge did not carry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from projections.public.bookings import HALF_NAMES_ZH
from projections.store import ViewStore

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = time(12)  # the afternoon half day begins


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    page: int
    size: int


RESULT_COLUMNS = (
    "receipt_number, published_at, passed, findings, kind, certificate_number,"
    " organisation_name, credit_code, project_name, district, agency, agency_name"
)


def _loads(value: str | None) -> Any:
    return orjson.loads(value) if value else None


def _contains(text: str) -> str:
    """A LIKE pattern for text typed by anyone: its wildcards match only themselves."""
    escaped = text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


class PublicQueries:
    def __init__(self, store: ViewStore) -> None:
        self.store = store

    def case(self, receipt_number: str) -> dict[str, Any] | None:
        with self.store.reading() as tx:
            case = tx.fetchone(
                "SELECT * FROM public_cases WHERE receipt_number = ?", [receipt_number]
            )
            if case is None:
                return None
            timeline = tx.fetchall(
                "SELECT seq, type, at, details FROM public_case_timeline"
                " WHERE receipt_number = ? ORDER BY seq",
                [receipt_number],
            )
            booking = tx.fetchone(
                "SELECT * FROM public_bookings WHERE receipt_number = ?", [receipt_number]
            )
            pending = tx.fetchall(
                "SELECT deadline, year FROM public_pending_deadlines WHERE receipt_number = ?",
                [receipt_number],
            )
        # deadline column -> the year whose holidays it waits for (calendar.py)
        case["pending_deadlines"] = {row["deadline"]: int(row["year"]) for row in pending}
        case["last_notice"] = _loads(case["last_notice"])
        case["referral"] = _loads(case["referral"])
        case["timeline"] = [{**t, "details": _loads(t["details"])} for t in timeline]
        if booking is not None:
            booking["result"] = _loads(booking["result"])
        case["booking"] = booking  # None: the case is a filing
        return case

    def quarantine(self, receipt_number: str) -> dict[str, Any] | None:
        """Why a submission was not taken in, if it was refused on import."""
        with self.store.reading() as tx:
            return tx.fetchone(
                "SELECT receipt_number, quarantined_at, code, field, reason_zh, reason_en"
                " FROM public_quarantine WHERE receipt_number = ?",
                [receipt_number],
            )

    def certificate(self, number: str) -> dict[str, Any] | None:
        with self.store.reading() as tx:
            return tx.fetchone(
                "SELECT certificate_number, kind, organisation_name, credit_code, project_name,"
                " district, agency, agency_name, issued_at, status, withdrawn_at,"
                " withdrawal_reason FROM public_certificates WHERE certificate_number = ?",
                [number],
            )

    def inspection_results(
        self,
        agency: str | None = None,
        district: str | None = None,
        published_from: str | None = None,
        published_to: str | None = None,
        page: int = 1,
        size: int = 20,
        kind: str | None = None,
        passed: bool | None = None,
        text: str | None = None,
    ) -> Page:
        """A page of published results, newest first; ``text`` is looked for in the
        organisation's and project's names and the certificate number (the portal's search)."""
        where, params = ["1 = 1"], []
        for clause, value in (
            ("agency = ?", agency),
            ("district = ?", district),
            ("published_at >= ?", published_from),
            ("published_at < ?", published_to),
            ("kind = ?", kind),
            ("passed = ?", passed),
        ):
            if value is not None:
                where.append(clause)
                params.append(value)
        if text:
            where.append(
                "(organisation_name LIKE ? ESCAPE '!' OR project_name LIKE ? ESCAPE '!'"
                " OR certificate_number LIKE ? ESCAPE '!')"
            )
            params.extend([_contains(text)] * 3)
        condition = " AND ".join(where)
        with self.store.reading() as tx:
            total = tx.fetchone(
                f"SELECT COUNT(*) AS n FROM public_inspection_results WHERE {condition}",  # noqa: S608
                params,
            )
            rows = tx.fetchall(
                f"SELECT {RESULT_COLUMNS} FROM public_inspection_results WHERE {condition}"  # noqa: S608
                " ORDER BY published_at DESC, seq DESC LIMIT ? OFFSET ?",
                [*params, size, (page - 1) * size],
            )
        for row in rows:
            row["findings"] = _loads(row["findings"])
            row["passed"] = bool(row["passed"])
        return Page(rows, int(total["n"]) if total else 0, page, size)

    def search_certificates(self, text: str, limit: int = 20) -> list[dict[str, Any]]:
        """Certificates whose number, organisation or project contains ``text`` (the portal's
        search box), newest first: the same public facts as verification."""
        pattern = _contains(text)
        with self.store.reading() as tx:
            return tx.fetchall(
                "SELECT certificate_number, kind, organisation_name, project_name, agency_name,"
                " issued_at, status FROM public_certificates WHERE certificate_number LIKE ?"
                " ESCAPE '!' OR organisation_name LIKE ? ESCAPE '!'"
                " OR project_name LIKE ? ESCAPE '!' ORDER BY issued_at DESC LIMIT ?",
                [pattern, pattern, pattern, limit],
            )

    def availability(self, now: datetime, agency: str | None = None) -> list[dict[str, Any]]:
        """Per agency that has published (or only ``agency``): the half days with room that
        have not begun at ``now`` (Asia/Shanghai: the morning begins at midnight, the
        afternoon at noon), in order."""
        local = now.astimezone(SHANGHAI)
        today = local.date().isoformat()
        with self.store.reading() as tx:
            agencies = tx.fetchall(
                "SELECT agency, agency_name, published_at FROM public_availability_agencies"
                " WHERE CAST(? AS TEXT) IS NULL OR agency = ? ORDER BY agency",
                [agency, agency],
            )
            rows = tx.fetchall(
                "SELECT agency, day, half, capacity, free FROM public_availability"
                " WHERE free > 0 AND day >= ? AND (CAST(? AS TEXT) IS NULL OR agency = ?)"
                " ORDER BY agency, day, half",
                [today, agency, agency],
            )
        begun = {"am"} if local.time() < NOON else {"am", "pm"}
        days: dict[str, list[dict[str, Any]]] = {a["agency"]: [] for a in agencies}
        for row in rows:
            if row["day"] == today and row["half"] in begun:
                continue  # this half day has begun: no inspection can be booked into it now
            days.setdefault(row["agency"], []).append(
                {
                    "day": row["day"],
                    "half": row["half"],
                    "half_zh": HALF_NAMES_ZH.get(row["half"], row["half"]),
                    "capacity": int(row["capacity"]),
                    "free": int(row["free"]),
                }
            )
        return [{**a, "days": days[a["agency"]]} for a in agencies]

    def checkpoints(self, after_seq: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        with self.store.reading() as tx:
            return tx.fetchall(
                "SELECT * FROM public_checkpoints WHERE seq > ? ORDER BY seq LIMIT ?",
                [after_seq, limit],
            )

    def calendar_coverage(self) -> dict[str, Any] | None:
        """How far the internal calendar reaches, as last told; None before the first word."""
        with self.store.reading() as tx:
            return tx.fetchone(
                "SELECT covered_until, first_uncovered_year, recorded_at"
                " FROM public_calendar_coverage"
            )

    def receiver_status(self) -> dict[str, Any] | None:
        with self.store.reading() as tx:
            return tx.fetchone("SELECT * FROM public_receiver WHERE name = 'receiver'")

    def dump(self) -> list[tuple[str, list[dict[str, Any]]]]:
        """Every public row in a canonical order, to compare a rebuild with the live views."""
        order = {
            "public_cases": "receipt_number",
            "public_case_timeline": "receipt_number, seq",
            "public_certificates": "certificate_number",
            "public_inspection_results": "seq",
            "public_checkpoints": "seq",
            "public_quarantine": "receipt_number",
            "public_bookings": "receipt_number",
            "public_availability": "agency, day, half",
            "public_availability_agencies": "agency",
            "public_calendar_coverage": "id",
            "public_pending_deadlines": "receipt_number, deadline",
        }
        with self.store.reading() as tx:
            return [
                (table, tx.fetchall(f"SELECT * FROM {table} ORDER BY {key}"))  # noqa: S608
                for table, key in order.items()
            ]
