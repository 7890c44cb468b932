"""A construction fire filing from start to end in the browser (RULES.md Art. 7-10; issue 5's
first "done when"): the applicant files on the portal in four steps with the documents
uploaded and gets the receipt with the query code; the clerk finds the filing in the console,
looks at each document and issues one supplement notice with a reason per item; the applicant
sees every item on tracking and uploads the corrected documents there; the clerk issues the
certificate; the applicant downloads the PDF from tracking, and the address in its
QR code opens the verification page, which says the certificate is valid.
"""

from __future__ import annotations

import io
import re
from urllib.parse import quote

import pytest
from playwright.sync_api import FilePayload

from domain.actor import Role
from tests.e2e.browsing import PHONE, People
from tests.e2e.drive import (
    console_login,
    file_on_the_portal,
    open_from_queue,
    received,
    reload_until,
    track,
)
from tests.e2e.live import LiveSite
from tests.e2e.scenarios import DESIGN_ITEMS, pdf

# Item code -> (its name on the checklist, the clerk's reason).
DEFECTIVE = {
    "designer_qualification": ("设计单位资质证书", "资质证书已过有效期，请提交有效期内的证书"),
    "construction_permit": ("施工许可证复印件", "复印件不清晰，无法辨认许可证编号"),
}
NUMBER = re.compile(r"郑金消设备字〔\d{4}〕第\d{4}号")


def qr_codes(document: bytes) -> list[str]:
    """What a phone reads from the QR codes on the PDF's first page."""
    pdfium = pytest.importorskip("pypdfium2", reason="pypdfium2 (dev extra) draws the page")
    zxing = pytest.importorskip("zxingcpp", reason="zxing-cpp (dev extra) reads the QR code")
    image = pdfium.PdfDocument(document)[0].render(scale=3).to_pil()
    return [code.text for code in zxing.read_barcodes(image)]


def pdf_text(document: bytes) -> str:
    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(document)).pages)


def test_art7_to_10_a_filing_from_the_portal_to_a_certificate_verified_by_its_qr_code(
    site: LiveSite, people: People
) -> None:
    clerk_login = site.account("clerk", Role.WINDOW_CLERK)
    documents = {item: pdf(f"金水科创中心:{item}") for item in DESIGN_ITEMS}

    # The applicant files with every document and keeps the receipt.
    page = people()
    file_on_the_portal(page, site, documents)
    case = received(page)
    assert case.receipt.startswith("BA")
    assert len(case.code) >= 8

    # The clerk finds it in her queue and looks at the documents one by one.
    clerk = people()
    console_login(clerk, site, clerk_login)
    open_from_queue(clerk, site, "filing-queue", case.receipt)
    assert "剩余 5 个工作日" in clerk.locator("#deadline").inner_text()
    for item, content in documents.items():
        href = clerk.locator(f"#document-{item}").get_attribute("href")
        shown = clerk.context.request.get(f"{site.console}{href}")
        assert (shown.status, shown.body()) == (200, content), item

    # Two documents are not in the legal form: one notice lists both, with the reasons.
    for item, (_, reason) in DEFECTIVE.items():
        clerk.locator(f"#decision-{item}-defective").check()
        clerk.locator(f"#reason-{item}").fill(reason)
    with clerk.expect_navigation():
        clerk.locator("#issue-notice").click()
    assert clerk.locator("#status").inner_text() == "待补正"
    notice = clerk.locator("#last-notice li")
    assert notice.count() == 2
    for shown_item, (_, reason) in zip(notice.all_inner_texts(), DEFECTIVE.values(), strict=True):
        assert reason in shown_item

    # The applicant sees every item of the notice, each with its reason.
    track(page, site, case)
    items = page.locator(".notice-items li")
    reload_until(page, lambda: items.count() == 2, what="the supplement notice")
    texts = items.all_inner_texts()
    for text, (name, reason) in zip(texts, DEFECTIVE.values(), strict=True):
        assert name in text
        assert "不符合法定形式" in text
        assert reason in text

    # The applicant uploads the corrected documents on the tracking page; the internal side
    # checks the query code again and a new review period starts.
    for item in DEFECTIVE:
        corrected = pdf(f"金水科创中心:{item}:corrected")
        page.locator(f"input[type=file]#{item}").set_input_files(
            FilePayload(name=f"{item}.pdf", mimeType="application/pdf", buffer=corrected)
        )
    with page.expect_navigation():
        page.locator("#resubmission-submit").click()
    assert "补正材料已提交" in page.locator("main").inner_text()

    # The clerk finds the materials complete now and issues the certificate.
    clerk.reload()
    reload_until(clerk, lambda: clerk.locator("#issue-certificate").count() == 1)
    with clerk.expect_navigation():
        clerk.locator("#issue-certificate").click()
    number = clerk.locator("#certificate-number").inner_text().strip()
    assert NUMBER.fullmatch(number), number
    staff_pdf = f"{site.console}/api/v1/filings/{case.receipt}/certificate.pdf"
    staff_copy = clerk.context.request.get(staff_pdf)
    assert staff_copy.status == 200
    assert staff_copy.headers["content-type"] == "application/pdf"

    # The applicant downloads the certificate from tracking ...
    download_link = page.locator("#certificate-download")
    reload_until(page, lambda: download_link.count() == 1, what="the certificate's download")
    with page.expect_download() as downloading:
        download_link.click()
    document = downloading.value.path().read_bytes()
    assert document.startswith(b"%PDF-")
    assert number in pdf_text(document)

    # ... and the QR code on it opens the verification page, which says: valid.
    (address,) = qr_codes(document)
    assert address == f"{site.portal}/verify/{quote(number, safe='')}"
    phone = people(PHONE)
    phone.goto(address)
    verdict = phone.locator("#verdict")
    assert "有效" in verdict.inner_text()
    assert "verdict-valid" in (verdict.get_attribute("class") or "")
    assert "金水科创中心" in phone.locator("main").inner_text()
    assert "郑州市示范置业有限公司" in phone.locator("main").inner_text()
