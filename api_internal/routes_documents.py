"""An uploaded document for staff (RULES.md Art. 8-9, 13; DESIGN.md decision 8), in the API and
on the console's document view alike: for those who may read a filing or a booking whose
history references it (projections.internal.document_references) — the current materials,
those a resubmission replaced, a booking's scan and the signed commitment of a permit on the
spot — opened from the submission's sealed copy (domain.documents).

A document of a person whose data was erased is gone for good: 410 ``document_erased`` (a page
on the console), never an error. It is served as the type its content shows (magic bytes,
never the name or a stored claim), with ``nosniff`` and a ``sandbox`` CSP, so a crafted file
opened in the browser runs no script with the console's origin.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from starlette.responses import Response

from api_internal.common import caught_up
from api_internal.deps import Backend, BackendDep, StaffDep
from api_internal.pages_uploads import sniff
from domain.actor import Actor
from domain.errors import NotFound, NotPermitted
from domain.permissions import Command, in_jurisdiction, may
from projections.internal.document_references import (
    BASIS,
    COMMITMENT,
    DocumentReference,
    DocumentReferences,
)

router = APIRouter(prefix="/api/v1/documents", tags=["材料文件 documents"])
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
DOCUMENT_CSP = "sandbox; default-src 'none'; img-src 'self'; frame-ancestors 'none'"
SHOWN_INLINE = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
SERVED = (*SHOWN_INLINE, "application/ofd", "application/octet-stream")  # what sniff() says
PARTS = {COMMITMENT: "-告知承诺书", BASIS: "-预约依据"}  # in a download's name
PROBLEM: dict[str, Any] = {"application/problem+json": {}}


def may_read(actor: Actor, backend: Backend, reference: DocumentReference) -> bool:
    reads = Command.VIEW_FILINGS if reference.case == "filing" else Command.VIEW_BOOKINGS
    return may(actor, reads) and in_jurisdiction(actor, backend.agencies, reference.agency)


def document_response(backend: Backend, actor: Actor, sha256hex: str) -> Response:
    """The document ``sha256hex`` for ``actor``; NotFound, NotPermitted or DocumentErased."""
    if not SHA256_HEX.match(sha256hex):
        raise NotFound("没有找到该文件", "no such document")
    document = f"sha256:{sha256hex}"
    caught_up(backend)
    references = DocumentReferences(backend.queries.store)
    found = references.referencing(document)
    if not found:
        raise NotFound("没有找到该文件", "no such document")
    readable = [r for r in found if may_read(actor, backend, r)]
    if not readable:
        raise NotPermitted(
            "无权查看该文件：引用它的案件不在您的职责或管辖范围内",
            "not allowed: no case you may read references this document",
        )
    store = backend.document_store
    subjects = references.subjects(r.receipt_number for r in readable)
    data = None if store is None else store.read(document, sorted(set(subjects.values())))
    if data is None:
        raise NotFound(
            "该文件尚未送达内网文档库（窗口录入的材料以纸质件为准）",
            "the document is not in the internal document store",
            code="document_not_stored",
        )
    media_type = sniff(data)
    name = next((r.file_name for r in readable if r.file_name), "")
    what = PARTS.get(readable[0].part, "")
    name = name or f"{readable[0].receipt_number}{what}{SHOWN_INLINE.get(media_type, '')}"
    disposition = "inline" if media_type in SHOWN_INLINE else "attachment"
    fallback = f"document{SHOWN_INLINE.get(media_type, '')}"  # for clients without filename*
    return Response(
        data,
        media_type=media_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{fallback}"; '
            f"filename*=UTF-8''{quote(name)}",
            "Content-Security-Policy": DOCUMENT_CSP,
            "Cache-Control": "no-store",  # an erasure must not leave a copy in a cache
        },
    )


@router.get(
    "/{sha256hex}",
    summary="查看或下载材料文件",
    description="按 SHA-256 取一份上传的材料（申报材料、预约依据扫描件、告知承诺书），仅限可查看"
    "引用它的备案或预约的人员。申请人的个人信息已删除时，其材料随之销毁：返回 410"
    "（`document_erased`）。无权查看返回 403；不存在或尚未送达内网文档库返回 404。",
    response_class=Response,
    responses={
        200: {"content": {kind: {} for kind in SERVED}, "description": "文件内容（按类型判断）"},
        401: {"content": PROBLEM, "description": "未登录"},
        403: {"content": PROBLEM, "description": "无权查看"},
        404: {"content": PROBLEM, "description": "没有该文件"},
        410: {"content": PROBLEM, "description": "已随个人信息删除（document_erased）"},
    },
)
def download_document(sha256hex: str, actor: StaffDep, backend: BackendDep) -> Response:
    return document_response(backend, actor, sha256hex)
