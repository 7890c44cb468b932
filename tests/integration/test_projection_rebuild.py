"""The staff console's read models (DESIGN.md "Read side") on SQLite and on PostgreSQL.

Rows come from events only: rebuilding from the start gives exactly the rows that incremental
catching up gave; catching up again applies nothing twice; two projectors racing over the
same notifications apply each one once; a rebuild never leaves a reader without tables, and a
failed round does not stop the follower. The review queue computes the deadline, working days
left and the overdue flag at query time, from the calendar, and shows a deadline in a year the
calendar does not cover yet as unknown instead of failing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import pytest
from eventsourcing.application import Application
from psycopg_pool import ConnectionPool
from structlog.testing import capture_logs

from deployment.bootstrap import Platform
from domain.actor import Actor, Role
from domain.calendar import SHANGHAI
from domain.filing import NoticeItem
from domain.services.booking_base import booking_id
from domain.services.filings import filing_id
from projections.internal.projector import InternalProjector
from projections.store import PostgresViewStore, SqliteViewStore, Tx, ViewStore
from tests.booking_support import booking_input
from tests.booking_support import staff as booking_staff
from tests.support import Clock, filing_input, make_platform, materials, settings_for

JINSHUI_WINDOW = Actor("window-jinshui", Role.WINDOW_CLERK, "zz-jinshui")
ERQI_WINDOW = Actor("window-erqi", Role.WINDOW_CLERK, "zz-erqi")
DEPT_HEAD = Actor("head-zz", Role.DEPT_HEAD, "zz")
HANDLER = Actor("handler-jinshui", Role.HANDLER, "zz-jinshui")
APPROVER = Actor("approver-jinshui", Role.APPROVER, "zz-jinshui")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def platform(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[Platform]:
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_url")
        schema: str = request.getfixturevalue("pg_schema")
        settings = settings_for(tmp_path, database_url=url, schema=schema)
    else:
        settings = settings_for(tmp_path)
    built = make_platform(settings, clock)
    try:
        yield built
    finally:
        built.close()


class OwnPoolViewStore(PostgresViewStore):
    """A view store with a pool of its own, as a second process would have."""

    def close(self) -> None:
        self.pool.close()


def another_view_store(platform: Platform) -> ViewStore:
    """A second connection to the platform's view database, as a second process would open."""
    settings = platform.settings
    if settings.internal_database_url is None:
        return SqliteViewStore(settings.internal_dir / "views.sqlite")
    pool = ConnectionPool(
        settings.internal_database_url,
        kwargs={"options": f"-c search_path={settings.postgres_schema}"},
        open=True,
    )
    return OwnPoolViewStore(pool)


def history_rows(platform: Platform) -> list[dict[str, Any]]:
    with platform.views.transaction() as tx:
        return tx.fetchall("SELECT * FROM view_filing_history ORDER BY position")


def filing_events(platform: Platform, receipts: list[str]) -> int:
    return sum(len(list(platform.app.events.get(filing_id(r)))) for r in receipts)


def mixed_flow(
    platform: Platform, clock: Clock, after_each: Callable[[], object] | None = None
) -> list[str]:
    """Five filings through most of their life cycle, an hour apart; ``after_each()`` runs
    after every command (e.g. to catch up incrementally)."""
    filings = platform.services.filings
    receipts: list[str] = []

    def step() -> None:
        clock.advance(hours=1)
        if after_each is not None:
            after_each()

    def submit(actor: Actor = JINSHUI_WINDOW, **overrides: Any) -> str:
        receipt = filings.submit(actor, **filing_input(**overrides))
        receipts.append(receipt)
        step()
        return receipt

    published = submit()
    supplemented = submit(
        kind="completion", materials=materials("completion", ("application_form",))
    )
    referred = submit(ERQI_WINDOW, agency="zz-erqi")
    withdrawn = submit(contact_phone="13912345678")
    submit(project_name="等待审查的工程")  # stays in the review queue

    commands: list[Callable[[], object]] = [
        lambda: filings.issue_certificate(JINSHUI_WINDOW, published),
        lambda: filings.issue_supplement_notice(
            JINSHUI_WINDOW,
            supplemented,
            [NoticeItem(item="application_form", problem="missing", reason="未提交申报表")],
        ),
        lambda: filings.refer(ERQI_WINDOW, referred),
        lambda: filings.select_for_inspection(DEPT_HEAD, published, "抽签记录 2026-11-003"),
        lambda: filings.resubmit(JINSHUI_WINDOW, supplemented, materials("completion")),
        lambda: filings.withdraw(JINSHUI_WINDOW, withdrawn, "建设单位申请撤回"),
        lambda: filings.record_inspection_result(HANDLER, published, False, ["防火门闭门器缺失"]),
        lambda: filings.issue_certificate(JINSHUI_WINDOW, supplemented),
        lambda: filings.approve_result_for_publication(APPROVER, published),
    ]
    for command in commands:
        command()
        step()
    return receipts


