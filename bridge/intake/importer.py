"""The internal half of intake (issue 4): pull the bundles the public side handed to the
intake transport (file ferry or NATS), check everything again (the contract, each file by
content, hash and size, then the domain: credit code and ID check characters, district ->
competent agency, checklist, the certificate a booking rests on) and run the command under the
system actor: ``FilingService.submit`` (``FilingSubmitted``) or ``BookingService.request``
(``BookingRequested``). An invalid bundle is quarantined with its reason, which the applicant
sees on tracking; it never half-exists.

Each receipt is imported once: ``intake_imported`` records the outcome, and the case's id is
derived from the receipt number, so even a crash between the command and that row cannot make
a second case (the second command conflicts and is recorded as imported). Once the outcome is
recorded the bundle is dropped from the inbox: its files are kept in the document store sealed
under the submission's own key (domain.documents; a step's under its case's), and the personal
data it held in the clear lives on only sealed in events and documents.

An applicant's step on a case (documents after a supplement notice, an answer to an offered
slot) acts under a system actor that names the step's own receipt number
(``IntakeService.step_actor``), so its event carries it: delivered again after a crash between
the command and its row, the step is recognised on the case as the same step, recorded as
imported (tracking shows it taken in) and not run twice (issue 16).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import structlog

from bridge.contract.intake import (
    ANSWER_FORMAT,
    BASIS_DOCUMENT,
    BOOKING_FORMAT,
    RESUBMISSION_FORMAT,
    IntakeInvalid,
    check_document,
    unpack,
)
from bridge.contract.query_code import verify_query_code
from domain.actor import Actor
from domain.agencies import AgencyDirectory
from domain.calendar import SHANGHAI
from domain.documents import DocumentStore
from domain.errors import ConcurrentChange, DomainError, NotFound
from domain.filing import Material
from domain.services.bookings import BookingService
from domain.services.filings import FilingService
from domain.services.intake import IntakeService
from projections.store import ViewStore

log = structlog.get_logger()
SCHEMA = """CREATE TABLE IF NOT EXISTS intake_imported (
    receipt_number TEXT PRIMARY KEY, outcome TEXT NOT NULL, reason_code TEXT, field TEXT,
    reason_zh TEXT, reason_en TEXT, imported_at TEXT NOT NULL)"""
IMPORTED, QUARANTINED = "imported", "quarantined"
RETRY_CEILING = 300.0  # seconds between attempts at a bundle whose import keeps failing


class IntakeInbox(Protocol):
    """The internal end of an intake transport (bridge.transports.ferry / nats_intake)."""

    def pending(self) -> list[str]: ...

    def read(self, receipt_number: str) -> bytes | None: ...

    def done(self, receipt_number: str) -> None: ...

    def close(self) -> None: ...


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
        bookings: BookingService,
        intake: IntakeService,
        agencies: AgencyDirectory,
        store: ViewStore,
        inbox: IntakeInbox,
        documents: DocumentStore,
        max_file_bytes: int,
        clock: Callable[[], datetime],
    ) -> None:
        self.filings, self.agencies, self.store, self.inbox = filings, agencies, store, inbox
        self.intake, self.bookings = intake, bookings
        self.documents, self.clock = documents, clock
        self.max_file_bytes = max_file_bytes
        self._failures: dict[str, tuple[int, float]] = {}  # receipt -> (failures, retry at)
        with store.transaction() as tx:
            tx.execute(SCHEMA)

    def step(self) -> int:
        """Import every bundle not imported yet; returns how many were handled. A bundle whose
        outcome is recorded is dropped from the inbox (delivered twice: dropped unread)."""
        receipts = self.inbox.pending()
        if not receipts:
            return 0
        with self.store.reading() as tx:
            done = {
                r["receipt_number"]
                for r in tx.fetchall("SELECT receipt_number FROM intake_imported")
            }
        handled = 0
        for receipt in receipts:
            if receipt not in done:
                failed, retry_at = self._failures.get(receipt, (0, 0.0))
                if time.monotonic() < retry_at:
                    continue
                data = self.inbox.read(receipt)
                if data is None:
                    continue
                try:
                    self.import_one(receipt, data)
                except Exception:  # one bundle must never hold up the others
                    # Not recorded: tried again later (a database that is down comes back),
                    # waiting longer after each failure so the log is not flooded.
                    log.exception("intake_import_failed", receipt=receipt, attempts=failed + 1)
                    wait = min(RETRY_CEILING, 2.0**failed)
                    self._failures[receipt] = (failed + 1, time.monotonic() + wait)
                    continue
                self._failures.pop(receipt, None)
                handled += 1
            self.inbox.done(receipt)
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
            record, contents = unpack(data)
        except IntakeInvalid as error:
            raise Quarantine(error.code, error.field, error.message_zh, error.message_en) from None
        except Exception:  # whatever a malformed bundle makes the parser raise
            raise Quarantine(
                "invalid_record", None, "申报包无法读取", "the bundle cannot be read"
            ) from None
        if record["receipt_number"] != receipt:
            raise Quarantine("invalid_record", "receipt_number", "受理编号不符", "receipt mismatch")
        materials = [
            self._check_document(doc, content)
            for doc, content in zip(record["documents"], contents, strict=True)
        ]
        subject = self._subject(record) if contents else None
        written = [self.documents.keep(content, subject)[1] for content in contents]
        try:
            if record["format"] == BOOKING_FORMAT:
                self._request_booking(receipt, record, materials)
            elif record["format"] == RESUBMISSION_FORMAT:
                self._resubmit(receipt, record["submission"], materials)
            elif record["format"] == ANSWER_FORMAT:
                self._answer(receipt, record["submission"])
            else:
                self._submit_filing(receipt, record, materials)
        except Quarantine:  # nothing of a refused submission stays behind
            for path in written:
                if path is not None:
                    self.documents.take_back(path)
            raise

    def _subject(self, record: dict[str, Any]) -> str:
        """Whose documents these are: a new case's own subject (the same on every delivery of
        the bundle), or for a step the subject of the case it completes."""
        if record["format"] != RESUBMISSION_FORMAT:
            return self.documents.sealer.subject_for("submission", record["receipt_number"])
        try:
            return str(self.filings.load(record["submission"]["case"]).contact_subject)
        except NotFound:
            raise Quarantine(
                "case_not_found", "case", "没有该受理编号的事项", "no case with this receipt number"
            ) from None

    def _submit_filing(
        self, receipt: str, record: dict[str, Any], materials: list[Material]
    ) -> None:
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
                contact_subject=self._subject(record),
            )
        except ConcurrentChange:
            return  # another importer made it meanwhile
        except DomainError as error:
            raise Quarantine(error.code, error.field, error.message_zh, error.message_en) from None

    def _request_booking(
        self, receipt: str, record: dict[str, Any], materials: list[Material]
    ) -> None:
        try:
            self.bookings.load(receipt)
            return  # delivered again after a crash before its row: already there
        except NotFound:
            pass
        fields = dict(record["submission"])
        scan = next((m["document"] for m in materials if m["item"] == BASIS_DOCUMENT), "")
        try:
            wished = datetime.fromisoformat(fields.pop("wished_time"))
            if wished.tzinfo is None:  # as a person types it on the portal: Shanghai time
                wished = wished.replace(tzinfo=SHANGHAI)
        except ValueError:
            raise Quarantine(
                "invalid_wished_time",
                "wished_time",
                "期望检查时间应为 ISO 8601 日期时间",
                "wished_time must be an ISO 8601 date and time",
            ) from None
        try:
            agency = self.agencies.competent_for(fields["district"])
            self.bookings.request(
                Actor.system(agency.code, "intake"),
                kind=fields["kind"],
                route=fields.get("route", "ordinary"),
                agency=fields.get("agency"),
                district=fields["district"],
                organisation_name=fields["organisation_name"],
                credit_code=fields["credit_code"],
                project_name=fields["project_name"],
                wished_time=wished,
                contact_name=fields["contact_name"],
                contact_phone=fields["contact_phone"],
                basis_kind=fields["basis_kind"],
                basis_number=fields["basis_number"],
                basis_on_platform=fields["basis_on_platform"],
                basis_document=scan,
                channel="online",
                query_code_hash=record["query_code_hash"],
                receipt_number=receipt,
                contact_subject=self._subject(record),
            )
        except ConcurrentChange:
            return  # another importer made it meanwhile
        except DomainError as error:
            raise Quarantine(error.code, error.field, error.message_zh, error.message_en) from None

    def _case(self, submission: dict[str, Any], load: Callable[[str], Any]) -> Any:
        """The case a step acts on, once the query code typed with it matches the case's own:
        the public side cannot act on a case without the code only its applicant holds."""
        try:
            case = load(submission["case"])
        except NotFound:
            raise Quarantine(
                "case_not_found", "case", "没有该受理编号的事项", "no case with this receipt number"
            ) from None
        if not case.query_code_hash or not verify_query_code(
            submission["query_code"], case.query_code_hash
        ):
            raise Quarantine(
                "wrong_query_code",
                "query_code",
                "查询码与该受理编号不符",
                "the query code does not match this case",
            )
        return case

    def _resubmit(self, step: str, submission: dict[str, Any], materials: list[Material]) -> None:
        """The documents a supplement notice asked for; the others stay as they were."""
        filing = self._case(submission, self.filings.load)
        actor = IntakeService.step_actor(filing.agency, step)
        if self.intake.took_effect(filing.id, actor):
            return  # delivered again after a crash before its row: the same step, done
        merged = {**filing.materials, **{m["item"]: m for m in materials}}
        try:
            self.filings.resubmit(actor, filing.receipt_number, list(merged.values()))
        except ConcurrentChange:
            raise  # staff acted on the case meanwhile: the step is tried again next round
        except DomainError as error:
            raise Quarantine(error.code, error.field, error.message_zh, error.message_en) from None

    def _answer(self, step: str, submission: dict[str, Any]) -> None:
        """The applicant's answer to the offered slot (Art. 16)."""
        booking = self._case(submission, self.bookings.load)
        actor, case = IntakeService.step_actor(booking.agency, step), booking.receipt_number
        if self.intake.took_effect(booking.id, actor):
            return  # delivered again after a crash before its row: the same step, done
        try:
            if submission["answer"] == "accept":
                self.bookings.accept_slot(actor, case)
            elif submission["answer"] == "another":
                self.bookings.request_another_slot(actor, case)
            else:
                self.bookings.cancel(actor, case, submission.get("reason", ""))
        except ConcurrentChange:
            raise  # staff acted on the case meanwhile: the step is tried again next round
        except DomainError as error:
            raise Quarantine(error.code, error.field, error.message_zh, error.message_en) from None

    def _check_document(self, doc: dict[str, Any], content: bytes) -> Material:
        digest = doc["document"].removeprefix("sha256:")
        item = doc["item"]
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
