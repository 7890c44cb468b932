"""Staff login in two steps (RULES.md "Who acts", Art. 39; domain.services.staff_login): the
password first, then a login ticket with the one-time code. The ticket keeps nothing of the
password and only its hash is stored; it expires after five minutes, opens one login, takes five
codes at most, and every wrong code counts towards the lockout like a wrong password. The
holder of several roles chooses the one to act in, and never one the account does not hold.

Runs on SQLite and on PostgreSQL (the ``platform`` fixture).
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deployment.bootstrap import Platform
from domain.actor import Actor, Role
from domain.errors import DomainError
from domain.services.staff_login import CODE_ATTEMPTS_PER_TICKET, TICKET_LIFETIME
from domain.staff import StaffAccount
from tests.integration.api_fixtures import (  # noqa: F401 - fixtures are used by name
    assert_problem,
    client_fixture,
    clock_fixture,
    platform_fixture,
    sessions,
)
from tests.integration.test_login import AUDIT, a_wrong_code, events
from tests.support import PASSWORD, Clock, client_of, make_platform, open_account, settings_for

SOURCE = "198.51.100.7"  # the client key of the address the steps come from
TICKET_COLUMNS = {"token_hash", "account_id", "role", "expires_at", "attempts_left"}


def password_step(
    client: TestClient, username: str, password: str = PASSWORD, **extra: Any
) -> httpx.Response:
    response: httpx.Response = client.post(
        "/api/v1/auth/login", json={"username": username, "password": password} | extra
    )
    return response


def ticket_of(response: httpx.Response) -> str:
    body = assert_problem(response, 401, "second_factor_required")
    ticket: str = body["ticket"]
    return ticket


def code_step(
    client: TestClient, ticket: str, code: str | None, role: str | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"ticket": ticket, "one_time_code": code}
    if role is not None:
        body["role"] = role
    response: httpx.Response = client.post("/api/v1/auth/login/totp", json=body)
    return response


def tickets(platform: Platform) -> list[dict[str, Any]]:
    """Every row of the login tickets' table."""
    with platform.sessions.store.transaction() as tx:
        return tx.fetchall("SELECT * FROM staff_login_tickets")


def failures(platform: Platform, account: Actor) -> list[str]:
    return [
        e.details["reason"]
        for e in platform.services.audit.history(AUDIT, account.actor_id)
        if e.event == "LoginFailed"
    ]


def open_with_roles(
    platform: Platform, username: str, roles: list[Role]
) -> tuple[Actor, str | None]:
    """An account holding several roles (acting in the first); its TOTP secret if one of
    them needs it."""
    console = Actor.system(platform.agencies.detachment.code, "test")
    opened = platform.services.staff.open_account(
        console, username=username, display_name=f"测试{username}", agency="zz-jinshui",
        roles=[str(r) for r in roles], password=PASSWORD,
    )  # fmt: skip
    return Actor(str(opened.account_id), roles[0], "zz-jinshui"), opened.totp_secret


@pytest.fixture(name="approver")
def approver_fixture(platform: Platform) -> tuple[Actor, str]:
    account, secret = open_account(platform, "leader", Role.APPROVER, "zz")
    assert secret is not None
    return account, secret


# -- the ticket keeps nothing of the password ----------------------------------------------------


def test_the_password_step_keeps_no_password_only_the_hash_of_a_random_ticket(
    platform: Platform, client: TestClient, clock: Clock, approver: tuple[Actor, str]
) -> None:
    account, _ = approver
    first, second = (ticket_of(password_step(client, "leader")) for _ in range(2))

    assert first != second
    assert len(first) >= 43  # secrets.token_urlsafe(32): 256 random bits
    stored = tickets(platform)
    assert {frozenset(row) for row in stored} == {frozenset(TICKET_COLUMNS)}
    assert {row["token_hash"] for row in stored} == {
        hashlib.sha256(t.encode()).hexdigest() for t in (first, second)
    }
    assert {row["account_id"] for row in stored} == {account.actor_id}
    for row in stored:
        text = repr(row)
        assert PASSWORD not in text
        assert "argon2" not in text
        assert first not in text
        assert second not in text
    assert not sessions(platform)
    # A right password alone is no login: nothing is recorded, nothing is reset.
    assert "LoggedIn" not in events(platform, account)


