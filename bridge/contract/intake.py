"""The intake contract: what the public side stores for the internal side to import, checked
by both halves (the public side when it accepts, the internal side again when it imports).
Imports nothing of the project.

A submission travels as one *bundle* (``pack``/``unpack``): a short header, the record as JSON,
then the uploaded files' bytes in the order the record lists them. The record holds the receipt
number the public side issued, when, the applicant's submission as typed, the documents by
content hash, size and type, and the hash of the query code shown once. It is inert data:
nothing in it names a command to run. The files travel inside the bundle, so the internal side
needs nothing from the public side but what the transport carries.

Four kinds, each with its own receipt prefix: a construction fire filing (``BA``,
``FILING_FORMAT``), a booking of an on-site inspection (``YY``, ``BOOKING_FORMAT``), and two steps
an applicant takes on an existing case — the documents asked for by a supplement notice
(``BZ``, ``RESUBMISSION_FORMAT``) and the answer to an offered inspection slot: accept it, ask
for another, or cancel (``DF``, ``ANSWER_FORMAT``). A step on a case names the case and carries
the query code as typed: the internal side checks it against the hash it holds, so the public
side alone can never act on anyone's case.
"""

from __future__ import annotations

import io
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson

FILING_FORMAT = "firegov.intake.filing.v1"
BOOKING_FORMAT = "firegov.intake.booking.v1"
RESUBMISSION_FORMAT = "firegov.intake.resubmission.v1"
ANSWER_FORMAT = "firegov.intake.booking_answer.v1"
PREFIXES = {
    FILING_FORMAT: "BA",
    BOOKING_FORMAT: "YY",
    RESUBMISSION_FORMAT: "BZ",
    ANSWER_FORMAT: "DF",
}
# The case a step acts on: a resubmission completes a filing, an answer concerns a booking.
CASE_PREFIXES = {RESUBMISSION_FORMAT: "BA", ANSWER_FORMAT: "YY"}
ANSWERS = ("accept", "another", "cancel")
# The same alphabet as ``domain.numbering.RECEIPT_ALPHABET`` (a unit test keeps them equal):
# the domain may not import the bridge, and the public side may not import the domain.
RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ"
RECEIPT = re.compile(r"^(BA|YY|BZ|DF)\d{8}[A-HJ-NP-Z]{6}$")
ITEM = re.compile(r"^[a-z][a-z_]{0,39}$")
DOCUMENT = re.compile(r"^sha256:[0-9a-f]{64}$")
BUNDLE_MAGIC = b"FIREGOV-INTAKE-1\n"


@dataclass(frozen=True)
class Field:
    longest: int
    required: bool = True
    kind: type = str  # str or bool
    moment: bool = False  # text that must read as an ISO 8601 date and time


FILING_FIELDS: dict[str, Field] = {
    "kind": Field(20),
    "organisation_name": Field(200),
    "credit_code": Field(18),
    "project_name": Field(200),
    "project_address": Field(200),
    "district": Field(32),
    "contact_name": Field(50),
    "contact_phone": Field(20),
}
# Art. 14: project, wished time, contact person and means, agency asked, and the basis (Art. 13).
BOOKING_FIELDS: dict[str, Field] = {
    "kind": Field(40),
    "route": Field(40, required=False),
    "district": Field(32),
    "agency": Field(40, required=False),  # the agency asked; unset: the competent one
    "organisation_name": Field(200),
    "credit_code": Field(18),
    "project_name": Field(200),
    "wished_time": Field(40, moment=True),  # ISO 8601 with its offset, or Shanghai time
    "contact_name": Field(50),
    "contact_phone": Field(20),
    "basis_kind": Field(40),
    "basis_number": Field(100),
    "basis_on_platform": Field(0, kind=bool),
}
RESUBMISSION_FIELDS: dict[str, Field] = {
    "case": Field(16),  # the filing's receipt number
    "query_code": Field(32),
}
ANSWER_FIELDS: dict[str, Field] = {
    "case": Field(16),  # the booking's receipt number
    "answer": Field(10),  # ANSWERS
    "reason": Field(500, required=False),  # why the applicant cancels, in their words
    "query_code": Field(32),
}
FIELDS = {
    FILING_FORMAT: FILING_FIELDS,
    BOOKING_FORMAT: BOOKING_FIELDS,
    RESUBMISSION_FORMAT: RESUBMISSION_FIELDS,
    ANSWER_FORMAT: ANSWER_FIELDS,
}
BASIS_DOCUMENT = "basis_document"  # the uploaded scan of a certificate issued elsewhere
MAX_DOCUMENTS = 20

