"""Which cases reference an uploaded document, for the staff console's document view: a person
may open a document only if they may read a filing or a booking that references it (the
console checks that against the permission table, as for the case itself).

A case references every document its history ever named, not only those of its current row:
the materials of each filing round, the ones a resubmission replaced included (RULES.md Art. 8,
9: the window compares what changed), the scan of the certificate a booking rests on (Art. 13),
and the signed commitment the window issued a permit against (告知承诺). The window that reviews
a resubmission, or the supervisor who checks a permit, must still be able to open them.

``view_document_references`` is filled from those events by the internal projector, in the
same transaction as the case rows, and is rebuilt with them. Rows projected before the table
existed (an installation upgraded without ``firegov projections rebuild``) are still found
through the cases' current rows, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from domain.booking import Booking
from domain.filing import Filing
from projections.store import Tx, ViewStore

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS view_document_references (
        document TEXT NOT NULL,
        receipt_number TEXT NOT NULL,
        part TEXT NOT NULL,
        case_kind TEXT NOT NULL,
        agency TEXT NOT NULL,
        file_name TEXT NOT NULL,
        media_type TEXT NOT NULL,
        position BIGINT NOT NULL,
        PRIMARY KEY (document, receipt_number, part)
    )""",
    "CREATE INDEX IF NOT EXISTS view_document_references_case"
    " ON view_document_references (receipt_number)",
]
TABLES = ["view_document_references"]
BASIS, COMMITMENT = "basis", "commitment"  # the parts of a booking; a filing's are its items


@dataclass(frozen=True)
class DocumentReference:
    case: str  # "filing" | "booking"
    receipt_number: str
    agency: str
    file_name: str  # as the applicant named it; "" for a booking's scan or commitment
    media_type: str  # as checked on import; "" where the event does not say
    part: str = ""  # the checklist item, "basis" or "commitment"; "" from a current row
    document: str = ""  # "sha256:<hex>"


def references_of(event: Any, row: dict[str, Any]) -> list[DocumentReference]:
    """The documents ``event`` names; ``row`` is its case's row after the event (the case's
    receipt number and agency, which a later event does not repeat)."""
    if isinstance(event, Filing.Submitted | Filing.Resubmitted):
        return [
            DocumentReference(
                "filing", row["receipt_number"], row["agency"], m["file_name"], m["media_type"],
                m["item"], m["document"],
            )
            for m in event.materials
        ]  # fmt: skip
    if isinstance(event, Booking.Requested) and event.basis.get("document"):
        document, part = event.basis["document"], BASIS
    elif isinstance(event, Booking.PermitIssuedOnCommitment):
        document, part = event.commitment_document, COMMITMENT
    else:
        return []
    return [
        DocumentReference("booking", row["receipt_number"], row["agency"], "", "", part, document)
    ]


def record(tx: Tx, event: Any, row: dict[str, Any], position: int) -> None:
    """Keep the documents ``event`` names (the first event that names one for a part wins:
    an unchanged material repeated by a resubmission keeps its first position)."""
    for ref in references_of(event, row):
        tx.execute(
            "INSERT INTO view_document_references (document, receipt_number, part, case_kind,"
            " agency, file_name, media_type, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (document, receipt_number, part) DO NOTHING",
            [ref.document, ref.receipt_number, ref.part, ref.case, ref.agency, ref.file_name,
             ref.media_type, position],
        )  # fmt: skip


def _reference(row: dict[str, Any]) -> DocumentReference:
    return DocumentReference(
        row["case_kind"], row["receipt_number"], row["agency"], row["file_name"],
        row["media_type"], row["part"], row["document"],
    )  # fmt: skip


class DocumentReferences:
    def __init__(self, store: ViewStore) -> None:
        self.store = store

    def referencing(self, document: str) -> list[DocumentReference]:
        """The filings and bookings whose history references ``document`` ("sha256:<hex>").

        The cases' current rows are read too, for rows projected before the references table
        existed: LIKE narrows them on both engines (a hash holds no wildcard), the parsed JSON
        decides."""
        pattern = f"%{document}%"
        with self.store.reading() as tx:
            kept = tx.fetchall(
                "SELECT * FROM view_document_references WHERE document = ?"
                " ORDER BY position, receipt_number, part",
                [document],
            )
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
        found = [_reference(row) for row in kept]
        seen = {(r.case, r.receipt_number) for r in found}
        current = [
            DocumentReference(
                "filing", row["receipt_number"], row["agency"], m["file_name"], m["media_type"],
                m["item"], document,
            )
            for row in filings
            for m in _materials(row["materials"])
            if m.get("document") == document
        ]  # fmt: skip
        current += [
            DocumentReference(
                "booking", row["receipt_number"], row["agency"], "", "", BASIS, document
            )
            for row in bookings
            if orjson.loads(row["basis"]).get("document") == document
        ]
        return found + [r for r in current if (r.case, r.receipt_number) not in seen]

    def of_case(self, receipt_number: str) -> list[DocumentReference]:
        """Every document the case's history names, in the order they arrived."""
        with self.store.reading() as tx:
            rows = tx.fetchall(
                "SELECT * FROM view_document_references WHERE receipt_number = ?"
                " ORDER BY position, part",
                [receipt_number],
            )
        return [_reference(row) for row in rows]

    def subjects(self, receipts: Iterable[str]) -> dict[str, str]:
        """The submission (``contact_subject``) of each case: its documents are sealed under
        that subject's key (domain.documents)."""
        wanted = sorted(set(receipts))
        if not wanted:
            return {}
        marks = ", ".join("?" for _ in wanted)
        with self.store.reading() as tx:
            rows = [
                row
                for table in ("view_filings", "view_bookings")
                for row in tx.fetchall(
                    f"SELECT receipt_number, contact_subject FROM {table}"  # noqa: S608 - fixed names
                    f" WHERE receipt_number IN ({marks})",
                    wanted,
                )
            ]
        return {row["receipt_number"]: row["contact_subject"] for row in rows}

    def left_only_to(self, subject: str, erased: Callable[[str], bool]) -> list[str]:
        """The documents the cases of ``subject`` reference that no case of a person not
        erased references too: what an erasure may remove of the plain copies an older
        installation kept."""
        with self.store.reading() as tx:
            receipts = [
                row["receipt_number"]
                for table in ("view_filings", "view_bookings")
                for row in tx.fetchall(
                    f"SELECT receipt_number FROM {table} WHERE contact_subject = ?",  # noqa: S608 - fixed names
                    [subject],
                )
            ]
        documents = sorted({r.document for receipt in receipts for r in self.of_case(receipt)})
        left = []
        for document in documents:
            others = self.subjects(r.receipt_number for r in self.referencing(document))
            if all(s == subject or erased(s) for s in others.values()):
                left.append(document)
        return left


def _materials(text: str) -> list[dict[str, Any]]:
    materials: list[dict[str, Any]] = orjson.loads(text)
    return materials
