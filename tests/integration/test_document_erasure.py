"""DESIGN.md decision 8 for files (issue 16): a document that belongs to a person's submission
is sealed under the submission's own key, so ``firegov personal-data erase`` makes it
unreadable; staff then get 410 ``document_erased`` (a page on the console), never an error.
Documents of no person are kept by their hash; the plain copies an older installation kept are
still read, and erasure removes them once no one else's case needs them. On SQLite and, where
the key store differs, on PostgreSQL."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api_public.app import create_public_app
from bridge.keys import create_key_pair
from deployment.sides import build_importer
from domain.actor import Role
from domain.documents import SEALED_DIR, DocumentErased, DocumentStore
from domain.filing import Material
from domain.sealing import InMemorySubjectKeyStore, SealedValueInvalid, Sealer
from tests.integration.api_fixtures import assert_problem
from tests.integration.bridge_fixtures import CLERK, Installation, install
from tests.integration.test_booking_intake import post
from tests.integration.test_cli import firegov
from tests.integration.test_staff_pages import Desk, assert_accessible_page
from tests.support import TUESDAY_MORNING, client_of, filing_input, open_account, settings_for

JINSHUI = "zz-jinshui"
# The scan of a certificate that names the contact: what must not outlive their erasure.
SCAN_NAME, SCAN_PHONE = "赵敏", "13698765432"
SCAN = (
    b"%PDF-1.7\n% certificate scan\n"
    + f"联系人 {SCAN_NAME} 电话 {SCAN_PHONE}".encode()
    + b"\n%%EOF\n"
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Installation]:
    """An installation whose internal side is embedded, or on its own PostgreSQL schema (the
    key store then lives in PostgreSQL; the documents stay in their directory)."""
    if request.param == "sqlite":
        built = install(tmp_path)
    else:
        on = {"database_url": request.getfixturevalue("pg_url")}
        on["schema"] = request.getfixturevalue("pg_schema")
        keys = settings_for(tmp_path, **on)  # production makes its key pair beforehand
        create_key_pair(keys.signing_key_path, keys.verify_key_path)
        built = install(tmp_path, **on)
    try:
        yield built
    finally:
        built.public.close()
        built.platform.close()


def cli_env(site: Installation) -> dict[str, str]:
    """What ``firegov`` needs to open this installation: its master key and database."""
    settings = site.settings
    assert settings.master_key is not None
    env = {"FIREGOV_MASTER_KEY": settings.master_key.get_secret_value()}
    if settings.internal_database_url is not None:
        env |= {
            "FIREGOV_INTERNAL_DATABASE_URL": settings.internal_database_url,
            "FIREGOV_POSTGRES_SCHEMA": settings.postgres_schema,
        }
    return env


def erase(site: Installation, subject: str) -> str:
    result = firegov(
        site.settings.data_dir, "personal-data", "erase", subject, "--reason",
        "申请人要求删除个人信息", env=cli_env(site),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.stdout


def files_holding(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def booked_online(site: Installation) -> tuple[str, str]:
    """A booking posted on the portal with the certificate scan, imported inside: its receipt
    and the scan's hex hash."""
    with TestClient(create_public_app(site.public.backend)) as portal:
        answer = post(portal, files={"basis_document": ("受理凭证.pdf", SCAN, "application/pdf")})
    assert answer.status_code == 201, answer.text
    assert build_importer(site.platform, site.settings).step() == 1
    return answer.json()["receipt_number"], hashlib.sha256(SCAN).hexdigest()


def test_erasing_a_person_makes_their_uploaded_documents_unreadable(site: Installation) -> None:
    receipt, digest = booked_online(site)
    subject = site.platform.services.bookings.load(receipt).contact_subject
    platform, clock = site.platform, site.clock
    actor, _ = open_account(platform, "clerk", Role.WINDOW_CLERK, JINSHUI)
    api = client_of(platform)
    bearer = {"Authorization": f"Bearer {platform.sessions.open(actor, clock.now)}"}
    console = Desk(platform, clock, "window", Role.WINDOW_CLERK, JINSHUI)
    documents = site.settings.documents_dir

    # Before: staff open it; on disk it is sealed, its name and phone nowhere in the clear.
    assert api.get(f"/api/v1/documents/{digest}", headers=bearer).content == SCAN
    assert console.get(f"/console/documents/{digest}").content == SCAN
    assert [p.relative_to(documents) for p in documents.rglob("*") if p.is_file()] == [
        Path(SEALED_DIR, subject, digest)
    ]
    assert files_holding(site.settings.data_dir, SCAN_PHONE.encode()) == []
    assert files_holding(site.settings.data_dir, SCAN_NAME.encode()) == []

    said = erase(site, subject)

    assert "已删除 Erased" in said
    assert "Removed 1 document file(s)" in said
    assert not any(p.is_file() for p in documents.rglob("*"))
    answer = api.get(f"/api/v1/documents/{digest}", headers=bearer)
    body = assert_problem(answer, 410, "document_erased")
    assert "已随其个人信息一并销毁" in body["message_zh"]
    assert "erased" in body["message_en"]
    page = console.get(f"/console/documents/{digest}", 410)
    assert_accessible_page(page)
    assert "已随其个人信息一并销毁" in page.text
    # The rest of the booking is still there for the window, the contact shown as erased.
    assert console.get(f"/console/bookings/{receipt}").status_code == 200


