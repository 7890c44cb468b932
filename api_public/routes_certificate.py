"""The filing certificate (备案凭证) as a PDF for the applicant (RULES.md Art. 7-10), drawn from
the public certificate register: the same facts the verification page shows, and a QR code
that opens that page. A revoked certificate is still served, marked 已撤销.

Nothing here is personal data: the register holds what the bridge allowed to cross."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from api_public.problems import PublicProblem
from api_public.routes import BackendDep, rate_limited
from projections.api_docs import problems
from projections.certificate_pdf import (
    CertificateFacts,
    content_disposition,
    render_certificate,
    shanghai_date,
    verify_url,
)

router = APIRouter(prefix="/api/v1", dependencies=[Depends(rate_limited)])
# Drawing a page takes tens of milliseconds; a certificate shared around is drawn once. The
# facts (status included) are part of the key, so a revocation draws the new document.
_render = lru_cache(maxsize=64)(render_certificate)


@router.get(
    "/certificates/{certificate_number}/pdf",
    tags=["凭证核验 verification"],
    summary="下载备案凭证（PDF）",
    description="凭证编号 → 备案凭证 PDF（A4）：编号、建设单位、工程、备案机构、出具日期，"
    "以及打开核验页面 `/verify/{凭证编号}` 的二维码；已撤销的凭证标明“已撤销”。"
    "未找到返回 404。",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "备案凭证 PDF"},
        **problems(404),
    },
)
def certificate_pdf(
    certificate_number: Annotated[str, Path(max_length=64)], backend: BackendDep
) -> Response:
    found = backend.queries.certificate(certificate_number.strip())
    if found is None:
        raise PublicProblem(
            404,
            "certificate_not_found",
            "没有该编号的备案凭证，请核对凭证编号",
            "no filing certificate with this number",
        )
    revoked = found["status"] == "withdrawn" and found["withdrawn_at"]
    facts = CertificateFacts(
        certificate_number=found["certificate_number"],
        kind=found["kind"],
        organisation_name=found["organisation_name"],
        credit_code=found["credit_code"],
        project_name=found["project_name"],
        district=found["district"],
        agency_name=found["agency_name"],
        issued_on=shanghai_date(found["issued_at"]),
        revoked_on=shanghai_date(found["withdrawn_at"]) if revoked else None,
    )
    pdf = _render(facts, verify_url(backend.public_base_url, facts.certificate_number))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": content_disposition(facts.certificate_number),
            # As the JSON verification: never a stale "valid" from a shared cache.
            "Cache-Control": "no-cache",
        },
    )
