"""The parts of the booking form (pages_booking) that are about the booking rather than the
steps: the half days with room an agency published, the check of a certificate issued on this
platform, and the submission as the intake contract (BOOKING_FIELDS) spells it."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from api_public.pages_catalogue import Guide
from api_public.pages_forms import Form
from api_public.pages_render import backend_of

HALVES = {"am": "上午", "pm": "下午"}
STARTS = {"am": "09:00", "pm": "14:00"}  # the wished time within the half day chosen


def shown(value: Any) -> str:
    """A kept value as the form shows it again (a ticked box posts "1")."""
    if isinstance(value, bool):
        return "1" if value else ""
    return str(value)


def days_with_room(request: Request, agency: str) -> list[dict[str, Any]]:
    backend = backend_of(request)
    found = backend.queries.availability(backend.clock(), agency) if agency else []
    return list(found[0]["days"]) if found else []


def check_platform_certificate(request: Request, form: Form) -> None:
    """A certificate issued here must be in force and name this organisation and project
    (the internal side checks the same on import; asking now saves a quarantine)."""
    number = form.clean.get("basis_number", "")
    found = backend_of(request).queries.certificate(number) if number else None
    if not number:
        return
    if found is None:
        form.errors["basis_number"] = (
            "本平台没有出具该编号的备案凭证；请核对编号，或不勾选“由本平台出具”并上传扫描件"
        )
    elif found["status"] != "valid":
        form.errors["basis_number"] = "该备案凭证已被撤销，不能作为预约依据"
    elif (found["credit_code"], found["project_name"]) != (
        form.clean.get("credit_code"),
        form.clean.get("project_name"),
    ):
        form.errors["basis_number"] = "该备案凭证的建设单位或工程名称与所填不符，请核对"


def submission(draft: dict[str, Any], guide: Guide) -> dict[str, Any]:
    fields = draft["fields"]
    wished = f"{fields['wished_day']}T{STARTS[fields['wished_half']]}"
    names = ("kind", "route", "district", "agency", "organisation_name", "credit_code",
             "project_name", "contact_name", "contact_phone", "basis_number")  # fmt: skip
    return {
        **{name: fields[name] for name in names},
        "wished_time": wished,
        "basis_kind": guide.basis_kind,
        "basis_on_platform": bool(fields["basis_on_platform"]),
    }
