"""DESIGN decision 4, the numbers in free text: citizen ID numbers (18 and 15 digits), mobile
numbers, landlines (with their area code, or a local number after a phone word) and bank cards,
however people group them.

A number as people write it is a *chain*: maximal runs of digits (never split) joined by one
separator each — one or two spaces, or one ``-`` or ``.`` with at most two spaces around it (the
folded copy has turned ``·``, every dash and the full-width forms into these). A country or
area code may stand in brackets (``(0371)``, ``[0371]``, ``(+86)``, ``(0)``) with or without a
separator around it, and an ID number may end in an X, attached or after a separator. Every
stretch of whole runs of a chain is a candidate: its digits, joined, are read as each kind
(docs/personal-data.md, "Masking free text", lists what each kind keeps).

Grouping: in a candidate every run but the last has at least three digits, a phone number's
prefix excepted (the country code, ``(0)``, the area code after a country code, a bracketed
area code). So every grouping people use is read (3-4-4, 4-4-4-4, 6-8-4, 8-8-3, 6-4-4-4, a lone
final digit or X, mixed separators), while dates (2026-12-05), article numbers (3.2.1), times
and decimal amounts never join into a number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

from bridge.sanitise_detection import Detection
from domain.identifiers import is_valid_citizen_id

_RUN = re.compile(r"[0-9]+")
_SEPARATOR = re.compile(r"[ \t]{0,2}[-.][ \t]{0,2}|[ \t]{1,2}")
# What may stand in brackets: a country code, the "(0)" of "+86 (0)371", an area code.
_IN_BRACKETS = re.compile(r"\+?(?:00)?86|0|0?[1-9][0-9]{1,2}")
_CLOSING = {"(": ")", "[": "]"}
_NOT_AFTER_LONE_X = re.compile(r"[A-Za-z0-9]")

_MOBILE = re.compile(r"(?:0086|86|0)?1[3-9][0-9]{9}")
_LANDLINE = re.compile(r"(?:(?:00)?860?|0)(?:10|2[0-9]|[3-9][0-9]{2})(?P<number>[1-9][0-9]{6,7})")
# An extension names a desk, not a person: it stays, as part of the landline's finding.
_EXTENSION = re.compile(r"[ \t]?(?:-|转|分机|ext\.?|x|#)[ \t]?[0-9]{1,6}(?![0-9])", re.IGNORECASE)
_LOCAL = re.compile(r"[1-9][0-9]{6,7}")
# Words after which 7-8 digits are a phone number even without an area code ...
PHONE_WORD = re.compile(
    # The lookahead names every word's first letter: re then skips to those at C speed.
    r"(?=[电手座固值传联TtPpMmCcFf])(?:电话|手机|座机|固话|值班|传真|联系方式"
    r"|(?<![A-Za-z])(?:telephone|tel|phone|mobile|mob|cell|call|fax))",
    re.IGNORECASE,
)
# ... with what people put between the word and the number ("联系电话（座机）：", "Tel.") ...
_AFTER_WORD = re.compile(r"(?:[ \t:.=]|号码|号|为|是|\([^()0-9\n]{0,6}\))*")
# ... and the numbers listed after the first ("电话：6789 1234、6789 5678").
_LIST = re.compile(r"[ \t]*(?:[、,;/]|或|和|及|or\b|and\b)[ \t]*", re.IGNORECASE)

_PREFIX_RUNS = 3  # the most runs a phone prefix has: "+86", "(0)", "371"
_FEWEST_DIGITS = 10  # a landline: "010" and seven digits; every other number has more
_MOST_DIGITS = 19  # a bank card


class _Run(NamedTuple):
    """A maximal run of digits as written: ``start:stop`` with its "+" and brackets."""

    start: int
    stop: int
    first: int  # of its digits
    digits: str
    plus: bool
    bracketed: bool
    x_end: int | None  # the end of an X that may close an ID number


def _runs(folded: str) -> list[_Run]:
    runs = []
    length = len(folded)
    any_x = "X" in folded or "x" in folded
    for match in _RUN.finditer(folded):
        first, stop = match.span()
        plus = first > 0 and folded[first - 1] == "+"
        start = first - plus
        bracketed = (
            start > 0
            and stop < length
            and _CLOSING.get(folded[start - 1]) == folded[stop]
            and _IN_BRACKETS.fullmatch(folded, start, stop) is not None
        )
        x_end = None
        if bracketed:
            start, stop = start - 1, stop + 1
        elif stop < length and folded[stop] in "Xx":
            if stop + 1 == length or not "0" <= folded[stop + 1] <= "9":
                x_end = stop + 1
        elif any_x and (gap := _SEPARATOR.match(folded, stop)) is not None:
            x = gap.end()
            if x < length and folded[x] in "Xx" and not _NOT_AFTER_LONE_X.match(folded, x + 1):
                x_end = x + 1
        runs.append(_Run(start, stop, first, match.group(), plus, bracketed, x_end))
    return runs


def _chains(folded: str, runs: list[_Run]) -> list[list[_Run]]:
    chains: list[list[_Run]] = []
    for run in runs:
        if chains and (last := chains[-1][-1]).x_end is None:
            gap = folded[last.stop : run.start]
            if _SEPARATOR.fullmatch(gap) or (not gap and (last.bracketed or run.bracketed)):
                chains[-1].append(run)
                continue
        chains.append([run])
    return chains


def _grouped(runs: Sequence[_Run]) -> bool:
    """Every run but the last has three digits or more, and none is in brackets."""
    return not any(run.bracketed for run in runs) and all(len(r.digits) >= 3 for r in runs[:-1])


def _phone_grouped(runs: Sequence[_Run]) -> bool:
    """``_grouped`` once a phone number's prefix (country code, "(0)", area code) is off."""
    prefix = 0
    if len(runs) > 1 and runs[0].digits in ("86", "0086"):
        prefix = 1
        if len(runs) > prefix + 1 and runs[prefix].bracketed and runs[prefix].digits == "0":
            prefix += 1
        if len(runs) > prefix + 1 and 2 <= len(runs[prefix].digits) <= 4:
            prefix += 1
    elif len(runs) > 1 and runs[0].bracketed:
        prefix = 1
    return _grouped(runs[prefix:])


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _first_generation_birth_date(digits: str) -> bool:
    """Characters 7-12 of a 15-digit ID number are a date of the 1900s, YYMMDD."""
    try:
        date(1900 + int(digits[6:8]), int(digits[8:10]), int(digits[10:12]))
    except ValueError:
        return False
    return True


