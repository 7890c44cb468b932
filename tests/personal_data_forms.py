"""Personal data written the way people write it (issue 16), for the tests of the sanitiser
(DESIGN decision 4): every kind in every grouping, separator, width and prefix.

Each writer takes a ``random.Random`` — Hypothesis's ``st.randoms()`` in the property tests, so
the forms shrink, or a seeded one in the bridge's bulk test — and returns a ``Planted``: the
text as typed, the offsets its masking rule hides, and the run of digits (or the local part)
that identifies the person. The writers follow the forms named in docs/personal-data.md, not
the masker's code.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from bridge.sanitise_detection import FOLD
from domain.identifiers import citizen_id_check_char, is_valid_citizen_id

# Between the groups of one number: spaces, dots, dashes, middle dots, full-width forms.
SEPARATORS = (" ", "  ", "-", ".", "·", "・", " - ", "- ", " .", "－", "—", "．", "\u3000")
# What the check strips before looking for an identifying run: separators and brackets.
_SEPARATING = re.compile(r"[ \t\-.()\[\]+]")
_FULL_WIDTH = {ord(c): ord(c) + 0xFEE0 for c in string.digits + "Xx"}


@dataclass(frozen=True)
class Planted:
    kind: str
    written: str
    hidden: frozenset[int]  # offsets into ``written`` that the kind's rule hides
    identifying: str  # ASCII digits (or an e-mail's local part) that must not survive


class _Writer:
    """Builds a text piece by piece and remembers which offsets are to be hidden."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.text = ""
        self.hidden: set[int] = set()
        self.full_width = rng.random() < 0.25

    def add(self, text: str) -> None:
        self.text += text

    def digits(self, digits: str, hide: Callable[[int], bool], groups: list[int]) -> None:
        """``digits`` in ``groups``, each gap its own separator (mixed separators too)."""
        index = 0
        for number, size in enumerate(groups):
            if number:
                self.add(self.rng.choice(SEPARATORS))
            for char in digits[index : index + size]:
                if hide(index):
                    self.hidden.add(len(self.text))
                self.add(char.translate(_FULL_WIDTH) if self.full_width else char)
                index += 1

    def planted(self, kind: str, identifying: str) -> Planted:
        return Planted(kind, self.text, frozenset(self.hidden), identifying)


def groups(rng: random.Random, count: int, common: tuple[tuple[int, ...], ...] = ()) -> list[int]:
    """A grouping of ``count`` digits: as one run, a common pattern, or any split in which
    every group but the last has at least three digits."""
    fitting = [list(p) for p in common if sum(p) == count]
    choice = rng.random()
    if choice < 0.2:
        return [count]
    if fitting and choice < 0.5:
        return rng.choice(fitting)
    sizes: list[int] = []
    left = count
    while left:
        size = left if left <= 3 or rng.random() < 0.25 else rng.randint(3, left)
        sizes.append(size)
        left -= size
    return sizes


def _digits(rng: random.Random, count: int, first: str = string.digits) -> str:
    return rng.choice(first) + "".join(rng.choices(string.digits, k=count - 1))


