"""Bookings submitted on the public portal (issue 4, RULES.md Art. 13-16): the public half
accepts the booking with its certificate scan as one bundle, the internal half imports it as
``Booking.Requested`` under the system actor, and the window finds it in its queue."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from api_public.app import create_public_app
from bridge.intake.importer import IntakeImporter
from deployment.sides import build_importer
from domain.actor import Role
from domain.documents import DocumentStore
from projections.internal.booking_queries import Task
from tests.integration.bridge_fixtures import (  # noqa: F401 - the fixture
    Installation,
    installation_fixture,
)
from tests.support import credit_code, materials

PDF = b"%PDF-1.7\n" + b"s" * 300
PNG = b"\x89PNG\r\n\x1a\n" + b"p" * 300


def booking(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "kind": "pre_opening",
        "district": "金水区",
        "organisation_name": "郑州网上预约商业管理有限公司",
        "credit_code": credit_code("org"),
        "project_name": "网上预约购物中心",
        "wished_time": "2026-12-01T09:00",
        "contact_name": "王芳",
        "contact_phone": "13812345678",
        "basis_kind": "inspection_receipt",
        "basis_number": "郑金消检受字〔2026〕第0042号",
        "basis_on_platform": False,
    }
    values.update(overrides)
    return values


SCAN = {"basis_document": ("受理凭证.pdf", PDF, "application/pdf")}


@pytest.fixture(name="client")
def client_fixture(installation: Installation) -> Iterator[TestClient]:
    with TestClient(create_public_app(installation.public.backend)) as client:
        yield client


@pytest.fixture(name="importer")
def importer_fixture(installation: Installation) -> IntakeImporter:
    return build_importer(installation.platform, installation.settings)


def post(
    client: TestClient,
    body: dict[str, Any] | str | None = None,
    files: dict[str, tuple[str, bytes, str]] | None = None,
) -> Any:
    text = body if isinstance(body, str) else orjson.dumps(body or booking()).decode()
    return client.post(
        "/api/v1/bookings", data={"submission": text}, files=SCAN if files is None else files
    )


def window_queue(installation: Installation) -> list[str]:
    installation.platform.projector.catch_up()
    items = installation.platform.booking_queries.queue(
        [Task.REVIEW], ["zz-jinshui"], installation.clock()
    )
    return [item.receipt_number for item in items]


def nothing_stored(installation: Installation) -> bool:
    documents = installation.settings.documents_dir
    return not list(installation.settings.intake_inbox.glob("*.intake")) and not (
        documents.exists() and list(documents.iterdir())
    )


def test_art14_a_booking_with_a_certificate_scan_reaches_the_window(
    installation: Installation, client: TestClient, importer: IntakeImporter
) -> None:
    answer = post(client)
    assert answer.status_code == 201, answer.text
    receipt, code = answer.json()["receipt_number"], answer.json()["query_code"]
    assert receipt.startswith("YY")
    pending = client.get(f"/api/v1/cases/{receipt}", headers={"X-Query-Code": code}).json()
    assert pending["status"] == "submitted"

    assert importer.step() == 1
    assert window_queue(installation) == [receipt]
    requested = installation.platform.services.bookings.load(receipt)
    assert (requested.agency, requested.kind, requested.route) == (
        "zz-jinshui",
        "pre_opening",
        "ordinary",
    )
    scan = requested.basis["document"]
    # Kept sealed under the booking's own key (erasing its contact erases the scan too).
    documents = DocumentStore(installation.settings.documents_dir, installation.platform.sealer)
    assert documents.read(scan, [requested.contact_subject]) == PDF
    kept = installation.settings.documents_dir / "sealed" / requested.contact_subject
    assert PDF not in (kept / scan.removeprefix("sha256:")).read_bytes()
    assert requested.received_at.utcoffset() is not None
    events = installation.platform.app.recorder.select_notifications(start=1, limit=10)
    assert [n.topic for n in events] == ["firegov:Booking.Requested"]
    # The contact is sealed in the event like any other: the clear text never reaches the store.
    assert b"13812345678" not in events[0].state
    assert "王芳".encode() not in events[0].state


def test_art15_a_booking_outside_the_agency_asked_still_comes_in_for_the_window_to_reject(
    installation: Installation, client: TestClient, importer: IntakeImporter
) -> None:
    receipt = post(client, booking(agency="zz-erqi")).json()["receipt_number"]

    importer.step()

    assert installation.platform.services.bookings.load(receipt).agency == "zz-erqi"


@pytest.mark.parametrize(
    ("body", "files", "status", "code", "field"),
    [
        (booking(), {}, 422, "missing_document", "basis_document"),
        (booking(), {"basis_document": ("scan.pdf", PNG, "application/pdf")}, 415,
         "extension_mismatch", "basis_document"),
        (booking(), {"basis_document": ("scan.jpg", b"MZ\x90\x00" + b"x" * 99, "image/jpeg")},
         415, "unsupported_file_type", "basis_document"),
        (booking(), {**SCAN, "other": ("x.pdf", PDF, "application/pdf")}, 422, "invalid_item",
         "other"),
        (booking(wished_time="next tuesday"), None, 422, "invalid_wished_time", "wished_time"),
        (booking(basis_on_platform="yes"), None, 422, "missing_field", "basis_on_platform"),
        (booking(credit_code="91410100MA44XXXXX0"), None, 422, "invalid_credit_code",
         "credit_code"),
        ("[1, 2", None, 422, "malformed_json", "submission"),
    ],
)  # fmt: skip
def test_art14_a_booking_the_public_side_can_refuse_is_refused_and_stores_nothing(
    installation: Installation,
    client: TestClient,
    body: dict[str, Any] | str,
    files: dict[str, tuple[str, bytes, str]] | None,
    status: int,
    code: str,
    field: str,
) -> None:
    answer = post(client, body, files)

    assert answer.status_code == status, answer.text
    assert (answer.json()["code"], answer.json()["field"]) == (code, field)
    assert answer.json()["message_zh"]
    assert answer.json()["message_en"]
    assert nothing_stored(installation)


@pytest.mark.parametrize(
    ("overrides", "files", "reason"),
    [
        ({"district": "海淀区"}, None, "unknown_district"),
        ({"kind": "fireworks"}, None, "invalid_kind"),
        ({"basis_kind": "completion_certificate"}, None, "basis_does_not_fit_kind"),
        (
            {
                "kind": "completion_spot_check",
                "basis_kind": "completion_certificate",
                "basis_number": "郑金消竣备字〔2026〕第9999号",
                "basis_on_platform": True,
            },
            {},
            "unknown_certificate",
        ),
        ({"wished_time": "2026-12-01T09:00:00+08:00", "contact_phone": "555"}, None,
         "invalid_mobile"),
        ({"route": "notice_commitment", "kind": "fire_acceptance",
          "basis_kind": "acceptance_receipt"}, None, "route_not_allowed"),
    ],
)  # fmt: skip
def test_art13_what_only_the_internal_side_can_check_is_quarantined_with_its_reason(
    installation: Installation,
    client: TestClient,
    importer: IntakeImporter,
    overrides: dict[str, Any],
    files: dict[str, tuple[str, bytes, str]] | None,
    reason: str,
) -> None:
    answer = post(client, booking(**overrides), files)
    assert answer.status_code == 201, answer.text
    receipt, code = answer.json()["receipt_number"], answer.json()["query_code"]

    importer.step()
    installation.cross()

    assert importer.outcome(receipt) == "quarantined"
    assert [q["reason_code"] for q in importer.quarantined()] == [reason]
    assert window_queue(installation) == []
    events = installation.platform.app.recorder.select_notifications(start=1, limit=10)
    assert [n.topic for n in events] == ["firegov:QuarantinedSubmission.Quarantined"]
    assert nothing_stored(installation)
    explained = client.get(f"/api/v1/cases/{receipt}", headers={"X-Query-Code": code}).json()
    assert explained["status"] == "quarantined"
    assert explained["reason"]["code"] == reason


def test_art13_a_booking_on_a_certificate_issued_here_is_checked_against_the_filing(
    installation: Installation, client: TestClient, importer: IntakeImporter
) -> None:
    receipt, _ = installation.file(kind="completion", materials=materials("completion"))
    number = installation.certify(receipt)
    filing = installation.platform.services.filings.load(receipt)
    body = booking(
        kind="completion_spot_check",
        basis_kind="completion_certificate",
        basis_number=number,
        basis_on_platform=True,
        organisation_name=filing.organisation_name,
        credit_code=filing.credit_code,
        project_name=filing.project_name,
    )

    answer = post(client, body, files={})
    assert answer.status_code == 201, answer.text
    importer.step()

    booked = installation.platform.services.bookings.load(answer.json()["receipt_number"])
    assert booked.basis["filing_receipt_number"] == receipt
    assert booked.basis["document"] == ""


def test_art16_an_online_booking_is_forwarded_assigned_and_replied_to(
    installation: Installation, client: TestClient, importer: IntakeImporter
) -> None:
    from tests.booking_support import staff

    answer = post(client)
    receipt = answer.json()["receipt_number"]
    importer.step()
    services = installation.platform.services
    clerk = staff(services, "clerk-jinshui", "zz-jinshui", Role.WINDOW_CLERK)
    head = staff(services, "head-jinshui", "zz-jinshui", Role.DEPT_HEAD)
    handler = staff(services, "handler-jinshui", "zz-jinshui")

    services.bookings.forward(clerk, receipt, "金水区大队防火监督科")
    services.bookings.assign(head, receipt, handler.actor_id, [])
    services.bookings.reply_with_slot(handler, receipt, "2026-11-26", "am")

    assert window_queue(installation) == []
    assert services.bookings.load(receipt).slot is not None
