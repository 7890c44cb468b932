"""The cases that may still wait on a deadline, from the staff read models: what the calendar
coverage job (domain.services.calendar_coverage) looks at when a new year's calendar arrives."""

from __future__ import annotations

from uuid import UUID

from domain.booking_rules import BookingStatus
from domain.filing import FilingStatus
from projections.store import ViewStore

_CLOSED = tuple(
    str(s)
    for s in (
        BookingStatus.REJECTED,
        BookingStatus.REFUSED,
        BookingStatus.CANCELLED,
        BookingStatus.INSPECTED,
    )
)


def open_cases(views: ViewStore) -> list[tuple[str, UUID]]:
    with views.reading() as tx:
        filings = tx.fetchall(
            "SELECT id FROM view_filings WHERE status = ?", [str(FilingStatus.RECEIVED)]
        )
        bookings = tx.fetchall(
            f"SELECT id FROM view_bookings WHERE status NOT IN ({', '.join('?' * len(_CLOSED))})",  # noqa: S608 - placeholders only
            list(_CLOSED),
        )
    return [("filing", UUID(str(r["id"]))) for r in filings] + [
        ("booking", UUID(str(r["id"]))) for r in bookings
    ]
