"""Credit codes (GB 32100-2015), citizen ID numbers (GB 11643-1999) and mobile numbers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.errors import InvalidInput
from domain.identifiers import (
    CREDIT_CODE_ALPHABET,
    citizen_id_check_char,
    credit_code_check_char,
    is_valid_citizen_id,
    is_valid_credit_code,
    normalise_mobile,
    validate_citizen_id,
    validate_credit_code,
    validate_mobile,
)

REAL_CREDIT_CODE = "91350100M000100Y43"
REAL_ID_NUMBER = "11010519491231002X"


def _id_number(born: date, area: str = "410105", sequence: str = "001") -> str:
    first17 = f"{area}{born:%Y%m%d}{sequence}"
    return first17 + citizen_id_check_char(first17)


def test_credit_code_alphabet_leaves_out_the_letters_that_look_like_digits() -> None:
    assert len(CREDIT_CODE_ALPHABET) == 31
    assert not set("IOZSV") & set(CREDIT_CODE_ALPHABET)


def test_a_real_credit_code_is_accepted() -> None:
    assert is_valid_credit_code(REAL_CREDIT_CODE)
    assert credit_code_check_char(REAL_CREDIT_CODE[:17]) == "3"


def test_credit_code_is_normalised_to_stripped_upper_case() -> None:
    assert validate_credit_code(f"  {REAL_CREDIT_CODE.lower()}\n") == REAL_CREDIT_CODE


def test_credit_code_typed_in_full_width_characters_is_accepted() -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in REAL_CREDIT_CODE)
    assert validate_credit_code(full_width) == REAL_CREDIT_CODE


def test_a_computed_credit_code_with_a_check_character_zero_is_accepted() -> None:
    # Find a prefix whose sum is 0 mod 31: the (31 - 0) % 31 case of the formula.
    for last in CREDIT_CODE_ALPHABET:
        first17 = "9141010" + "0" * 9 + last
        if credit_code_check_char(first17) == "0":
            assert is_valid_credit_code(first17 + "0")
            return
    pytest.fail("no prefix ending this way has check character 0")


def test_credit_code_with_wrong_check_character_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_credit_code(REAL_CREDIT_CODE[:17] + "4", field="builder_credit_code")
    error = caught.value
    assert error.code == "invalid_credit_code"
    assert error.field == "builder_credit_code"
    assert error.details["reason"] == "check_character"
    assert "builder_credit_code" in error.message_zh
    assert "校验码" in error.message_zh
    assert "check character" in error.message_en


@pytest.mark.parametrize(
    "value",
    [
        "",
        REAL_CREDIT_CODE[:17],  # too short
        REAL_CREDIT_CODE + "0",  # too long
        "91350100M000100I43",  # I is not in the alphabet
        "91350100M000100O43",  # nor O
        "913501A0M000100Y43",  # characters 3-8 are a division code: digits only
        "91350100M00010-Y43",
    ],
)
def test_credit_code_of_the_wrong_shape_is_refused_as_a_format_error(value: str) -> None:
    assert not is_valid_credit_code(value)
    with pytest.raises(InvalidInput) as caught:
        validate_credit_code(value)
    assert caught.value.code == "invalid_credit_code"
    assert caught.value.field == "credit_code"
    assert caught.value.details["reason"] == "format"
    assert "格式" in caught.value.message_zh


def test_credit_code_refusal_does_not_repeat_the_value() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_credit_code(REAL_CREDIT_CODE[:17] + "4")
    assert REAL_CREDIT_CODE[:17] not in caught.value.message_zh + caught.value.message_en


def test_check_character_functions_refuse_prefixes_they_cannot_weigh() -> None:
    with pytest.raises(ValueError, match="17"):
        credit_code_check_char("91350100M000100I4")
    with pytest.raises(ValueError, match="17"):
        citizen_id_check_char("1101051949123100")


def test_a_real_format_id_number_with_check_character_x_is_accepted() -> None:
    assert is_valid_citizen_id(REAL_ID_NUMBER)
    assert citizen_id_check_char(REAL_ID_NUMBER[:17]) == "X"


def test_id_number_with_lower_case_x_is_normalised_to_upper_case() -> None:
    assert validate_citizen_id(f" {REAL_ID_NUMBER.lower()} ") == REAL_ID_NUMBER


def test_id_number_with_wrong_check_character_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_citizen_id(REAL_ID_NUMBER[:17] + "1", field="legal_person_id")
    error = caught.value
    assert error.code == "invalid_id_number"
    assert error.field == "legal_person_id"
    assert error.details["reason"] == "check_character"
    assert "legal_person_id" in error.message_zh
    assert "校验码" in error.message_zh
    assert REAL_ID_NUMBER[:17] not in error.message_zh + error.message_en


@pytest.mark.parametrize(
    "value",
    ["", "11010519491231002", "11010519491231002XX", "1101051949123100AX", "X10105194912310021"],
)
def test_id_number_of_the_wrong_shape_is_refused_as_a_format_error(value: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_citizen_id(value)
    assert caught.value.code == "invalid_id_number"
    assert caught.value.field == "id_number"
    assert caught.value.details["reason"] == "format"


@pytest.mark.parametrize(
    "birth",
    ["20230230", "20231301", "20230000", "18991231"],
    ids=["february-30", "month-13", "month-0", "before-1900"],
)
def test_id_number_with_an_impossible_birth_date_is_refused_even_with_a_good_check(
    birth: str,
) -> None:
    first17 = f"410105{birth}001"
    value = first17 + citizen_id_check_char(first17)
    assert not is_valid_citizen_id(value)
    with pytest.raises(InvalidInput) as caught:
        validate_citizen_id(value)
    assert caught.value.details["reason"] == "birth_date"
    assert "出生日期" in caught.value.message_zh


def test_id_number_born_tomorrow_is_refused_and_born_today_is_accepted() -> None:
    today = date(2026, 11, 24)  # the test's own day, not the machine's
    tomorrow = _id_number(today + timedelta(days=1))
    assert not is_valid_citizen_id(tomorrow, today=today)
    assert is_valid_citizen_id(_id_number(today), today=today)
    assert is_valid_citizen_id(tomorrow, today=today + timedelta(days=1))
    with pytest.raises(InvalidInput) as caught:
        validate_citizen_id(tomorrow, today=today)
    assert caught.value.details["reason"] == "birth_date"


def test_id_number_born_on_the_first_day_of_1900_is_accepted() -> None:
    assert is_valid_citizen_id(_id_number(date(1900, 1, 1)))


def test_id_number_born_on_29_february_of_a_leap_year_is_accepted() -> None:
    assert is_valid_citizen_id(_id_number(date(2000, 2, 29)))


@pytest.mark.parametrize(
    "value",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+86 138 0013 8000",
        "+86-13800138000",
        "8613800138000",
        "0086 138 0013 8000",
        "１３８００１３８０００",  # full-width digits from a Chinese input method
    ],
)
def test_mobile_number_is_normalised_to_eleven_digits(value: str) -> None:
    assert normalise_mobile(value) == "13800138000"
    assert validate_mobile(value) == "13800138000"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "12800138000",  # 12 is not a mobile prefix
        "1380013800",  # ten digits
        "138001380001",  # twelve digits
        "+85 13800138000",
        "+8613800138000 1",
        "0371-60000100",  # an office phone is not a mobile
        "1380013800a",
    ],
)
def test_a_number_that_is_not_a_mainland_mobile_is_refused_naming_the_field(value: str) -> None:
    assert normalise_mobile(value) is None
    with pytest.raises(InvalidInput) as caught:
        validate_mobile(value, field="contact_phone")
    assert caught.value.code == "invalid_mobile"
    assert caught.value.field == "contact_phone"
    assert "contact_phone" in caught.value.message_zh
    assert "contact_phone" in caught.value.message_en


def test_a_citizen_id_number_is_never_taken_for_a_credit_code() -> None:
    """About one ID number in 60 also passes the GB 32100 check: it would be published."""
    from domain.errors import InvalidInput
    from domain.identifiers import is_valid_citizen_id, is_valid_credit_code, validate_credit_code

    both = "410105198402159189"
    assert is_valid_citizen_id(both)
    assert is_valid_credit_code(both)
    with pytest.raises(InvalidInput) as refused:
        validate_credit_code(both)
    assert refused.value.details["reason"] == "citizen_id_number"
