"""Fixtures and helpers for the staff API tests: a platform on SQLite or PostgreSQL, a client,
logged-in staff, and the checks every refusal shares (a problem-details body, nothing changed).

The fixtures are named ``clock``, ``platform`` and ``client``; a test module imports their
functions (``from tests.integration.api_fixtures import platform_fixture  # noqa: F401``) and
its tests ask for them by those names.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from fastapi.testclient import TestClient

from deployment.bootstrap import Platform
from domain.actor import Role
from tests.support import PASSWORD, Clock, client_of, make_platform, open_account, settings_for

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{2,}")
Headers = dict[str, str]


@pytest.fixture(name="clock")
def clock_fixture() -> Clock:
    return Clock()


@pytest.fixture(
    name="platform", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def platform_fixture(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> Iterator[Platform]:
    """The whole platform on SQLite files in tmp_path, or on its own PostgreSQL schema."""
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_url")
        schema: str = request.getfixturevalue("pg_schema")
        settings = settings_for(tmp_path, database_url=url, schema=schema)
    else:
        settings = settings_for(tmp_path)
    built = make_platform(settings, clock)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture(name="client")
def client_fixture(platform: Platform) -> TestClient:
    return client_of(platform)


def one_time_code(secret: str | None, clock: Clock) -> str | None:
    return pyotp.TOTP(secret).at(clock.now) if secret else None


def login(client: TestClient, username: str, clock: Clock, secret: str | None = None) -> Headers:
    """Log in over HTTP (with the current TOTP code if the account has one); bearer headers."""
    response = client.post(
        "/api/v1/auth/login",
        json={
            "username": username,
            "password": PASSWORD,
            "one_time_code": one_time_code(secret, clock),
        },
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def staff(platform: Platform, clock: Clock, username: str, role: Role, agency: str) -> Headers:
    """Open an account from the console and give it a session as a login would; its bearer
    headers. (Login itself, argon2 and all, is the business of test_login.py.)"""
    actor, _ = open_account(platform, username, role, agency)
    return {"Authorization": f"Bearer {platform.sessions.open(actor, clock.now)}"}


def submit(client: TestClient, headers: Headers, body: dict[str, Any]) -> str:
    """Record a window filing over HTTP; its receipt number."""
    response = client.post("/api/v1/filings", json=body, headers=headers)
    assert response.status_code == 201, response.text
    receipt: str = response.json()["receipt_number"]
    return receipt


def head(platform: Platform) -> int:
    """The notification log's last position: unchanged means no event was recorded."""
    position: int = platform.app.recorder.max_notification_id() or 0
    return position


def version(platform: Platform, receipt: str) -> int:
    found: int = platform.services.filings.load(receipt).version
    return found


def sessions(platform: Platform) -> list[dict[str, Any]]:
    """Every row of the server-side session table."""
    with platform.sessions.store.transaction() as tx:
        return tx.fetchall("SELECT * FROM staff_sessions")


def assert_problem(
    response: httpx.Response, status: int, code: str, field: str | None = None
) -> dict[str, Any]:
    """A problem-details answer with the status, the stable code and both messages."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert CJK.search(body["message_zh"]), body["message_zh"]
    assert LATIN.search(body["message_en"]), body["message_en"]
    if field is not None:
        assert body["field"] == field
    return body
