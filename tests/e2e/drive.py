"""How the browser tests use the pages, as a person does: by labelled fields (each input's
``id`` is its field name; radio buttons are ``<name>-<value>``), the forms' buttons, and what
the pages show. Portal: step-by-step forms, the receipt, tracking. Console: login (with the
one-time code where the role needs it), the work queues, a case's page.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from tests.e2e.live import LiveSite, StaffLogin
from tests.e2e.scenarios import Case, pdf
from tests.support import credit_code

if TYPE_CHECKING:
    from playwright.sync_api import Page


def fill(page: Page, values: Mapping[str, str | bool]) -> None:
    """Type, choose or tick each field as its kind of control asks."""
    for name, value in values.items():
        field = page.locator(f"#{name}")
        kind = field.evaluate("e => e.tagName === 'INPUT' ? e.type : e.tagName.toLowerCase()")
        if kind == "select":
            field.select_option(str(value))
        elif kind == "fieldset":  # a group of radio buttons
            page.locator(f"#{name}-{value}").check()
        elif kind == "checkbox":
            field.set_checked(bool(value))
        else:
            field.fill(str(value))


def attach(page: Page, files: dict[str, tuple[str, bytes]]) -> None:
    """Choose a file for each upload field (field name -> file name and content)."""
    types = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg"}
    for name, (file_name, content) in files.items():
        media_type = types.get(file_name[file_name.rfind(".") :], "application/octet-stream")
        page.locator(f"#{name}").set_input_files(
            files={"name": file_name, "mimeType": media_type, "buffer": content}
        )


def go_on(page: Page) -> None:
    """Press the form's main button (下一步 / 确认提交 / 查询 ...) and wait for the answer."""
    with page.expect_navigation():
        page.locator("main form .actions button[type=submit]").first.click()


def received(page: Page) -> Case:
    """The receipt number and the query code on the confirmation page (shown once)."""
    receipt = page.locator("#receipt-number").inner_text().strip()
    code = page.locator("#query-code").inner_text().strip()
    assert re.fullmatch(r"(BA|YY)\d{8}[A-Z]{6}", receipt), receipt
    return Case(receipt, code)


def track(page: Page, site: LiveSite, case: Case) -> None:
    """Open the tracking page of ``case`` with its query code."""
    page.goto(f"{site.portal}/track")
    fill(page, {"receipt_number": case.receipt, "query_code": case.code})
    go_on(page)
    assert page.url.endswith(f"/track/{case.receipt}"), page.url


def reload_until(
    page: Page, done: Callable[[], bool], within: float = 20.0, what: str = ""
) -> None:
    """Reload the page until it shows what ``done`` looks for (the bridge is asynchronous)."""
    deadline = time.monotonic() + within
    while not done():
        assert time.monotonic() < deadline, f"the page never showed {what or 'it'}: {page.url}"
        time.sleep(0.2)
        page.reload()


def console_login(page: Page, site: LiveSite, login: StaffLogin) -> None:
    """Log in at the console, with the one-time code when the role asks for one."""
    page.goto(f"{site.console}/console/login")
    fill(page, {"username": login.username, "password": login.password})
    with page.expect_navigation():
        page.locator("#login").click()
    if "/console/login/totp" in page.url:
        fill(page, {"one_time_code": site.one_time_code(login)})
        with page.expect_navigation():
            page.locator("#verify").click()
    assert page.locator("#current-user").is_visible(), f"not logged in: {page.url}"


def open_from_queue(page: Page, site: LiveSite, queue: str, receipt: str) -> None:
    """Find ``receipt`` in one of my work queues (``filing-queue`` or ``booking-queue``),
    waiting for the intake to bring it in, and open it."""
    page.goto(f"{site.console}/console")
    link = page.locator(f"#{queue} a", has_text=receipt)
    reload_until(page, lambda: link.count() == 1, what=f"{receipt} in {queue}")
    with page.expect_navigation():
        link.click()


SCAN = pdf("郑金消检受字〔2026〕第0042号 受理凭证扫描件", size=40_000)


def file_on_the_portal(page: Page, site: LiveSite, documents: dict[str, bytes]) -> None:
    """A design filing through the portal's four steps, every document in ``documents``;
    the confirmation page is open at the end."""
    page.goto(f"{site.portal}/file")
    fill(
        page,
        {
            "kind": "design",
            "project_name": "金水科创中心",
            "project_address": "金水区花园路 66 号",
            "district": "金水区",
        },
    )
    go_on(page)
    fill(
        page,
        {
            "organisation_name": "郑州市示范置业有限公司",
            "credit_code": credit_code("金水科创中心"),
            "contact_name": "张伟",
            "contact_phone": "13812345678",
        },
    )
    go_on(page)
    attach(page, {item: (f"{item}.pdf", content) for item, content in documents.items()})
    go_on(page)
    assert page.url.endswith("/file/4"), page.url
    with page.expect_navigation():
        page.locator("#submit").click()


def book_on_the_portal(page: Page, site: LiveSite) -> tuple[str, str]:
    """Book a pre-opening inspection for the first morning offered; that day and half."""
    page.goto(f"{site.portal}/book")
    fill(page, {"kind": "pre_opening", "district": "金水区"})
    go_on(page)
    # The brigade with jurisdiction over 金水区 is suggested, with its days that have room.
    assert "金水区消防救援大队（建议）" in page.locator("#agency option:checked").inner_text()
    morning = page.locator("input[name=slot][value$=_am]").first
    day, half = str(morning.get_attribute("value")).split("_")
    morning.check()
    go_on(page)
    fill(
        page,
        {
            "organisation_name": "郑州市示范商业管理有限公司",
            "credit_code": credit_code("金水购物中心"),
            "project_name": "金水购物中心",
            "contact_name": "王芳",
            "contact_phone": "13912345678",
            "basis_number": "郑金消检受字〔2026〕第0042号",
        },
    )
    attach(page, {"basis_document": ("受理凭证.pdf", SCAN)})
    go_on(page)
    assert page.url.endswith("/book/4"), page.url
    assert "受理凭证.pdf" in page.locator("main").inner_text()
    with page.expect_navigation():
        page.locator("#submit").click()
    return day, half
