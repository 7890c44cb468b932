"""Nothing a member of staff can type into the console is answered 500: Hypothesis fills every
console form (with a valid session and CSRF token, so the request reaches the services) with
arbitrary fields and values, as each role that may use it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from api_internal import pages_bookings, pages_filings
from deployment.bootstrap import Platform
from domain.actor import Role
from tests.booking_support import booking_input
from tests.integration.test_staff_pages import Desk, hidden
from tests.support import Clock, filing_input, make_platform, settings_for

TEXT = st.text(max_size=40)
FIELDS = st.sampled_from(
    ["department", "commitment_document", "cancel_reason", "main_handler", "assistants",
     "slot", "refusal_reason", "passed", "findings", "recheck_date", "withdrawal_reason",
     "version", "decision-application_form", "reason-application_form", "next", "x"]
)  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Platform, Clock, list[Desk]]]:
    clock = Clock()
    platform = make_platform(settings_for(Path(tmp_path_factory.mktemp("console500"))), clock)
    try:
        desks = [
            Desk(platform, clock, "clerk", Role.WINDOW_CLERK),
            Desk(platform, clock, "head", Role.DEPT_HEAD),
            Desk(platform, clock, "handler", Role.HANDLER),
        ]
        yield platform, clock, desks
    finally:
        platform.close()


@pytest.fixture(scope="module")
def cases(site: tuple[Platform, Clock, list[Desk]]) -> tuple[str, str]:
    platform, _, (clerk, *_) = site
    filing = platform.services.filings.submit(clerk.actor, **filing_input())
    booking = platform.services.bookings.request(clerk.actor, **booking_input())
    return filing, booking


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    desk=st.integers(0, 2),
    kind=st.sampled_from(["filings", "bookings"]),
    action=st.sampled_from(["review", *pages_filings.ACTIONS, *pages_bookings.ACTIONS, "unknown"]),
    form=st.dictionaries(FIELDS, TEXT, max_size=5),
)
def test_no_console_form_is_answered_500(
    site: tuple[Platform, Clock, list[Desk]],
    cases: tuple[str, str],
    desk: int,
    kind: str,
    action: str,
    form: dict[str, str],
) -> None:
    _, _, desks = site
    person = desks[desk]
    receipt = cases[0] if kind == "filings" else cases[1]
    page = person.get(f"/console/{kind}/{receipt}").text
    data = {"csrf_token": hidden(page, "csrf_token"), **form}

    answer = person.client.post(f"/console/{kind}/{receipt}/{action}", data=data)

    event(f"status {answer.status_code}")
    assert answer.status_code < 500, (kind, action, form, answer.text[:300])
