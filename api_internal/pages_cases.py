"""The case page (RULES.md Art. 27, 39): a case's whole history — who, in which role and agency,
when, what — as ``firegov audit history`` gives it (domain.services.audit, which also decides
who may read it); and the view of an uploaded document, as the staff API serves it
(api_internal.routes_documents: for staff who may read a case that references it; a page
saying it was erased, 410, once the person it belonged to was).
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from fastapi import APIRouter
from starlette.responses import Response

from api_internal.deps import Backend, BackendDep
from api_internal.pages_web import RECEIPT, PageRoute, UserDep, render
from api_internal.routes_documents import document_response
from domain.errors import NotFound
from domain.filing import PROBLEMS
from domain.permissions import Command, may

router = APIRouter(route_class=PageRoute, include_in_schema=False)
DOCUMENT = re.compile(r"sha256:[0-9a-f]{64}")
LABELS = {
    "receipt_number": "受理编号", "kind": "类型", "route": "办理方式", "agency": "机构",
    "organisation_name": "单位", "credit_code": "统一社会信用代码", "project_name": "项目名称",
    "project_address": "工程地址", "district": "区县", "contact_name": "联系人",
    "contact_phone": "联系电话", "contact_subject": "个人信息主体", "channel": "渠道",
    "items": "补正项", "materials": "材料项", "changed_items": "修改的材料项",
    "certificate_number": "备案凭证编号", "deemed_complete": "逾期视为齐全", "reason": "理由",
    "competent_agency": "有管辖权的机构", "department": "承办科室", "late": "逾期办理",
    "main_handler": "主办人", "assistants": "协办人", "day": "日期", "half": "时段",
    "passed": "合格", "findings": "发现的问题", "recheck_date": "复查日期",
    "wished_time": "希望检查时间", "basis": "预约依据", "draw_reference": "抽取记录编号",
    "commitment_document": "告知承诺书",
}  # fmt: skip
PEOPLE = {"main_handler", "assistants"}


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list) and all(isinstance(v, dict) and "item" in v for v in value):
        return "；".join(
            f"{v['item']}（{PROBLEMS.get(v.get('problem', ''), v.get('problem', ''))}）："
            f"{v.get('reason', '')}"
            for v in value
        )
    if isinstance(value, list):
        return "、".join(_value(v) for v in value) or "无"
    if isinstance(value, dict):
        return orjson.dumps(value).decode()
    return "" if value is None else str(value)


def detail_lines(backend: Backend, details: dict[str, Any]) -> list[tuple[str, str, str]]:
    """An event's details as label, text and the link of a document it names (the signed
    commitment of a permit on the spot); handlers by name rather than account id."""
    lines = []
    for key, value in details.items():
        shown = _people(backend, value) if key in PEOPLE else value
        document = value if isinstance(value, str) and DOCUMENT.fullmatch(value) else None
        href = f"/console/documents/{document.removeprefix('sha256:')}" if document else ""
        lines.append((LABELS.get(key, key), _value(shown), href))
    return lines


def _people(backend: Backend, value: Any) -> Any:
    ids = value if isinstance(value, list) else [value]
    names = []
    for account_id in ids:
        try:
            names.append(backend.services.staff.account(str(account_id)).display_name)
        except (NotFound, ValueError):
            names.append(str(account_id))
    return names if isinstance(value, list) else names[0]


@router.get("/console/cases/{receipt}/history")
def case_history(receipt: str, user: UserDep, backend: BackendDep) -> Response:
    if not RECEIPT.fullmatch(receipt):
        raise NotFound("没有该事项的记录", "no history")
    receipt = receipt.upper()
    entries = backend.services.audit.history(user.actor, receipt)
    booking = receipt.startswith("YY")
    reads = Command.VIEW_BOOKINGS if booking else Command.VIEW_FILINGS
    return render(
        "history.html",
        user=user,
        receipt=receipt,
        entries=entries,
        details={e.position: detail_lines(backend, e.details) for e in entries},
        agency_names={a.code: a.name for a in backend.agencies.all()},
        case_url=f"/console/{'bookings' if booking else 'filings'}/{receipt}"
        if may(user.actor, reads)
        else None,
    )


@router.get("/console/documents/{sha256hex}")
def document(sha256hex: str, user: UserDep, backend: BackendDep) -> Response:
    """The document view (api_internal.routes_documents): a page saying so (410) once the
    person it belonged to was erased."""
    return document_response(backend, user.actor, sha256hex)
