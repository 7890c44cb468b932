"""The one-way bridge over the file ferry (DESIGN.md decisions 4-7; RULES.md Art. 10, 20, 29):
what a clerk does inside shows up, sanitised, on public tracking; certificates verify; the
receiver applies each event exactly once and refuses what was tampered with."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from api_public.app import create_public_app
from bridge.contract.envelope import Batch, Envelope
from bridge.keys import load_signing_key
from tests.integration.bridge_fixtures import (  # noqa: F401 - the fixture
    CLERK,
    INCOMPLETE,
    Installation,
    install,
    installation_fixture,
)

ID_NUMBER = "11010519491231002X"
MOBILE = "13812345678"


def public_client(installation: Installation) -> TestClient:
    return TestClient(create_public_app(installation.public.backend))


def batch_files(ferry: Path) -> list[Path]:
    return sorted(ferry.glob("*.batch"))


def test_a_filing_handled_inside_shows_up_sanitised_on_public_tracking(
    installation: Installation,
) -> None:
    filings = installation.platform.services.filings
    receipt, code = installation.file(
        materials=INCOMPLETE, project_name=f"测试大厦（联系 {MOBILE}）"
    )
    filings.issue_supplement_notice(
        CLERK,
        receipt,
        [
            {
                "item": "construction_permit",
                "problem": "missing",
                "reason": f"缺施工许可证，经办人 {ID_NUMBER}",
            }
        ],
    )
    installation.cross()
    client = public_client(installation)

    summary = client.get(f"/api/v1/cases/{receipt}").json()
    detailed = client.get(f"/api/v1/cases/{receipt}", headers={"X-Query-Code": code}).json()

    assert summary["status"] == "awaiting_supplement"
    assert [step["step"] for step in summary["timeline"]] == ["received", "supplement_requested"]
    assert "organisation_name" not in summary  # details only with the query code
    assert detailed["details_shown"] is True
    notice = detailed["last_notice"]["items"]
    assert [(i["name"], i["problem"]) for i in notice] == [("施工许可证复印件", "missing")]
    everything = orjson.dumps(detailed).decode()
    assert MOBILE not in everything
    assert ID_NUMBER not in everything
    assert "138****5678" in detailed["project_name"]
    assert "110105********002X" in notice[0]["reason"]
    assert "张伟" not in everything  # the sealed contact person never crosses


def test_the_certificate_a_filing_received_verifies_on_the_public_side(
    installation: Installation,
) -> None:
    receipt, _ = installation.file()
    number = installation.certify(receipt)
    installation.cross()
    client = public_client(installation)

    verified = client.get(f"/api/v1/certificates/{number}").json()
    unknown = client.get("/api/v1/certificates/郑金消设备字〔2026〕第9999号").json()

    assert verified["status"] == "valid"
    assert verified["certificate_number"] == number
    assert "receipt_number" not in verified  # the register does not lead to the case
    assert verified["agency_name"] == "郑州市金水区消防救援大队"
    assert unknown["status"] == "unknown"


def test_a_wrong_query_code_shows_nothing_more(installation: Installation) -> None:
    receipt, _ = installation.file()
    installation.cross()

    response = public_client(installation).get(
        f"/api/v1/cases/{receipt}", headers={"X-Query-Code": "ABCDEFGHJK"}
    )

    assert response.status_code == 403
    assert response.json()["code"] == "wrong_query_code"


def test_sequence_numbers_are_dense_and_each_event_applies_once(
    installation: Installation,
) -> None:
    receipts = [installation.file()[0] for _ in range(5)]
    installation.cross()
    for receipt in receipts[:3]:
        installation.certify(receipt)
    last = installation.cross()
    before = installation.public.queries.dump()

    installation.outbound.resend(1)  # the transport repeats everything
    assert installation.cross() == last == 8

    assert installation.public.queries.dump() == before
    seqs = []
    for path in batch_files(installation.ferry):
        seqs += [e["seq"] for e in orjson.loads(path.read_bytes())["envelopes"]]
    assert seqs == list(range(1, 9))


def test_public_rebuild_replays_from_seq_one_to_identical_rows(
    installation: Installation,
) -> None:
    for _ in range(4):
        receipt, _ = installation.file()
        installation.certify(receipt)
        installation.cross()
    before = installation.public.queries.dump()

    assert installation.public.receiver.rebuild() == 8

    assert installation.public.queries.dump() == before


# -- tampering --------------------------------------------------------------------------------


def two_batches(installation: Installation) -> list[Path]:
    installation.file()
    installation.outbound.step()
    installation.file()
    installation.outbound.step()
    files = batch_files(installation.ferry)
    assert len(files) == 2
    return files


def assert_refused(installation: Installation, problem: str) -> None:
    status = installation.public.receiver.status()
    assert status.last_seq == 0
    assert status.problem == problem
    assert installation.public.queries.case(installation_receipts(installation)[0]) is None
    bridge = public_client(installation).get("/api/v1/bridge/status").json()
    assert bridge["healthy"] is False
    assert bridge["problem"] == problem


def installation_receipts(installation: Installation) -> list[str]:
    rows = installation.platform.queries
    installation.platform.projector.catch_up()
    return sorted(r["receipt_number"] for r in rows.rows())


def test_a_flipped_byte_is_refused_and_nothing_applied(installation: Installation) -> None:
    first, _ = two_batches(installation)
    data = bytearray(first.read_bytes())
    position = data.index(b'"project_name":"') + len(b'"project_name":"')
    data[position] ^= 0x01
    first.write_bytes(bytes(data))

    assert installation.public.receiver.receive() == 0

    assert_refused(installation, "bad_signature")


def test_a_batch_signed_with_another_key_is_refused(installation: Installation) -> None:
    first, _ = two_batches(installation)
    document = orjson.loads(first.read_bytes())
    envelopes = tuple(
        Envelope(e["seq"], e["position"], e["type"], e["payload"], e["prev"], e["hash"])
        for e in document["envelopes"]
    )
    forged = Batch(document["key_id"], document["hash_alg"], envelopes)
    first.write_bytes(forged.sign(Ed25519PrivateKey.generate()))

    installation.public.receiver.receive()

    assert_refused(installation, "bad_signature")


def test_a_missing_batch_stops_the_receiver_and_is_reported(installation: Installation) -> None:
    first, _ = two_batches(installation)
    first.unlink()

    installation.public.receiver.receive()

    assert_refused(installation, "gap")
    first_again = installation.outbound.resend(1)  # the operator resends from seq 1
    assert first_again == 2
    assert installation.cross() == 2
    assert installation.public.receiver.status().healthy


def test_a_lost_last_batch_shows_as_missing_against_the_heartbeat(
    installation: Installation,
) -> None:
    (only,) = two_batches(installation)[1:]
    only.unlink()
    installation.public.receiver.receive()  # applies seq 1, sees the heartbeat say 2

    status = installation.public.receiver.status()
    assert (status.last_seq, status.high_water, status.problem) == (1, 2, "missing_batch")


def test_reordered_batches_are_refused(installation: Installation) -> None:
    first, second = two_batches(installation)
    a, b = first.read_bytes(), second.read_bytes()
    first.write_bytes(b)
    second.write_bytes(a)

    installation.public.receiver.receive()

    assert_refused(installation, "gap")


def test_a_replayed_old_batch_changes_nothing(installation: Installation) -> None:
    first, second = two_batches(installation)
    installation.cross()
    before = installation.public.queries.dump()
    replay = first.with_name("000000000002-000000000002.batch")
    shutil.copy(first, replay)  # seq 1 again, dressed as seq 2
    second.unlink()
    installation.file()
    installation.outbound.step()

    installation.public.receiver.receive()

    assert installation.public.receiver.status().last_seq == 3
    assert len(installation.public.queries.dump()[0][1]) == len(before[0][1]) + 1


def test_a_broken_chain_is_refused(installation: Installation) -> None:
    """Signed with the right key but not linked to what came before (a forged history)."""
    first, _ = two_batches(installation)
    envelope = orjson.loads(first.read_bytes())["envelopes"][0]
    unlinked = Envelope.seal(
        "sha256", 1, envelope["position"], envelope["type"], envelope["payload"], "f" * 64
    )
    key = load_signing_key(installation.settings.signing_key_path)
    first.write_bytes(Batch(installation.outbound.key_id, "sha256", (unlinked,)).sign(key))

    installation.public.receiver.receive()

    assert_refused(installation, "broken_chain")


# -- the ledger -------------------------------------------------------------------------------


def test_ledger_checkpoints_cross_and_match_the_internal_ledger(tmp_path: Path) -> None:
    built = install(tmp_path, checkpoint_every_events=3)
    try:
        for _ in range(4):
            built.file()
        built.cross()
        checkpoints = public_client(built).get("/api/v1/ledger/checkpoints").json()["checkpoints"]
    finally:
        built.public.close()
        built.platform.close()

    assert [c["position"] for c in checkpoints] == [4]
    (checkpoint,) = checkpoints
    assert checkpoint["head_hash"] == built.platform.ledger.hash_at(4)
    assert checkpoint["hash_alg"] == "sha256"


@pytest.mark.parametrize("trial", range(100))
def test_audit_verify_finds_a_changed_stored_event_and_names_its_position(
    installation: Installation, trial: int
) -> None:
    """A direct UPDATE on the event table, at a random position, is found at that position."""
    import sqlite3

    rng = random.Random(trial)
    for index in range(rng.randint(2, 6)):
        receipt, _ = installation.file(contact_phone=f"1390000{trial:02d}{index:02d}")
        if rng.random() < 0.5:
            installation.certify(receipt)
    ledger = installation.platform.ledger
    recorded = ledger.catch_up()
    assert ledger.verify().ok
    position = rng.randint(1, recorded)
    database = sqlite3.connect(installation.settings.internal_dir / "events.sqlite")
    with database:
        (state,) = database.execute(
            "SELECT state FROM stored_events WHERE rowid = ?", [position]
        ).fetchone()
        changed = bytearray(state)
        changed[rng.randrange(len(changed))] ^= 1 << rng.randrange(8)
        database.execute(
            "UPDATE stored_events SET state = ? WHERE rowid = ?", [bytes(changed), position]
        )
    database.close()

    result = ledger.verify()

    assert result.first_mismatch == position


def test_a_revoked_certificate_verifies_as_withdrawn_with_its_reason(
    installation: Installation,
) -> None:
    from domain.actor import Actor, Role

    receipt, _ = installation.file()
    number = installation.certify(receipt)
    installation.cross()
    approver = Actor("approver-jinshui", Role.APPROVER, "zz-jinshui")
    installation.platform.services.filings.revoke_certificate(
        approver, receipt, f"申报材料虚假，举报人电话 {MOBILE}"
    )
    installation.cross()

    verified = public_client(installation).get(f"/api/v1/certificates/{number}").json()

    assert verified["status"] == "withdrawn"
    assert verified["status_zh"] == "已撤销"
    assert verified["withdrawal_reason"] == "申报材料虚假，举报人电话 138****5678"
    case = installation.public.queries.case(receipt)
    assert case is not None
    assert case["status"] == "certificate_revoked"


def test_public_rebuild_needs_nothing_from_the_transport(installation: Installation) -> None:
    """The receiver keeps every batch it applied, so a rebuild replays even when the transport
    no longer delivers them (an acknowledged NATS message, an archived ferry file)."""
    for _ in range(3):
        receipt, _ = installation.file()
        installation.certify(receipt)
    installation.cross()
    before = installation.public.queries.dump()
    for path in batch_files(installation.ferry):
        path.unlink()

    assert installation.public.receiver.rebuild() == 6

    assert installation.public.queries.dump() == before


# -- review: the receiver and the outbound under odd conditions -------------------------------


def test_an_interrupted_rebuild_resumes_from_the_archive(installation: Installation) -> None:
    from projections.public import views

    for _ in range(3):
        installation.file()
        installation.cross()
    before = installation.public.queries.dump()
    with installation.public.store.transaction() as tx:  # a rebuild killed after its reset
        views.drop(tx)
        views.ensure_schema(tx)
        tx.execute("UPDATE public_receiver SET last_seq = 0, last_hash = ?", ["0" * 64])

    installation.public.receiver.receive()

    status = installation.public.receiver.status()
    assert (status.last_seq, status.problem) == (3, None)
    assert installation.public.queries.dump() == before


def test_a_failure_while_applying_is_reported_not_hidden(
    installation: Installation, monkeypatch: pytest.MonkeyPatch
) -> None:
    from projections.public import views

    def broken(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setitem(views.APPLY, "filing.received.v1", broken)
    installation.file()
    installation.outbound.step()

    installation.public.receiver.receive()
    installation.public.receiver.receive()

    status = installation.public.receiver.status()
    assert (status.last_seq, status.problem, status.refused) == (0, "apply_failed", 1)
    bridge = public_client(installation).get("/api/v1/bridge/status").json()
    assert bridge["healthy"] is False


def test_the_same_refused_batch_is_counted_once(installation: Installation) -> None:
    first, _ = two_batches(installation)
    data = bytearray(first.read_bytes())
    data[-5] ^= 1
    first.write_bytes(bytes(data))

    for _ in range(3):
        installation.public.receiver.receive()

    assert installation.public.receiver.status().refused == 1


def test_a_listed_event_in_an_unknown_version_stops_the_bridge() -> None:
    from bridge.allow_list import UnlistedVersion, translate
    from domain.filing import Filing

    class NewerWithdrawn(Filing.Withdrawn):
        TOPIC = "firegov:Filing.Withdrawn"
        class_version = 2

    with pytest.raises(UnlistedVersion):
        translate(NewerWithdrawn.__new__(NewerWithdrawn), None)  # type: ignore[arg-type]


def test_batches_produced_before_a_failure_are_still_shipped(
    installation: Installation, monkeypatch: pytest.MonkeyPatch
) -> None:
    installation.file()
    produced = installation.outbound.produce()
    assert produced > 0

    def failing() -> int:
        raise RuntimeError("translation failed")

    monkeypatch.setattr(installation.outbound, "produce", failing)
    with pytest.raises(RuntimeError):
        installation.outbound.step()

    assert [p.name for p in batch_files(installation.ferry)] == ["000000000001-000000000001.batch"]


def test_resend_never_moves_the_shipping_mark_forward(installation: Installation) -> None:
    installation.file()
    installation.outbound.produce()  # stored, not shipped yet

    installation.outbound.resend(100)

    assert installation.outbound.state().shipped_seq == 1
    assert len(batch_files(installation.ferry)) == 1
