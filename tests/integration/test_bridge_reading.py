"""DESIGN decisions 4 and 5: the outbound reads from the log only the events of the aggregates
on the allow-list; it still moves past every other stretch of the log, in the same stretches as
reading every notification (so batches and checkpoints fall where they always did), and what
crosses is the same, densely numbered, whatever the batch size.
"""

from __future__ import annotations

from pathlib import Path

from domain.actor import Role
from tests.integration.bridge_fixtures import (  # noqa: F401 - the fixture
    Installation,
    install,
    installation_fixture,
)
from tests.support import open_account


def public_cases(installation: Installation) -> list[tuple[str, int]]:
    with installation.public.store.reading() as tx:
        rows = tx.fetchall("SELECT receipt_number, seq FROM public_cases ORDER BY seq")
    return [(row["receipt_number"], int(row["seq"])) for row in rows]


def test_decision4_the_outbound_moves_past_a_stretch_nothing_public_comes_from(
    installation: Installation,
) -> None:
    open_account(installation.platform, "reading-clerk", Role.WINDOW_CLERK, "zz-jinshui")
    newest = installation.platform.app.recorder.max_notification_id()
    assert newest

    assert installation.outbound.produce() == newest  # moved past all of it
    state = installation.outbound.state()
    assert (state.position, state.last_seq) == (newest, 0)
    assert installation.outbound.produce() == 0  # nothing new
    assert not list(installation.ferry.glob("*.batch"))

    receipt, _ = installation.file()
    assert installation.cross() == 1
    assert public_cases(installation) == [(receipt, 1)]


def test_decision5_small_batches_carry_the_same_dense_sequence(tmp_path: Path) -> None:
    installation = install(tmp_path, bridge_batch_size=2)
    try:
        receipts = []
        for index in range(5):
            receipt, _ = installation.file(contact_phone=f"139{index:08d}")
            installation.certify(receipt)  # other aggregates' events lie between
            receipts.append(receipt)
        installation.cross()

        state = installation.outbound.state()
        assert state.position == installation.platform.app.recorder.max_notification_id()
        assert state.last_seq == installation.public.receiver.status().last_seq == 10
        assert public_cases(installation) == [(r, 2 * i + 2) for i, r in enumerate(receipts)]
        with installation.public.store.reading() as tx:
            seqs = [row["seq"] for row in tx.fetchall("SELECT seq FROM public_case_timeline")]
        assert sorted(seqs) == list(range(1, 11))  # one step per envelope, each once
    finally:
        installation.public.close()
        installation.platform.close()


def test_decision5_checkpoints_fall_where_reading_every_notification_puts_them(
    tmp_path: Path,
) -> None:
    installation = install(tmp_path, bridge_batch_size=3, checkpoint_every_events=5)
    try:
        recorder = installation.platform.app.recorder
        index = 0
        while (recorder.max_notification_id() or 0) < 12:  # staff accounts: nothing crosses
            open_account(installation.platform, f"reading-{index}", Role.WINDOW_CLERK, "zz-jinshui")
            index += 1
        installation.file()
        newest = recorder.max_notification_id() or 0
        installation.cross()

        # Stretches of 3 positions; a checkpoint at the end of the first one 5 or more past
        # the last checkpoint.
        expected, last, position = [], 0, 0
        while position < newest:
            position = min(newest, position + 3)
            if position - last >= 5:
                expected.append(position)
                last = position
        with installation.public.store.reading() as tx:
            rows = tx.fetchall("SELECT position FROM public_checkpoints ORDER BY seq")
        assert [row["position"] for row in rows] == expected
        assert installation.outbound.state().position == newest
        assert installation.public.receiver.status().last_seq == len(expected) + 1  # the filing
    finally:
        installation.public.close()
        installation.platform.close()
