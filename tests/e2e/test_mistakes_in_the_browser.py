"""Mistakes a person makes on the portal, in the browser: a required field left empty, a
unified social credit code with a wrong check character, a file larger than allowed, a wrong
query code. Each time the form says what is wrong next to the field (``id="error-<field>"``,
tied to the field by ``aria-describedby`` and marked ``aria-invalid``), keeps what was typed,
and nothing is stored: the public side hands nothing to intake.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.e2e.drive import attach, fill, go_on
from tests.e2e.live import MAX_FILE_BYTES, LiveSite
from tests.e2e.scenarios import DESIGN_ITEMS, file_online, pdf
from tests.support import credit_code

if TYPE_CHECKING:
    from playwright.sync_api import Page

PROJECT = {
    "kind": "design",
    "project_name": "金水科创中心",
    "project_address": "金水区花园路 66 号",
    "district": "金水区",
}
ORGANISATION = {
    "organisation_name": "郑州市示范置业有限公司",
    "credit_code": credit_code("金水科创中心"),
    "contact_name": "张伟",
    "contact_phone": "13812345678",
}


def assert_told_next_to(page: Page, field: str, *words: str) -> str:
    """The error shown beside ``field``, read out with it; its text."""
    error = page.locator(f"#error-{field}")
    assert error.is_visible(), f"no error shown for {field}"
    text = error.inner_text()
    for word in words:
        assert word in text, text
    control = page.locator(f"#{field}")
    assert f"error-{field}" in (control.get_attribute("aria-describedby") or "").split()
    assert control.get_attribute("aria-invalid") == "true"
    return text


def test_an_empty_required_field_is_named_beside_it_and_the_rest_is_kept(
    site: LiveSite, page: Page
) -> None:
    before = site.submissions
    page.goto(f"{site.portal}/file")
    fill(page, {**PROJECT, "project_address": ""})
    go_on(page)

    assert page.url.endswith("/file/1") or page.url.endswith("/file")
    assert_told_next_to(page, "project_address", "工程地址")
    assert page.locator(".error-summary a[href='#project_address']").count() == 1
    assert page.locator("#project_name").input_value() == "金水科创中心"
    assert page.locator("#kind-design").is_checked()
    assert page.locator("#district").input_value() == "金水区"
    assert site.submissions == before


def test_a_credit_code_with_a_wrong_check_character_is_refused_as_typed(
    site: LiveSite, page: Page
) -> None:
    before = site.submissions
    valid = ORGANISATION["credit_code"]
    mistyped = valid[:-1] + ("0" if valid[-1] != "0" else "1")
    page.goto(f"{site.portal}/file")
    fill(page, PROJECT)
    go_on(page)
    fill(page, {**ORGANISATION, "credit_code": mistyped})
    go_on(page)

    assert_told_next_to(page, "credit_code", "校验码不正确")
    assert page.locator("#credit_code").input_value() == mistyped
    assert page.locator("#organisation_name").input_value() == "郑州市示范置业有限公司"
    assert page.locator("#contact_phone").input_value() == "13812345678"
    assert site.submissions == before


def test_a_file_larger_than_allowed_is_refused_and_the_other_files_are_kept(
    site: LiveSite, page: Page
) -> None:
    before = site.submissions
    page.goto(f"{site.portal}/file")
    fill(page, PROJECT)
    go_on(page)
    fill(page, ORGANISATION)
    go_on(page)
    files = {item: (f"{item}.pdf", pdf(item)) for item in DESIGN_ITEMS}
    files["fire_design_documents"] = ("图纸.pdf", pdf("图纸", size=MAX_FILE_BYTES + 1))
    attach(page, files)
    go_on(page)

    assert page.url.endswith("/file/3"), page.url
    assert_told_next_to(page, "fire_design_documents", "消防设计文件", "文件太大", "0.5 MB")
    # The good files stay chosen on the server; only the large one must be chosen again.
    for item in DESIGN_ITEMS:
        if item != "fire_design_documents":
            assert f"{item}.pdf" in page.locator(f"#hint-{item}").inner_text()
    assert page.locator("#hint-fire_design_documents").count() == 0
    assert site.submissions == before


def test_a_wrong_query_code_opens_nothing_and_says_so_beside_the_code(
    site: LiveSite, page: Page
) -> None:
    case = file_online(site)
    wrong = case.code[:-1] + ("A" if case.code[-1] != "A" else "B")
    before = site.submissions
    page.goto(f"{site.portal}/track")
    fill(page, {"receipt_number": case.receipt, "query_code": wrong})
    go_on(page)

    assert_told_next_to(page, "query_code", "查询码不正确")
    assert page.locator("#receipt_number").input_value() == case.receipt
    assert page.locator("#query_code").input_value() == wrong
    assert "郑州市示范置业有限公司" not in page.content()
    assert "/track/" not in page.url
    assert site.submissions == before