def test_rebuilding_from_the_start_gives_the_rows_incremental_catching_up_gave(
    platform: Platform, clock: Clock
) -> None:
    receipts = mixed_flow(platform, clock, after_each=platform.projector.catch_up)
    rows, history = platform.queries.rows(), history_rows(platform)
    assert {row["status"] for row in rows} == {
        "result_published",
        "certified",
        "referred",
        "withdrawn",
        "received",
    }
    assert len(history) == filing_events(platform, receipts) == 14

    position = platform.projector.rebuild()

    assert position == platform.app.recorder.max_notification_id()
    assert platform.queries.rows() == rows
    assert history_rows(platform) == history


def booking_flow(platform: Platform, clock: Clock, after_each: Callable[[], object]) -> int:
    """Bookings in every state the queues know, an hour apart; their number of events."""
    bookings = platform.services.bookings
    chief = booking_staff(platform.services, "rebuild-head", "zz-jinshui", Role.DEPT_HEAD)
    main = booking_staff(platform.services, "rebuild-handler", "zz-jinshui")
    received = [bookings.request(JINSHUI_WINDOW, **booking_input()) for _ in range(5)]
    rejected = bookings.request(
        JINSHUI_WINDOW, **booking_input(district="二七区", agency="zz-jinshui")
    )
    commands: list[Callable[[], object]] = [
        lambda: bookings.reject(JINSHUI_WINDOW, rejected),
        *(lambda r=r: bookings.forward(JINSHUI_WINDOW, r, "防火监督科") for r in received[1:]),
        *(lambda r=r: bookings.assign(chief, r, main.actor_id) for r in received[2:]),
        lambda: bookings.reply_with_refusal(main, received[2], "不具备检查条件"),
        lambda: bookings.reply_with_slot(main, received[3], "2026-11-27", "am"),
        lambda: bookings.reply_with_slot(main, received[4], "2026-11-27", "pm"),
        lambda: bookings.request_another_slot(JINSHUI_WINDOW, received[3]),
        lambda: bookings.accept_slot(JINSHUI_WINDOW, received[4]),
    ]
    for command in commands:
        command()
        clock.advance(hours=1)
        after_each()
    return sum(len(list(platform.app.events.get(booking_id(r)))) for r in [*received, rejected])


def test_rebuilding_gives_the_booking_rows_and_history_too(
    platform: Platform, clock: Clock
) -> None:
    events = booking_flow(platform, clock, after_each=platform.projector.catch_up)
    rows = platform.booking_queries.rows()
    with platform.views.transaction() as tx:
        history = tx.fetchall("SELECT * FROM view_booking_history ORDER BY position")
    assert {row["status"] for row in rows} == {
        "received", "rejected", "forwarded", "refused", "assigned", "scheduled",
    }  # fmt: skip
    assert len(history) == events

    platform.projector.rebuild()

    assert platform.booking_queries.rows() == rows
    with platform.views.transaction() as tx:
        assert tx.fetchall("SELECT * FROM view_booking_history ORDER BY position") == history


def test_catching_up_again_applies_nothing_twice(platform: Platform, clock: Clock) -> None:
    receipts = mixed_flow(platform, clock)
    position = platform.projector.catch_up(batch_size=4)  # several batches
    rows, history = platform.queries.rows(), history_rows(platform)

    assert platform.projector.catch_up() == position
    assert platform.projector.catch_up(batch_size=1) == position
    assert platform.queries.rows() == rows
    assert history_rows(platform) == history
    assert len(history) == filing_events(platform, receipts)

    platform.services.filings.submit(JINSHUI_WINDOW, **filing_input())
    assert platform.projector.catch_up() == position + 1
    assert len(history_rows(platform)) == len(history) + 1


