"""Notification ids are never handed out twice, and a follower never skips an event silently
(issue 16; deployment.event_store, projections.log_guard): the embedded store's ids come from
AUTOINCREMENT (an older store is migrated keeping every id), PostgreSQL's from a sequence; a
follower that finds the log no longer holding what it passed stops, logs it and shows it.
The tests with a ``platform`` run on SQLite and on PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.domain import Aggregate
from structlog.testing import capture_logs

from deployment.bootstrap import Platform
from deployment.cli_status import report
from domain.application import FiregovApplication
from projections.internal.ledger import Ledger
from projections.internal.notifications import Outbox
from projections.internal.slot_counts import SlotCounts
from projections.internal.tracking import TrackedFollower
from projections.log_guard import LogWentBack, stops
from projections.store import SqliteViewStore
from tests.integration.api_fixtures import (  # noqa: F401 - fixtures are used by name
    clock_fixture,
    platform_fixture,
)
from tests.integration.bridge_fixtures import (  # noqa: F401 - the fixture
    CLERK,
    Installation,
    installation_fixture,
)
from tests.support import Clock, client_of, filing_input, make_platform, settings_for


def delete_last_event(platform: Platform) -> tuple[int, Callable[[], None]]:
    """What nothing in the platform does: the last event removed behind its back. Its id, and
    how to put it back as a restore from a backup would."""
    url = platform.settings.internal_database_url
    if url is None:
        return delete_last_sqlite_event(platform.settings.internal_dir / "events.sqlite")
    columns = "notification_id, originator_id, originator_version, topic, state"
    options = f"-c search_path={platform.settings.postgres_schema}"
    with psycopg.connect(url, options=options) as connection:
        row = connection.execute(
            "DELETE FROM firegov_events WHERE notification_id ="  # noqa: S608 - fixed names
            f" (SELECT MAX(notification_id) FROM firegov_events) RETURNING {columns}"
        ).fetchone()
    assert row is not None

    def restore() -> None:
        with psycopg.connect(url, options=options) as connection:
            connection.execute(
                f"INSERT INTO firegov_events ({columns}) VALUES (%s, %s, %s, %s, %s)",  # noqa: S608
                row,
            )

    return int(row[0]), restore


def delete_last_sqlite_event(path: Path) -> tuple[int, Callable[[], None]]:
    columns = "rowid, originator_id, originator_version, topic, state"
    with sqlite3.connect(path) as connection:
        row = connection.execute(
            f"SELECT {columns} FROM stored_events ORDER BY rowid DESC LIMIT 1"  # noqa: S608
        ).fetchone()
        connection.execute("DELETE FROM stored_events WHERE rowid = ?", [row[0]])
    connection.close()

    def restore() -> None:
        with sqlite3.connect(path) as again:
            again.execute(f"INSERT INTO stored_events ({columns}) VALUES (?, ?, ?, ?, ?)", row)  # noqa: S608
        again.close()

    return int(row[0]), restore


def ids(app: Any) -> list[int]:
    return [n.id for n in app.recorder.select_notifications(start=1, limit=10_000)]


def followers(platform: Platform) -> dict[str, TrackedFollower]:
    outbox = Outbox(platform.app, platform.views)
    return {f.name: f for f in (platform.projector, platform.ledger, platform.slot_counts, outbox)}


def test_deleted_last_event_id_is_never_reused(platform: Platform) -> None:
    platform.services.filings.submit(CLERK, **filing_input())
    deleted, _ = delete_last_event(platform)

    platform.services.filings.submit(CLERK, **filing_input())

    assert deleted not in ids(platform.app)
    assert ids(platform.app)[-1] > deleted


def test_an_event_store_made_without_autoincrement_is_migrated_keeping_every_id(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path)
    settings.internal_dir.mkdir(parents=True)
    path = settings.internal_dir / "events.sqlite"
    # As eventsourcing's own recorder made the table before (rowid without AUTOINCREMENT).
    legacy = FiregovApplication(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                                     "SQLITE_DBNAME": str(path)})  # fmt: skip
    for _ in range(3):
        legacy.save(Aggregate())
    before = legacy.recorder.select_notifications(start=1, limit=100)
    legacy.close()

    with capture_logs() as logs:
        platform = make_platform(settings, Clock())
    try:
        assert platform.app.recorder.select_notifications(start=1, limit=100) == before
        assert [e["event"] for e in logs].count("event_store_migrated_to_autoincrement") == 1
        with sqlite3.connect(path) as connection:
            (table,) = connection.execute(
                "SELECT sql FROM sqlite_master WHERE name = 'stored_events'"
            ).fetchone()
        connection.close()
        assert "AUTOINCREMENT" in table
        deleted, _ = delete_last_event(platform)
        platform.services.filings.submit(CLERK, **filing_input())
        assert deleted not in ids(platform.app)
    finally:
        platform.close()


def test_follower_stops_when_the_log_goes_back(platform: Platform) -> None:
    platform.services.filings.submit(CLERK, **filing_input())
    every = followers(platform)
    reached = {name: f.catch_up() for name, f in every.items()}
    delete_last_event(platform)

    with capture_logs() as logs:
        for follower in every.values():
            with pytest.raises(LogWentBack):
                follower.catch_up()
    platform.services.filings.submit(CLERK, **filing_input())  # ids above: still stopped
    for follower in every.values():
        with pytest.raises(LogWentBack):
            follower.catch_up()

    assert {name: f.position() for name, f in every.items()} == reached  # nothing moved
    assert sorted(s.name for s in stops(platform.views)) == sorted(every)
    stopped = [e for e in logs if e["event"] == "follower_stopped"]
    assert sorted(e["follower"] for e in stopped) == sorted(every)
    assert {e["log_level"] for e in stopped} == {"error"}
    health = client_of(platform).get("/health").json()
    assert health["status"] == "follower_stopped"
    assert sorted(s["name"] for s in health["stopped_followers"]) == sorted(every)
    lines: list[str] = []
    assert report(platform, lines.append) is False
    assert sum("STOPPED" in line for line in lines) >= len(every)


def test_a_rebuilt_read_model_reads_the_log_as_it_is_now_and_goes_on(platform: Platform) -> None:
    platform.services.filings.submit(CLERK, **filing_input())
    platform.projector.catch_up()
    delete_last_event(platform)
    with pytest.raises(LogWentBack):
        platform.projector.catch_up()

    platform.services.filings.submit(CLERK, **filing_input())
    assert platform.projector.rebuild() == platform.app.recorder.max_notification_id()

    assert [s.name for s in stops(platform.views)] == []
    assert platform.projector.catch_up() == platform.app.recorder.max_notification_id()


def test_a_follower_goes_on_by_itself_once_the_log_is_restored(platform: Platform) -> None:
    platform.services.filings.submit(CLERK, **filing_input())
    reached = platform.ledger.catch_up()
    _, restore = delete_last_event(platform)
    with pytest.raises(LogWentBack):
        platform.ledger.catch_up()

    restore()

    with capture_logs() as logs:
        assert platform.ledger.catch_up() == reached
    assert [e["event"] for e in logs] == ["follower_resumed"]
    assert stops(platform.views) == []
    assert platform.ledger.verify().ok
    lines: list[str] = []
    assert report(platform, lines.append) is True


def test_follower_stops_when_an_id_it_passed_is_given_to_another_event(tmp_path: Path) -> None:
    """On a store without AUTOINCREMENT (never migrated), the id of a deleted last row goes to
    the next event: followers past it stop instead of skipping it, those that read every
    notification and those that read a few topics alike."""
    path = tmp_path / "legacy.sqlite"
    app = FiregovApplication(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                                  "SQLITE_DBNAME": str(path)})  # fmt: skip
    try:
        for _ in range(3):
            app.save(Aggregate())
        views = SqliteViewStore(tmp_path / "views.sqlite")
        ledger, counts = Ledger(app, views), SlotCounts(app, views)
        assert ledger.catch_up() == counts.catch_up() == 3
        deleted, _ = delete_last_sqlite_event(path)

        app.save(Aggregate())
        assert ids(app)[-1] == deleted  # handed out again: the trap itself

        for follower in (ledger, counts):
            with pytest.raises(LogWentBack) as stopped:
                follower.catch_up()
            assert "reused" in stopped.value.stop.reason
            assert follower.position() == 3
        views.close()
    finally:
        app.close()


def test_the_outbound_bridge_stops_when_the_log_goes_back(installation: Installation) -> None:
    installation.file()
    installation.cross()
    batches = sorted(installation.ferry.glob("*.batch"))
    delete_last_event(installation.platform)
    installation.file()

    with pytest.raises(LogWentBack):
        installation.outbound.step()

    assert sorted(installation.ferry.glob("*.batch")) == batches  # nothing crossed
    assert "outbound" in [s.name for s in stops(installation.platform.views)]
