"""DESIGN decision 4, issue 16: personal data is masked however people write it, and ordinary
numbers are not.

Hypothesis writes each kind in every grouping, separator, width and prefix
(tests/personal_data_forms.py) and puts it into random Chinese and ASCII text between
punctuation. After masking, every character the kind's rule hides is hidden, the run of digits
that identifies the person appears nowhere (separators and brackets taken out), and the
scanner finds nothing more. Dates, times, article and certificate numbers, receipt numbers,
amounts, short numbers and credit codes come through unchanged.
"""

from __future__ import annotations

import random
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.sanitise import find_personal_data, is_clean, mask
from domain.identifiers import (
    CREDIT_CODE_ALPHABET,
    credit_code_check_char,
    is_valid_citizen_id,
    is_valid_credit_code,
)
from tests.personal_data_forms import (
    Planted,
    any_form,
    bank_card,
    email,
    first_generation_id_number,
    id_number,
    identifying_runs,
    landline,
    local_number,
    mobile,
)

# Punctuation that ends a number, a local part or a domain: what stands around each value.
BOUNDARIES = "，。、；！？\n"
_cjk = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
# No digits and no "@": the filler holds nothing of its own to mask, whatever it spells.
filler = st.text(st.one_of(_cjk, st.sampled_from(string.ascii_letters + "，。：；（） -")))
boundaries = st.sampled_from(BOUNDARIES)
randoms = st.randoms(use_true_random=False)


def _embed(values: list[tuple[str, str, str]], tail: str) -> tuple[str, list[int]]:
    """(filler, boundary, value) pieces; the text and where each value starts."""
    text, starts = "", []
    for before, boundary, value in values:
        text += before + boundary
        starts.append(len(text))
        text += value + boundary
    return text + tail, starts


def _assert_masked(planted: list[Planted], before: list[str], tail: str, around: str) -> None:
    text, starts = _embed(
        [(f, around, p.written) for f, p in zip(before, planted, strict=True)], tail
    )
    masked = mask(text)
    assert len(masked) == len(text)
    for start, value in zip(starts, planted, strict=True):
        if is_valid_credit_code(value.written) and not is_valid_citizen_id(value.written):
            # 18 digits in one run that are a valid credit code: an organisation's code is
            # kept verbatim (docs/personal-data.md says so).
            assert masked[start : start + len(value.written)] == value.written
            continue
        assert all(masked[start + offset] == "*" for offset in value.hidden), (text, masked)
        if value.kind != "email":
            assert value.identifying not in identifying_runs(masked), (text, masked)
    assert find_personal_data(masked) == []
    assert mask(masked) == masked


one_form = given(randoms, filler, boundaries, filler)
forms = settings(max_examples=300, deadline=None)


@forms
@one_form
def test_first_generation_id_numbers_are_masked_in_every_form(
    rng: random.Random, before: str, around: str, tail: str
) -> None:
    _assert_masked([first_generation_id_number(rng)], [before], tail, around)


@forms
@one_form
def test_id_numbers_are_masked_in_every_grouping_with_the_x_attached_or_apart(
    rng: random.Random, before: str, around: str, tail: str
) -> None:
    _assert_masked([id_number(rng)], [before], tail, around)


@forms
@one_form
def test_mobile_numbers_are_masked_in_every_grouping_and_with_every_prefix(
    rng: random.Random, before: str, around: str, tail: str
) -> None:
    _assert_masked([mobile(rng)], [before], tail, around)


@forms
@one_form
def test_landlines_are_masked_with_the_area_code_apart_glued_bracketed_or_after_86(
    rng: random.Random, before: str, around: str, tail: str
) -> None:
    _assert_masked([landline(rng)], [before], tail, around)


@forms
@one_form
def test_bank_cards_are_masked_in_every_grouping(
    rng: random.Random, before: str, around: str, tail: str
) -> None:
    _assert_masked([bank_card(rng)], [before], tail, around)


