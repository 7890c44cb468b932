"""The two ends of a transport. The sender never learns what the receiver has (the boundary is
one-way); the receiver learns what exists from the batches and the heartbeat's high-water mark."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Delivery:
    first_seq: int
    last_seq: int
    data: bytes
    token: object = None  # what the transport needs to acknowledge it (a NATS message)


class BatchSink(Protocol):
    def send(self, first_seq: int, last_seq: int, data: bytes) -> None: ...

    def heartbeat(self, high_water: int) -> None: ...


class BatchSource(Protocol):
    def deliveries(self, after_seq: int) -> Iterator[Delivery]:
        """Batches that may follow ``after_seq``, in sequence order (repeats allowed)."""
        ...

    def high_water(self) -> int | None:
        """The last seq the sender says it has produced, if known."""
        ...

    def acknowledge(self, delivery: Delivery) -> None:
        """Called once the delivery's effect is committed (or it was a repeat)."""
        ...