def _read(folded: str, runs: Sequence[_Run], digits: str) -> list[Detection]:
    """Every kind the candidate ``runs`` (their digits joined: ``digits``) reads as."""
    found: list[Detection] = []
    start, stop, count = runs[0].start, runs[-1].stop, len(digits)

    def at(first: int, last: int) -> frozenset[int]:
        # The positions of the candidate's digits first to last (as a slice would take them).
        positions = [p for run in runs for p in range(run.first, run.first + len(run.digits))]
        return frozenset(positions[first:last])

    if _grouped(runs):
        x_end = runs[-1].x_end
        if count == 18 and is_valid_citizen_id(digits):
            found.append(Detection("id_number", start, stop, at(6, 14), True))
        elif count == 17 and x_end is not None and is_valid_citizen_id(digits + "X"):
            found.append(Detection("id_number", start, x_end, at(6, 14), True))
        if count == 15 and _first_generation_birth_date(digits):
            found.append(Detection("id_number", start, stop, at(6, 12)))
        # A run after "+" is an international phone number, never a card.
        if count >= 13 and not runs[0].plus and luhn_valid(digits):
            found.append(Detection("bank_card", start, stop, at(0, -4)))
    if (count <= 16 and digits[0] in "018") and _phone_grouped(runs):
        if _MOBILE.fullmatch(digits):
            found.append(Detection("mobile", start, stop, at(count - 8, count - 4)))
        elif number := _LANDLINE.fullmatch(digits):
            extension = _EXTENSION.match(folded, stop)
            end = stop if extension is None else extension.end()
            found.append(Detection("landline", start, end, at(number.start("number"), -2)))
    return found


def _local_numbers(folded: str, chains: list[list[_Run]], phones: set[int]) -> list[Detection]:
    """7-8 digits right after a phone word, and after each list separator that follows;
    not the first digits of a phone number that starts there (``phones``: their starts)."""
    found = []
    starting = {chain[0].start: chain for chain in chains}
    for word in PHONE_WORD.finditer(folded):
        after = _AFTER_WORD.match(folded, word.end())  # matches, if only the empty string
        at = word.end() if after is None else after.end()
        while (chain := starting.get(at)) is not None:
            digits = ""
            for index, run in enumerate(chain):
                digits += run.digits
                if len(digits) > 8 or at in phones:
                    break
                if _LOCAL.fullmatch(digits) and _grouped(chain[: index + 1]):
                    positions = [p for r in chain[: index + 1] for p in range(r.first, r.stop)]
                    hidden = frozenset(positions[:-2])
                    found.append(Detection("landline", chain[0].start, run.stop, hidden))
            listed = _LIST.match(folded, chain[-1].x_end or chain[-1].stop)
            if listed is None:
                break
            at = listed.end()
    return found


def numbers(folded: str) -> list[Detection]:
    """Every reading of every candidate in ``folded``, and the local numbers."""
    chains = _chains(folded, _runs(folded))
    found = []
    for chain in chains:
        for first in range(len(chain)):
            digits = ""
            for last in range(first, len(chain)):
                digits += chain[last].digits
                if len(digits) > _MOST_DIGITS:
                    break
                if len(digits) >= _FEWEST_DIGITS:
                    found += _read(folded, chain[first : last + 1], digits)
                run = chain[last]
                if last - first >= _PREFIX_RUNS and (run.bracketed or len(run.digits) < 3):
                    break  # no longer candidate can be grouped: this run would be inside it
    phones = {d.start for d in found if d.kind in ("mobile", "landline")}
    return found + _local_numbers(folded, chains, phones)