# GB 32100-2015: the public side checks the check character too, so a typing error is answered
# at once; the internal side checks again (domain.identifiers; a unit test keeps them equal).
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_CODE_FORMAT = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")

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


def new_receipt_number(day: date, prefix: str = "BA") -> str:
    """``prefix`` (BA filing, YY booking) + yyyymmdd (Asia/Shanghai) + 6 random letters, as
    the window issues them."""
    return f"{prefix}{day:%Y%m%d}" + "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(6))


def credit_code_problem(value: str) -> str | None:
    """None for a well-formed code with the right check character; else what is wrong."""
    code = unicodedata.normalize("NFKC", value).strip().upper()
    if not _CREDIT_CODE_FORMAT.fullmatch(code):
        return "format"
    total = sum(
        CREDIT_CODE_ALPHABET.index(c) * w
        for c, w in zip(code[:17], _CREDIT_CODE_WEIGHTS, strict=True)
    )
    if CREDIT_CODE_ALPHABET[(31 - total % 31) % 31] != code[17]:
        return "check_character"
    return None


def check_submission(value: Any, fields: dict[str, Field]) -> dict[str, Any]:
    """The submission's fields, text stripped; IntakeInvalid for anything missing, extra, of
    the wrong type or too long, and for a credit code whose check character is wrong."""
    if not isinstance(value, dict):
        raise IntakeInvalid(
            "invalid_submission",
            "submission",
            "申报信息须为 JSON 对象",
            "submission must be an object",
        )
    extra = sorted(set(value) - set(fields))
    if extra:
        raise IntakeInvalid(
            "unknown_field", extra[0], f"未知字段 {extra[0]}", f"unknown field {extra[0]!r}"
        )
    clean: dict[str, Any] = {}
    for name, field in fields.items():
        given = value.get(name)
        if field.kind is bool:
            if not isinstance(given, bool):
                raise IntakeInvalid(
                    "missing_field", name, f"{name} 须为 true 或 false", f"{name} must be a boolean"
                )
            clean[name] = given
            continue
        if given is None and not field.required:
            continue
        if not isinstance(given, str) or not given.strip():
            raise IntakeInvalid(
                "missing_field", name, f"{name} 为必填文本", f"{name} is required text"
            )
        if len(given.strip()) > field.longest:
            raise IntakeInvalid(
                "field_too_long",
                name,
                f"{name} 不得超过 {field.longest} 个字符",
                f"{name} is longer than {field.longest} characters",
            )
        clean[name] = given.strip()
        if field.moment:
            try:
                datetime.fromisoformat(clean[name])
            except ValueError:
                raise IntakeInvalid(
                    f"invalid_{name}",
                    name,
                    f"{name} 应为日期和时间，如 2027-03-02T09:00",
                    f"{name} must be a date and time such as 2027-03-02T09:00",
                ) from None
    _check_values(clean)
    return clean


def _check_values(clean: dict[str, Any]) -> None:
    """What a field's value must be beyond its type and length."""
    if "case" in clean and not RECEIPT.match(clean["case"]):
        raise IntakeInvalid(
            "invalid_receipt_number", "case", "受理编号格式不正确", "not a receipt number"
        )
    if clean.get("answer", ANSWERS[0]) not in ANSWERS:
        raise IntakeInvalid(
            "invalid_answer",
            "answer",
            "答复须为 accept（接受）、another（另选时段）或 cancel（取消预约）",
            "answer must be accept, another or cancel",
        )
    problem = credit_code_problem(clean["credit_code"]) if "credit_code" in clean else None
    if problem is not None:
        raise IntakeInvalid(
            "invalid_credit_code",
            "credit_code",
            "统一社会信用代码格式不正确（应为18位数字或大写字母，不含I、O、Z、S、V）"
            if problem == "format"
            else "统一社会信用代码校验码不正确，请核对后重新填写",
            "a unified social credit code is 18 digits or capital letters (no I, O, Z, S, V)"
            if problem == "format"
            else "the check character of the unified social credit code is wrong",
        )


