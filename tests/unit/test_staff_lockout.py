"""The account's side of the login lockout (domain.staff; docs/security.md "Login lockout"):
counted per source with a bound on the sources kept, and the login events stored before
sources were counted (class version 1) still read, with no source, and a lock among them
still locking the whole account until it ends (events are never rewritten: DESIGN.md 1)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent

from domain.actor import Actor, Role
from domain.errors import AuthenticationFailed
from domain.events import by
from domain.services import Services
from domain.staff import MAX_SOURCES_KEPT, StaffAccount
from tests.support import PASSWORD, Clock, memory_services

LOCKOUT = timedelta(minutes=30)
SYSTEM = Actor.system("zz", "login")


@pytest.fixture(name="clock")
def clock_fixture() -> Clock:
    return Clock()


@pytest.fixture(name="services")
def services_fixture(clock: Clock) -> Services:
    found: Services = memory_services(clock)
    return found


def open_clerk(services: Services) -> StaffAccount:
    services.staff.open_account(
        Actor.system("zz", "test"), username="clerk", display_name="测试", agency="zz-jinshui",
        roles=[str(Role.WINDOW_CLERK)], password=PASSWORD,
    )  # fmt: skip
    account: StaffAccount = services.context.app.repository.get(StaffAccount.create_id("clerk"))
    return account


def store_as_version_1(services: Services, account: StaffAccount) -> None:
    """Save the account's pending events as the platform stored them before sources were
    counted: no ``source`` in their state, no class version."""
    app = services.context.app
    stored = []
    for event in account.collect_events():
        written = app.mapper.to_stored_event(event)
        state: dict[str, Any] = app.mapper.transcoder.decode(written.state)
        state.pop("source", None)
        state.pop("class_version", None)
        stored.append(
            StoredEvent(
                written.originator_id,
                written.originator_version,
                written.topic,
                app.mapper.transcoder.encode(state),
            )
        )
    app.recorder.insert_events(stored)


def test_a_lock_stored_before_sources_were_counted_still_locks_every_source(
    services: Services, clock: Clock
) -> None:
    account = open_clerk(services)
    stamp = by(SYSTEM, clock.now)
    for _ in range(5):
        account.trigger_event(
            StaffAccount.LoginFailed, reason="wrong_password", source="x", **stamp
        )
    until = clock.now + LOCKOUT
    account.trigger_event(StaffAccount.Locked, until=until, source="x", **stamp)
    store_as_version_1(services, account)

    login = services.staff.login
    with pytest.raises(AuthenticationFailed) as locked:
        login.check_password("clerk", PASSWORD, source="198.51.100.20")
    history = services.audit.history(SYSTEM, str(account.id))
    clock.advance(minutes=30)
    checked = login.check_password("clerk", PASSWORD, source="198.51.100.20")

    assert locked.value.code == "account_locked"
    assert locked.value.details["locked_until"] == until.isoformat()
    assert [e.details.get("source", "-") for e in history[-6:]] == [None] * 6
    assert checked.username == "clerk"


def test_a_login_stored_before_sources_were_counted_clears_every_count(
    services: Services, clock: Clock
) -> None:
    account = open_clerk(services)
    stamp = by(SYSTEM, clock.now)
    account.record_failed_login("wrong_password", "203.0.113.1", 5, LOCKOUT, **stamp)
    account.record_failed_login("wrong_password", "203.0.113.2", 5, LOCKOUT, **stamp)
    services.context.save(account)
    reloaded: StaffAccount = services.context.app.repository.get(account.id)
    reloaded.trigger_event(StaffAccount.LoggedIn, totp_step=None, source=None, **stamp)
    store_as_version_1(services, reloaded)

    after: StaffAccount = services.context.app.repository.get(account.id)

    events: list[Any] = list(services.context.app.events.get(account.id))
    assert [e.source for e in events[-3:]] == [
        "203.0.113.1",
        "203.0.113.2",
        None,
    ]
    assert after.sources == {}


def test_an_account_remembers_a_bounded_number_of_sources_and_keeps_their_locks(
    services: Services, clock: Clock
) -> None:
    account = open_clerk(services)
    stamp = by(SYSTEM, clock.now)
    for _ in range(5):
        account.record_failed_login("wrong_password", "192.0.2.1", 5, LOCKOUT, **stamp)
    for n in range(3 * MAX_SOURCES_KEPT):  # a failure each from many other sources
        account.record_failed_login("wrong_password", f"2001:db8:{n:x}::/64", 5, LOCKOUT, **stamp)

    assert len(account.sources) == MAX_SOURCES_KEPT
    assert account.is_locked("192.0.2.1", clock.now)  # the lock outlives the forgetting
    assert f"2001:db8:{3 * MAX_SOURCES_KEPT - 1:x}::/64" in account.sources  # the newest stays
    assert not account.is_locked("2001:db8:0::/64", clock.now)
    services.context.save(account)
    reloaded: StaffAccount = services.context.app.repository.get(account.id)
    assert reloaded.sources == account.sources  # the same from the events alone