def _born(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def id_number(rng: random.Random) -> Planted:
    """18 characters, the birth date hidden; grouped 6-8-4, 6-4-4-4 or any way; an X
    attached or after a separator, in either case."""
    first17 = f"{_digits(rng, 6)}{_born(rng, date(1900, 1, 1), date(2020, 12, 31)):%Y%m%d}"
    first17 += _digits(rng, 3)
    check = citizen_id_check_char(first17)
    writer = _Writer(rng)
    common = ((6, 8, 4), (6, 4, 4, 4), (3, 3, 4, 4, 4), (6, 8, 3), (6, 4, 4, 3))
    if check == "X":
        writer.digits(first17, lambda i: 6 <= i < 14, groups(rng, 17, common))
        writer.add(rng.choice(["", "", " ", "-"]))
        x = rng.choice("Xx")
        writer.add(x.translate(_FULL_WIDTH) if writer.full_width else x)
    else:
        writer.digits(first17 + check, lambda i: 6 <= i < 14, groups(rng, 18, common))
    return writer.planted("id_number", first17)


def first_generation_id_number(rng: random.Random) -> Planted:
    """15 digits: six-digit region, YYMMDD birth date (hidden), three digits."""
    born = _born(rng, date(1900, 1, 1), date(1999, 12, 31))
    number = f"{_digits(rng, 6)}{born:%y%m%d}{_digits(rng, 3)}"
    writer = _Writer(rng)
    writer.digits(number, lambda i: 6 <= i < 12, groups(rng, 15, ((6, 6, 3), (6, 9), (3, 4, 4, 4))))
    return writer.planted("id_number", number)


def mobile(rng: random.Random) -> Planted:
    """11 digits 1[3-9]…, the middle four hidden; no prefix, a glued one (+86, 0086, 86, 0),
    or one apart (+86, 0086, 86, (+86), with or without a separator)."""
    number = "1" + rng.choice("3456789") + _digits(rng, 9)
    writer = _Writer(rng)
    prefix = rng.random()
    if prefix < 0.3:
        writer.add(rng.choice(["+86", "0086", "86", "0", "＋86"]))
    elif prefix < 0.6:
        writer.add(rng.choice(["+86", "0086", "86", "(+86)", "（+86）", "＋８６"]))
        writer.add(
            rng.choice((*SEPARATORS, "") if writer.text.endswith(("）", ")")) else SEPARATORS)
        )
    writer.digits(number, lambda i: 3 <= i < 7, groups(rng, 11, ((3, 4, 4), (3, 8), (7, 4))))
    return writer.planted("mobile", number)


def _area_code(rng: random.Random) -> str:
    return "0" + rng.choice(["10", "2" + _digits(rng, 1), _digits(rng, 3, "3456789")])


def landline(rng: random.Random) -> Planted:
    """An area code — glued, apart, in brackets, after +86 (with "(0)") — and 7-8 digits, all
    but the last two hidden; an extension stays."""
    area, number = _area_code(rng), _digits(rng, rng.choice([7, 8]), "123456789")
    writer = _Writer(rng)
    form = rng.randrange(4)
    if form == 0:  # area code and number as one digit string, grouped any way
        digits = area + number
        writer.digits(digits, lambda i: len(area) <= i < len(digits) - 2, groups(rng, len(digits)))
    else:
        if form == 1:
            writer.add(area)
        elif form == 2:
            brackets = rng.choice(["()", "（）", "[]", "【】"])
            writer.add(brackets[0] + area + brackets[1])
        else:
            writer.add(rng.choice(["+86", "0086", "86", "＋86"]) + rng.choice(SEPARATORS))
            writer.add(rng.choice(["", "(0)"]) + area[1:])
        writer.add(rng.choice(SEPARATORS + (("",) if form == 2 else ())))
        common = ((4, 4), (3, 4), (4, 3))
        writer.digits(number, lambda i: i < len(number) - 2, groups(rng, len(number), common))
    if rng.random() < 0.3:
        writer.add(rng.choice(["-", "转", "分机", " ext ", "#"]) + _digits(rng, rng.randint(1, 4)))
    return writer.planted("landline", number)


def luhn_check_digit(body: str) -> str:
    """The digit that makes ``body`` and it pass the Luhn check (written out here, not taken
    from the masker, so the tests check the masker's Luhn)."""
    total = 0
    for index, char in enumerate(reversed(body)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str(-total % 10)


def bank_card(rng: random.Random) -> Planted:
    """13-19 digits passing Luhn, all but the last four hidden; 4-4-4-4, 6-13, 8-8-3 or any
    grouping. (An 18-digit one that is also a valid ID number is masked as an ID number.)"""
    body = _digits(rng, rng.randint(12, 18))
    number = body + luhn_check_digit(body)
    writer = _Writer(rng)
    common = ((4, 4, 4, 4), (4, 4, 4, 4, 3), (6, 13), (8, 8, 3), (6, 4, 4, 4), (4, 6, 5))
    if len(number) == 18 and is_valid_citizen_id(number):
        hide: Callable[[int], bool] = lambda i: 6 <= i < 14  # noqa: E731
    else:
        hide = lambda i: i < len(number) - 4  # noqa: E731
    writer.digits(number, hide, groups(rng, len(number), common))
    return writer.planted("bank_card", number)


PHONE_WORDS = (
    *("电话", "联系电话", "值班电话", "值班", "手机", "座机", "传真"),
    *("Tel", "TEL", "Phone", "call", "Fax"),
)
_AFTER_PHONE_WORD = (
    "",
    " ",
    "：",
    ":",
    ": ",
    "号码：",
    "为",
    "是",
    "（座机）：",
    "(office) ",
    ". ",
)


def local_number(rng: random.Random) -> Planted:
    """7-8 digits with no area code after a phone word, all but the last two hidden."""
    number = _digits(rng, rng.choice([7, 8]), "123456789")
    writer = _Writer(rng)
    writer.add(rng.choice(PHONE_WORDS) + rng.choice(_AFTER_PHONE_WORD))
    writer.digits(number, lambda i: i < len(number) - 2, groups(rng, len(number), ((4, 4), (3, 4))))
    return writer.planted("landline", number)


_ATS = (
    *("@", " @ ", "＠", " at ", " AT ", "(at)", " (at) ", "[at]", "【at】", "{at}", "<at>"),
    *("（at）", "(@)", "艾特", " 艾特 ", "#"),
)
_DOTS = (".", "．", " dot ", " DOT ", "(dot)", "[dot]", " [.] ", "点", " 点 ", "。", "{dot}")


def email(rng: random.Random) -> Planted:
    """An address with its "@" and dots written out or not; the local part but its first
    character hidden."""
    local = rng.choice(string.ascii_letters) + "".join(
        rng.choices(string.ascii_lowercase + string.digits + "._-", k=rng.randint(3, 11))
    )
    labels = [
        "".join(rng.choices(string.ascii_lowercase + string.digits, k=rng.randint(1, 8)))
        for _ in range(rng.randint(1, 2))
    ]
    labels.append("".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 4))))
    written = local + rng.choice(_ATS) + labels[0]
    for label in labels[1:]:
        written += rng.choice(_DOTS) + label
    return Planted("email", written, frozenset(range(1, len(local))), local)


WRITERS: dict[str, Callable[[random.Random], Planted]] = {
    "id_number": id_number,
    "first_generation_id_number": first_generation_id_number,
    "mobile": mobile,
    "landline": landline,
    "bank_card": bank_card,
    "local_number": local_number,
    "email": email,
}


def any_form(rng: random.Random) -> Planted:
    return rng.choice(list(WRITERS.values()))(rng)


def identifying_runs(masked: str) -> str:
    """``masked`` folded and without separators or brackets: an identifying run of digits
    that survived in any grouping shows here as a substring."""
    return _SEPARATING.sub("", masked.translate(FOLD))
