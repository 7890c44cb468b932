"""Installations for the bookings on the public side: embedded, or with both sides' read models
on PostgreSQL (``both``), and the staff of 金水区 who handle a booking inside (``Desks``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from bridge.keys import create_key_pair
from deployment.sides import build_outbound, build_public, embedded_public_settings
from domain.actor import Role
from domain.query_code import hash_query_code, new_query_code
from tests.booking_support import JINSHUI, booking_input, staff
from tests.integration.bridge_fixtures import CLERK, Installation, install
from tests.support import Clock, make_platform, settings_for

MOBILE = "13912345678"  # the contact's phone, sealed inside
CONTACT = "李娜"


@pytest.fixture(name="both", params=["sqlite", "postgres"])
def both_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Installation]:
    """An installation embedded, or with both sides' stores on PostgreSQL."""
    if request.param == "sqlite":
        built = install(tmp_path)
    else:
        request.applymarker(pytest.mark.postgres)
        url: str = request.getfixturevalue("pg_url")
        schema: str = request.getfixturevalue("pg_schema")
        public_schema = f"{schema}_public"
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(public_schema)))
        internal = settings_for(tmp_path, database_url=url, schema=schema)
        create_key_pair(internal.signing_key_path, internal.verify_key_path)
        clock = Clock()
        platform = make_platform(internal, clock)
        public_settings = embedded_public_settings(internal).model_copy(
            update={"database_url": url, "postgres_schema": public_schema}
        )
        built = Installation(
            internal, clock, platform, build_outbound(platform, internal),
            build_public(public_settings, clock=clock),
        )  # fmt: skip
    try:
        yield built
    finally:
        built.public.close()
        built.platform.close()
        if request.param == "postgres":
            with psycopg.connect(url, autocommit=True) as connection:
                connection.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                        sql.Identifier(public_schema)
                    )
                )


class Desks:
    """The staff of 金水区 who handle bookings: window, head, main handler."""

    def __init__(self, installation: Installation) -> None:
        services = installation.platform.services
        self.bookings = services.bookings
        self.window = CLERK
        self.head = staff(services, "head", JINSHUI, Role.DEPT_HEAD)
        self.handler = staff(services, "handler", JINSHUI)

    def book(self, installation: Installation, **overrides: Any) -> tuple[str, str]:
        """A booking recorded at the window with a query code; its receipt and the code."""
        code = new_query_code()
        values = booking_input(contact_name=CONTACT, contact_phone=MOBILE, **overrides)
        receipt = self.bookings.request(
            self.window, **values, query_code_hash=hash_query_code(code)
        )
        return receipt, code

    def up_to_reply(self, receipt: str) -> None:
        self.bookings.forward(self.window, receipt, "防火监督科")
        self.bookings.assign(self.head, receipt, self.handler.actor_id)
