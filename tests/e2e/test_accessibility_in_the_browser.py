"""Accessibility of every page in the browser (GB/T 37668, WCAG 2.1 AA, MIIT's 适老化
guidance; issue 5): axe-core's WCAG 2.1 A/AA rules find nothing on any page of the tour, nor
do the plain checks that need only the browser (``lang="zh-CN"``, one ``h1``, headings in
order, every control labelled, line spacing of at least 1.3, contrast of the main text), in
normal and in large-text mode. The keyboard reaches every control of the main forms, in order,
and the focus can always be seen.
"""

from __future__ import annotations

import pytest

from tests.e2e.browsing import PHONE, People
from tests.e2e.checks import Axe, keyboard_walk, page_problems
from tests.e2e.live import LiveSite
from tests.e2e.tour import EVERY_PAGE, Cases

PAGES = sorted(EVERY_PAGE)


@pytest.mark.parametrize("name", PAGES)
def test_gb_t_37668_and_wcag_21_aa_every_page_passes_the_plain_checks_and_axe(
    name: str, site: LiveSite, cases: Cases, people: People, request: pytest.FixtureRequest
) -> None:
    page = people()
    EVERY_PAGE[name](page, site, cases)
    assert page_problems(page) == []
    # axe last: where it was not fetched the test skips (fails in CI) after the plain checks.
    axe: Axe = request.getfixturevalue("axe")
    assert axe.violations(page) == []


PHONE_PAGES = [
    "portal-home",
    "portal-file",
    "portal-book-slot",
    "portal-track-slot",
    "console-work",
    "portal-home-large",
    "portal-file-large",
    "portal-track-notice-large",
]


@pytest.mark.parametrize("name", PHONE_PAGES)
def test_wcag_21_aa_pages_fit_a_phone_screen_and_pass_the_same_checks_there(
    name: str, site: LiveSite, cases: Cases, people: People, request: pytest.FixtureRequest
) -> None:
    page = people(PHONE)
    EVERY_PAGE[name](page, site, cases)
    # Nothing to scroll sideways (WCAG 1.4.10 reflow) at a phone's 375 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page_problems(page) == []
    axe: Axe = request.getfixturevalue("axe")
    assert axe.violations(page) == []


# Each main form and the controls the Tab key must reach on it (a radio group is reached once:
# the prefix names the group).
FORMS = {
    "portal-home": ["q", "large-text-toggle"],
    "portal-file": ["kind-", "project_name", "project_address", "district"],
    "portal-file-organisation": [
        "organisation_name",
        "credit_code",
        "contact_name",
        "contact_phone",
    ],
    "portal-file-documents": ["application_form", "owner_identity", "fire_design_documents"],
    "portal-file-review": ["submit"],
    "portal-book": ["kind-", "district"],
    "portal-book-slot": ["agency", "slot-"],
    "portal-book-details": ["organisation_name", "credit_code", "basis_number", "basis_document"],
    "portal-track": ["receipt_number", "query_code"],
    "portal-verify": ["number"],
    "console-login": ["username", "password", "login"],
    "console-filing": [
        "decision-application_form-",
        "reason-application_form",
        "issue-notice",
        "issue-certificate",
    ],
    "console-booking": ["department", "forward", "reject"],
    "console-booking-assign": ["main_handler", "assign"],
    "console-booking-reply": ["slot-", "reply-slot", "refusal_reason"],
}


@pytest.mark.parametrize("name", sorted(FORMS))
def test_the_keyboard_reaches_every_control_of_the_main_forms_and_the_focus_shows(
    name: str, site: LiveSite, cases: Cases, people: People
) -> None:
    page = people()
    EVERY_PAGE[name](page, site, cases)
    stops = keyboard_walk(page, presses=80)
    keys = [stop.key for stop in stops]
    for wanted in FORMS[name]:
        assert any(k == wanted or (wanted.endswith("-") and k.startswith(wanted)) for k in keys), (
            f"Tab never reaches {wanted}: {keys}"
        )
    assert [s.key for s in stops if not s.visible_focus] == []
    assert keys[0].startswith("a:跳到主要内容"), "the first Tab lands on the skip link"
