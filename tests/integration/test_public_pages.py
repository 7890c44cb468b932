"""The public portal's pages (issue 5; RULES.md Art. 8-16, 29): every page in Chinese with one
h1 and a label for every input; a filing and a booking made through the forms, step by step
with uploads, reach the importer and the window's queue; errors are shown next to their field
with what was typed kept and nothing stored; tracking shows every supplement item, the half day
replied and the certificate's download; verification says valid, withdrawn or unknown in words;
the security headers; the 大字版 that stays on; no personal data without the query code."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from psycopg_pool import ConnectionPool

from api_public.app import create_public_app
from api_public.pages_budgets import DraftLimits
from api_public.pages_catalogue import Operator
from api_public.pages_drafts import PortalDrafts
from bridge.intake.importer import IntakeImporter
from deployment.sides import build_importer
from domain.actor import Actor, Role
from domain.filing import CHECKLISTS, FilingKind
from projections.internal.booking_queries import Task
from projections.public import views
from projections.public.queries import PublicQueries
from projections.store import PostgresViewStore, ViewStore
from tests.integration.bridge_fixtures import (  # noqa: F401 - the fixture
    CLERK,
    Installation,
    installation_fixture,
)
from tests.support import Clock, credit_code, materials, open_account

PDF = b"%PDF-1.7\n" + b"scan " * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"p" * 400
ORGANISATION = "郑州网页申报置业有限公司"
CONTACT, PHONE = "赵敏", "13912345678"
# Passes the public check character (GB 32100) but is a citizen ID: only the domain refuses it.
CITIZEN_ID_AS_CREDIT_CODE = "410105198001010818"
PAGE_CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


@dataclass
class Page(HTMLParser):
    """What the accessibility checks need from a page: its language, headings, controls,
    labels and the ids that errors and hints are referenced by."""

    lang: str | None = None
    headings: list[int] = field(default_factory=list)
    controls: list[dict[str, str]] = field(default_factory=list)
    labelled: set[str] = field(default_factory=set)
    ids: dict[str, dict[str, str]] = field(default_factory=dict)
    inline: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    @classmethod
    def parsed(cls, html: str) -> Page:
        page = cls()
        page.feed(html)
        return page

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = found.get("lang")
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag in {"input", "select", "textarea"}:
            self.controls.append({"tag": tag, **found})
        if tag == "label" and "for" in found:
            self.labelled.add(found["for"])
        if "id" in found:
            self.ids[found["id"]] = {"tag": tag, **found}
        if "style" in found or (tag == "script" and "src" not in found) or tag == "style":
            self.inline.append(tag)


def checked(answer: Response) -> Page:
    """The page, after the checks every portal page must pass (GB/T 37668, WCAG 2.1 AA)."""
    assert answer.headers["content-type"].startswith("text/html")
    page = Page.parsed(answer.text)
    assert page.lang == "zh-CN"
    assert page.headings.count(1) == 1, "exactly one h1"
    assert page.headings[0] == 1
    assert all(b <= a + 1 for a, b in zip(page.headings, page.headings[1:], strict=False))
    for control in page.controls:
        if control.get("type") in {"hidden", "submit", "button"}:
            continue
        assert control.get("id") in page.labelled, f"no label for {control}"
    assert page.inline == [], "no inline script or style (CSP)"
    assert answer.headers["content-security-policy"] == PAGE_CSP
    return page


def error_next_to(page: Page, name: str) -> None:
    """The error sits in ``error-<name>`` and the field points to it."""
    assert f"error-{name}" in page.ids
    assert f"error-{name}" in page.ids[name].get("aria-describedby", "").split()
    assert page.ids[name].get("aria-invalid") == "true"


def value_of(page: Page, name: str) -> str:
    return page.ids[name].get("value", "")


@pytest.fixture(name="portal")
def portal_fixture(installation: Installation) -> Iterator[TestClient]:
    installation.public.backend.clock = installation.clock
    with TestClient(create_public_app(installation.public.backend)) as client:
        yield client


@pytest.fixture(name="importer")
def importer_fixture(installation: Installation) -> IntakeImporter:
    return build_importer(installation.platform, installation.settings)


def nothing_submitted(installation: Installation) -> bool:
    inbox = list(installation.settings.intake_inbox.glob("*.intake"))
    with installation.public.store.reading() as tx:
        pending = tx.fetchall("SELECT receipt_number FROM public_pending")
    return inbox == [] and pending == []


def drafts(installation: Installation) -> int:
    with installation.public.store.reading() as tx:
        row = tx.fetchone("SELECT COUNT(*) AS n FROM portal_drafts")
    return int(row["n"]) if row else 0


def go(portal: TestClient, url: str, data: dict[str, str], **files: Any) -> Response:
    """Post a step and follow its 303, as a browser does; the redirect never carries data."""
    answer = portal.post(url, data=data, files=files or None, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert "?" not in location
    assert CONTACT not in unquote(location)
    assert PHONE not in location
    followed: Response = portal.get(location)
    return followed


STEP_ONE = {
    "kind": "design",
    "project_name": "网页申报大厦",
    "project_address": "金水区花园路 7 号",
    "district": "金水区",
}
STEP_TWO = {
    "organisation_name": ORGANISATION,
    "credit_code": credit_code("pages"),
    "contact_name": CONTACT,
    "contact_phone": PHONE,
}


def design_files() -> dict[str, tuple[str, bytes, str]]:
    return {
        item: (f"{item}.pdf", PDF + item.encode(), "application/pdf")
        for item, (_, required) in CHECKLISTS[FilingKind.DESIGN].items()
        if required
    }


def file_through_the_form(portal: TestClient, **step_two: str) -> tuple[str, str]:
    checked(go(portal, "/file/1", STEP_ONE))
    checked(go(portal, "/file/2", {**STEP_TWO, **step_two}))
    review = go(portal, "/file/3", {}, **design_files())
    checked(review)
    done = go(portal, "/file/4", {})
    checked(done)
    return receipt_of(done), code_of(done)


def receipt_of(answer: Response) -> str:
    found = re.search(r'id="receipt-number" class="code">([A-Z0-9]+)<', answer.text)
    assert found, answer.text
    return found.group(1)


def code_of(answer: Response) -> str:
    found = re.search(r'id="query-code" class="code">([^<]+)<', answer.text)
    assert found, answer.text
    return found.group(1)


def window_filings(installation: Installation) -> list[str]:
    installation.platform.projector.catch_up()
    items = installation.platform.queries.review_queue(None, installation.clock())
    return [item.receipt_number for item in items]


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/guide/filing-design",
        "/guide/filing-completion",
        "/guide/booking-pre_opening",
        "/guide/booking-fire_acceptance",
        "/guide/booking-completion_spot_check",
        "/file",
        "/file?kind=completion",
        "/book",
        "/track",
        "/verify",
        "/results",
        "/search?q=大厦",
        "/submitted/BA20261124ABCDEF",
    ],
)
def test_every_page_is_chinese_with_one_h1_and_a_label_for_every_input(
    portal: TestClient, url: str
) -> None:
    answer = portal.get(url)

    assert answer.status_code == 200
    checked(answer)


def test_the_home_page_guides_each_service_with_who_what_how_long_and_where(
    portal: TestClient,
) -> None:
    home = portal.get("/").text
    for title in ("消防设计备案", "竣工验收消防备案", "消防验收现场检查"):
        assert title in home
    assert 'action="/search"' in home

    guide = portal.get("/guide/filing-completion").text
    assert "工程竣工验收报告" in guide  # what to bring: the domain's checklist
    assert "5 个工作日" in guide  # how long: the domain's review period
    assert "郑州市金水区消防救援大队" in guide
    assert "0371-60000104" in guide
    booking = portal.get("/guide/booking-pre_opening").text
    assert "消防安全检查申请受理凭证" in booking
    assert "2 个工作日" in booking
    assert "10 个工作日" in booking
    assert "20 个工作日" in booking


def test_the_footer_names_the_operator_and_hides_what_is_not_configured(
    installation: Installation, portal: TestClient
) -> None:
    assert "ICP" not in portal.get("/").text
    installation.public.backend.operator = Operator(
        name="郑州市消防救援支队", phone="0371-12345678", icp_number="豫ICP备00000000号-1"
    )

    footer = portal.get("/").text.split('class="site-footer"')[1]

    assert "主办单位：郑州市消防救援支队" in footer
    assert "豫ICP备00000000号-1" in footer
    assert "https://beian.miit.gov.cn/" in footer
    assert "地址：" not in footer
    assert "beian.mps.gov.cn" not in footer


def test_art8_a_filing_made_in_four_steps_with_uploads_reaches_the_window_queue(
    installation: Installation, portal: TestClient, importer: IntakeImporter
) -> None:
    first = checked(portal.get("/file?kind=design"))
    assert first.ids["kind-design"].get("checked") == ""
    second = checked(go(portal, "/file/1", STEP_ONE))
    assert "第 2 步，共 4 步" in portal.get("/file/2").text
    assert second.ids["credit_code"]
    third = checked(go(portal, "/file/2", STEP_TWO))
    assert set(design_files()) <= set(third.ids)  # one upload field per checklist item
    review = go(portal, "/file/3", {}, **design_files())
    checked(review)
    assert ORGANISATION in review.text
    assert "郑州市金水区消防救援大队" in review.text

    done = go(portal, "/file/4", {})

    checked(done)
    receipt, code = receipt_of(done), code_of(done)
    assert receipt.startswith("BA")
    assert code
    assert drafts(installation) == 0  # the draft went with the submission
    assert importer.step() == 1
    assert window_filings(installation) == [receipt]
    filing = installation.platform.services.filings.load(receipt)
    assert filing.agency == "zz-jinshui"
    assert {m["document"] for m in filing.materials.values()} == {
        "sha256:" + hashlib.sha256(content).hexdigest() for _, content, _ in design_files().values()
    }
    # The receipt is shown once: reloading it shows the number, not the code.
    again = portal.get(f"/submitted/{receipt}")
    checked(again)
    assert receipt in again.text
    assert code not in again.text


def test_a_design_filing_moved_to_completion_keeps_only_documents_of_the_new_checklist(
    installation: Installation, portal: TestClient
) -> None:
    go(portal, "/file/1", STEP_ONE)
    go(portal, "/file/2", STEP_TWO)
    go(portal, "/file/3", {}, **design_files())

    go(portal, "/file/1", {**STEP_ONE, "kind": "completion"})

    upload = portal.get("/file/3")
    assert "acceptance_report" in checked(upload).ids  # the completion checklist now
    assert "已上传：application_form.pdf" in upload.text  # on both checklists: kept
    assert "construction_permit.pdf" not in upload.text  # only on the design checklist
    assert portal.get("/file/4", follow_redirects=False).headers["location"] == "/file/3"


def test_an_empty_required_field_is_named_next_to_it_typed_values_kept_nothing_stored(
    installation: Installation, portal: TestClient
) -> None:
    answer = portal.post("/file/1", data={**STEP_ONE, "project_name": "  "})

    assert answer.status_code == 422
    page = checked(answer)
    error_next_to(page, "project_name")
    assert "请填写工程名称" in answer.text
    assert value_of(page, "project_address") == STEP_ONE["project_address"]
    assert page.ids["kind-design"].get("checked") == ""
    assert drafts(installation) == 0
    assert nothing_submitted(installation)


def test_a_wrong_credit_code_is_named_next_to_it_with_what_was_typed_kept(
    installation: Installation, portal: TestClient
) -> None:
    go(portal, "/file/1", STEP_ONE)
    good = STEP_TWO["credit_code"]
    wrong = good[:17] + ("0" if good[17] != "0" else "1")

    answer = portal.post("/file/2", data={**STEP_TWO, "credit_code": wrong})

    assert answer.status_code == 422
    page = checked(answer)
    error_next_to(page, "credit_code")
    assert "校验码不正确" in answer.text
    assert value_of(page, "credit_code") == wrong
    assert value_of(page, "contact_name") == CONTACT
    assert portal.get("/file/3", follow_redirects=False).headers["location"] == "/file/2"
    assert nothing_submitted(installation)


def test_a_file_too_large_is_named_next_to_it_and_the_good_files_are_kept(
    installation: Installation, portal: TestClient
) -> None:
    installation.public.backend.intake.max_file_bytes = 2048  # type: ignore[union-attr]
    go(portal, "/file/1", STEP_ONE)
    go(portal, "/file/2", STEP_TWO)
    files = design_files()
    files["fire_design_documents"] = ("图纸.pdf", PDF + b"0" * 4096, "application/pdf")

    answer = portal.post("/file/3", files=files)

    assert answer.status_code == 413
    page = checked(answer)
    error_next_to(page, "fire_design_documents")
    assert "文件太大" in answer.text
    assert "已上传：application_form.pdf" in answer.text  # no need to choose it again
    assert nothing_submitted(installation)
    assert portal.get("/file/4", follow_redirects=False).headers["location"] == "/file/3"


def test_a_file_of_another_type_is_refused_next_to_it(
    installation: Installation, portal: TestClient
) -> None:
    go(portal, "/file/1", STEP_ONE)
    go(portal, "/file/2", STEP_TWO)
    files = {**design_files(), "application_form": ("申报表.pdf", PNG, "application/pdf")}

    answer = portal.post("/file/3", files=files)

    assert answer.status_code == 422
    error_next_to(checked(answer), "application_form")
    assert "扩展名与内容不符" in answer.text


def test_a_submission_only_the_domain_refuses_shows_its_reason_on_tracking(
    installation: Installation, portal: TestClient, importer: IntakeImporter
) -> None:
    receipt, code = file_through_the_form(portal, credit_code=CITIZEN_ID_AS_CREDIT_CODE)
    importer.step()
    installation.cross()

    page = track(portal, receipt, code)

    assert "未能接收" in page.text
    assert "统一社会信用代码" in page.text  # the domain's reason, in words


def track(portal: TestClient, receipt: str, code: str) -> Response:
    return go(portal, "/track", {"receipt_number": receipt.lower(), "query_code": code})


def test_art9_tracking_shows_every_supplement_item_with_its_reason(
    installation: Installation, portal: TestClient
) -> None:
    receipt, code = installation.file(materials=materials(leave_out=("construction_permit",)))
    installation.platform.services.filings.issue_supplement_notice(
        CLERK,
        receipt,
        [
            {"item": "construction_permit", "problem": "missing", "reason": "未提交施工许可证"},
            {"item": "fire_design_documents", "problem": "defective", "reason": "图纸未盖章"},
        ],
    )
    installation.cross()

    page = track(portal, receipt, code)

    checked(page)
    assert "补正通知（一次告知）" in page.text
    assert "施工许可证复印件" in page.text
    assert "未提交施工许可证" in page.text
    assert "消防设计文件（图纸及设计说明）" in page.text
    assert "图纸未盖章" in page.text
    assert "缺少" in page.text
    assert "不符合法定形式" in page.text
    assert "收到备案材料" in page.text
    assert "出具补正通知" in page.text
    assert "2026年11月24日（星期二） 09:30" in page.text
    assert "郑州测试置业有限公司" in page.text  # the applicant's own details, with the code
    assert "张伟" not in page.text  # the contact person never reached the public side


def test_art29_tracking_shows_the_review_deadline_and_the_certificate_download(
    installation: Installation, portal: TestClient
) -> None:
    receipt, code = installation.file()
    installation.cross()
    received = track(portal, receipt, code).text
    assert "审查期限" in received
    assert "2026年12月1日（星期二）" in received

    number = installation.certify(receipt)
    installation.cross()
    certified = portal.get(f"/track/{receipt}").text  # the grant: reloaded without the code

    assert number in certified
    assert 'href="/api/v1/certificates/' in certified
    assert "/pdf" in certified
    assert "下载备案凭证（PDF）" in certified
    link = Page.parsed(certified).ids["certificate-download"]["href"]
    pdf = portal.get(link)
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")


def test_a_wrong_query_code_is_named_next_to_it_and_shows_nothing(
    installation: Installation, portal: TestClient
) -> None:
    receipt, _ = installation.file()
    installation.cross()

    answer = portal.post("/track", data={"receipt_number": receipt, "query_code": "WRONG-CODE"})

    assert answer.status_code == 403
    page = checked(answer)
    error_next_to(page, "query_code")
    assert value_of(page, "receipt_number") == receipt
    assert value_of(page, "query_code") == "WRONG-CODE"
    assert "郑州测试置业有限公司" not in answer.text
    assert "fg_track" not in answer.headers.get("set-cookie", "")
    unknown = portal.post("/track", data={"receipt_number": "BA20260101AAAAAA", "query_code": "x"})
    assert unknown.status_code == 404
    error_next_to(checked(unknown), "receipt_number")


def test_the_query_code_rate_limit_applies_to_the_tracking_form(
    installation: Installation, portal: TestClient
) -> None:
    receipt, _ = installation.file()
    installation.cross()
    answers = [
        portal.post("/track", data={"receipt_number": receipt, "query_code": f"guess-{n}"})
        for n in range(11)
    ]

    assert [a.status_code for a in answers[:10]] == [403] * 10
    assert answers[10].status_code == 429
    assert "尝试次数过多" in answers[10].text
    error_next_to(checked(answers[10]), "query_code")
    assert int(answers[10].headers["retry-after"]) >= 1


def test_no_personal_data_without_the_query_code(
    installation: Installation, portal: TestClient
) -> None:
    receipt, code = installation.file()
    installation.cross()

    without = portal.get(f"/track/{receipt}")

    checked(without)
    assert "郑州测试置业有限公司" not in without.text
    assert "测试大厦" not in without.text
    assert value_of(Page.parsed(without.text), "receipt_number") == receipt
    track(portal, receipt, code)
    forgotten = portal.post("/track/forget", follow_redirects=False)
    assert forgotten.headers["location"] == "/track"
    assert "郑州测试置业有限公司" not in portal.get(f"/track/{receipt}").text


def publish_days(installation: Installation) -> None:
    installation.platform.publish_availability()
    installation.cross()


BOOKING = {
    "organisation_name": "郑州网页预约商业管理有限公司",
    "credit_code": credit_code("booking-pages"),
    "project_name": "网页预约购物中心",
    "contact_name": CONTACT,
    "contact_phone": PHONE,
    "basis_number": "郑金消检受字〔2026〕第0042号",
}


def book_through_the_form(portal: TestClient) -> tuple[str, str, str]:
    """A pre-opening booking with its scan on the first morning with room."""
    chosen = checked(go(portal, "/book/1", {"kind": "pre_opening", "route": "ordinary",
                                            "district": "金水区"}))  # fmt: skip
    assert chosen.ids["agency"]  # the competent brigade suggested and chosen
    slot = next(i for i in chosen.ids if i.startswith("slot-") and i.endswith("_am"))
    value = slot.removeprefix("slot-")
    third = checked(go(portal, "/book/2", {"slot": value}))
    assert "basis_document" in third.ids
    scan = {"basis_document": ("受理凭证.pdf", PDF, "application/pdf")}
    review = go(portal, "/book/3", BOOKING, **scan)
    checked(review)
    assert "受理凭证.pdf" in review.text
    done = go(portal, "/book/4", {})
    checked(done)
    return receipt_of(done), code_of(done), value


def test_art13_a_booking_on_a_day_with_room_with_its_scan_reaches_the_window(
    installation: Installation, portal: TestClient, importer: IntakeImporter
) -> None:
    publish_days(installation)

    receipt, _, slot = book_through_the_form(portal)

    assert receipt.startswith("YY")
    assert importer.step() == 1
    booking = installation.platform.services.bookings.load(receipt)
    day, half = slot.split("_")
    assert (booking.agency, booking.kind, booking.route) == (
        "zz-jinshui",
        "pre_opening",
        "ordinary",
    )
    assert booking.basis["document"] == "sha256:" + hashlib.sha256(PDF).hexdigest()
    installation.platform.projector.catch_up()
    seen = installation.platform.booking_queries.booking(receipt, installation.clock())
    assert seen is not None
    assert (seen["wished_time"], half) == (f"{day}T09:00+08:00", "am")  # the morning chosen
    assert receipt in window_bookings(installation)


def window_bookings(installation: Installation) -> list[str]:
    items = installation.platform.booking_queries.queue(
        [Task.REVIEW], ["zz-jinshui"], installation.clock()
    )
    return [item.receipt_number for item in items]


def test_art15_another_agency_than_the_competent_one_is_warned_about(
    installation: Installation, portal: TestClient
) -> None:
    publish_days(installation)
    go(portal, "/book/1", {"kind": "pre_opening", "route": "ordinary", "district": "金水区"})

    other = checked(go(portal, "/book/agency", {"agency": "zz-erqi"}))

    assert "没有管辖权" in portal.get("/book/2").text
    assert other.ids["agency"]


def test_art13_a_booking_without_its_scan_is_refused_next_to_the_upload(
    installation: Installation, portal: TestClient
) -> None:
    go(portal, "/book/1", {"kind": "fire_acceptance", "district": "金水区"})
    today = installation.clock().date().isoformat()
    go(portal, "/book/2", {"wished_day": today, "wished_half": "pm"})

    answer = portal.post("/book/3", data=BOOKING)

    assert answer.status_code == 422
    page = checked(answer)
    error_next_to(page, "basis_document")
    assert value_of(page, "organisation_name") == BOOKING["organisation_name"]
    assert nothing_submitted(installation)


def test_art13_a_certificate_issued_here_needs_no_scan_but_must_match(
    installation: Installation, portal: TestClient, importer: IntakeImporter
) -> None:
    receipt, _ = installation.file(kind="completion", materials=materials("completion"))
    number = installation.certify(receipt)
    installation.cross()
    go(portal, "/book/1", {"kind": "completion_spot_check", "district": "金水区"})
    go(portal, "/book/2", {"wished_day": date(2026, 11, 30).isoformat(), "wished_half": "am"})
    mine = {
        **BOOKING,
        "organisation_name": "郑州测试置业有限公司",
        "credit_code": credit_code("org"),
        "project_name": "测试大厦",
        "basis_number": number,
        "basis_on_platform": "1",
    }

    wrong = portal.post("/book/3", data={**mine, "project_name": "别的工程"})
    assert wrong.status_code == 422
    error_next_to(checked(wrong), "basis_number")
    review = go(portal, "/book/3", mine)
    assert "由本平台出具" in review.text
    done = go(portal, "/book/4", {})

    assert importer.step() == 1
    booking = installation.platform.services.bookings.load(receipt_of(done))
    assert booking.basis["on_platform"] is True
    assert booking.basis["document"] == ""


def test_art16_tracking_shows_the_reply_with_the_inspection_half_day(
    installation: Installation, portal: TestClient, importer: IntakeImporter
) -> None:
    publish_days(installation)
    receipt, code, slot = book_through_the_form(portal)
    importer.step()
    platform = installation.platform
    clerk = open_account(platform, "window", Role.WINDOW_CLERK, "zz-jinshui")[0]
    head = open_account(platform, "head", Role.DEPT_HEAD, "zz-jinshui")[0]
    handler: Actor = open_account(platform, "handler", Role.HANDLER, "zz-jinshui")[0]
    platform.services.bookings.forward(clerk, receipt, "防火监督科")
    platform.services.bookings.assign(head, receipt, handler.actor_id)
    day, half = slot.split("_")
    platform.services.bookings.reply_with_slot(handler, receipt, day, half)
    installation.cross()

    page = track(portal, receipt, code)

    checked(page)
    shown = date.fromisoformat(day)
    assert f"{shown.year}年{shown.month}月{shown.day}日" in page.text
    assert "上午" in page.text
    assert "待您确认" in page.text
    for step in ("收到预约申请", "转交承办科室或大队", "指派承办人", "回复检查时间"):
        assert step in page.text
    assert CONTACT not in page.text
    assert PHONE not in page.text


def test_art10_verification_says_valid_withdrawn_or_unknown_in_words(
    installation: Installation, portal: TestClient
) -> None:
    receipt, _ = installation.file()
    number = installation.certify(receipt)
    installation.cross()

    valid = portal.get(f"/verify/{number}")
    assert valid.status_code == 200
    checked(valid)
    assert "有效" in valid.text
    assert "郑州测试置业有限公司" in valid.text
    assert "测试大厦" in valid.text

    approver = Actor("approver-jinshui", Role.APPROVER, "zz-jinshui")
    installation.platform.services.filings.revoke_certificate(approver, receipt, "材料虚假")
    installation.cross()
    withdrawn = portal.get(f"/verify/{number}").text
    assert "已撤销" in withdrawn
    assert "材料虚假" in withdrawn

    unknown = portal.get("/verify/郑金消设备字〔2026〕第9999号")
    assert unknown.status_code == 404
    checked(unknown)
    assert "未找到" in unknown.text
    typed = portal.get("/verify", params={"number": number}, follow_redirects=False)
    assert unquote(typed.headers["location"]) == f"/verify/{number}"


def publish_results(installation: Installation, count: int) -> None:
    publish_results_into(installation.public.store, count)


def publish_results_into(store: ViewStore, count: int) -> None:
    """Published inspection results as the receiver writes them (filing.result_published)."""
    with store.transaction() as tx:
        for n in range(count):
            views.result_published(
                tx,
                1000 + n,
                {
                    "receipt_number": f"BA202611{n:02d}AAAAAA",
                    "published_at": f"2026-11-{1 + n % 28:02d}T10:00:00+08:00",
                    "passed": n % 3 != 0,
                    "findings": [] if n % 3 else ["疏散指示标志损坏"],
                    "kind": "completion" if n % 2 else "design",
                    "certificate_number": f"郑金消竣备字〔2026〕第{n:04d}号",
                    "organisation_name": f"郑州第{n}建设有限公司",
                    "credit_code": credit_code(f"r{n}"),
                    "project_name": f"公示工程{n}号楼",
                    "district": "金水区" if n < 20 else "二七区",
                    "agency": "zz-jinshui" if n < 20 else "zz-erqi",
                    "agency_name": f"郑州市{'金水区' if n < 20 else '二七区'}消防救援大队",
                },
            )


def test_art10_published_results_filter_by_agency_kind_and_outcome_with_paging(
    installation: Installation, portal: TestClient
) -> None:
    publish_results(installation, 25)

    first = portal.get("/results")
    checked(first)
    assert "共 25 条，第 1 / 2 页" in first.text
    assert 'href="/results?page=2"' in first.text
    second = portal.get("/results?page=2")
    assert "第 2 / 2 页" in second.text
    assert second.text.count("<tr>") == 1 + 5
    erqi = portal.get("/results?agency=zz-erqi").text
    assert "共 5 条" in erqi
    failed = portal.get("/results?passed=no&kind=design").text
    assert "共 5 条" in failed
    assert "疏散指示标志损坏" in failed
    assert "✘ 不合格" in failed
    assert "共 25 条" in portal.get("/results?agency=nowhere&page=abc").text
    found = portal.get("/search", params={"q": "公示工程7号"}).text
    assert "郑州第7建设有限公司" in found
    assert "郑州第8建设有限公司" not in found


def test_pages_carry_the_security_headers_and_hsts_only_over_tls(
    installation: Installation, portal: TestClient
) -> None:
    answer = portal.get("/")
    assert answer.headers["content-security-policy"] == PAGE_CSP
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in answer.headers
    assert portal.get("/static/portal.css").headers["x-content-type-options"] == "nosniff"
    with TestClient(
        create_public_app(installation.public.backend), base_url="https://testserver"
    ) as tls:
        secure = tls.get("/")
        assert secure.headers["strict-transport-security"].startswith("max-age=")
        assert secure.headers["content-security-policy"] == PAGE_CSP
        drafted = tls.post("/file/1", data=STEP_ONE, follow_redirects=False)
        cookie = drafted.headers["set-cookie"]
        assert "Secure" in cookie
        assert "HttpOnly" in cookie
        assert "Path=/file" in cookie
    assert portal.get("/api/v1/bridge/status").headers["content-security-policy"] == (
        "default-src 'none'; frame-ancestors 'none'"
    )


def test_large_text_mode_stays_on_across_pages_until_switched_off(portal: TestClient) -> None:
    switched = portal.post("/large-text", data={"back": "/results?page=1"}, follow_redirects=False)
    assert switched.status_code == 303
    assert switched.headers["location"] == "/results?page=1"

    for url in ("/", "/track", "/guide/filing-design"):
        assert '<html lang="zh-CN" class="large-text">' in portal.get(url).text
    assert 'aria-pressed="true"' in portal.get("/").text
    portal.post("/large-text", data={"back": "/"})
    assert '<html lang="zh-CN">' in portal.get("/").text
    elsewhere = portal.post("/large-text", data={"back": "//evil.example/"}, follow_redirects=False)
    assert elsewhere.headers["location"] == "/"


def test_what_anyone_types_is_shown_as_text_never_as_markup(portal: TestClient) -> None:
    answer = portal.get("/search", params={"q": '<script>alert("x")</script>'})

    checked(answer)
    assert "<script>alert" not in answer.text
    assert "&lt;script&gt;alert" in answer.text


def test_a_later_step_cannot_be_opened_first_and_starting_again_forgets_everything(
    installation: Installation, portal: TestClient
) -> None:
    assert portal.get("/file/3", follow_redirects=False).headers["location"] == "/file"
    assert portal.get("/book/4", follow_redirects=False).headers["location"] == "/book"
    go(portal, "/file/1", STEP_ONE)
    go(portal, "/file/2", STEP_TWO)
    go(portal, "/file/3", {}, **design_files())
    with installation.public.store.reading() as tx:
        kept = tx.fetchall("SELECT sealed FROM portal_draft_files")
    assert kept
    assert all(b"%PDF" not in row["sealed"].encode() for row in kept)  # sealed, not clear
    assert drafts(installation) == 1

    portal.post("/file/reset")

    assert drafts(installation) == 0
    with installation.public.store.reading() as tx:
        assert tx.fetchall("SELECT item FROM portal_draft_files") == []
    assert value_of(checked(portal.get("/file")), "project_name") == ""


def test_art16_a_half_day_no_longer_offered_cannot_be_chosen(
    installation: Installation, portal: TestClient
) -> None:
    publish_days(installation)
    go(portal, "/book/1", {"kind": "pre_opening", "route": "ordinary", "district": "金水区"})

    answer = portal.post("/book/2", data={"slot": "2026-11-24_am"})  # this morning has begun

    assert answer.status_code == 422
    page = checked(answer)
    assert "error-slot" in page.ids
    assert "已约满或已开始" in answer.text


@pytest.mark.postgres
def test_drafts_and_the_result_filters_work_on_postgresql(pg_url: str, pg_schema: str) -> None:
    pool = ConnectionPool(
        pg_url, min_size=1, max_size=2, kwargs={"options": f"-c search_path={pg_schema}"}, open=True
    )
    try:
        store = PostgresViewStore(pool)
        with store.transaction() as tx:
            views.ensure_schema(tx)
        clock = Clock()
        drafts = PortalDrafts(store, clock)
        handle = drafts.new("filing", {"fields": {"contact_name": CONTACT}}, 60)
        kept = drafts.put_files(
            handle, "203.0.113.9", {"application_form": PDF}, 10 * len(PDF), DraftLimits()
        )
        assert kept == {}
        assert drafts.load(handle, "filing") == {"fields": {"contact_name": CONTACT}}
        assert drafts.file(handle, "application_form") == PDF
        assert drafts.take(handle, "filing") is not None
        assert drafts.take(handle, "filing") is None  # shown once
        expiring = drafts.new("receipt", {"query_code": "x"}, 60)
        clock.advance(seconds=61)
        assert drafts.load(expiring, "receipt") is None

        publish_results_into(store, 6)
        queries = PublicQueries(store)
        assert queries.inspection_results(passed=False).total == 2
        assert queries.inspection_results(kind="design", text="工程4").total == 1
        assert queries.inspection_results(text="100%").total == 0  # a wildcard typed is text
    finally:
        pool.close()


def test_an_installation_that_takes_no_submissions_says_so_on_the_forms(
    installation: Installation, portal: TestClient
) -> None:
    installation.public.backend.intake = None

    for url in ("/file", "/book"):
        answer = portal.get(url)
        assert answer.status_code == 404
        checked(answer)
        assert "暂不接收网上申报" in answer.text


def test_a_problem_met_by_a_persons_browser_is_a_page_in_chinese_never_json(
    installation: Installation, portal: TestClient
) -> None:
    """An unknown address, or the address-wide request limit, answered to a browser: a page
    with the reason in Chinese under the portal's CSP; the API keeps answering JSON."""
    from api_public.ratelimit import RateLimiter

    html = {"accept": "text/html,application/xhtml+xml"}
    missing = portal.get("/nowhere", headers=html)
    assert (missing.status_code, missing.headers["content-type"][:9]) == (404, "text/html")
    checked(missing)
    assert portal.get("/api/v1/nowhere", headers=html).headers["content-type"] == (
        "application/problem+json"
    )

    installation.public.backend.requests = RateLimiter(1)
    portal.get("/", headers=html)
    limited = portal.get("/results", headers=html)
    assert limited.status_code == 429
    assert limited.headers["retry-after"]
    checked(limited)
    assert "请求过于频繁" in limited.text
