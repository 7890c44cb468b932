"""The ledger (DESIGN.md decision 6): a hash chain over every internal event in notification
order, kept by its own tracked projection. ``verify`` recomputes the chain from the event store
and names the first position whose stored event no longer matches what the ledger recorded; the
outbound bridge publishes the ledger head as checkpoints, so the public side holds values that
a later rewrite of internal history cannot match.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from projections.internal.tracking import TrackedFollower
from projections.store import Tx, ViewStore

NAME = "ledger"
GENESIS = "0" * 64
HASHES = {"sha256": hashes.SHA256, "sm3": hashes.SM3}
SCHEMA = ["CREATE TABLE IF NOT EXISTS ledger (position BIGINT PRIMARY KEY, hash TEXT NOT NULL)"]


def link(alg: str, previous: str, notification: Notification) -> str:
    """The ledger hash after ``notification``: H(previous, id, originator, version, topic,
    state), every field length-prefixed so that no two different records hash alike."""
    hasher = hashes.Hash(HASHES[alg]())
    for part in (
        bytes.fromhex(previous),
        str(notification.id).encode(),
        str(notification.originator_id).encode(),
        str(notification.originator_version).encode(),
        notification.topic.encode(),
        notification.state,
    ):
        hasher.update(struct.pack(">I", len(part)) + part)
    return hasher.finalize().hex()


@dataclass(frozen=True)
class Verification:
    checked: int  # positions compared
    recorded: int  # positions the ledger holds
    first_mismatch: int | None  # the first position that does not match, if any

    @property
    def ok(self) -> bool:
        return self.first_mismatch is None


class Ledger(TrackedFollower):
    """Follows every notification (no topic filter: the chain must cover them all). It has no
    ``rebuild``: a chain computed again from the log as it is now would hide a rewrite."""

    name = NAME
    schema = SCHEMA
    batch_size = 1000

    def __init__(self, app: Application[Any], store: ViewStore, alg: str = "sha256") -> None:
        if alg not in HASHES:
            raise ValueError(f"hash function {alg!r}: choose sha256 or sm3")
        self.alg = alg
        super().__init__(app, store)

    def head(self) -> tuple[int, str]:
        """The last position recorded and its hash."""
        with self.store.reading() as tx:
            row = tx.fetchone(
                "SELECT l.position, l.hash FROM view_tracking t JOIN ledger l"
                " ON l.position = t.position WHERE t.name = ?",
                [NAME],
            )
        return (int(row["position"]), str(row["hash"])) if row else (0, GENESIS)

    def hash_at(self, position: int) -> str:
        if position == 0:
            return GENESIS
        with self.store.reading() as tx:
            row = tx.fetchone("SELECT hash FROM ledger WHERE position = ?", [position])
        if row is None:
            raise LookupError(f"the ledger has not reached position {position}")
        return str(row["hash"])

    def apply(self, tx: Tx, notifications: Sequence[Notification], start: int) -> None:
        """Extend the chain from the hash at ``start``, read in the transaction that moved the
        position from there, so the link is to exactly the record this batch follows."""
        previous = GENESIS
        if start:
            row = tx.fetchone("SELECT hash FROM ledger WHERE position = ?", [start])
            if row is None:
                raise LookupError(f"the ledger has no record at its position {start}")
            previous = str(row["hash"])
        for notification in notifications:
            previous = link(self.alg, previous, notification)
            # The position is the key as well: a record written twice would fail, not fork.
            tx.execute(
                "INSERT INTO ledger (position, hash) VALUES (?, ?)", [notification.id, previous]
            )

    def verify(self, batch_size: int = 1000) -> Verification:
        """Recompute the chain from the stored events and compare it with the ledger, position
        by position (ids may skip numbers on PostgreSQL, so both sides are walked together)."""
        recorded, _ = self.head()
        previous, checked, start = GENESIS, 0, 1
        while start <= recorded:
            notifications = [
                n
                for n in self.app.recorder.select_notifications(start=start, limit=batch_size)
                if n.id <= recorded
            ]
            end = notifications[-1].id if len(notifications) == batch_size else recorded
            stored = self._stored(start, end)  # ascending positions
            positions = iter(stored)
            for notification in notifications:
                position = next(positions, None)
                if position != notification.id:
                    # Either the ledger saw an event that is gone, or an event appeared that
                    # the ledger never saw: the smaller of the two positions is the first wrong.
                    return Verification(
                        checked, recorded, min(p for p in (position, notification.id) if p)
                    )
                previous = link(self.alg, previous, notification)
                checked += 1
                if stored[position] != previous:
                    return Verification(checked, recorded, position)
            leftover = next(positions, None)
            if leftover is not None:
                return Verification(checked, recorded, leftover)
            start = end + 1
        return Verification(checked, recorded, None)

    def _stored(self, first: int, last: int) -> dict[int, str]:
        with self.store.reading() as tx:
            rows: Iterable[dict[str, Any]] = tx.fetchall(
                "SELECT position, hash FROM ledger WHERE position BETWEEN ? AND ?", [first, last]
            )
        return {
            int(r["position"]): str(r["hash"]) for r in sorted(rows, key=lambda r: r["position"])
        }
