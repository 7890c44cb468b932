"""DESIGN decision 4: no generated personal data survives masking; credit codes do.

Personal data (ID numbers with a valid check character and birth date, mobile numbers,
Luhn-valid cards, landlines, e-mail addresses) is put at random places into random Chinese
and ASCII text, always with a separator that is neither a digit nor a letter around it — a
digit right next to an inserted number would legitimately make a longer, different number.
After masking, every character the value's own rule hides is hidden (more may be: where
another reading of the same digits overlaps, both are masked), the value itself appears
nowhere, and the scanner finds nothing more. tests/property/test_sanitise_forms.py writes
every kind in every grouping, separator, width and prefix.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.sanitise import find_personal_data, is_clean, mask
from domain.identifiers import (
    CREDIT_CODE_ALPHABET,
    citizen_id_check_char,
    credit_code_check_char,
    is_valid_citizen_id,
)
from tests.personal_data_forms import luhn_check_digit

DIGITS = string.digits
PUNCTUATION = "，。、：；（）- "
SEPARATORS = "，。、：；（）\n"

# A value as written, and the same value as its masking rule writes it.
Planted = tuple[str, str]


def _group(number: str, separator: str) -> str:
    return separator.join(number[i : i + 4] for i in range(0, len(number), 4))


def id_number(area: str, born: date, sequence: str) -> Planted:
    first17 = f"{area}{born:%Y%m%d}{sequence}"
    number = first17 + citizen_id_check_char(first17)
    return number, number[:6] + "*" * 8 + number[14:]


def mobile(number: str, style: int) -> Planted:
    masked = number[:3] + "****" + number[7:]
    writers: list[Callable[[str], str]] = [
        lambda n: n,
        lambda n: "+86" + n,
        lambda n: f"+86 {n[:3]} {n[3:7]} {n[7:]}",
        lambda n: f"{n[:3]}-{n[3:7]}-{n[7:]}",
    ]
    write = writers[style % len(writers)]
    return write(number), write(masked)


def bank_card(body: str, grouped: bool) -> Planted:
    number = body + luhn_check_digit(body)
    masked = "*" * (len(number) - 4) + number[-4:]
    if grouped:
        return _group(number, " "), _group(masked, " ")
    return number, masked


def landline(area: str, number: str) -> Planted:
    return f"{area}-{number}", f"{area}-{'*' * (len(number) - 2)}{number[-2:]}"


def email(local: str, domain: str) -> Planted:
    return f"{local}@{domain}", f"{local[0]}{'*' * (len(local) - 1)}@{domain}"


def credit_code(head: str, division: str, organisation: str) -> str:
    first17 = head + division + organisation
    return first17 + credit_code_check_char(first17)


# Hypothesis strategies

_digits = st.sampled_from(DIGITS)
_cjk = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
_filler = st.text(st.one_of(_cjk, st.sampled_from(string.ascii_letters + PUNCTUATION)))

id_numbers = st.builds(
    id_number,
    st.text(_digits, min_size=6, max_size=6),
    st.dates(min_value=date(1930, 1, 1), max_value=date(2020, 12, 31)),
    st.text(_digits, min_size=3, max_size=3),
)
mobiles = st.builds(
    mobile,
    st.builds(
        lambda second, rest: f"1{second}{rest}",
        st.sampled_from("3456789"),
        st.text(_digits, min_size=9, max_size=9),
    ),
    st.integers(min_value=0, max_value=3),
)
bank_cards = st.builds(
    bank_card,
    st.sampled_from([15, 18]).flatmap(lambda n: st.text(_digits, min_size=n, max_size=n)),
    st.booleans(),
)
personal_values = st.one_of(id_numbers, mobiles, bank_cards)
credit_codes = st.builds(
    credit_code,
    st.text(st.sampled_from(CREDIT_CODE_ALPHABET), min_size=2, max_size=2),
    st.text(_digits, min_size=6, max_size=6),
    st.text(st.sampled_from(CREDIT_CODE_ALPHABET), min_size=9, max_size=9),
)


def _hides_at_least(shown: str, rule: str) -> bool:
    """Every character that the value's own rule hides is hidden in ``shown``; the others are
    unchanged or hidden too (another reading of the same digits may hide more)."""
    return all(s == "*" for s, r in zip(shown, rule, strict=True) if r == "*")


def _plant(pieces: list[tuple[str, str, str]], tail: str) -> tuple[str, list[tuple[int, str]]]:
    """Text of (filler, value, separator) pieces, and where each value starts."""
    text, starts = "", []
    for filler, value, separator in pieces:
        text += filler + separator
        starts.append((len(text), value))
        text += value + separator
    return text + tail, starts


_separators = st.sampled_from(SEPARATORS)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_filler, personal_values, _separators), min_size=1, max_size=4), _filler)
def test_planted_personal_data_is_masked_by_its_rule_and_leaves_nothing_to_find(
    planted: list[tuple[str, Planted, str]], tail: str
) -> None:
    text, starts = _plant([(f, value, s) for f, (value, _), s in planted], tail)
    masked = mask(text)
    for (start, value), (_, (_, expected), _) in zip(starts, planted, strict=True):
        assert _hides_at_least(masked[start : start + len(value)], expected)
        assert value not in masked
    assert find_personal_data(masked) == []


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(_filler, credit_codes, _separators), min_size=1, max_size=3),
    personal_values,
    _filler,
)
def test_planted_credit_codes_survive_masking_verbatim(
    codes: list[tuple[str, str, str]], personal: Planted, tail: str
) -> None:
    text, starts = _plant([*codes, ("联系电话", personal[0], "，")], tail)
    masked = mask(text)
    for start, code in starts[:-1]:
        if is_valid_citizen_id(code):  # privacy first: an ID number in any other role
            assert masked[start : start + 18] != code
        else:
            assert masked[start : start + 18] == code
    personal_start = starts[-1][0]
    assert _hides_at_least(masked[personal_start : personal_start + len(personal[0])], personal[1])


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(DIGITS * 4 + " -+@.()xXa*，１３８")))
def test_masking_is_idempotent_and_changes_only_characters_inside_findings(text: str) -> None:
    masked = mask(text)
    assert mask(masked) == masked
    assert is_clean(masked)
    assert len(masked) == len(text)
    inside = {i for f in find_personal_data(text) for i in range(f.start, f.end)}
    assert all(masked[i] == text[i] for i in range(len(text)) if i not in inside)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_without_findings_is_returned_unchanged(text: str) -> None:
    if is_clean(text):
        assert find_personal_data(text) == []
        assert mask(text) == text
    else:
        assert mask(text) != text


@settings(max_examples=100, deadline=None)
@given(_filler)
def test_text_without_digits_or_at_signs_is_clean(text: str) -> None:
    assert is_clean(text)
    assert mask(text) == text


# The bulk check: 10,000 generated texts, as many as the generated internal events.


def _random_planted(rng: random.Random) -> Planted:
    kind = rng.randrange(5)
    if kind == 0:
        born = date(1930, 1, 1) + timedelta(days=rng.randrange(91 * 365))
        area = "".join(rng.choices(DIGITS, k=6))
        return id_number(area, born, "".join(rng.choices(DIGITS, k=3)))
    if kind == 1:
        number = "1" + rng.choice("3456789") + "".join(rng.choices(DIGITS, k=9))
        return mobile(number, rng.randrange(4))
    if kind == 2:
        body = "".join(rng.choices(DIGITS, k=rng.choice([15, 18])))
        return bank_card(body, rng.random() < 0.3)
    if kind == 3:
        area = rng.choice(["010", "021", "0371", "0755", "0591"])
        number = rng.choice("23456789") + "".join(rng.choices(DIGITS, k=rng.choice([6, 7])))
        return landline(area, number)
    local = "".join(rng.choices(string.ascii_lowercase + DIGITS + "._", k=rng.randint(2, 12)))
    return email(rng.choice(string.ascii_lowercase) + local, rng.choice(["qq.com", "gov.cn"]))


def _random_filler(rng: random.Random) -> str:
    # Digits in the filler too: numbers that are no personal data, right up to a separator.
    alphabet = string.ascii_letters + PUNCTUATION + DIGITS
    return "".join(
        chr(rng.randint(0x4E00, 0x9FA5)) if rng.random() < 0.6 else rng.choice(alphabet)
        for _ in range(rng.randint(0, 12))
    )


def test_ten_thousand_generated_texts_leak_no_personal_data() -> None:
    rng = random.Random(20240506)
    for _ in range(10_000):
        planted = [_random_planted(rng) for _ in range(rng.randint(1, 3))]
        codes = [
            credit_code(
                "".join(rng.choices(CREDIT_CODE_ALPHABET, k=2)),
                "".join(rng.choices(DIGITS, k=6)),
                "".join(rng.choices(CREDIT_CODE_ALPHABET, k=9)),
            )
            for _ in range(rng.randint(0, 1))
        ]
        values = [value for value, _ in planted] + codes
        rng.shuffle(values)
        text, starts = _plant(
            [(_random_filler(rng), value, rng.choice(SEPARATORS + " -")) for value in values],
            _random_filler(rng),
        )
        masked = mask(text)
        rules = dict(planted)
        for start, value in starts:
            shown = masked[start : start + len(value)]
            if value in codes:
                assert shown == value
                continue
            # Filler digits may join a value into a longer finding, which can hide more
            # than the value's own rule, never less.
            assert _hides_at_least(shown, rules[value])
            assert value not in masked
        assert find_personal_data(masked) == []
