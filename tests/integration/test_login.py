"""Staff login (RULES.md "Who acts", Art. 27-28, 39): lockout after five failures (in turn or
at once), failures that answer no faster for an unknown username, the idle timeout, logout, the
second factor of administrators and approvers, the password policy, the separation of the three
administrator roles, and sessions that cannot be read off the table.

Runs on SQLite and on PostgreSQL (the ``platform`` fixture)."""

from __future__ import annotations

import hashlib
import itertools
import secrets
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
import pyotp
import pytest
from fastapi.testclient import TestClient

from api_internal.routes_auth import FAILED_LOGIN_FLOOR_SECONDS
from deployment.bootstrap import Platform
from domain.actor import ADMIN_ROLES, SECOND_FACTOR_ROLES, Actor, Role
from domain.errors import AuthenticationFailed, DomainError, InvalidInput
from domain.sealing import subject_of
from domain.staff import StaffAccount
from tests.integration.api_fixtures import (  # noqa: F401 - fixtures are used by name
    Headers,
    assert_problem,
    client_fixture,
    clock_fixture,
    login,
    platform_fixture,
    sessions,
)
from tests.support import PASSWORD, Clock, open_account

AUDIT = Actor.system("zz", "test-audit")
GUESSER = "203.0.113.66"  # where failures come from: they are counted per account and source


def attempt(
    client: TestClient, username: str, password: str, one_time_code: str | None = None
) -> httpx.Response:
    response: httpx.Response = client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": password, "one_time_code": one_time_code},
    )
    return response


def events(platform: Platform, account: Actor) -> list[str]:
    return [e.event for e in platform.services.audit.history(AUDIT, account.actor_id)]


def me(client: TestClient, headers: Headers) -> httpx.Response:
    response: httpx.Response = client.get("/api/v1/auth/me", headers=headers)
    return response


def a_wrong_code(secret: str, clock: Clock) -> str:
    """A six-digit code that the TOTP check refuses now (it accepts one step either side)."""
    totp = pyotp.TOTP(secret)
    accepted = {totp.at(clock.now + timedelta(seconds=step)) for step in (-30, 0, 30)}
    return next(code for n in itertools.count() if (code := f"{n:06d}") not in accepted)


# -- lockout -----------------------------------------------------------------------------------


def test_five_wrong_passwords_in_a_row_lock_the_account_for_thirty_minutes(
    platform: Platform, client: TestClient, clock: Clock
) -> None:
    clerk, _ = open_account(platform, "clerk", Role.WINDOW_CLERK, "zz-jinshui")
    locked_at = clock.now

    for _ in range(5):
        assert_problem(attempt(client, "clerk", "Wrong-Horse-1"), 401, "authentication_failed")
    refused = attempt(client, "clerk", PASSWORD)

    body = assert_problem(refused, 401, "account_locked")
    assert body["locked_until"] == (locked_at + timedelta(minutes=30)).isoformat()
    clock.advance(minutes=29, seconds=59)
    assert_problem(attempt(client, "clerk", PASSWORD), 401, "account_locked")
    clock.advance(seconds=1)
    assert attempt(client, "clerk", PASSWORD).status_code == 200
    counted = Counter(events(platform, clerk))
    assert (counted["LoginFailed"], counted["Locked"], counted["LoggedIn"]) == (5, 1, 1)
    assert events(platform, clerk)[-3:] == ["LoginFailed", "Locked", "LoggedIn"]


def test_a_successful_login_starts_the_count_of_failures_again(
    platform: Platform, client: TestClient
) -> None:
    clerk, _ = open_account(platform, "clerk", Role.WINDOW_CLERK, "zz-jinshui")
    for _ in range(4):
        attempt(client, "clerk", "Wrong-Horse-1")
    assert attempt(client, "clerk", PASSWORD).status_code == 200

    for _ in range(4):
        attempt(client, "clerk", "Wrong-Horse-1")

    assert attempt(client, "clerk", PASSWORD).status_code == 200
    assert "Locked" not in events(platform, clerk)


def test_the_lockout_history_names_the_reason_and_the_end_of_each_lock(
    platform: Platform, client: TestClient, clock: Clock
) -> None:
    clerk, _ = open_account(platform, "clerk", Role.WINDOW_CLERK, "zz-jinshui")
    for _ in range(5):
        attempt(client, "clerk", "Wrong-Horse-1")

    history = platform.services.audit.history(AUDIT, clerk.actor_id)

    failures = [e for e in history if e.event == "LoginFailed"]
    (lock,) = [e for e in history if e.event == "Locked"]
    assert {e.details["reason"] for e in failures} == {"wrong_password"}
    assert {(e.role, e.what_zh) for e in failures} == {("system", "登录失败")}
    assert lock.what_zh == "账号锁定"
    assert lock.details["until"] == clock.now + timedelta(minutes=30)


