"""The window's list of citizens' submissions refused on import (issue 4, intake; RULES.md
Art. 29): what the importer quarantined is listed with the reason the applicant reads on the
tracking page, newest first and in pages, for the window clerks of every agency, the
supervisors and the auditors; it holds no personal data. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from deployment.bootstrap import Platform
from deployment.sides import build_importer
from domain.actor import Actor, Role
from domain.calendar import SHANGHAI
from domain.numbering import new_receipt_number
from domain.quarantine import QuarantinedSubmission
from tests.integration.api_fixtures import (  # noqa: F401 - fixtures are used by name
    CJK,
    LATIN,
    Headers,
    assert_problem,
    client_fixture,
    clock_fixture,
    platform_fixture,
    staff,
)
from tests.support import Clock

PATH = "/api/v1/intake/quarantine"
INTAKE = Actor.system("zz", "intake")  # as the importer records a refusal
UNKNOWN_DISTRICT = (
    "unknown_district",
    "district",
    "所填行政区不在郑州市管辖范围内，请选择郑州市的区、县（市）",
    "the district is not within the jurisdiction of 郑州市; please choose one of its districts",
)


def quarantine(
    platform: Platform, prefix: str = "BA", reason: tuple[str, ...] = UNKNOWN_DISTRICT
) -> str:
    """A submission refused on import, recorded by the same service call as the importer's."""
    receipt = new_receipt_number(prefix, date(2026, 11, 24))
    code, field, zh, en = reason
    assert platform.services.intake.quarantine(INTAKE, receipt, code, field, zh, en)
    return receipt


