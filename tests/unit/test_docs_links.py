"""The front door and the manual stay whole: README.md is the front door (what it is, the two
commands, a tour, links; under 200 lines), the manual lives in ``docs/``, one page per subject,
every page listed in the README's manual, and every relative link or image of README.md and
docs/*.md points to a file that exists (and, with ``#anchor``, to a heading that exists)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
HTML = re.compile(r"""\b(?:src|href)\s*=\s*["']([^"']+)["']""")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//")


def prose(text: str) -> str:
    """The text without fenced code blocks and code spans: a link shown as code is no link."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def links(text: str) -> list[str]:
    """Every link and image target of Markdown text: inline, reference definitions, HTML."""
    body = prose(text)
    return [m.group(1) for pattern in (INLINE, DEFINITION, HTML) for m in pattern.finditer(body)]


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives the headings: lower case, punctuation dropped, spaces to '-'."""
    found: set[str] = set()
    for heading in HEADING.findall(FENCE.sub("", text)):
        slug = re.sub(r"[^\w\- ]", "", heading.replace("`", "").strip().lower()).replace(" ", "-")
        base, n = slug, 1
        while slug in found:  # a repeated heading gets -1, -2, ...
            slug, n = f"{base}-{n}", n + 1
        found.add(slug)
    return found


def broken_links(page: Path) -> list[str]:
    problems = []
    for target in links(page.read_text(encoding="utf-8")):
        if EXTERNAL.match(target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / unquote(path)).resolve() if path else page
        if not file.exists():
            problems.append(f"{target}: no such file")
            continue
        if anchor and file.suffix == ".md" and anchor not in anchors(file.read_text("utf-8")):
            problems.append(f"{target}: no heading with anchor #{anchor}")
    return problems


def test_the_link_finder_sees_links_images_and_definitions_but_not_code() -> None:
    text = (
        "See [a](docs/a.md) and ![b](screenshots/b.png \"title\"), [c][ref], <img src='d.png'>.\n"
        "[ref]: ../e.md#part\n"
        "`[not](code.md)` and\n```sh\n[neither](block.md)\n```\n<https://example.org>\n"
    )
    assert links(text) == ["docs/a.md", "screenshots/b.png", "../e.md#part", "d.png"]
    assert anchors("# A first tour\n## The `firegov` command\n## Tests\n## Tests\n") == {
        "a-first-tour", "the-firegov-command", "tests", "tests-1"
    }  # fmt: skip


def test_a_missing_file_and_a_missing_heading_are_reported(tmp_path: Path) -> None:
    (tmp_path / "there.md").write_text("# Here\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text("[ok](there.md#here) [gone](gone.md) [bad](there.md#nowhere)\n", "utf-8")

    assert broken_links(page) == [
        "gone.md: no such file",
        "there.md#nowhere: no heading with anchor #nowhere",
    ]


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_every_relative_link_and_image_points_to_an_existing_file(page: Path) -> None:
    assert broken_links(page) == []


def test_readme_is_the_front_door_under_200_lines() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")

    assert len(readme.splitlines()) < 200, "README.md is the front door: move detail to docs/"
    for part in ("bin/run", "bin/test", "## A first tour", "## Manual", "## Licence"):
        assert part in readme


def test_every_page_of_the_manual_is_listed_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    manual = prose(readme.split("## Manual", 1)[1].split("\n## ", 1)[0])
    listed = {target.partition("#")[0] for target in links(manual)}

    pages = {f"docs/{page.name}" for page in PAGES[1:]}
    assert pages - listed == set(), "list the page under '## Manual' in README.md"
