"""Every refusal of a booking command (RULES.md Art. 11-16) is a problem-details answer with a
stable code, a Chinese and an English message and the field at fault, and changes nothing: no
event is recorded, the booking keeps its version, and no inspection place is taken.

The same shape as the filings' refusals (test_api_errors.py): an unknown receipt number is 404,
a case of another agency 403 ``outside_jurisdiction``, a stale If-Match 409
``concurrent_change`` with Retry-After (checked after who may act), a body that is not JSON
400, a body that is not declared JSON 415. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from deployment.bootstrap import Platform
from domain.actor import Actor, Role
from tests.booking_support import booking_input
from tests.integration.api_fixtures import (  # noqa: F401 - fixtures are used by name
    Headers,
    assert_problem,
    client_fixture,
    clock_fixture,
    head,
    platform_fixture,
)
from tests.support import Clock, open_account

JINSHUI, ERQI = "zz-jinshui", "zz-erqi"
JSON = {"content-type": "application/json"}
PHONE = "13912345678"
FRIDAY = "2026-11-27"  # the clock's week: Tuesday 24 November 2026, 09:30


@dataclass
class Desk:
    actor: Actor
    headers: Headers

    @property
    def id(self) -> str:
        return self.actor.actor_id


def desk(
    platform: Platform, clock: Clock, username: str, role: Role, agency: str = JINSHUI
) -> Desk:
    actor, _ = open_account(platform, username, role, agency)
    return Desk(actor, {"Authorization": f"Bearer {platform.sessions.open(actor, clock.now)}"})


@dataclass
class Office:
    """The 金水区 brigade's window, head and two handlers, and bookings in each state."""

    platform: Platform
    client: TestClient
    clerk: Desk
    chief: Desk
    handler: Desk
    colleague: Desk  # another 金水区 handler

    def received(self, **overrides: Any) -> str:
        return self.platform.services.bookings.request(
            self.clerk.actor, **booking_input(**overrides)
        )

    def forwarded(self) -> str:
        receipt = self.received()
        self.platform.services.bookings.forward(self.clerk.actor, receipt, "防火监督科")
        return receipt

    def assigned(self) -> str:
        receipt = self.forwarded()
        self.platform.services.bookings.assign(self.chief.actor, receipt, self.handler.id)
        return receipt

    def version(self, receipt: str) -> int:
        found: int = self.platform.services.bookings.load(receipt).version
        return found

    def status(self, receipt: str) -> str:
        return str(self.platform.services.bookings.load(receipt).status)

    def places(self, day: str = FRIDAY, half: str = "am") -> list[str]:
        return self.platform.services.bookings.booked_places(JINSHUI, date.fromisoformat(day), half)

    def post(self, path: str, who: Desk, body: Any = None, **headers: str) -> httpx.Response:
        response: httpx.Response = self.client.post(
            f"/api/v1/bookings{path}", json=body, headers={**who.headers, **headers}
        )
        return response


@pytest.fixture
def office(platform: Platform, client: TestClient, clock: Clock) -> Office:
    return Office(
        platform,
        client,
        desk(platform, clock, "clerk", Role.WINDOW_CLERK),
        desk(platform, clock, "chief", Role.DEPT_HEAD),
        desk(platform, clock, "handler", Role.HANDLER),
        desk(platform, clock, "colleague", Role.HANDLER),
    )


def request_body(**overrides: Any) -> dict[str, Any]:
    body = booking_input(**overrides)
    body["wished_time"] = body["wished_time"].isoformat()
    return body


# -- 404 ---------------------------------------------------------------------------------------

COMMANDS = {
    "forwarding": {"department": "防火监督科"},
    "permit-on-commitment": {
        "department": "防火监督科",
        "commitment_document": "sha256:" + "ab" * 32,
    },
    "rejection": None,
    "handlers": {"main_handler": "00000000-0000-0000-0000-000000000000"},
    "slot-offer": {"day": FRIDAY, "half": "am"},
    "refusal": {"reason": "该场所尚未具备检查条件"},
    "slot-acceptance": None,
    "another-slot": None,
    "cancellation": {"reason": "申请人来电取消"},
    "inspection-result": {"passed": True, "findings": []},
}


