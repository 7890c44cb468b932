"""Fixtures of the browser tests: a live installation per test module, one chromium per run.

Every test under tests/e2e is marked ``e2e``. Without playwright or without Debian's chromium
the tests skip, saying which is missing; with FIREGOV_REQUIRE_SERVICES=1 (set by .ci/run, which
also installs chromium and the CJK font) that skip is a failure (tests/conftest.py). The
browser is Debian's chromium found on PATH, never one downloaded by ``playwright install``.

When a test fails, a screenshot of each of its pages is left under var/e2e-failures/ to look at.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.browsing import CHROMIUM_ARGS, People
from tests.e2e.checks import AXE_FILE, ROOT, Axe
from tests.e2e.live import LiveSite, live_site
from tests.e2e.tour import Cases, prepare

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the browser tests, and run them after all others: Playwright's sync API keeps an
    event loop running in the main thread while the browser lives (one per run), and a test
    that calls ``asyncio.run`` after it would find that loop."""
    browser_tests = [item for item in items if HERE in Path(str(item.path)).resolve().parents]
    for item in browser_tests:
        item.add_marker(pytest.mark.e2e)
    chosen = set(browser_tests)
    items[:] = [item for item in items if item not in chosen] + browser_tests


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed: pip install -e '.[dev]'"
    )
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip(
            "chromium is not on PATH: .ci/run installs Debian's chromium and "
            "fonts-wqy-microhei (apt-get install chromium fonts-wqy-microhei)"
        )
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def axe() -> Axe:
    """axe-core from .venv/npm (bin/_env fetches it when npm is there)."""
    if not AXE_FILE.exists():
        pytest.skip(
            f"axe-core is missing ({AXE_FILE.relative_to(ROOT)}): bin/_env fetches it with npm "
            "(npm install --prefix .venv/npm axe-core@4)"
        )
    return Axe(AXE_FILE.read_text(encoding="utf-8"))


def cjk_font_installed() -> bool:
    if Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc").exists():
        return True
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    import subprocess

    listed = subprocess.run([fc_list], capture_output=True, text=True, check=False)  # noqa: S603
    return "wqy" in listed.stdout.lower()


@pytest.fixture(scope="session")
def cjk_font() -> None:
    """Screenshots need a CJK font, or every Chinese character is drawn as a box."""
    if not cjk_font_installed():
        pytest.skip("no CJK font: .ci/run installs fonts-wqy-microhei")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    """One live installation per test module (both apps served, every loop running)."""
    with live_site(tmp_path_factory.mktemp("site")) as running:
        yield running


@pytest.fixture(scope="module")
def cases(site: LiveSite) -> Cases:
    """Cases at every step, for the tests that tour the pages (tests/e2e/tour.py)."""
    return prepare(site)


@pytest.fixture
def people(browser: Browser, request: pytest.FixtureRequest) -> Iterator[People]:
    found = People(browser)
    try:
        yield found
    finally:
        failed = request.node.stash.get(FAILED, False)
        found.close(re.sub(r"[^\w.-]+", "_", request.node.name) if failed else None)
    if found.server_errors and not failed:
        pytest.fail(f"the servers answered with errors: {found.server_errors}")


@pytest.fixture
def page(people: People) -> Page:
    """The page of the test's first person."""
    return people()