@forms
@one_form
def test_local_numbers_after_a_phone_word_are_masked_without_an_area_code(
    rng: random.Random, before: str, around: str, tail: str
) -> None:
    _assert_masked([local_number(rng)], [before], tail, around)


@forms
@one_form
def test_spelled_out_email_addresses_are_masked(
    rng: random.Random, before: str, around: str, tail: str
) -> None:
    _assert_masked([email(rng)], [before], tail, around)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(randoms, filler), min_size=2, max_size=5), boundaries, filler)
def test_every_form_mixed_in_one_text_is_masked_and_leaves_nothing_to_find(
    pieces: list[tuple[random.Random, str]], around: str, tail: str
) -> None:
    _assert_masked([any_form(rng) for rng, _ in pieces], [f for _, f in pieces], tail, around)


# Ordinary numbers


def _credit_code(rng: random.Random) -> str:
    while True:
        first17 = "".join(rng.choices(CREDIT_CODE_ALPHABET, k=2)) + "".join(
            rng.choices(string.digits, k=6)
        )
        first17 += "".join(rng.choices(CREDIT_CODE_ALPHABET, k=9))
        code = first17 + credit_code_check_char(first17)
        if not is_valid_citizen_id(code):
            return code


def _ordinary(rng: random.Random) -> str:
    """A number that is nobody's personal data, as it is written in case texts."""
    year, month, day = rng.randint(1990, 2030), rng.randint(1, 12), rng.randint(1, 28)
    letters = "".join(rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZ", k=6))
    short = str(rng.randint(0, 999_999))
    return rng.choice(
        [
            f"{year}-{month:02d}-{day:02d}",
            f"{year}.{month:02d}.{day:02d}",
            f"{year}/{month}/{day}",
            f"{year}年{month}月{day}日",
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
            f"{rng.randint(0, 23)}时{rng.randint(0, 59)}分",
            f"郑金消竣备字〔{year}〕第{rng.randint(1, 9999):04d}号",
            f"郑金消检受字〔{year}〕第{rng.randint(1, 9999):04d}号",
            f"BA{year}{month:02d}{day:02d}{letters}",
            f"YY{year}{month:02d}{day:02d}{letters}",
            f"{rng.randint(1, 99_999):,}.{rng.randint(0, 99):02d}元",
            f"¥{rng.randint(1, 9_999_999)}",
            f"第{rng.randint(1, 20)}.{rng.randint(1, 9)}.{rng.randint(1, 9)}条",
            f"第{rng.randint(1, 200)}条",
            f"GB {rng.choice([50016, 50084, 50116, 55037])}-{rng.randint(2000, 2026)}",
            f"{rng.randint(1, 99)}.{rng.randint(0, 99)}%",
            short,
            _credit_code(rng),
        ]
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(randoms, filler), min_size=1, max_size=6), boundaries, filler)
def test_dates_times_certificate_receipt_article_numbers_amounts_and_codes_survive(
    pieces: list[tuple[random.Random, str]], around: str, tail: str
) -> None:
    text, _ = _embed([(f, around, _ordinary(rng)) for rng, f in pieces], tail)
    assert is_clean(text)
    assert mask(text) == text


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1990, 2030), st.integers(1, 12), st.integers(1, 28)), min_size=2
    ),
    st.lists(st.sampled_from([" ", "-", ".", " - ", "  ", "、", " 至 "]), min_size=1),
    st.sampled_from(["-", ".", "/"]),
    st.sampled_from(["", "值班：", "电话 ", "日期："]),
)
def test_dates_never_join_into_a_number_whatever_stands_between_them(
    dates: list[tuple[int, int, int]], gaps: list[str], separator: str, before: str
) -> None:
    """A date's month and day are two-digit groups, and only the last group of a grouped
    number may have fewer than three digits: dates side by side never read as a card, an ID
    number or a phone, even after a phone word."""
    written = [f"{y}{separator}{m:02d}{separator}{d:02d}" for y, m, d in dates]
    text = before + written[0]
    for index, date_written in enumerate(written[1:]):
        text += gaps[index % len(gaps)] + date_written
    assert mask(text) == text