@pytest.mark.parametrize(("command", "body"), COMMANDS.items(), ids=COMMANDS.keys())
def test_an_unknown_booking_is_404_for_every_command_and_nothing_is_recorded(
    office: Office, command: str, body: dict[str, Any] | None
) -> None:
    office.received()  # a real booking exists; the unknown one is not it
    before = head(office.platform)
    who = {"handlers": office.chief, "slot-offer": office.handler, "refusal": office.handler}
    unknown = "YY20261124ZZZZZZ"

    response = office.post(f"/{unknown}/{command}", who.get(command, office.clerk), body)

    assert_problem(response, 404, "not_found")
    assert head(office.platform) == before


def test_an_unknown_booking_is_404_for_reading_its_detail_and_history(office: Office) -> None:
    for path in ("/YY20261124ZZZZZZ", "/YY20261124ZZZZZZ/history"):
        response = office.client.get(f"/api/v1/bookings{path}", headers=office.clerk.headers)
        assert_problem(response, 404, "not_found")


# -- 403 ---------------------------------------------------------------------------------------


def test_art15_a_clerk_of_another_brigade_neither_sees_nor_acts_on_a_booking(
    office: Office, clock: Clock
) -> None:
    receipt, forwarded = office.received(), office.forwarded()
    erqi_clerk = desk(office.platform, clock, "clerk-erqi", Role.WINDOW_CLERK, ERQI)
    erqi_head = desk(office.platform, clock, "chief-erqi", Role.DEPT_HEAD, ERQI)
    before = head(office.platform)

    forward = office.post(f"/{receipt}/forwarding", erqi_clerk, {"department": "防火监督科"})
    cancel = office.post(f"/{receipt}/cancellation", erqi_clerk, {"reason": "申请人来电取消"})
    look = office.client.get(f"/api/v1/bookings/{receipt}", headers=erqi_clerk.headers)
    queue = office.client.get("/api/v1/bookings/queue", headers=erqi_clerk.headers)
    assign = office.post(f"/{forwarded}/handlers", erqi_head, {"main_handler": office.handler.id})

    for refused in (forward, cancel, look, assign):
        assert_problem(refused, 403, "outside_jurisdiction")
    assert PHONE not in look.text
    assert "李娜" not in look.text
    assert queue.json()["count"] == 0
    assert head(office.platform) == before
    assert (office.status(receipt), office.status(forwarded)) == ("received", "forwarded")


def test_art16_only_the_main_handler_replies_403_and_no_place_is_taken(office: Office) -> None:
    receipt = office.assigned()
    before = head(office.platform)

    response = office.post(
        f"/{receipt}/slot-offer", office.colleague, {"day": FRIDAY, "half": "am"}
    )

    assert_problem(response, 403, "not_the_main_handler")
    assert (head(office.platform), office.places()) == (before, [])


# -- 409 ---------------------------------------------------------------------------------------


def etag(office: Office, receipt: str, who: Desk) -> str:
    response = office.client.get(f"/api/v1/bookings/{receipt}", headers=who.headers)
    assert response.status_code == 200, response.text
    value: str = response.headers["etag"]
    return value


def test_a_stale_if_match_on_a_reply_is_refused_409_and_takes_no_place(office: Office) -> None:
    """The handler read the booking; the head then added an assistant; the reply on the old
    version is refused, so the handler sees the new team before answering the applicant."""
    receipt = office.assigned()
    read = etag(office, receipt, office.handler)
    office.platform.services.bookings.assign(
        office.chief.actor, receipt, office.handler.id, [office.colleague.id]
    )
    before = (head(office.platform), office.version(receipt))

    stale = office.post(
        f"/{receipt}/slot-offer",
        office.handler,
        {"day": FRIDAY, "half": "am"},
        **{"If-Match": read},
    )

    assert_problem(stale, 409, "concurrent_change")
    assert int(stale.headers["retry-after"]) >= 1
    assert (head(office.platform), office.version(receipt)) == before
    assert (office.status(receipt), office.places()) == ("assigned", [])


