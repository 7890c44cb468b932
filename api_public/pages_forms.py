"""Checking what a person typed into the portal's forms, field by field, so that each error
is shown next to its field in plain Chinese and the typed value stays in the form. The rules
are the intake contract's (bridge.contract.intake: required fields, lengths, the credit code's
check character); the mobile number is checked as the internal side will check it, so that a
typing error is answered now rather than by a quarantine later. The internal side checks
everything again on import."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from bridge.contract.intake import IntakeInvalid, credit_code_problem

MOBILE = re.compile(r"1[3-9][0-9]{9}")
SEPARATORS = re.compile(r"[\s\-]")


def normalise_mobile(value: str) -> str | None:
    """The 11 digits of a mainland mobile number (as domain.identifiers reads it), or None."""
    digits = SEPARATORS.sub("", unicodedata.normalize("NFKC", value))
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    return digits if MOBILE.fullmatch(digits) else None


@dataclass
class Form:
    """The text fields of one posted step: what was typed (to show again), the clean values
    (to keep), and an error per field."""

    form: FormData
    values: dict[str, str] = field(default_factory=dict)
    clean: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def raw(self, name: str) -> str:
        value = self.form.get(name)
        text = value if isinstance(value, str) else ""
        self.values[name] = text
        return text

    def text(self, name: str, label: str, longest: int, required: bool = True) -> str:
        value = self.raw(name).strip()
        if not value and required:
            self.errors[name] = f"请填写{label}"
        elif len(value) > longest:
            self.errors[name] = f"{label}不得超过 {longest} 个字"
        else:
            self.clean[name] = value
        return value

    def choice(self, name: str, label: str, allowed: dict[str, str]) -> str:
        value = self.raw(name).strip()
        if value not in allowed:
            self.errors[name] = f"请选择{label}"
        else:
            self.clean[name] = value
        return value

    def credit_code(self, name: str = "credit_code") -> None:
        value = self.raw(name).strip()
        if not value:
            self.errors[name] = "请填写统一社会信用代码"
            return
        problem = credit_code_problem(value)
        if problem == "format":
            self.errors[name] = (
                "统一社会信用代码格式不正确：应为 18 位数字或大写字母（不含 I、O、Z、S、V）"
            )
        elif problem == "check_character":
            self.errors[name] = "统一社会信用代码校验码不正确，请对照营业执照核对后重新填写"
        else:
            self.clean[name] = unicodedata.normalize("NFKC", value).strip().upper()

    def mobile(self, name: str, label: str = "联系电话") -> None:
        value = self.raw(name).strip()
        number = normalise_mobile(value) if value else None
        if not value:
            self.errors[name] = f"请填写{label}"
        elif number is None:
            self.errors[name] = f"{label}应为 11 位手机号码（以 13 至 19 开头）"
        else:
            self.clean[name] = number

    def day_not_before(self, name: str, label: str, today: date) -> date | None:
        value = self.raw(name).strip()
        try:
            day = date.fromisoformat(value)
        except ValueError:
            self.errors[name] = f"请按“年-月-日”填写{label}，如 {today.isoformat()}"
            return None
        if day < today:
            self.errors[name] = f"{label}不能早于今天"
            return None
        self.clean[name] = day.isoformat()
        return day


async def text_fields(request: Request) -> FormData:
    """A step's posted fields; a step without uploads takes no file (a file posted anyway is
    refused before it is spooled to disk)."""
    async with request.form(max_files=0, max_fields=40) as form:
        return form


def uploads_of(form: FormData) -> dict[str, UploadFile]:
    """The file fields that hold a chosen file (an empty file input posts no name)."""
    return {
        name: value
        for name, value in form.multi_items()
        if isinstance(value, UploadFile) and value.filename
    }


def file_message(error: IntakeInvalid, max_bytes: int) -> str:
    """The contract's refusal of a file, worded for the field it is shown next to (the
    contract's own message names the field by its code)."""
    return {
        "file_too_large": f"文件太大：每个文件不得超过 {megabytes(max_bytes)}，请压缩或分页扫描后"
        "重新选择",
        "empty_file": "文件是空的，请重新选择",
        "unsupported_file_type": "只接收 PDF、JPEG、PNG 或 OFD 文件（压缩包和其他类型不予接收）",
        "extension_mismatch": "文件的扩展名与内容不符（例如 PDF 文件应以 .pdf 结尾），请核对后"
        "重新选择",
    }.get(error.code, error.message_zh)


def megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:g} MB"


def status_for(error: IntakeInvalid) -> int:
    if error.code in {"file_too_large", "submission_too_large"}:
        return 413
    if error.code in {"unsupported_file_type", "extension_mismatch"}:
        return 415
    return 422
