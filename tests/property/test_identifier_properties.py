"""The check-character property of GB 32100-2015 and GB 11643-1999.

Both checks are weighted sums modulo a prime (31 and 11) with no weight divisible by it,
and the map from sum to check character is one-to-one. Substituting one character changes
the sum by weight * (difference of values); both factors are nonzero and smaller than the
prime, so the sum changes and the check no longer matches. That holds for every one of the
18 positions, which these properties confirm; the check character itself is just as
covered, because it is determined by the other 17.
"""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from domain.identifiers import (
    CREDIT_CODE_ALPHABET,
    citizen_id_check_char,
    credit_code_check_char,
    is_valid_citizen_id,
    is_valid_credit_code,
)

# The day the checks are made on: the test's own, never the machine's.
TODAY = date(2026, 11, 24)
_code_chars = st.sampled_from(CREDIT_CODE_ALPHABET)
_digits = st.sampled_from("0123456789")

credit_code_prefixes = st.builds(
    lambda head, division, org: head + division + org,
    st.text(_code_chars, min_size=2, max_size=2),
    st.text(_digits, min_size=6, max_size=6),
    st.text(_code_chars, min_size=9, max_size=9),
)

citizen_id_prefixes = st.builds(
    lambda area, born, sequence: f"{area}{born:%Y%m%d}{sequence}",
    st.text(_digits, min_size=6, max_size=6),
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.text(_digits, min_size=3, max_size=3),
)


@given(credit_code_prefixes)
def test_any_well_formed_credit_code_prefix_with_its_check_character_is_valid(
    first17: str,
) -> None:
    assert is_valid_credit_code(first17 + credit_code_check_char(first17))


@given(credit_code_prefixes, st.integers(min_value=0, max_value=17), st.data())
def test_replacing_any_one_credit_code_character_invalidates_the_code(
    first17: str, position: int, data: st.DataObject
) -> None:
    code = first17 + credit_code_check_char(first17)
    replacement = data.draw(st.sampled_from(CREDIT_CODE_ALPHABET.replace(code[position], "")))
    changed = code[:position] + replacement + code[position + 1 :]
    # The check alone refuses it, even where the format (letters in 3-8) would not.
    assert credit_code_check_char(changed[:17]) != changed[17]
    assert not is_valid_credit_code(changed)


@given(citizen_id_prefixes)
def test_any_id_number_prefix_with_a_real_birth_date_and_its_check_character_is_valid(
    first17: str,
) -> None:
    assert is_valid_citizen_id(first17 + citizen_id_check_char(first17), today=TODAY)


@given(citizen_id_prefixes, st.integers(min_value=0, max_value=17), st.data())
def test_replacing_any_one_id_number_digit_by_another_invalidates_the_number(
    first17: str, position: int, data: st.DataObject
) -> None:
    number = first17 + citizen_id_check_char(first17)
    alternatives = "0123456789X" if position == 17 else "0123456789"
    replacement = data.draw(st.sampled_from(alternatives.replace(number[position], "")))
    changed = number[:position] + replacement + number[position + 1 :]
    # The check alone refuses it, even where the birth date stays a real date.
    assert citizen_id_check_char(changed[:17]) != changed[17]
    assert not is_valid_citizen_id(changed, today=TODAY)


def test_every_single_substitution_at_every_position_moves_both_checks() -> None:
    # Exhaustive, not sampled: the weighted sum is linear, so from an all-zero prefix every
    # nonzero value at a position covers every possible difference at that position.
    zeros = "0" * 17
    for position in range(17):
        for value in CREDIT_CODE_ALPHABET[1:]:
            changed = zeros[:position] + value + zeros[position + 1 :]
            assert credit_code_check_char(changed) != credit_code_check_char(zeros)
        for digit in "123456789":
            changed = zeros[:position] + digit + zeros[position + 1 :]
            assert citizen_id_check_char(changed) != citizen_id_check_char(zeros)


@given(
    st.one_of(
        credit_code_prefixes.map(lambda p: p + credit_code_check_char(p)),
        credit_code_prefixes.flatmap(lambda p: _code_chars.map(lambda c: p + c)),
        st.text(st.sampled_from(CREDIT_CODE_ALPHABET + "IOZSVabc- ０１"), max_size=20),
    )
)
def test_the_public_sides_credit_code_check_agrees_with_the_domains(code: str) -> None:
    """The public side checks GB 32100 without importing the domain (the import rules forbid
    it) so that a typing error is answered at once; its copy must never disagree."""
    from bridge.contract.intake import credit_code_problem

    assert (credit_code_problem(code) is None) == is_valid_credit_code(code)
