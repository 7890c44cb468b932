"""Bookings on the public side (RULES.md Art. 11-16, 29; issue 4): each step a booking takes
inside shows up on public tracking with its date, the deadlines the applicant waits on, the
half day, the reasons and the result — and never the contact person, the contact's phone or
who handled it. Runs on SQLite and, with both sides' read models, on PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from api_public.app import create_public_app
from domain.actor import Actor, Role
from domain.calendar import SHANGHAI
from tests.booking_support import ERQI, JINSHUI, booking_input
from tests.integration.booking_bridge_fixtures import (  # noqa: F401 - the fixture
    CONTACT,
    MOBILE,
    Desks,
    both_fixture,
)
from tests.integration.bridge_fixtures import (  # noqa: F401 - the fixture
    Installation,
    installation_fixture,
)
from tests.support import document

ID_NUMBER = "11010519491231002X"


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def tracking(installation: Installation, receipt: str, code: str | None = None) -> Any:
    installation.cross()
    client = TestClient(create_public_app(installation.public.backend))
    headers = {"X-Query-Code": code} if code else {}
    response = client.get(f"/api/v1/cases/{receipt}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def steps(summary: Any) -> list[tuple[str, str]]:
    return [(step["step"], step["at"]) for step in summary["timeline"]]


def everything_public(installation: Installation) -> str:
    return orjson.dumps(installation.public.queries.dump()).decode()


def test_art16_a_booking_handled_inside_shows_each_step_with_its_date_on_public_tracking(
    both: Installation,
) -> None:
    installation, clock, desks = both, both.clock, Desks(both)
    bookings = desks.bookings

    # Tuesday 09:30: the window records the booking; it is due to be forwarded by noon.
    clock.now = at(11, 24, 9, 30)
    receipt, code = desks.book(installation)
    received = tracking(installation, receipt)
    assert (received["case_type"], received["status"]) == ("booking", "received")
    assert received["status_zh"] == "已接收，待窗口审查"
    assert received["deadlines"]["forward_by"] == "2026-11-24T12:00:00+08:00"
    assert "project_name" not in received  # details only with the query code

    # 10:00 forwarded, 11:00 assigned: the reply is due within 2 working days of the receipt,
    # the pre-opening inspection within 10 working days of the acceptance.
    clock.now = at(11, 24, 10)
    bookings.forward(desks.window, receipt, "防火监督科")
    clock.now = at(11, 24, 11)
    bookings.assign(desks.head, receipt, desks.handler.actor_id)
    assigned = tracking(installation, receipt)
    assert assigned["status"] == "assigned"
    assert assigned["deadlines"] == {
        "forward_by": None,
        "reply_by": "2026-11-26T23:59:59+08:00",
        "inspect_by": "2026-12-08T23:59:59+08:00",
    }

    # Wednesday: the handler offers Friday morning; Thursday the applicant accepts.
    clock.now = at(11, 25, 15)
    bookings.reply_with_slot(desks.handler, receipt, "2026-11-27", "am")
    offered = tracking(installation, receipt, code)
    assert offered["status_zh"] == "已回复检查时间，待申请人确认"
    assert offered["slot"] == {
        "day": "2026-11-27", "half": "am", "half_zh": "上午", "accepted": False,
        "accepted_at": None,
    }  # fmt: skip
    assert offered["deadlines"]["reply_by"] is None
    clock.now = at(11, 26, 9)
    bookings.accept_slot(desks.window, receipt)

    # Friday 10:00, on site: failed, with findings (a phone typed into them is masked).
    clock.now = at(11, 27, 10)
    bookings.record_result(
        desks.handler, receipt, False, [f"疏散通道堵塞，现场负责人电话 {MOBILE}"], "2026-12-01"
    )
    anyone = tracking(installation, receipt)
    applicant = tracking(installation, receipt, code)

    assert steps(anyone) == [
        ("received", "2026-11-24T09:30:00+08:00"),
        ("forwarded", "2026-11-24T10:00:00+08:00"),
        ("handlers_assigned", "2026-11-24T11:00:00+08:00"),
        ("slot_offered", "2026-11-25T15:00:00+08:00"),
        ("slot_accepted", "2026-11-26T09:00:00+08:00"),
        ("inspection_result_recorded", "2026-11-27T10:00:00+08:00"),
    ]
    assert [s["step_zh"] for s in anyone["timeline"]][-1] == "记录检查结果"
    assert "details" not in anyone["timeline"][0]
    assert (anyone["status"], anyone["status_zh"]) == ("inspected", "已检查")
    assert applicant["slot"]["accepted"] is True
    assert applicant["slot"]["accepted_at"] == "2026-11-26T09:00:00+08:00"
    assert applicant["result"] == {
        "passed": False,
        "findings": ["疏散通道堵塞，现场负责人电话 139****5678"],
        "recheck_date": "2026-12-01",
    }
    assert (applicant["department"], applicant["route"]) == ("防火监督科", "ordinary")
    assert applicant["kind_zh"] == "公众聚集场所投入使用、营业前消防安全检查"
    assert applicant["timeline"][3]["details"]["half_zh"] == "上午"
    public = everything_public(installation)
    assert MOBILE not in public
    assert CONTACT not in public  # the contact stayed sealed inside
    assert desks.handler.actor_id not in public  # who handled it never crosses
    assert desks.head.actor_id not in public
    assert "测试handler" not in public


def test_art15_a_booking_outside_the_remit_is_rejected_naming_the_competent_agency(
    installation: Installation,
) -> None:
    desks = Desks(installation)
    receipt, code = desks.book(installation, district="二七区", agency=JINSHUI)

    desks.bookings.reject(desks.window, receipt)
    summary = tracking(installation, receipt, code)

    assert (summary["status"], summary["status_zh"]) == (
        "rejected",
        "不予受理（请向有管辖权的机构申请）",
    )
    assert summary["referral"] == {"agency": ERQI, "agency_name": "郑州市二七区消防救援大队"}
    assert summary["timeline"][-1]["details"]["agency"] == ERQI
    assert summary["deadlines"] == {"forward_by": None, "reply_by": None, "inspect_by": None}


def test_art16_a_refusal_shows_its_reason_masked(installation: Installation) -> None:
    desks = Desks(installation)
    receipt, code = desks.book(installation)
    desks.up_to_reply(receipt)

    desks.bookings.reply_with_refusal(
        desks.handler, receipt, f"场所尚未竣工，请竣工后再约；经办人身份证 {ID_NUMBER}"
    )
    summary = tracking(installation, receipt, code)

    assert summary["status"] == "refused"
    assert (
        summary["refusal_reason"] == "场所尚未竣工，请竣工后再约；经办人身份证 110105********002X"
    )
    assert summary["deadlines"]["inspect_by"] is None
    assert ID_NUMBER not in everything_public(installation)


def test_art16_asking_for_another_slot_starts_a_new_reply_deadline_and_a_cancel_ends_it(
    installation: Installation,
) -> None:
    desks, clock = Desks(installation), installation.clock
    receipt, code = desks.book(installation)
    desks.up_to_reply(receipt)
    desks.bookings.reply_with_slot(desks.handler, receipt, "2026-11-27", "pm")

    clock.now = at(11, 26, 16)  # Thursday afternoon: a new cycle of 2 working days
    desks.bookings.request_another_slot(desks.window, receipt)
    again = tracking(installation, receipt, code)
    clock.now = at(11, 27, 9)
    desks.bookings.cancel(desks.window, receipt, f"计划有变，请致电 {MOBILE}")
    cancelled = tracking(installation, receipt, code)

    assert again["status"] == "assigned"
    assert again["slot"] is None
    assert again["deadlines"]["reply_by"] == "2026-11-30T23:59:59+08:00"
    assert again["timeline"][-1]["details"] == {"reply_deadline": "2026-11-30T23:59:59+08:00"}
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancel_reason"] is None  # the applicant's own reason: it stays inside
    assert "计划有变" not in str(cancelled)
    assert cancelled["deadlines"] == {"forward_by": None, "reply_by": None, "inspect_by": None}
    assert [s["step"] for s in cancelled["timeline"]][-2:] == [
        "another_slot_requested",
        "cancelled",
    ]


def test_notice_and_commitment_the_permit_shows_with_its_20_working_day_site_check(
    installation: Installation,
) -> None:
    desks = Desks(installation)
    receipt, code = desks.book(installation, route="notice_commitment")

    desks.bookings.issue_permit_on_commitment(
        desks.window, receipt, "防火监督科", document("signed commitment")
    )
    summary = tracking(installation, receipt, code)

    assert [s["step"] for s in summary["timeline"]] == ["received", "forwarded", "permit_issued"]
    assert summary["permit_issued_at"] == "2026-11-24T09:30:00+08:00"
    assert summary["deadlines"]["inspect_by"] == "2026-12-22T23:59:59+08:00"
    assert "sha256:" not in everything_public(installation)  # the document stays inside


def test_a_deadline_in_a_year_the_calendar_does_not_cover_crosses_as_unknown(
    installation: Installation,
) -> None:
    desks, clock = Desks(installation), installation.clock
    clock.now = at(12, 31, 15)  # New Year's Eve afternoon: forwarding falls due in 2027
    receipt, _ = desks.book(installation)

    summary = tracking(installation, receipt)

    assert summary["status"] == "received"
    assert summary["deadlines"]["forward_by"] is None
    assert installation.public.receiver.status().healthy


def test_a_wrong_query_code_on_a_booking_is_refused_with_a_problem(
    installation: Installation,
) -> None:
    receipt, _ = Desks(installation).book(installation)
    installation.cross()
    client = TestClient(create_public_app(installation.public.backend))

    refused = client.get(f"/api/v1/cases/{receipt}", headers={"X-Query-Code": "WRONGCODE1"})

    assert refused.status_code == 403
    assert refused.json()["code"] == "wrong_query_code"
    assert refused.json()["message_zh"]


def test_replaying_the_public_side_gives_the_same_booking_rows(installation: Installation) -> None:
    desks = Desks(installation)
    receipt, _ = desks.book(installation)
    desks.up_to_reply(receipt)
    desks.bookings.reply_with_slot(desks.handler, receipt, "2026-11-27", "am")
    installation.platform.publish_availability()
    installation.cross()
    before = installation.public.queries.dump()

    installation.public.receiver.rebuild()

    assert installation.public.queries.dump() == before


def test_an_actor_other_than_the_system_cannot_publish_days_with_room(
    installation: Installation,
) -> None:
    from domain.errors import NotPermitted

    with pytest.raises(NotPermitted):
        installation.platform.availability.publish_changed(
            Actor("window-jinshui", Role.WINDOW_CLERK, JINSHUI)
        )


def test_a_booking_posted_online_is_tracked_while_pending_and_then_through_each_step(
    installation: Installation,
) -> None:
    from deployment.sides import build_importer

    client = TestClient(create_public_app(installation.public.backend))
    form = {
        "kind": "pre_opening", "district": "金水区", "organisation_name": "郑州网上预约有限公司",
        "credit_code": booking_input()["credit_code"], "project_name": "网上预约影院",
        "wished_time": "2026-12-01T09:00+08:00", "contact_name": CONTACT,
        "contact_phone": MOBILE, "basis_kind": "inspection_receipt",
        "basis_number": "郑金消检受字〔2026〕第0099号", "basis_on_platform": False,
    }  # fmt: skip
    answer = client.post(
        "/api/v1/bookings",
        data={"submission": orjson.dumps(form).decode()},
        files={"basis_document": ("受理凭证.pdf", b"%PDF-1.7\n" + b"x" * 200, "application/pdf")},
    )
    assert answer.status_code == 201, answer.text
    receipt, code = answer.json()["receipt_number"], answer.json()["query_code"]
    pending = client.get(f"/api/v1/cases/{receipt}", headers={"X-Query-Code": code}).json()

    assert build_importer(installation.platform, installation.settings).step() == 1
    received = tracking(installation, receipt, code)
    desks = Desks(installation)
    desks.up_to_reply(receipt)
    desks.bookings.reply_with_slot(desks.handler, receipt, "2026-11-27", "pm")
    replied = tracking(installation, receipt, code)

    assert receipt.startswith("YY")
    assert (pending["case_type"], pending["status"]) == ("booking", "submitted")
    assert (received["status"], received["project_name"]) == ("received", "网上预约影院")
    assert [s["step"] for s in replied["timeline"]] == [
        "received", "forwarded", "handlers_assigned", "slot_offered",
    ]  # fmt: skip
    assert replied["slot"]["half_zh"] == "下午"
    assert MOBILE not in everything_public(installation)
