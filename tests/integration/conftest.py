"""Fixtures for tests against real services.

``pg_url`` checks once per session that PostgreSQL answers (and skips otherwise: with
FIREGOV_REQUIRE_SERVICES=1 the top-level conftest turns that skip into a failure);
``pg_schema`` gives each test its own empty schema and drops it afterwards, so tests
never see each other's tables. Tests build their own pool, e.g.::

    ConnectionPool(pg_url, kwargs={"options": f"-c search_path={pg_schema}"})
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _without_password(url: str) -> str:
    # The URL goes into skip and failure messages, which end up in CI logs.
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


@pytest.fixture(scope="session")
def pg_url() -> str:
    url = os.environ.get("FIREGOV_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    try:
        with psycopg.connect(url, connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        pytest.skip(f"PostgreSQL not reachable at {_without_password(url)}: {error}")
    return url


@pytest.fixture
def pg_schema(pg_url: str) -> Iterator[str]:
    schema = f"test_{uuid.uuid4().hex}"
    with psycopg.connect(pg_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield schema
    finally:
        with psycopg.connect(pg_url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            )
