"""The login lockout without the denial of service (issue 16, security findings; MLPS;
docs/security.md "Login lockout"): failures are counted per account and source (an IPv4
address, an IPv6 /64), so a stranger who knows a username locks out only themselves; a source
failing across accounts is throttled (429 with Retry-After); wrong one-time codes count for
the source that typed them; the security administrator sees who tried which account from
where, and the account's history names the source of every failure, lock and login.

Runs on SQLite and on PostgreSQL (the ``platform`` fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from fastapi.testclient import TestClient

from api_internal.app import create_app
from deployment.bootstrap import Platform
from domain.actor import Actor, Role
from tests.integration.api_fixtures import assert_problem, clock_fixture  # noqa: F401
from tests.integration.test_console_login import password_page
from tests.integration.test_login import AUDIT, a_wrong_code
from tests.integration.test_staff_pages import Desk, assert_accessible_page
from tests.support import PASSWORD, Clock, make_platform, open_account, settings_for

HOLDER, STRANGER = "198.51.100.20", "203.0.113.66"
MAX_FROM_SOURCE = 8  # failed logins from one source, across accounts, within the window


@pytest.fixture(
    name="platform", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def platform_fixture(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> Iterator[Platform]:
    extra: dict[str, Any] = {"login_source_max_failures": MAX_FROM_SOURCE}
    if request.param == "postgres":
        extra |= {
            "database_url": request.getfixturevalue("pg_url"),
            "schema": request.getfixturevalue("pg_schema"),
        }
    built = make_platform(settings_for(tmp_path, **extra), clock)
    try:
        yield built
    finally:
        built.close()


def from_address(platform: Platform, address: str) -> TestClient:
    """The staff API as seen from a browser or client at ``address``."""
    app = create_app(platform.staff_backend())
    return TestClient(app, client=(address, 40000), raise_server_exceptions=False)


def attempt(
    client: TestClient, username: str, password: str = PASSWORD, code: str | None = None
) -> httpx.Response:
    body = {"username": username, "password": password, "one_time_code": code}
    response: httpx.Response = client.post("/api/v1/auth/login", json=body)
    return response


def history(platform: Platform, account: Actor) -> list[tuple[str, dict[str, Any]]]:
    """The account's login events with what the audit history shows of each."""
    return [
        (e.event, e.details)
        for e in platform.services.audit.history(AUDIT, account.actor_id)
        if e.event in {"LoginFailed", "Locked", "LoggedIn"}
    ]


def test_a_stranger_cannot_lock_out_the_real_user_from_another_address(
    platform: Platform, clock: Clock
) -> None:
    clerk, _ = open_account(platform, "clerk", Role.WINDOW_CLERK, "zz-jinshui")
    stranger, holder = from_address(platform, STRANGER), from_address(platform, HOLDER)

    guesses = [attempt(stranger, "clerk", "Wrong-Horse-1") for _ in range(5)]
    too_late = attempt(stranger, "clerk")  # even the right password, from there
    at_their_desk = attempt(holder, "clerk")

    for guess in guesses:
        assert_problem(guess, 401, "authentication_failed")
    body = assert_problem(too_late, 401, "account_locked")
    assert body["locked_until"] == (clock.now + timedelta(minutes=30)).isoformat()
    assert at_their_desk.status_code == 200, at_their_desk.text
    assert history(platform, clerk)[-2:] == [
        ("Locked", {"until": clock.now + timedelta(minutes=30), "source": STRANGER}),
        ("LoggedIn", {"totp_step": None, "source": HOLDER}),
    ]


def test_repeated_failures_from_one_address_lock_that_address_out(
    platform: Platform, clock: Clock
) -> None:
    """An IPv6 subscriber picks any address of their /64: the /64 is the source."""
    clerk, _ = open_account(platform, "clerk", Role.WINDOW_CLERK, "zz-jinshui")
    locked_at = clock.now
    for n in range(5):  # five addresses, one network
        failed = attempt(from_address(platform, f"2001:db8:1:2::{n + 1:x}"), "clerk", "Wrong-1a")
        assert_problem(failed, 401, "authentication_failed")
    same_64 = from_address(platform, "2001:db8:1:2:ffff::9")
    next_64 = from_address(platform, "2001:db8:1:3::1")

    body = assert_problem(attempt(same_64, "clerk"), 401, "account_locked")
    assert body["locked_until"] == (locked_at + timedelta(minutes=30)).isoformat()
    assert attempt(next_64, "clerk").status_code == 200
    clock.advance(minutes=29, seconds=59)
    assert_problem(attempt(same_64, "clerk"), 401, "account_locked")
    clock.advance(seconds=1)
    assert attempt(same_64, "clerk").status_code == 200

    events = history(platform, clerk)
    failures = [d for e, d in events if e == "LoginFailed"]
    assert failures == [{"reason": "wrong_password", "source": "2001:db8:1:2::/64"}] * 5
    assert [d for e, d in events if e == "Locked"] == [
        {"until": locked_at + timedelta(minutes=30), "source": "2001:db8:1:2::/64"}
    ]
    assert [d["source"] for e, d in events if e == "LoggedIn"] == [
        "2001:db8:1:3::/64",
        "2001:db8:1:2::/64",
    ]


