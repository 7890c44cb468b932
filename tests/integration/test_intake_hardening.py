"""What a hostile or broken sender cannot do to intake (issue 4, DESIGN.md: the public side is
untrusted): fill the public disk with a body of unknown length, stall the importer with one
malformed bundle, slip unreferenced files into the document store, or leave the query code
under a fast hash."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from api_public.app import create_public_app
from bridge.contract.intake import ANSWER_FORMAT, BOOKING_FORMAT, pack
from bridge.intake.importer import IntakeImporter
from deployment.sides import build_importer
from tests.integration.booking_bridge_fixtures import Desks
from tests.integration.bridge_fixtures import (  # noqa: F401 - the fixture
    Installation,
    installation_fixture,
)
from tests.integration.test_booking_intake import PDF, booking
from tests.integration.test_intake import good_files, submission


@pytest.fixture(name="client")
def client_fixture(installation: Installation) -> Iterator[TestClient]:
    with TestClient(create_public_app(installation.public.backend)) as client:
        yield client


@pytest.fixture(name="importer")
def importer_fixture(installation: Installation) -> IntakeImporter:
    return build_importer(installation.platform, installation.settings)


def drop(installation: Installation, receipt: str, data: bytes) -> None:
    inbox = installation.settings.intake_inbox
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / f"{receipt}.intake").write_bytes(data)


def test_a_body_of_unknown_length_is_refused_before_anything_reads_it(
    installation: Installation, client: TestClient
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"--x\r\nContent-Disposition: form-data; name=submission\r\n\r\n{}\r\n--x--\r\n"

    answer = client.post(
        "/api/v1/filings",
        content=chunks(),
        headers={"content-type": "multipart/form-data; boundary=x"},
    )

    assert (answer.status_code, answer.json()["code"]) == (411, "length_required")
    assert answer.json()["message_zh"]
    assert list(installation.settings.intake_inbox.glob("*.intake")) == []


def test_a_body_larger_than_any_submission_is_refused_by_its_declared_length(
    installation: Installation, client: TestClient
) -> None:
    intake = installation.public.backend.intake
    assert intake is not None
    body = b"x" * 1024
    request = httpx.Request(
        "POST",
        "http://testserver/api/v1/filings",
        content=body,
        headers={"content-length": str(intake.max_submission_bytes + 2 * 1024 * 1024)},
    )

    answer = client.send(request)

    assert (answer.status_code, answer.json()["code"]) == (413, "request_too_large")


def zip_needing_a_newer_version() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("OFD.xml", b"<ofd/>")
    raw = bytearray(buffer.getvalue())
    # "version needed to extract" in the central directory: one zipfile refuses to read.
    central = raw.rfind(b"PK\x01\x02")
    raw[central + 6 : central + 8] = (99).to_bytes(2, "little")
    return bytes(raw)


@pytest.mark.parametrize(
    "record",
    [
        {"format": []},
        {
            "format": BOOKING_FORMAT,
            "receipt_number": "YY20261124ABCDEF",
            "documents": [{"item": "basis_document", "document": "sha256:" + "0" * 64,
                           "file_name": "a.pdf", "size": 1, "media_type": ["application/pdf"]}],
        },
    ],
)  # fmt: skip
def test_a_malformed_bundle_is_quarantined_and_the_next_one_still_comes_in(
    installation: Installation,
    client: TestClient,
    importer: IntakeImporter,
    record: dict[str, object],
) -> None:
    drop(installation, "BA20261124AAAAAA", pack(record, []))
    good = client.post(
        "/api/v1/filings",
        data={"submission": orjson.dumps(submission()).decode()},
        files=good_files(),
    ).json()["receipt_number"]

    importer.step()

    assert importer.outcome("BA20261124AAAAAA") == "quarantined"
    assert importer.outcome(good) == "imported"


def test_a_file_that_breaks_the_zip_reader_is_refused_not_a_crash(
    installation: Installation, client: TestClient
) -> None:
    answer = client.post(
        "/api/v1/filings",
        data={"submission": orjson.dumps(submission()).decode()},
        files={**good_files(), "application_form": ("form.ofd", zip_needing_a_newer_version(),
                                                    "application/ofd")},
    )  # fmt: skip

    assert (answer.status_code, answer.json()["code"]) == (415, "unsupported_file_type")


def test_a_booking_bundle_with_files_it_does_not_reference_is_quarantined_whole(
    installation: Installation, importer: IntakeImporter
) -> None:
    documents, contents = [], []
    for item in ("basis_document", "application_form"):
        data = PDF + item.encode()
        documents.append(
            {"item": item, "document": "sha256:" + hashlib.sha256(data).hexdigest(),
             "file_name": f"{item}.pdf", "size": len(data), "media_type": "application/pdf"}
        )  # fmt: skip
        contents.append(data)
    record = {
        "format": BOOKING_FORMAT,
        "receipt_number": "YY20261124BBBBBB",
        "submitted_at": "2026-11-24T09:30:00+08:00",
        "submission": booking(),
        "documents": documents,
        "query_code_hash": "scrypt$1024$8$1$x$y",
    }
    drop(installation, "YY20261124BBBBBB", pack(record, contents))

    importer.step()

    assert importer.outcome("YY20261124BBBBBB") == "quarantined"
    kept = installation.settings.documents_dir
    assert not kept.exists() or list(kept.iterdir()) == []


def test_the_query_code_of_a_step_is_not_kept_under_a_fast_hash(
    installation: Installation, client: TestClient
) -> None:
    """The same Idempotency-Key gives the first answer whatever code came with it: the code
    is not part of the fingerprint kept in the clear."""
    desks = Desks(installation)
    receipt, code = desks.book(installation)
    desks.up_to_reply(receipt)
    desks.bookings.reply_with_slot(desks.handler, receipt, "2026-11-27", "am")
    installation.cross()
    intake = installation.public.backend.intake
    assert intake is not None
    key = "answer-key-0001-of-the-applicant"

    def answer(typed: str) -> dict[str, object]:
        fields = {"case": receipt, "answer": "accept", "query_code": typed}
        return intake.submit(ANSWER_FORMAT, orjson.dumps(fields), [], key)

    first = answer(code)

    assert answer(code.lower()) == first
    with installation.public.store.reading() as tx:
        (row,) = tx.fetchall("SELECT fingerprint FROM public_idempotency")
    with_code = {"answer": "accept", "case": receipt, "query_code": code}
    clear = orjson.dumps([ANSWER_FORMAT, with_code, []], option=orjson.OPT_SORT_KEYS)
    assert row["fingerprint"] != hashlib.sha256(clear).hexdigest()


def test_an_import_that_fails_unexpectedly_waits_and_holds_up_nothing(
    installation: Installation,
    client: TestClient,
    importer: IntakeImporter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A failure that is not the bundle's fault (the event store unreachable, say) is not
    recorded: the bundle is tried again later, after a wait, while the others come in."""

    def post() -> str:
        answer = client.post(
            "/api/v1/filings",
            data={"submission": orjson.dumps(submission()).decode()},
            files=good_files(),
        )
        receipt: str = answer.json()["receipt_number"]
        return receipt

    first, second = sorted([post(), post()])
    submit = importer.filings.submit
    calls: list[str] = []

    def flaky(*args: object, **kwargs: object) -> str:
        calls.append(str(kwargs["receipt_number"]))
        if kwargs["receipt_number"] == first:
            raise RuntimeError("the event store is unreachable")
        return submit(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(importer.filings, "submit", flaky)

    assert importer.step() == 1
    assert (importer.outcome(first), importer.outcome(second)) == (None, "imported")
    assert importer.step() == 0  # waiting: not tried again at once
    assert calls == [first, second]

    monkeypatch.setattr(importer.filings, "submit", submit)
    importer._failures[first] = (1, 0.0)  # the wait is over
    assert importer.step() == 1
    assert importer.outcome(first) == "imported"
