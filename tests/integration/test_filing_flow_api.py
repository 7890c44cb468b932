"""The window's week, over HTTP (RULES.md Art. 7-10): a filing handed in with two documents
missing, one complete supplement notice within the 5 working days, the resubmission, the
certificate, and a case history that says who did each step, in which role and agency, and
when. Runs on SQLite and on PostgreSQL (the ``platform`` fixture).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from deployment.bootstrap import Platform
from domain.actor import Actor, Role
from domain.calendar import SHANGHAI
from tests.integration.api_fixtures import (  # noqa: F401 - fixtures are used by name
    CJK,
    Headers,
    assert_problem,
    client_fixture,
    clock_fixture,
    login,
    platform_fixture,
    submit,
)
from tests.support import Clock, client_of, filing_input, make_platform, materials, settings_for

MISSING = ("designer_qualification", "construction_permit")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def get(client: TestClient, path: str, headers: Headers) -> Any:
    response = client.get(f"/api/v1/filings{path}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def post(client: TestClient, path: str, headers: Headers, body: Any = None) -> httpx.Response:
    response: httpx.Response = client.post(f"/api/v1/filings{path}", json=body, headers=headers)
    assert response.status_code < 300, response.text
    return response


def test_a_clerk_takes_a_filing_from_incomplete_to_certified_within_the_week(
    platform: Platform, client: TestClient, clock: Clock
) -> None:
    platform.services.staff.open_account(
        Actor.system("zz", "test"), username="wangxy", display_name="王晓燕",
        agency="zz-jinshui", roles=[str(Role.WINDOW_CLERK)], password="Correct-Horse-9",
    )  # fmt: skip

    # Tuesday 09:30: the applicant hands in a design filing with two documents missing.
    clock.now = at(24, 9, 30)
    tuesday = login(client, "wangxy", clock)
    receipt = submit(client, tuesday, filing_input(materials=materials(leave_out=MISSING)))

    queue = get(client, "/queue", tuesday)
    (item,) = queue["items"]
    assert (item["receipt_number"], item["agency"]) == (receipt, "zz-jinshui")
    assert item["received_at"] == "2026-11-24T09:30:00+08:00"
    assert item["deadline"] == "2026-12-01T23:59:59+08:00"  # 5 working days, to the day's end
    assert (item["working_days_left"], item["overdue"], queue["overdue"]) == (5, False, 0)

    # Wednesday 10:00: a day less to go; certifying now would be refused, the gaps named.
    clock.now = at(25, 10)
    wednesday = login(client, "wangxy", clock)
    assert get(client, "/queue", wednesday)["items"][0]["working_days_left"] == 4
    too_early = client.post(f"/api/v1/filings/{receipt}/certificate", headers=wednesday)
    assert set(assert_problem(too_early, 409, "materials_incomplete")["items"]) == set(MISSING)

    # So she issues one notice listing every required item the case lacks.
    checklist = get(client, "/checklists", wednesday)["design"]["items"]
    handed_in = {m["item"] for m in get(client, f"/{receipt}", wednesday)["materials"]}
    missing = [i["item"] for i in checklist if i["required"] and i["item"] not in handed_in]
    notice = [{"item": i, "problem": "missing", "reason": "未提交该材料"} for i in missing]
    post(client, f"/{receipt}/supplement-notice", wednesday, {"items": notice})

    waiting = get(client, f"/{receipt}", wednesday)
    assert (waiting["status"], waiting["notices"]) == ("awaiting_supplement", 1)
    assert [i["item"] for i in waiting["last_notice"]["items"]] == list(MISSING)
    assert get(client, "/queue", wednesday)["count"] == 0

    # Thursday 14:00: the missing documents arrive at the window; a new 5 days start.
    clock.now = at(26, 14)
    thursday = login(client, "wangxy", clock)
    post(client, f"/{receipt}/resubmission", thursday, {"materials": materials(version="2")})
    (again,) = get(client, "/queue", thursday)["items"]
    assert again["deadline"] == "2026-12-03T23:59:59+08:00"

    certificate = post(client, f"/{receipt}/certificate", thursday).json()

    assert certificate["certificate_number"] == "郑金消设备字〔2026〕第0001号"
    done = get(client, f"/{receipt}", thursday)
    assert (done["status"], done["status_zh"]) == ("certified", "已备案")
    assert done["certificate_number"] == "郑金消设备字〔2026〕第0001号"
    assert done["review_deadline"] is None
    assert (done["contact_name"], done["contact_phone"]) == ("张伟", "13812345678")
    assert get(client, "/queue", thursday)["count"] == 0

    history = get(client, f"/{receipt}/history", thursday)
    assert history["receipt_number"] == receipt
    steps = [
        (e["event"], e["actor_name"], e["role"], e["role_zh"], e["agency"], e["at"])
        for e in history["events"]
    ]
    who = ("王晓燕（wangxy）", "window_clerk", "受理窗口", "zz-jinshui")
    assert steps == [
        ("Submitted", *who, "2026-11-24T09:30:00+08:00"),
        ("SupplementNoticeIssued", *who, "2026-11-25T10:00:00+08:00"),
        ("Resubmitted", *who, "2026-11-26T14:00:00+08:00"),
        ("CertificateIssued", *who, "2026-11-26T14:00:00+08:00"),
    ]
    assert all(CJK.search(e["what_zh"]) for e in history["events"])


def test_the_openapi_document_describes_every_filing_route_in_chinese(tmp_path: Path) -> None:
    platform = make_platform(settings_for(tmp_path), Clock())
    try:
        response = client_of(platform).get("/openapi.json")
    finally:
        platform.close()

    assert response.status_code == 200
    paths = response.json()["paths"]
    operations = [
        (f"{method.upper()} {path}", operation)
        for path, methods in paths.items()
        if path.startswith("/api/v1/filings")
        for method, operation in methods.items()
    ]
    assert len(operations) >= 13
    for name, operation in operations:
        assert CJK.search(operation.get("summary", "")), f"{name} has no Chinese summary"
