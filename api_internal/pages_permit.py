"""The permit on the spot of the notice-and-commitment route (告知承诺, Fire Protection Law
Art. 15; RULES.md Art. 15): at the window's review of a pre-opening inspection booked on that
route, the window issues the permit against the applicant's signed commitment and forwards the
booking for the site check within 20 working days (domain.services.bookings).

The signed commitment is uploaded with the form, checked by its content and size
(api_internal.pages_uploads) and kept in the internal document store sealed under the booking's
own key (it bears the applicant's signature: erasing the booking's contact erases it too,
domain.documents), where the document view opens it for staff who may read the booking
(api_internal.routes_documents).
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from api_internal.common import caught_up
from api_internal.deps import Backend
from api_internal.pages_uploads import checked_upload
from api_internal.pages_web import ConsoleUser, FormInvalid, text
from domain.errors import DomainError, NotFound
from domain.permissions import Command, authorize
from projections.internal.document_references import COMMITMENT, DocumentReferences

WHAT_ZH = "申请人签署的告知承诺书"


def issue_permit(b: Backend, u: ConsoleUser, r: str, f: FormData, v: int | None) -> None:
    """Keep the signed commitment, then issue the permit against it. Only someone who may
    issue the permit on this booking gets a file stored; every field is checked before
    anything is; a refused permit takes back the file it stored (one kept already, for another
    case, stays)."""
    row = caught_up(b).booking_queries.booking(r, b.clock())
    if row is None:
        raise NotFound("预约不存在", "booking not found")
    authorize(u.actor, Command.ISSUE_PERMIT_ON_COMMITMENT, b.agencies, row["agency"])
    errors = {}
    if not text(f, "department").strip():
        errors["department"] = "请填写负责许可后现场核查的承办科室或大队"
    data, refused, status = checked_upload(
        f.get("commitment_document"), WHAT_ZH, b.max_upload_bytes
    )
    if data is None:
        errors["commitment_document"] = refused
    if errors or data is None:
        raise FormInvalid(errors, status if data is None else 422)
    store = b.document_store
    if store is None:  # a bare API without the document store: nothing can be kept
        raise FormInvalid({"commitment_document": "内网文档库未配置，无法保存承诺书"}, 503)
    document, written = store.keep(data, row["contact_subject"])
    try:
        b.services.bookings.issue_permit_on_commitment(
            u.actor, r, text(f, "department"), document, v
        )
    except DomainError:
        if written is not None:
            store.take_back(written)
        raise


def commitment_of(backend: Backend, row: dict[str, Any]) -> str:
    """The hex hash of the signed commitment the booking's permit was issued against; "" if
    none was (or the read model was projected before it kept documents: see
    projections.internal.document_references)."""
    if not row["permit_issued_at"]:
        return ""
    kept = DocumentReferences(backend.queries.store).of_case(row["receipt_number"])
    found = [r.document for r in kept if r.part == COMMITMENT]
    return found[-1].removeprefix("sha256:") if found else ""
