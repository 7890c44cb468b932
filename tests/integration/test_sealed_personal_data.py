"""DESIGN.md decision 8: no plaintext phone number or personal name appears anywhere in the
event store's or the read models' stored bytes; erasing the person's key erases them from
every event and view at once, and everything else keeps working.

On SQLite the database files (and their write-ahead logs) are read as raw bytes; on PostgreSQL
every value of every table in the platform's schema is read back, byte columns as bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from deployment.bootstrap import Platform
from domain.actor import Actor, Role
from domain.erasure import PersonalDataErasure
from domain.errors import NotFound
from domain.filing import FilingStatus
from domain.sealing import ERASED, is_sealed
from tests.support import Clock, filing_input, make_platform, settings_for

PHONE = "13812345678"
NAME = "张伟"
ORGANISATION = "郑州测试置业有限公司"  # an organisation, not a natural person: stays readable
PLAINTEXT = {"phone": PHONE.encode(), "name": NAME.encode()}

WINDOW = Actor("window-jinshui", Role.WINDOW_CLERK, "zz-jinshui")
AUDITOR = Actor("auditor-zz", Role.AUDITOR, "zz")
CONSOLE = Actor.system("zz", "test")


@pytest.fixture
def sqlite_platform(tmp_path: Path) -> Iterator[Platform]:
    platform = make_platform(settings_for(tmp_path), Clock())
    try:
        yield platform
    finally:
        platform.close()


@pytest.fixture
def postgres_platform(tmp_path: Path, pg_url: str, pg_schema: str) -> Iterator[Platform]:
    platform = make_platform(settings_for(tmp_path, database_url=pg_url, schema=pg_schema), Clock())
    try:
        yield platform
    finally:
        platform.close()


def file_bytes(platform: Platform, database: str) -> bytes:
    """The SQLite database file and whatever its write-ahead log holds not yet checkpointed."""
    path = platform.settings.internal_dir / database
    assert path.is_file()
    sidecars = [Path(f"{path}-wal"), Path(f"{path}-journal")]
    return path.read_bytes() + b"".join(p.read_bytes() for p in sidecars if p.is_file())


def table_bytes(pg_url: str, schema: str) -> dict[str, bytes]:
    """Every value of every table in ``schema``: bytea as stored, everything else as text."""
    dumped: dict[str, bytes] = {}
    with psycopg.connect(pg_url) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                [schema],
            )
        ]
        for table in tables:
            query = sql.SQL("SELECT * FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
            chunks: list[bytes] = []
            for row in connection.execute(query):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        chunks.append(bytes(value))
                    elif value is not None:
                        chunks.append(str(value).encode())
            dumped[table] = b"\x00".join(chunks)
    return dumped


def leaked(stored: bytes) -> list[str]:
    return [what for what, plaintext in PLAINTEXT.items() if plaintext in stored]


def submit_and_project(platform: Platform) -> str:
    receipt = platform.services.filings.submit(
        WINDOW, **filing_input(contact_name=NAME, contact_phone=PHONE)
    )
    platform.projector.catch_up()
    return receipt


def test_no_plaintext_phone_or_name_in_the_sqlite_files(sqlite_platform: Platform) -> None:
    submit_and_project(sqlite_platform)

    events = file_bytes(sqlite_platform, "events.sqlite")
    views = file_bytes(sqlite_platform, "views.sqlite")

    assert leaked(events) == []
    assert leaked(views) == []
    # The check reads the right bytes: data that is not personal is there in the clear.
    assert ORGANISATION.encode() in events
    assert ORGANISATION.encode() in views


@pytest.mark.postgres
def test_no_plaintext_phone_or_name_in_the_postgres_tables(
    postgres_platform: Platform, pg_url: str, pg_schema: str
) -> None:
    submit_and_project(postgres_platform)

    tables = table_bytes(pg_url, pg_schema)

    assert {"firegov_events", "view_filings", "view_filing_history"} <= set(tables)
    assert {table: leaked(stored) for table, stored in tables.items() if leaked(stored)} == {}
    assert ORGANISATION.encode() in tables["firegov_events"]
    assert ORGANISATION.encode() in tables["view_filings"]


def check_erasure(platform: Platform) -> None:
    receipt = submit_and_project(platform)
    detail = platform.queries.filing(receipt, platform.services.context.clock())
    assert detail is not None
    subject = detail["contact_subject"]
    assert platform.sealer.open(detail["contact_phone"]) == PHONE

    assert platform.services.personal_data.erase(CONSOLE, subject, "申请人要求删除") is True

    # Erased from the view at once: the stored sealed values now open to "erased".
    detail = platform.queries.filing(receipt, platform.services.context.clock())
    assert detail is not None
    assert is_sealed(detail["contact_phone"])
    assert platform.sealer.open(detail["contact_phone"]) == ERASED
    assert platform.sealer.open(detail["contact_name"]) == ERASED
    # The history stays whole, and personal data in it stays sealed.
    (submitted,) = platform.services.audit.history(AUDITOR, receipt)
    assert submitted.event == "Submitted"
    assert submitted.details["contact_phone"] == "〔密封 sealed〕"
    # Everything else still works: the case goes on, and the views rebuild from the events.
    number = platform.services.filings.issue_certificate(WINDOW, receipt)
    platform.projector.catch_up()
    rows = platform.queries.rows()
    platform.projector.rebuild()
    assert platform.queries.rows() == rows
    detail = platform.queries.filing(receipt, platform.services.context.clock())
    assert detail is not None
    assert (detail["status"], detail["certificate_number"]) == (FilingStatus.CERTIFIED, number)
    assert platform.sealer.open(detail["contact_phone"]) == ERASED
    # The erasure is itself a recorded fact, naming only the pseudonymous subject.
    erasure_id = str(PersonalDataErasure.create_id(subject))
    (erased,) = platform.services.audit.history(AUDITOR, erasure_id)
    assert (erased.event, erased.actor_id, erased.role) == ("Erased", CONSOLE.actor_id, "system")
    assert erased.details == {"subject_id": subject, "reason": "申请人要求删除"}
    # Erasing again changes nothing and says so.
    assert platform.services.personal_data.erase(CONSOLE, subject, "重复申请") is False
    assert len(platform.services.audit.history(AUDITOR, erasure_id)) == 1


def test_erasing_a_person_on_sqlite_leaves_the_rest_working(sqlite_platform: Platform) -> None:
    check_erasure(sqlite_platform)

    for database in ("events.sqlite", "views.sqlite"):
        assert leaked(file_bytes(sqlite_platform, database)) == []


@pytest.mark.postgres
def test_erasing_a_person_on_postgres_leaves_the_rest_working(
    postgres_platform: Platform, pg_url: str, pg_schema: str
) -> None:
    check_erasure(postgres_platform)

    tables = table_bytes(pg_url, pg_schema)
    assert {table: leaked(stored) for table, stored in tables.items() if leaked(stored)} == {}


def test_erasing_a_subject_the_key_store_never_had_is_refused_and_records_nothing(
    sqlite_platform: Platform,
) -> None:
    """A mistyped subject id is not an erasure: the audit trail gets no fact about a person
    who was never there, and the operator learns that the id is wrong."""
    receipt = submit_and_project(sqlite_platform)
    unknown = sqlite_platform.sealer.new_subject()
    before = sqlite_platform.app.recorder.max_notification_id()

    with pytest.raises(NotFound) as refused:
        sqlite_platform.services.personal_data.erase(CONSOLE, unknown, "申请人要求删除")

    assert refused.value.code == "unknown_subject"
    assert sqlite_platform.app.recorder.max_notification_id() == before
    assert PersonalDataErasure.create_id(unknown) not in sqlite_platform.app.repository
    detail = sqlite_platform.queries.filing(receipt, sqlite_platform.services.context.clock())
    assert detail is not None
    assert sqlite_platform.sealer.open(detail["contact_phone"]) == PHONE
