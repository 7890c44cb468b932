"""The filing certificate (备案凭证) as a PDF over HTTP (RULES.md Art. 7-10): the applicant
downloads it from the public register, staff print it from the case, both get the same
document, and its QR code opens the portal's verification page at the configured address."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from io import BytesIO
from pathlib import Path
from urllib.parse import unquote

import pypdf
import pytest
from fastapi.testclient import TestClient

from api_public.app import create_public_app
from api_public.ratelimit import RateLimiter
from domain.actor import Actor, Role
from projections.certificate_pdf import chinese_date, verify_url
from tests.integration.api_fixtures import assert_problem, staff
from tests.integration.bridge_fixtures import Installation, install
from tests.support import client_of
from tests.unit.test_certificate_pdf import decoded_qr_codes

BASE = "https://fw.example.gov.cn/portal"
TITLE = "建设工程消防设计备案凭证"
AGENCY = "郑州市金水区消防救援大队"


@pytest.fixture(name="installation")
def installation_fixture(tmp_path: Path) -> Iterator[Installation]:
    # Configured once, on the internal settings: the embedded public side takes it over.
    built = install(tmp_path, public_base_url=BASE + "/")
    try:
        yield built
    finally:
        built.public.close()
        built.platform.close()


def certified(installation: Installation) -> tuple[str, str]:
    """A filing certified at the Jinshui window and carried to the public side."""
    receipt, _ = installation.file()
    number = installation.certify(receipt)
    installation.cross()
    return receipt, number


def public(installation: Installation) -> TestClient:
    return TestClient(create_public_app(installation.public.backend), raise_server_exceptions=False)


def clerk(installation: Installation, agency: str = "zz-jinshui") -> dict[str, str]:
    return staff(installation.platform, installation.clock, f"clerk-{agency}", Role.WINDOW_CLERK,
                 agency)  # fmt: skip


def text_of(pdf: bytes) -> str:
    return pypdf.PdfReader(BytesIO(pdf)).pages[0].extract_text()


def test_the_applicant_downloads_the_certificate_with_a_qr_code_to_its_verification_page(
    installation: Installation,
) -> None:
    _, number = certified(installation)

    response = public(installation).get(f"/api/v1/certificates/{number}/pdf")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-cache"  # as the JSON verification
    assert response.headers["x-content-type-options"] == "nosniff"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="certificate-')
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == f"备案凭证-{number}.pdf"
    text = text_of(response.content)
    for fact in (TITLE, number, "郑州测试置业有限公司", "测试大厦", AGENCY):
        assert fact in text
    assert chinese_date(installation.clock.now.date()) in text
    assert decoded_qr_codes(response.content) == [verify_url(BASE, number)]
    assert unquote(verify_url(BASE, number)) == f"{BASE}/verify/{number}"


def test_the_clerk_prints_the_same_document_the_applicant_downloads(
    installation: Installation,
) -> None:
    receipt, number = certified(installation)

    printed = client_of(installation.platform).get(
        f"/api/v1/filings/{receipt}/certificate.pdf", headers=clerk(installation)
    )
    downloaded = public(installation).get(f"/api/v1/certificates/{number}/pdf")

    assert printed.status_code == 200, printed.text
    assert printed.headers["content-type"] == "application/pdf"
    assert printed.headers["cache-control"] == "no-store"
    assert printed.headers["content-disposition"] == downloaded.headers["content-disposition"]
    assert printed.content == downloaded.content
    assert decoded_qr_codes(printed.content) == [verify_url(BASE, number)]


def test_a_revoked_certificate_downloads_marked_revoked_on_both_sides(
    installation: Installation,
) -> None:
    receipt, number = certified(installation)
    installation.clock.advance(days=3)
    approver = Actor("approver-jinshui", Role.APPROVER, "zz-jinshui")
    installation.platform.services.filings.revoke_certificate(approver, receipt, "材料虚假")
    installation.cross()

    downloaded = public(installation).get(f"/api/v1/certificates/{number}/pdf")
    printed = client_of(installation.platform).get(
        f"/api/v1/filings/{receipt}/certificate.pdf", headers=clerk(installation)
    )

    revoked_on = chinese_date(date(2026, 11, 27))
    for response in (downloaded, printed):
        assert response.status_code == 200, response.text
        assert f"已撤销：本凭证已于{revoked_on}撤销" in text_of(response.content)
    assert printed.content == downloaded.content


def test_an_unknown_certificate_number_is_a_404_problem(installation: Installation) -> None:
    response = public(installation).get("/api/v1/certificates/郑金消设备字〔2026〕第9999号/pdf")

    assert_problem(response, 404, "certificate_not_found")


def test_certificate_downloads_count_against_the_public_rate_limit(
    installation: Installation,
) -> None:
    _, number = certified(installation)
    installation.public.backend.requests = RateLimiter(per_minute=60, burst=2)
    client = public(installation)

    answers = [client.get(f"/api/v1/certificates/{number}/pdf") for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert_problem(answers[2], 429, "too_many_requests")


def test_a_clerk_of_another_brigade_may_not_print_the_certificate(
    installation: Installation,
) -> None:
    receipt, _ = certified(installation)
    client = client_of(installation.platform)
    path = f"/api/v1/filings/{receipt}/certificate.pdf"

    refused = client.get(path, headers=clerk(installation, "zz-erqi"))
    # The detachment's department heads read every brigade's cases.
    head = staff(installation.platform, installation.clock, "head-zz", Role.DEPT_HEAD, "zz")

    assert_problem(refused, 403, "outside_jurisdiction")
    assert client.get(path, headers=head).status_code == 200


def test_a_filing_without_a_certificate_yet_is_a_409_problem(installation: Installation) -> None:
    receipt, _ = installation.file()

    response = client_of(installation.platform).get(
        f"/api/v1/filings/{receipt}/certificate.pdf", headers=clerk(installation)
    )

    assert_problem(response, 409, "certificate_not_issued")


def test_printing_needs_a_login_and_an_existing_filing(installation: Installation) -> None:
    receipt, _ = certified(installation)
    client = client_of(installation.platform)

    assert_problem(client.get(f"/api/v1/filings/{receipt}/certificate.pdf"), 401,
                   "not_authenticated")  # fmt: skip
    assert_problem(
        client.get("/api/v1/filings/BA20261124XXXXXX/certificate.pdf", headers=clerk(installation)),
        404,
        "not_found",
    )


def test_both_apis_document_the_pdf_routes(installation: Installation) -> None:
    staff_api = client_of(installation.platform).get("/openapi.json").json()
    public_api = public(installation).get("/openapi.json").json()

    printed = staff_api["paths"]["/api/v1/filings/{receipt_number}/certificate.pdf"]["get"]
    downloaded = public_api["paths"]["/api/v1/certificates/{certificate_number}/pdf"]["get"]
    for route in (printed, downloaded):
        assert "application/pdf" in route["responses"]["200"]["content"]
        assert "备案凭证" in route["summary"]
