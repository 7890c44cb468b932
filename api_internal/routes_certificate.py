"""The filing certificate (备案凭证) as a PDF for staff (RULES.md Art. 7-10): whoever may read
the filing may print its certificate, from the internal read model, with the same layout and
QR code (pointing to the public verification page) as the applicant's copy."""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Response

from api_internal.common import COMMAND_REFUSED, Receipt, caught_up
from api_internal.deps import BackendDep, StaffDep
from domain.errors import IllegalTransition, NotFound
from domain.filing import FilingStatus
from domain.permissions import Command, authorize
from projections.certificate_pdf import (
    CertificateFacts,
    content_disposition,
    render_certificate,
    shanghai_date,
    verify_url,
)

log = structlog.get_logger()
router = APIRouter(prefix="/api/v1/filings", tags=["消防备案 filings"])


@router.get(
    "/{receipt_number}/certificate.pdf",
    summary="打印备案凭证（PDF）",
    description="有权查看该备案的人员可下载其备案凭证 PDF（与申请人下载的相同，含核验二维码）；"
    "已撤销的凭证标明“已撤销”。尚未出具凭证返回 409（`certificate_not_issued`）。",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "备案凭证 PDF"},
        **COMMAND_REFUSED,
    },
)
def certificate_pdf(receipt_number: Receipt, actor: StaffDep, backend: BackendDep) -> Response:
    receipt = receipt_number.upper()
    row = caught_up(backend).queries.filing(receipt, backend.clock())
    if row is None:
        raise NotFound("备案不存在", "filing not found")
    authorize(actor, Command.VIEW_FILINGS, backend.agencies, row["agency"])
    if not row["certificate_number"]:
        raise IllegalTransition(
            "该备案尚未出具备案凭证",
            "this filing has no certificate yet",
            code="certificate_not_issued",
            status=row["status"],
        )
    # The days come from the case's history: the read model keeps only the current state.
    when = {h["event"]: h["at"] for h in backend.queries.history(row["id"])}
    revoked = row["status"] == FilingStatus.CERTIFICATE_REVOKED and "CertificateRevoked" in when
    facts = CertificateFacts(
        certificate_number=row["certificate_number"],
        kind=row["kind"],
        organisation_name=row["organisation_name"],
        credit_code=row["credit_code"],
        project_name=row["project_name"],
        district=row["district"],
        agency_name=backend.agencies.get(row["agency"]).name,
        issued_on=shanghai_date(when["CertificateIssued"]),
        revoked_on=shanghai_date(when["CertificateRevoked"]) if revoked else None,
    )
    pdf = render_certificate(facts, verify_url(backend.public_base_url, facts.certificate_number))
    log.info("filing_certificate_printed", receipt_number=receipt, actor_id=actor.actor_id)
    return Response(
        pdf,
        media_type="application/pdf",
        # Cache-Control: no-store comes with every staff response (api_internal.middleware).
        headers={"Content-Disposition": content_disposition(facts.certificate_number)},
    )
