"""The outbound bridge (DESIGN.md decisions 4-6): follows the internal notification log, keeps
what the allow-list lets through, wraps each public event in an envelope with a dense sequence
number and a hash link, signs the batch, stores it together with the position it reached (one
transaction), then ships stored batches through a transport. Every N events or M seconds it
adds a checkpoint with the ledger's head.

Producing and shipping are separate so that a crash between them loses nothing: the stored
batch is shipped again, byte for byte, on the next round.

Like every follower of the log, the bridge checks before each batch that the log still holds
what it has passed (projections.log_guard) and stops instead of skipping an event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from bridge.allow_list import DECODED_TOPICS, TOPICS, RecentAggregates, Sources, at, translate
from bridge.contract.envelope import GENESIS, Batch, Envelope, key_id
from bridge.transports.base import BatchSink
from projections.log_guard import LogGuard
from projections.store import ViewStore

log = structlog.get_logger()
NAME = "outbound"
SCHEMA = [
    """CREATE TABLE IF NOT EXISTS bridge_outbound (
        name TEXT PRIMARY KEY, position BIGINT NOT NULL, last_seq BIGINT NOT NULL,
        last_hash TEXT NOT NULL, shipped_seq BIGINT NOT NULL,
        checkpoint_position BIGINT NOT NULL, checkpoint_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS bridge_batches (
        first_seq BIGINT PRIMARY KEY, last_seq BIGINT NOT NULL, position BIGINT NOT NULL,
        body TEXT NOT NULL)""",
]


class LedgerHead:
    """What the bridge needs of the ledger (kept by projections.internal, injected)."""

    def __init__(self, catch_up: Callable[[], int], hash_at: Callable[[int], str]) -> None:
        self.catch_up = catch_up
        self.hash_at = hash_at


@dataclass(frozen=True)
class OutboundState:
    position: int
    last_seq: int
    last_hash: str
    shipped_seq: int
    checkpoint_position: int
    checkpoint_at: datetime


@dataclass(frozen=True)
class Checkpoints:
    every_events: int = 1000
    every_seconds: float = 300.0


class OutboundBridge:
    def __init__(
        self,
        app: Application[Any],
        store: ViewStore,
        sources: Sources,
        ledger: LedgerHead,
        signing_key: Ed25519PrivateKey,
        hash_alg: str,
        sink: BatchSink,
        clock: Callable[[], datetime],
        batch_size: int = 200,
        checkpoints: Checkpoints | None = None,
        recent: RecentAggregates | None = None,
    ) -> None:
        self.app, self.store, self.sources, self.ledger = app, store, sources, ledger
        self.signing_key, self.hash_alg, self.sink, self.clock = signing_key, hash_alg, sink, clock
        self.key_id = key_id(signing_key.public_key())
        self.batch_size = batch_size
        self.checkpoints = checkpoints or Checkpoints()
        self.recent = recent
        self.guard = LogGuard(NAME, app.recorder, store)
        with store.transaction() as tx:
            for statement in SCHEMA:
                tx.execute(statement)
            tx.execute(
                "INSERT INTO bridge_outbound VALUES (?, 0, 0, ?, 0, 0, ?)"
                " ON CONFLICT (name) DO NOTHING",
                [NAME, GENESIS, clock().isoformat()],
            )

    def state(self) -> OutboundState:
        with self.store.reading() as tx:
            row = tx.fetchone("SELECT * FROM bridge_outbound WHERE name = ?", [NAME])
        if row is None:
            raise RuntimeError("bridge_outbound has no state row; was the schema dropped?")
        return OutboundState(
            int(row["position"]), int(row["last_seq"]), str(row["last_hash"]),
            int(row["shipped_seq"]), int(row["checkpoint_position"]),
            datetime.fromisoformat(row["checkpoint_at"]),
        )  # fmt: skip

    def produce(self) -> int:
        """Turn the next notifications into one signed, stored batch; returns how many
        positions of the log it moved past (0: nothing new)."""
        state = self.state()
        self.guard.check(state.position)  # LogWentBack: stopped, nothing is produced
        notifications, position = self._next(state)
        now = self.clock()
        seq, previous = state.last_seq, state.last_hash
        envelopes: list[Envelope] = []

        def add(event_type: str, payload: dict[str, Any], source: int) -> None:
            nonlocal seq, previous
            seq += 1
            envelope = Envelope.seal(self.hash_alg, seq, source, event_type, payload, previous)
            envelopes.append(envelope)
            previous = envelope.hash

        for notification in notifications:  # events of the aggregates on the allow-list
            event = self.app.mapper.to_domain_event(notification)
            if self.recent is not None:
                self.recent.observe(event)
            if notification.topic not in TOPICS:
                continue  # not on the allow-list: never crosses
            for event_type, payload in translate(event, self.sources):
                add(event_type, payload, notification.id)
        checkpoint = self._checkpoint_due(state, position, now)
        if checkpoint:
            self.ledger.catch_up()
            add("ledger.checkpoint.v1", {
                "position": position, "head_hash": self.ledger.hash_at(position),
                "hash_alg": self.hash_alg, "recorded_at": at(now),
            }, position)  # fmt: skip
        if position == state.position and not envelopes:
            return 0
        body = (
            Batch(self.key_id, self.hash_alg, tuple(envelopes)).sign(self.signing_key)
            if envelopes
            else None
        )
        witness = self.guard.witness_for(position, notifications)
        with self.store.transaction() as tx:
            moved = tx.execute(
                "UPDATE bridge_outbound SET position = ?, last_seq = ?, last_hash = ?,"
                " checkpoint_position = ?, checkpoint_at = ?"
                " WHERE name = ? AND position = ? AND last_seq = ?",
                [position, seq, previous,
                 position if checkpoint else state.checkpoint_position,
                 now.isoformat() if checkpoint else state.checkpoint_at.isoformat(),
                 NAME, state.position, state.last_seq],
            )  # fmt: skip
            if moved != 1:
                return 0  # another bridge process produced this stretch
            self.guard.record(tx, witness)
            if body is not None:
                tx.execute(
                    "INSERT INTO bridge_batches VALUES (?, ?, ?, ?)",
                    [envelopes[0].seq, seq, position, body.decode()],
                )
        if envelopes:
            log.info(
                "bridge_batch_produced", first_seq=envelopes[0].seq, last_seq=seq, position=position
            )
        return position - state.position

    def _next(self, state: OutboundState) -> tuple[Sequence[Notification], int]:
        """The notifications of the next stretch of the log that the allow-list may need, and
        the position the stretch reaches. The stretch is the one reading every notification
        would give (``batch_size`` positions, up to the newest id seen first), so batches and
        checkpoints fall where they always did; but of it only the events of the aggregates on
        the allow-list are read: nothing else could ever cross or be needed to translate what
        does. Ids become visible in commit order (projections.internal.tracking relies on it
        too), so nothing below the newest id can still appear."""
        recorder = self.app.recorder
        newest = recorder.max_notification_id() or 0
        if newest <= state.position:
            return [], state.position
        stop = min(newest, state.position + self.batch_size)
        chosen = recorder.select_notifications(
            start=state.position + 1, limit=self.batch_size, stop=stop, topics=DECODED_TOPICS
        )
        return chosen, stop

    def _checkpoint_due(self, state: OutboundState, position: int, now: datetime) -> bool:
        if position <= state.checkpoint_position:
            return False
        return (
            position - state.checkpoint_position >= self.checkpoints.every_events
            or (now - state.checkpoint_at).total_seconds() >= self.checkpoints.every_seconds
        )

    def ship(self) -> int:
        """Send every stored batch the transport has not been given yet; returns how many."""
        state = self.state()
        with self.store.reading() as tx:
            batches = tx.fetchall(
                "SELECT first_seq, last_seq, body FROM bridge_batches WHERE last_seq > ?"
                " ORDER BY first_seq",
                [state.shipped_seq],
            )
        for batch in batches:
            self.sink.send(int(batch["first_seq"]), int(batch["last_seq"]), batch["body"].encode())
            with self.store.transaction() as tx:
                tx.execute(
                    "UPDATE bridge_outbound SET shipped_seq = ? WHERE name = ? AND shipped_seq < ?",
                    [batch["last_seq"], NAME, batch["last_seq"]],
                )
        self.sink.heartbeat(state.last_seq)  # what exists, so the receiver can see a gap
        return len(batches)

    def resend(self, from_seq: int) -> int:
        """Ship again every batch from ``from_seq`` on (after a loss across the gap)."""
        with self.store.transaction() as tx:
            tx.execute(  # never forward: that would skip batches that were not shipped
                "UPDATE bridge_outbound SET shipped_seq = ? WHERE name = ? AND shipped_seq > ?",
                [max(from_seq - 1, 0), NAME, max(from_seq - 1, 0)],
            )
        return self.ship()

    def step(self) -> bool:
        """One round: produce until caught up, then ship; True if anything moved."""
        produced = 0
        try:
            while (consumed := self.produce()) > 0:
                produced += consumed
        finally:  # what was produced before a failure still crosses
            shipped = self.ship()
        return bool(produced) | bool(shipped)
