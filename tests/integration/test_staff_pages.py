"""The staff console's pages (issue 5), driven through their forms over HTTP as a browser would:
login with and without the one-time code, the session cookie and its idle timeout, CSRF on
every form, my work with overdue items said in words, the filing review's one supplement notice
and then the certificate, each step of a booking, the document view's permission, the case
history, and what every page must have (one h1, labelled inputs, lang, security headers).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from fastapi.testclient import TestClient

from api_internal import pages_cookies
from api_internal.app import create_app
from deployment.bootstrap import Platform
from domain.actor import Actor, Role
from domain.calendar import SHANGHAI
from domain.filing import Material
from tests.booking_support import booking_input
from tests.integration.api_fixtures import (  # noqa: F401 - fixtures are used by name
    clock_fixture,
    head,
    platform_fixture,
    sessions,
)
from tests.support import PASSWORD, Clock, filing_input, make_platform, open_account, settings_for

JINSHUI, ERQI = "zz-jinshui", "zz-erqi"
SESSION_COOKIE = "__Host-firegov_session"
CSP = "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
PDF = b"%PDF-1.7\n% a scanned application form\n%%EOF\n"


class Page(HTMLParser):
    """What the checks of every page need: headings, inputs, labels, the html lang."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.lang: str | None = None
        self.h1 = 0
        self.controls: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.ids: set[str] = set()
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"] or "")
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "h1":
            self.h1 += 1
        elif tag == "label" and a.get("for"):
            self.label_for.add(a["for"] or "")
        elif tag in {"input", "select", "textarea"} and a.get("type") != "hidden":
            self.controls.append(a)


def assert_accessible_page(response: httpx.Response) -> Page:
    """lang="zh-CN", exactly one h1, every visible control labelled, errors described."""
    assert response.headers["content-type"].startswith("text/html")
    page = Page(response.text)
    assert page.lang == "zh-CN"
    assert page.h1 == 1, response.text
    for control in page.controls:
        assert control.get("id") in page.label_for, control
        described = control.get("aria-describedby")
        if described:
            assert described in page.ids
    assert_security_headers(response, tls=response.url.scheme == "https")
    return page


def assert_security_headers(response: httpx.Response, tls: bool = True) -> None:
    assert response.headers["content-security-policy"].startswith(CSP)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert ("strict-transport-security" in response.headers) is tls


def console_client(platform: Platform, base_url: str = "https://testserver") -> TestClient:
    return TestClient(
        create_app(platform.staff_backend()),
        base_url=base_url,
        follow_redirects=False,
        raise_server_exceptions=False,
    )


class Desk:
    """A member of staff at their own browser: an account, and a client holding its session
    cookie (opened as a login would; the login itself is tested through its form below)."""

    def __init__(
        self, platform: Platform, clock: Clock, username: str, role: Role, agency: str = JINSHUI
    ) -> None:
        self.platform, self.clock = platform, clock
        self.actor, self.secret = open_account(platform, username, role, agency)
        self.client = console_client(platform)
        self.fresh()

    def fresh(self) -> None:
        """A session opened now (the tests' clock jumps by days, past the idle timeout)."""
        self.token = self.platform.sessions.open(self.actor, self.clock.now)
        self.client.cookies.set(SESSION_COOKIE, self.token)

    def get(self, path: str, status: int = 200) -> httpx.Response:
        self.fresh()
        response: httpx.Response = self.client.get(path)
        assert response.status_code == status, response.text
        return response

    def post(
        self, path: str, data: dict[str, Any], page: str | None = None, status: int = 303
    ) -> httpx.Response:
        """Fill in the form of ``page`` that posts to ``path`` and send it as the browser
        would: what the page put in it (CSRF token, case version, checked choices, text),
        with ``data`` typed over it."""
        html = self.get(page or path.rsplit("/", 1)[0]).text
        form = FormDefaults(html, path).values | data
        response: httpx.Response = self.client.post(path, data=form)
        assert response.status_code == status, response.text
        return response