# -- the two-step JSON login ---------------------------------------------------------------------


def test_an_approver_logs_in_with_the_password_then_the_ticket_and_the_code(
    platform: Platform, client: TestClient, clock: Clock, approver: tuple[Actor, str]
) -> None:
    account, secret = approver
    refused = password_step(client, "leader")
    body = assert_problem(refused, 401, "second_factor_required")
    assert body["roles"] == ["approver"]
    assert body["ticket_expires_at"].endswith("+08:00")

    answer = code_step(client, body["ticket"], pyotp.TOTP(secret).at(clock.now))

    assert answer.status_code == 200, answer.text
    token = answer.json()["token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert (me.json()["username"], me.json()["role"]) == ("leader", "approver")
    assert events(platform, account)[-1] == "LoggedIn"
    assert failures(platform, account) == []
    assert tickets(platform) == []  # spent


def test_a_ticket_expires_five_minutes_after_the_password(
    platform: Platform, client: TestClient, clock: Clock, approver: tuple[Actor, str]
) -> None:
    account, secret = approver
    late, in_time = (ticket_of(password_step(client, "leader")) for _ in range(2))

    clock.advance(seconds=TICKET_LIFETIME.total_seconds() - 1)
    assert code_step(client, in_time, pyotp.TOTP(secret).at(clock.now)).status_code == 200
    clock.advance(seconds=31)  # a new code, and the other ticket is past its five minutes
    refused = code_step(client, late, pyotp.TOTP(secret).at(clock.now))

    assert_problem(refused, 401, "login_ticket_invalid")
    assert failures(platform, account) == []  # an ended ticket is no guess at the code


def test_a_ticket_opens_one_login_only(
    platform: Platform, client: TestClient, clock: Clock, approver: tuple[Actor, str]
) -> None:
    _, secret = approver
    ticket = ticket_of(password_step(client, "leader"))
    assert code_step(client, ticket, pyotp.TOTP(secret).at(clock.now)).status_code == 200

    clock.advance(seconds=30)
    again = code_step(client, ticket, pyotp.TOTP(secret).at(clock.now))

    assert_problem(again, 401, "login_ticket_invalid")
    assert len(sessions(platform)) == 1


def test_a_code_opens_one_login_even_through_another_ticket(
    platform: Platform, client: TestClient, clock: Clock, approver: tuple[Actor, str]
) -> None:
    account, secret = approver
    code = pyotp.TOTP(secret).at(clock.now)
    first, second = (ticket_of(password_step(client, "leader")) for _ in range(2))

    assert code_step(client, first, code).status_code == 200
    assert_problem(code_step(client, second, code), 401, "authentication_failed")
    assert failures(platform, account) == ["one_time_code_reused"]


def test_a_garbage_ticket_is_refused_and_counts_for_nobody(
    platform: Platform, client: TestClient, approver: tuple[Actor, str]
) -> None:
    account, _ = approver
    assert_problem(code_step(client, "not-a-ticket", "123456"), 401, "login_ticket_invalid")
    malformed = client.post("/api/v1/auth/login/totp", json={"ticket": "", "code": "1"})
    assert_problem(malformed, 422, "validation_failed")
    assert failures(platform, account) == []


def test_the_code_step_without_a_code_is_refused_and_keeps_the_ticket(
    platform: Platform, client: TestClient, clock: Clock, approver: tuple[Actor, str]
) -> None:
    account, secret = approver
    ticket = ticket_of(password_step(client, "leader"))

    assert_problem(code_step(client, ticket, None), 422, "one_time_code_required", "one_time_code")
    assert tickets(platform)[0]["attempts_left"] == CODE_ATTEMPTS_PER_TICKET
    assert code_step(client, ticket, pyotp.TOTP(secret).at(clock.now)).status_code == 200
    assert failures(platform, account) == []


# -- wrong codes and the lockout -----------------------------------------------------------------


def test_five_wrong_codes_through_a_ticket_lock_the_account_like_five_wrong_passwords(
    platform: Platform, client: TestClient, clock: Clock, approver: tuple[Actor, str]
) -> None:
    account, secret = approver
    ticket = ticket_of(password_step(client, "leader"))
    wrong = a_wrong_code(secret, clock)

    answers = [code_step(client, ticket, wrong) for _ in range(5)]
    right = code_step(client, ticket, pyotp.TOTP(secret).at(clock.now))
    afresh = password_step(client, "leader", one_time_code=pyotp.TOTP(secret).at(clock.now))

    for answer in answers:
        assert_problem(answer, 401, "authentication_failed")
    assert_problem(right, 401, "login_ticket_invalid")  # the ticket is used up
    assert_problem(afresh, 401, "account_locked")
    assert failures(platform, account) == ["wrong_one_time_code"] * 5
    assert Counter(events(platform, account))["Locked"] == 1
    assert not sessions(platform)
    assert not tickets(platform)


def test_wrong_passwords_and_wrong_codes_share_one_count(
    platform: Platform, client: TestClient, clock: Clock, approver: tuple[Actor, str]
) -> None:
    account, secret = approver
    for _ in range(3):
        assert_problem(
            password_step(client, "leader", "Wrong-Horse-1"), 401, "authentication_failed"
        )
    ticket = ticket_of(password_step(client, "leader"))  # the right password resets nothing
    wrong = a_wrong_code(secret, clock)

    assert_problem(code_step(client, ticket, wrong), 401, "authentication_failed")
    assert_problem(code_step(client, ticket, wrong), 401, "authentication_failed")
    locked = code_step(client, ticket, pyotp.TOTP(secret).at(clock.now))

    assert_problem(locked, 401, "account_locked")
    assert failures(platform, account) == ["wrong_password"] * 3 + ["wrong_one_time_code"] * 2
    assert not tickets(platform)  # a locked account's ticket ends with the lock


def test_a_ticket_issued_before_the_lock_does_not_get_round_it(
    platform: Platform, client: TestClient, clock: Clock, approver: tuple[Actor, str]
) -> None:
    _, secret = approver
    ticket = ticket_of(password_step(client, "leader"))
    for _ in range(5):
        password_step(client, "leader", "Wrong-Horse-1")  # someone else guesses meanwhile

    refused = code_step(client, ticket, pyotp.TOTP(secret).at(clock.now))

    assert_problem(refused, 401, "account_locked")
    assert not sessions(platform)


@pytest.fixture(name="lenient")
def lenient_fixture(tmp_path: Path, clock: Clock) -> Iterator[Platform]:
    """A platform that locks only after ten failures: the ticket's own bound shows."""
    built = make_platform(settings_for(tmp_path, login_max_failures=10), clock)
    try:
        yield built
    finally:
        built.close()


def test_a_ticket_takes_five_codes_at_most_even_where_the_lockout_allows_more(
    lenient: Platform, clock: Clock
) -> None:
    account, secret = open_account(lenient, "leader", Role.APPROVER, "zz")
    assert secret is not None
    client = client_of(lenient)
    ticket = ticket_of(password_step(client, "leader"))
    wrong = a_wrong_code(secret, clock)

    for _ in range(CODE_ATTEMPTS_PER_TICKET):
        assert_problem(code_step(client, ticket, wrong), 401, "authentication_failed")
    right = code_step(client, ticket, pyotp.TOTP(secret).at(clock.now))

    assert_problem(right, 401, "login_ticket_invalid")
    assert failures(lenient, account) == ["wrong_one_time_code"] * CODE_ATTEMPTS_PER_TICKET
    assert "Locked" not in events(lenient, account)


def test_parallel_codes_on_one_ticket_never_take_more_than_its_five_attempts(
    lenient: Platform, clock: Clock
) -> None:
    account, secret = open_account(lenient, "leader", Role.APPROVER, "zz")
    assert secret is not None
    login = lenient.services.staff.login
    checked = login.check_password("leader", PASSWORD, source=SOURCE)
    ticket = login.hold(checked, lenient.sessions.tickets).ticket
    wrong = a_wrong_code(secret, clock)
    start = threading.Barrier(12)

    def guess() -> str:
        start.wait()
        try:
            login.finish(ticket, wrong, None, lenient.sessions.tickets, source=SOURCE)
        except DomainError as refused:
            return refused.code
        return "logged in"

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = Counter(pool.map(lambda _: guess(), range(12)))

    assert answers == {"authentication_failed": 5, "login_ticket_invalid": 7}, answers
    assert failures(lenient, account) == ["wrong_one_time_code"] * 5


# -- the role to act in --------------------------------------------------------------------------


def test_the_holder_of_several_roles_chooses_one_and_defaults_to_the_first(
    platform: Platform, client: TestClient
) -> None:
    open_with_roles(platform, "chief", [Role.DEPT_HEAD, Role.HANDLER])

    default = password_step(client, "chief")
    chosen = password_step(client, "chief", role="handler")

    assert default.json()["actor"]["role"] == "dept_head"
    assert chosen.json()["actor"]["role"] == "handler"


@pytest.mark.parametrize("role", ["approver", "kaiser"], ids=["not held", "no such role"])
def test_a_role_the_account_does_not_hold_is_refused_422_and_counts_as_no_failure(
    platform: Platform, client: TestClient, role: str
) -> None:
    chief, _ = open_with_roles(platform, "chief", [Role.DEPT_HEAD, Role.HANDLER])

    refused = password_step(client, "chief", role=role)

    assert_problem(refused, 422, "role_not_held", "role")
    assert not sessions(platform)
    assert events(platform, chief) == ["Opened"]
    assert chief.actor_id == str(StaffAccount.create_id("chief"))


def test_an_approver_who_also_heads_a_department_chooses_the_role_in_the_code_step(
    platform: Platform, client: TestClient, clock: Clock
) -> None:
    _, secret = open_with_roles(platform, "chief", [Role.APPROVER, Role.DEPT_HEAD])
    assert secret is not None
    body = assert_problem(password_step(client, "chief"), 401, "second_factor_required")
    assert body["roles"] == ["approver", "dept_head"]
    code = pyotp.TOTP(secret).at(clock.now)

    refused = code_step(client, body["ticket"], code, role="handler")
    chosen = code_step(client, body["ticket"], code, role="dept_head")

    assert_problem(refused, 422, "role_not_held", "role")  # and the ticket lost no attempt
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["actor"]["role"] == "dept_head"


def test_the_role_asked_for_in_the_password_step_carries_into_the_code_step(
    platform: Platform, client: TestClient, clock: Clock
) -> None:
    _, secret = open_with_roles(platform, "chief", [Role.APPROVER, Role.DEPT_HEAD])
    assert secret is not None
    ticket = ticket_of(password_step(client, "chief", role="dept_head"))

    answer = code_step(client, ticket, pyotp.TOTP(secret).at(clock.now))

    assert answer.json()["actor"]["role"] == "dept_head"


# -- documented ----------------------------------------------------------------------------------


def test_the_two_steps_are_documented_in_openapi(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    login = spec["paths"]["/api/v1/auth/login"]["post"]
    second = spec["paths"]["/api/v1/auth/login/totp"]["post"]

    assert "second_factor_required" in login["description"]
    refused = login["responses"]["401"]
    assert "ticket" in refused["description"]
    assert refused["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
    assert "login_ticket_invalid" in second["responses"]["401"]["description"]
    assert "role_not_held" in second["responses"]["422"]["description"]
    request = second["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert request.endswith("/LoginTicketRequest")


# -- never a 500 -----------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    code=st.one_of(st.none(), st.text(max_size=10)),
    role=st.one_of(st.none(), st.text(max_size=32)),
    real_ticket=st.booleans(),
)
def test_whatever_comes_with_a_ticket_is_answered_401_or_422_never_500(
    lenient: Platform, clock: Clock, code: str | None, role: str | None, real_ticket: bool
) -> None:
    """Full-width digits, control characters, unknown roles: refusals, never a crash."""
    clock.advance(minutes=31)  # past any lock that the wrong codes of earlier examples set
    if StaffAccount.create_id("leader") not in lenient.app.repository:
        open_account(lenient, "leader", Role.APPROVER, "zz")
    client = client_of(lenient)
    ticket = ticket_of(password_step(client, "leader")) if real_ticket else "x" * 43

    answer = code_step(client, ticket, code, role)

    assert answer.status_code in {401, 422}, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