def test_a_source_failing_across_accounts_is_throttled(platform: Platform, clock: Clock) -> None:
    """A few guesses at each of many accounts (and at names that exist nowhere) lock none of
    them, but the source is refused once it has failed MAX_FROM_SOURCE times in the window."""
    for name in ("clerk-a", "clerk-b", "clerk-c", "clerk-d"):
        open_account(platform, name, Role.WINDOW_CLERK, "zz-jinshui")
    sprayer, colleague = from_address(platform, STRANGER), from_address(platform, HOLDER)
    targets = ["clerk-a", "clerk-b", "clerk-c", "nobody-1", "nobody-2"]
    failed = [attempt(sprayer, targets[n % 5], "Wrong-Horse-1") for n in range(MAX_FROM_SOURCE)]
    before = platform.app.recorder.max_notification_id()

    refused = attempt(sprayer, "clerk-d")  # the right password changes nothing now

    for answer in failed:
        assert_problem(answer, 401, "authentication_failed")
    body = assert_problem(refused, 429, "login_throttled")
    window = 15 * 60
    assert body["retry_after"] == int(refused.headers["retry-after"]) == window
    assert platform.app.recorder.max_notification_id() == before  # nothing was even checked
    assert attempt(colleague, "clerk-d").status_code == 200  # other sources are not affected
    # The console's login page says it in words, with Retry-After.
    console = TestClient(
        create_app(platform.staff_backend()), base_url="http://127.0.0.1", client=(STRANGER, 1)
    )
    posted = password_page(console, "clerk-d")
    assert posted.status_code == 429
    assert posted.headers["retry-after"] == str(window)
    assert "登录失败次数过多" in posted.text
    assert "15 分钟后可再试" in posted.text
    clock.advance(minutes=15)
    assert attempt(sprayer, "clerk-d").status_code == 200


def test_one_time_code_failures_count_per_source_too(platform: Platform, clock: Clock) -> None:
    """Wrong codes lock the source that typed them, whoever had the ticket: the holder, who
    knows the password and has the authenticator, still logs in from their own desk."""
    approver, secret = open_account(platform, "leader", Role.APPROVER, "zz")
    assert secret is not None
    stranger, holder = from_address(platform, STRANGER), from_address(platform, HOLDER)
    wrong = a_wrong_code(secret, clock)
    ticket = assert_problem(attempt(holder, "leader"), 401, "second_factor_required")["ticket"]

    # Someone who got hold of the password (and of the ticket) guesses codes from elsewhere.
    guesses = [
        stranger.post("/api/v1/auth/login/totp", json={"ticket": ticket, "one_time_code": wrong})
        for _ in range(5)
    ]
    locked = attempt(stranger, "leader", PASSWORD, pyotp.TOTP(secret).at(clock.now))
    at_their_desk = attempt(holder, "leader", PASSWORD, pyotp.TOTP(secret).at(clock.now))

    for guess in guesses:
        assert_problem(guess, 401, "authentication_failed")
    assert_problem(locked, 401, "account_locked")
    assert at_their_desk.status_code == 200, at_their_desk.text
    events = history(platform, approver)
    assert [d for e, d in events if e == "LoginFailed"] == [
        {"reason": "wrong_one_time_code", "source": STRANGER}
    ] * 5
    assert [d["source"] for e, d in events if e in {"Locked", "LoggedIn"}] == [STRANGER, HOLDER]


def test_the_security_admin_sees_login_attempts(platform: Platform, clock: Clock) -> None:
    clerk, _ = open_account(platform, "clerk", Role.WINDOW_CLERK, "zz-jinshui")
    security, _ = open_account(platform, "security", Role.SECURITY_ADMIN, "zz")
    stranger, holder = from_address(platform, STRANGER), from_address(platform, HOLDER)
    for _ in range(5):
        attempt(stranger, "clerk", "Wrong-Horse-1")
    locked_at = clock.now
    clock.advance(minutes=1)
    attempt(holder, "clerk", "Typo-Horse-1")
    attempt(stranger, "nobody-here", "Wrong-Horse-2")  # no account: the source counts it
    admin = {"Authorization": f"Bearer {platform.sessions.open(security, clock.now)}"}
    clerk_session = {"Authorization": f"Bearer {platform.sessions.open(clerk, clock.now)}"}

    seen = holder.get("/api/v1/security/login-attempts", headers=admin)
    refused = holder.get("/api/v1/security/login-attempts", headers=clerk_session)

    assert seen.status_code == 200, seen.text
    assert_problem(refused, 403, "not_permitted")
    body = seen.json()
    rows = [
        (a["username"], a["source"], a["failures"], a["last_reason"], a["locked_until"])
        for a in body["attempts"]
    ]
    until = (locked_at + timedelta(minutes=30)).isoformat()
    assert rows == [
        ("clerk", HOLDER, 1, "wrong_password", None),
        ("clerk", STRANGER, 5, "wrong_password", until),
    ]
    assert body["attempts"][1]["first_failed_at"] == locked_at.isoformat()
    sources = {s["source"]: (s["failures"], s["throttled_until"]) for s in body["sources"]}
    assert sources == {STRANGER: (6, None), HOLDER: (1, None)}
    for password in ("Wrong-Horse", "Typo-Horse", PASSWORD):
        assert password not in seen.text

    # The console's page: the same rows, in words, linked from the security admin's menu.
    desk = Desk(platform, clock, "security2", Role.SECURITY_ADMIN, "zz")
    page = desk.get("/console/security/login-attempts")
    assert_accessible_page(page)
    assert 'id="nav-login-attempts"' in desk.get("/console").text
    assert STRANGER in page.text
    assert "已锁定，至" in page.text
    assert "Wrong-Horse" not in page.text
    clerk_desk = Desk(platform, clock, "clerk2", Role.WINDOW_CLERK)
    assert clerk_desk.get("/console/security/login-attempts", status=403).status_code == 403
    assert 'id="nav-login-attempts"' not in clerk_desk.get("/console").text