def test_two_projectors_taking_turns_apply_each_event_once(
    platform: Platform, clock: Clock
) -> None:
    views = another_view_store(platform)
    try:
        rival = InternalProjector(platform.app, views)
        turn = iter([platform.projector, rival] * 20)
        receipts = mixed_flow(platform, clock, after_each=lambda: next(turn).catch_up())
        rows, history = platform.queries.rows(), history_rows(platform)
    finally:
        views.close()

    assert len(history) == filing_events(platform, receipts)
    assert len({(h["filing_id"], h["version"]) for h in history}) == len(history)
    platform.projector.rebuild()
    assert (platform.queries.rows(), history_rows(platform)) == (rows, history)


class RivalCatchesUpMidBatch:
    """The event store as one projector sees it: right after it has read a batch, the rival
    projector catches up, so the batch it is about to write has just been written."""

    def __init__(self, platform: Platform, rival: InternalProjector) -> None:
        self.app = platform.app
        self.mapper = platform.app.mapper
        self.recorder = self
        self.rival = rival
        self.races = 0

    def select_notifications(self, *args: Any, **kwargs: Any) -> Any:
        notifications = self.app.recorder.select_notifications(*args, **kwargs)
        # The follower's check of the one notification it passed last is no batch.
        if notifications and kwargs.get("limit") != 1:
            self.races += 1
            self.rival.catch_up()
        return notifications

    def max_notification_id(self) -> int | None:
        return self.app.recorder.max_notification_id()


def test_two_projectors_racing_over_one_batch_apply_it_once(
    platform: Platform, clock: Clock
) -> None:
    receipts = mixed_flow(platform, clock)
    views = another_view_store(platform)
    try:
        rival = InternalProjector(platform.app, views)
        racing = RivalCatchesUpMidBatch(platform, rival)
        loser = InternalProjector(cast("Application[Any]", racing), platform.views)

        position = loser.catch_up()
    finally:
        views.close()

    assert racing.races == 1
    assert position == platform.app.recorder.max_notification_id()
    rows, history = platform.queries.rows(), history_rows(platform)
    assert len(history) == filing_events(platform, receipts)
    platform.projector.rebuild()
    assert (platform.queries.rows(), history_rows(platform)) == (rows, history)


def test_the_review_queue_counts_working_days_left_and_flags_overdue_cases(
    platform: Platform, clock: Clock
) -> None:
    waiting = platform.services.filings.submit(JINSHUI_WINDOW, **filing_input())
    certified = platform.services.filings.submit(JINSHUI_WINDOW, **filing_input())
    platform.services.filings.issue_certificate(JINSHUI_WINDOW, certified)
    platform.projector.catch_up()
    queries = platform.queries

    def queue(now: datetime, overdue_only: bool = False) -> list[tuple[str, int | None, bool]]:
        items = queries.review_queue(["zz-jinshui"], now, overdue_only)
        return [(i.receipt_number, i.working_days_left, i.overdue) for i in items]

    (item,) = queries.review_queue(["zz-jinshui"], clock())
    assert (item.received_at, item.deadline) == (
        "2026-11-24T09:30:00+08:00",
        "2026-12-01T23:59:59+08:00",
    )
    assert queue(clock()) == [(waiting, 5, False)]
    assert queue(datetime(2026, 11, 27, 17, 0, tzinfo=SHANGHAI)) == [(waiting, 2, False)]
    assert queue(datetime(2026, 11, 29, 12, 0, tzinfo=SHANGHAI)) == [(waiting, 2, False)]
    assert queue(datetime(2026, 12, 1, 23, 59, tzinfo=SHANGHAI)) == [(waiting, 0, False)]
    assert queue(datetime(2026, 12, 1, 23, 59, tzinfo=SHANGHAI), overdue_only=True) == []
    clock.now = datetime(2026, 12, 2, 0, 0, tzinfo=SHANGHAI)
    assert queue(clock()) == [(waiting, 0, True)]
    assert queue(clock(), overdue_only=True) == [(waiting, 0, True)]
    assert queries.review_queue(["zz-erqi"], clock()) == []
    assert [i.receipt_number for i in queries.review_queue(None, clock())] == [waiting]


