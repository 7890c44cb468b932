"""Nothing a person can send to the public side is answered 500 (the platform's standard: bad
input gets a clear error and changes nothing). Hypothesis sends arbitrary bodies, form fields,
files and headers to every route that takes input, API and portal alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from api_public.app import create_public_app
from tests.integration.bridge_fixtures import Installation, install

POSTS = [
    "/api/v1/filings",
    "/api/v1/bookings",
    "/api/v1/filings/BA20261124ABCDEF/resubmission",
    "/api/v1/bookings/YY20261124ABCDEF/answer",
    "/file",
    "/file/2",
    "/file/3",
    "/file/4",
    "/book",
    "/book/2",
    "/book/3",
    "/book/4",
    "/track",
    "/large-text",
]
GETS = [
    "/api/v1/cases/{x}",
    "/api/v1/certificates/{x}",
    "/api/v1/certificates/{x}/pdf",
    "/api/v1/agencies/{x}/availability",
    "/verify/{x}",
    "/track/{x}",
    "/guide/{x}",
    "/results?page={x}&agency={x}",
    "/search?q={x}",
]
TEXT = st.text(max_size=60)
FILES = st.dictionaries(
    st.sampled_from(["submission", "application_form", "basis_document", "x", ""]),
    st.tuples(TEXT, st.binary(max_size=300), st.sampled_from(["application/pdf", "text/plain"])),
    max_size=3,
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Installation, TestClient]]:
    built = install(Path(tmp_path_factory.mktemp("never500")))
    try:
        client = TestClient(create_public_app(built.public.backend), raise_server_exceptions=False)
        yield built, client
    finally:
        built.public.close()
        built.platform.close()


def no_limits(installation: Installation) -> None:
    from api_public.ratelimit import RateLimiter

    backend = installation.public.backend
    backend.requests = RateLimiter(10**9)
    backend.code_attempts = RateLimiter(10**9)
    backend.submissions = None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(POSTS),
    form=st.dictionaries(TEXT, TEXT, max_size=4),
    files=FILES,
    json_body=st.one_of(st.none(), st.recursive(st.none() | st.booleans() | TEXT,
                                                 lambda c: st.lists(c) | st.dictionaries(TEXT, c),
                                                 max_leaves=5)),
    code=st.one_of(st.none(), TEXT.filter(lambda t: t.isascii() and t.isprintable())),
)  # fmt: skip
def test_no_post_is_answered_500(
    site: tuple[Installation, TestClient],
    path: str,
    form: dict[str, str],
    files: dict[str, tuple[str, bytes, str]],
    json_body: Any,
    code: str | None,
) -> None:
    installation, client = site
    no_limits(installation)
    headers = {"X-Query-Code": code} if code else {}
    if json_body is not None and path.endswith("/answer"):
        answer = client.post(path, json=json_body, headers=headers)
    else:
        answer = client.post(path, data=form, files=files or None, headers=headers)
    assert answer.status_code < 500, (path, answer.text[:300])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(GETS), value=TEXT)
@example(path="/results?page={x}&agency={x}", value="²")  # a digit to str.isdigit, not to int()
def test_no_get_is_answered_500(
    site: tuple[Installation, TestClient], path: str, value: str
) -> None:
    installation, client = site
    no_limits(installation)
    answer = client.get(path.format(x=quote(value, safe="")))
    assert answer.status_code < 500, (path, value, answer.text[:300])
