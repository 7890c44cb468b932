"""How many places are booked in each agency's half day (domain.inspection_slot), for the job
that publishes the days with room (domain.services.availability): one query for every agency
and day, instead of loading one aggregate per half day on every run.

A follower of its own (tracking name ``slot_counts``, projections.internal.tracking): it reads
only the three event types of the half days, up to the newest notification it saw when it
started the round, and moves its position in the same transaction as the counts, with a
compare-and-set so that two followers never count a place twice. Replaying from the start
(``rebuild``) gives the same counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from eventsourcing.persistence import Notification

from domain.inspection_slot import InspectionSlot
from projections.internal.tracking import RebuildableFollower
from projections.store import Tx

NAME = "slot_counts"
OPENED = InspectionSlot.HalfDayOpened.TOPIC
BOOKED = InspectionSlot.PlaceBooked.TOPIC
RELEASED = InspectionSlot.PlaceReleased.TOPIC
TOPICS = (OPENED, BOOKED, RELEASED)
SCHEMA = [
    """CREATE TABLE IF NOT EXISTS view_slot_counts (
        id TEXT PRIMARY KEY, agency TEXT NOT NULL, day TEXT NOT NULL, half TEXT NOT NULL,
        booked INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS view_slot_counts_day ON view_slot_counts (day)",
]


class SlotCounts(RebuildableFollower):
    """The counts of booked places, asked for by topic: most of the log is no half day's."""

    name = NAME
    schema = SCHEMA
    derived = ("view_slot_counts",)
    topics = TOPICS
    batch_size = 1000

    def apply(self, tx: Tx, notifications: Sequence[Notification], start: int) -> None:
        for notification in notifications:
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