def listed(client: TestClient, headers: Headers, **params: Any) -> Any:
    response = client.get(PATH, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def clerk(platform: Platform, clock: Clock) -> Headers:
    return staff(platform, clock, "clerk", Role.WINDOW_CLERK, "zz-jinshui")


def test_art29_a_record_the_importer_refuses_is_listed_with_the_reason_the_applicant_reads(
    platform: Platform, client: TestClient, clock: Clock, clerk: Headers
) -> None:
    receipt = new_receipt_number("BA", clock.now.date())
    importer = build_importer(platform, platform.settings)

    assert importer.import_one(receipt, b'{"receipt_number": ') == "quarantined"

    page = listed(client, clerk)
    assert page["total"] == 1
    (item,) = page["items"]
    recorded: QuarantinedSubmission = platform.app.repository.get(
        QuarantinedSubmission.create_id(receipt)
    )
    assert item == {
        "receipt_number": receipt,
        "submission_kind": "filing",
        "code": recorded.code,
        "field": recorded.field or None,  # None: the whole record was at fault
        "reason_zh": recorded.reason_zh,
        "reason_en": recorded.reason_en,
        "quarantined_at": "2026-11-24T09:30:00+08:00",
    }
    assert item["code"] == "invalid_record"
    assert CJK.search(item["reason_zh"])
    assert LATIN.search(item["reason_en"])


def test_art29_each_refusal_is_listed_once_with_its_field_even_if_recorded_again(
    platform: Platform, client: TestClient, clerk: Headers
) -> None:
    receipt = quarantine(platform, "YY")
    code, field, zh, en = UNKNOWN_DISTRICT

    again = platform.services.intake.quarantine(INTAKE, receipt, code, field, zh, en)

    assert again is False  # a repeated import records nothing
    (item,) = listed(client, clerk)["items"]
    assert (item["receipt_number"], item["submission_kind"]) == (receipt, "booking")
    assert (item["code"], item["field"], item["reason_zh"]) == (code, field, zh)


def test_the_quarantine_list_pages_newest_first_without_overlap(
    platform: Platform, client: TestClient, clock: Clock
) -> None:
    receipts = []
    for _ in range(25):
        receipts.append(quarantine(platform))
        clock.advance(minutes=7)
    newest_first = receipts[::-1]
    clerk = staff(platform, clock, "clerk", Role.WINDOW_CLERK, "zz-jinshui")

    pages = [listed(client, clerk, page=n, size=10) for n in (1, 2, 3, 4)]

    assert [p["total"] for p in pages] == [25] * 4
    assert [(p["page"], p["size"]) for p in pages] == [(1, 10), (2, 10), (3, 10), (4, 10)]
    assert [len(p["items"]) for p in pages] == [10, 10, 5, 0]
    shown = [i["receipt_number"] for p in pages for i in p["items"]]
    assert shown == newest_first
    times = [i["quarantined_at"] for p in pages for i in p["items"]]
    assert times == sorted(times, reverse=True)
    assert times[0] == "2026-11-24T12:18:00+08:00"
    assert listed(client, clerk)["size"] == 20  # the default page


def test_one_refusal_is_found_by_its_receipt_number(
    platform: Platform, client: TestClient, clerk: Headers
) -> None:
    wanted, _ = quarantine(platform), quarantine(platform)

    found = listed(client, clerk, receipt_number=wanted.lower())

    assert (found["total"], [i["receipt_number"] for i in found["items"]]) == (1, [wanted])
    assert listed(client, clerk, receipt_number="BA20261124ZZZZZZ")["total"] == 0


@pytest.mark.parametrize(
    "params",
    [{"page": 0}, {"size": 0}, {"size": 101}, {"page": "x"}, {"receipt_number": "BA' OR 1=1"}],
    ids=str,
)
def test_bad_paging_is_refused_422_naming_the_parameter(
    client: TestClient, clerk: Headers, params: dict[str, Any]
) -> None:
    response = client.get(PATH, params=params, headers=clerk)

    problem = assert_problem(response, 422, "validation_failed")
    assert problem["errors"][0]["field"] == next(iter(params))


@pytest.mark.parametrize(
    ("role", "agency", "may"),
    [
        (Role.WINDOW_CLERK, "zz-jinshui", True),
        (Role.WINDOW_CLERK, "zz-erqi", True),  # city-wide: a refusal has no agency to scope by
        (Role.WINDOW_CLERK, "zz", True),
        (Role.SUPERVISOR, "zz", True),
        (Role.AUDITOR, "zz", True),
        (Role.HANDLER, "zz-jinshui", False),
        (Role.DEPT_HEAD, "zz", False),
        (Role.APPROVER, "zz", False),
        (Role.SYSTEM_ADMIN, "zz", False),
        (Role.PUBLICITY_EDITOR, "zz", False),
    ],
    ids=str,
)
def test_the_window_supervisors_and_auditors_read_the_refusals_of_the_whole_city(
    platform: Platform, client: TestClient, clock: Clock, role: Role, agency: str, may: bool
) -> None:
    receipt = quarantine(platform)  # an unknown district: no brigade to give it to
    headers = staff(platform, clock, "reader", role, agency)

    response = client.get(PATH, headers=headers)

    if may:
        assert response.status_code == 200, response.text
        assert [i["receipt_number"] for i in response.json()["items"]] == [receipt]
    else:
        body = assert_problem(response, 403, "not_permitted")
        assert body["command"] == "view_quarantine"
        assert receipt not in response.text


def test_without_a_session_the_refusals_are_not_shown(
    platform: Platform, client: TestClient
) -> None:
    receipt = quarantine(platform)

    response = client.get(PATH)

    assert_problem(response, 401, "not_authenticated")
    assert receipt not in response.text


def test_a_rebuild_of_the_read_models_lists_the_same_refusals(
    platform: Platform, client: TestClient, clock: Clock, clerk: Headers
) -> None:
    for prefix in ("BA", "YY", "BA"):
        quarantine(platform, prefix)
        clock.advance(seconds=1)
    before = listed(client, clerk)
    rows = platform.staff_backend().quarantine_queries.rows()

    platform.projector.rebuild()

    assert listed(client, clerk) == before
    assert platform.staff_backend().quarantine_queries.rows() == rows
    assert before["total"] == 3


def test_the_order_is_the_instants_and_the_times_are_shown_in_asia_shanghai(
    platform: Platform, client: TestClient, clock: Clock
) -> None:
    """A clock in UTC and one in Asia/Shanghai write different offsets: the list still puts
    the later instant first, and shows both in Beijing time."""
    clock.now = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)  # 16:30 in Beijing
    later = quarantine(platform)
    clock.now = datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)  # 02:00 UTC
    earlier = quarantine(platform)
    clerk = staff(platform, clock, "clerk", Role.WINDOW_CLERK, "zz-jinshui")

    items = listed(client, clerk)["items"]

    assert [(i["receipt_number"], i["quarantined_at"]) for i in items] == [
        (later, "2026-11-24T16:30:00+08:00"),
        (earlier, "2026-11-24T10:00:00+08:00"),
    ]
