"""The cases that may still wait on a deadline, from the staff read models: what the calendar
coverage job (domain.services.calendar_coverage) looks at when a new year's calendar arrives."""

from __future__ import annotations

from uuid import UUID

from domain.booking_rules import CLOSED
from domain.filing import FilingStatus
from projections.store import ViewStore


def open_cases(views: ViewStore) -> list[tuple[str, UUID]]:
    """Filings under review and bookings not closed; which deadlines run is the domain's to say."""
    with views.reading() as tx:
        filings = tx.fetchall(
            "SELECT id FROM view_filings WHERE status = ?", [str(FilingStatus.RECEIVED)]
        )
        bookings = tx.fetchall("SELECT id, status FROM view_bookings")
    return [("filing", UUID(str(r["id"]))) for r in filings] + [
        ("booking", UUID(str(r["id"]))) for r in bookings if r["status"] not in CLOSED
    ]
