"""The file ferry's listing and the followers' pacing: a batch that arrives while the receiver
lists the inbox never looks like a gap, a killed sender's half-written file is swept, and an
idle follower sleeps instead of spinning."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.transports.ferry import FerrySink, FerrySource, _has_hole
from deployment.cli import advancing


def test_a_hole_in_one_listing_is_listed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = FerrySink(tmp_path)
    for first in (1, 2, 3):
        sink.send(first, first, f"batch {first}".encode())
    source = FerrySource(tmp_path)
    full = source._listing(0)
    listings = iter([[full[0], full[2]], full])  # the first listing missed batch 2
    monkeypatch.setattr(source, "_listing", lambda after: next(listings))

    delivered = [(d.first_seq, d.data) for d in source.deliveries(0)]

    assert delivered == [(1, b"batch 1"), (2, b"batch 2"), (3, b"batch 3")]


def test_holes_are_told_from_continuous_listings() -> None:
    assert not _has_hole([(1, 5, "a"), (6, 6, "b")], 0)
    assert not _has_hole([(4, 9, "a")], 3)
    assert _has_hole([(1, 5, "a"), (7, 7, "b")], 0)
    assert _has_hole([(5, 9, "a")], 3)


def test_a_killed_senders_half_written_file_is_swept(tmp_path: Path) -> None:
    leftover = tmp_path / ".000000000001-000000000001.batch.4242.tmp"
    tmp_path.mkdir(exist_ok=True)
    leftover.write_bytes(b"half")

    FerrySink(tmp_path)

    assert not leftover.exists()


def test_a_follower_step_is_idle_when_the_position_stands_still() -> None:
    positions = iter([0, 0, 3, 3, 3, 4])
    step = advancing(lambda: next(positions))

    assert [step() for _ in range(6)] == [True, False, True, False, False, True]
