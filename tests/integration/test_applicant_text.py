"""What an applicant types for themselves (the reason they cancel a booking) is shown back to
them on tracking with their query code, read by staff inside, erased with their contact — and
never held in the clear on the public side: not in its database, not in the ferry's batches,
not in the archive of batches (issue 16; docs/personal-data.md). Embedded, and with both sides'
stores on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import orjson
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from api_public.app import create_public_app
from bridge.contract.applicant_text import open_own_text, seal_own_text
from bridge.intake.importer import IntakeImporter
from deployment.sides import build_importer
from domain.actor import Actor, Role
from domain.booking_rules import BookingStatus
from domain.sealing import ERASED, is_sealed
from tests.integration.booking_bridge_fixtures import both_fixture  # noqa: F401 - the fixture
from tests.integration.bridge_fixtures import (  # noqa: F401 - the fixture
    Installation,
    installation_fixture,
)
from tests.integration.test_applicant_steps import (  # noqa: F401 - the fixtures
    answer,
    client_fixture,
    importer_fixture,
    offered,
    tracked,
)
from tests.integration.test_sealed_personal_data import table_bytes
from tests.integration.test_staff_pages import Desk

# The applicant's own words, with what people write in them: a name and a phone number.
REASON = "开业推迟到明年三月，联系人周芷若 13755558888"
WORDS = ("开业推迟到明年三月".encode(), "周芷若".encode(), b"13755558888")
CONSOLE = Actor.system("zz", "test")


def cancelled_online(site: Installation, client: TestClient) -> tuple[str, str, str]:
    """A booking offered a slot and cancelled online with ``REASON``, imported and crossed:
    its receipt, the query code and the step's receipt."""
    _, receipt, code = offered(site)
    sent = answer(client, receipt, code, answer="cancel", reason=REASON)
    assert sent.status_code == 202, sent.text
    assert build_importer(site.platform, site.settings).step() == 1
    site.cross()
    return receipt, code, sent.json()["receipt_number"]


def files_holding(root: Path, needles: tuple[bytes, ...]) -> list[str]:
    return [
        str(path.relative_to(root))
        for path in sorted(root.rglob("*"))
        if path.is_file() and any(n in path.read_bytes() for n in needles)
    ]


def test_the_reason_to_cancel_is_shown_only_with_the_query_code_and_never_kept_in_the_clear(
    both: Installation,
) -> None:
    with TestClient(create_public_app(both.public.backend)) as client:
        receipt, code, step = cancelled_online(both, client)
        seen = tracked(client, receipt, code)
        anyone = client.get(f"/api/v1/cases/{receipt}").json()

    assert both.platform.services.bookings.load(receipt).status is BookingStatus.CANCELLED
    assert seen["status"] == "cancelled"
    assert seen["cancel_reason"] == REASON
    (own,) = seen["follow_ups"]
    assert (own["receipt_number"], own["status"]) == (step, "processed")
    assert (own["answer"], own["applicant_reason"]) == ("cancel", REASON)
    assert REASON not in orjson.dumps(anyone).decode()
    # Neither the ferry's batches nor any file of either side (the public database and its
    # archive of batches when embedded) holds the words in the clear; inside they are sealed.
    assert files_holding(both.settings.data_dir, WORDS) == []
    if both.settings.internal_database_url is not None:
        for schema in (both.settings.postgres_schema, f"{both.settings.postgres_schema}_public"):
            stored = table_bytes(both.settings.internal_database_url, schema)
            assert [t for t, b in stored.items() if any(w in b for w in WORDS)] == []
    crossed = b"".join(p.read_bytes() for p in both.settings.ferry_outbox.rglob("*") if p.is_file())
    assert b"booking.cancelled.v2" in crossed  # the fact and its time cross, never the why


def test_staff_read_the_applicants_reason_and_erasing_the_contact_erases_it(
    installation: Installation, client: TestClient
) -> None:
    receipt, _, _ = cancelled_online(installation, client)
    platform = installation.platform
    window = Desk(platform, installation.clock, "window", Role.WINDOW_CLERK)
    page = f"/console/bookings/{receipt}"
    platform.projector.catch_up()
    row = platform.booking_queries.booking(receipt, installation.clock())
    assert row is not None
    assert is_sealed(row["outcome"]["cancel_reason"])

    assert REASON in window.get(page).text
    platform.services.personal_data.erase(CONSOLE, row["contact_subject"], "申请人要求删除")

    shown = window.get(page).text
    assert REASON not in shown
    assert ERASED in shown


def test_the_window_records_the_reason_sealed_and_it_never_crosses(
    installation: Installation, client: TestClient
) -> None:
    """Told to the window by phone, the reason is the applicant's all the same."""
    desks, receipt, code = offered(installation)
    desks.bookings.cancel(desks.window, receipt, REASON)
    installation.cross()

    seen = tracked(client, receipt, code)
    assert (seen["status"], seen["cancel_reason"]) == ("cancelled", None)
    assert files_holding(installation.settings.data_dir, WORDS) == []
    stored = installation.platform.services.bookings.load(receipt)
    assert stored.status is BookingStatus.CANCELLED


def test_a_reason_with_an_answer_other_than_cancel_is_not_kept(
    installation: Installation, client: TestClient, importer: IntakeImporter
) -> None:
    _, receipt, code = offered(installation)

    assert answer(client, receipt, code, answer="accept", reason=REASON).status_code == 202
    importer.step()
    installation.cross()

    (own,) = tracked(client, receipt, code)["follow_ups"]
    assert "applicant_reason" not in own
    assert files_holding(installation.settings.data_dir, WORDS) == []


def test_the_idempotency_fingerprint_does_not_hold_the_applicants_words_yet_tells_them_apart(
    installation: Installation, client: TestClient, importer: IntakeImporter
) -> None:
    _, receipt, code = offered(installation)
    key = {"Idempotency-Key": "cancel-once-0001"}
    body = {"answer": "cancel", "reason": REASON}
    headers = {"X-Query-Code": code} | key
    first = client.post(f"/api/v1/bookings/{receipt}/answer", json=body, headers=headers)
    again = client.post(f"/api/v1/bookings/{receipt}/answer", json=body, headers=headers)
    other = client.post(
        f"/api/v1/bookings/{receipt}/answer", json=body | {"reason": "另有安排"}, headers=headers
    )

    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    importer.step()  # the bundle carried the words inside, like the contact's name and phone
    assert files_holding(installation.settings.data_dir, WORDS) == []


@settings(max_examples=40, deadline=None)
@given(text=st.text(max_size=500), wrong=st.sampled_from(["23456789AB", "ZZZZZZZZZZ"]))
def test_an_applicants_words_open_only_with_their_code_for_their_step_of_their_case(
    text: str, wrong: str
) -> None:
    code, case, step = "7KQ3M9XW2P", "YY20261124ABCDEF", "DF20261125GHJKLM"
    sealed = seal_own_text(code, case, step, {"reason": text})

    assert open_own_text(code, case, step, sealed) == {"reason": text}
    assert open_own_text(f" {code.lower()} ", case, step, sealed) == {"reason": text}
    assert open_own_text(wrong, case, step, sealed) is None
    assert open_own_text(code, "YY20261124ZZZZZZ", step, sealed) is None
    assert open_own_text(code, case, "DF20261125ZZZZZZ", sealed) is None
    assert open_own_text(code, case, step, sealed[:-2]) is None
