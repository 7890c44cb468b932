"""The bridge with both sides on PostgreSQL (decision 7: only settings change): the internal
event store, read models and outbound state in one schema, the public read models in another."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import psycopg
import pytest
from psycopg import sql

from bridge.keys import create_key_pair
from deployment.sides import build_outbound, build_public, embedded_public_settings
from tests.integration.bridge_fixtures import CLERK, INCOMPLETE, Installation
from tests.support import Clock, make_platform, materials, settings_for

pytestmark = pytest.mark.postgres


@pytest.fixture
def public_schema(pg_url: str, pg_schema: str) -> Iterator[str]:
    schema = f"{pg_schema}_public"
    with psycopg.connect(pg_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield schema
    finally:
        with psycopg.connect(pg_url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            )


@pytest.fixture
def installation(
    tmp_path: Path, pg_url: str, pg_schema: str, public_schema: str
) -> Iterator[Installation]:
    internal = settings_for(tmp_path, database_url=pg_url, schema=pg_schema)
    create_key_pair(internal.signing_key_path, internal.verify_key_path)
    clock = Clock()
    platform = make_platform(internal, clock)
    public_settings = embedded_public_settings(internal).model_copy(
        update={"database_url": pg_url, "postgres_schema": public_schema}
    )
    built = Installation(
        internal,
        clock,
        platform,
        build_outbound(platform, internal),
        build_public(public_settings, clock=clock),
    )
    try:
        yield built
    finally:
        built.public.close()
        built.platform.close()


def test_a_filing_crosses_sanitised_and_its_certificate_verifies_on_postgresql(
    installation: Installation,
) -> None:
    filings = installation.platform.services.filings
    receipt, _ = installation.file(materials=INCOMPLETE, project_name="大厦（联系 13812345678）")
    filings.issue_supplement_notice(
        CLERK, receipt, [{"item": "construction_permit", "problem": "missing", "reason": "缺"}]
    )
    filings.resubmit(CLERK, receipt, materials(version="2"))
    number = installation.certify(receipt)

    assert installation.cross() == 4

    case = installation.public.queries.case(receipt)
    certificate = installation.public.queries.certificate(number)
    assert case is not None
    assert case["status"] == "certified"
    assert "13812345678" not in orjson.dumps(case).decode()
    assert certificate is not None
    assert certificate["status"] == "valid"


def test_each_event_applies_once_and_a_rebuild_gives_identical_rows_on_postgresql(
    installation: Installation,
) -> None:
    for _ in range(3):
        receipt, _ = installation.file()
        installation.certify(receipt)
    installation.cross()
    before = installation.public.queries.dump()

    installation.outbound.resend(1)
    assert installation.cross() == 6
    assert installation.public.queries.dump() == before
    assert installation.public.receiver.rebuild() == 6
    assert installation.public.queries.dump() == before


def test_audit_verify_finds_a_changed_event_on_postgresql(
    installation: Installation, pg_url: str, pg_schema: str
) -> None:
    for _ in range(3):
        installation.file()
    ledger = installation.platform.ledger
    ledger.catch_up()
    assert ledger.verify().ok
    with psycopg.connect(pg_url, autocommit=True) as connection:
        connection.execute(
            sql.SQL(
                "UPDATE {}.firegov_events SET state = state || '\\x20'::bytea"
                " WHERE notification_id = (SELECT min(notification_id) + 1 FROM {}.firegov_events)"
            ).format(sql.Identifier(pg_schema), sql.Identifier(pg_schema))
        )
        (position,) = connection.execute(
            sql.SQL("SELECT min(notification_id) + 1 FROM {}.firegov_events").format(
                sql.Identifier(pg_schema)
            )
        ).fetchone() or (None,)

    assert ledger.verify().first_mismatch == position