@pytest.mark.parametrize(
    ("command", "actor", "body"),
    [
        ("cancellation", "clerk", {"reason": "申请人来电取消"}),
        ("handlers", "chief", None),  # the body names the colleague, filled in below
    ],
)
def test_every_booking_command_refuses_a_stale_if_match_409(
    office: Office, command: str, actor: str, body: dict[str, Any] | None
) -> None:
    receipt = office.assigned()
    read = etag(office, receipt, office.clerk)
    office.platform.services.bookings.assign(office.chief.actor, receipt, office.colleague.id)
    before = (head(office.platform), office.version(receipt))
    body = body or {"main_handler": office.handler.id}

    stale = office.post(f"/{receipt}/{command}", getattr(office, actor), body, **{"If-Match": read})

    assert_problem(stale, 409, "concurrent_change")
    assert (head(office.platform), office.version(receipt)) == before


def test_a_stale_if_match_from_another_brigade_is_refused_403_not_409(
    office: Office, clock: Clock
) -> None:
    """Who may act comes first: a stale version tells nobody outside the case that it moved."""
    receipt = office.received()
    read = etag(office, receipt, office.clerk)
    office.platform.services.bookings.cancel(office.clerk.actor, receipt, "申请人来电取消")
    erqi = desk(office.platform, clock, "clerk-erqi", Role.WINDOW_CLERK, ERQI)

    response = office.post(f"/{receipt}/rejection", erqi, **{"If-Match": read})

    assert_problem(response, 403, "outside_jurisdiction")


def test_art16_a_full_half_day_is_refused_409_and_the_other_half_still_has_room(
    office: Office,
) -> None:
    office.platform.services.bookings.inspections_per_half_day = 1
    first, second = office.assigned(), office.assigned()
    taken = office.post(f"/{first}/slot-offer", office.handler, {"day": FRIDAY, "half": "am"})
    assert taken.status_code == 204, taken.text
    before = (head(office.platform), office.version(second))

    full = office.post(f"/{second}/slot-offer", office.handler, {"day": FRIDAY, "half": "am"})

    body = assert_problem(full, 409, "slot_full")
    assert body["capacity"] == 1
    assert "已满" in body["message_zh"]
    assert (head(office.platform), office.version(second)) == before
    assert (office.status(second), office.places()) == ("assigned", [first])
    afternoon = office.post(f"/{second}/slot-offer", office.handler, {"day": FRIDAY, "half": "pm"})
    assert afternoon.status_code == 204, afternoon.text


def test_a_command_the_state_does_not_allow_is_refused_409_illegal_transition(
    office: Office,
) -> None:
    receipt = office.received()  # not forwarded yet: nobody to assign
    before = head(office.platform)

    response = office.post(
        f"/{receipt}/handlers", office.chief, {"main_handler": office.handler.id}
    )

    body = assert_problem(response, 409, "illegal_transition")
    assert body["case_status"] == "received"
    assert head(office.platform) == before


# -- 422 ---------------------------------------------------------------------------------------

BAD_SLOTS = {
    "an impossible date": ({"day": "2026-11-31", "half": "am"}, "invalid_date", "day"),
    "a date in another format": ({"day": "27.11.2026", "half": "am"}, "invalid_date", "day"),
    "a Saturday": ({"day": "2026-11-28", "half": "am"}, "not_a_working_day", "day"),
    "a day already past": ({"day": "2026-11-23", "half": "pm"}, "slot_in_the_past", "day"),
}


@pytest.mark.parametrize(("body", "code", "field"), BAD_SLOTS.values(), ids=BAD_SLOTS.keys())
def test_art16_a_slot_on_a_bad_date_is_refused_422_naming_the_day_and_takes_no_place(
    office: Office, body: dict[str, str], code: str, field: str
) -> None:
    receipt = office.assigned()
    before = head(office.platform)

    response = office.post(f"/{receipt}/slot-offer", office.handler, body)

    assert_problem(response, 422, code, field=field)
    assert head(office.platform) == before
    assert office.status(receipt) == "assigned"


def test_a_recheck_date_that_is_no_date_is_refused_422_on_recheck_date(office: Office) -> None:
    receipt = office.assigned()
    before = head(office.platform)
    body = {"passed": False, "findings": ["疏散通道堵塞"], "recheck_date": "2026-02-30"}

    response = office.post(f"/{receipt}/inspection-result", office.handler, body)

    assert_problem(response, 422, "invalid_date", field="recheck_date")
    assert head(office.platform) == before


