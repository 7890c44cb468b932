"""The rest of the window's day in the staff console (issue 5), driven through the forms as a
browser would: a filing outside the agency's jurisdiction referred to the competent agency
(Art. 8), a filing withdrawn at the applicant's written request, the permit issued on the spot
against the applicant's signed commitment on the notice-and-commitment route (告知承诺, Fire
Protection Law Art. 15) with the commitment uploaded, a booking cancelled at the applicant's
request; and the document view opening every document a case's history names (a signed
commitment, materials a resubmission replaced) for those who may read the case, and nobody else.

Each action: done, refused to a role or an agency that may not do it (the form not even shown),
an error next to its field with what was typed kept, and nothing recorded or stored on error.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from api_internal.app import create_app
from deployment.bootstrap import Platform
from domain.actor import Actor, Role
from domain.filing import Material, NoticeItem
from projections.internal.document_references import DocumentReference, DocumentReferences
from tests.booking_support import booking_input
from tests.integration.api_fixtures import (  # noqa: F401 - fixtures are used by name
    clock_fixture,
    head,
    platform_fixture,
)
from tests.integration.test_staff_pages import (  # noqa: F401 - the site fixture by name
    ERQI,
    JINSHUI,
    PDF,
    Desk,
    FormDefaults,
    assert_accessible_page,
    at,
    error_of,
    hidden,
    site_fixture,
)
from tests.support import Clock, document, filing_input, materials

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # a photographed commitment
SIGNED = b"%PDF-1.7\n% the applicant's signed commitment\n%%EOF\n"


def ids(html: str) -> set[str]:
    return set(re.findall(r'\sid="([^"]+)"', html))


def stored(platform: Platform) -> list[str]:
    """The files of the internal document store, sealed ones included (none before anything
    is kept)."""
    documents: Path = platform.settings.documents_dir
    return sorted(p.name for p in documents.rglob("*") if p.is_file())


def row_of(platform: Platform, receipt: str, clock: Clock) -> dict[str, Any]:
    platform.projector.catch_up()
    found = (
        platform.booking_queries.booking(receipt, clock.now)
        if receipt.startswith("YY")
        else platform.queries.filing(receipt, clock.now)
    )
    assert found is not None
    return found


# -- Art. 8: referral for lack of jurisdiction -------------------------------------------------


def test_art8_a_filing_outside_the_jurisdiction_is_referred_naming_the_competent_agency(
    site: Platform, clock: Clock
) -> None:
    clerk = Desk(site, clock, "erqi-clerk", Role.WINDOW_CLERK, ERQI)
    erqi_head = Desk(site, clock, "erqi-head", Role.DEPT_HEAD, ERQI)
    jinshui = Desk(site, clock, "jinshui-clerk", Role.WINDOW_CLERK)
    receipt = site.services.filings.submit(clerk.actor, **filing_input(agency=ERQI))
    page = f"/console/filings/{receipt}"

    shown = clerk.get(page)
    assert_accessible_page(shown)
    assert "由郑州市金水区消防救援大队管辖" in shown.text
    assert 'id="competent_agency" value="郑州市金水区消防救援大队" readonly' in shown.text
    # Only the window refers, and only its own agency's filings.
    assert "refer" not in ids(erqi_head.get(page).text)
    before = head(site)
    form = FormDefaults(shown.text, f"{page}/refer").values
    assert erqi_head.client.post(f"{page}/refer", data=form).status_code == 403
    assert "无权" in jinshui.client.post(f"{page}/refer", data=form).text
    assert head(site) == before

    done = clerk.post(f"{page}/refer", {}, page)
    assert done.headers["location"] == f"{page}?done=refer"
    row = row_of(site, receipt, clock)
    assert (row["status"], row["result"]) == ("referred", {"competent_agency": JINSHUI})
    after = clerk.get(done.headers["location"]).text
    assert "已不予受理，并告知申请人向有管辖权的机构申请" in after
    assert "郑州市金水区消防救援大队（已告知申请人向其申请）" in after
    assert not {"refer", "issue-certificate", "withdraw"} & ids(after)


def test_art8_the_competent_agency_sees_no_referral_and_a_stale_page_refers_nothing(
    site: Platform, clock: Clock
) -> None:
    jinshui = Desk(site, clock, "clerk", Role.WINDOW_CLERK)
    own = site.services.filings.submit(jinshui.actor, **filing_input())
    assert "refer" not in ids(jinshui.get(f"/console/filings/{own}").text)

    clerk = Desk(site, clock, "erqi-clerk", Role.WINDOW_CLERK, ERQI)
    receipt = site.services.filings.submit(clerk.actor, **filing_input(agency=ERQI))
    page = f"/console/filings/{receipt}"
    stale = clerk.get(page).text
    # Meanwhile: a notice, and the applicant's resubmission puts the filing back for review.
    items = [NoticeItem(item="construction_permit", problem="defective", reason="复印件不清晰")]
    site.services.filings.issue_supplement_notice(clerk.actor, receipt, items)
    intake = Actor.system(ERQI, "intake")
    site.services.filings.resubmit(intake, receipt, materials(version="2"))
    before = head(site)
    refused = clerk.client.post(
        f"{page}/refer",
        data={"csrf_token": hidden(stale, "csrf_token"), "version": hidden(stale, "version")},
    )
    assert refused.status_code == 409
    assert "已被他人修改" in error_of(refused.text, "form-refer")
    assert_accessible_page(refused)
    assert head(site) == before
    assert row_of(site, receipt, clock)["status"] == "received"


# -- withdrawal at the applicant's written request ----------------------------------------------


def test_a_filing_is_withdrawn_at_the_applicants_written_request_with_the_reason(
    site: Platform, clock: Clock
) -> None:
    clerk = Desk(site, clock, "clerk", Role.WINDOW_CLERK)
    handler = Desk(site, clock, "handler", Role.HANDLER)
    receipt = site.services.filings.submit(clerk.actor, **filing_input())
    items = [NoticeItem(item="construction_permit", problem="missing", reason="未提交")]
    site.services.filings.issue_supplement_notice(clerk.actor, receipt, items)
    page = f"/console/filings/{receipt}"
    action = f"{page}/withdraw"

    # Awaiting the supplement, the window still records a withdrawal; a handler cannot.
    assert "withdraw" in ids(clerk.get(page).text)
    assert "withdraw" not in ids(handler.get(page).text)
    before = head(site)
    form = FormDefaults(clerk.get(page).text, action).values | {"withdrawal_reason": "不再建设"}
    assert handler.client.post(action, data=form).status_code == 403

    empty = clerk.post(action, {"withdrawal_reason": "  "}, page, 422)
    assert "撤回理由" in error_of(empty.text, "withdrawal_reason")
    assert 'aria-describedby="error-withdrawal_reason" aria-invalid="true"' in empty.text
    assert_accessible_page(empty)
    too_long = "项目取消" * 126
    long = clerk.post(action, {"withdrawal_reason": too_long}, page, 422)
    assert "500" in error_of(long.text, "withdrawal_reason")
    assert too_long in long.text  # what was typed stays
    assert head(site) == before

    done = clerk.post(action, {"withdrawal_reason": "建设单位书面申请：项目取消"}, page)
    assert done.headers["location"] == f"{page}?done=withdraw"
    assert row_of(site, receipt, clock)["status"] == "withdrawn"
    after = clerk.get(done.headers["location"]).text
    assert "已按申请人的书面申请撤回备案" in after
    assert "withdraw" not in ids(after)
    history = clerk.get(f"/console/cases/{receipt}/history").text
    assert "撤回备案" in history
    assert "建设单位书面申请：项目取消" in history


# -- 告知承诺: the permit on the spot against the signed commitment ----------------------------


def permit(
    desk: Desk, page: str, data: dict[str, Any], file: tuple[str, bytes] | None, status: int
) -> httpx.Response:
    """The permit form sent as a browser sends it: multipart, with the chosen file (an empty
    part named "" when none was chosen)."""
    form = FormDefaults(desk.get(page).text, f"{page}/permit").values
    form.pop("commitment_document", None)
    name, content = file or ("", b"")
    response: httpx.Response = desk.client.post(
        f"{page}/permit",
        data=form | data,
        files={"commitment_document": (name, content, "application/octet-stream")},
    )
    assert response.status_code == status, response.text
    return response


def test_notice_commitment_the_window_issues_the_permit_on_the_spot_against_the_upload(
    site: Platform, clock: Clock
) -> None:
    clerk = Desk(site, clock, "clerk", Role.WINDOW_CLERK)
    handler = Desk(site, clock, "handler", Role.HANDLER)
    erqi = Desk(site, clock, "erqi-clerk", Role.WINDOW_CLERK, ERQI)
    receipt = site.services.bookings.request(
        clerk.actor, **booking_input(route="notice_commitment")
    )
    page = f"/console/bookings/{receipt}"

    shown = clerk.get(page)
    assert_accessible_page(shown)
    assert {"department", "commitment_document", "issue-permit", "reject"} <= ids(shown.text)
    assert "forward" not in ids(shown.text)  # this route issues the permit, never forwards
    assert 'enctype="multipart/form-data"' in shown.text

    # Nothing chosen and no department: both said at once, next to their fields.
    before = head(site)
    empty = permit(clerk, page, {"department": ""}, None, 422)
    assert "承办科室或大队" in error_of(empty.text, "department")
    assert "请选择申请人签署的告知承诺书" in error_of(empty.text, "commitment_document")
    assert_accessible_page(empty)
    # Judged by content, not by name; the department typed stays.
    typed = {"department": "防火监督科"}
    script = permit(clerk, page, typed, ("承诺书.pdf", b"<script>alert(1)</script>"), 422)
    assert "只接收 PDF、JPEG、PNG 或 OFD" in error_of(script.text, "commitment_document")
    assert 'value="防火监督科"' in script.text
    renamed = permit(clerk, page, typed, ("承诺书.pdf", PNG), 422)
    assert "扩展名与其内容（PNG）不符" in error_of(renamed.text, "commitment_document")
    assert (head(site), stored(site)) == (before, [])

    # The handler and another agency's window are refused before anything is stored.
    permit(handler, page, typed, ("承诺书.pdf", SIGNED), 403)
    erqi.get(page, 403)
    outsider = erqi.client.post(
        f"{page}/permit",
        data={"csrf_token": hidden(erqi.get("/console").text, "csrf_token")} | typed,
        files={"commitment_document": ("承诺书.pdf", SIGNED, "application/pdf")},
    )
    assert outsider.status_code == 403
    assert (head(site), stored(site)) == (before, [])

    done = permit(clerk, page, typed, ("告知承诺书.pdf", SIGNED), 303)
    assert done.headers["location"] == f"{page}?done=permit"
    digest = hashlib.sha256(SIGNED).hexdigest()
    assert stored(site) == [digest]
    row = row_of(site, receipt, clock)
    # It bears the applicant's signature: sealed under the booking's own key.
    sealed = site.settings.documents_dir / "sealed" / row["contact_subject"] / digest
    assert SIGNED not in sealed.read_bytes()
    assert (row["status"], row["department"]) == ("forwarded", "防火监督科")
    assert row["permit_issued_at"] is not None
    after = clerk.get(done.headers["location"]).text
    assert "已凭申请人签署的告知承诺书当场作出许可" in after
    assert f'href="/console/documents/{digest}" id="commitment-document"' in after
    assert not {"issue-permit", "cancel-booking"} & ids(after)  # the site check stays

    # The commitment opens for staff who may read the booking, and for nobody else.
    opened = handler.get(f"/console/documents/{digest}")
    assert (opened.content, opened.headers["content-type"]) == (SIGNED, "application/pdf")
    assert "%E5%91%8A%E7%9F%A5%E6%89%BF%E8%AF%BA%E4%B9%A6" in opened.headers["content-disposition"]
    assert "无权查看该文件" in erqi.get(f"/console/documents/{digest}", 403).text
    history = clerk.get(f"/console/cases/{receipt}/history").text
    assert f'<a href="/console/documents/{digest}">查看文件</a>' in history


def test_notice_commitment_a_refused_permit_takes_back_the_file_it_stored(
    site: Platform, clock: Clock
) -> None:
    """Outside the remit the domain refuses only after the file was checked and kept: the
    file goes again, and the window rejects the booking naming the competent agency."""
    clerk = Desk(site, clock, "erqi-clerk", Role.WINDOW_CLERK, ERQI)
    receipt = site.services.bookings.request(
        clerk.actor, **booking_input(agency=ERQI, route="notice_commitment")
    )
    page = f"/console/bookings/{receipt}"
    before = head(site)
    refused = permit(clerk, page, {"department": "防火监督科"}, ("承诺书.png", PNG), 409)
    assert "不属本机构受理范围" in error_of(refused.text, "form-permit")
    assert (head(site), stored(site)) == (before, [])


def test_notice_commitment_a_file_too_large_is_answered_next_to_its_field(
    site: Platform, clock: Clock
) -> None:
    clerk = Desk(site, clock, "clerk", Role.WINDOW_CLERK)
    backend = site.staff_backend()
    backend.max_upload_bytes = 1024
    clerk.client = TestClient(
        create_app(backend), base_url="https://testserver", follow_redirects=False
    )
    receipt = site.services.bookings.request(
        clerk.actor, **booking_input(route="notice_commitment")
    )
    page = f"/console/bookings/{receipt}"
    assert "不超过 1 KB" in clerk.get(page).text
    large = SIGNED + b"0" * 2048
    refused = permit(clerk, page, {"department": "防火监督科"}, ("承诺书.pdf", large), 413)
    assert "文件太大" in error_of(refused.text, "commitment_document")
    assert stored(site) == []
    # A body far beyond the bound is refused before it is read.
    huge = clerk.client.post(f"{page}/permit", content=b"x" * 2 * 1024 * 1024)
    assert huge.status_code == 413


# -- cancellation at the applicant's request ---------------------------------------------------


def test_art16_the_window_records_the_applicants_cancellation_and_frees_the_place(
    site: Platform, clock: Clock
) -> None:
    clerk = Desk(site, clock, "clerk", Role.WINDOW_CLERK)
    handler = Desk(site, clock, "handler", Role.HANDLER)
    head_of = Desk(site, clock, "head", Role.DEPT_HEAD)
    bookings = site.services.bookings
    receipt = bookings.request(clerk.actor, **booking_input())
    bookings.forward(clerk.actor, receipt, "防火监督科")
    bookings.assign(head_of.actor, receipt, handler.actor.actor_id)
    clock.now = at(25, 15)
    bookings.reply_with_slot(handler.actor, receipt, "2026-11-26", "am")
    thursday = date(2026, 11, 26)
    assert bookings.booked_places(JINSHUI, thursday, "am") == [receipt]
    page = f"/console/bookings/{receipt}"
    action = f"{page}/cancel"

    assert "cancel-booking" not in ids(handler.get(page).text)
    assert "cancel-booking" not in ids(head_of.get(page).text)
    before = head(site)
    form = FormDefaults(clerk.get(page).text, action).values | {"cancel_reason": "改期"}
    assert handler.client.post(action, data=form).status_code == 403
    empty = clerk.post(action, {"cancel_reason": ""}, page, 422)
    assert "取消预约的理由" in error_of(empty.text, "cancel_reason")
    assert_accessible_page(empty)
    assert head(site) == before

    reason = "申请人来电：场所装修延期，暂不需要检查"
    done = clerk.post(action, {"cancel_reason": reason}, page)
    assert done.headers["location"] == f"{page}?done=cancel"
    row = row_of(site, receipt, clock)
    assert row["status"] == "cancelled"
    # The applicant's reason, kept sealed for the booking's contact; the console opens it.
    assert site.sealer.open(row["outcome"]["cancel_reason"]) == reason
    assert bookings.booked_places(JINSHUI, thursday, "am") == []
    after = clerk.get(done.headers["location"]).text
    assert "已记录申请人取消预约，所占检查名额已释放" in after
    assert reason in after
    assert "cancel-booking" not in ids(after)


def test_no_cancellation_is_offered_once_the_inspection_half_day_has_begun(
    site: Platform, clock: Clock
) -> None:
    clerk = Desk(site, clock, "clerk", Role.WINDOW_CLERK)
    handler = Desk(site, clock, "handler", Role.HANDLER)
    head_actor = Desk(site, clock, "head", Role.DEPT_HEAD).actor
    bookings = site.services.bookings
    receipt = bookings.request(clerk.actor, **booking_input())
    bookings.forward(clerk.actor, receipt, "防火监督科")
    bookings.assign(head_actor, receipt, handler.actor.actor_id)
    clock.now = at(25, 15)
    bookings.reply_with_slot(handler.actor, receipt, "2026-11-26", "am")
    bookings.accept_slot(clerk.actor, receipt)
    page = f"/console/bookings/{receipt}"
    assert "cancel-booking" in ids(clerk.get(page).text)
    clock.now = at(26, 9)
    assert "cancel-booking" not in ids(clerk.get(page).text)


# -- the document view: every document a case's history names ---------------------------------


def test_a_document_a_resubmission_replaced_still_opens_for_those_who_may_read_the_case(
    site: Platform, clock: Clock
) -> None:
    clerk = Desk(site, clock, "clerk", Role.WINDOW_CLERK)
    other = Desk(site, clock, "erqi-clerk", Role.WINDOW_CLERK, ERQI)
    digest = hashlib.sha256(PDF).hexdigest()
    first = materials()
    first[0] = Material(
        item="application_form", document=f"sha256:{digest}", file_name="申报表（初稿）.pdf",
        size=len(PDF), media_type="application/pdf",
    )  # fmt: skip
    receipt = site.services.filings.submit(clerk.actor, **filing_input(materials=first))
    documents = site.settings.documents_dir
    documents.mkdir(parents=True, exist_ok=True)
    (documents / digest).write_bytes(PDF)
    items = [NoticeItem(item="application_form", problem="defective", reason="未盖章")]
    site.services.filings.issue_supplement_notice(clerk.actor, receipt, items)
    site.services.filings.resubmit(clerk.actor, receipt, materials(version="2"))
    link = f"/console/documents/{digest}"

    page = clerk.get(f"/console/filings/{receipt}").text
    assert "此前提交、已被补正替换的材料" in page
    assert f'消防设计备案申报表：<a href="{link}">查看《申报表（初稿）.pdf》</a>' in page
    assert clerk.get(link).content == PDF
    assert "无权查看该文件" in other.get(link, 403).text

    # Kept by the read model from the events alone: a rebuild finds it again.
    site.projector.rebuild()
    assert clerk.get(link).content == PDF


def test_the_ids_the_browser_tests_drive_are_still_on_the_pages(
    site: Platform, clock: Clock
) -> None:
    clerk = Desk(site, clock, "clerk", Role.WINDOW_CLERK)
    filing = site.services.filings.submit(clerk.actor, **filing_input())
    booking = site.services.bookings.request(clerk.actor, **booking_input())
    on_filing = ids(clerk.get(f"/console/filings/{filing}").text)
    assert {"status", "deadline", "issue-notice", "issue-certificate"} <= on_filing
    item = "application_form"
    assert {f"document-{item}", f"decision-{item}-defective", f"reason-{item}"} <= on_filing
    on_booking = ids(clerk.get(f"/console/bookings/{booking}").text)
    assert {"department", "forward", "reject", "competent_agency"} <= on_booking


def test_the_documents_a_history_names_are_kept_from_events_alone_on_both_engines(
    platform: Platform, clock: Clock
) -> None:
    clerk = Desk(platform, clock, "clerk", Role.WINDOW_CLERK).actor
    filings, bookings = platform.services.filings, platform.services.bookings
    filing = filings.submit(clerk, **filing_input())
    items = [NoticeItem(item="application_form", problem="defective", reason="未盖章")]
    filings.issue_supplement_notice(clerk, filing, items)
    filings.resubmit(clerk, filing, materials(version="2"))
    booking = bookings.request(clerk, **booking_input(route="notice_commitment"))
    bookings.issue_permit_on_commitment(clerk, booking, "防火监督科", document("承诺书"))
    platform.projector.catch_up()
    references = DocumentReferences(platform.queries.store)

    def kept() -> tuple[list[DocumentReference], ...]:
        return references.of_case(filing), references.of_case(booking)

    of_filing, of_booking = kept()
    assert len(of_filing) == 2 * len(materials())  # both rounds, the replaced one first
    assert [(r.part, r.document) for r in of_booking] == [
        ("basis", booking_input()["basis_document"]),
        ("commitment", document("承诺书")),
    ]
    (replaced,) = references.referencing(materials()[0]["document"])
    assert (replaced.case, replaced.receipt_number, replaced.agency) == ("filing", filing, JINSHUI)
    platform.projector.rebuild()
    assert kept() == (of_filing, of_booking)
