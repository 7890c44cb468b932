"""Both OpenAPI documents are true (issue 16, section 4; DESIGN.md decision 9): schemathesis
generates requests from the staff API's and the public API's own ``/openapi.json``, sends them
to the apps in process (an embedded SQLite installation with the demo data), and checks every
answer against the document: never a 500, only declared statuses, the declared media type
(problem details as ``application/problem+json``), bodies that match their schema, and the
declared headers (Retry-After, WWW-Authenticate). The staff app is called as a logged-in demo
desk (a clerk, a head, a handler, an approver in turn), so requests reach past 401, and every
other request that names a receipt number names a real case of the demo data.

Bounded in time: a few examples per operation and a deadline per example; the whole module
runs in well under a minute on the CI machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import count
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api_internal import routes_auth
from api_internal.app import create_app
from api_public.app import create_public_app
from api_public.ratelimit import RateLimiter
from deployment.bootstrap import Platform
from deployment.demo import DemoCase, seed
from deployment.sides import PublicSide
from domain.actor import Actor
from domain.staff import StaffAccount
from tests.integration.bridge_fixtures import Installation, install

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Small and bounded: the point is every operation and every kind of answer, not volume.
BOUNDED = settings(
    max_examples=8,
    deadline=5000,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# Sessions of these demo accounts in turn, so that commands reach each desk's logic.
DESKS = ("demo-clerk", "demo-head", "demo-handler", "demo-approver")


@dataclass
class Installed:
    installation: Installation
    staff: list[Actor]
    cases: list[DemoCase]
    sessions: Iterator[int] = field(default_factory=count)
    aims: Iterator[int] = field(default_factory=count)

    @property
    def platform(self) -> Platform:
        return self.installation.platform

    @property
    def public(self) -> PublicSide:
        return self.installation.public

    def session(self) -> dict[str, str]:
        """A session of its own for each request (the logout operation ends only its own), of
        the next demo desk, opened as its login would open it (login itself, argon2 and all,
        is test_login.py's business)."""
        actor = self.staff[next(self.sessions) % len(self.staff)]
        token = self.platform.sessions.open(actor, self.installation.clock.now)
        return {"Authorization": f"Bearer {token}"}

    def aim(self, case: schemathesis.Case[Any]) -> None:
        """Every other request that names a receipt number names a real case of the demo
        data, with its query code where the route takes one: a generated receipt number is
        never real, and the routes' logic past "not found" (the case's state, the query code,
        the role's jurisdiction) would go untried."""
        turn = next(self.aims)
        if "receipt_number" not in (case.path_parameters or {}) or turn % 2:
            return
        demo = self.cases[turn // 2 % len(self.cases)]
        case.path_parameters["receipt_number"] = demo.receipt_number
        for name in case.headers or {}:
            if name.lower() == "x-query-code":
                case.headers[name] = demo.query_code


@pytest.fixture(name="installed", scope="module")
def installed_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    # A failed login is padded to a quarter second so that its timing tells nothing; here it
    # would be most of the run. What the fuzzer checks is the answer, not its timing.
    patch = pytest.MonkeyPatch()
    patch.setattr(routes_auth, "FAILED_LOGIN_FLOOR_SECONDS", 0.0)
    built = install(tmp_path_factory.mktemp("openapi"))
    accounts, cases = seed(built.platform)
    built.cross()
    # Generous limits: the fuzzer should reach the routes' logic, not the limiter every time
    # (429 itself is declared, and test_public_api proves it).
    backend = built.public.backend
    backend.requests = RateLimiter(per_minute=100_000, burst=100_000)
    backend.code_attempts = RateLimiter(per_minute=100_000, burst=100_000)
    backend.submissions = RateLimiter(per_minute=100_000, burst=100_000)
    staff = [
        Actor(str(StaffAccount.create_id(a.username)), a.role, a.agency)
        for a in accounts
        if a.username in DESKS
    ]
    try:
        yield Installed(built, staff, cases)
    finally:
        built.public.close()
        built.platform.close()
        patch.undo()


@pytest.fixture(name="staff_schema", scope="module")
def staff_schema_fixture(installed: Installed) -> schemathesis.BaseSchema:
    app = create_app(installed.platform.staff_backend())
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(name="public_schema", scope="module")
def public_schema_fixture(installed: Installed) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi(
        "/openapi.json", create_public_app(installed.public.backend)
    )


@pytest.fixture(autouse=True)
def node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32's lazy loader renames the test node per operation through the
    private ``_nodeid``, which pytest 9.2 no longer has: give it one to rename."""
    node = request.node
    if not hasattr(node, "_nodeid"):
        node._nodeid = node.nodeid


staff = schemathesis.pytest.from_fixture("staff_schema")
public = schemathesis.pytest.from_fixture("public_schema")


@staff.parametrize()
@BOUNDED
def test_the_staff_api_answers_as_its_openapi_document_says(
    case: schemathesis.Case[Any], installed: Installed
) -> None:
    installed.aim(case)
    case.call_and_validate(headers=installed.session(), checks=CHECKS)


@public.parametrize()
@BOUNDED
def test_the_public_api_answers_as_its_openapi_document_says(
    case: schemathesis.Case[Any], installed: Installed
) -> None:
    installed.aim(case)
    case.call_and_validate(checks=CHECKS)


def test_both_documents_declare_refusals_as_problem_details(
    staff_schema: schemathesis.BaseSchema, public_schema: schemathesis.BaseSchema
) -> None:
    """Every 4xx of every operation is problem+json with the one shared schema."""
    for schema in (staff_schema, public_schema):
        document = schema.raw_schema
        assert "Problem" in document["components"]["schemas"]
        assert "HTTPValidationError" not in document["components"]["schemas"]
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                for status, response in operation["responses"].items():
                    if status.startswith("4"):
                        assert response["content"] == {
                            "application/problem+json": {
                                "schema": {"$ref": "#/components/schemas/Problem"}
                            }
                        }, (method, path, status)
