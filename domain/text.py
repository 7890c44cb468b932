"""Free text that enters events: trimmed, bounded, and free of control characters.

A control character is never part of a name, address, reason or finding; a NUL would also be
refused by PostgreSQL's text columns and stop a read-model projector at that event for everyone.
"""

from __future__ import annotations

import unicodedata

from domain.errors import InvalidInput


def has_control_characters(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" for c in text)


def required_text(value: str, field: str, name_zh: str, max_length: int = 200) -> str:
    """One line of text: inner whitespace collapsed, non-empty, at most ``max_length``."""
    text = " ".join(value.split())
    if not text or len(text) > max_length:
        raise InvalidInput(
            f"{name_zh}不能为空且不超过 {max_length} 个字符",
            f"{field} is required and at most {max_length} characters",
            code="invalid_text",
            field=field,
        )
    if has_control_characters(text):
        raise InvalidInput(
            f"{name_zh}含有不可见的控制字符",
            f"{field} contains control characters",
            code="invalid_text",
            field=field,
        )
    return text