def test_a_deadline_in_a_year_the_calendar_lacks_is_unknown_and_stops_nothing(
    platform: Platform, clock: Clock
) -> None:
    """A filing received on 28 December is due in January of a year the calendar does not
    cover yet: that one item says so, the others keep their deadlines, and the projector goes
    on (RULES.md "Time": never guess)."""
    filings = platform.services.filings
    clock.now = datetime(2026, 12, 18, 10, 0, tzinfo=SHANGHAI)
    earlier = filings.submit(JINSHUI_WINDOW, **filing_input())
    clock.now = datetime(2026, 12, 28, 10, 0, tzinfo=SHANGHAI)
    late = filings.submit(JINSHUI_WINDOW, **filing_input())

    position = platform.projector.catch_up()
    queue = platform.queries.review_queue(["zz-jinshui"], clock())

    assert position == platform.app.recorder.max_notification_id()
    assert [item.receipt_number for item in queue] == [earlier, late]
    known, unknown = queue
    assert (known.deadline, known.deadline_unknown) == ("2026-12-25T23:59:59+08:00", False)
    assert (known.working_days_left, known.overdue) == (0, True)
    assert (unknown.deadline, unknown.working_days_left, unknown.overdue) == (None, None, False)
    assert unknown.deadline_unknown is True
    assert unknown.deadline_note is not None
    assert "2027 年的工作日历尚未配置" in unknown.deadline_note
    assert "2027.toml" in unknown.deadline_note
    assert "working-day calendar of 2027" in unknown.deadline_note
    detail = platform.queries.filing(late, clock())
    assert detail is not None
    assert (detail["review_deadline"], detail["deadline_unknown"]) == (None, True)
    # Later events are still projected: the follower did not stop at the late filing.
    filings.issue_certificate(JINSHUI_WINDOW, earlier)
    assert platform.projector.catch_up() == platform.app.recorder.max_notification_id()
    assert [i.receipt_number for i in platform.queries.review_queue(None, clock())] == [late]


class ReadAfterEveryCommit:
    """The platform's view store, with another process reading the queue after each of its
    commits: what a server sees while the store is being written."""

    def __init__(self, store: ViewStore, reader: ViewStore) -> None:
        self.store = store
        self.reader = reader
        self.dialect = store.dialect
        self.seen: list[str] = []

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self.store.transaction() as tx:
            yield tx
        try:
            with self.reader.reading() as tx:
                tx.fetchall("SELECT * FROM view_filings")
                tx.fetchall("SELECT * FROM view_filing_history")
            self.seen.append("tables")
        except Exception as error:  # whatever the engine says, record it
            self.seen.append(f"{type(error).__name__}: {error}")

    def reading(self) -> Any:
        return self.store.reading()

    def close(self) -> None:
        self.store.close()


def test_a_reader_never_finds_the_tables_missing_during_a_rebuild(
    platform: Platform, clock: Clock
) -> None:
    mixed_flow(platform, clock)
    platform.projector.catch_up()
    rows = platform.queries.rows()
    reader = another_view_store(platform)
    try:
        watched = ReadAfterEveryCommit(platform.views, reader)
        rebuilding = InternalProjector(platform.app, watched)

        rebuilding.rebuild()
    finally:
        reader.close()

    assert len(watched.seen) >= 2  # the reset, then the replay
    assert set(watched.seen) == {"tables"}
    assert platform.queries.rows() == rows


class FailsOnce:
    """The event store as the projector sees it: the first read fails (a dropped connection),
    and ``stop`` is set once everything has been read."""

    def __init__(self, platform: Platform, stop: threading.Event) -> None:
        self.app = platform.app
        self.mapper = platform.app.mapper
        self.recorder = self
        self.stop = stop
        self.calls = 0

    def select_notifications(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls == 1:
            raise ConnectionError("the event store went away for a moment")
        notifications = self.app.recorder.select_notifications(*args, **kwargs)
        if not notifications:
            self.stop.set()
        return notifications

    def max_notification_id(self) -> int | None:
        return self.app.recorder.max_notification_id()  # what the follower checks first


def test_the_follower_logs_a_failed_round_and_carries_on(platform: Platform, clock: Clock) -> None:
    mixed_flow(platform, clock)
    stop = threading.Event()
    flaky = FailsOnce(platform, stop)
    follower = InternalProjector(cast("Application[Any]", flaky), platform.views)

    with capture_logs() as logged:
        follower.run(stop, interval=0)

    assert follower.position() == platform.app.recorder.max_notification_id()
    assert [entry["event"] for entry in logged] == ["internal_projector_failed"]
