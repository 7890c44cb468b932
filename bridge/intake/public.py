"""The public half of intake (issue 4): a citizen's filing or booking becomes one inert bundle
(the record and its files, bridge.contract.intake) handed to the intake transport (file ferry or
NATS). Nothing here can run a command: the internal side pulls the bundle, checks everything
again and decides. Imports no domain module. The public side keeps no copy of the files or of
the personal data typed in: only the receipt number, the kind, when, and the query code's hash
(so tracking can say "received, waiting for the internal side").

Idempotency keys: the first answer holds the query code, which the public side must not keep
in the clear, so the answer is stored encrypted with a key derived from the idempotency key
and found by a hash of it; only someone who sends the key again can read it back.

What an applicant types for themselves on a step (the reason they cancel) goes inside in the
bundle and is kept here only sealed under a key derived from their query code
(bridge.contract.applicant_text), so tracking shows it back to them and to no one else; the
idempotency fingerprint holds it only keyed by the idempotency key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bridge.contract.applicant_text import (
    OWN_TEXT,
    has_own_text,
    open_own_text,
    seal_own_text,
)
from bridge.contract.intake import (
    ANSWER_FORMAT,
    BASIS_DOCUMENT,
    BOOKING_FORMAT,
    FIELDS,
    FILING_FORMAT,
    ITEM,
    MAX_DOCUMENTS,
    PREFIXES,
    RESUBMISSION_FORMAT,
    IntakeInvalid,
    check_document,
    check_submission,
    new_receipt_number,
    pack,
    required_items,
)
from bridge.contract.query_code import hash_query_code, new_query_code
from projections.store import ViewStore

SHANGHAI = timezone(timedelta(hours=8))
IDEMPOTENCY_KEPT = timedelta(days=1)
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS public_pending (
        receipt_number TEXT PRIMARY KEY, kind TEXT NOT NULL, submitted_at TEXT NOT NULL,
        query_code_hash TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS public_idempotency (
        key_hash TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, answer TEXT,
        created_at TEXT NOT NULL)""",
    # An applicant's steps on an existing case (documents after a supplement notice, the answer
    # to an offered slot), so the case's tracking can list them until their effect shows.
    # ``steps_seen``: how many steps the case's tracking showed when the step was sent; a later
    # one means the internal side has acted since (no clock of either side is compared).
    """CREATE TABLE IF NOT EXISTS public_follow_ups (
        receipt_number TEXT PRIMARY KEY, case_receipt TEXT NOT NULL, kind TEXT NOT NULL,
        submitted_at TEXT NOT NULL, steps_seen INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS public_follow_ups_case ON public_follow_ups (case_receipt)",
    # The applicant's own words on a step, sealed under their query code (never in the clear).
    """CREATE TABLE IF NOT EXISTS public_own_texts (
        receipt_number TEXT PRIMARY KEY, case_receipt TEXT NOT NULL, sealed TEXT NOT NULL)""",
)
# The kind a step is listed under (a new case's kind is its own field).
STEP_KINDS = {RESUBMISSION_FORMAT: "resubmission", ANSWER_FORMAT: "answer"}


class IntakeDrop(Protocol):
    """Where the public side hands a bundle to the intake transport (the ferry's outbox, or
    the NATS intake stream); raises when it could not take it."""

    def put(self, receipt_number: str, data: bytes) -> None: ...


class IntakeUnavailable(Exception):
    """The intake transport did not take the submission: nothing was stored; retry later."""


@dataclass(frozen=True)
class Upload:
    field: str  # the checklist item code
    file_name: str  # the client's name: kept as data, never used on disk
    data: bytes


class IdempotencyConflict(Exception):
    """The key is in use by another submission, or the first request is still running."""

    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code, self.message_zh, self.message_en = code, message_zh, message_en


def _key_hash(key: str) -> str:
    return hashlib.sha256(b"firegov-idempotency-id:" + key.encode()).hexdigest()


def _cipher(key: str) -> AESGCM:
    return AESGCM(hashlib.sha256(b"firegov-idempotency-enc:" + key.encode()).digest())


def seal_answer(key: str, answer: dict[str, Any]) -> str:
    nonce = os.urandom(12)
    return base64.b64encode(
        nonce + _cipher(key).encrypt(nonce, orjson.dumps(answer), None)
    ).decode()


def open_answer(key: str, sealed: str) -> dict[str, Any]:
    raw = base64.b64decode(sealed)
    found: dict[str, Any] = orjson.loads(_cipher(key).decrypt(raw[:12], raw[12:], None))
    return found


class PublicIntake:
    def __init__(
        self,
        store: ViewStore,
        drop: IntakeDrop,
        max_file_bytes: int,
        max_submission_bytes: int,
        clock: Callable[[], datetime],
    ) -> None:
        self.store, self.drop, self.clock = store, drop, clock
        self.max_file_bytes, self.max_submission_bytes = max_file_bytes, max_submission_bytes
        with store.transaction() as tx:
            for statement in SCHEMA:
                tx.execute(statement)

    def check(
        self, record_format: str, submission: bytes, uploads: list[Upload]
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The submission and its documents, or IntakeInvalid; stores nothing."""
        try:
            parsed = orjson.loads(submission)
        except orjson.JSONDecodeError:
            raise IntakeInvalid(
                "malformed_json",
                "submission",
                "申报信息不是有效的 JSON",
                "submission is not valid JSON",
            ) from None
        fields = check_submission(parsed, FIELDS[record_format])
        if record_format in (FILING_FORMAT, RESUBMISSION_FORMAT) and not uploads:
            raise IntakeInvalid("no_documents", "files", "请上传材料", "no documents were uploaded")
        if record_format == ANSWER_FORMAT and uploads:
            raise IntakeInvalid(
                "unexpected_file",
                uploads[0].field,
                "答复不需要上传文件",
                "an answer takes no files",
            )
        given = {u.field for u in uploads}
        for item in required_items(record_format, fields):
            if item not in given:
                raise IntakeInvalid(
                    "missing_document",
                    item,
                    "证明文件不是本平台出具的，请上传其扫描件",
                    "the certificate was not issued on this platform: upload its scan",
                )
        if len(uploads) > MAX_DOCUMENTS:
            raise IntakeInvalid("too_many_files", "files", "上传文件过多", "too many files")
        if sum(len(u.data) for u in uploads) > self.max_submission_bytes:
            raise IntakeInvalid(
                "submission_too_large",
                "files",
                f"材料合计超过 {self.max_submission_bytes} 字节的上限",
                f"the files together are larger than {self.max_submission_bytes} bytes",
            )
        documents, seen = [], set()
        for upload in uploads:
            if (
                not ITEM.match(upload.field)
                or upload.field in seen
                or (record_format == BOOKING_FORMAT and upload.field != BASIS_DOCUMENT)
            ):
                raise IntakeInvalid(
                    "invalid_item",
                    upload.field,
                    "材料项代码无效或重复",
                    "bad or repeated item code",
                )
            seen.add(upload.field)
            media_type = check_document(
                upload.field, upload.file_name, upload.data, self.max_file_bytes
            )
            documents.append(
                {
                    "item": upload.field,
                    "document": "sha256:" + hashlib.sha256(upload.data).hexdigest(),
                    "file_name": os.path.basename(upload.file_name)[:200] or upload.field,
                    "size": len(upload.data),
                    "media_type": media_type,
                }
            )
        return fields, documents

    def submit_filing(
        self, submission: bytes, uploads: list[Upload], idempotency_key: str | None = None
    ) -> dict[str, Any]:
        return self.submit(FILING_FORMAT, submission, uploads, idempotency_key)

    def submit_booking(
        self, submission: bytes, uploads: list[Upload], idempotency_key: str | None = None
    ) -> dict[str, Any]:
        return self.submit(BOOKING_FORMAT, submission, uploads, idempotency_key)

    def submit(
        self,
        record_format: str,
        submission: bytes,
        uploads: list[Upload],
        idempotency_key: str | None = None,
        steps_seen: int = 0,
    ) -> dict[str, Any]:
        """The answer (receipt number, query code shown once); IntakeInvalid stores nothing,
        IntakeUnavailable neither (the transport did not take it). ``steps_seen``: for a step
        on a case, how many steps its tracking shows now."""
        fields, documents = self.check(record_format, submission, uploads)
        # Never the query code in a fast hash, nor the applicant's own words: the fingerprint
        # is kept in the clear. Their words count only keyed by the idempotency key.
        printed = {k: v for k, v in fields.items() if k != "query_code" and k not in OWN_TEXT}
        own = [fields.get(name) for name in OWN_TEXT]
        keyed = hmac.new((idempotency_key or "").encode(), orjson.dumps(own), "sha256")
        fingerprint = hashlib.sha256(
            orjson.dumps(
                [record_format, printed, documents, keyed.hexdigest()],
                option=orjson.OPT_SORT_KEYS,
            )
        ).hexdigest()
        if idempotency_key is not None:
            earlier = self._claim(idempotency_key, fingerprint)
            if earlier is not None:
                return earlier
        try:
            answer = self._store(record_format, fields, documents, uploads, steps_seen)
        except BaseException:
            if idempotency_key is not None:
                with self.store.transaction() as tx:
                    tx.execute(
                        "DELETE FROM public_idempotency WHERE key_hash = ?",
                        [_key_hash(idempotency_key)],
                    )
            raise
        if idempotency_key is not None:
            with self.store.transaction() as tx:
                tx.execute(
                    "UPDATE public_idempotency SET answer = ? WHERE key_hash = ?",
                    [seal_answer(idempotency_key, answer), _key_hash(idempotency_key)],
                )
        return answer

    def _claim(self, key: str, fingerprint: str) -> dict[str, Any] | None:
        now = self.clock()
        with self.store.transaction() as tx:
            # A key answers again for a day; then the sealed answer (it holds the query code)
            # is deleted rather than kept for ever.
            tx.execute(
                "DELETE FROM public_idempotency WHERE created_at < ?",
                [(now - IDEMPOTENCY_KEPT).isoformat()],
            )
            claimed = tx.execute(
                "INSERT INTO public_idempotency (key_hash, fingerprint, answer, created_at)"
                " VALUES (?, ?, NULL, ?) ON CONFLICT (key_hash) DO NOTHING",
                [_key_hash(key), fingerprint, now.isoformat()],
            )
            row = (
                None
                if claimed
                else tx.fetchone(
                    "SELECT fingerprint, answer FROM public_idempotency WHERE key_hash = ?",
                    [_key_hash(key)],
                )
            )
        if row is None:
            return None
        if row["fingerprint"] != fingerprint:
            raise IdempotencyConflict(
                "idempotency_key_reused",
                "该 Idempotency-Key 已用于另一份申报",
                "this Idempotency-Key was used for a different submission",
            )
        if row["answer"] is None:
            raise IdempotencyConflict(
                "submission_in_progress",
                "同一申报正在处理中，请稍后重试",
                "the same submission is still being processed; retry shortly",
            )
        try:
            return open_answer(key, row["answer"])
        except (InvalidTag, ValueError):  # pragma: no cover - a hash collision
            raise IdempotencyConflict(
                "idempotency_key_reused", "该 Idempotency-Key 无效", "unusable Idempotency-Key"
            ) from None

    def _store(
        self,
        record_format: str,
        fields: dict[str, Any],
        documents: list[dict[str, Any]],
        uploads: list[Upload],
        steps_seen: int,
    ) -> dict[str, Any]:
        now = self.clock().astimezone(SHANGHAI)  # times shown to people are Shanghai time
        receipt = new_receipt_number(now.date(), PREFIXES[record_format])
        # A step on a case is tracked with the case's own code; a new case gets its own.
        code = fields["query_code"] if record_format in STEP_KINDS else new_query_code()
        code_hash = hash_query_code(code)
        record = {
            "format": record_format,
            "receipt_number": receipt,
            "submitted_at": now.isoformat(),
            "submission": fields,
            "documents": documents,
            "query_code_hash": code_hash,
        }
        kind = STEP_KINDS.get(record_format) or fields["kind"]
        # The pending row first: if the transport then fails, the row goes again and the
        # applicant is told to retry; a bundle is never sent without its row.
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO public_pending (receipt_number, kind, submitted_at, query_code_hash)"
                " VALUES (?, ?, ?, ?)",
                [receipt, kind, now.isoformat(), code_hash],
            )
            if record_format in STEP_KINDS:
                tx.execute(
                    "INSERT INTO public_follow_ups (receipt_number, case_receipt, kind,"
                    " submitted_at, steps_seen) VALUES (?, ?, ?, ?, ?)",
                    [receipt, fields["case"], kind, now.isoformat(), steps_seen],
                )
            if record_format in STEP_KINDS and has_own_text(fields):
                own = {k: v for k, v in fields.items() if k in (*OWN_TEXT, "answer")}
                tx.execute(
                    "INSERT INTO public_own_texts (receipt_number, case_receipt, sealed)"
                    " VALUES (?, ?, ?)",
                    [receipt, fields["case"], seal_own_text(code, fields["case"], receipt, own)],
                )
        try:
            self.drop.put(receipt, pack(record, [u.data for u in uploads]))
        except Exception as error:
            with self.store.transaction() as tx:
                tx.execute("DELETE FROM public_pending WHERE receipt_number = ?", [receipt])
                tx.execute("DELETE FROM public_follow_ups WHERE receipt_number = ?", [receipt])
                tx.execute("DELETE FROM public_own_texts WHERE receipt_number = ?", [receipt])
            raise IntakeUnavailable(str(error)) from error
        if record_format in STEP_KINDS:  # tracked on the case, with the code the applicant has
            return {
                "receipt_number": receipt,
                "case": fields["case"],
                "status": "submitted",
                "tracking": f"/api/v1/cases/{fields['case']}",
            }
        return {
            "receipt_number": receipt,
            "query_code": code,
            "status": "submitted",
            "tracking": f"/api/v1/cases/{receipt}",
        }

    def follow_ups(self, case_receipt: str) -> list[dict[str, Any]]:
        """The applicant's steps on ``case_receipt``, oldest first."""
        with self.store.reading() as tx:
            return tx.fetchall(
                "SELECT receipt_number, kind, submitted_at, steps_seen FROM public_follow_ups"
                " WHERE case_receipt = ? ORDER BY submitted_at, receipt_number",
                [case_receipt],
            )

    def own_texts(self, case_receipt: str, query_code: str) -> dict[str, dict[str, Any]]:
        """What the applicant typed for themselves on each step of ``case_receipt`` (by the
        step's receipt number), opened with the query code they gave (checked already)."""
        with self.store.reading() as tx:
            rows = tx.fetchall(
                "SELECT receipt_number, sealed FROM public_own_texts WHERE case_receipt = ?",
                [case_receipt],
            )
        opened = {
            row["receipt_number"]: open_own_text(
                query_code, case_receipt, row["receipt_number"], row["sealed"]
            )
            for row in rows
        }
        return {step: text for step, text in opened.items() if text is not None}

    def pending(self, receipt_number: str) -> dict[str, Any] | None:
        with self.store.reading() as tx:
            return tx.fetchone(
                "SELECT receipt_number, kind, submitted_at, query_code_hash FROM public_pending"
                " WHERE receipt_number = ?",
                [receipt_number],
            )
