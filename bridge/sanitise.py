"""DESIGN decision 4: free text that crosses to the public side is scanned for personal data
and masked.

What counts as personal data, and how it is masked (one ``*`` per hidden character, so a
masked text has the length and the separators of the original):

- ``id_number``: a citizen ID number (GB 11643) whose birth date and check character are
  valid, contiguous or grouped 6-8-4 → first 6 and last 4 kept: ``110105********002X``.
- ``mobile``: 11 digits ``1[3-9]…`` — no checksum exists, so every such run is masked — with an
  optional ``+86`` / ``0086`` / ``86`` / ``0`` prefix and optional 3-4-4 grouping → the prefix,
  the first 3 and the last 4 digits kept: ``+86 138 **** 5678``.
- ``landline``: area code (``010``, ``02x`` or ``0xxx``; ``(0371)`` or ``+86 371`` too) and a 7-8
  digit number, optional extension → area code, the last 2 digits of the number and the
  extension kept: ``0371-******34``. An extension names a desk, not a person.
- ``bank_card``: 13-19 digits passing the Luhn check, contiguous or grouped in fours → the last 4
  kept: ``************7894`` or ``**** **** **** 7894``.
- ``email``: the first character of the local part and the domain kept, one ``*`` per hidden
  character: ``z*******@example.com`` (a one-character local part is hidden entirely).

A valid unified social credit code (GB 32100) identifies an organisation and is kept verbatim,
even where a digit run inside it looks like a mobile or a card. An 18-digit token that is a
valid credit code *and* a valid ID number is treated as an ID number: privacy first.

Boundaries: a number is a maximal run of digits — never part of a longer digit run, so a
19-digit card is never half-masked as a mobile. ASCII letters do NOT shield a number
(``Tel13812345678`` and ``ID110105…`` are common in free text); a credit code, the one
alphanumeric identifier that must survive, is recognised as a whole token first.

Detection runs on a copy in which full-width and other compatibility forms (``１３８``,
``＋８６``, ``＠``) are folded to ASCII one code point for one code point (NFKC where that is a
single ASCII character), so positions in the copy are positions in the original and the
masking replaces the original characters.

When detections overlap, every one of them is masked (the union), so a partial overlap can
never leave part of either visible; they are reported as one finding, named after the
longest of them. Of detections with the same span only the most specific counts (order of
``KINDS``): a valid ID number that also passes Luhn is masked as an ID number, and
``8613812345678``, a Luhn-valid 13-digit run, as a bank card. A detection inside a more
specific one is part of it: the 17 digits of an ID number ending in X are no bank card.

``mask`` rescans its own output until the scanner finds nothing, so its output is always
clean, ``mask(mask(x)) == mask(x)``, and a text without findings is returned unchanged. (The
rescan matters for digit soup only: the kept last four of a card, no longer part of a longer
run once the rest is masked, can start a new number with the digits after it; that is masked
too and reported as part of the same finding.)
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from domain.identifiers import is_valid_citizen_id, is_valid_credit_code

# Most specific first: of two detections with the same span the earlier kind counts.
KINDS = ("id_number", "bank_card", "mobile", "landline", "email")
_RANK = {kind: rank for rank, kind in enumerate(KINDS)}

_MASK = "*"
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63")

_AREA = r"(?:10|2[0-9]|[3-9][0-9]{2})"
_ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{6}(?P<sep>[ -]?)[0-9]{8}(?P=sep)[0-9]{3}[0-9Xx](?![0-9])")
_MOBILE = re.compile(
    r"(?<![0-9])(?:(?:\+|00)?86[ -]?|0)?"
    r"1[3-9][0-9](?:[0-9]{8}|[ -][0-9]{4}[ -][0-9]{4})(?![0-9])"
)
_LANDLINE = re.compile(
    rf"(?<![0-9])(?:\(0{_AREA}\)|0{_AREA}|(?:\+|00)?86[ -]?{_AREA})[ -]?"
    r"(?P<number>[1-9][0-9]{6,7}|[1-9][0-9]{2,3}[ -][0-9]{4})(?![0-9])"
    r"(?:(?:-|转|分机|ext\.?|x|#)[0-9]{1,6}(?![0-9]))?",
    re.IGNORECASE,
)
# A run after "+" is an international phone number, never a card.
_CARD = re.compile(r"(?<![0-9+])[0-9]{13,19}(?![0-9])")
# Every group start is tried (zero-width match), so an invalid grouping that starts earlier
# cannot hide a valid card inside it; up to 5 digits a group tell a four from a longer group.
_GROUPED_CARD = re.compile(r"(?<![0-9])(?=(?P<run>[0-9]{4}(?:[ -][0-9]{1,5}){3,4}))")
_GROUP_SEPARATOR = re.compile(r"[ -]")
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])(?P<local>[A-Za-z0-9._%+-]+)@"
    # No boundary after the domain: "zhangwei@qq.com13812345678" must still hide the local
    # part (the mobile after it is found on its own).
    r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
_CREDIT_CODE = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]{18}(?![0-9A-Za-z])")


@dataclass(frozen=True)
class Finding:
    """Personal data of ``kind`` at ``text[start:end]``."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class _Detection:
    kind: str
    start: int
    end: int
    hidden: frozenset[int]


