"""DESIGN decision 4, issue 16: personal data written the way people write it is masked —
first-generation ID numbers, numbers in any grouping, local numbers after a phone word,
spelled-out e-mail addresses — and ordinary numbers are not. (Hypothesis writes every form:
tests/property/test_sanitise_forms.py; these are the examples docs/personal-data.md shows.)
"""

from __future__ import annotations

import pytest

from bridge.sanitise import Finding, find_personal_data, mask


def _kinds(text: str) -> list[str]:
    return [finding.kind for finding in find_personal_data(text)]


# First-generation ID numbers: 15 digits, YYMMDD birth date, no check digit


def test_a_first_generation_id_number_keeps_its_region_and_last_three_digits() -> None:
    assert mask("身份证号110105491231123。") == "身份证号110105******123。"
    assert find_personal_data("110105491231123") == [Finding("id_number", 0, 15)]


def test_a_fifteen_digit_run_without_a_valid_birth_date_is_no_id_number() -> None:
    assert mask("编号110105491331123") == "编号110105491331123"  # month 13
    assert mask("编号110105490229123") == "编号110105490229123"  # 1949 had no 29 February


def test_a_first_generation_id_number_is_masked_in_groups_too() -> None:
    assert mask("110105 491231 123") == "110105 ****** 123"
    assert mask("110-105-491-231-123") == "110-105-***-***-123"


# ID numbers, mobiles, landlines and cards in any grouping


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("110105 1949 1231 002X", "110105 **** **** 002X"),
        ("1101 0519 4912 3100 2X", "1101 05** **** **00 2X"),
        ("11010519491231002 X", "110105********002 X"),
        ("110105.19491231.002x", "110105.********.002x"),
        ("110105－19491231－002Ｘ", "110105－********－002Ｘ"),
    ],
)
def test_id_numbers_are_masked_in_any_grouping_with_the_x_attached_or_apart(
    written: str, masked: str
) -> None:
    assert mask(written) == masked
    assert _kinds(written) == ["id_number"]


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("138.1234.5678", "138.****.5678"),
        ("138·1234·5678", "138·****·5678"),
        ("138 - 1234 - 5678", "138 - **** - 5678"),
        ("1381234 5678", "138**** 5678"),
        ("138-1234 5678", "138-**** 5678"),
        ("(+86) 138 1234 5678", "(+86) 138 **** 5678"),
        ("８６ １３８　１２３４　５６７８", "８６ １３８　****　５６７８"),
    ],
)
def test_mobile_numbers_are_masked_in_any_grouping_and_with_any_prefix(
    written: str, masked: str
) -> None:
    assert mask(written) == masked
    assert _kinds(written) == ["mobile"]


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("(0371) 6789-1234", "(0371) ****-**34"),
        ("[0371]67891234", "[0371]******34"),
        ("【0371】6789 1234", "【0371】**** **34"),
        ("0371—6789—1234", "0371—****—**34"),
        ("+86 (0)371 6789 1234", "+86 (0)371 **** **34"),
        ("0086-371-6789-5678", "0086-371-****-**78"),
        ("010 6789 1234 转 801", "010 **** **34 转 801"),
    ],
)
def test_landlines_are_masked_with_the_area_code_apart_bracketed_or_after_86(
    written: str, masked: str
) -> None:
    assert mask(written) == masked
    assert _kinds(written) == ["landline"]


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("62220212 34567894", "******** ****7894"),
        ("622202 1234567894", "****** ******7894"),
        ("6222.0212.3456.7894", "****.****.****.7894"),
        ("6222 0212-3456 7894", "**** ****-**** 7894"),
        ("６２２２　０２１２　３４５６　７８９４", "****　****　****　７８９４"),
    ],
)
def test_bank_cards_are_masked_in_any_grouping(written: str, masked: str) -> None:
    assert mask(written) == masked
    assert _kinds(written) == ["bank_card"]


def test_an_all_digit_credit_code_that_runs_on_into_a_longer_card_is_masked() -> None:
    # "860840328409528780" alone is a valid credit code and is kept; with "-6" it is the
    # first 18 digits of a 19-digit card.
    assert mask("860840328409528780") == "860840328409528780"
    assert mask("860840328409528780-6") == "***************780-6"


# Local numbers: no area code, after a phone word


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("电话：6789 1234", "电话：**** **34"),
        ("值班电话2345678", "值班电话*****78"),
        ("联系电话（座机）：6789-1234、6789-5678", "联系电话（座机）：****-**34、****-**78"),
        ("电话：0371-6789 1234、6789 5678", "电话：0371-**** **34、**** **78"),
        ("手机号码：138 1234 5678", "手机号码：138 **** 5678"),
        ("Tel. 6789 1234", "Tel. **** **34"),
        ("call 6789 1234 or 2345 6789", "call **** **34 or **** **89"),
    ],
)
def test_local_numbers_after_a_phone_word_are_masked_without_an_area_code(
    written: str, masked: str
) -> None:
    assert mask(written) == masked


def test_seven_or_eight_digits_without_a_phone_word_are_left_alone() -> None:
    for text in ("编号：6789 1234", "共计 2345678 元", "Hotel 6789 1234"):
        assert mask(text) == text


# E-mail addresses spelled out


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("zhangsan at example dot com", "z******* at example dot com"),
        ("zhangsan AT example DOT com", "z******* AT example DOT com"),
        ("zhangsan(at)example.com", "z*******(at)example.com"),
        ("zhangsan [at] example [dot] com", "z******* [at] example [dot] com"),
        ("zhangsan【at】example.com", "z*******【at】example.com"),
        ("zhangsan#example.com", "z*******#example.com"),
        ("zhangsan # example.com", "z******* # example.com"),
        ("zhangsan艾特example点com", "z*******艾特example点com"),
        ("zhangsan @ qq。com", "z******* @ qq。com"),
    ],
)
def test_spelled_out_email_addresses_are_masked(written: str, masked: str) -> None:
    assert mask(written) == masked
    assert _kinds(written) == ["email"]


# Ordinary numbers stay


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-05",
        "2026.12.05 - 2027.01.05",
        "2026-12-05 2027-01-05 2027-02-05",
        "值班：2026-12-05",
        "郑金消竣备字〔2026〕第0001号",
        "受理编号BA20261205ABCDEF、YY20261205KLMNPQ",
        "罚款 12,345.67元，合计 1234.56元",
        "依据GB 50016-2014第5.5.17条、第3.2.1条",
        "14:30 至 17时30分",
        "3#楼、12#楼，共 96119 人次",
        "统一社会信用代码 91350100M000100Y43",
    ],
)
def test_dates_certificates_receipts_amounts_articles_and_times_are_left_alone(text: str) -> None:
    assert find_personal_data(text) == []
    assert mask(text) == text
