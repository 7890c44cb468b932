"""The ``/docs`` pages run nothing served by anyone else (issue 16, section 4): on both apps the
page and every asset it names come from the app's own origin, out of the installation, and the
page's CSP allows scripts and styles from that origin only (no inline script, ReDoc off)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from api_internal.app import create_app
from api_public.app import create_public_app
from tests.integration.bridge_fixtures import (  # noqa: F401 - the fixture
    Installation,
    installation_fixture,
)

TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


@pytest.fixture(name="client", params=["staff", "public"])
def client_fixture(installation: Installation, request: pytest.FixtureRequest) -> TestClient:
    """A client of the staff app, then of the public app."""
    app = (
        create_app(installation.platform.staff_backend())
        if request.param == "staff"
        else create_public_app(installation.public.backend)
    )
    return TestClient(app, raise_server_exceptions=False)


def test_the_docs_page_and_its_assets_come_from_the_apps_own_origin(client: TestClient) -> None:
    page = client.get("/docs")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert not re.search(r"(https?:)?//", page.text), "no other origin named in the page"
    references = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(references) == 4  # favicon, stylesheet, Swagger UI, our init script
    for reference in references:
        assert reference.startswith("/docs/assets/"), reference
        asset = client.get(reference)
        assert asset.status_code == 200, reference
        expected = TYPES[reference[reference.rindex(".") :]]
        assert asset.headers["content-type"].split(";")[0] == expected, reference
        assert asset.headers["x-content-type-options"] == "nosniff"
        assert len(asset.content) > 100, reference
    document = re.search(r'data-openapi-url="([^"]+)"', page.text)
    assert document is not None
    assert client.get(document.group(1)).json()["openapi"].startswith("3.")


def test_the_docs_page_runs_only_its_own_scripts_under_a_strict_csp(client: TestClient) -> None:
    page = client.get("/docs")
    init = client.get("/docs/assets/swagger-init.js")

    policy = dict(
        part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.DOTALL)
    assert scripts, "Swagger UI and its init script"
    assert all("src=" in attributes and not body.strip() for attributes, body in scripts)
    assert "style=" not in page.text
    assert "<style" not in page.text
    # Swagger UI would otherwise show a badge that sends the document to an outside validator.
    assert "validatorUrl: null" in init.text


def test_no_other_docs_page_is_left_on_a_cdn(client: TestClient) -> None:
    assert client.get("/redoc").status_code == 404
    assert client.get("/docs/oauth2-redirect").status_code == 404
    assert client.get("/docs/assets/redoc.standalone.js").status_code == 404
    assert client.get("/docs/assets/..%2Fcore.py").status_code == 404
