"""Followers of the notification log (projections.internal.tracking; DESIGN.md decision 5,
exactly-once effect): the ledger and the slot counts share one tracking mechanism with the staff
views and the outbox. Two followers racing over one batch record it once, the ledger's chain
stays one chain, and a follower of a few topics moves past a stretch without them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from domain.actor import Actor, Role
from projections.internal.ledger import Ledger
from projections.internal.slot_counts import SlotCounts
from projections.store import SqliteViewStore
from tests.booking_support import JINSHUI
from tests.support import Clock, filing_input, memory_services

WINDOW = Actor("window", Role.WINDOW_CLERK, JINSHUI)


def filed(count: int) -> Application[Any]:
    services = memory_services(Clock())
    for _ in range(count):
        services.filings.submit(WINDOW, **filing_input())
    app: Application[Any] = services.context.app
    return app


def test_decision5_two_ledgers_racing_over_one_batch_record_one_chain(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = filed(3)
    store = SqliteViewStore(":memory:")
    rival, loser = Ledger(app, store), Ledger(app, store)
    read = loser._next
    races: list[int] = []

    def read_then_rival(start: int, limit: int) -> tuple[Sequence[Notification], int]:
        """Right after the loser has read its batch, the rival records the same stretch."""
        batch = read(start, limit)
        if batch[0]:
            races.append(start)
            rival.catch_up()
        return batch

    monkeypatch.setattr(loser, "_next", read_then_rival)

    position = loser.catch_up()

    newest = app.recorder.max_notification_id()
    assert races == [0]  # it read a batch, lost the compare-and-set and wrote nothing
    assert position == newest
    alone = Ledger(app, SqliteViewStore(":memory:"))
    alone.catch_up(batch_size=2)  # in other batches: the same chain
    assert loser.head() == rival.head() == alone.head()
    verification = loser.verify()
    assert (verification.ok, verification.checked, verification.recorded) == (True, newest, newest)


def test_decision5_ledgers_taking_turns_extend_the_chain_from_where_the_other_stopped() -> None:
    services = memory_services(Clock())
    app = services.context.app
    store = SqliteViewStore(":memory:")
    first, second = Ledger(app, store), Ledger(app, store)
    for follower in (first, second, first, second):
        services.filings.submit(WINDOW, **filing_input())
        follower.catch_up(batch_size=1)

    alone = Ledger(app, SqliteViewStore(":memory:"))
    alone.catch_up()
    assert first.head() == second.head() == alone.head()
    assert first.verify().ok


def test_a_follower_of_a_few_topics_moves_past_a_stretch_without_them() -> None:
    app = filed(4)  # filings only: no half day opened or booked
    counts = SlotCounts(app, SqliteViewStore(":memory:"), batch_size=2)

    assert counts.catch_up() == app.recorder.max_notification_id()
    assert counts.rebuild() == app.recorder.max_notification_id()