def test_art16_the_main_handler_named_as_an_assistant_too_is_refused_422(office: Office) -> None:
    receipt = office.forwarded()
    before = head(office.platform)

    twice = office.post(
        f"/{receipt}/handlers",
        office.chief,
        {"main_handler": office.handler.id, "assistants": [office.handler.id]},
    )
    repeated = office.post(
        f"/{receipt}/handlers",
        office.chief,
        {"main_handler": office.handler.id, "assistants": [office.colleague.id] * 2},
    )

    assert_problem(twice, 422, "handler_named_twice", field="assistants")
    assert_problem(repeated, 422, "handler_named_twice", field="assistants")
    assert (head(office.platform), office.status(receipt)) == (before, "forwarded")


@pytest.mark.parametrize("field", ["main_handler", "assistants"])
def test_art16_handlers_of_another_agency_or_no_handler_at_all_are_refused_422(
    office: Office, clock: Clock, field: str
) -> None:
    receipt = office.forwarded()
    erqi_handler = desk(office.platform, clock, "handler-erqi", Role.HANDLER, ERQI)
    before = head(office.platform)

    def assign(named: str) -> httpx.Response:
        if field == "main_handler":
            return office.post(f"/{receipt}/handlers", office.chief, {"main_handler": named})
        body = {"main_handler": office.handler.id, "assistants": [named]}
        return office.post(f"/{receipt}/handlers", office.chief, body)

    assert_problem(assign(erqi_handler.id), 422, "handler_of_another_agency", field=field)
    assert_problem(assign(office.clerk.id), 422, "not_a_handler", field=field)
    assert_problem(assign("no-such-account"), 422, "unknown_handler", field=field)
    assert (head(office.platform), office.status(receipt)) == (before, "forwarded")


BAD_REQUESTS = {
    "a wished time without a time zone": (
        {"wished_time": "2026-12-01T09:00:00"},
        "naive_datetime",
        "wished_time",
    ),
    "a wrong mobile number": ({"contact_phone": "1234"}, "invalid_mobile", "contact_phone"),
    "a district outside the city": ({"district": "浦东新区"}, "unknown_district", "district"),
    "a scan that was never uploaded": (
        {"basis_document": ""},
        "invalid_document_reference",
        "basis",
    ),
    "the commitment route for an acceptance inspection": (
        {
            "kind": "fire_acceptance",
            "route": "notice_commitment",
            "basis_kind": "acceptance_receipt",
        },
        "route_not_allowed",
        "route",
    ),
}


@pytest.mark.parametrize(
    ("overrides", "code", "field"), BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys()
)
def test_art14_a_booking_form_that_breaks_a_rule_is_refused_422_naming_the_field(
    office: Office, overrides: dict[str, str], code: str, field: str
) -> None:
    before = head(office.platform)

    response = office.post("", office.clerk, {**request_body(), **overrides})

    assert_problem(response, 422, code, field=field)
    assert head(office.platform) == before


# -- 400, 415 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["", "/{r}/forwarding"])
def test_a_booking_body_that_is_not_json_is_refused_400_and_records_nothing(
    office: Office, path: str
) -> None:
    receipt = office.received()
    before = head(office.platform)

    response = office.client.post(
        f"/api/v1/bookings{path.replace('{r}', receipt)}",
        content='{"department": "防火监督科", '.encode(),
        headers={**office.clerk.headers, **JSON},
    )

    assert_problem(response, 400, "malformed_json")
    assert head(office.platform) == before


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None]
)
def test_a_booking_body_not_declared_json_is_refused_415_and_records_nothing(
    office: Office, content_type: str | None
) -> None:
    before = head(office.platform)
    headers = {**office.clerk.headers}
    if content_type:
        headers["content-type"] = content_type

    response = office.client.post(
        "/api/v1/bookings", content=orjson.dumps(request_body()), headers=headers
    )

    body = assert_problem(response, 415, "unsupported_media_type")
    assert body["expected"] == "application/json"
    assert head(office.platform) == before


def test_json_with_a_charset_is_json(office: Office) -> None:
    response = office.client.post(
        "/api/v1/bookings",
        content=orjson.dumps(request_body()),
        headers={**office.clerk.headers, "content-type": "application/json; charset=utf-8"},
    )

    assert response.status_code == 201, response.text
