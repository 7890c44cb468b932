"""A booking's way through the staff console, over HTTP (RULES.md Art. 11-16): the window
records a booking for a 金水区 project and finds it in its queue, due by noon; forwards it; the
head finds it and assigns a handler; the handler finds it due within 2 working days, replies
with a half day (which takes a place of the agency's capacity); the applicant's acceptance is
recorded at the window; the handler inspects and records the result. Then the queues as the
clock moves past the deadlines. Runs on SQLite and on PostgreSQL (the ``platform`` fixture).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import httpx
from fastapi.testclient import TestClient

from deployment.bootstrap import Platform
from domain.actor import Role
from domain.calendar import SHANGHAI
from tests.booking_support import booking_input
from tests.integration.api_fixtures import (  # noqa: F401 - fixtures are used by name
    CJK,
    Headers,
    client_fixture,
    clock_fixture,
    platform_fixture,
)
from tests.support import Clock, open_account

JINSHUI, ERQI = "zz-jinshui", "zz-erqi"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


class Desk:
    """A staff account of 金水区 (or ``agency``); ``headers`` opens a session as a login would,
    at the clock's time (the clock jumps by days here, past the idle timeout)."""

    def __init__(
        self, platform: Platform, clock: Clock, username: str, role: Role, agency: str = JINSHUI
    ) -> None:
        self.platform, self.clock = platform, clock
        self.actor, _ = open_account(platform, username, role, agency)
        self.id = self.actor.actor_id

    @property
    def headers(self) -> Headers:
        token = self.platform.sessions.open(self.actor, self.clock.now)
        return {"Authorization": f"Bearer {token}"}


