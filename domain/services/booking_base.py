"""What every booking command shares: loading and authorising (domain.services.bookings), the
half-day capacity, and the checks against the platform's own records — the certificate a
booking rests on (Art. 13) and the handlers a head assigns (Art. 16)."""

from __future__ import annotations

import contextlib
from datetime import date, datetime
from uuid import UUID

from domain.actor import Actor, Role
from domain.application import Context
from domain.booking import Booking
from domain.certificate_index import CertificateIndex
from domain.errors import InvalidInput, NotFound, StaleVersion
from domain.filing import Filing, FilingKind, FilingStatus
from domain.numbering import natural_id
from domain.permissions import Command, authorize
from domain.services.filings import filing_id
from domain.staff import StaffAccount

DEFAULT_INSPECTIONS_PER_HALF_DAY = 4


def booking_id(receipt_number: str) -> UUID:
    return natural_id("booking", receipt_number)


def parse_day(value: date | str, field: str) -> date:
    """A calendar date, given as a date or as ISO text (YYYY-MM-DD); never a moment."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    day = None
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            day = date.fromisoformat(value)
    if day is None or day.isoformat() != value:
        raise InvalidInput(
            "日期格式应为 YYYY-MM-DD",
            f"{field} must be a date (YYYY-MM-DD)",
            code="invalid_date",
            field=field,
        )
    return day


def _refused(zh: str, en: str, code: str, field: str = "basis") -> InvalidInput:
    return InvalidInput(zh, en, code=code, field=field)


def platform_certificate(ctx: Context, number: str, credit_code: str, project_name: str) -> str:
    """The receipt number of the completion filing whose certificate is ``number``, once the
    certificate is in force and was issued to this organisation for this project."""
    try:
        entry = ctx.load(CertificateIndex, CertificateIndex.create_id(number), "凭证", "cert")
    except NotFound:
        raise _refused(
            f"本平台没有出具编号为 {number} 的备案凭证",
            f"no certificate numbered {number} was issued on this platform",
            "unknown_certificate",
        ) from None
    filing = ctx.load(Filing, filing_id(entry.filing_receipt_number), "备案", "filing")
    if filing.kind is not FilingKind.COMPLETION:
        raise _refused(
            f"{number} 不是竣工验收消防备案凭证",
            f"{number} is not a completion filing certificate",
            "not_a_completion_certificate",
        )
    if filing.status is FilingStatus.CERTIFICATE_REVOKED:
        raise _refused(
            f"备案凭证 {number} 已被撤销",
            f"certificate {number} was revoked",
            "certificate_revoked",
        )
    if (filing.credit_code, filing.project_name) != (credit_code, project_name):
        raise _refused(
            f"备案凭证 {number} 的建设单位或工程名称与预约不符",
            f"certificate {number} was issued to another organisation or project",
            "certificate_mismatch",
        )
    return filing.receipt_number


def check_handler(ctx: Context, account_id: str, agency: str, field: str) -> None:
    """``account_id`` is a handler's account in ``agency``."""
    try:
        account = ctx.load(StaffAccount, UUID(account_id), "账号", "account")
    except (ValueError, NotFound):
        raise _refused(
            "所指派的人员账号不存在", f"{field}: no such account", "unknown_handler", field
        ) from None
    if Role.HANDLER not in account.roles:
        raise _refused(
            f"{account.display_name} 不是承办人",
            f"{field}: {account.username} is not a handler",
            "not_a_handler",
            field,
        )
    if account.agency != agency:
        raise _refused(
            f"{account.display_name} 不属于承办该预约的机构",
            f"{field}: {account.username} belongs to another agency",
            "handler_of_another_agency",
            field,
        )


class BookingServiceBase:
    def __init__(
        self, context: Context, inspections_per_half_day: int = DEFAULT_INSPECTIONS_PER_HALF_DAY
    ) -> None:
        self.ctx = context
        self.inspections_per_half_day = inspections_per_half_day  # unless the agency sets its own

    def load(self, receipt_number: str) -> Booking:
        return self.ctx.load(Booking, booking_id(receipt_number), "预约", "booking")

    def capacity(self, agency: str) -> int:
        """How many inspections ``agency`` carries out per half day."""
        own = self.ctx.agencies.get(agency).inspections_per_half_day
        return own if own is not None else self.inspections_per_half_day

    def _act(
        self, actor: Actor, command: Command, receipt_number: str, expected_version: int | None
    ) -> Booking:
        """The booking, once the actor may act on it and it is still at ``expected_version``
        (authorised first, as for filings: a stale version tells outsiders nothing)."""
        booking = self.load(receipt_number)
        authorize(actor, command, self.ctx.agencies, booking.agency)
        if expected_version is not None and booking.version != expected_version:
            raise StaleVersion(
                "该预约已被他人修改，请刷新后重试",
                "the booking changed since you read it; reload and retry",
                retry=True,
            )
        return booking
