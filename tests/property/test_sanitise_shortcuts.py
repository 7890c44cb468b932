"""DESIGN decision 4, kept while made cheaper: the sanitiser decides some texts hold nothing
without running its detectors (fewer than ten digits, no phone word before seven of them and
no way of writing "@", or one valid credit code and nothing else). These tests show the
shortcut never spares a text in which the full scan finds anything, so ``mask`` answers
exactly as it would without the shortcut.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.sanitise import _FOLD, _nothing_to_find, _scan, find_personal_data, mask
from domain.identifiers import CREDIT_CODE_ALPHABET, credit_code_check_char, is_valid_citizen_id

# Digits (ASCII, full-width, Arabic-Indic), every separator and prefix the detectors know,
# "@" and the letters of e-mail addresses and extensions, and some Chinese: dense enough that
# short texts often sit right at the shortcut's threshold of digits.
ALPHABET = "0123456789０１２３４５６７８９٣ -－()（）[]【】+＋@＠._·—转分机ext#xX测试号路点。"
DIGITS = "0123456789"
# Whole words, so that phone words and spelled-out "@" and dots turn up next to numbers.
WORDS = (
    *("电话", "值班", "手机", "Tel", "tel:", "call ", "Hotel", "：", "号码", "（座机）", "、"),
    *(" at ", "(at)", "[at]", "艾特", "#", "@", " dot ", "(dot)", "点", "。", ".", "com", "cn"),
    *("zhang", "a", " ", "-", "(", ")", "+86", "0", "1", "12", "123", "1234", "5678", "X"),
)


def _agrees(text: str) -> None:
    folded = text.translate(_FOLD)
    if _nothing_to_find(folded):
        assert _scan(folded) == [], text


@settings(max_examples=3000)
@given(st.text(alphabet=ALPHABET, max_size=30))
def test_decision4_shortcut_never_spares_a_text_the_full_scan_flags(text: str) -> None:
    _agrees(text)


@settings(max_examples=1000)
@given(st.text(max_size=40))
def test_decision4_shortcut_agrees_on_arbitrary_unicode(text: str) -> None:
    _agrees(text)


@settings(max_examples=2000)
@given(
    st.lists(st.sampled_from(DIGITS), min_size=8, max_size=12).map("".join),
    st.sampled_from(["", "0", "01", "010", "(010)", "+86", "0086 ", "0371-", "(0371) "]),
    st.sampled_from(["", " ", "-", "转", "ext", "#"]),
)
def test_decision4_shortcut_agrees_on_numbers_at_the_threshold(
    number: str, prefix: str, separator: str
) -> None:
    """Phone-like runs of 8-12 digits with every prefix: around the fewest digits a landline
    can have (three of the area code and seven of the number)."""
    _agrees(prefix + number)
    _agrees(prefix + number[:3] + separator + number[3:])
    _agrees(prefix + number[:4] + separator + number[4:])


@settings(max_examples=3000)
@given(st.lists(st.sampled_from(WORDS), max_size=12).map("".join))
def test_decision4_shortcut_agrees_near_phone_words_and_spelled_out_at_signs(text: str) -> None:
    _agrees(text)


@given(st.lists(st.sampled_from(CREDIT_CODE_ALPHABET), min_size=17, max_size=17).map("".join))
def test_decision4_a_valid_credit_code_alone_crosses_verbatim_with_or_without_the_scan(
    first17: str,
) -> None:
    code = first17 + credit_code_check_char(first17)
    _agrees(code)
    _agrees(code.lower())
    if not is_valid_citizen_id(code):  # a code that is also an ID number is masked
        assert mask(code) == code
        assert find_personal_data(code) == []


def test_decision4_the_shortest_landline_is_still_scanned_and_masked() -> None:
    # Ten digits: the shortcut's threshold. One digit fewer is no landline.
    assert mask("电话010-1234567") == "电话010-*****67"
    assert mask("电话(010)1234567") == "电话(010)*****67"
    assert mask("电话０１０－１２３４５６７") == "电话０１０－*****６７"
    assert mask("电话010-123456") == "电话010-123456"


def test_decision4_an_email_without_digits_is_still_scanned_and_masked() -> None:
    assert mask("邮箱 zhangwei@example.com") == "邮箱 z*******@example.com"
    assert mask("邮箱 zhangwei＠example.com") == "邮箱 z*******＠example.com"


def test_decision4_seven_digits_after_a_phone_word_are_still_scanned_and_masked() -> None:
    # Seven digits: below the threshold without a phone word, a local number after one.
    assert mask("值班电话：2345678") == "值班电话：*****78"
    assert mask("Tel 234 5678") == "Tel *** **78"
    assert mask("编号：2345678") == "编号：2345678"


def test_decision4_a_spelled_out_email_without_digits_or_at_sign_is_still_scanned() -> None:
    assert mask("邮箱 zhangwei at example dot com") == "邮箱 z******* at example dot com"
    assert mask("邮箱 zhangwei艾特example点com") == "邮箱 z*******艾特example点com"
