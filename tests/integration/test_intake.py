"""Intake of online filing submissions (issue 4): the public half accepts a submission as one
inert bundle (record and files), the internal half imports it once, and public tracking
follows it."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from api_public.app import create_public_app
from bridge.intake.importer import IntakeImporter
from deployment.sides import build_importer
from tests.integration.bridge_fixtures import (  # noqa: F401 - the fixture
    Installation,
    installation_fixture,
)
from tests.support import credit_code

PDF = b"%PDF-1.7\n" + b"x" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"y" * 200
EXE = b"MZ\x90\x00" + b"z" * 200
GOOD = credit_code("org")
WRONG_CHECK = GOOD[:17] + ("0" if GOOD[17] != "0" else "1")
# A made-up citizen ID number that also passes the GB 32100 check: only the domain refuses it.
CITIZEN_ID_AS_CREDIT_CODE = "410105198001010818"


def submission(**overrides: Any) -> dict[str, str]:
    values = {
        "kind": "design",
        "organisation_name": "郑州网上申报置业有限公司",
        "credit_code": credit_code("org"),
        "project_name": "网上申报大厦",
        "project_address": "金水区花园路 9 号",
        "district": "金水区",
        "contact_name": "李娜",
        "contact_phone": "13912345678",
    }
    values.update(overrides)
    return values


def good_files() -> dict[str, tuple[str, bytes, str]]:
    return {
        "application_form": ("申报表.pdf", PDF, "application/pdf"),
        "owner_identity": ("执照.png", PNG, "image/png"),
    }


@pytest.fixture(name="client")
def client_fixture(installation: Installation) -> Iterator[TestClient]:
    with TestClient(create_public_app(installation.public.backend)) as client:
        yield client


@pytest.fixture(name="importer")
def importer_fixture(installation: Installation) -> IntakeImporter:
    return build_importer(installation.platform, installation.settings)


def post(
    client: TestClient,
    body: dict[str, str] | str | None = None,
    files: dict[str, tuple[str, bytes, str]] | None = None,
    key: str | None = None,
) -> Any:
    text = body if isinstance(body, str) else orjson.dumps(body or submission()).decode()
    return client.post(
        "/api/v1/filings",
        data={"submission": text},
        files=good_files() if files is None else files,
        headers={"Idempotency-Key": key} if key else {},
    )


def stored(installation: Installation) -> tuple[list[Path], list[Path]]:
    """The bundles waiting in the intake ferry, and the documents kept on the internal side."""
    documents = installation.settings.documents_dir
    records = sorted(installation.settings.intake_inbox.glob("*.intake"))
    return records, sorted(p for p in documents.rglob("*") if p.is_file())


def queue(installation: Installation) -> list[str]:
    installation.platform.projector.catch_up()
    items = installation.platform.queries.review_queue(None, installation.clock())
    return [item.receipt_number for item in items]


def test_a_submission_reaches_the_window_and_tracking_follows_it(
    installation: Installation, client: TestClient, importer: IntakeImporter
) -> None:
    answer = post(client)
    assert answer.status_code == 201, answer.text
    receipt, code = answer.json()["receipt_number"], answer.json()["query_code"]

    pending = client.get(f"/api/v1/cases/{receipt}", headers={"X-Query-Code": code})
    assert pending.json()["status"] == "submitted"
    assert pending.json()["status_en"] == "received, waiting for the internal side"
    records, documents = stored(installation)
    assert len(records) == 1
    assert documents == []  # the files travel inside the bundle, nowhere else
    assert PDF in records[0].read_bytes()

    assert importer.step() == 1
    assert receipt in queue(installation)
    filing = installation.platform.services.filings.load(receipt)
    assert filing.agency == "zz-jinshui"
    records, documents = stored(installation)
    assert records == []  # imported: the bundle with clear-text personal data is gone
    assert len(documents) == 2
    assert all(p.name not in {"申报表.pdf", "执照.png"} for p in documents)
    assert {m["document"] for m in filing.materials.values()} == {
        f"sha256:{p.name}" for p in documents
    }
    # Sealed under the filing's own key: the clear bytes are nowhere on disk.
    assert {p.parent.name for p in documents} == {filing.contact_subject}
    assert not any(PDF in p.read_bytes() for p in documents)

    installation.cross()
    tracked = client.get(f"/api/v1/cases/{receipt}", headers={"X-Query-Code": code})
    assert tracked.json()["status"] == "received"
    assert tracked.json()["details_shown"] is True


def zipped() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.pdf", PDF)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("files", "status", "code", "field"),
    [
        ({"application_form": ("big.pdf", PDF + b"0" * 2048, "application/pdf")}, 413,
         "file_too_large", "application_form"),
        ({"application_form": ("scan.pdf", PNG, "application/pdf")}, 415,
         "extension_mismatch", "application_form"),
        ({"owner_identity": ("photo.jpg", EXE, "image/jpeg")}, 415,
         "unsupported_file_type", "owner_identity"),
        ({"application_form": ("forms.zip", zipped(), "application/zip")}, 415,
         "unsupported_file_type", "application_form"),
    ],
)  # fmt: skip
def test_a_refused_file_names_itself_and_stores_nothing(
    installation: Installation,
    client: TestClient,
    files: dict[str, tuple[str, bytes, str]],
    status: int,
    code: str,
    field: str,
) -> None:
    installation.public.backend.intake.max_file_bytes = 1024  # type: ignore[union-attr]

    answer = post(client, files={**good_files(), **files})

    assert answer.status_code == status, answer.text
    assert (answer.json()["code"], answer.json()["field"]) == (code, field)
    assert stored(installation) == ([], [])


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ("{not json", "submission", "malformed_json"),
        (orjson.dumps({"kind": "design"}).decode(), "organisation_name", "missing_field"),
        (orjson.dumps(submission(credit_code=WRONG_CHECK)).decode(), "credit_code",
         "invalid_credit_code"),
        (orjson.dumps(submission(credit_code="91410100ABC")).decode(), "credit_code",
         "invalid_credit_code"),
        (orjson.dumps({**submission(), "role": "approver"}).decode(), "role", "unknown_field"),
    ],
)  # fmt: skip
def test_a_malformed_submission_is_refused_and_stores_nothing(
    installation: Installation, client: TestClient, body: str, field: str, code: str
) -> None:
    answer = post(client, body)

    assert answer.status_code == 422
    assert (answer.json()["field"], answer.json()["code"]) == (field, code)
    assert answer.json()["message_zh"]
    assert answer.json()["message_en"]
    assert stored(installation) == ([], [])


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"credit_code": CITIZEN_ID_AS_CREDIT_CODE}, "invalid_credit_code"),
        ({"contact_phone": "010-1234"}, "invalid_mobile"),
        ({"district": "海淀区"}, "unknown_district"),
    ],
)
def test_what_only_the_domain_can_check_is_quarantined_with_its_reason(
    installation: Installation,
    client: TestClient,
    importer: IntakeImporter,
    overrides: dict[str, str],
    reason: str,
) -> None:
    answer = post(client, submission(**overrides))
    assert answer.status_code == 201
    receipt, code = answer.json()["receipt_number"], answer.json()["query_code"]

    importer.step()
    importer.step()  # a second round changes nothing
    installation.cross()

    assert importer.outcome(receipt) == "quarantined"
    assert [(q["receipt_number"], q["reason_code"]) for q in importer.quarantined()] == [
        (receipt, reason)
    ]
    assert queue(installation) == []
    events = installation.platform.app.recorder.select_notifications(start=1, limit=10)
    assert [n.topic for n in events] == ["firegov:QuarantinedSubmission.Quarantined"]
    assert stored(installation) == ([], [])  # neither the bundle nor its files stay behind
    # The applicant sees on tracking that it was not taken in, and why (with the query code).
    status = client.get(f"/api/v1/cases/{receipt}").json()
    assert status["status"] == "quarantined"
    assert "reason" not in status
    explained = client.get(f"/api/v1/cases/{receipt}", headers={"X-Query-Code": code}).json()
    assert explained["reason"]["code"] == reason
    assert explained["reason"]["message_zh"]


def test_the_same_idempotency_key_gives_the_first_answer_and_one_case(
    installation: Installation, client: TestClient, importer: IntakeImporter
) -> None:
    key = "7d1c2f0e-5b7a-4c55-9d8e-0a1b2c3d4e5f"
    first, second = post(client, key=key), post(client, key=key)

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert len(stored(installation)[0]) == 1
    other = post(client, submission(project_name="另一个工程"), key=key)
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")

    importer.step()
    assert queue(installation) == [first.json()["receipt_number"]]


def test_a_record_delivered_twice_is_imported_once(
    installation: Installation, client: TestClient, importer: IntakeImporter
) -> None:
    receipt = post(client).json()["receipt_number"]
    record = installation.settings.intake_inbox / f"{receipt}.intake"
    data = record.read_bytes()

    assert importer.step() == 1
    record.write_bytes(data)  # the ferry delivers it again
    assert importer.step() == 0
    assert not record.exists()  # dropped unread
    # Even without the import table's row (a crash right after the command): no second case.
    assert importer.import_one(receipt, data) == "imported"
    assert queue(installation) == [receipt]


def test_submissions_have_their_own_tighter_rate_limit(
    installation: Installation, client: TestClient
) -> None:
    from api_public.ratelimit import RateLimiter

    installation.public.backend.submissions = RateLimiter(1)

    assert post(client).status_code == 201
    answer = post(client)
    assert answer.status_code == 429
    assert "Retry-After" in answer.headers
