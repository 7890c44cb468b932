"""Browser profiles for the browser tests: the chromium flags, the two screen sizes, and one
profile per person taking part in a test, watched for server errors (a page that answers 500
fails the test, whatever the test looked at)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.e2e.checks import ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Response

# No sandbox (containers), no GPU, /tmp instead of a small /dev/shm, and nothing that calls
# home: the tests must not depend on (or talk to) anything outside this machine.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
FAILURES = ROOT / "var" / "e2e-failures"


def new_context(browser: Browser, viewport: dict[str, int] = DESKTOP) -> BrowserContext:
    """A fresh browser profile as a person in Zhengzhou has it (language, time zone)."""
    context = browser.new_context(
        viewport=viewport,  # type: ignore[arg-type]
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        accept_downloads=True,
    )
    context.set_default_timeout(10_000)
    return context


class People:
    """Browser profiles, one per person in a test (the applicant, the clerk, ...): each has
    its own cookies, as on different computers. Their pages are photographed if the test
    fails, and every profile is closed at the end."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []
        self.server_errors: list[str] = []  # every 5xx answer any page received

    def __call__(self, viewport: dict[str, int] = DESKTOP) -> Page:
        opened = new_context(self.browser, viewport)
        opened.on("response", self._watch)
        self.contexts.append(opened)
        return opened.new_page()

    def _watch(self, response: Response) -> None:
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.request.method} {response.url}")

    def close(self, failed_test: str | None) -> None:
        for number, opened in enumerate(self.contexts):
            if failed_test is not None:
                FAILURES.mkdir(parents=True, exist_ok=True)
                for index, failed_page in enumerate(opened.pages):
                    shot = FAILURES / f"{failed_test}-{number}-{index}.png"
                    failed_page.screenshot(path=shot, full_page=True)
            opened.close()
