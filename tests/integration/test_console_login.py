"""The console's login in two pages (RULES.md "Who acts", Art. 39; api_internal.pages_auth):
the password page, then the one-time code and/or the choice of role. Between them the browser
holds a login ticket in an HttpOnly, SameSite=Strict, ``__Host-`` cookie, the server keeps only
its hash beside the sessions (so any worker process can take the second page), and the password
is kept nowhere. The ticket ends after five minutes, after one login, after five wrong codes
or with a lock; the role chosen is one the account holds.
"""

from __future__ import annotations

import hashlib

import httpx
import pyotp
import pytest
from fastapi.testclient import TestClient

from deployment.bootstrap import Platform
from domain.actor import Actor, Role
from domain.services.staff_login import TICKET_LIFETIME
from tests.integration.api_fixtures import (  # noqa: F401 - fixtures are used by name
    clock_fixture,
    sessions,
)
from tests.integration.test_login import a_wrong_code, events
from tests.integration.test_login_two_steps import failures, open_with_roles, tickets
from tests.integration.test_staff_pages import (  # noqa: F401 - fixtures are used by name
    JINSHUI,
    SESSION_COOKIE,
    assert_accessible_page,
    console_client,
    error_of,
    hidden,
    site_fixture,
)
from tests.support import PASSWORD, Clock, make_platform, open_account

PENDING_COOKIE = "__Host-firegov_pending_login"


def in_login_form(html: str, name: str) -> str:
    """A hidden field of the page's login form (the 大字版 form above it has its own)."""
    return hidden(html[html.index('class="login"') :], name)


def password_page(
    client: TestClient, username: str, password: str = PASSWORD, next_url: str = "/console"
) -> httpx.Response:
    page = client.get(f"/console/login?next={next_url}")
    data = {
        "csrf_token": in_login_form(page.text, "csrf_token"),
        "next": in_login_form(page.text, "next"),
    }
    response: httpx.Response = client.post(
        "/console/login", data=data | {"username": username, "password": password}
    )
    return response


def second_page(
    client: TestClient, location: str, **fields: str
) -> tuple[httpx.Response, httpx.Response]:
    """The second page as shown, then as posted with ``fields`` over what it holds."""
    page = client.get(location)
    assert page.status_code == 200, page.text
    data = {
        "csrf_token": in_login_form(page.text, "csrf_token"),
        "next": in_login_form(page.text, "next"),
    }
    posted: httpx.Response = client.post(location.split("?", maxsplit=1)[0], data=data | fields)
    return page, posted


def set_cookie(response: httpx.Response, name: str) -> str:
    (cookie,) = [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{name}=")]
    return cookie


@pytest.fixture(name="approver")
def approver_fixture(site: Platform) -> tuple[Actor, str]:
    account, secret = open_account(site, "approver", Role.APPROVER, JINSHUI)
    assert secret is not None
    return account, secret


def test_between_the_pages_the_browser_holds_a_ticket_and_the_server_only_its_hash(
    site: Platform, clock: Clock, approver: tuple[Actor, str]
) -> None:
    _, secret = approver
    client = console_client(site)
    first = password_page(client, "approver", next_url="/console/find")

    assert first.status_code == 303
    assert first.headers["location"] == "/console/login/totp?next=%2Fconsole%2Ffind"
    cookie = set_cookie(first, PENDING_COOKIE)
    ticket = cookie.split(";")[0].split("=", 1)[1]
    attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "secure", "path=/", "samesite=strict"} <= attributes
    assert f"max-age={int(TICKET_LIFETIME.total_seconds())}" in attributes
    assert PASSWORD not in cookie
    (row,) = tickets(site)
    assert row["token_hash"] == hashlib.sha256(ticket.encode()).hexdigest()
    assert PASSWORD not in repr(row)
    assert ticket not in repr(row)
    assert not sessions(site)

    page, done = second_page(
        client, first.headers["location"], one_time_code=pyotp.TOTP(secret).at(clock.now)
    )

    assert_accessible_page(page)
    assert PASSWORD not in page.text
    assert ticket not in page.text  # only in the HttpOnly cookie, never in the page
    assert 'id="role"' not in page.text  # one role: nothing to choose
    assert (done.status_code, done.headers["location"]) == (303, "/console/find")
    assert set_cookie(done, SESSION_COOKIE)
    assert "max-age=0" in set_cookie(done, PENDING_COOKIE).lower()
    assert len(sessions(site)) == 1
    assert tickets(site) == []


def test_the_code_page_is_taken_by_another_worker_process(
    site: Platform, clock: Clock, approver: tuple[Actor, str]
) -> None:
    """Nothing of the login waits in a process's memory: a second platform over the same data
    (as a second worker process is) completes the login the first one began."""
    _, secret = approver
    first_worker = console_client(site)
    started = password_page(first_worker, "approver")
    second = make_platform(site.settings, clock)
    try:
        second_worker = console_client(second)
        second_worker.cookies = first_worker.cookies
        _, done = second_page(
            second_worker,
            started.headers["location"],
            one_time_code=pyotp.TOTP(secret).at(clock.now),
        )
        assert (done.status_code, done.headers["location"]) == (303, "/console")
        assert "审批领导" in second_worker.get("/console").text
    finally:
        second.close()


