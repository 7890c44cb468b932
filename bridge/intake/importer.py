"""The internal half of intake (issue 4): pull the records the public side stored, check
everything again (the contract, each file by content, hash and size, then the domain: credit
code, district -> competent agency, checklist) and run ``FilingService.submit`` under the
system actor. An invalid record is quarantined with its reason; it never half-exists.

Each receipt is imported once: ``intake_imported`` records the outcome, and the filing's id is
derived from the receipt number, so even a crash between the command and that row cannot make
a second case (the second submit conflicts and is recorded as imported).

Production gap: the embedded installation reads the public uploads directory directly; across
a one-way gateway the files must be ferried with their records (not built yet).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import structlog

from bridge.contract.intake import IntakeInvalid, check_document, check_record
from bridge.transports.ferry import IntakeInbox
from domain.actor import Actor
from domain.agencies import AgencyDirectory
from domain.errors import ConcurrentChange, DomainError, NotFound
from domain.filing import Material
from domain.services.filings import FilingService
from domain.services.intake import IntakeService
from projections.store import ViewStore

log = structlog.get_logger()
SCHEMA = """CREATE TABLE IF NOT EXISTS intake_imported (
    receipt_number TEXT PRIMARY KEY, outcome TEXT NOT NULL, reason_code TEXT, field TEXT,
    reason_zh TEXT, reason_en TEXT, imported_at TEXT NOT NULL)"""
IMPORTED, QUARANTINED = "imported", "quarantined"


class Quarantine(Exception):
    def __init__(self, code: str, field: str | None, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code, self.field, self.message_zh, self.message_en = (
            code,
            field,
            message_zh,
            message_en,
        )


class IntakeImporter:
    def __init__(
        self,
        filings: FilingService,
        intake: IntakeService,
        agencies: AgencyDirectory,
        store: ViewStore,
        inbox: IntakeInbox,
        uploads: Path,
        documents: Path,
        max_file_bytes: int,
        clock: Callable[[], datetime],
    ) -> None:
        self.filings, self.agencies, self.store, self.inbox = filings, agencies, store, inbox
        self.intake = intake
        self.uploads, self.documents, self.clock = uploads, documents, clock
        self.max_file_bytes = max_file_bytes
        documents.mkdir(parents=True, exist_ok=True)
        with store.transaction() as tx:
            tx.execute(SCHEMA)

    def step(self) -> int:
        """Import every record not imported yet; returns how many were handled."""
        with self.store.reading() as tx:
            done = {
                r["receipt_number"]
                for r in tx.fetchall("SELECT receipt_number FROM intake_imported")
            }
        handled = 0
        for receipt, data in self.inbox.records():
            if receipt not in done:
                self.import_one(receipt, data)
                handled += 1
        return handled

    def import_one(self, receipt: str, data: bytes) -> str:
        try:
            self._import(receipt, data)
        except Quarantine as problem:
            log.warning("intake_quarantined", receipt=receipt, reason=problem.code)
            # An event, so the reason crosses back to the applicant's tracking page.
            self.intake.quarantine(
                Actor.system(self.agencies.detachment.code, "intake"), receipt, problem.code,
                problem.field, problem.message_zh, problem.message_en,
            )  # fmt: skip
            self._record(receipt, QUARANTINED, problem)
            return QUARANTINED
        self._record(receipt, IMPORTED, None)
        return IMPORTED

    def _import(self, receipt: str, data: bytes) -> None:
        try:
            record = check_record(orjson.loads(data))
        except orjson.JSONDecodeError:
            raise Quarantine("invalid_record", None, "记录不是 JSON", "not JSON") from None
        except IntakeInvalid as error:
            raise Quarantine(error.code, error.field, error.message_zh, error.message_en) from None
        if record["receipt_number"] != receipt:
            raise Quarantine("invalid_record", "receipt_number", "受理编号不符", "receipt mismatch")
        materials = [self._document(doc) for doc in record["documents"]]
        try:
            self.filings.load(receipt)
            return  # delivered again after a crash before its row: already there
        except NotFound:
            pass
        fields = record["submission"]
        try:
            agency = self.agencies.competent_for(fields["district"])
            self.filings.submit(
                Actor.system(agency.code, "intake"),
                **fields,
                materials=materials,
                channel="online",
                query_code_hash=record["query_code_hash"],
                receipt_number=receipt,
            )
        except ConcurrentChange:
            return  # another importer made it meanwhile
        except DomainError as error:
            raise Quarantine(error.code, error.field, error.message_zh, error.message_en) from None

    def _document(self, doc: dict[str, Any]) -> Material:
        digest = doc["document"].removeprefix("sha256:")
        item = doc["item"]
        try:
            content = (self.uploads / digest).read_bytes()
        except FileNotFoundError:
            raise Quarantine(
                "document_missing", item, f"材料 {item} 的文件未送达", f"file of {item} missing"
            ) from None
        if hashlib.sha256(content).hexdigest() != digest or len(content) != doc["size"]:
            raise Quarantine(
                "document_mismatch",
                item,
                f"材料 {item} 的文件与记录不符",
                f"file of {item} differs",
            )
        try:
            media_type = check_document(item, doc["file_name"], content, self.max_file_bytes)
        except IntakeInvalid as error:
            raise Quarantine(error.code, error.field, error.message_zh, error.message_en) from None
        if media_type != doc["media_type"]:
            raise Quarantine("document_mismatch", item, "文件类型与记录不符", "type differs")
        target = self.documents / digest
        if not target.exists():
            temporary = target.with_name(f".{digest}.{os.getpid()}.tmp")
            temporary.write_bytes(content)
            os.replace(temporary, target)
        return Material(
            item=item,
            document=doc["document"],
            file_name=doc["file_name"],
            size=doc["size"],
            media_type=media_type,
        )

    def _record(self, receipt: str, outcome: str, problem: Quarantine | None) -> None:
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO intake_imported (receipt_number, outcome, reason_code, field,"
                " reason_zh, reason_en, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (receipt_number) DO NOTHING",
                [
                    receipt,
                    outcome,
                    problem.code if problem else None,
                    problem.field if problem else None,
                    problem.message_zh if problem else None,
                    problem.message_en if problem else None,
                    self.clock().isoformat(),
                ],
            )

    def quarantined(self) -> list[dict[str, Any]]:
        """Quarantined submissions and their reasons, newest first (for the window)."""
        with self.store.reading() as tx:
            return tx.fetchall(
                "SELECT receipt_number, reason_code, field, reason_zh, reason_en, imported_at"
                " FROM intake_imported WHERE outcome = ? ORDER BY imported_at DESC",
                [QUARANTINED],
            )

    def outcome(self, receipt: str) -> str | None:
        with self.store.reading() as tx:
            row = tx.fetchone(
                "SELECT outcome FROM intake_imported WHERE receipt_number = ?", [receipt]
            )
        return row["outcome"] if row else None
