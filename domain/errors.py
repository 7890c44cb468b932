"""Domain errors: every refusal carries a stable code and a message in Chinese and English.

The HTTP layer maps the error class to a status (DESIGN.md decision 9); the domain never
knows about HTTP.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every refusal the domain makes. Nothing has changed when it is raised."""

    code = "domain_error"

    def __init__(
        self,
        message_zh: str,
        message_en: str,
        *,
        code: str | None = None,
        field: str | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en
        if code is not None:
            self.code = code
        self.field = field
        self.details = details


class InvalidInput(DomainError):
    """A value that breaks a rule (a wrong check character, an unknown district, ...)."""

    code = "invalid_input"


class IllegalTransition(DomainError):
    """A command that the case's current state does not allow."""

    code = "illegal_transition"


class NotPermitted(DomainError):
    """The actor's role does not allow the command."""

    code = "not_permitted"


class OutsideJurisdiction(NotPermitted):
    """The actor's agency may not act on this case."""

    code = "outside_jurisdiction"


class NotFound(DomainError):
    code = "not_found"


class Gone(DomainError):
    """What was asked for existed but is gone for good (a person's erased document)."""

    code = "gone"


class ConcurrentChange(DomainError):
    """Someone else changed the case between our read and our write: retry."""

    code = "concurrent_change"


class StaleVersion(ConcurrentChange):
    """The version the client read (If-Match) is no longer the case's: it must reload first."""


class AuthenticationFailed(DomainError):
    code = "authentication_failed"