class _FoldTable(dict[int, int]):
    """str.translate table: a code point to its one-character ASCII compatibility form."""

    def __missing__(self, codepoint: int) -> int:
        char = chr(codepoint)
        folded = unicodedata.normalize("NFKC", char)
        if len(folded) == 1 and folded.isascii():
            result = ord(folded)
        elif char in _DASHES:
            result = ord("-")
        elif (digit := unicodedata.decimal(char, None)) is not None:
            # Other scripts' decimal digits: int() accepts them, so a reader would too.
            result = ord("0") + digit
        else:
            result = codepoint
        # Cached per code point: after the first sight translate() runs at C speed.
        self[codepoint] = result
        return result


_FOLD = _FoldTable()


def _precedence(detection: _Detection) -> tuple[int, int]:
    # The longest detection names a merged finding (an e-mail whose local part is a mobile
    # number is an e-mail); on equal spans the more specific kind wins.
    return detection.end - detection.start, -_RANK[detection.kind]


def _digit_positions(folded: str, start: int, end: int) -> list[int]:
    return [i for i in range(start, end) if "0" <= folded[i] <= "9"]


def _luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _id_numbers(folded: str) -> list[_Detection]:
    found = []
    for match in _ID_NUMBER.finditer(folded):
        start, end = match.span()
        if is_valid_citizen_id(_GROUP_SEPARATOR.sub("", match.group())):
            digits = _digit_positions(folded, start, end)
            found.append(_Detection("id_number", start, end, frozenset(digits[6:14])))
    return found


def _mobiles(folded: str) -> list[_Detection]:
    found = []
    for match in _MOBILE.finditer(folded):
        start, end = match.span()
        number = _digit_positions(folded, start, end)[-11:]
        found.append(_Detection("mobile", start, end, frozenset(number[3:7])))
    return found


def _landlines(folded: str) -> list[_Detection]:
    found = []
    for match in _LANDLINE.finditer(folded):
        number = _digit_positions(folded, *match.span("number"))
        found.append(_Detection("landline", *match.span(), frozenset(number[:-2])))
    return found


def _card(folded: str, start: int, end: int) -> _Detection | None:
    digits = _digit_positions(folded, start, end)
    if not 13 <= len(digits) <= 19 or not _luhn_valid("".join(folded[i] for i in digits)):
        return None
    return _Detection("bank_card", start, end, frozenset(digits[:-4]))