def test_a_sealed_document_cannot_be_opened_once_its_key_is_gone_even_from_a_copy(
    tmp_path: Path,
) -> None:
    """Crypto-shredding: a copy of the directory taken before the erasure (a backup) is no
    use afterwards, because the key, not the file, was destroyed."""
    sealer = Sealer(InMemorySubjectKeyStore(), os.urandom(32))
    store = DocumentStore(tmp_path / "documents", sealer)
    subject = sealer.new_subject()
    reference, written = store.keep(SCAN, subject)
    assert written is not None
    backup = tmp_path / "backup"
    shutil.copytree(tmp_path / "documents", backup)

    sealer.erase(subject, TUESDAY_MORNING)

    with pytest.raises(DocumentErased):
        DocumentStore(backup, sealer).read(reference, [subject])
    assert sealer.open_bytes(subject, (backup / SEALED_DIR / subject / written.name).read_bytes(),
                             reference) is None  # fmt: skip


def test_a_sealed_document_moved_to_another_person_or_name_does_not_open(tmp_path: Path) -> None:
    sealer = Sealer(InMemorySubjectKeyStore(), os.urandom(32))
    store = DocumentStore(tmp_path, sealer)
    owner, other = sealer.new_subject(), sealer.new_subject()
    reference, written = store.keep(SCAN, owner)
    store.keep(b"%PDF-1.7\nother\n", other)
    assert written is not None
    moved = tmp_path / SEALED_DIR / other / written.name
    moved.write_bytes(written.read_bytes())

    with pytest.raises(SealedValueInvalid):
        store.read(reference, [other])
    renamed = f"sha256:{'0' * 64}"
    with pytest.raises(SealedValueInvalid):
        sealer.open_bytes(owner, written.read_bytes(), renamed)
    tampered = bytearray(written.read_bytes())
    tampered[-1] ^= 1
    with pytest.raises(SealedValueInvalid):
        sealer.open_bytes(owner, bytes(tampered), reference)


def test_the_same_file_in_two_submissions_survives_the_erasure_of_one(tmp_path: Path) -> None:
    sealer = Sealer(InMemorySubjectKeyStore(), os.urandom(32))
    store = DocumentStore(tmp_path, sealer)
    first, second = sealer.new_subject(), sealer.new_subject()
    reference, _ = store.keep(SCAN, first)
    store.keep(SCAN, second)

    sealer.erase(first, TUESDAY_MORNING)
    store.shred(first)

    assert store.read(reference, [second]) == SCAN
    assert store.read(reference, [first, second]) == SCAN  # a reader of both cases
    with pytest.raises(DocumentErased):
        store.read(reference, [first])


def test_a_document_of_no_person_is_kept_and_read_by_its_hash_in_the_clear(
    tmp_path: Path,
) -> None:
    sealer = Sealer(InMemorySubjectKeyStore(), os.urandom(32))
    store = DocumentStore(tmp_path, sealer)
    made = b"%PDF-1.7\n% a staff-made notice template\n"

    reference, written = store.keep(made, None)

    assert written == tmp_path / hashlib.sha256(made).hexdigest()
    assert written.read_bytes() == made
    assert store.read(reference, []) == made
    assert store.keep(made, None) == (reference, None)  # kept once
    assert store.read(f"sha256:{'1' * 64}", []) is None


def legacy_filing(site: Installation, name: str) -> tuple[str, str]:
    """A filing whose application form an older installation kept in the clear by its hash
    (before documents were sealed): its receipt and the form's hex hash."""
    digest = hashlib.sha256(SCAN).hexdigest()
    inputs = filing_input(contact_name=name)
    inputs["materials"][0] = Material(
        item="application_form", document=f"sha256:{digest}", file_name="申报表.pdf",
        size=len(SCAN), media_type="application/pdf",
    )  # fmt: skip
    receipt = site.platform.services.filings.submit(CLERK, **inputs)
    documents = site.settings.documents_dir
    documents.mkdir(parents=True, exist_ok=True)
    (documents / digest).write_bytes(SCAN)
    return receipt, digest


@pytest.mark.parametrize("shared", [False, True], ids=["only-theirs", "also-another-persons"])
def test_a_document_an_older_installation_kept_in_the_clear_is_read_until_its_person_is_erased(
    tmp_path: Path, shared: bool
) -> None:
    """The migration path: plain copies stay readable; erasing their person removes them,
    unless the case of a person not erased references the same bytes."""
    site = install(tmp_path)
    try:
        receipt, digest = legacy_filing(site, "张伟")
        if shared:
            legacy_filing(site, "李娜")
        window = Desk(site.platform, site.clock, "window", Role.WINDOW_CLERK, JINSHUI)
        link = f"/console/documents/{digest}"
        assert window.get(link).content == SCAN
        subject = site.platform.services.filings.load(receipt).contact_subject

        said = erase(site, subject)

        plain = site.settings.documents_dir / digest
        if shared:
            assert "Removed" not in said
            assert plain.read_bytes() == SCAN
            assert window.get(link).content == SCAN  # through the other person's case
        else:
            assert "Removed 1 document file(s)" in said
            assert not plain.exists()
            assert "已随其个人信息一并销毁" in window.get(link, 410).text
    finally:
        site.public.close()
        site.platform.close()
