"""An applicant's own steps on a case, online (issue 4, RULES.md Art. 9, 16): the documents a
supplement notice asked for, and the answer to an offered inspection slot — accept it, ask for
another, or cancel. The public side checks the query code and the case's stage at once; the
internal side checks the code again against its own hash before it acts, under the system
actor, so the public side alone can never act on anyone's case."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from api_public.app import create_public_app
from bridge.contract.intake import ANSWER_FORMAT, pack
from bridge.intake.importer import IntakeImporter
from deployment.sides import build_importer
from domain.booking_rules import BookingStatus
from domain.filing import FilingStatus
from tests.integration.booking_bridge_fixtures import Desks
from tests.integration.bridge_fixtures import (  # noqa: F401 - the fixture
    CLERK,
    INCOMPLETE,
    Installation,
    installation_fixture,
)

PDF = b"%PDF-1.7\n" + b"permit scan " * 30


@pytest.fixture(name="client")
def client_fixture(installation: Installation) -> Iterator[TestClient]:
    with TestClient(create_public_app(installation.public.backend)) as client:
        yield client


@pytest.fixture(name="importer")
def importer_fixture(installation: Installation) -> IntakeImporter:
    return build_importer(installation.platform, installation.settings)


def offered(installation: Installation) -> tuple[Desks, str, str]:
    """A booking with a query code, forwarded, assigned and offered Friday morning."""
    desks = Desks(installation)
    receipt, code = desks.book(installation)
    desks.up_to_reply(receipt)
    desks.bookings.reply_with_slot(desks.handler, receipt, "2026-11-27", "am")
    installation.cross()
    return desks, receipt, code


def answer(client: TestClient, receipt: str, code: str, **body: Any) -> Any:
    return client.post(
        f"/api/v1/bookings/{receipt}/answer", json=body, headers={"X-Query-Code": code}
    )


def tracked(client: TestClient, receipt: str, code: str) -> dict[str, Any]:
    found: dict[str, Any] = client.get(
        f"/api/v1/cases/{receipt}", headers={"X-Query-Code": code}
    ).json()
    return found


def test_art16_the_applicant_accepts_the_offered_slot_online(
    installation: Installation, client: TestClient, importer: IntakeImporter
) -> None:
    desks, receipt, code = offered(installation)

    sent = answer(client, receipt, code, answer="accept")
    assert sent.status_code == 202, sent.text
    assert sent.json()["receipt_number"].startswith("DF")
    assert "query_code" not in sent.json()  # the applicant has it; it is not echoed
    waiting = tracked(client, receipt, code)["follow_ups"]
    assert [(f["kind"], f["status"]) for f in waiting] == [("answer", "submitted")]

    assert importer.step() == 1
    installation.cross()

    assert desks.bookings.load(receipt).status is BookingStatus.SCHEDULED
    seen = tracked(client, receipt, code)
    assert seen["slot"]["accepted"] is True
    assert [f["status"] for f in seen["follow_ups"]] == ["processed"]
    last = installation.platform.app.recorder.select_notifications(start=1, limit=100)[-1]
    assert last.topic == "firegov:Booking.SlotAccepted"


def test_art16_asking_for_another_slot_online_frees_the_place_and_starts_a_new_cycle(
    installation: Installation, client: TestClient, importer: IntakeImporter
) -> None:
    desks, receipt, code = offered(installation)

    assert answer(client, receipt, code, answer="another").status_code == 202
    importer.step()

    assert desks.bookings.load(receipt).status is BookingStatus.ASSIGNED
    assert desks.bookings.booked_places("zz-jinshui", date(2026, 11, 27), "am") == []


def test_art16_the_applicant_cancels_online_with_a_reason(
    installation: Installation, client: TestClient, importer: IntakeImporter
) -> None:
    desks, receipt, code = offered(installation)

    assert answer(client, receipt, code, answer="cancel", reason="开业推迟").status_code == 202
    importer.step()

    assert desks.bookings.load(receipt).status is BookingStatus.CANCELLED


@pytest.mark.parametrize(
    ("code", "body", "status", "problem"),
    [
        ("WRONGCODE2", {"answer": "accept"}, 403, "wrong_query_code"),
        (None, {"answer": "maybe"}, 422, None),
        (None, {"answer": "accept", "role": "approver"}, 422, None),
    ],
)
def test_a_step_the_public_side_can_refuse_is_refused_and_stores_nothing(
    installation: Installation,
    client: TestClient,
    code: str | None,
    body: dict[str, str],
    status: int,
    problem: str | None,
) -> None:
    _, receipt, right = offered(installation)

    refused = answer(client, receipt, code or right, **body)

    assert refused.status_code == status, refused.text
    if problem is not None:
        assert refused.json()["code"] == problem
    assert list(installation.settings.intake_inbox.glob("*.intake")) == []
    assert tracked(client, receipt, right)["follow_ups"] == []


def test_a_step_the_case_is_not_waiting_for_is_refused_at_once(
    installation: Installation, client: TestClient
) -> None:
    desks = Desks(installation)
    receipt, code = desks.book(installation)  # received: no slot offered yet
    installation.cross()

    refused = answer(client, receipt, code, answer="accept")

    assert (refused.status_code, refused.json()["code"]) == (409, "not_waiting_for_this_step")
    assert list(installation.settings.intake_inbox.glob("*.intake")) == []


def test_the_internal_side_checks_the_query_code_again_before_it_acts(
    installation: Installation, client: TestClient, importer: IntakeImporter
) -> None:
    """A bundle the public side should never have sent (a forged one, say): refused inside."""
    desks, receipt, _ = offered(installation)
    forged = {
        "format": ANSWER_FORMAT,
        "receipt_number": "DF20261124ABCDEF",
        "submitted_at": "2026-11-24T10:00:00+08:00",
        "submission": {"case": receipt, "answer": "cancel", "query_code": "GUESSED234"},
        "documents": [],
        "query_code_hash": "scrypt$1024$8$1$x$y",
    }
    installation.settings.intake_inbox.mkdir(parents=True, exist_ok=True)
    (installation.settings.intake_inbox / "DF20261124ABCDEF.intake").write_bytes(pack(forged, []))

    importer.step()

    assert importer.outcome("DF20261124ABCDEF") == "quarantined"
    assert [q["reason_code"] for q in importer.quarantined()] == ["wrong_query_code"]
    assert desks.bookings.load(receipt).status is BookingStatus.SLOT_OFFERED


def test_art9_the_documents_a_supplement_notice_asked_for_are_resubmitted_online(
    installation: Installation, client: TestClient, importer: IntakeImporter
) -> None:
    filings = installation.platform.services.filings
    receipt, code = installation.file(materials=INCOMPLETE)
    filings.issue_supplement_notice(
        CLERK,
        receipt,
        [{"item": "construction_permit", "problem": "missing", "reason": "未提供施工许可证"}],
    )
    installation.cross()
    before = filings.load(receipt).materials

    sent = client.post(
        f"/api/v1/filings/{receipt}/resubmission",
        files={"construction_permit": ("施工许可证.pdf", PDF, "application/pdf")},
        headers={"X-Query-Code": code},
    )
    assert sent.status_code == 202, sent.text
    assert sent.json()["receipt_number"].startswith("BZ")
    importer.step()
    installation.cross()

    filing = filings.load(receipt)
    assert filing.status is FilingStatus.RECEIVED
    assert filing.materials["construction_permit"]["media_type"] == "application/pdf"
    assert {k: v for k, v in filing.materials.items() if k != "construction_permit"} == before
    seen = tracked(client, receipt, code)
    assert [s["step"] for s in seen["timeline"]][-1] == "resubmitted"
    assert [f["status"] for f in seen["follow_ups"]] == ["processed"]
    assert orjson.loads(orjson.dumps(seen))["status"] == "received"


def test_a_resubmission_is_refused_while_no_notice_waits_for_it(
    installation: Installation, client: TestClient
) -> None:
    receipt, code = installation.file()
    installation.cross()

    refused = client.post(
        f"/api/v1/filings/{receipt}/resubmission",
        files={"construction_permit": ("施工许可证.pdf", PDF, "application/pdf")},
        headers={"X-Query-Code": code},
    )

    assert (refused.status_code, refused.json()["code"]) == (409, "not_waiting_for_this_step")


class Crash(BaseException):
    """The importer's process dies between the step's command and its import record."""


STEP_TOPICS = {
    "accept": "firegov:Booking.SlotAccepted",
    "another": "firegov:Booking.AnotherSlotRequested",
    "cancel": "firegov:Booking.Cancelled",
    "resubmission": "firegov:Filing.Resubmitted",
}


def step_sent(installation: Installation, client: TestClient, kind: str) -> tuple[str, str, str]:
    """A step of ``kind`` submitted on the portal: the case, its code and the step's receipt."""
    if kind == "resubmission":
        receipt, code = installation.file(materials=INCOMPLETE)
        installation.platform.services.filings.issue_supplement_notice(
            CLERK, receipt, [{"item": "construction_permit", "problem": "missing", "reason": "缺"}]
        )
        installation.cross()
        sent = client.post(
            f"/api/v1/filings/{receipt}/resubmission",
            files={"construction_permit": ("施工许可证.pdf", PDF, "application/pdf")},
            headers={"X-Query-Code": code},
        )
    else:
        _, receipt, code = offered(installation)
        sent = answer(client, receipt, code, answer=kind, reason="开业推迟")
    assert sent.status_code == 202, sent.text
    return receipt, code, str(sent.json()["receipt_number"])


@pytest.mark.parametrize("kind", list(STEP_TOPICS))
def test_a_step_delivered_again_after_a_crash_is_recognised_as_the_same_step(
    installation: Installation,
    client: TestClient,
    importer: IntakeImporter,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    receipt, code, step = step_sent(installation, client, kind)

    def crash(*_: object) -> None:
        raise Crash

    monkeypatch.setattr(importer, "_record", crash)
    with pytest.raises(Crash):  # the command ran; its import record was never written
        importer.step()
    assert importer.outcome(step) is None
    restarted = build_importer(installation.platform, installation.settings)
    assert restarted.step() == 1  # the bundle, still in the inbox, delivered again
    installation.cross()

    assert restarted.outcome(step) == "imported"
    assert restarted.quarantined() == []
    topics = [
        n.topic
        for n in installation.platform.app.recorder.select_notifications(start=1, limit=1000)
    ]
    assert topics.count(STEP_TOPICS[kind]) == 1  # nothing ran twice
    assert not any(t.startswith("firegov:QuarantinedSubmission") for t in topics)
    seen = tracked(client, receipt, code)["follow_ups"]
    assert [(f["receipt_number"], f["status"]) for f in seen] == [(step, "processed")]
