"""The intake contract: what the public side stores for the internal side to import, checked
by both halves (the public side when it accepts, the internal side again when it imports).
Imports nothing of the project.

A record is one JSON object (``FORMAT``): the receipt number the public side issued, when, the
applicant's submission as typed, the documents it references by content hash, and the hash of
the query code shown once. It is inert data: nothing in it names a command to run.
"""

from __future__ import annotations

import io
import re
import secrets
import zipfile
from datetime import date
from typing import Any

FORMAT = "firegov.intake.filing.v1"
# The same alphabet as ``domain.numbering.RECEIPT_ALPHABET`` (a unit test keeps them equal):
# the domain may not import the bridge, and the public side may not import the domain.
RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ"
RECEIPT = re.compile(r"^BA\d{8}[A-HJ-NP-Z]{6}$")
ITEM = re.compile(r"^[a-z][a-z_]{0,39}$")
DOCUMENT = re.compile(r"^sha256:[0-9a-f]{64}$")

# field -> maximum length; every field is a required string.
FILING_FIELDS: dict[str, int] = {
    "kind": 20,
    "organisation_name": 200,
    "credit_code": 18,
    "project_name": 200,
    "project_address": 200,
    "district": 32,
    "contact_name": 50,
    "contact_phone": 20,
}
MAX_DOCUMENTS = 20

PDF, JPEG, PNG, OFD = "application/pdf", "image/jpeg", "image/png", "application/ofd"
EXTENSIONS = {
    PDF: (".pdf",),
    JPEG: (".jpg", ".jpeg"),
    PNG: (".png",),
    OFD: (".ofd",),
}


class IntakeInvalid(ValueError):
    """A submission or file that the contract refuses, naming the field or file and why."""

    def __init__(self, code: str, field: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code, self.field = code, field
        self.message_zh, self.message_en = message_zh, message_en


def new_receipt_number(day: date) -> str:
    """``BA`` + yyyymmdd (Asia/Shanghai) + 6 random letters, as the window issues them."""
    return f"BA{day:%Y%m%d}" + "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(6))


def check_filing_submission(value: Any) -> dict[str, str]:
    """The submission's fields, stripped; IntakeInvalid for anything missing, extra or too long."""
    if not isinstance(value, dict):
        raise IntakeInvalid(
            "invalid_submission",
            "submission",
            "申报信息须为 JSON 对象",
            "submission must be an object",
        )
    extra = sorted(set(value) - set(FILING_FIELDS))
    if extra:
        raise IntakeInvalid(
            "unknown_field", extra[0], f"未知字段 {extra[0]}", f"unknown field {extra[0]!r}"
        )
    clean: dict[str, str] = {}
    for field, longest in FILING_FIELDS.items():
        text = value.get(field)
        if not isinstance(text, str) or not text.strip():
            raise IntakeInvalid(
                "missing_field", field, f"{field} 为必填文本", f"{field} is required text"
            )
        if len(text.strip()) > longest:
            raise IntakeInvalid(
                "field_too_long",
                field,
                f"{field} 不得超过 {longest} 个字符",
                f"{field} is longer than {longest} characters",
            )
        clean[field] = text.strip()
    return clean


def sniff(head: bytes, whole: bytes | None = None) -> str | None:
    """The media type decided by content (magic bytes), or None when it is not accepted.
    OFD is a ZIP whose entries include ``OFD.xml``; any other archive is refused."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"PK\x03\x04") and whole is not None:
        try:
            with zipfile.ZipFile(io.BytesIO(whole)) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, ValueError):
            return None
        return OFD if any(n == "OFD.xml" or n.endswith("/OFD.xml") for n in names) else None
    return None


def check_document(field: str, file_name: str, data: bytes, max_bytes: int) -> str:
    """The media type of an accepted file; IntakeInvalid naming the file otherwise."""
    if len(data) > max_bytes:
        raise IntakeInvalid(
            "file_too_large",
            field,
            f"文件 {field} 超过 {max_bytes} 字节的上限",
            f"file {field} is larger than {max_bytes} bytes",
        )
    if not data:
        raise IntakeInvalid("empty_file", field, f"文件 {field} 为空", f"file {field} is empty")
    media_type = sniff(data[:16], data)
    if media_type is None:
        raise IntakeInvalid(
            "unsupported_file_type",
            field,
            f"文件 {field} 不是 PDF、JPEG、PNG 或 OFD（压缩包和其他类型不予接收）",
            f"file {field} is not PDF, JPEG, PNG or OFD (archives and other types are refused)",
        )
    if not file_name.lower().endswith(EXTENSIONS[media_type]):
        raise IntakeInvalid(
            "extension_mismatch",
            field,
            f"文件 {field} 的扩展名与其内容（{media_type}）不符",
            f"the extension of file {field} does not match its content ({media_type})",
        )
    return media_type


def check_record(value: Any) -> dict[str, Any]:
    """A stored intake record, checked again by the side that imports it."""
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        raise IntakeInvalid("invalid_record", "format", "格式不符", "not an intake record")
    receipt = value.get("receipt_number")
    if not isinstance(receipt, str) or not RECEIPT.match(receipt):
        raise IntakeInvalid("invalid_record", "receipt_number", "受理编号不符", "bad receipt")
    documents = value.get("documents")
    if not isinstance(documents, list) or not 0 < len(documents) <= MAX_DOCUMENTS:
        raise IntakeInvalid("invalid_record", "documents", "材料清单不符", "bad documents")
    for doc in documents:
        if not (
            isinstance(doc, dict)
            and isinstance(doc.get("item"), str)
            and ITEM.match(doc["item"])
            and isinstance(doc.get("document"), str)
            and DOCUMENT.match(doc["document"])
            and isinstance(doc.get("file_name"), str)
            and isinstance(doc.get("size"), int)
            and doc.get("media_type") in EXTENSIONS
        ):
            raise IntakeInvalid("invalid_record", "documents", "材料清单不符", "bad document")
    if not isinstance(value.get("query_code_hash"), str) or not isinstance(
        value.get("submitted_at"), str
    ):
        raise IntakeInvalid("invalid_record", "query_code_hash", "记录不完整", "incomplete record")
    return {**value, "submission": check_filing_submission(value.get("submission"))}
