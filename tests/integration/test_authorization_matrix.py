"""Who may do what, over HTTP: every filing and booking command against every staff role.

Only the roles that ``domain.permissions.PERMISSIONS`` grants a command get a 2xx; every other
role gets 403 ``not_permitted`` and no event is recorded. Across agencies, a brigade acts only on
its own cases; the detachment acts on a brigade's case only in the roles that act for the whole
city (its heads and approvers), never as the window or a handler. Each case first brings a fresh
filing into the state the command needs (through the services), so a refusal can only be about
who asks.

One module-scoped platform on SQLite: the accounts are opened and logged in once, since every
login costs an argon2 verification.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from deployment.bootstrap import Platform
from domain.actor import Actor, Role
from domain.filing import NoticeItem
from domain.permissions import CITY_WIDE_FROM_DETACHMENT, PERMISSIONS, Command
from tests.booking_support import booking_input
from tests.integration.api_fixtures import Headers, assert_problem, head, login
from tests.support import (
    Clock,
    client_of,
    filing_input,
    make_platform,
    materials,
    open_account,
    settings_for,
)

JINSHUI = "zz-jinshui"
STAFF_ROLES = [role for role in Role if role not in {Role.APPLICANT, Role.SYSTEM}]
SYSTEM = Actor.system("zz", "test-preparation")
MISSING = ("designer_qualification", "construction_permit")


@dataclass
class World:
    platform: Platform
    client: TestClient
    clock: Clock
    clerk: Actor  # prepares states that only a clerk may bring about
    handler: Actor
    chief: Actor  # a 金水区 head, who assigns bookings
    main_handler: Actor  # the logged-in 金水区 handler, main handler of the prepared bookings
    headers: dict[tuple[Role, str], Headers]  # (role, agency) -> a logged-in session

    def received(self, **overrides: Any) -> str:
        return self.platform.services.filings.submit(SYSTEM, **filing_input(**overrides))

    def awaiting_supplement(self) -> str:
        receipt = self.received(materials=materials(leave_out=MISSING))
        items = [NoticeItem(item=i, problem="missing", reason="未提交") for i in MISSING]
        self.platform.services.filings.issue_supplement_notice(self.clerk, receipt, items)
        return receipt

    def certified(self) -> str:
        receipt = self.received()
        self.platform.services.filings.issue_certificate(self.clerk, receipt)
        return receipt

    def selected(self) -> str:
        receipt = self.certified()
        self.platform.services.filings.select_for_inspection(SYSTEM, receipt, "抽-2026-001")
        return receipt

    def inspected(self) -> str:
        receipt = self.selected()
        self.platform.services.filings.record_inspection_result(self.handler, receipt, True, [])
        return receipt

    def booking_received(self, **overrides: Any) -> str:
        return self.platform.services.bookings.request(SYSTEM, **booking_input(**overrides))

    def booking_on_commitment(self) -> str:
        return self.booking_received(route="notice_commitment")

    def booked_at_the_wrong_window(self) -> str:
        """A 二七区 project booked with the 金水区 brigade: to be rejected, naming 二七区."""
        return self.booking_received(agency=JINSHUI, district="二七区")

    def booking_forwarded(self) -> str:
        receipt = self.booking_received()
        self.platform.services.bookings.forward(self.clerk, receipt, "防火监督科")
        return receipt

    def booking_assigned(self) -> str:
        receipt = self.booking_forwarded()
        bookings = self.platform.services.bookings
        bookings.assign(self.chief, receipt, self.main_handler.actor_id)
        return receipt

    def slot_offered(self) -> str:
        receipt = self.booking_assigned()
        self.platform.services.bookings.reply_with_slot(
            self.main_handler, receipt, "2026-11-26", "pm"
        )
        return receipt

    def inspection_begun(self) -> str:
        """A booking whose accepted half day (this morning) has begun: prepared the day before."""
        now = self.clock.now
        self.clock.now = now - timedelta(days=1)
        try:
            receipt = self.booking_assigned()
            bookings = self.platform.services.bookings
            bookings.reply_with_slot(self.main_handler, receipt, now.date(), "am")
            bookings.accept_slot(SYSTEM, receipt)
        finally:
            self.clock.now = now
        return receipt

    def filed_at_the_wrong_window(self) -> str:
        """A 二七区 project filed with the 金水区 brigade: to be referred to 二七区."""
        return self.received(agency=JINSHUI, district="二七区", project_address="二七区大学路 1 号")


@dataclass(frozen=True)
class Route:
    command: Command
    method_path: str  # "POST /api/v1/filings/{r}/certificate"
    prepare: Callable[[World], str | None]
    body: dict[str, Any] | None
    status_after: str | None  # the case's status once the command succeeded


ROUTES = [
    Route(
        Command.SUBMIT_FILING,
        "POST /api/v1/filings",
        lambda w: None,
        filing_input(),
        None,
    ),
    Route(
        Command.ISSUE_SUPPLEMENT_NOTICE,
        "POST /api/v1/filings/{r}/supplement-notice",
        lambda w: w.received(materials=materials(leave_out=MISSING)),
        {"items": [{"item": i, "problem": "missing", "reason": "未提交"} for i in MISSING]},
        "awaiting_supplement",
    ),
    Route(
        Command.RESUBMIT_FILING,
        "POST /api/v1/filings/{r}/resubmission",
        World.awaiting_supplement,
        {"materials": materials(version="2")},
        "received",
    ),
    Route(
        Command.ISSUE_CERTIFICATE,
        "POST /api/v1/filings/{r}/certificate",
        World.received,
        None,
        "certified",
    ),
    Route(
        Command.WITHDRAW_FILING,
        "POST /api/v1/filings/{r}/withdrawal",
        World.received,
        {"reason": "建设单位书面申请撤回"},
        "withdrawn",
    ),
    Route(
        Command.REFER_FILING,
        "POST /api/v1/filings/{r}/referral",
        World.filed_at_the_wrong_window,
        None,
        "referred",
    ),
    Route(
        Command.SELECT_FOR_INSPECTION,
        "POST /api/v1/filings/{r}/inspection-selection",
        World.certified,
        {"draw_reference": "抽-2026-002"},
        "selected_for_inspection",
    ),
    Route(
        Command.RECORD_INSPECTION_RESULT,
        "POST /api/v1/filings/{r}/inspection-result",
        World.selected,
        {"passed": False, "findings": ["疏散指示标志缺失"]},
        "inspected",
    ),
    Route(
        Command.REVOKE_CERTIFICATE,
        "POST /api/v1/filings/{r}/certificate-revocation",
        World.certified,
        {"reason": "申报材料虚假"},
        "certificate_revoked",
    ),
    Route(
        Command.APPROVE_RESULT_PUBLICATION,
        "POST /api/v1/filings/{r}/result-approval",
        World.inspected,
        None,
        "result_published",
    ),
    Route(
        Command.REQUEST_BOOKING,
        "POST /api/v1/bookings",
        lambda w: None,
        {**booking_input(), "wished_time": booking_input()["wished_time"].isoformat()},
        None,
    ),
    Route(
        Command.FORWARD_BOOKING,
        "POST /api/v1/bookings/{r}/forwarding",
        World.booking_received,
        {"department": "防火监督科"},
        "forwarded",
    ),
    Route(
        Command.ISSUE_PERMIT_ON_COMMITMENT,
        "POST /api/v1/bookings/{r}/permit-on-commitment",
        World.booking_on_commitment,
        {"department": "防火监督科", "commitment_document": "sha256:" + "ab" * 32},
        "forwarded",
    ),
    Route(
        Command.REJECT_BOOKING,
        "POST /api/v1/bookings/{r}/rejection",
        World.booked_at_the_wrong_window,
        None,
        "rejected",
    ),
    Route(
        Command.ASSIGN_BOOKING_HANDLERS,
        "POST /api/v1/bookings/{r}/handlers",
        World.booking_forwarded,
        None,  # filled in by the fixture: the prepared main handler's account id
        "assigned",
    ),
    Route(
        Command.REPLY_TO_BOOKING,
        "POST /api/v1/bookings/{r}/slot-offer",
        World.booking_assigned,
        {"day": "2026-11-27", "half": "am"},
        "slot_offered",
    ),
    Route(
        Command.REPLY_TO_BOOKING,
        "POST /api/v1/bookings/{r}/refusal",
        World.booking_assigned,
        {"reason": "该场所尚未具备检查条件"},
        "refused",
    ),
    Route(
        Command.ACCEPT_BOOKING_SLOT,
        "POST /api/v1/bookings/{r}/slot-acceptance",
        World.slot_offered,
        None,
        "scheduled",
    ),
    Route(
        Command.REQUEST_ANOTHER_SLOT,
        "POST /api/v1/bookings/{r}/another-slot",
        World.slot_offered,
        None,
        "assigned",
    ),
    Route(
        Command.CANCEL_BOOKING,
        "POST /api/v1/bookings/{r}/cancellation",
        World.booking_received,
        {"reason": "申请人来电取消"},
        "cancelled",
    ),
    Route(
        Command.RECORD_BOOKING_RESULT,
        "POST /api/v1/bookings/{r}/inspection-result",
        World.inspection_begun,
        {"passed": True, "findings": []},
        "inspected",
    ),
]


# The lists each reading permission opens (the case views are checked below, per agency).
VIEWS = {
    Command.VIEW_QUARANTINE: "/api/v1/intake/quarantine",
    Command.VIEW_OVERDUE_COUNTS: "/api/v1/bookings/overdue",
    Command.VIEW_LOGIN_ATTEMPTS: "/api/v1/security/login-attempts",
    Command.VIEW_CALENDAR_COVERAGE: "/api/v1/calendar/coverage",  # every member of staff
}


def route_id(route: Route) -> str:
    return f"{route.command}:{route.method_path.rsplit('/', 1)[-1]}"


def acting_role(route: Route) -> Role:
    """The one staff role a command is granted to (besides the system itself)."""
    (role,) = PERMISSIONS[route.command] - {Role.SYSTEM}
    return role


ACTING_ROLES = sorted({acting_role(route) for route in ROUTES})


def test_every_filing_and_booking_command_has_a_route_here() -> None:
    views = {Command.VIEW_FILINGS, Command.VIEW_BOOKINGS, Command.VIEW_HISTORY} | set(VIEWS)
    commands = {c for c in Command if c not in views}
    # Console and intake commands: only the system runs them, never through the staff API.
    commands -= {
        Command.OPEN_STAFF_ACCOUNT,
        Command.ERASE_PERSONAL_DATA,
        Command.QUARANTINE_SUBMISSION,
        Command.PUBLISH_AVAILABILITY,
        Command.RECORD_CALENDAR_COVERAGE,
    }
    assert {route.command for route in ROUTES} == commands


def username(role: Role, agency: str) -> str:
    return f"{role.value.replace('_', '-')}.{agency}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    clock = Clock()
    platform = make_platform(settings_for(tmp_path_factory.mktemp("matrix")), clock)
    client = client_of(platform)
    headers: dict[tuple[Role, str], Headers] = {}
    accounts: list[tuple[Role, str]] = [(role, JINSHUI) for role in STAFF_ROLES]
    accounts += [(role, agency) for role in ACTING_ROLES for agency in ("zz-erqi", "zz")]
    actors: dict[tuple[Role, str], Actor] = {}
    for role, agency in accounts:
        actors[role, agency], secret = open_account(platform, username(role, agency), role, agency)
        headers[role, agency] = login(client, username(role, agency), clock, secret)
    clerk, _ = open_account(platform, "prep-clerk", Role.WINDOW_CLERK, JINSHUI)
    handler, _ = open_account(platform, "prep-handler", Role.HANDLER, JINSHUI)
    chief, _ = open_account(platform, "prep-head", Role.DEPT_HEAD, JINSHUI)
    main_handler = actors[Role.HANDLER, JINSHUI]
    platform.services.bookings.inspections_per_half_day = 1000  # every case books a place
    try:
        yield World(platform, client, clock, clerk, handler, chief, main_handler, headers)
    finally:
        platform.close()


def call(world: World, route: Route, receipt: str | None, headers: Headers) -> httpx.Response:
    method, path = route.method_path.split(" ")
    body = route.body
    if route.command is Command.ASSIGN_BOOKING_HANDLERS:
        body = {"main_handler": world.handler.actor_id}
    response: httpx.Response = world.client.request(
        method, path.replace("{r}", receipt or ""), json=body, headers=headers
    )
    return response


def status_of(world: World, receipt: str) -> str:
    services = world.platform.services
    case = (
        services.bookings.load(receipt)
        if receipt.startswith("YY")
        else services.filings.load(receipt)
    )
    return str(case.status)


def assert_done(world: World, route: Route, receipt: str | None, response: httpx.Response) -> None:
    assert 200 <= response.status_code < 300, response.text
    if receipt is None:
        assert status_of(world, response.json()["receipt_number"]) == "received"
    else:
        assert status_of(world, receipt) == route.status_after


@pytest.mark.parametrize("role", STAFF_ROLES, ids=str)
@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_only_the_roles_in_the_permission_table_may_run_a_command(
    world: World, route: Route, role: Role
) -> None:
    receipt = route.prepare(world)
    before = head(world.platform)

    response = call(world, route, receipt, world.headers[role, JINSHUI])

    if role in PERMISSIONS[route.command]:
        assert_done(world, route, receipt, response)
    else:
        body = assert_problem(response, 403, "not_permitted")
        assert body["command"] == str(route.command)
        assert head(world.platform) == before


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_a_brigade_is_refused_another_brigades_case_and_the_detachment_acts_where_its_role_says(
    world: World, route: Route
) -> None:
    role = acting_role(route)
    receipt = route.prepare(world)
    before = head(world.platform)

    refused = call(world, route, receipt, world.headers[role, "zz-erqi"])
    from_detachment = call(world, route, receipt, world.headers[role, "zz"])

    assert_problem(refused, 403, "outside_jurisdiction")
    if role in CITY_WIDE_FROM_DETACHMENT:  # heads and approvers act for the whole city
        assert_done(world, route, receipt, from_detachment)
    else:  # the window and handlers act for their own agency, the detachment's too
        assert_problem(from_detachment, 403, "outside_jurisdiction")
        assert head(world.platform) == before


@pytest.mark.parametrize(
    ("role", "agency", "sees"),
    [
        (Role.WINDOW_CLERK, JINSHUI, True),
        (Role.WINDOW_CLERK, "zz-erqi", False),
        (Role.WINDOW_CLERK, "zz", False),
        (Role.HANDLER, "zz", False),
        (Role.DEPT_HEAD, "zz", True),
        (Role.APPROVER, "zz", True),
    ],
    ids=str,
)
def test_the_queue_and_the_case_show_a_brigades_filing_to_whoever_may_act_on_it(
    world: World, role: Role, agency: str, sees: bool
) -> None:
    receipt = world.received()
    headers = world.headers[role, agency]

    queue = world.client.get("/api/v1/filings/queue", headers=headers)
    case = world.client.get(f"/api/v1/filings/{receipt}", headers=headers)

    assert queue.status_code == 200, queue.text
    assert (receipt in {item["receipt_number"] for item in queue.json()["items"]}) is sees
    if sees:
        assert case.status_code == 200, case.text
    else:
        assert_problem(case, 403, "outside_jurisdiction")


@pytest.mark.parametrize("role", STAFF_ROLES, ids=str)
@pytest.mark.parametrize(("view", "path"), VIEWS.items(), ids=[str(v) for v in VIEWS])
def test_only_the_roles_in_the_permission_table_may_read_a_list(
    world: World, view: Command, path: str, role: Role
) -> None:
    response = world.client.get(path, headers=world.headers[role, JINSHUI])

    if role in PERMISSIONS[view]:
        assert response.status_code == 200, response.text
    else:
        body = assert_problem(response, 403, "not_permitted")
        assert body["command"] == str(view)


ERQI = "zz-erqi"


@pytest.mark.parametrize(
    ("role", "agency", "expected"),
    [
        (Role.WINDOW_CLERK, ERQI, "sees"),
        (Role.WINDOW_CLERK, JINSHUI, "outside_jurisdiction"),
        (Role.WINDOW_CLERK, "zz", "outside_jurisdiction"),
        (Role.HANDLER, ERQI, "sees"),
        (Role.HANDLER, JINSHUI, "outside_jurisdiction"),
        (Role.HANDLER, "zz", "outside_jurisdiction"),
        (Role.DEPT_HEAD, ERQI, "sees"),
        (Role.DEPT_HEAD, JINSHUI, "outside_jurisdiction"),
        (Role.DEPT_HEAD, "zz", "sees"),
        (Role.APPROVER, "zz", "sees"),
        (Role.SUPERVISOR, JINSHUI, "sees"),  # a city-wide reader, wherever the account sits
        (Role.AUDITOR, JINSHUI, "not_permitted"),  # the history, not the case files
        (Role.LEGAL_REVIEWER, JINSHUI, "not_permitted"),
        (Role.SYSTEM_ADMIN, JINSHUI, "not_permitted"),
    ],
    ids=str,
)
def test_art15_a_brigades_booking_and_its_contact_are_shown_only_to_whoever_may_act_on_it(
    world: World, role: Role, agency: str, expected: str
) -> None:
    """A 二七区 booking: its brigade and the detachment's heads, leaders and supervisors see
    it with the contact's name and phone opened; another brigade, the detachment's own window
    and handlers (who act for the detachment only), and roles without the permission see
    neither the booking nor its contact. Acting on it is refused the same way (the command
    matrix above)."""
    received = world.booking_received(district="二七区")
    forwarded = world.booking_received(district="二七区")
    world.platform.services.bookings.forward(
        Actor("prep-erqi", Role.WINDOW_CLERK, ERQI), forwarded, "防火监督科"
    )
    headers = world.headers[role, agency]

    detail = world.client.get(f"/api/v1/bookings/{received}", headers=headers)
    queue = world.client.get("/api/v1/bookings/queue", headers=headers)

    contact = booking_input()
    if expected == "sees":
        assert detail.status_code == 200, detail.text
        shown = detail.json()
        assert (shown["agency"], shown["contact_name"]) == (ERQI, contact["contact_name"])
        assert shown["contact_phone"] == contact["contact_phone"]
    else:
        assert_problem(detail, 403, expected)
        assert contact["contact_phone"] not in detail.text
        assert contact["contact_name"] not in detail.text
    if expected == "not_permitted":
        assert_problem(queue, 403, "not_permitted")
        return
    assert queue.status_code == 200, queue.text
    listed = {item["receipt_number"] for item in queue.json()["items"]}
    # The window's queue holds bookings to review, the head's those to assign.
    waiting = {Role.WINDOW_CLERK: received, Role.DEPT_HEAD: forwarded}.get(role)
    if waiting is not None:
        assert (waiting in listed) is (expected == "sees")
    assert contact["contact_phone"] not in queue.text  # queues never carry the contact
