"""DESIGN decision 4: free text that crosses to the public side is scanned for personal data
and masked.

What counts as personal data, and how it is masked (one ``*`` per hidden character, so a
masked text has the length and the separators of the original; docs/personal-data.md,
"Masking free text", has every form):

- ``id_number``: a citizen ID number (GB 11643) whose birth date and check character are
  valid → first 6 and last 4 kept: ``110105********002X``; a first-generation 15-digit number
  (six-digit region, a valid YYMMDD birth date, three digits) → first 6 and last 3 kept:
  ``110105******123``.
- ``mobile``: 11 digits ``1[3-9]…`` — no checksum exists, so every such number is masked — with
  an optional ``+86`` / ``0086`` / ``86`` / ``0`` prefix → the prefix, the first 3 and the last 4
  digits kept: ``+86 138 **** 5678``.
- ``landline``: area code (``010``, ``02x`` or ``0xxx``; ``(0371)`` or ``+86 371`` too) and a 7-8
  digit number, optional extension → area code, the last 2 digits of the number and the
  extension kept: ``0371-******34``; 7-8 digits right after a phone word (电话, 值班, Tel …)
  are a landline without its area code: ``电话 *****34``. An extension names a desk.
- ``bank_card``: 13-19 digits passing the Luhn check → the last 4 kept:
  ``**** **** **** 7894``.
- ``email``: the first character of the local part and the domain kept, one ``*`` per hidden
  character: ``z*******@example.com``, ``z******* at example dot com``.

Numbers are read in any grouping (bridge.sanitise_numbers): runs of digits joined by spaces,
dots or dashes, a bracketed area code, a final X after a space. A number is made of whole runs
of digits — never part of a longer run, so a 19-digit card is never half-masked as a mobile.
ASCII letters do NOT shield a number (``Tel13812345678`` and ``ID110105…`` are common in free
text); a credit code, the one alphanumeric identifier that must survive, is recognised as a
whole token first: a valid unified social credit code (GB 32100) identifies an organisation and
is kept verbatim, even where a digit run inside it looks like a mobile or a card. An 18-digit
token that is a valid credit code *and* a valid ID number is treated as an ID number, and an
all-digit code that is only the start of a longer grouped number (a 19-digit card) as that
number's digits: privacy first.

Detection runs on a folded copy (bridge.sanitise_detection: full-width forms, other digits,
dashes, middle dots to ASCII, one code point for one code point), so positions in the copy are
positions in the original and the masking replaces the original characters.

Overlapping readings are all masked (the union), so a partial overlap can never leave part
of either visible; they are reported as one finding, named after the longest of them (on equal
spans the most specific, in the order of ``KINDS``). One exception keeps the ID number's rule:
an 18-character ID number whose birth date and check character hold is conclusive, and a
card or phone reading of its digits (the same span or inside it) is part of it — a valid ID
number that also passes Luhn keeps its region, and the 17 digits of one ending in X are no card.

``mask`` rescans its own output until the scanner finds nothing, so its output is always
clean, ``mask(mask(x)) == mask(x)``, and a text without findings is returned unchanged. (The
rescan matters for digit soup only: the kept last four of a card, no longer part of a longer
run once the rest is masked, can start a new number with the digits after it; that is masked
too and reported as part of the same finding.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bridge.sanitise_detection import FOLD, Detection
from bridge.sanitise_email import AT, AT_HINT, emails
from bridge.sanitise_numbers import PHONE_WORD, numbers
from domain.identifiers import is_valid_citizen_id, is_valid_credit_code

# Most specific first: of two detections with the same span the earlier kind names them.
KINDS = ("id_number", "bank_card", "mobile", "landline", "email")
_RANK = {kind: rank for rank, kind in enumerate(KINDS)}

_MASK = "*"
_FOLD = FOLD
_CREDIT_CODE = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]{18}(?![0-9A-Za-z])")


@dataclass(frozen=True)
class Finding:
    """Personal data of ``kind`` at ``text[start:end]``."""

    kind: str
    start: int
    end: int


def _precedence(detection: Detection) -> tuple[int, int]:
    # The longest detection names a merged finding (an e-mail whose local part is a mobile
    # number is an e-mail); on equal spans the more specific kind wins.
    return detection.end - detection.start, -_RANK[detection.kind]


def _credit_codes(folded: str) -> list[tuple[int, int, bool]]:
    """The valid credit codes in ``folded`` (an ID number is no credit code): their spans, and
    whether they are all digits."""
    return [
        (*match.span(), match.group().isdigit())
        for match in _CREDIT_CODE.finditer(folded)
        if is_valid_credit_code(match.group()) and not is_valid_citizen_id(match.group())
    ]


def _outside_credit_codes(
    detection: Detection, codes: list[tuple[int, int, bool]]
) -> frozenset[int]:
    """What ``detection`` hides of characters that belong to no credit code. An all-digit
    code that is only part of a longer number (a card grouped with digits after it) is no
    code: its digits are that number's."""
    hidden = detection.hidden
    for start, end, digits in codes:
        if start <= detection.start and detection.end <= end:
            return frozenset()  # an organisation's identifier, not a person's
        if not (digits and detection.start <= start and end <= detection.end):
            hidden = hidden.difference(range(start, end))
    return hidden