def test_the_second_page_ends_five_minutes_after_the_password(
    site: Platform, clock: Clock, approver: tuple[Actor, str]
) -> None:
    account, secret = approver
    client = console_client(site)
    first = password_page(client, "approver")
    step = client.get("/console/login/totp")
    clock.advance(seconds=TICKET_LIFETIME.total_seconds())

    shown = client.get("/console/login/totp")
    posted = client.post(
        "/console/login/totp",
        data={
            "csrf_token": hidden(step.text, "csrf_token"),
            "one_time_code": pyotp.TOTP(secret).at(clock.now),
        },
    )

    assert first.status_code == 303
    for answer in (shown, posted):
        assert answer.headers["location"] == "/console/login?m=totp_expired"
    assert "已超时" in client.get("/console/login?m=totp_expired").text
    assert not sessions(site)
    assert failures(site, account) == []


def test_five_wrong_codes_on_the_page_lock_the_account_and_send_back_to_the_password(
    site: Platform, clock: Clock, approver: tuple[Actor, str]
) -> None:
    account, secret = approver
    client = console_client(site)
    location = password_page(client, "approver").headers["location"]
    wrong = a_wrong_code(secret, clock)

    answers = [second_page(client, location, one_time_code=wrong)[1] for _ in range(4)]
    fifth = client.post(
        "/console/login/totp",
        data={"csrf_token": hidden(answers[-1].text, "csrf_token"), "one_time_code": wrong},
    )

    for answer in answers:
        assert answer.status_code == 401
        assert "不正确" in error_of(answer.text, "one_time_code")
        assert_accessible_page(answer)
    assert fifth.status_code == 401
    assert "重新输入用户名和密码" in error_of(fifth.text, "form")
    assert 'value="approver"' in fifth.text  # back on the password page, username kept
    assert "max-age=0" in set_cookie(fifth, PENDING_COOKIE).lower()
    assert failures(site, account) == ["wrong_one_time_code"] * 5
    assert "Locked" in events(site, account)
    locked = password_page(client, "approver")
    assert (locked.status_code, "锁定" in error_of(locked.text, "form")) == (401, True)


def test_a_second_page_without_its_csrf_token_counts_no_attempt(
    site: Platform, clock: Clock, approver: tuple[Actor, str]
) -> None:
    account, secret = approver
    client = console_client(site)
    password_page(client, "approver")

    refused = client.post(
        "/console/login/totp", data={"one_time_code": pyotp.TOTP(secret).at(clock.now)}
    )

    assert refused.status_code == 422
    assert "已失效" in error_of(refused.text, "form")
    assert tickets(site)[0]["attempts_left"] == 5
    assert failures(site, account) == []


def test_the_holder_of_several_roles_chooses_the_role_after_the_password(
    site: Platform,
) -> None:
    open_with_roles(site, "chief", [Role.DEPT_HEAD, Role.HANDLER])
    client = console_client(site)

    first = password_page(client, "chief")
    assert (first.status_code, first.headers["location"]) == (303, "/console/login/role")
    assert client.get("/console/login/totp").headers["location"] == "/console/login/role"
    page, done = second_page(client, "/console/login/role", role="handler")

    assert_accessible_page(page)
    assert "选择登录角色" in page.text
    assert 'id="one_time_code"' not in page.text
    assert '<option value="dept_head" selected>科室/大队负责人</option>' in page.text
    assert '<option value="handler">承办人</option>' in page.text
    assert (done.status_code, done.headers["location"]) == (303, "/console")
    assert "承办人" in client.get("/console").text


@pytest.mark.parametrize("role", ["approver", "kaiser"], ids=["not held", "no such role"])
def test_a_role_the_account_does_not_hold_is_refused_next_to_the_choice(
    site: Platform, role: str
) -> None:
    chief, _ = open_with_roles(site, "chief", [Role.DEPT_HEAD, Role.HANDLER])
    client = console_client(site)
    password_page(client, "chief")

    _, refused = second_page(client, "/console/login/role", role=role)

    assert refused.status_code == 422
    assert "没有该角色" in error_of(refused.text, "role")
    assert 'aria-describedby="error-role" aria-invalid="true"' in refused.text
    assert_accessible_page(refused)
    assert not sessions(site)
    assert "LoggedIn" not in events(site, chief)
    _, chosen = second_page(client, "/console/login/role", role="dept_head")  # still open
    assert chosen.headers["location"] == "/console"


def test_an_approver_who_also_heads_a_department_gives_the_code_and_chooses_on_one_page(
    site: Platform, clock: Clock
) -> None:
    _, secret = open_with_roles(site, "chief", [Role.APPROVER, Role.DEPT_HEAD])
    assert secret is not None
    client = console_client(site)
    first = password_page(client, "chief")
    assert first.headers["location"] == "/console/login/totp"

    page, done = second_page(
        client,
        "/console/login/totp",
        one_time_code=pyotp.TOTP(secret).at(clock.now),
        role="dept_head",
    )

    assert 'id="one_time_code"' in page.text
    assert 'id="role"' in page.text
    assert_accessible_page(page)
    assert done.headers["location"] == "/console"
    assert "科室/大队负责人" in client.get("/console").text
