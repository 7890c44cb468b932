"""The applicant's own steps on the portal's tracking page (RULES.md Art. 9, 16): the answer to
an offered half day (accept, another, cancel with a reason) and the documents a supplement
notice asked for, taken with the tracking grant (the query code checked once, never in the
page) and handed over as the JSON API does it, so the importer acts on them inside; errors next
to their field with nothing stored; the steps listed with their status in words."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from api_public.app import create_public_app
from bridge.intake.importer import IntakeImporter
from domain.booking_rules import BookingStatus
from domain.filing import FilingStatus
from tests.integration.bridge_fixtures import (  # noqa: F401 - the fixture
    CLERK,
    INCOMPLETE,
    Installation,
    installation_fixture,
)
from tests.integration.test_applicant_steps import offered
from tests.integration.test_public_pages import (  # noqa: F401 - the fixtures
    PDF,
    PNG,
    Page,
    checked,
    error_next_to,
    importer_fixture,
    nothing_submitted,
    portal_fixture,
    track,
)

PERMIT = "construction_permit"


def intake_files(installation: Installation) -> int:
    return len(list(installation.settings.intake_inbox.glob("*.intake")))


def post(portal: TestClient, url: str, **kwargs: object) -> Response:
    answer: Response = portal.post(url, follow_redirects=False, **kwargs)
    return answer


def followed(portal: TestClient, answer: Response, receipt: str) -> Response:
    """The 303 back to the tracking page, and that page."""
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/track/{receipt}"
    page: Response = portal.get(answer.headers["location"])
    return page


def noticed(installation: Installation) -> tuple[str, str]:
    """A filing whose construction permit a supplement notice asks for; receipt and code."""
    receipt, code = installation.file(materials=INCOMPLETE)
    installation.platform.services.filings.issue_supplement_notice(
        CLERK, receipt, [{"item": PERMIT, "problem": "missing", "reason": "未提供施工许可证"}]
    )
    installation.cross()
    return receipt, code


def test_art16_the_offered_half_day_is_accepted_on_the_tracking_page(
    installation: Installation, portal: TestClient, importer: IntakeImporter
) -> None:
    desks, receipt, code = offered(installation)
    page = checked(track(portal, receipt, code))
    for choice in ("answer-accept", "answer-another", "answer-cancel", "reason"):
        assert choice in page.ids
    assert "2026年11月27日（星期五）上午" in track(portal, receipt, code).text
    assert all(c.get("value") != code for c in page.controls)  # the code stays server-side

    sent = post(portal, f"/track/{receipt}/answer", data={"answer": "accept"})
    after = followed(portal, sent, receipt)

    checked(after)
    assert "您的答复已提交（编号 DF" in after.text
    assert "内网处理后此处更新" in after.text
    assert "已提交，等待内网处理" in after.text
    assert "answer-accept" not in Page.parsed(after.text).ids  # not answered twice
    assert "您的答复已提交（编号" not in portal.get(f"/track/{receipt}").text  # shown once
    assert intake_files(installation) == 1

    assert importer.step() == 1
    installation.cross()

    assert desks.bookings.load(receipt).status is BookingStatus.SCHEDULED
    accepted = checked(portal.get(f"/track/{receipt}"))
    text = portal.get(f"/track/{receipt}").text
    assert "已确认" in text
    assert "已处理" in text
    assert "answer-accept" not in accepted.ids


def test_art16_the_applicant_cancels_on_the_tracking_page_with_a_reason(
    installation: Installation, portal: TestClient, importer: IntakeImporter
) -> None:
    desks, receipt, code = offered(installation)
    track(portal, receipt, code)

    sent = post(portal, f"/track/{receipt}/answer", data={"answer": "cancel", "reason": "开业推迟"})
    followed(portal, sent, receipt)
    importer.step()
    installation.cross()

    booking = desks.bookings.load(receipt)
    assert booking.status is BookingStatus.CANCELLED
    assert "开业推迟" in portal.get(f"/track/{receipt}").text  # 取消原因, on tracking


def test_art16_an_answer_not_chosen_is_named_next_to_it_with_the_reason_kept_nothing_stored(
    installation: Installation, portal: TestClient
) -> None:
    _, receipt, code = offered(installation)
    track(portal, receipt, code)

    refused = post(portal, f"/track/{receipt}/answer", data={"reason": "仍在装修"})

    assert refused.status_code == 422
    page = checked(refused)
    error_next_to(page, "answer")
    assert "请选择您的答复" in refused.text
    assert "仍在装修</textarea>" in refused.text
    assert nothing_submitted(installation)


def test_art16_a_second_answer_while_the_first_waits_is_refused(
    installation: Installation, portal: TestClient
) -> None:
    _, receipt, code = offered(installation)
    track(portal, receipt, code)
    followed(portal, post(portal, f"/track/{receipt}/answer", data={"answer": "accept"}), receipt)

    again = post(portal, f"/track/{receipt}/answer", data={"answer": "cancel"})

    assert again.status_code == 409
    checked(again)
    assert "正在等待内网处理" in again.text
    assert intake_files(installation) == 1


def test_a_step_refused_on_import_is_listed_with_its_reason(
    installation: Installation, portal: TestClient, importer: IntakeImporter
) -> None:
    """Accepted online, imported only after the half day began: refused inside, said why."""
    _, receipt, code = offered(installation)
    track(portal, receipt, code)
    followed(portal, post(portal, f"/track/{receipt}/answer", data={"answer": "accept"}), receipt)
    installation.clock.advance(days=4)

    importer.step()
    installation.cross()

    page = track(portal, receipt, code)
    checked(page)
    assert "未通过接收检查：" in page.text
    assert "所回复的检查时段已过" in page.text
    assert "answer-accept" in Page.parsed(page.text).ids  # may answer again: another


def test_art9_the_documents_a_notice_asked_for_are_uploaded_on_the_tracking_page(
    installation: Installation, portal: TestClient, importer: IntakeImporter
) -> None:
    receipt, code = noticed(installation)
    page = checked(track(portal, receipt, code))
    assert page.ids[PERMIT]["type"] == "file"
    assert PERMIT in page.labelled
    assert "施工许可证" in track(portal, receipt, code).text

    sent = post(
        portal,
        f"/track/{receipt}/resubmission",
        files={PERMIT: ("施工许可证.pdf", PDF, "application/pdf")},
    )
    after = followed(portal, sent, receipt)

    checked(after)
    assert "补正材料已提交（编号 BZ" in after.text
    assert PERMIT not in Page.parsed(after.text).ids  # not sent twice
    assert importer.step() == 1
    installation.cross()
    filing = installation.platform.services.filings.load(receipt)
    assert filing.status is FilingStatus.RECEIVED
    assert filing.materials[PERMIT]["document"] == "sha256:" + hashlib.sha256(PDF).hexdigest()
    assert "已处理" in portal.get(f"/track/{receipt}").text


@pytest.mark.parametrize(
    ("files", "status", "said"),
    [
        ({PERMIT: ("施工许可证.pdf", PNG, "application/pdf")}, 415, "扩展名与内容不符"),
        ({PERMIT: ("施工许可证.pdf", PDF * 10, "application/pdf")}, 413, "文件太大"),
        ({}, 422, "请选择要补正的材料文件"),
    ],
    ids=["png-named-pdf", "too-large", "none-chosen"],
)
def test_art9_a_refused_document_is_named_next_to_its_input_and_nothing_is_stored(
    installation: Installation,
    portal: TestClient,
    files: dict[str, tuple[str, bytes, str]],
    status: int,
    said: str,
) -> None:
    receipt, code = noticed(installation)
    track(portal, receipt, code)
    intake = installation.public.backend.intake
    assert intake is not None
    intake.max_file_bytes = len(PDF) * 2

    refused = post(portal, f"/track/{receipt}/resubmission", files=files or None, data={"none": ""})

    assert refused.status_code == status, refused.text
    page = checked(refused)
    error_next_to(page, PERMIT)
    assert said in refused.text
    assert nothing_submitted(installation)
    assert installation.platform.services.filings.load(receipt).status is (
        FilingStatus.AWAITING_SUPPLEMENT
    )


def test_without_the_tracking_grant_the_step_forms_go_to_the_tracking_form(
    installation: Installation, portal: TestClient
) -> None:
    _, booking, code = offered(installation)
    filing, _ = noticed(installation)
    with TestClient(create_public_app(installation.public.backend)) as stranger:
        for url, kwargs in (
            (f"/track/{booking}/answer", {"data": {"answer": "cancel"}}),
            (
                f"/track/{filing}/resubmission",
                {"files": {PERMIT: ("a.pdf", PDF, "application/pdf")}},
            ),
        ):
            sent = post(stranger, url, **kwargs)
            assert (sent.status_code, sent.headers["location"]) == (303, "/track")
    track(portal, booking, code)  # a grant for the booking is no grant for the filing
    other = post(portal, f"/track/{filing}/resubmission", files={PERMIT: ("a.pdf", PDF, "x")})
    from_elsewhere = post(
        portal,
        f"/track/{booking}/answer",
        data={"answer": "cancel"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )

    assert other.headers["location"] == "/track"
    assert from_elsewhere.headers["location"] == "/track"
    assert nothing_submitted(installation)


def test_art9_a_step_the_case_no_longer_waits_for_is_refused_on_the_page(
    installation: Installation, portal: TestClient
) -> None:
    """A form left open after the window acted (here: no notice at all) posts into a case that
    is not waiting for it: said on the page, nothing handed over."""
    receipt, code = installation.file()
    installation.cross()
    track(portal, receipt, code)

    late = post(portal, f"/track/{receipt}/resubmission", files={PERMIT: ("a.pdf", PDF, "x")})

    assert late.status_code == 409
    checked(late)
    assert "不在等待此项操作的阶段" in late.text
    assert nothing_submitted(installation)