# The fewest digits a number has without a phone word before it: a landline, 3 of the area
# code ("010") and 7 of the number (a mobile has 11, a card 13, an ID number 15). After a
# phone word 7 digits are enough; an e-mail address needs no digit but one of the ways of
# writing "@".
_FEWEST_DIGITS = 10
_FEWEST_AFTER_PHONE_WORD = 7
_DIGIT = re.compile(r"[0-9]")


def _nothing_to_find(folded: str) -> bool:
    """True when no detector can report anything in ``folded``, decided without running them.

    Only a shortcut, never a different answer (tests/property/test_sanitise_shortcuts.py
    compares it with the full scan): most text that crosses is a name, a credit code or a
    short reason, and the full scan of each costs several regular expressions. Each test
    below is a condition every detector needs: the e-mail detector an "@" of ``AT``, the local
    numbers a ``PHONE_WORD`` (the same compiled patterns the detectors are built from).
    """
    if (
        len(folded) == 18
        and _CREDIT_CODE.fullmatch(folded) is not None
        and is_valid_credit_code(folded)
        and not is_valid_citizen_id(folded)
    ):
        # One valid credit code and nothing else: every detection would lie inside it, and
        # every detection inside a credit code is dropped.
        return True
    digits = len(_DIGIT.findall(folded))
    if digits >= _FEWEST_DIGITS or (AT_HINT.search(folded) and AT.search(folded)):
        return False
    return digits < _FEWEST_AFTER_PHONE_WORD or PHONE_WORD.search(folded) is None


def _detect(text: str) -> list[Detection]:
    """One scan: the detections of ``text`` (none inside a valid credit code)."""
    folded = text.translate(_FOLD)
    return [] if _nothing_to_find(folded) else _scan(folded)


def _scan(folded: str) -> list[Detection]:
    """Every detector over the folded text (what ``_nothing_to_find`` may spare)."""
    detections = set(numbers(folded) + emails(folded))
    if not detections:
        return []
    conclusive = [d for d in detections if d.conclusive]
    kept = [
        d
        for d in detections
        if d.conclusive or not any(c.start <= d.start and d.end <= c.end for c in conclusive)
    ]
    codes = _credit_codes(folded)
    masked = (
        Detection(d.kind, d.start, d.end, _outside_credit_codes(d, codes), d.conclusive)
        for d in kept
    )
    return sorted((d for d in masked if d.hidden), key=lambda d: (d.start, d.end, _RANK[d.kind]))


def _analyse(text: str) -> tuple[list[Finding], str]:
    """The findings of ``text`` and the text with all of them masked."""
    detections: list[Detection] = []
    masked = text
    while found := _detect(masked):
        # Masking can cut a digit run next to another number short, and the kept rest can
        # read as a new number; scanning again until nothing is found makes the output
        # clean, so mask is idempotent. The masked text keeps every position, so the later
        # detections' positions are positions in ``text`` too.
        detections += found
        chars = list(masked)
        for detection in found:
            for position in detection.hidden:
                chars[position] = _MASK
        masked = "".join(chars)
    findings: list[Finding] = []
    leaders: list[Detection] = []
    for detection in sorted(detections, key=lambda d: (d.start, -d.end)):
        if findings and detection.start < findings[-1].end:
            if _precedence(detection) > _precedence(leaders[-1]):
                leaders[-1] = detection
            end = max(findings[-1].end, detection.end)
            findings[-1] = Finding(leaders[-1].kind, findings[-1].start, end)
        else:
            findings.append(Finding(detection.kind, detection.start, detection.end))
            leaders.append(detection)
    return findings, masked


def find_personal_data(text: str) -> list[Finding]:
    """The personal data in ``text``: non-overlapping findings in text order.

    Together the findings cover every character that ``mask`` replaces.
    """
    return _analyse(text)[0]


def mask(text: str) -> str:
    """``text`` with every finding masked; unchanged if it has none."""
    return _analyse(text)[1]


def is_clean(text: str) -> bool:
    """True if ``text`` holds no personal data the scanner recognises."""
    return not _detect(text)
