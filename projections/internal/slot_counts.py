"""How many places are booked in each agency's half day (domain.inspection_slot), for the job
that publishes the days with room (domain.services.availability): one query for every agency
and day, instead of loading one aggregate per half day on every run.

A follower of its own (tracking name ``slot_counts``): it reads only the three event types of
the half days, up to the newest notification it saw when it started the round, and moves its
position in the same transaction as the counts, with a compare-and-set so that two followers
never count a place twice. Replaying from the start (``rebuild``) gives the same counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from eventsourcing.application import Application

from domain.inspection_slot import InspectionSlot
from projections.store import Tx, ViewStore

NAME = "slot_counts"
OPENED = InspectionSlot.HalfDayOpened.TOPIC
BOOKED = InspectionSlot.PlaceBooked.TOPIC
RELEASED = InspectionSlot.PlaceReleased.TOPIC
TOPICS = (OPENED, BOOKED, RELEASED)
SCHEMA = [
    "CREATE TABLE IF NOT EXISTS view_tracking (name TEXT PRIMARY KEY, position BIGINT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS view_slot_counts (
        id TEXT PRIMARY KEY, agency TEXT NOT NULL, day TEXT NOT NULL, half TEXT NOT NULL,
        booked INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS view_slot_counts_day ON view_slot_counts (day)",
]


class SlotCounts:
    def __init__(self, app: Application[Any], store: ViewStore, batch_size: int = 1000) -> None:
        self.app = app
        self.store = store
        self.batch_size = batch_size
        with store.transaction() as tx:
            self._create_schema(tx)

    @staticmethod
    def _create_schema(tx: Tx) -> None:
        for statement in SCHEMA:
            tx.execute(statement)
        tx.execute(
            "INSERT INTO view_tracking (name, position) VALUES (?, 0)"
            " ON CONFLICT (name) DO NOTHING",
            [NAME],
        )

    def position(self) -> int:
        with self.store.reading() as tx:
            row = tx.fetchone("SELECT position FROM view_tracking WHERE name = ?", [NAME])
        return int(row["position"]) if row else 0

    def catch_up(self) -> int:
        """Count every place booked or released since the last round; the new position.

        The round reads up to the newest notification id it saw first (ids become visible in
        commit order, DESIGN.md "Known traps"), so it can move past a stretch without any
        half-day event at all and not look at it again.
        """
        while True:
            start = self.position()
            newest = self.app.recorder.max_notification_id() or 0
            if newest <= start:
                return start
            notifications = self.app.recorder.select_notifications(
                start=start + 1, limit=self.batch_size, stop=newest, topics=TOPICS
            )
            full = len(notifications) == self.batch_size
            reached = notifications[-1].id if full else newest
            with self.store.transaction() as tx:
                moved = tx.execute(
                    "UPDATE view_tracking SET position = ? WHERE name = ? AND position = ?",
                    [reached, NAME, start],
                )
                if moved == 1:  # else another follower took this stretch: read again
                    for notification in notifications:
                        self._apply(tx, notification)
            if moved == 1 and not full:
                return reached

    def _apply(self, tx: Tx, notification: Any) -> None:
        slot = str(notification.originator_id)
        if notification.topic == OPENED:
            event: Any = self.app.mapper.to_domain_event(notification)
            tx.execute(
                "INSERT INTO view_slot_counts VALUES (?, ?, ?, ?, 0)",
                [slot, event.agency, event.day, event.half],
            )
        else:  # the place itself needs no decoding: only that one was booked or released
            change = 1 if notification.topic == BOOKED else -1
            tx.execute(
                "UPDATE view_slot_counts SET booked = booked + ? WHERE id = ?", [change, slot]
            )

    def booked(self, first: date, last: date) -> Mapping[tuple[str, str, str], int]:
        """Places booked per (agency, ISO day, half) from ``first`` to ``last``, as of now."""
        self.catch_up()
        with self.store.reading() as tx:
            rows = tx.fetchall(
                "SELECT agency, day, half, booked FROM view_slot_counts"
                " WHERE day >= ? AND day <= ? AND booked > 0",
                [first.isoformat(), last.isoformat()],
            )
        return {(r["agency"], r["day"], r["half"]): int(r["booked"]) for r in rows}

    def rebuild(self) -> int:
        """Drop the counts and count again from the start; returns the new position."""
        with self.store.transaction() as tx:
            tx.execute("DROP TABLE IF EXISTS view_slot_counts")
            self._create_schema(tx)
            tx.execute("UPDATE view_tracking SET position = 0 WHERE name = ?", [NAME])
        return self.catch_up()
