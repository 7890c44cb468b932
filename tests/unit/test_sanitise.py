"""DESIGN decision 4: free text crossing to the public side has its personal data masked."""

from __future__ import annotations

import pytest

from bridge.sanitise import Finding, find_personal_data, is_clean, mask
from domain.identifiers import (
    citizen_id_check_char,
    credit_code_check_char,
    is_valid_citizen_id,
    is_valid_credit_code,
)

REAL_ID_NUMBER = "11010519491231002X"
REAL_CREDIT_CODE = "91350100M000100Y43"


def _luhn_valid(digits: str) -> bool:
    # Written out here rather than imported, so the tests check the scanner's Luhn.
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _kinds(text: str) -> list[str]:
    return [finding.kind for finding in find_personal_data(text)]


# ID numbers (GB 11643)


def test_an_id_number_keeps_its_region_and_last_four_characters() -> None:
    assert mask(REAL_ID_NUMBER) == "110105********002X"
    assert find_personal_data(REAL_ID_NUMBER) == [Finding("id_number", 0, 18)]


def test_an_id_number_with_a_lower_case_check_x_is_still_an_id_number() -> None:
    assert mask("11010519491231002x") == "110105********002x"


def test_an_id_number_grouped_six_eight_four_is_masked_with_its_separators() -> None:
    assert mask("110105 19491231 002X") == "110105 ******** 002X"
    assert mask("110105-19491231-002X") == "110105-********-002X"


def test_an_id_number_with_a_wrong_check_digit_is_left_alone() -> None:
    wrong = "110105194912310029"  # the right check character is X
    assert not is_valid_citizen_id(wrong)
    assert not _luhn_valid(wrong)
    assert mask(f"身份证{wrong}") == f"身份证{wrong}"
    assert is_clean(wrong)


def test_an_id_number_with_a_wrong_check_digit_that_passes_luhn_is_masked_as_a_card() -> None:
    run = "110105194912310010"
    assert not is_valid_citizen_id(run)
    assert _luhn_valid(run)
    assert mask(run) == "**************0010"
    assert _kinds(run) == ["bank_card"]


def test_an_id_number_whose_birth_date_does_not_exist_is_left_alone() -> None:
    first17 = "11010519491332001"  # the 32nd day of the 13th month
    number = first17 + citizen_id_check_char(first17)
    assert not _luhn_valid(number)
    assert mask(number) == number


def test_a_valid_id_number_that_also_passes_luhn_is_masked_as_an_id_number() -> None:
    number = "110105194912310150"
    assert is_valid_citizen_id(number)
    assert _luhn_valid(number)
    assert mask(number) == "110105********0150"
    assert _kinds(number) == ["id_number"]


def test_the_digits_of_an_id_number_ending_in_x_are_not_read_as_a_card() -> None:
    number = "51766819870923000X"
    assert is_valid_citizen_id(number)
    assert _luhn_valid(number[:17])
    assert mask(number) == "517668********000X"
    assert _kinds(number) == ["id_number"]


# Mobile numbers: no checksum, so every mobile-shaped run is masked


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+8613812345678", "+86138****5678"),
        ("+86 138 1234 5678", "+86 138 **** 5678"),
        ("+86-138-1234-5678", "+86-138-****-5678"),
        ("0086 13912345678", "0086 139****5678"),
        ("138-1234-5678", "138-****-5678"),
        ("013812345678", "0138****5678"),
    ],
)
def test_a_mobile_number_keeps_its_prefix_its_first_three_and_last_four_digits(
    written: str, masked: str
) -> None:
    assert mask(written) == masked
    assert _kinds(written) == ["mobile"]


def test_a_mobile_whose_digits_with_the_0086_prefix_pass_luhn_is_masked_as_a_card_too() -> None:
    # "0086 13812345678" is also 15 digits passing Luhn: both readings are masked.
    assert mask("0086 13812345678") == "**** *******5678"
    assert _kinds("0086 13812345678") == ["bank_card"]


def test_a_mobile_number_in_full_width_digits_is_masked_in_the_original_characters() -> None:
    assert mask("电话：１３８１２３４５６７８。") == "电话：１３８****５６７８。"


def test_letters_next_to_a_mobile_number_do_not_shield_it() -> None:
    assert mask("Tel13812345678") == "Tel138****5678"
    assert mask("电话：**13812345678**") == "电话：**138****5678**"


def test_a_mobile_shaped_run_inside_a_longer_digit_run_is_not_masked_on_its_own() -> None:
    card = "6213812345678901232"  # 19 digits, Luhn-valid, "13812345678" inside
    assert _luhn_valid(card)
    assert mask(card) == "***************1232"
    assert _kinds(card) == ["bank_card"]
    # 21 digits fit no known number: a reference number, not a card or a phone.
    long_run = "120138123456789012345"
    assert mask(long_run) == long_run


def test_a_thirteen_digit_run_that_reads_as_86_and_a_mobile_and_passes_luhn_is_a_card() -> None:
    # Same span, two readings: the bank card is the more specific one and hides more.
    assert _luhn_valid("8613812345678")
    assert mask("8613812345678") == "*********5678"