def test_twenty_wrong_passwords_at_once_are_all_counted_and_lock_the_account(
    platform: Platform,
) -> None:
    """Parallel guesses collide on the account's version: each failure is recorded again on
    the reloaded account, so none escapes the count and every guess is answered 401."""
    clerk, _ = open_account(platform, "clerk", Role.WINDOW_CLERK, "zz-jinshui")
    start = threading.Barrier(20)

    def guess() -> str:
        start.wait()
        try:
            platform.services.staff.authenticate("clerk", "Wrong-Horse-1", None, source=GUESSER)
        except DomainError as refused:
            return f"{type(refused).__name__}:{refused.code}"
        return "logged in"

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = Counter(pool.map(lambda _: guess(), range(20)))

    assert set(answers) <= {
        "AuthenticationFailed:authentication_failed",
        "AuthenticationFailed:account_locked",
    }, answers
    counted = Counter(events(platform, clerk))
    assert counted["LoginFailed"] == answers["AuthenticationFailed:authentication_failed"] >= 5
    assert counted["Locked"] >= 1
    with pytest.raises(AuthenticationFailed) as locked:
        platform.services.staff.authenticate("clerk", PASSWORD, None, source=GUESSER)
    assert locked.value.code == "account_locked"


@pytest.mark.parametrize(
    "username", ["clerk", "nobody-here"], ids=["wrong password", "unknown username"]
)
def test_a_failed_login_takes_at_least_the_floor_whoever_the_username_is(
    platform: Platform, client: TestClient, username: str
) -> None:
    """Not a performance check: the floor is what keeps the answer's speed from telling an
    unknown username from a known one."""
    open_account(platform, "clerk", Role.WINDOW_CLERK, "zz-jinshui")

    started = time.perf_counter()
    response = attempt(client, username, "Wrong-Horse-1")
    elapsed = time.perf_counter() - started

    assert_problem(response, 401, "authentication_failed")
    assert elapsed >= FAILED_LOGIN_FLOOR_SECONDS


# -- sessions ----------------------------------------------------------------------------------


def test_a_session_lives_while_used_and_ends_after_thirty_one_idle_minutes(
    platform: Platform, client: TestClient, clock: Clock
) -> None:
    open_account(platform, "clerk", Role.WINDOW_CLERK, "zz-jinshui")
    headers = login(client, "clerk", clock)
    assert me(client, headers).status_code == 200

    clock.advance(minutes=29)
    assert me(client, headers).json()["username"] == "clerk"
    clock.advance(minutes=31)

    assert_problem(me(client, headers), 401, "session_expired")
    clock.advance(minutes=-31)  # and it stays ended, even for a clock that goes back
    assert_problem(me(client, headers), 401, "session_expired")


def test_logout_ends_the_session_on_the_server_and_only_that_one(
    platform: Platform, client: TestClient, clock: Clock
) -> None:
    clerk, _ = open_account(platform, "clerk", Role.WINDOW_CLERK, "zz-jinshui")
    desk, counter = login(client, "clerk", clock), login(client, "clerk", clock)

    logged_out = client.post("/api/v1/auth/logout", headers=desk)

    assert logged_out.status_code == 204
    assert_problem(me(client, desk), 401, "session_expired")
    assert_problem(client.get("/api/v1/filings/queue", headers=desk), 401, "session_expired")
    assert me(client, counter).status_code == 200
    assert [row["account_id"] for row in sessions(platform)] == [clerk.actor_id]


# -- second factor -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(SECOND_FACTOR_ROLES), ids=str)
def test_administrators_and_approvers_log_in_only_with_their_one_time_code(
    platform: Platform, client: TestClient, clock: Clock, role: Role
) -> None:
    account, secret = open_account(platform, "leader", role, "zz")
    assert secret is not None

    without = attempt(client, "leader", PASSWORD)
    wrong = attempt(client, "leader", PASSWORD, a_wrong_code(secret, clock))
    right = attempt(client, "leader", PASSWORD, pyotp.TOTP(secret).at(clock.now))

    assert_problem(without, 401, "second_factor_required")
    assert_problem(wrong, 401, "authentication_failed")
    assert right.status_code == 200, right.text
    assert right.json()["actor"]["role"] == str(role)
    history = platform.services.audit.history(AUDIT, account.actor_id)
    failures = [e.details["reason"] for e in history if e.event == "LoginFailed"]
    assert failures == ["wrong_one_time_code"]  # the missing code was not counted
    assert history[-1].event == "LoggedIn"


