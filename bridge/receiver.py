"""The receiver (DESIGN.md decision 5), on the public side: verifies each batch's signature,
hash chain and sequence, then applies its events to the public read models in one transaction
with its position. It applies ``seq = last + 1`` only, passes over what it has (``seq <= last``),
and on a gap, a bad signature or a broken chain applies nothing of that batch, stops, and says
so in its status (log, counter, ``GET /api/v1/bridge/status``). It holds only the verification
key and imports nothing of the internal domain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bridge.contract.envelope import GENESIS, Batch, BatchRefused, open_batch
from bridge.transports.base import BatchSource
from projections.public import views
from projections.store import ViewStore

log = structlog.get_logger()
NAME = "receiver"
SCHEMA = """CREATE TABLE IF NOT EXISTS public_receiver (
    name TEXT PRIMARY KEY, last_seq BIGINT NOT NULL, last_hash TEXT NOT NULL,
    applied_at TEXT, problem TEXT, problem_detail TEXT, problem_at TEXT,
    refused BIGINT NOT NULL, high_water BIGINT)"""
# Every applied batch, as received and verified: a rebuild replays these, whatever the
# transport (a NATS consumer, for one, does not deliver what it was acknowledged again).
ARCHIVE = """CREATE TABLE IF NOT EXISTS public_batches (
    first_seq BIGINT PRIMARY KEY, last_seq BIGINT NOT NULL, data TEXT NOT NULL)"""


@dataclass(frozen=True)
class ReceiverStatus:
    last_seq: int
    last_hash: str
    applied_at: str | None
    problem: str | None  # gap | bad_signature | broken_chain | bad_hash | ... | missing_batch
    problem_detail: str | None
    problem_at: str | None
    refused: int  # batches refused since the start
    high_water: int | None

    @property
    def healthy(self) -> bool:
        return self.problem is None


class Receiver:
    def __init__(
        self,
        store: ViewStore,
        source: BatchSource,
        verify_key: Ed25519PublicKey,
        hash_alg: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store, self.source, self.verify_key = store, source, verify_key
        self.hash_alg, self.clock = hash_alg, clock
        with store.transaction() as tx:
            tx.execute(SCHEMA)
            tx.execute(ARCHIVE)
            views.ensure_schema(tx)
            tx.execute(
                "INSERT INTO public_receiver (name, last_seq, last_hash, refused)"
                " VALUES (?, 0, ?, 0) ON CONFLICT (name) DO NOTHING",
                [NAME, GENESIS],
            )

    def status(self) -> ReceiverStatus:
        with self.store.reading() as tx:
            row = tx.fetchone("SELECT * FROM public_receiver WHERE name = ?", [NAME])
        if row is None:
            raise RuntimeError("public_receiver has no state row; was the schema dropped?")
        return ReceiverStatus(
            int(row["last_seq"]),
            str(row["last_hash"]),
            row["applied_at"],
            row["problem"],
            row["problem_detail"],
            row["problem_at"],
            int(row["refused"]),
            None if row["high_water"] is None else int(row["high_water"]),
        )

    def receive(self) -> int:
        """Apply every batch that follows in order; returns how many events were applied.
        A failure while applying (not a refusal) is reported in the status too, so a receiver
        stuck on it is never shown as healthy."""
        try:
            return self._receive()
        except BatchRefused as refusal:
            self._refuse(refusal)
        except Exception as error:
            log.exception("bridge_apply_failed")
            self._refuse(BatchRefused("apply_failed", type(error).__name__))
        return 0

    def _receive(self) -> int:
        status = self.status()
        last_seq, last_hash = status.last_seq, status.last_hash
        # First what this side already holds (an interrupted rebuild left it behind).
        last_seq, last_hash, applied = self._replay_archive(last_seq, last_hash)
        for delivery in self.source.deliveries(last_seq):
            if delivery.last_seq <= last_seq:
                self.source.acknowledge(delivery)  # a repeat: its effect is already here
                continue
            if delivery.first_seq != last_seq + 1:
                reason = "gap" if delivery.first_seq > last_seq + 1 else "overlap"
                self._refuse(
                    BatchRefused(
                        reason, f"expected seq {last_seq + 1}, batch starts at {delivery.first_seq}"
                    ),
                    count=False,
                )
                return applied
            try:
                batch = self._apply(delivery.data, last_seq, last_hash, archive=True)
            except BatchRefused as refusal:
                self._refuse(refusal)
                return applied
            if batch is None:
                return applied  # another receiver applied it first; start over next round
            self.source.acknowledge(delivery)
            log.info("bridge_batch_applied", first_seq=batch.first_seq, last_seq=batch.last_seq)
            applied += len(batch.envelopes)
            last_seq, last_hash = batch.last_seq, batch.envelopes[-1].hash
        self._note_high_water(last_seq)
        return applied

    def _apply(self, data: bytes, last_seq: int, last_hash: str, archive: bool) -> Batch | None:
        """Verify a batch that should follow ``last_seq`` and apply it with the new position in
        one transaction; None if another receiver moved the position first."""
        batch = open_batch(data, self.verify_key, self.hash_alg, last_hash, last_seq + 1)
        with self.store.transaction() as tx:
            moved = tx.execute(
                "UPDATE public_receiver SET last_seq = ?, last_hash = ?, applied_at = ?,"
                " problem = NULL, problem_detail = NULL, problem_at = NULL"
                " WHERE name = ? AND last_seq = ?",
                [batch.last_seq, batch.envelopes[-1].hash, self.clock().isoformat(), NAME,
                 last_seq],
            )  # fmt: skip
            if moved != 1:
                return None
            for envelope in batch.envelopes:
                views.apply(tx, envelope.seq, envelope.type, envelope.payload)
            if archive:
                tx.execute(
                    "INSERT INTO public_batches VALUES (?, ?, ?)"
                    " ON CONFLICT (first_seq) DO NOTHING",
                    [batch.first_seq, batch.last_seq, data.decode()],
                )
        return batch

    def _replay_archive(self, last_seq: int, last_hash: str) -> tuple[int, str, int]:
        """Apply archived batches that follow ``last_seq``; returns the new position."""
        applied = 0
        while True:
            with self.store.reading() as tx:
                row = tx.fetchone(
                    "SELECT data FROM public_batches WHERE first_seq = ?", [last_seq + 1]
                )
            if row is None:
                return last_seq, last_hash, applied
            batch = self._apply(row["data"].encode(), last_seq, last_hash, archive=False)
            if batch is None:  # another receiver moved first: start over next round
                return last_seq, last_hash, applied
            applied += len(batch.envelopes)
            last_seq, last_hash = batch.last_seq, batch.envelopes[-1].hash

    def _note_high_water(self, last_seq: int) -> None:
        high_water = self.source.high_water()
        missing = high_water is not None and high_water > last_seq
        with self.store.transaction() as tx:
            tx.execute(
                "UPDATE public_receiver SET high_water = ? WHERE name = ?", [high_water, NAME]
            )
            if missing:
                tx.execute(
                    "UPDATE public_receiver SET problem = 'missing_batch', problem_detail = ?,"
                    " problem_at = COALESCE(problem_at, ?) WHERE name = ? AND problem IS NULL",
                    [
                        f"the sender has produced up to seq {high_water}; seq {last_seq + 1} "
                        "has not arrived",
                        self.clock().isoformat(),
                        NAME,
                    ],
                )

    def _refuse(self, refusal: BatchRefused, count: bool = True) -> None:
        detail = refusal.detail[:500]
        with self.store.transaction() as tx:
            # Counted once per refusal, not once per retry of the same batch.
            changed = tx.execute(
                "UPDATE public_receiver SET problem = ?, problem_detail = ?, problem_at = ?,"
                " refused = refused + ? WHERE name = ?"
                " AND (problem IS NULL OR problem <> ? OR problem_detail <> ?)",
                [refusal.reason, detail, self.clock().isoformat(), int(count), NAME,
                 refusal.reason, detail],
            )  # fmt: skip
        if changed:
            log.error("bridge_batch_refused", reason=refusal.reason, detail=detail)

    def rebuild(self) -> int:
        """Drop the public read models and replay every batch from seq 1: the archived ones
        (verified again), then whatever the transport has that is newer."""
        with self.store.transaction() as tx:
            views.drop(tx)
            views.ensure_schema(tx)
            tx.execute(
                "UPDATE public_receiver SET last_seq = 0, last_hash = ?, problem = NULL,"
                " problem_detail = NULL, problem_at = NULL WHERE name = ?",
                [GENESIS, NAME],
            )
        while self.receive():  # the archive first, then whatever the transport has
            pass
        return self.status().last_seq
