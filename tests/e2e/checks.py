"""Accessibility checks in the browser (GB/T 37668, WCAG 2.1 AA, MIIT's 适老化 guidance).

Two layers. ``axe_violations`` runs axe-core (fetched from the npm registry by bin/_env into
.venv/npm; never committed, never served) on the page as it stands. ``page_problems`` is the
same ground as plain assertions that need nothing but the browser: ``lang``, one ``h1``,
headings in order, every control labelled, line spacing of at least 1.3, and the contrast of
the main text. ``keyboard_walk`` tabs through the page and records, for each element reached,
whether its focus can be seen.

axe is put into the page with ``page.evaluate`` (the DevTools protocol, which the page's CSP
does not govern), so the page is checked under its real CSP; ``add_script_tag`` would be
refused by ``default-src 'self'``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Page

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
AXE_FILE = ROOT / ".venv" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

_RUN_AXE = """(tags) => axe.run(document, {
    runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']
}).then(r => r.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))
})))"""


def script(name: str) -> str:
    """A function for ``page.evaluate`` from a .js file beside this one, its leading comment
    lines dropped (Playwright must see the function itself first)."""
    lines = (HERE / name).read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.startswith("//"))


class Axe:
    """axe-core loaded once from disk, run on any page."""

    def __init__(self, source: str) -> None:
        self.source = source

    def violations(self, page: Page) -> list[dict[str, Any]]:
        """axe's WCAG 2.1 A/AA violations of the page, each with up to five offending nodes."""
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(self.source + "\n;undefined")
        found: list[dict[str, Any]] = page.evaluate(_RUN_AXE, WCAG_21_AA)
        return found


# Plain assertions, evaluated in the page: a list of problems, empty when the page is fine.
_PAGE_PROBLEMS = script("page_problems.js")


def page_problems(page: Page) -> list[str]:
    """The plain accessibility assertions' findings on the page (empty: none)."""
    found: list[str] = page.evaluate(_PAGE_PROBLEMS)
    return found


@dataclass(frozen=True)
class Stop:
    """One element reached by the Tab key: what it is and whether its focus shows."""

    key: str  # id, else name, else tag and text
    visible_focus: bool


_FOCUSED = script("focused.js")


def keyboard_walk(page: Page, presses: int = 60) -> list[Stop]:
    """Tab from the top of the page ``presses`` times; each element reached, in order."""
    # Start where a person starts: at the top of the page, nothing focused yet.
    page.evaluate(
        """() => {
          document.body.setAttribute('tabindex', '-1');
          document.body.focus();
          document.body.removeAttribute('tabindex');
        }"""
    )
    stops: list[Stop] = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        if focused is None:
            continue
        stop = Stop(focused["key"], focused["visible"])
        if stops and stop == stops[0] and len(stops) > 1:
            break  # came round to the start again
        stops.append(stop)
    return stops