def test_an_approver_whose_key_was_erased_can_no_longer_log_in_and_it_is_recorded(
    platform: Platform, client: TestClient, clock: Clock
) -> None:
    approver, secret = open_account(platform, "leader", Role.APPROVER, "zz")
    assert secret is not None
    account: Any = platform.app.repository.get(UUID(approver.actor_id))
    subject = subject_of(account.totp_secret)
    assert platform.services.personal_data.erase(AUDIT, subject, "账号注销，删除个人信息")

    refused = attempt(client, "leader", PASSWORD, pyotp.TOTP(secret).at(clock.now))

    assert_problem(refused, 401, "authentication_failed")
    failures = [
        e.details["reason"]
        for e in platform.services.audit.history(AUDIT, approver.actor_id)
        if e.event == "LoginFailed"
    ]
    assert failures == ["credentials_erased"]  # the password hash was sealed with that key


def test_a_one_time_code_opens_one_login_only(
    platform: Platform, client: TestClient, clock: Clock
) -> None:
    """A code seen once (over a shoulder, in a proxy log) cannot be used again in its window."""
    approver, secret = open_account(platform, "leader", Role.APPROVER, "zz")
    assert secret is not None
    code = pyotp.TOTP(secret).at(clock.now)

    first = attempt(client, "leader", PASSWORD, code)
    clock.advance(seconds=10)
    again = attempt(client, "leader", PASSWORD, code)
    clock.advance(seconds=30)
    next_code = attempt(client, "leader", PASSWORD, pyotp.TOTP(secret).at(clock.now))

    assert first.status_code == 200
    assert_problem(again, 401, "authentication_failed")
    assert next_code.status_code == 200
    failures = [
        e.details["reason"]
        for e in platform.services.audit.history(AUDIT, approver.actor_id)
        if e.event == "LoginFailed"
    ]
    assert failures == ["one_time_code_reused"]


def test_a_window_clerk_logs_in_without_a_one_time_code(
    platform: Platform, client: TestClient
) -> None:
    _, secret = open_account(platform, "clerk", Role.WINDOW_CLERK, "zz-jinshui")

    assert secret is None
    assert attempt(client, "clerk", PASSWORD).status_code == 200


# -- accounts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    ["Ab1-xyz", "only-lower-and-symbols", "Zhangwei-2026"],
    ids=["seven characters", "two classes", "contains the username"],
)
def test_a_weak_password_is_refused_when_opening_an_account(
    platform: Platform, password: str
) -> None:
    console = Actor.system("zz", "test")
    before = platform.app.recorder.max_notification_id()

    with pytest.raises(InvalidInput) as refused:
        platform.services.staff.open_account(
            console, username="zhangwei", display_name="张伟", agency="zz-jinshui",
            roles=[str(Role.WINDOW_CLERK)], password=password,
        )  # fmt: skip

    assert (refused.value.field, refused.value.code) == ("password", "weak_password")
    assert "8" in refused.value.message_zh
    assert StaffAccount.create_id("zhangwei") not in platform.app.repository
    assert platform.app.recorder.max_notification_id() == before


@pytest.mark.parametrize(
    "roles",
    [sorted(pair) for pair in itertools.combinations(ADMIN_ROLES, 2)],
    ids="+".join,
)
def test_one_person_never_holds_two_administrator_roles(
    platform: Platform, roles: list[Role]
) -> None:
    console = Actor.system("zz", "test")

    with pytest.raises(InvalidInput) as refused:
        platform.services.staff.open_account(
            console, username="admin", display_name="管理员", agency="zz",
            roles=[str(r) for r in roles], password=PASSWORD,
        )  # fmt: skip

    assert (refused.value.field, refused.value.code) == ("roles", "admin_roles_combined")
    assert StaffAccount.create_id("admin") not in platform.app.repository


def test_session_tokens_carry_256_random_bits_and_only_their_hash_is_stored(
    platform: Platform, client: TestClient, clock: Clock
) -> None:
    open_account(platform, "clerk", Role.WINDOW_CLERK, "zz-jinshui")
    tokens = [
        login(client, "clerk", clock)["Authorization"].removeprefix("Bearer ") for _ in range(2)
    ]

    assert tokens[0] != tokens[1]
    assert all(len(token) >= len(secrets.token_urlsafe(32)) for token in tokens)  # ≥ 256 bits
    stored = sessions(platform)
    assert len(stored) == 2
    for row in stored:
        for token in tokens:
            assert all(token not in str(value) for value in row.values())
    assert {row["token_hash"] for row in stored} == {
        hashlib.sha256(token.encode()).hexdigest() for token in tokens
    }
