"""Every refusal of the staff API is a problem-details answer (status, stable code, Chinese and
English message, the field where one is at fault), and a refused request changes nothing.

Runs on SQLite and on PostgreSQL (the ``platform`` fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api_internal.app import MAX_JSON_BODY
from deployment.bootstrap import Platform
from domain.actor import Role
from tests.integration.api_fixtures import (  # noqa: F401 - fixtures are used by name
    Headers,
    assert_problem,
    client_fixture,
    clock_fixture,
    head,
    platform_fixture,
    sessions,
    staff,
    submit,
    version,
)
from tests.support import Clock, filing_input, materials

JSON = {"content-type": "application/json"}


@pytest.fixture
def clerk(platform: Platform, clock: Clock) -> Headers:
    return staff(platform, clock, "clerk", Role.WINDOW_CLERK, "zz-jinshui")


@pytest.fixture
def receipt(client: TestClient, clerk: Headers) -> str:
    """A complete design filing at the 金水区 window, waiting for review."""
    return submit(client, clerk, filing_input())


def queue_count(client: TestClient, headers: Headers) -> int:
    response = client.get("/api/v1/filings/queue", headers=headers)
    assert response.status_code == 200, response.text
    count: int = response.json()["count"]
    return count


# -- 400 ---------------------------------------------------------------------------------------


def test_a_body_that_is_not_json_is_refused_400_and_records_nothing(
    platform: Platform, client: TestClient, clerk: Headers
) -> None:
    before = head(platform)

    response = client.post(
        "/api/v1/filings", content=b'{"kind": "design", "district": ', headers={**clerk, **JSON}
    )

    assert_problem(response, 400, "malformed_json")
    assert head(platform) == before
    assert queue_count(client, clerk) == 0


# -- 401 ---------------------------------------------------------------------------------------


def test_without_a_token_nothing_is_shown_and_nothing_is_done(
    platform: Platform, client: TestClient, receipt: str
) -> None:
    before = version(platform, receipt)

    for response in (
        client.get("/api/v1/filings/queue"),
        client.get(f"/api/v1/filings/{receipt}"),
        client.post(f"/api/v1/filings/{receipt}/certificate"),
    ):
        assert_problem(response, 401, "not_authenticated")
        assert response.headers["www-authenticate"] == "Bearer"

    assert version(platform, receipt) == before


def test_a_wrong_password_is_refused_401_and_opens_no_session(
    platform: Platform, client: TestClient, clerk: Headers, receipt: str
) -> None:
    open_sessions = len(sessions(platform))
    before = version(platform, receipt)

    response = client.post(
        "/api/v1/auth/login", json={"username": "clerk", "password": "Wrong-Horse-9"}
    )

    body = assert_problem(response, 401, "authentication_failed")
    assert "token" not in body
    assert len(sessions(platform)) == open_sessions
    assert version(platform, receipt) == before


def test_an_expired_session_is_refused_401_and_the_command_is_not_run(
    platform: Platform, client: TestClient, clock: Clock, clerk: Headers, receipt: str
) -> None:
    before = version(platform, receipt)
    clock.advance(minutes=31)

    response = client.post(f"/api/v1/filings/{receipt}/certificate", headers=clerk)

    assert_problem(response, 401, "session_expired")
    assert version(platform, receipt) == before
    assert platform.services.filings.load(receipt).certificate_number is None


# -- 403 ---------------------------------------------------------------------------------------


def test_a_role_without_the_permission_is_refused_403_and_the_filing_is_unchanged(
    platform: Platform, client: TestClient, clock: Clock, receipt: str
) -> None:
    handler = staff(platform, clock, "handler", Role.HANDLER, "zz-jinshui")
    before = version(platform, receipt)

    response = client.post(f"/api/v1/filings/{receipt}/certificate", headers=handler)

    body = assert_problem(response, 403, "not_permitted")
    assert body["command"] == "issue_certificate"
    assert version(platform, receipt) == before


def test_a_clerk_of_another_brigade_is_refused_403_outside_jurisdiction(
    platform: Platform, client: TestClient, clock: Clock, receipt: str
) -> None:
    erqi = staff(platform, clock, "clerk-erqi", Role.WINDOW_CLERK, "zz-erqi")
    before = version(platform, receipt)

    certify = client.post(f"/api/v1/filings/{receipt}/certificate", headers=erqi)
    look = client.get(f"/api/v1/filings/{receipt}", headers=erqi)

    assert_problem(certify, 403, "outside_jurisdiction")
    assert_problem(look, 403, "outside_jurisdiction")
    assert "contact_phone" not in look.text
    assert version(platform, receipt) == before
    assert queue_count(client, erqi) == 0


# -- 404 ---------------------------------------------------------------------------------------


def test_an_unknown_filing_is_404_for_reading_and_for_acting(
    platform: Platform, client: TestClient, clerk: Headers, receipt: str
) -> None:
    before = head(platform)
    unknown = "BA20261124ZZZZZZ"

    assert_problem(client.get(f"/api/v1/filings/{unknown}", headers=clerk), 404, "not_found")
    assert_problem(
        client.get(f"/api/v1/filings/{unknown}/history", headers=clerk), 404, "not_found"
    )
    assert_problem(
        client.post(f"/api/v1/filings/{unknown}/certificate", headers=clerk), 404, "not_found"
    )
    assert head(platform) == before


def test_an_unknown_route_is_a_404_problem_too(client: TestClient, clerk: Headers) -> None:
    assert_problem(client.get("/api/v1/nothing-here", headers=clerk), 404, "not_found")
    assert_problem(client.get("/wp-admin/index.php"), 404, "not_found")


# -- 409 ---------------------------------------------------------------------------------------


def test_certifying_twice_is_refused_409_and_takes_no_certificate_number(
    platform: Platform, client: TestClient, clerk: Headers, receipt: str
) -> None:
    first = client.post(f"/api/v1/filings/{receipt}/certificate", headers=clerk)
    assert first.status_code == 200, first.text
    before = version(platform, receipt)

    again = client.post(f"/api/v1/filings/{receipt}/certificate", headers=clerk)

    body = assert_problem(again, 409, "illegal_transition")
    assert body["case_status"] == "certified"
    assert version(platform, receipt) == before
    # The refused attempt did not consume a number: the next filing gets the next one.
    other = submit(client, clerk, filing_input(project_name="第二座大厦"))
    second = client.post(f"/api/v1/filings/{other}/certificate", headers=clerk)
    assert first.json()["certificate_number"] == "郑金消设备字〔2026〕第0001号"
    assert second.json()["certificate_number"] == "郑金消设备字〔2026〕第0002号"


def stale_etag(platform: Platform, client: TestClient, clock: Clock, receipt: str) -> str:
    """The ETag a clerk read just before a colleague issued a notice on the case."""
    colleague = staff(platform, clock, "colleague", Role.WINDOW_CLERK, "zz-jinshui")
    etag: str = client.get(f"/api/v1/filings/{receipt}", headers=colleague).headers["etag"]
    notice = {"items": [{"item": "planning_permit", "problem": "defective", "reason": "未盖章"}]}
    noticed = client.post(
        f"/api/v1/filings/{receipt}/supplement-notice",
        json=notice,
        headers={**colleague, "If-Match": etag},
    )
    assert noticed.status_code == 204, noticed.text
    return etag


def test_acting_on_a_stale_version_is_refused_409_with_retry_after(
    platform: Platform, client: TestClient, clock: Clock, clerk: Headers, receipt: str
) -> None:
    etag = client.get(f"/api/v1/filings/{receipt}", headers=clerk).headers["etag"]
    assert stale_etag(platform, client, clock, receipt) == etag
    before = version(platform, receipt)

    stale = client.post(
        f"/api/v1/filings/{receipt}/certificate", headers={**clerk, "If-Match": etag}
    )

    assert_problem(stale, 409, "concurrent_change")
    assert int(stale.headers["retry-after"]) >= 1
    assert version(platform, receipt) == before
    assert platform.services.filings.load(receipt).status == "awaiting_supplement"


@pytest.mark.parametrize(
    ("command", "body"),
    [("withdrawal", {"reason": "建设单位书面申请撤回"}), ("referral", None)],
)
def test_every_command_refuses_a_stale_if_match_409(
    platform: Platform,
    client: TestClient,
    clock: Clock,
    clerk: Headers,
    receipt: str,
    command: str,
    body: dict[str, Any] | None,
) -> None:
    etag = stale_etag(platform, client, clock, receipt)
    before = version(platform, receipt)

    stale = client.post(
        f"/api/v1/filings/{receipt}/{command}", json=body, headers={**clerk, "If-Match": etag}
    )

    assert_problem(stale, 409, "concurrent_change")
    assert version(platform, receipt) == before


def test_a_stale_if_match_from_outside_is_refused_403_not_409(
    platform: Platform, client: TestClient, clock: Clock, receipt: str
) -> None:
    """Who may act comes first: a stale version tells nobody outside the case that it moved."""
    etag = stale_etag(platform, client, clock, receipt)
    erqi = staff(platform, clock, "clerk-erqi", Role.WINDOW_CLERK, "zz-erqi")
    handler = staff(platform, clock, "handler", Role.HANDLER, "zz-jinshui")
    before = version(platform, receipt)

    outsider = client.post(
        f"/api/v1/filings/{receipt}/certificate", headers={**erqi, "If-Match": etag}
    )
    wrong_role = client.post(
        f"/api/v1/filings/{receipt}/certificate", headers={**handler, "If-Match": etag}
    )

    assert_problem(outsider, 403, "outside_jurisdiction")
    assert_problem(wrong_role, 403, "not_permitted")
    assert version(platform, receipt) == before


# -- 413 ---------------------------------------------------------------------------------------


def test_a_body_over_one_mebibyte_is_refused_413_before_anything_runs(
    platform: Platform, client: TestClient, clerk: Headers, receipt: str
) -> None:
    before = version(platform, receipt)
    reason = "撤" * (MAX_JSON_BODY // 3 + 1)  # three bytes each in UTF-8

    response = client.post(
        f"/api/v1/filings/{receipt}/withdrawal",
        content=f'{{"reason": "{reason}"}}'.encode(),
        headers={**clerk, **JSON},
    )

    body = assert_problem(response, 413, "payload_too_large")
    assert body["max_bytes"] == MAX_JSON_BODY == 1024 * 1024
    assert version(platform, receipt) == before
    assert platform.services.filings.load(receipt).status == "received"


def test_a_body_of_unknown_length_is_refused_411_before_anything_runs(
    platform: Platform, client: TestClient, clerk: Headers, receipt: str
) -> None:
    before = version(platform, receipt)

    def chunks() -> Iterator[bytes]:
        yield b'{"reason": "'
        yield "撤".encode() * 10
        yield b'"}'

    response = client.post(
        f"/api/v1/filings/{receipt}/withdrawal", content=chunks(), headers={**clerk, **JSON}
    )

    assert_problem(response, 411, "length_required")
    assert version(platform, receipt) == before


# -- 422 ---------------------------------------------------------------------------------------


def test_a_wrong_credit_code_check_character_is_refused_422_on_credit_code(
    platform: Platform, client: TestClient, clerk: Headers, receipt: str
) -> None:
    good = filing_input()["credit_code"]
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    before, queued = head(platform), queue_count(client, clerk)

    response = client.post("/api/v1/filings", json=filing_input(credit_code=wrong), headers=clerk)

    assert_problem(response, 422, "invalid_credit_code", field="credit_code")
    assert (head(platform), queue_count(client, clerk)) == (before, queued)


def test_a_district_outside_the_city_is_refused_422_on_district(
    platform: Platform, client: TestClient, clerk: Headers, receipt: str
) -> None:
    before, queued = head(platform), queue_count(client, clerk)

    response = client.post("/api/v1/filings", json=filing_input(district="浦东新区"), headers=clerk)

    assert_problem(response, 422, "unknown_district", field="district")
    assert (head(platform), queue_count(client, clerk)) == (before, queued)


def test_a_body_missing_a_field_is_refused_422_naming_the_field(
    platform: Platform, client: TestClient, clerk: Headers, receipt: str
) -> None:
    body = filing_input()
    del body["district"]
    before, queued = head(platform), queue_count(client, clerk)

    response = client.post("/api/v1/filings", json=body, headers=clerk)

    problem = assert_problem(response, 422, "validation_failed")
    assert {"field": "district", "type": "missing"}.items() <= problem["errors"][0].items()
    assert (head(platform), queue_count(client, clerk)) == (before, queued)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/filings/%00"),
        ("GET", "/api/v1/filings/%00/history"),
        ("POST", "/api/v1/filings/BA%2000/certificate"),
        ("POST", "/api/v1/filings/%E2%98%83/withdrawal"),
    ],
)
def test_a_receipt_number_of_other_characters_is_refused_422_before_any_query(
    platform: Platform, client: TestClient, clerk: Headers, method: str, path: str
) -> None:
    """A NUL cannot even be sent to PostgreSQL in a text parameter: it is refused here."""
    before = head(platform)

    response = client.request(method, path, json={"reason": "撤回"}, headers=clerk)

    problem = assert_problem(response, 422, "validation_failed")
    assert problem["errors"][0]["field"] == "receipt_number"
    assert head(platform) == before


def test_the_api_description_names_every_status_and_no_configured_number(
    client: TestClient,
) -> None:
    description = client.get("/openapi.json").json()["info"]["description"]

    for status in (400, 401, 403, 404, 409, 411, 413, 422):
        assert str(status) in description
    assert "Retry-After" in description
    assert "30 分钟" not in description  # the idle timeout and the lockout are settings


# -- never a 500 -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Odd:
    method: str
    path: str  # "{r}" stands for a real receipt number
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


ODD_INPUTS = {
    "a 900 kB name, within the body limit": Odd(
        "POST", "/api/v1/filings", json=filing_input(organisation_name="x" * 900_000)
    ),
    "emoji, rare CJK and bidi marks": Odd(
        "POST",
        "/api/v1/filings",
        json=filing_input(organisation_name="🔥郑州𠮷置业™", project_name="\u202e测试大厦"),
    ),
    "a NUL and a bell inside a project name": Odd(
        "POST", "/api/v1/filings", json=filing_input(project_name="测试\x00大厦\x07")
    ),
    "nulls for required fields": Odd(
        "POST", "/api/v1/filings", json=filing_input(kind=None, materials=None)
    ),
    "wrong types everywhere": Odd(
        "POST",
        "/api/v1/filings",
        json=filing_input(credit_code=12345, materials={"a": 1}, district=["金水区"]),
    ),
    "a material of impossible size": Odd(
        "POST",
        "/api/v1/filings",
        json=filing_input(materials=[{**materials()[0], "size": 10**30}]),
    ),
    "an array instead of an object": Odd("POST", "/api/v1/filings", json=[1, 2, 3]),
    "arrays nested 100 000 deep": Odd(
        "POST", "/api/v1/filings", content=b"[" * 100_000 + b"]" * 100_000
    ),
    "invalid UTF-8": Odd("POST", "/api/v1/filings", content=b'{"kind": "\xff\xfe"}'),
    "an empty body for a withdrawal": Odd("POST", "/api/v1/filings/{r}/withdrawal", content=b""),
    "a string for a boolean": Odd(
        "POST", "/api/v1/filings/{r}/inspection-result", json={"passed": "yes", "findings": [None]}
    ),
    "quotes and SQL in the receipt number": Odd("GET", "/api/v1/filings/%27%22%3B--%20OR%201=1"),
    "a snowman receipt number": Odd("POST", "/api/v1/filings/%E2%98%83/certificate"),
    "a NUL receipt number": Odd("GET", "/api/v1/filings/%00/history"),
    "a NUL receipt number for the case": Odd("GET", "/api/v1/filings/%00"),
    "a NUL receipt number for a command": Odd("POST", "/api/v1/filings/%00/certificate"),
    "a path traversal receipt number": Odd("GET", "/api/v1/filings/..%2F..%2Fetc%2Fpasswd"),
    "a 4000 character receipt number": Odd("GET", "/api/v1/filings/" + "A" * 4000 + "/history"),
    "a UUID of nothing as history key": Odd(
        "GET", "/api/v1/filings/00000000-0000-0000-0000-000000000000/history"
    ),
    "a garbage If-Match": Odd(
        "POST", "/api/v1/filings/{r}/certificate", headers={"If-Match": 'W/"v1; DROP"'}
    ),
    "a 30 digit If-Match": Odd(
        "POST", "/api/v1/filings/{r}/certificate", headers={"If-Match": "9" * 30}
    ),
    "a query flag that is not a boolean": Odd("GET", "/api/v1/filings/queue?overdue_only=maybe"),
    "a login as an unknown role": Odd(
        "POST",
        "/api/v1/auth/login",
        json={"username": "clerk", "password": "Correct-Horse-9", "role": "emperor"},
    ),
    "a login with a NUL username": Odd(
        "POST", "/api/v1/auth/login", json={"username": "\x00", "password": "x" * 256}
    ),
}


@pytest.mark.parametrize("odd", ODD_INPUTS.values(), ids=ODD_INPUTS.keys())
def test_odd_input_never_causes_a_server_error_nor_wedges_the_console(
    client: TestClient, clerk: Headers, receipt: str, odd: Odd
) -> None:
    headers = {**clerk, **odd.headers}
    if odd.content is not None:
        headers.update(JSON)

    response = client.request(
        odd.method,
        odd.path.replace("{r}", receipt),
        json=odd.json,
        content=odd.content,
        headers=headers,
    )

    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["status"] == response.status_code
    # Whatever was accepted, the read models still follow: the window's queue answers.
    assert queue_count(client, clerk) >= 1