class FormDefaults(HTMLParser):
    """The values a browser would send from the form posting to ``action`` untouched."""

    def __init__(self, html: str, action: str) -> None:
        super().__init__()
        self.action, self.inside = action, False
        self.values: dict[str, Any] = {}
        self.textarea: str | None = None
        self.select: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("action") == self.action
        elif not self.inside or "name" not in a:
            if tag == "option" and self.select and "selected" in a:
                self.values[self.select] = a.get("value", "")
        elif tag == "input" and (a.get("type") not in {"radio", "checkbox"} or "checked" in a):
            name = a["name"]
            if a.get("type") == "checkbox" and name in self.values:
                self.values[name] = [*_listed(self.values[name]), a.get("value", "")]
            else:
                self.values[name] = a.get("value", "")
        elif tag == "textarea":
            self.textarea = a["name"]
            self.values[a["name"]] = ""
        elif tag == "select":
            self.select = a["name"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.values[self.textarea] += data


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found is not None, name
    return found.group(1)


def error_of(html: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="error-{re.escape(field)}">(.*?)</p>', html, re.S)
    assert found is not None, f"no error next to {field}"
    return re.sub(r"<[^>]+>", "", found.group(1))


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture(name="site")
def site_fixture(tmp_path: Path, clock: Clock) -> Iterator[Platform]:
    """The platform on SQLite only: the pages read the same services and read models on both
    engines, and the booking flow below runs on PostgreSQL too."""
    built = make_platform(settings_for(tmp_path), clock)
    try:
        yield built
    finally:
        built.close()


# -- login, the session cookie, logout ---------------------------------------------------------


def login_form(client: TestClient, username: str, password: str = PASSWORD) -> httpx.Response:
    page = client.get("/console/login")
    assert_accessible_page(page)
    data = {"csrf_token": hidden(page.text, "csrf_token"), "next": "/console"}
    response: httpx.Response = client.post(
        "/console/login", data=data | {"username": username, "password": password}
    )
    return response


def test_login_sets_a_host_prefixed_httponly_strict_secure_cookie_holding_an_api_token(
    site: Platform, clock: Clock
) -> None:
    open_account(site, "clerk", Role.WINDOW_CLERK, JINSHUI)
    client = console_client(site)
    assert client.get("/console").headers["location"] == "/console/login?next=%2Fconsole"

    response = login_form(client, "clerk")

    assert (response.status_code, response.headers["location"]) == (303, "/console")
    (cookie,) = [c for c in response.headers.get_list("set-cookie") if "session" in c]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "secure", "path=/", "samesite=strict"} <= attributes
    assert not any(a.startswith("domain") for a in attributes)
    # The cookie holds the API's own opaque token: it works as a bearer token too.
    token = cookie.split(";")[0].split("=", 1)[1]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["username"] == "clerk"
    work = client.get("/console")
    assert "受理窗口" in work.text
    assert_accessible_page(work)


def test_plain_http_uses_an_unprefixed_cookie_on_loopback_only(site: Platform) -> None:
    open_account(site, "clerk", Role.WINDOW_CLERK, JINSHUI)
    local = console_client(site, "http://127.0.0.1:8001")
    response = login_form(local, "clerk")
    (cookie,) = [c for c in response.headers.get_list("set-cookie") if "session" in c]
    assert cookie.startswith("firegov_session=")
    assert "secure" not in cookie.lower()
    assert_security_headers(local.get("/console"), tls=False)

    remote = console_client(site, "http://console.example.org")
    refused = login_form(remote, "clerk")
    assert refused.status_code == 422
    assert "HTTPS" in error_of(refused.text, "form")
    assert len(sessions(site)) == 1  # the loopback one


def test_wrong_password_is_shown_next_to_the_field_and_keeps_the_username(
    site: Platform,
) -> None:
    open_account(site, "clerk", Role.WINDOW_CLERK, JINSHUI)
    client = console_client(site)
    response = login_form(client, "clerk", "wrong-Password-1")
    assert response.status_code == 401
    assert "不正确" in error_of(response.text, "password")
    assert 'value="clerk"' in response.text
    assert "wrong-Password-1" not in response.text
    assert_accessible_page(response)
    empty = login_form(client, "")
    assert (empty.status_code, error_of(empty.text, "username")) == (422, "⚠ 错误：请输入用户名")
    assert not sessions(site)


def test_repeated_failures_lock_the_account_and_the_page_says_so(site: Platform) -> None:
    open_account(site, "clerk", Role.WINDOW_CLERK, JINSHUI)
    client = console_client(site)
    for _ in range(5):
        assert login_form(client, "clerk", "wrong-Password-1").status_code == 401
    locked = login_form(client, "clerk")  # the right password, too late
    assert locked.status_code == 401
    assert "锁定" in error_of(locked.text, "form")
    assert not sessions(site)


def test_a_role_with_a_second_factor_logs_in_through_the_one_time_code_step(
    site: Platform, clock: Clock
) -> None:
    _, secret = open_account(site, "approver", Role.APPROVER, JINSHUI)
    assert secret is not None
    client = console_client(site)
    first = login_form(client, "approver")
    assert (first.status_code, first.headers["location"]) == (303, "/console/login/totp")
    assert not sessions(site)  # no session before the code

    step = client.get("/console/login/totp")
    assert_accessible_page(step)
    csrf = hidden(step.text, "csrf_token")
    wrong = client.post("/console/login/totp", data={"csrf_token": csrf, "one_time_code": "000000"})
    assert wrong.status_code == 401
    assert "不正确" in error_of(wrong.text, "one_time_code")

    code = pyotp.TOTP(secret).at(clock.now)
    csrf = hidden(wrong.text, "csrf_token")
    right = client.post("/console/login/totp", data={"csrf_token": csrf, "one_time_code": code})
    assert (right.status_code, right.headers["location"]) == (303, "/console")
    assert len(sessions(site)) == 1
    assert "审批领导" in client.get("/console").text


def test_logout_ends_the_session_on_the_server_and_clears_the_cookie(
    site: Platform, clock: Clock
) -> None:
    desk = Desk(site, clock, "clerk", Role.WINDOW_CLERK)
    response = desk.post("/console/logout", {}, page="/console")
    assert response.headers["location"] == "/console/login?m=logged_out"
    assert any(
        c.startswith(f"{SESSION_COOKIE}=") and "max-age=0" in c.lower()
        for c in response.headers.get_list("set-cookie")
    )
    assert site.sessions.touch(desk.token, clock.now) is None
    assert "您已安全退出" in desk.client.get("/console/login?m=logged_out").text


def test_idle_timeout_is_shown_and_ends_the_session(site: Platform, clock: Clock) -> None:
    desk = Desk(site, clock, "clerk", Role.WINDOW_CLERK)
    page = desk.get("/console").text
    assert "无操作 30 分钟自动退出" in page
    assert '<span id="session-minutes">29</span>' in page  # the session slides to the minute

    clock.advance(minutes=31)
    response = desk.client.get("/console")
    assert response.headers["location"] == "/console/login?next=%2Fconsole&m=expired"
    login = desk.client.get(response.headers["location"]).text
    assert "会话已结束" in login

    # The ended session's cookie is still in the browser: 大字版 on the login page still works.
    switched = desk.client.post(
        "/console/large-text",
        data={"csrf_token": hidden(login, "csrf_token"), "next": "/console/login"},
    )
    assert switched.status_code == 303


# -- CSRF --------------------------------------------------------------------------------------


def test_a_form_without_or_with_another_csrf_token_is_refused_and_changes_nothing(
    site: Platform, clock: Clock
) -> None:
    desk = Desk(site, clock, "clerk", Role.WINDOW_CLERK)
    receipt = site.services.filings.submit(desk.actor, **filing_input())
    before = head(site)
    path = f"/console/filings/{receipt}/review"
    for token in (None, "0" * 64, pages_cookies.csrf_token("another session")):
        data = {"action": "certificate"} | ({"csrf_token": token} if token else {})
        refused = desk.client.post(path, data=data)
        assert refused.status_code == 403
        assert "表单已失效" in refused.text
        assert_accessible_page(refused)
    assert desk.client.post("/console/logout", data={}).status_code == 403
    assert head(site) == before
    assert len(sessions(site)) == 1

    login = console_client(site).post(
        "/console/login", data={"username": "clerk", "password": PASSWORD}
    )
    assert (login.status_code, "已失效" in error_of(login.text, "form")) == (422, True)


# -- my work -----------------------------------------------------------------------------------


def test_art9_the_queue_says_overdue_in_words_and_sorts_without_script(
    site: Platform, clock: Clock
) -> None:
    desk = Desk(site, clock, "clerk", Role.WINDOW_CLERK)
    first = site.services.filings.submit(desk.actor, **filing_input(project_name="甲楼"))
    clock.now = at(30, 10)  # Monday: the first one is due Tuesday the 1st
    second = site.services.filings.submit(desk.actor, **filing_input(project_name="乙楼"))

    clock.now = at(2, 9, month=12)  # Wednesday: the first one's 5 working days have passed
    desk.fresh()
    page = desk.get("/console")
    assert_accessible_page(page)
    rows = re.findall(
        r"<tr( class=\"overdue\")?>\s*<td[^>]*><a href=\"/console/filings/(\w+)\"", page.text
    )
    assert rows == [(' class="overdue"', first), ("", second)]
    assert "已超期" in page.text
    assert "其中 1 件已超期" in page.text
    assert "剩余 3 个工作日" in page.text  # due Monday the 7th: Thursday, Friday, Monday

    by_receipt = desk.get("/console?sort=receipt").text
    order = re.findall(r'href="/console/filings/(\w+)"', by_receipt)
    assert order == sorted([first, second])
    assert desk.get("/console?sort=nonsense").status_code == 200


# -- filing review -----------------------------------------------------------------------------


def test_art9_filing_review_issues_one_notice_with_every_marked_item_then_the_certificate(
    site: Platform, clock: Clock
) -> None:
    desk = Desk(site, clock, "clerk", Role.WINDOW_CLERK)
    inputs = filing_input()
    inputs["materials"] = [m for m in inputs["materials"] if m["item"] != "construction_permit"]
    receipt = site.services.filings.submit(desk.actor, **inputs)
    page_path = f"/console/filings/{receipt}"
    review = f"{page_path}/review"

    page = desk.get(page_path)
    assert_accessible_page(page)
    # The required item not handed in is marked missing already; a certificate is refused.
    defaults = FormDefaults(page.text, review).values
    assert defaults["decision-construction_permit"] == "missing"
    assert defaults["decision-application_form"] == "ok"
    before = head(site)
    refused = desk.post(
        review, {"action": "certificate", "decision-construction_permit": "missing"}, page_path, 422
    )
    assert "请出具补正通知" in error_of(refused.text, "form-review")
    # A marked item needs its reason, shown next to it; what was typed stays.
    data = {
        "action": "notice",
        "decision-construction_permit": "missing",
        "reason-construction_permit": "",
        "decision-fire_design_documents": "defective",
        "reason-fire_design_documents": "图纸未加盖出图章",
    }
    missing_reason = desk.post(review, data, page_path, 422)
    assert (
        error_of(missing_reason.text, "reason-construction_permit") == "⚠ 错误：请写明需补正的理由"
    )
    assert "图纸未加盖出图章" in missing_reason.text
    assert_accessible_page(missing_reason)
    assert head(site) == before

    data["reason-construction_permit"] = "未提交施工许可证复印件"
    done = desk.post(review, data, page_path)
    assert done.headers["location"] == f"{page_path}?done=notice"
    site.projector.catch_up()
    notice = site.queries.filing(receipt, clock.now)
    assert notice is not None
    assert notice["status"] == "awaiting_supplement"
    assert sorted(
        (i["item"], i["problem"], i["reason"]) for i in notice["last_notice"]["items"]
    ) == [
        ("construction_permit", "missing", "未提交施工许可证复印件"),
        ("fire_design_documents", "defective", "图纸未加盖出图章"),
    ]
    shown = desk.get(done.headers["location"]).text
    assert "已出具补正通知" in shown
    assert "施工许可证复印件（缺少）：未提交施工许可证复印件" in shown

    # The applicant puts both right; the window certifies from the same page.
    clock.advance(hours=1)
    site.services.filings.resubmit(
        desk.actor, receipt, filing_input(materials=_all_new())["materials"]
    )
    certified = desk.post(review, {"action": "certificate"} | _all_ok(), page_path)
    assert certified.headers["location"] == f"{page_path}?done=certificate"
    site.projector.catch_up()
    row = site.queries.filing(receipt, clock.now)
    assert row is not None
    assert row["status"] == "certified"
    final = desk.get(certified.headers["location"]).text
    assert row["certificate_number"] in final
    assert f"/api/v1/filings/{receipt}/certificate.pdf" in final
    # The link works with the console's cookie (a GET); a command never does without the
    # bearer header, so no page of another site could make one with the cookie.
    pdf = desk.client.get(f"/api/v1/filings/{receipt}/certificate.pdf")
    assert (pdf.status_code, pdf.headers["content-type"]) == (200, "application/pdf")
    command = desk.client.post(f"/api/v1/filings/{receipt}/withdrawal", json={"reason": "x"})
    assert command.status_code == 401


def _all_new() -> list[Material]:
    from tests.support import materials

    return materials(version="2")


def _all_ok() -> dict[str, str]:
    from domain.filing import CHECKLISTS, FilingKind

    return {f"decision-{item}": "ok" for item in CHECKLISTS[FilingKind.DESIGN]}


def test_a_stale_page_says_the_case_changed_instead_of_overwriting(
    site: Platform, clock: Clock
) -> None:
    desk = Desk(site, clock, "clerk", Role.WINDOW_CLERK)
    receipt = site.services.filings.submit(desk.actor, **filing_input())
    page = desk.get(f"/console/filings/{receipt}").text
    site.services.filings.withdraw(desk.actor, receipt, "申请人书面撤回")  # meanwhile
    stale = desk.client.post(
        f"/console/filings/{receipt}/review",
        data={"csrf_token": hidden(page, "csrf_token"), "version": hidden(page, "version"),
              "action": "certificate"} | _all_ok(),
    )  # fmt: skip
    assert stale.status_code == 409
    assert "已被他人修改" in error_of(stale.text, "form-review")
    assert "已撤回" in stale.text


# -- booking handling --------------------------------------------------------------------------


def test_art15_16_a_booking_is_forwarded_assigned_replied_and_inspected_through_the_forms(
    platform: Platform, clock: Clock
) -> None:
    window = Desk(platform, clock, "window", Role.WINDOW_CLERK)
    head_of = Desk(platform, clock, "head", Role.DEPT_HEAD)
    handler = Desk(platform, clock, "handler", Role.HANDLER)
    helper = Desk(platform, clock, "helper", Role.HANDLER)
    open_account(platform, "erqi-handler", Role.HANDLER, ERQI)  # never offered to 金水
    receipt = platform.services.bookings.request(window.actor, **booking_input())
    page = f"/console/bookings/{receipt}"

    # The window: an empty department is refused next to the field; then forwarded.
    shown = window.get(page)
    assert_accessible_page(shown)
    assert 'id="competent_agency" value="郑州市金水区消防救援大队" readonly' in shown.text
    empty = window.post(f"{page}/forward", {"department": " "}, page, 422)
    assert "承办科室或大队" in error_of(empty.text, "department")
    window.post(f"{page}/forward", {"department": "防火监督科"}, page)
    assert "已转交承办科室" in window.get(f"{page}?done=forward").text

    # The head picks from the agency's handlers only.
    assign_page = head_of.get(page).text
    assert "测试handler（handler）" in assign_page
    assert "测试erqi-handler" not in assign_page
    twice = {"main_handler": handler.actor.actor_id, "assistants": handler.actor.actor_id}
    refused = head_of.post(f"{page}/assign", twice, page, 422)
    assert "协办人不得重复" in error_of(refused.text, "assistants")
    head_of.post(
        f"{page}/assign",
        {"main_handler": handler.actor.actor_id, "assistants": helper.actor.actor_id},
        page,
    )

    # Wednesday afternoon: the main handler replies with the first free half day.
    clock.now = at(25, 15)
    reply_page = handler.get(page)
    assert_accessible_page(reply_page)
    slots = re.findall(r'name="slot" value="([^"]+)"', reply_page.text)
    assert slots[0] == "2026-11-26:am"  # this afternoon has begun
    assert "余 4 个名额" in reply_page.text
    assert handler.post(f"{page}/slot", {}, page, 422) is not None
    handler.post(f"{page}/slot", {"slot": slots[0]}, page)
    assert "2026-11-26（星期四）上午" in handler.get(page).text
    assert 'name="slot"' not in helper.get(page).text  # only the main handler replies

    # The applicant accepts by phone; Thursday morning the handler records the result.
    clock.now = at(25, 16)
    window.post(f"{page}/accept", {}, page)
    clock.now = at(26, 10)
    fail = {"passed": "no", "findings": "", "recheck_date": ""}
    no_findings = handler.post(f"{page}/result", fail, page, 422)
    assert "须列明发现的问题" in error_of(no_findings.text, "findings")
    fail |= {"findings": "疏散通道堵塞\n灭火器过期", "recheck_date": "2026-11-30"}
    handler.post(f"{page}/result", fail, page)
    platform.projector.catch_up()
    row = platform.booking_queries.booking(receipt, clock.now)
    assert row is not None
    assert row["result"] == {
        "passed": False,
        "findings": ["疏散通道堵塞", "灭火器过期"],
        "recheck_date": "2026-11-30",
    }
    assert "复查日期 2026-11-30" in handler.get(page).text


def test_art15_a_booking_outside_the_remit_is_rejected_naming_the_competent_agency(
    site: Platform, clock: Clock
) -> None:
    window = Desk(site, clock, "erqi-window", Role.WINDOW_CLERK, ERQI)
    receipt = site.services.bookings.request(window.actor, **booking_input(agency=ERQI))
    page = f"/console/bookings/{receipt}"
    shown = window.get(page).text
    assert "由郑州市金水区消防救援大队管辖" in shown
    assert 'id="competent_agency" value="郑州市金水区消防救援大队" readonly' in shown
    window.post(f"{page}/reject", {}, page)
    site.projector.catch_up()
    row = site.booking_queries.booking(receipt, clock.now)
    assert row is not None
    assert (row["status"], row["outcome"]) == ("rejected", {"competent_agency": JINSHUI})


def test_art16_the_main_handler_refuses_with_a_reason(site: Platform, clock: Clock) -> None:
    window = Desk(site, clock, "window", Role.WINDOW_CLERK)
    handler = Desk(site, clock, "handler", Role.HANDLER)
    receipt = site.services.bookings.request(window.actor, **booking_input())
    site.services.bookings.forward(window.actor, receipt, "防火监督科")
    head_actor, _ = open_account(site, "head", Role.DEPT_HEAD, JINSHUI)
    site.services.bookings.assign(head_actor, receipt, handler.actor.actor_id)
    page = f"/console/bookings/{receipt}"
    empty = handler.post(f"{page}/refuse", {"refusal_reason": ""}, page, 422)
    assert "理由" in error_of(empty.text, "refusal_reason")
    handler.post(f"{page}/refuse", {"refusal_reason": "场所尚未竣工，不具备检查条件"}, page)
    shown = handler.get(page).text
    assert "已回复不予安排检查" in shown
    assert "场所尚未竣工，不具备检查条件" in shown


# -- documents and history ---------------------------------------------------------------------


def test_a_document_opens_for_staff_who_may_read_its_case_and_for_nobody_else(
    site: Platform, clock: Clock
) -> None:
    clerk = Desk(site, clock, "clerk", Role.WINDOW_CLERK)
    other = Desk(site, clock, "erqi-clerk", Role.WINDOW_CLERK, ERQI)
    auditor = Desk(site, clock, "auditor", Role.AUDITOR, "zz")
    digest = hashlib.sha256(PDF).hexdigest()
    inputs = filing_input()
    inputs["materials"][0] = Material(
        item="application_form", document=f"sha256:{digest}", file_name="申报表.pdf",
        size=len(PDF), media_type="application/pdf",
    )  # fmt: skip
    receipt = site.services.filings.submit(clerk.actor, **inputs)
    documents = site.settings.documents_dir
    documents.mkdir(parents=True, exist_ok=True)
    (documents / digest).write_bytes(PDF)

    link = f"/console/documents/{digest}"
    assert link in clerk.get(f"/console/filings/{receipt}").text
    shown = clerk.get(link)
    assert shown.content == PDF
    assert shown.headers["content-type"] == "application/pdf"
    assert shown.headers["content-disposition"].startswith("inline;")
    assert (
        "filename*=UTF-8''%E7%94%B3%E6%8A%A5%E8%A1%A8.pdf" in shown.headers["content-disposition"]
    )
    assert shown.headers["x-content-type-options"] == "nosniff"
    assert shown.headers["content-security-policy"].startswith("sandbox")

    refused = other.get(link, 403)
    assert "无权查看该文件" in refused.text
    assert_accessible_page(refused)
    auditor.get(link, 403)  # the auditors read histories, not applicants' files
    clerk.get(f"/console/documents/{'0' * 64}", 404)
    clerk.get("/console/documents/..%2Fsecrets", 404)
    not_delivered = inputs["materials"][1]["document"].removeprefix("sha256:")
    assert "尚未送达" in clerk.get(f"/console/documents/{not_delivered}", 404).text


def test_art39_the_case_history_names_who_in_which_role_and_agency_did_what_when(
    site: Platform, clock: Clock
) -> None:
    clerk = Desk(site, clock, "clerk", Role.WINDOW_CLERK)
    auditor = Desk(site, clock, "auditor", Role.AUDITOR, "zz")
    other = Desk(site, clock, "erqi-clerk", Role.WINDOW_CLERK, ERQI)
    receipt = site.services.filings.submit(Actor.system(JINSHUI, "intake"), **filing_input())
    clock.advance(minutes=5)
    site.services.filings.issue_certificate(clerk.actor, receipt)

    page = clerk.get(f"/console/cases/{receipt}/history")
    assert_accessible_page(page)
    text = re.sub(r"<[^>]+>", " ", page.text)
    assert re.search(
        r"1\s+2026-11-24 09:30\s+system:intake\s+系统\s+郑州市金水区消防救援大队\s+提交备案", text
    )
    assert re.search(
        r"2\s+2026-11-24 09:35\s+测试clerk（clerk）\s+受理窗口\s+郑州市金水区消防救援大队"
        r"\s+出具备案凭证",
        text,
    )
    assert "〔密封 sealed〕" in text  # the contact stays sealed
    entries = site.services.audit.history(clerk.actor, receipt)
    assert len(re.findall(r"<tr>\s*<td data-label=\"序号\">\d+</td>", page.text)) == len(entries)

    found = auditor.client.get(f"/console/find?receipt={receipt.lower()}")
    assert found.headers["location"] == f"/console/cases/{receipt}/history"
    assert auditor.get(found.headers["location"]).status_code == 200
    assert "无权" in other.get(f"/console/cases/{receipt}/history", 403).text


# -- every page --------------------------------------------------------------------------------


def test_errors_a_person_can_cause_are_pages_in_chinese_never_json(
    site: Platform, clock: Clock
) -> None:
    clerk = Desk(site, clock, "clerk", Role.WINDOW_CLERK)
    other = Desk(site, clock, "erqi-clerk", Role.WINDOW_CLERK, ERQI)
    receipt = site.services.filings.submit(clerk.actor, **filing_input())
    for response, status, words in [
        (clerk.client.get("/console/nowhere"), 404, "没有找到"),
        (clerk.client.get("/console/filings/BA-NONE"), 404, "备案不存在"),
        (clerk.client.get("/console/filings/%00"), 404, "备案不存在"),
        (clerk.client.get("/console/bookings/YY-NONE"), 404, "预约不存在"),
        (other.client.get(f"/console/filings/{receipt}"), 403, "无权"),
        (clerk.client.get("/console/find?receipt=%3Cscript%3E"), 422, "请输入受理编号"),
    ]:
        assert response.status_code == status, response.text
        assert words in response.text
        assert "<script>" not in response.text
        assert_accessible_page(response)


def test_the_style_sheet_is_served_by_the_console_itself(site: Platform) -> None:
    client = console_client(site)
    css = client.get("/static/console.css")
    assert css.status_code == 200
    assert "line-height: 1.6" in css.text
    assert ":focus-visible" in css.text
    assert client.get("/static/console.js").status_code == 200


def test_large_text_is_switched_on_by_a_form_and_stays_on(site: Platform, clock: Clock) -> None:
    desk = Desk(site, clock, "clerk", Role.WINDOW_CLERK)
    assert 'class="large-text"' not in desk.get("/console").text
    switched = desk.post("/console/large-text", {"next": "/console?sort=receipt"}, "/console")
    assert switched.headers["location"] == "/console?sort=receipt"
    (cookie,) = switched.headers.get_list("set-cookie")
    assert cookie.startswith("__Host-firegov_large_text=1;")
    assert "max-age=31536000" in cookie.lower()
    for path in ("/console", "/console/nowhere"):
        assert '<html lang="zh-CN" class="large-text">' in desk.client.get(path).text
    assert desk.client.post("/console/large-text", data={"next": "/console"}).status_code == 403
    off = desk.post("/console/large-text", {}, "/console")
    assert "max-age=0" in off.headers["set-cookie"].lower()

    # On the login page too (its token is the login form's).
    client = console_client(site)
    page = client.get("/console/login").text
    on = client.post(
        "/console/large-text",
        data={"csrf_token": hidden(page, "csrf_token"), "next": "/console/login"},
    )
    assert on.headers["location"] == "/console/login"
    assert 'class="large-text"' in client.get("/console/login").text
