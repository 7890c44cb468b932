"""The public half of intake (issue 4): a citizen's filing submission becomes one inert record
in the intake ferry, its files stored by content hash. Nothing here can run a command: the
internal side pulls the record, checks everything again and decides. Imports no domain module.

Idempotency keys: the first answer holds the query code, which the public side must not keep
in the clear, so the answer is stored encrypted with a key derived from the idempotency key
and found by a hash of it; only someone who sends the key again can read it back.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bridge.contract.intake import (
    FORMAT,
    ITEM,
    MAX_DOCUMENTS,
    IntakeInvalid,
    check_document,
    check_filing_submission,
    new_receipt_number,
)
from bridge.contract.query_code import hash_query_code, new_query_code
from bridge.transports.ferry import IntakeDrop
from projections.store import ViewStore

SHANGHAI = timezone(timedelta(hours=8))
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS public_pending (
        receipt_number TEXT PRIMARY KEY, kind TEXT NOT NULL, submitted_at TEXT NOT NULL,
        query_code_hash TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS public_idempotency (
        key_hash TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, answer TEXT,
        created_at TEXT NOT NULL)""",
)


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
        uploads: Path,
        drop: IntakeDrop,
        max_file_bytes: int,
        max_submission_bytes: int,
        clock: Callable[[], datetime],
    ) -> None:
        self.store, self.uploads, self.drop, self.clock = store, uploads, drop, clock
        self.max_file_bytes, self.max_submission_bytes = max_file_bytes, max_submission_bytes
        uploads.mkdir(parents=True, exist_ok=True)
        with store.transaction() as tx:
            for statement in SCHEMA:
                tx.execute(statement)

    def check(
        self, submission: bytes, uploads: list[Upload]
    ) -> tuple[dict[str, str], list[dict[str, Any]]]:
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
        fields = check_filing_submission(parsed)
        if not uploads:
            raise IntakeInvalid("no_documents", "files", "请上传材料", "no documents were uploaded")
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
            if not ITEM.match(upload.field) or upload.field in seen:
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
        """The answer (receipt number, query code shown once); IntakeInvalid stores nothing."""
        fields, documents = self.check(submission, uploads)
        fingerprint = hashlib.sha256(
            orjson.dumps([fields, documents], option=orjson.OPT_SORT_KEYS)
        ).hexdigest()
        if idempotency_key is not None:
            earlier = self._claim(idempotency_key, fingerprint)
            if earlier is not None:
                return earlier
        try:
            answer = self._store(fields, documents, uploads)
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
        with self.store.transaction() as tx:
            claimed = tx.execute(
                "INSERT INTO public_idempotency (key_hash, fingerprint, answer, created_at)"
                " VALUES (?, ?, NULL, ?) ON CONFLICT (key_hash) DO NOTHING",
                [_key_hash(key), fingerprint, self.clock().isoformat()],
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
        self, fields: dict[str, str], documents: list[dict[str, Any]], uploads: list[Upload]
    ) -> dict[str, Any]:
        for document, upload in zip(documents, uploads, strict=True):
            path = self.uploads / document["document"].removeprefix("sha256:")
            if not path.exists():  # content-addressed: the same bytes are stored once
                temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
                temporary.write_bytes(upload.data)
                os.replace(temporary, path)
        now = self.clock().astimezone(SHANGHAI)  # times shown to people are Shanghai time
        receipt = new_receipt_number(now.date())
        code = new_query_code()
        code_hash = hash_query_code(code)
        record = {
            "format": FORMAT,
            "receipt_number": receipt,
            "submitted_at": now.isoformat(),
            "submission": fields,
            "documents": documents,
            "query_code_hash": code_hash,
        }
        self.drop.put(receipt, orjson.dumps(record))
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO public_pending (receipt_number, kind, submitted_at, query_code_hash)"
                " VALUES (?, ?, ?, ?)",
                [receipt, fields["kind"], now.isoformat(), code_hash],
            )
        return {
            "receipt_number": receipt,
            "query_code": code,
            "status": "submitted",
            "tracking": f"/api/v1/cases/{receipt}",
        }

    def pending(self, receipt_number: str) -> dict[str, Any] | None:
        with self.store.reading() as tx:
            return tx.fetchone(
                "SELECT receipt_number, kind, submitted_at, query_code_hash FROM public_pending"
                " WHERE receipt_number = ?",
                [receipt_number],
            )
