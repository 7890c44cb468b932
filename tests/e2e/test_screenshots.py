"""Screenshots of the main pages for docs/testing.md (issue 5): each page of the tour at desktop
width (1280x800) and at a phone's (375x812), and the portal's main pages in large-text mode
(大字版) on the phone, written as PNG with stable names (``<page>-desktop.png``,
``<page>-phone.png``, ``<page>-large-phone.png``) under ``FIREGOV_SCREENSHOTS_DIR``:
var/screenshots by default, so that a test run leaves the checkout clean (receipt numbers and
dates differ each run); `FIREGOV_SCREENSHOTS_DIR=docs/screenshots` refreshes the pictures
docs/testing.md shows. The whole page is photographed, not only what fits on the screen. Whether a
page fits a phone's width is the accessibility tests' to say (reflow); this one only takes the
pictures.
"""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image

from tests.e2e.browsing import DESKTOP, PHONE, People
from tests.e2e.checks import ROOT
from tests.e2e.live import LiveSite
from tests.e2e.tour import EVERY_PAGE, Cases

SCREENSHOTS = ROOT / os.environ.get("FIREGOV_SCREENSHOTS_DIR", "var/screenshots")
MAIN_PAGES = [
    "portal-home",
    "portal-guide-filing-design",
    "portal-file",
    "portal-file-documents",
    "portal-file-mistakes",
    "portal-submitted",
    "portal-book-slot",
    "portal-track-notice",
    "portal-track-slot",
    "portal-track-certificate",
    "portal-verify-valid",
    "portal-results",
    "console-login",
    "console-work",
    "console-filing",
    "console-booking-reply",
    "console-history",
]
LARGE_TEXT = ["portal-home", "portal-file", "portal-track-notice"]


def photograph(
    people: People, site: LiveSite, cases: Cases, stop: str, file: str, size: dict[str, int]
) -> None:
    """Open ``stop`` on a screen of ``size`` and save the whole page as ``file``, in 64
    colours (a third of the bytes of a true-colour PNG, and text stays sharp: no dithering)."""
    page = people(size)
    EVERY_PAGE[stop](page, site, cases)
    page.evaluate("() => document.fonts.ready.then(() => true)")
    shot = page.screenshot(full_page=True, animations="disabled", caret="hide")
    image = Image.open(io.BytesIO(shot)).convert("RGB")
    assert image.height >= size["height"] // 2, f"{file}: the page is almost empty"
    small = image.quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(SCREENSHOTS / file, optimize=True)


@pytest.mark.usefixtures("cjk_font")
@pytest.mark.parametrize("name", MAIN_PAGES)
def test_screenshots_of_the_main_pages_at_desktop_and_phone_width(
    name: str, site: LiveSite, cases: Cases, people: People
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    photograph(people, site, cases, name, f"{name}-desktop.png", DESKTOP)
    photograph(people, site, cases, name, f"{name}-phone.png", PHONE)


@pytest.mark.usefixtures("cjk_font")
@pytest.mark.parametrize("name", LARGE_TEXT)
def test_screenshots_of_the_main_pages_in_large_text_mode_on_a_phone(
    name: str, site: LiveSite, cases: Cases, people: People
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    photograph(people, site, cases, f"{name}-large", f"{name}-large-phone.png", PHONE)
