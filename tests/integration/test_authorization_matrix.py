"""Who may do what, over HTTP: every filing command against every staff role.

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
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from deployment.bootstrap import Platform
from domain.actor import Actor, Role
from domain.filing import NoticeItem
from domain.permissions import BOOKING_COMMANDS, CITY_WIDE_FROM_DETACHMENT, PERMISSIONS, Command
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
    clerk: Actor  # prepares states that only a clerk may bring about
    handler: Actor
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

    def filed_at_the_wrong_window(self) -> str:
        """A 二七区 project filed with the 金水区 brigade: to be referred to 二七区."""
        return self.received(agency=JINSHUI, district="二七区", project_address="二七区大学路 1 号")


@dataclass(frozen=True)
class Route:
    command: Command
    method_path: str  # "POST /api/v1/filings/{r}/certificate"
    prepare: Callable[[World], str | None]
    body: dict[str, Any] | None
    status_after: str | None  # the filing's status once the command succeeded


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
]


def acting_role(route: Route) -> Role:
    """The one staff role a command is granted to (besides the system itself)."""
    (role,) = PERMISSIONS[route.command] - {Role.SYSTEM}
    return role


ACTING_ROLES = sorted({acting_role(route) for route in ROUTES})


def test_every_filing_command_has_a_route_here() -> None:
    filing_commands = {c for c in Command if c not in {Command.VIEW_FILINGS, Command.VIEW_HISTORY}}
    filing_commands -= {Command.OPEN_STAFF_ACCOUNT, Command.ERASE_PERSONAL_DATA}
    filing_commands -= BOOKING_COMMANDS  # no HTTP routes yet: they come with the booking API
    assert {route.command for route in ROUTES} == filing_commands


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
    for role, agency in accounts:
        _, secret = open_account(platform, username(role, agency), role, agency)
        headers[role, agency] = login(client, username(role, agency), clock, secret)
    clerk, _ = open_account(platform, "prep-clerk", Role.WINDOW_CLERK, JINSHUI)
    handler, _ = open_account(platform, "prep-handler", Role.HANDLER, JINSHUI)
    try:
        yield World(platform, client, clerk, handler, headers)
    finally:
        platform.close()


def call(world: World, route: Route, receipt: str | None, headers: Headers) -> httpx.Response:
    method, path = route.method_path.split(" ")
    response: httpx.Response = world.client.request(
        method, path.replace("{r}", receipt or ""), json=route.body, headers=headers
    )
    return response


def assert_done(world: World, route: Route, receipt: str | None, response: httpx.Response) -> None:
    assert 200 <= response.status_code < 300, response.text
    if receipt is None:
        receipt = response.json()["receipt_number"]
        assert world.platform.services.filings.load(receipt).status == "received"
    else:
        assert world.platform.services.filings.load(receipt).status == route.status_after


@pytest.mark.parametrize("role", STAFF_ROLES, ids=str)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: str(r.command))
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


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: str(r.command))
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
