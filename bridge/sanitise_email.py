"""DESIGN decision 4, e-mail addresses in free text, also as people spell them out to keep
them from robots: ``zhangsan at example dot com``, ``zhangsan(at)example(dot)com``,
``zhangsan[at]example.com``, ``zhangsan艾特example点com``, ``zhangsan#example.com``.

An address is a local part (letters, digits, ``._%+-``), an "at" (``@``, ``#``, ``艾特``, ``at``
between spaces, ``at`` or ``@`` in brackets) and a domain: labels joined by a "dot" (``.``,
``点``, ``。``, ``dot`` between spaces, ``dot``, ``.`` or ``点`` in brackets) ending in a label of
two letters or more. Upper or lower case alike. The local part but its first character is
hidden (a one-character local part entirely); the domain names a provider, not a person.
"""

from __future__ import annotations

import re

from bridge.sanitise_detection import Detection

_GAP = r"[ \t]{0,2}"
_OPEN, _CLOSE = r"[(\[{<]", r"[)\]}>]"
# The ways to write "@". Compiled alone as AT: no address without one of them.
_AT = (
    rf"(?:{_GAP}@{_GAP}|{_GAP}#{_GAP}|{_GAP}艾特{_GAP}"
    rf"|{_GAP}{_OPEN}[ \t]?(?:at|@)[ \t]?{_CLOSE}{_GAP}|[ \t]{{1,2}}at[ \t]{{1,2}})"
)
_DOT = (
    rf"(?:\.|{_GAP}[点。]{_GAP}|{_GAP}{_OPEN}[ \t]?(?:dot|\.|点)[ \t]?{_CLOSE}{_GAP}"
    r"|[ \t]{1,2}dot[ \t]{1,2})"
)
_LABEL = r"[A-Za-z0-9-]+"
_EMAIL = re.compile(
    rf"(?<![A-Za-z0-9._%+-])(?P<local>[A-Za-z0-9._%+-]+){_AT}"
    # No boundary after the domain: "zhangwei@qq.com13812345678" must still hide the local
    # part (the mobile after it is found on its own).
    rf"{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}[A-Za-z]{{2,}}",
    re.IGNORECASE,
)
AT = re.compile(_AT, re.IGNORECASE)
# What every way of writing "@" contains: a cheap first look before AT or the full pattern.
AT_HINT = re.compile(r"@|#|艾特|at", re.IGNORECASE)


def emails(folded: str) -> list[Detection]:
    found: list[Detection] = []
    if AT_HINT.search(folded) is None:
        return found
    for match in _EMAIL.finditer(folded):
        start, end = match.span("local")
        keep = 1 if end - start > 1 else 0
        found.append(Detection("email", start, match.end(), frozenset(range(start + keep, end))))
    return found
