"""Which cases reference an uploaded document, for the staff console's document view: a person
may open a document only if they may read a filing or a booking that references it (the
console checks that against the permission table, as for the case itself).

A filing references the documents of its current materials, a booking the scan of the
certificate it rests on (RULES.md Art. 8, 13). A document a resubmission replaced is no
longer referenced by the filing's row; the history keeps that it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from projections.store import ViewStore


@dataclass(frozen=True)
class DocumentReference:
    case: str  # "filing" | "booking"
    receipt_number: str
    agency: str
    file_name: str  # as the applicant named it; "" for a booking's scan
    media_type: str  # as checked on import; "" where the row does not say


class DocumentReferences:
    def __init__(self, store: ViewStore) -> None:
        self.store = store

    def referencing(self, document: str) -> list[DocumentReference]:
        """The filings and bookings whose rows reference ``document`` ("sha256:<hex>").

        LIKE narrows the rows on both engines (a hash holds no wildcard); the parsed JSON
        decides."""
        pattern = f"%{document}%"
        with self.store.reading() as tx:
            filings = tx.fetchall(
                "SELECT receipt_number, agency, materials FROM view_filings"
                " WHERE materials LIKE ? ORDER BY receipt_number",
                [pattern],
            )
            bookings = tx.fetchall(
                "SELECT receipt_number, agency, basis FROM view_bookings"
                " WHERE basis LIKE ? ORDER BY receipt_number",
                [pattern],
            )
        found = [
            DocumentReference(
                "filing", row["receipt_number"], row["agency"], m["file_name"], m["media_type"]
            )
            for row in filings
            for m in _materials(row["materials"])
            if m.get("document") == document
        ]
        found += [
            DocumentReference("booking", row["receipt_number"], row["agency"], "", "")
            for row in bookings
            if orjson.loads(row["basis"]).get("document") == document
        ]
        return found


def _materials(text: str) -> list[dict[str, Any]]:
    materials: list[dict[str, Any]] = orjson.loads(text)
    return materials
