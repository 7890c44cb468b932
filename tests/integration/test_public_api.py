"""The public API (RULES.md Art. 10, 20, 29): read-only, problem details for every error, a rate
limit per client address, cache headers on public lists, never a 500 for what anyone sends."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api_public.app import create_public_app
from api_public.ratelimit import RateLimiter
from tests.integration.bridge_fixtures import (  # noqa: F401 - the fixture
    CLERK,
    Installation,
    installation_fixture,
)


def client_of(installation: Installation) -> TestClient:
    return TestClient(create_public_app(installation.public.backend), raise_server_exceptions=False)


def test_too_many_requests_from_one_address_get_429_with_retry_after(
    installation: Installation,
) -> None:
    installation.public.backend.requests = RateLimiter(per_minute=60, burst=3)
    client = client_of(installation)

    answers = [client.get("/api/v1/bridge/status").status_code for _ in range(4)]
    refused = client.get("/api/v1/bridge/status")

    assert answers == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "too_many_requests"
    assert int(refused.headers["retry-after"]) >= 1


def test_query_codes_cannot_be_guessed_at_speed(installation: Installation) -> None:
    receipt, _ = installation.file()
    installation.cross()
    client = client_of(installation)

    codes = [
        client.get(f"/api/v1/cases/{receipt}", headers={"X-Query-Code": f"WRONG{i:05d}"})
        for i in range(11)
    ]

    assert [c.status_code for c in codes] == [403] * 10 + [429]


def test_public_lists_carry_cache_headers_and_tracking_does_not(
    installation: Installation,
) -> None:
    receipt, _ = installation.file()
    installation.cross()
    client = client_of(installation)

    assert client.get("/api/v1/inspection-results").headers["cache-control"] == "public, max-age=60"
    assert client.get("/api/v1/ledger/checkpoints").headers["cache-control"] == "public, max-age=60"
    assert client.get(f"/api/v1/cases/{receipt}").headers["cache-control"] == "no-store"
    assert client.get("/api/v1/certificates/X").headers["cache-control"] == "no-cache"
    assert client.get("/api/v1/bridge/status").headers["x-content-type-options"] == "nosniff"


def test_published_inspection_results_are_filtered_and_paged(installation: Installation) -> None:
    from domain.actor import Actor, Role

    filings = installation.platform.services.filings
    head = Actor("head", Role.DEPT_HEAD, "zz-jinshui")
    handler = Actor("handler", Role.HANDLER, "zz-jinshui")
    approver = Actor("approver", Role.APPROVER, "zz-jinshui")
    for index in range(3):
        receipt, _ = installation.file(contact_phone=f"1390000000{index}")
        installation.certify(receipt)
        filings.select_for_inspection(head, receipt, f"抽签 2026-{index}")
        filings.record_inspection_result(
            handler, receipt, index != 1, ["疏散指示标志损坏"] * (index == 1)
        )
        filings.approve_result_for_publication(approver, receipt)
    installation.cross()
    client = client_of(installation)

    page = client.get(
        "/api/v1/inspection-results", params={"agency": "zz-jinshui", "size": 2}
    ).json()
    second = client.get("/api/v1/inspection-results", params={"size": 2, "page": 2}).json()
    elsewhere = client.get("/api/v1/inspection-results", params={"district": "二七区"}).json()

    assert page["total"] == 3
    assert len(page["items"]) == 2
    assert len(second["items"]) == 1
    assert elsewhere["total"] == 0
    failed = [i for i in page["items"] + second["items"] if not i["passed"]]
    assert [f["findings"] for f in failed] == [["疏散指示标志损坏"]]


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/cases/NOSUCHCASE", 404, "case_not_found"),
        ("/api/v1/cases/%00%01", 404, "case_not_found"),
        ("/api/v1/cases/" + "A" * 5000, 404, "case_not_found"),
        ("/api/v1/inspection-results?page=0", 422, "validation_failed"),
        ("/api/v1/inspection-results?size=1000", 422, "validation_failed"),
        ("/api/v1/inspection-results?from=yesterday", 422, "validation_failed"),
        ("/api/v1/ledger/checkpoints?after=-1", 422, "validation_failed"),
        ("/api/v1/ledger/checkpoints?after=9223372036854775808", 422, "validation_failed"),
        ("/api/v1/nothing-here", 404, "not_found"),
    ],
)
def test_odd_requests_get_problem_details_never_a_500(
    installation: Installation, path: str, status: int, code: str
) -> None:
    response = client_of(installation).get(path)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    assert body["message_zh"]
    assert body["message_en"]


def test_the_public_api_cannot_change_anything(installation: Installation) -> None:
    client = client_of(installation)
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)("/api/v1/bridge/status").status_code == 405