# Landlines: the area code and the last two digits of the number stay


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("0371-67891234", "0371-******34"),
        ("010-12345678", "010-******78"),
        ("037167891234", "0371******34"),
        ("(0371)6789 1234", "(0371)**** **34"),
        ("（0371）67891234转801", "（0371）******34转801"),
        ("0371-67891234-8001", "0371-******34-8001"),
        ("+86 10 12345678", "+86 10 ******78"),
        ("0755 2345678", "0755 *****78"),
    ],
)
def test_a_landline_keeps_its_area_code_the_last_two_digits_and_its_extension(
    written: str, masked: str
) -> None:
    assert mask(written) == masked
    assert _kinds(written) == ["landline"]


# Bank cards: 13-19 digits passing Luhn; only the last four stay


def test_a_nineteen_digit_card_keeps_only_its_last_four_digits() -> None:
    assert mask("卡号6212261202011584340") == "卡号***************4340"


def test_a_card_grouped_in_fours_keeps_its_grouping_and_last_four_digits() -> None:
    assert mask("6222 0212 3456 7894") == "**** **** **** 7894"
    assert mask("6222-0212-3456-7894") == "****-****-****-7894"
    assert mask("6217 0012 3456 7890 122") == "**** **** **** ***0 122"


def test_a_phone_number_read_inside_a_grouped_card_is_masked_too() -> None:
    # "0201 1584 340" also reads as a Guangzhou landline: every reading is masked (the
    # union), so the card shows two digits fewer than its own rule would.
    assert mask("6212 2612 0201 1584 340") == "**** **** **** **** *40"
    assert _kinds("6212 2612 0201 1584 340") == ["bank_card"]


def test_a_grouped_card_followed_by_more_digits_is_still_found() -> None:
    # "6222 0212 3456 7894 501" as 19 digits fails Luhn; the first 16 still make a card.
    assert mask("6222 0212 3456 7894 501元") == "**** **** **** 7894 501元"


def test_a_digit_run_that_fails_luhn_is_no_card() -> None:
    assert mask("6222021234567895") == "6222021234567895"


def test_the_kept_end_of_a_masked_card_cannot_start_a_new_number() -> None:
    # "0535 1936197" reads as a landline only once the card before it is masked; mask
    # rescans its own output, hides it too, and reports one finding for both.
    text = "38150686200535 1936197"
    assert mask(text) == "**********0535 *****97"
    assert find_personal_data(text) == [Finding("bank_card", 0, 22)]


# E-mail addresses


def test_an_email_address_keeps_the_first_character_and_the_domain() -> None:
    assert mask("邮箱zhangwei@example.com。") == "邮箱z*******@example.com。"
    assert mask("ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ") == "ｚ****＠ｅｘａｍｐｌｅ．ｃｏｍ"


def test_a_one_character_local_part_is_hidden_entirely() -> None:
    assert mask("a@example.com") == "*@example.com"


def test_an_email_address_whose_local_part_is_a_mobile_is_one_email_finding() -> None:
    assert mask("13812345678@139.com") == "1**********@139.com"
    assert find_personal_data("13812345678@139.com") == [Finding("email", 0, 19)]


def test_a_mobile_written_as_an_email_domain_is_masked_too() -> None:
    assert mask("x@13812345678.com") == "*@138****5678.com"


# Unified social credit codes identify organisations and stay


def test_a_real_credit_code_is_preserved() -> None:
    text = f"统一社会信用代码：{REAL_CREDIT_CODE}"
    assert mask(text) == text
    assert is_clean(text)


def test_a_credit_code_holding_a_mobile_shaped_run_is_preserved() -> None:
    first17 = "YA13812345678BCDE"
    code = first17 + credit_code_check_char(first17)
    assert is_valid_credit_code(code)
    assert mask(f"代码{code}") == f"代码{code}"


def test_the_same_token_with_a_wrong_check_character_has_its_mobile_masked() -> None:
    first17 = "YA13812345678BCDE"
    wrong = first17 + ("0" if credit_code_check_char(first17) != "0" else "1")
    assert mask(wrong) == "YA138****5678BCDE" + wrong[-1]


def test_a_token_valid_as_both_credit_code_and_id_number_is_masked_as_an_id_number() -> None:
    token = "350102198001010492"
    assert is_valid_credit_code(token)
    assert is_valid_citizen_id(token)
    assert mask(token) == "350102********0492"
    assert _kinds(token) == ["id_number"]


# Whole sentences


def test_numbers_inside_a_chinese_sentence_are_found_and_masked() -> None:
    text = f"联系人张伟，电话13812345678，身份证{REAL_ID_NUMBER}，单位代码{REAL_CREDIT_CODE}。"
    assert mask(text) == (
        f"联系人张伟，电话138****5678，身份证110105********002X，单位代码{REAL_CREDIT_CODE}。"
    )
    assert find_personal_data(text) == [Finding("mobile", 8, 19), Finding("id_number", 23, 41)]


def test_masking_twice_changes_nothing_more() -> None:
    text = (
        "张伟 13812345678 / 0371-67891234 / 6222 0212 3456 7894 / "
        f"{REAL_ID_NUMBER} / zhangwei@example.com"
    )
    once = mask(text)
    assert once != text
    assert mask(once) == once
    assert is_clean(once)


def test_a_text_without_personal_data_is_returned_unchanged() -> None:
    text = "2024年5月6日，郑州市消防救援支队对某商场开展检查，发现问题3项，责令限期改正。"
    assert find_personal_data(text) == []
    assert mask(text) == text
    assert is_clean(text)
