"""The file ferry: numbered batch files written atomically into a directory, plus a heartbeat
file with the high-water mark, so the receiver notices a missing batch. A one-way gateway (光闸)
copies the directory across; in the embedded setup both sides share it.

Names sort by sequence: ``000000000001-000000000050.batch``. Files are written to a temporary
name and renamed, so a reader never sees half a batch; writing the same batch again (a resend)
replaces it with identical bytes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import orjson

from bridge.transports.base import Delivery

NAME = re.compile(r"^(\d{12})-(\d{12})\.batch$")
HEARTBEAT = "heartbeat.json"


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


class FerrySink:
    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox
        outbox.mkdir(parents=True, exist_ok=True)
        for leftover in outbox.glob(".*.tmp"):  # half-written by a sender that was killed
            if not _alive(leftover.name):
                leftover.unlink(missing_ok=True)

    def send(self, first_seq: int, last_seq: int, data: bytes) -> None:
        _write_atomically(self.outbox / f"{first_seq:012d}-{last_seq:012d}.batch", data)

    def heartbeat(self, high_water: int) -> None:
        _write_atomically(self.outbox / HEARTBEAT, orjson.dumps({"high_water": high_water}))


class FerrySource:
    def __init__(self, inbox: Path) -> None:
        self.inbox = inbox
        inbox.mkdir(parents=True, exist_ok=True)

    def _listing(self, after_seq: int) -> list[tuple[int, int, str]]:
        found = []
        for entry in os.scandir(self.inbox):
            match = NAME.match(entry.name)
            if match and int(match[2]) > after_seq:
                found.append((int(match[1]), int(match[2]), entry.path))
        return sorted(found)

    def deliveries(self, after_seq: int) -> Iterator[Delivery]:
        found = self._listing(after_seq)
        if _has_hole(found, after_seq):
            # A directory listing is no snapshot: a batch renamed in while we listed may show
            # without the one renamed in just before it. Files are never removed, so a second
            # listing sees every batch that arrived before it began.
            found = self._listing(after_seq)
        for first, last, path in found:
            try:
                data = Path(path).read_bytes()
            except FileNotFoundError:  # replaced under us by a resend: read it next round
                return
            yield Delivery(first, last, data)

    def high_water(self) -> int | None:
        try:
            return int(orjson.loads((self.inbox / HEARTBEAT).read_bytes())["high_water"])
        except (FileNotFoundError, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None

    def acknowledge(self, delivery: Delivery) -> None:
        """Files stay: the receiver's position says what was applied, and an operator may
        archive applied batches (``last_seq`` at or below the position) at will."""


def _has_hole(found: list[tuple[int, int, str]], after_seq: int) -> bool:
    expected = after_seq + 1
    for first, last, _ in found:
        if first > expected:
            return True
        expected = max(expected, last + 1)
    return False


def _alive(temporary_name: str) -> bool:
    """Whether the process that is writing ``.<name>.<pid>.tmp`` still runs."""
    try:
        os.kill(int(temporary_name.rsplit(".", 2)[-2]), 0)
    except (ValueError, IndexError, ProcessLookupError):
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


# -- intake: the same ferry in the other direction (public side -> internal side) -------------
# One bundle per submission (bridge.contract.intake: the record and its files), named by its
# receipt number: ``BA20260105ABCDEF.intake``. Writing the same bundle again (a resend) replaces
# it with identical bytes; the importer's own table says which receipts it has imported, so a
# bundle delivered twice is imported once. The importer deletes a bundle once it has recorded
# its outcome: a bundle holds personal data in the clear, which the internal side keeps only
# sealed (so that erasing a person's key erases them everywhere).
INTAKE_NAME = re.compile(r"^([A-Z]{2}\d{8}[A-Z]{6})\.intake$")


class FerryIntakeDrop:
    """The public side's end: it can only put inert bundles into the directory."""

    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox
        outbox.mkdir(parents=True, exist_ok=True)

    def put(self, receipt_number: str, data: bytes) -> None:
        if not INTAKE_NAME.match(f"{receipt_number}.intake"):
            raise ValueError(f"not a receipt number: {receipt_number!r}")
        _write_atomically(self.outbox / f"{receipt_number}.intake", data)


class FerryIntakeInbox:
    """The internal side's end: the bundles that arrived, oldest receipt first."""

    def __init__(self, inbox: Path) -> None:
        self.inbox = inbox
        inbox.mkdir(parents=True, exist_ok=True)

    def pending(self) -> list[str]:
        names = sorted(e.name for e in os.scandir(self.inbox) if INTAKE_NAME.match(e.name))
        return [name.removesuffix(".intake") for name in names]

    def read(self, receipt_number: str) -> bytes | None:
        try:
            return (self.inbox / f"{receipt_number}.intake").read_bytes()
        except FileNotFoundError:  # taken by another importer meanwhile
            return None

    def done(self, receipt_number: str) -> None:
        (self.inbox / f"{receipt_number}.intake").unlink(missing_ok=True)

    def close(self) -> None:
        """Nothing to release (the NATS inbox has a connection)."""
