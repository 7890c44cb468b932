"""DESIGN decision 4, what the personal-data detectors share: the folded copy of a text they
read, and what each of them reports.

Folding maps every code point to one code point, so positions in the folded copy are
positions in the original and masking replaces the original characters: full-width and other
compatibility forms to ASCII (``１３８`` → ``138``, ``＠`` → ``@``, ``（`` → ``(``), other scripts'
decimal digits to ASCII digits, every dash to ``-``, the middle dots people put between digit
groups (``138·1234·5678``) to ``.``, and ``【】`` to ``[]`` (``zhangsan【at】example.com``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63")
_DOTS = frozenset("\u00b7\u2027\u2219\u22c5\u30fb\uff65")
_BRACKETS = {"\u3010": "[", "\u3011": "]"}


class _FoldTable(dict[int, int]):
    """str.translate table: a code point to its one-character ASCII reading."""

    def __missing__(self, codepoint: int) -> int:
        char = chr(codepoint)
        folded = unicodedata.normalize("NFKC", char)
        if len(folded) == 1 and folded.isascii():
            result = ord(folded)
        elif char in _DASHES:
            result = ord("-")
        elif char in _DOTS:
            result = ord(".")
        elif char in _BRACKETS:
            result = ord(_BRACKETS[char])
        elif (digit := unicodedata.decimal(char, None)) is not None:
            # Other scripts' decimal digits: int() accepts them, so a reader would too.
            result = ord("0") + digit
        else:
            result = codepoint
        # Cached per code point: after the first sight translate() runs at C speed.
        self[codepoint] = result
        return result


FOLD = _FoldTable()


@dataclass(frozen=True)
class Detection:
    """Personal data of ``kind`` at ``folded[start:end]``; ``hidden`` are the positions its
    rule masks. ``conclusive`` marks an 18-character ID number whose birth date and check
    character hold: a card or phone reading of its digits is part of it, not a second number.
    """

    kind: str
    start: int
    end: int
    hidden: frozenset[int]
    conclusive: bool = False