def get(client: TestClient, path: str, headers: Headers) -> Any:
    response = client.get(f"/api/v1/bookings{path}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def post(client: TestClient, path: str, headers: Headers, body: Any = None) -> httpx.Response:
    response: httpx.Response = client.post(f"/api/v1/bookings{path}", json=body, headers=headers)
    assert response.status_code < 300, response.text
    return response


def request_body() -> dict[str, Any]:
    body = booking_input()
    body["wished_time"] = body["wished_time"].isoformat()
    return body


def test_a_booking_goes_from_the_window_to_the_inspection_through_each_roles_queue(
    platform: Platform, client: TestClient, clock: Clock
) -> None:
    window = Desk(platform, clock, "window", Role.WINDOW_CLERK)
    head = Desk(platform, clock, "head", Role.DEPT_HEAD)
    handler = Desk(platform, clock, "handler", Role.HANDLER)

    # Tuesday 09:30: the applicant phones; the window records the booking.
    clock.now = at(24, 9, 30)
    receipt = post(client, "", window.headers, request_body()).json()["receipt_number"]
    assert receipt.startswith("YY")

    queue = get(client, "/queue", window.headers)
    (item,) = queue["items"]
    assert (item["receipt_number"], item["agency"], item["task"]) == (receipt, JINSHUI, "review")
    assert item["deadline"] == "2026-11-24T12:00:00+08:00"  # received before noon: today noon
    assert (item["overdue"], item["deadline_unknown"], queue["overdue"]) == (False, False, 0)
    assert get(client, "/queue", head.headers)["count"] == 0

    # 10:00: inside the brigade's remit, forwarded; now it waits for the head.
    clock.now = at(24, 10)
    post(client, f"/{receipt}/forwarding", window.headers, {"department": "防火监督科"})
    assert get(client, "/queue", window.headers)["count"] == 0
    (to_assign,) = get(client, "/queue", head.headers)["items"]
    assert (to_assign["receipt_number"], to_assign["task"]) == (receipt, "assign")
    assert to_assign["department"] == "防火监督科"

    # 11:00: the head names the main handler; the 2 working days run from the receipt.
    clock.now = at(24, 11)
    post(
        client, f"/{receipt}/handlers", head.headers, {"main_handler": handler.id, "assistants": []}
    )
    assert get(client, "/queue", head.headers)["count"] == 0
    (to_reply,) = get(client, "/queue", handler.headers)["items"]
    assert (to_reply["receipt_number"], to_reply["task"]) == (receipt, "reply")
    assert to_reply["deadline"] == "2026-11-26T23:59:59+08:00"
    assert (to_reply["working_days_left"], to_reply["overdue"]) == (2, False)

    # Wednesday 15:00: the handler offers Friday morning, which takes one of its places.
    clock.now = at(25, 15)
    detail = get(client, f"/{receipt}", handler.headers)
    post(
        client, f"/{receipt}/slot-offer", {**handler.headers, "If-Match": f'"{detail["version"]}"'},
        {"day": "2026-11-27", "half": "am"},
    )  # fmt: skip
    assert platform.services.bookings.booked_places(JINSHUI, date(2026, 11, 27), "am") == [receipt]
    assert get(client, "/queue", handler.headers)["count"] == 0

    # Thursday: the applicant accepts by phone; the inspection is due 10 working days after
    # the forwarding (a pre-opening inspection on the ordinary route).
    clock.now = at(26, 9)
    post(client, f"/{receipt}/slot-acceptance", window.headers)
    (to_inspect,) = get(client, "/queue", handler.headers)["items"]
    assert (to_inspect["task"], to_inspect["slot_day"], to_inspect["slot_half"]) == (
        "inspect",
        "2026-11-27",
        "am",
    )
    assert to_inspect["deadline"] == "2026-12-08T23:59:59+08:00"

    # Friday 10:00: inspected, passed.
    clock.now = at(27, 10)
    post(client, f"/{receipt}/inspection-result", handler.headers, {"passed": True, "findings": []})

    assert get(client, "/queue", handler.headers)["count"] == 0
    done = get(client, f"/{receipt}", window.headers)
    assert (done["status"], done["status_zh"]) == ("inspected", "已检查")
    assert done["result"] == {"passed": True, "findings": [], "recheck_date": None}
    assert (done["main_handler"], done["department"]) == (handler.id, "防火监督科")
    assert (done["contact_name"], done["contact_phone"]) == ("李娜", "13912345678")
    assert (done["forwarded_late"], done["replied_late"], done["deadline"]) == (False, False, None)
    history = get(client, f"/{receipt}/history", window.headers)
    assert [e["event"] for e in history["events"]] == [
        "Requested",
        "Forwarded",
        "HandlersAssigned",
        "SlotOffered",
        "SlotAccepted",
        "InspectionResultRecorded",
    ]
    assert all(CJK.search(e["what_zh"]) for e in history["events"])
    assert [h["event"] for h in done["history"]] == [e["event"] for e in history["events"]]


def test_queue_items_become_overdue_as_the_clock_passes_their_deadlines(
    platform: Platform, client: TestClient, clock: Clock
) -> None:
    window = Desk(platform, clock, "window", Role.WINDOW_CLERK)
    head = Desk(platform, clock, "head", Role.DEPT_HEAD)
    handler = Desk(platform, clock, "handler", Role.HANDLER)
    supervisor = Desk(platform, clock, "supervisor", Role.SUPERVISOR, "zz")

    clock.now = at(24, 9, 30)
    waiting = post(client, "", window.headers, request_body()).json()["receipt_number"]
    assigned = post(client, "", window.headers, request_body()).json()["receipt_number"]
    post(client, f"/{assigned}/forwarding", window.headers, {"department": "防火监督科"})
    post(client, f"/{assigned}/handlers", head.headers, {"main_handler": handler.id})

    # 12:01: the review was due at noon.
    clock.advance(hours=2, minutes=31)
    review = get(client, "/queue", window.headers)
    (late,) = review["items"]
    assert (late["receipt_number"], late["overdue"], review["overdue"]) == (waiting, True, 1)
    assert get(client, "/queue", handler.headers)["items"][0]["overdue"] is False

    # Friday: the reply was due by the end of Thursday.
    clock.now = at(27, 9)
    (reply,) = get(client, "/queue", handler.headers)["items"]
    assert (reply["receipt_number"], reply["overdue"], reply["working_days_left"]) == (
        assigned,
        True,
        0,
    )

    overview = get(client, "/queue", supervisor.headers)
    assert overview["overdue_by_agency"] == {JINSHUI: 2}
    assert {i["receipt_number"] for i in overview["items"]} == {waiting, assigned}


def test_a_deadline_in_a_year_the_calendar_lacks_shows_as_unknown_in_the_queue(
    platform: Platform, client: TestClient, clock: Clock
) -> None:
    """A booking received on New Year's Eve afternoon is due in a January the calendar does
    not cover yet: that item says so; the other keeps its deadline; nothing fails."""
    window = Desk(platform, clock, "window", Role.WINDOW_CLERK)
    clock.now = datetime(2026, 12, 30, 10, 0, tzinfo=SHANGHAI)
    known = post(client, "", window.headers, request_body()).json()["receipt_number"]
    clock.now = datetime(2026, 12, 31, 15, 0, tzinfo=SHANGHAI)
    unknown = post(client, "", window.headers, request_body()).json()["receipt_number"]

    queue = get(client, "/queue", window.headers)

    first, second = queue["items"]
    assert (first["receipt_number"], first["deadline"]) == (known, "2026-12-30T12:00:00+08:00")
    assert (first["overdue"], first["deadline_unknown"]) == (True, False)
    assert (second["receipt_number"], second["deadline"], second["overdue"]) == (
        unknown,
        None,
        False,
    )
    assert second["deadline_unknown"] is True
    assert "2027 年的工作日历尚未配置" in second["deadline_note"]
    detail = get(client, f"/{unknown}", window.headers)
    assert (detail["task"], detail["deadline"], detail["deadline_unknown"]) == (
        "review",
        None,
        True,
    )


def test_art16_an_assistant_finds_the_booking_in_their_queue_until_the_inspection(
    platform: Platform, client: TestClient, clock: Clock
) -> None:
    """The head names a main handler and an assistant. The main handler's queue keeps its
    "reply" and "inspect"; the assistant's holds the booking as "assist", with the inspection
    deadline, from the assignment until the result; a reassignment without them takes it out.
    The supervisors' overdue figures count the booking once, not once per handler."""
    window = Desk(platform, clock, "window", Role.WINDOW_CLERK)
    head = Desk(platform, clock, "head", Role.DEPT_HEAD)
    main = Desk(platform, clock, "handler", Role.HANDLER)
    assistant = Desk(platform, clock, "assistant", Role.HANDLER)
    bystander = Desk(platform, clock, "bystander", Role.HANDLER)
    supervisor = Desk(platform, clock, "supervisor", Role.SUPERVISOR, "zz")
    clock.now = at(24, 9, 30)
    receipt = post(client, "", window.headers, request_body()).json()["receipt_number"]
    post(client, f"/{receipt}/forwarding", window.headers, {"department": "防火监督科"})
    other = post(client, "", window.headers, request_body()).json()["receipt_number"]
    post(client, f"/{other}/forwarding", window.headers, {"department": "防火监督科"})

    clock.now = at(24, 11)
    team = {"main_handler": main.id, "assistants": [assistant.id]}
    post(client, f"/{receipt}/handlers", head.headers, team)
    post(client, f"/{other}/handlers", head.headers, {"main_handler": main.id})

    queue = get(client, "/queue", assistant.headers)
    assert queue["tasks"] == ["reply", "inspect", "assist"]
    (assist,) = queue["items"]
    assert (assist["receipt_number"], assist["task"], assist["status"]) == (
        receipt,
        "assist",
        "assigned",
    )
    assert (assist["main_handler"], assist["assistants"]) == (main.id, [assistant.id])
    # 10 working days from the forwarding (a pre-opening inspection, ordinary route).
    assert assist["deadline"] == "2026-12-08T23:59:59+08:00"
    assert (assist["working_days_left"], assist["overdue"]) == (10, False)
    replies = get(client, "/queue", main.headers)["items"]
    assert {(i["receipt_number"], i["task"]) for i in replies} == {
        (receipt, "reply"),
        (other, "reply"),
    }
    assert get(client, "/queue", bystander.headers)["count"] == 0

    # The slot offered, then accepted: the assistant follows the booking to the inspection.
    clock.now = at(25, 15)
    post(client, f"/{receipt}/slot-offer", main.headers, {"day": "2026-11-27", "half": "am"})
    (offered,) = get(client, "/queue", assistant.headers)["items"]
    assert (offered["status"], offered["slot_day"], offered["slot_half"]) == (
        "slot_offered",
        "2026-11-27",
        "am",
    )
    post(client, f"/{receipt}/slot-acceptance", window.headers)
    (scheduled,) = get(client, "/queue", assistant.headers)["items"]
    main_items = {i["receipt_number"]: i for i in get(client, "/queue", main.headers)["items"]}
    assert (scheduled["task"], scheduled["status"]) == ("assist", "scheduled")
    assert main_items[receipt]["task"] == "inspect"
    assert main_items[receipt]["deadline"] == scheduled["deadline"]

    # Past the inspection deadline: overdue for both, counted once per booking.
    clock.now = datetime(2026, 12, 9, 9, 0, tzinfo=SHANGHAI)
    (late,) = get(client, "/queue", assistant.headers)["items"]
    assert (late["overdue"], late["working_days_left"]) == (True, 0)
    overview = get(client, "/queue", supervisor.headers)
    assert overview["overdue_by_agency"] == {JINSHUI: 2}  # this inspection and the other reply
    assert sorted(i["task"] for i in overview["items"]) == ["inspect", "reply"]

    post(client, f"/{receipt}/inspection-result", main.headers, {"passed": True, "findings": []})
    assert get(client, "/queue", assistant.headers)["count"] == 0


def test_art16_a_reassignment_without_the_assistant_takes_the_booking_from_their_queue(
    platform: Platform, client: TestClient, clock: Clock
) -> None:
    window = Desk(platform, clock, "window", Role.WINDOW_CLERK)
    head = Desk(platform, clock, "head", Role.DEPT_HEAD)
    main = Desk(platform, clock, "handler", Role.HANDLER)
    first, second = (Desk(platform, clock, n, Role.HANDLER) for n in ("first", "second"))
    clock.now = at(24, 9, 30)
    receipt = post(client, "", window.headers, request_body()).json()["receipt_number"]
    post(client, f"/{receipt}/forwarding", window.headers, {"department": "防火监督科"})
    post(
        client,
        f"/{receipt}/handlers",
        head.headers,
        {"main_handler": main.id, "assistants": [first.id]},
    )

    post(
        client,
        f"/{receipt}/handlers",
        head.headers,
        {"main_handler": main.id, "assistants": [second.id]},
    )

    assert get(client, "/queue", first.headers)["count"] == 0
    (item,) = get(client, "/queue", second.headers)["items"]
    assert (item["receipt_number"], item["task"], item["assistants"]) == (
        receipt,
        "assist",
        [second.id],
    )


def test_art16_an_assistant_on_a_kind_without_an_inspection_period_has_the_slot_as_date(
    platform: Platform, client: TestClient, clock: Clock
) -> None:
    """A fire acceptance inspection has no period of its own: the assistant's item has no
    deadline (and is never overdue), but shows the half day once one is offered."""
    window = Desk(platform, clock, "window", Role.WINDOW_CLERK)
    head = Desk(platform, clock, "head", Role.DEPT_HEAD)
    main = Desk(platform, clock, "handler", Role.HANDLER)
    assistant = Desk(platform, clock, "assistant", Role.HANDLER)
    clock.now = at(24, 9, 30)
    body = {**request_body(), "kind": "fire_acceptance", "basis_kind": "acceptance_receipt"}
    receipt = post(client, "", window.headers, body).json()["receipt_number"]
    post(client, f"/{receipt}/forwarding", window.headers, {"department": "防火监督科"})
    post(
        client,
        f"/{receipt}/handlers",
        head.headers,
        {"main_handler": main.id, "assistants": [assistant.id]},
    )
    post(client, f"/{receipt}/slot-offer", main.headers, {"day": "2026-11-26", "half": "pm"})

    (item,) = get(client, "/queue", assistant.headers)["items"]

    assert (item["task"], item["deadline"], item["overdue"], item["deadline_unknown"]) == (
        "assist",
        None,
        False,
        False,
    )
    assert (item["slot_day"], item["slot_half"]) == ("2026-11-26", "pm")


def test_art31_heads_and_supervisors_see_the_overdue_bookings_of_each_agency(
    platform: Platform, client: TestClient, clock: Clock
) -> None:
    """Each agency's overdue bookings by the step they wait for: a brigade head sees their
    brigade, the detachment's head and the supervisors the whole city (every agency listed,
    none overdue as 0); the window and the handlers have their own queues and are refused."""
    window = Desk(platform, clock, "window", Role.WINDOW_CLERK)
    erqi_window = Desk(platform, clock, "window-erqi", Role.WINDOW_CLERK, ERQI)
    head = Desk(platform, clock, "head", Role.DEPT_HEAD)
    handler = Desk(platform, clock, "handler", Role.HANDLER)
    readers = {
        "brigade head": head,
        "detachment head": Desk(platform, clock, "head-zz", Role.DEPT_HEAD, "zz"),
        "supervisor": Desk(platform, clock, "supervisor", Role.SUPERVISOR, "zz"),
        "detachment approver": Desk(platform, clock, "approver-zz", Role.APPROVER, "zz"),
    }
    clock.now = at(24, 9, 30)
    post(client, "", window.headers, request_body())  # left unreviewed
    assigned = post(client, "", window.headers, request_body()).json()["receipt_number"]
    post(client, f"/{assigned}/forwarding", window.headers, {"department": "防火监督科"})
    post(client, f"/{assigned}/handlers", head.headers, {"main_handler": handler.id})
    post(client, "", erqi_window.headers, {**request_body(), "district": "二七区"})

    clock.now = at(27, 9)  # past Tuesday noon's review and Thursday's reply deadline
    answers = {name: get(client, "/overdue", desk.headers) for name, desk in readers.items()}

    brigade = answers["brigade head"]
    assert [a["agency"] for a in brigade["agencies"]] == [JINSHUI]
    assert brigade["agencies"][0]["by_task"] == {"review": 1, "assign": 0, "reply": 1, "inspect": 0}
    assert (brigade["total"], brigade["as_of"]) == (2, "2026-11-27T09:00:00+08:00")
    city = answers["supervisor"]
    assert city == answers["detachment head"] == answers["detachment approver"]
    assert len(city["agencies"]) == len(platform.agencies.all())
    overdue = {a["agency"]: a["overdue"] for a in city["agencies"] if a["overdue"]}
    assert (overdue, city["total"]) == ({JINSHUI: 2, ERQI: 1}, 3)
    assert all(CJK.search(a["agency_name"]) for a in city["agencies"])
    for refused in (window, handler):
        response = client.get("/api/v1/bookings/overdue", headers=refused.headers)
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "not_permitted"
