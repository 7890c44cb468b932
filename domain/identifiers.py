"""Identifiers with check characters: credit codes, citizen ID numbers, mobile numbers.

- Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters of a
  31-character alphabet, the last one a mod-31 check character.
- Citizen ID number (公民身份号码), GB 11643-1999: 17 digits and a mod-11 check character
  (0-9 or X); characters 7-14 are the birth date.
- Mainland mobile numbers: 11 digits starting with 1[3-9].

Refusals never repeat the value: an ID number is personal data and must not reach logs
through an error message.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from domain.errors import InvalidInput

# GB 32100-2015 table 1: the digits and the capitals without I, O, Z, S, V.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# 3**i mod 31: every weight is nonzero mod the prime 31, so any single substitution is caught.
_CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# Characters 3-8 are the administrative division code (GB/T 2260), always digits.
_CREDIT_CODE_FORMAT = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")

# 2**(17-i) mod 11 (ISO 7064 MOD 11-2).
_CITIZEN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CITIZEN_ID_CHECK = "10X98765432"
_CITIZEN_ID_FORMAT = re.compile(r"[0-9]{17}[0-9X]")
_EARLIEST_BIRTH_YEAR = 1900

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_MOBILE_SEPARATORS = re.compile(r"[\s\-]")


def _normalise(value: str) -> str:
    # NFKC folds the full-width digits and letters that Chinese input methods produce.
    return unicodedata.normalize("NFKC", value).strip().upper()


def credit_code_check_char(first17: str) -> str:
    """The 18th character of a credit code whose first 17 characters are ``first17``."""
    if len(first17) != 17 or any(c not in CREDIT_CODE_ALPHABET for c in first17):
        raise ValueError("a credit code check needs 17 characters of CREDIT_CODE_ALPHABET")
    total = sum(
        CREDIT_CODE_ALPHABET.index(c) * w
        for c, w in zip(first17, _CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def _credit_code_problem(code: str) -> str | None:
    if not _CREDIT_CODE_FORMAT.fullmatch(code):
        return "format"
    if credit_code_check_char(code[:17]) != code[17]:
        return "check_character"
    return None


def is_valid_credit_code(value: str) -> bool:
    return _credit_code_problem(_normalise(value)) is None


def validate_credit_code(value: str, field: str = "credit_code") -> str:
    """The code stripped and upper-cased, or InvalidInput(code="invalid_credit_code")."""
    code = _normalise(value)
    problem = _credit_code_problem(code)
    if problem == "format":
        raise InvalidInput(
            f"{field}：统一社会信用代码格式不正确（应为18位数字或大写字母，不含I、O、Z、S、V）",
            f"{field}: a unified social credit code is 18 digits or capital letters "
            "(no I, O, Z, S, V)",
            code="invalid_credit_code",
            field=field,
            reason=problem,
        )
    if problem == "check_character":
        raise InvalidInput(
            f"{field}：统一社会信用代码校验码不正确，请核对后重新填写",
            f"{field}: the check character of the unified social credit code is wrong; "
            "please check the code",
            code="invalid_credit_code",
            field=field,
            reason=problem,
        )
    if is_valid_citizen_id(code):
        # About one valid ID number in 60 also passes the GB 32100 check: a person's ID number
        # typed into the credit-code field would otherwise be published as an organisation's.
        raise InvalidInput(
            f"{field}：该号码是公民身份号码，不是统一社会信用代码；个人申请请勿填写身份证号",
            f"{field}: this is a citizen ID number, not a unified social credit code",
            code="invalid_credit_code",
            field=field,
            reason="citizen_id_number",
        )
    return code


def citizen_id_check_char(first17: str) -> str:
    """The 18th character of an ID number whose first 17 characters are ``first17``."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("a citizen ID check needs 17 ASCII digits")
    total = sum(int(c) * w for c, w in zip(first17, _CITIZEN_ID_WEIGHTS, strict=True))
    return _CITIZEN_ID_CHECK[total % 11]


def _birth_date(number: str, today: date | None) -> date | None:
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
    # ``today`` is the caller's clock (tests set it); the machine's date otherwise.
    if born.year < _EARLIEST_BIRTH_YEAR or born > (today or date.today()):
        return None
    return born


def _citizen_id_problem(number: str, today: date | None = None) -> str | None:
    if not _CITIZEN_ID_FORMAT.fullmatch(number):
        return "format"
    if _birth_date(number, today) is None:
        return "birth_date"
    if citizen_id_check_char(number[:17]) != number[17]:
        return "check_character"
    return None


def is_valid_citizen_id(value: str, today: date | None = None) -> bool:
    """A well-formed ID number with a real birth date not after ``today`` (default: the
    machine's date) and the right check character."""
    return _citizen_id_problem(_normalise(value), today) is None


def validate_citizen_id(value: str, field: str = "id_number", today: date | None = None) -> str:
    """The number stripped, with a lower-case x upper-cased, or InvalidInput."""
    number = _normalise(value)
    problem = _citizen_id_problem(number, today)
    if problem is None:
        return number
    zh, en = {
        "format": ("格式不正确（应为17位数字加1位数字或X）", "must be 17 digits and a digit or X"),
        "birth_date": ("出生日期不正确", "contains a birth date that does not exist"),
        "check_character": ("校验码不正确，请核对后重新填写", "has a wrong check character"),
    }[problem]
    raise InvalidInput(
        f"{field}：公民身份号码{zh}",
        f"{field}: the citizen ID number {en}",
        code="invalid_id_number",
        field=field,
        reason=problem,
    )


def normalise_mobile(value: str) -> str | None:
    """The 11 digits of a mainland mobile number, or None if ``value`` is not one."""
    digits = _MOBILE_SEPARATORS.sub("", unicodedata.normalize("NFKC", value))
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    return digits if _MOBILE.fullmatch(digits) else None


def validate_mobile(value: str, field: str = "phone") -> str:
    number = normalise_mobile(value)
    if number is None:
        raise InvalidInput(
            f"{field}：手机号码不正确（应为以13-19开头的11位号码）",
            f"{field}: a mobile number is 11 digits starting with 13 to 19",
            code="invalid_mobile",
            field=field,
        )
    return number