def required_items(record_format: str, submission: dict[str, Any]) -> tuple[str, ...]:
    """The documents a submission cannot do without: a booking whose certificate was issued
    elsewhere rests on its uploaded scan (Art. 13). A filing's checklist is the domain's."""
    if record_format == BOOKING_FORMAT and not submission["basis_on_platform"]:
        return (BASIS_DOCUMENT,)
    return ()


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
        except Exception:  # zipfile raises many kinds on hostile input
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
    record_format = value.get("format") if isinstance(value, dict) else None
    if not isinstance(record_format, str) or record_format not in FIELDS:
        raise IntakeInvalid("invalid_record", "format", "格式不符", "not an intake record")
    receipt = value.get("receipt_number")
    if not (
        isinstance(receipt, str)
        and RECEIPT.match(receipt)
        and receipt.startswith(PREFIXES[record_format])
    ):
        raise IntakeInvalid("invalid_record", "receipt_number", "受理编号不符", "bad receipt")
    documents = value.get("documents")
    least = 1 if record_format in (FILING_FORMAT, RESUBMISSION_FORMAT) else 0
    most = 0 if record_format == ANSWER_FORMAT else MAX_DOCUMENTS
    if not isinstance(documents, list) or not least <= len(documents) <= most:
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
            and doc["size"] > 0
            and isinstance(doc.get("media_type"), str)
            and doc["media_type"] in EXTENSIONS
        ):
            raise IntakeInvalid("invalid_record", "documents", "材料清单不符", "bad document")
    items = [doc["item"] for doc in documents]
    if len(set(items)) != len(items) or (
        record_format == BOOKING_FORMAT and set(items) - {BASIS_DOCUMENT}
    ):
        raise IntakeInvalid("invalid_record", "documents", "材料项重复或不符", "bad items")
    if not isinstance(value.get("query_code_hash"), str) or not isinstance(
        value.get("submitted_at"), str
    ):
        raise IntakeInvalid("invalid_record", "query_code_hash", "记录不完整", "incomplete record")
    submission = check_submission(value.get("submission"), FIELDS[record_format])
    if record_format in CASE_PREFIXES and not submission["case"].startswith(
        CASE_PREFIXES[record_format]
    ):
        raise IntakeInvalid("invalid_record", "case", "受理编号不符", "not a case of this kind")
    have = {doc["item"] for doc in documents}
    for item in required_items(record_format, submission):
        if item not in have:
            raise IntakeInvalid(
                "missing_document", item, f"请上传材料 {item}", f"document {item} is missing"
            )
    return {**value, "submission": submission}


def pack(record: dict[str, Any], contents: list[bytes]) -> bytes:
    """One bundle: header, the record's length and JSON, then each file's bytes in the
    record's order (their sizes are in the record)."""
    head = orjson.dumps(record)
    return BUNDLE_MAGIC + len(head).to_bytes(4, "big") + head + b"".join(contents)


def unpack(bundle: bytes) -> tuple[dict[str, Any], list[bytes]]:
    """The checked record and its files' bytes; IntakeInvalid when the bundle is not whole."""
    start = len(BUNDLE_MAGIC) + 4
    if not bundle.startswith(BUNDLE_MAGIC) or len(bundle) < start:
        raise IntakeInvalid("invalid_record", "bundle", "不是申报包", "not an intake bundle")
    end = start + int.from_bytes(bundle[len(BUNDLE_MAGIC) : start], "big")
    try:
        parsed = orjson.loads(bundle[start:end])
    except orjson.JSONDecodeError:
        raise IntakeInvalid("invalid_record", "bundle", "记录不是 JSON", "not JSON") from None
    record = check_record(parsed)
    contents, offset = [], end
    for doc in record["documents"]:
        contents.append(bundle[offset : offset + doc["size"]])
        offset += doc["size"]
    if offset != len(bundle) or any(
        len(c) != d["size"] for c, d in zip(contents, record["documents"], strict=True)
    ):
        raise IntakeInvalid(
            "document_mismatch", "documents", "申报包中的文件与清单不符", "files differ from list"
        )
    return record, contents