def _bank_cards(folded: str) -> list[_Detection]:
    found = [_card(folded, *match.span()) for match in _CARD.finditer(folded)]
    for match in _GROUPED_CARD.finditer(folded):
        start = match.start("run")
        groups = _GROUP_SEPARATOR.split(match.group("run"))
        # Three full fours and a last group of 1-4 (13-16 digits), or four fours and a last
        # group of 1-3 (17-19 digits); a separator is one character.
        if len(groups) >= 4 and all(len(g) == 4 for g in groups[:3]) and len(groups[3]) <= 4:
            found.append(_card(folded, start, start + 15 + len(groups[3])))
            if len(groups[3]) == 4 and len(groups) >= 5 and len(groups[4]) <= 3:
                found.append(_card(folded, start, start + 20 + len(groups[4])))
    return [card for card in found if card is not None]


def _emails(folded: str) -> list[_Detection]:
    found = []
    for match in _EMAIL.finditer(folded):
        start, end = match.span("local")
        keep = 1 if end - start > 1 else 0
        found.append(_Detection("email", start, match.end(), frozenset(range(start + keep, end))))
    return found


def _protected(folded: str) -> set[int]:
    kept: set[int] = set()
    for match in _CREDIT_CODE.finditer(folded):
        code = match.group()
        if is_valid_credit_code(code) and not is_valid_citizen_id(code):
            kept.update(range(*match.span()))
    return kept


# The fewest digits any number above has: a landline, 3 of the area code ("010") and 7 of the
# number. Every other kind needs more (a mobile 11, a card 13, an ID number 17) or an "@".
_FEWEST_DIGITS = 10
_DIGIT = re.compile(r"[0-9]")


def _nothing_to_find(folded: str) -> bool:
    """True when no detector can report anything in ``folded``, decided without running them.

    Only a shortcut, never a different answer (tests/property/test_sanitise_shortcuts.py
    compares it with the full scan): most text that crosses is a name, a credit code or a
    short reason, and the full scan of each costs several regular expressions.
    """
    if (
        len(folded) == 18
        and _CREDIT_CODE.fullmatch(folded) is not None
        and is_valid_credit_code(folded)
        and not is_valid_citizen_id(folded)
    ):
        # One valid credit code and nothing else: ``_protected`` would protect every
        # position, so every detection inside it would be dropped.
        return True
    # Otherwise no detector can match unless there is an "@" or this many digits.
    return "@" not in folded and len(_DIGIT.findall(folded)) < _FEWEST_DIGITS


def _detect(text: str) -> list[_Detection]:
    """One scan: the detections of ``text``, each hiding only what is not protected."""
    folded = text.translate(_FOLD)
    return [] if _nothing_to_find(folded) else _scan(folded)


def _scan(folded: str) -> list[_Detection]:
    """Every detector over the folded text (what ``_nothing_to_find`` may spare)."""
    detections = (
        _id_numbers(folded)
        + _bank_cards(folded)
        + _mobiles(folded)
        + _landlines(folded)
        + _emails(folded)
    )
    if not detections:
        return []
    protected = _protected(folded)
    by_span: dict[tuple[int, int], _Detection] = {}
    for detection in detections:
        span = (detection.start, detection.end)
        if span not in by_span or _precedence(detection) > _precedence(by_span[span]):
            by_span[span] = detection
    kept = [d for d in by_span.values() if not _explained_by(d, by_span.values())]
    return [
        _Detection(d.kind, d.start, d.end, d.hidden - protected)
        for d in kept
        # Wholly inside a credit code: an organisation's identifier, not a person's.
        if d.hidden - protected
    ]


def _explained_by(detection: _Detection, others: Iterable[_Detection]) -> bool:
    # The first 17 digits of an ID number ending in X are no bank card, however well they
    # pass Luhn: a detection inside a more specific one is part of it.
    return any(
        other.start <= detection.start
        and detection.end <= other.end
        and _RANK[other.kind] < _RANK[detection.kind]
        for other in others
    )


def _analyse(text: str) -> tuple[list[Finding], str]:
    """The findings of ``text`` and the text with all of them masked."""
    detections: list[_Detection] = []
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
    leaders: list[_Detection] = []
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
