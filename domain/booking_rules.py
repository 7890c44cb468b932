"""The vocabulary of bookings of on-site inspections (网上预约, RULES.md Art. 11-16): kinds,
the basis a booking rests on, routes, statuses, half-day slots, and the checks of the form that
need nothing but the values themselves.

Art. 13: each kind rests on its own document — the pre-opening inspection on the receipt for a
fire safety inspection application, the fire acceptance inspection on the acceptance receipt,
the spot check on the completion filing certificate. Only the completion filing certificate can
have been issued on this platform; the others are uploaded scans the window checks.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from enum import StrEnum
from typing import TypedDict, TypeVar

from domain.calendar import NOON, SHANGHAI
from domain.errors import InvalidInput
from domain.text import required_text


class BookingKind(StrEnum):
    PRE_OPENING = "pre_opening"  # 公众聚集场所投入使用、营业前消防安全检查
    FIRE_ACCEPTANCE = "fire_acceptance"  # 消防验收现场检查
    COMPLETION_SPOT_CHECK = "completion_spot_check"  # 竣工验收消防备案抽查现场检查


BOOKING_KIND_NAMES_ZH = {
    BookingKind.PRE_OPENING: "公众聚集场所投入使用、营业前消防安全检查",
    BookingKind.FIRE_ACCEPTANCE: "消防验收现场检查",
    BookingKind.COMPLETION_SPOT_CHECK: "竣工验收消防备案抽查现场检查",
}


class BasisKind(StrEnum):
    ACCEPTANCE_RECEIPT = "acceptance_receipt"  # 建设工程消防验收申请受理凭证
    COMPLETION_CERTIFICATE = "completion_certificate"  # 竣工验收消防备案凭证
    INSPECTION_RECEIPT = "inspection_receipt"  # 消防安全检查申请受理凭证


BASIS_NAMES_ZH = {
    BasisKind.ACCEPTANCE_RECEIPT: "建设工程消防验收申请受理凭证",
    BasisKind.COMPLETION_CERTIFICATE: "竣工验收消防备案凭证",
    BasisKind.INSPECTION_RECEIPT: "消防安全检查申请受理凭证",
}
BASIS_FOR_KIND = {
    BookingKind.PRE_OPENING: BasisKind.INSPECTION_RECEIPT,
    BookingKind.FIRE_ACCEPTANCE: BasisKind.ACCEPTANCE_RECEIPT,
    BookingKind.COMPLETION_SPOT_CHECK: BasisKind.COMPLETION_CERTIFICATE,
}
# The only documents of Art. 13 that this platform issues itself.
ISSUED_ON_PLATFORM = frozenset({BasisKind.COMPLETION_CERTIFICATE})


class Route(StrEnum):
    ORDINARY = "ordinary"  # 一般程序: inspection within 10 working days of acceptance
    NOTICE_COMMITMENT = "notice_commitment"  # 告知承诺: permit on the spot, check within 20


class Half(StrEnum):
    AM = "am"  # 上午
    PM = "pm"  # 下午


HALF_STARTS = {Half.AM: time(0), Half.PM: NOON}


class BookingStatus(StrEnum):
    RECEIVED = "received"  # 已接收，待窗口审查
    REJECTED = "rejected"  # 不属本机构受理范围，已告知有管辖权机构
    FORWARDED = "forwarded"  # 已转交，待指派
    ASSIGNED = "assigned"  # 已指派，待回复
    SLOT_OFFERED = "slot_offered"  # 已回复检查时间，待申请人确认
    REFUSED = "refused"  # 已回复不予安排检查
    SCHEDULED = "scheduled"  # 检查时间已确认，待检查
    CANCELLED = "cancelled"  # 申请人已取消
    INSPECTED = "inspected"  # 已检查


BOOKING_STATUS_NAMES_ZH = {
    BookingStatus.RECEIVED: "已接收，待窗口审查",
    BookingStatus.REJECTED: "不属本机构受理范围（已告知有管辖权机构）",
    BookingStatus.FORWARDED: "已转交，待指派承办人",
    BookingStatus.ASSIGNED: "已指派，待回复",
    BookingStatus.SLOT_OFFERED: "已回复检查时间，待申请人确认",
    BookingStatus.REFUSED: "已回复不予安排检查",
    BookingStatus.SCHEDULED: "检查时间已确认，待检查",
    BookingStatus.CANCELLED: "申请人已取消",
    BookingStatus.INSPECTED: "已检查",
}
# Ended: no deadline runs any more (the calendar coverage job looks at the others only).
CLOSED = frozenset(
    {
        BookingStatus.REJECTED,
        BookingStatus.REFUSED,
        BookingStatus.CANCELLED,
        BookingStatus.INSPECTED,
    }
)
# Before the reply: the head may still (re)assign the handlers.
BEFORE_REPLY = frozenset({BookingStatus.FORWARDED, BookingStatus.ASSIGNED})
# The applicant may cancel until the inspection (and not after it began, see Booking.cancel).
CANCELLABLE = frozenset(
    {
        BookingStatus.RECEIVED,
        BookingStatus.FORWARDED,
        BookingStatus.ASSIGNED,
        BookingStatus.SLOT_OFFERED,
        BookingStatus.SCHEDULED,
    }
)


class Basis(TypedDict):
    """The document a booking rests on (Art. 13)."""

    kind: str
    number: str
    on_platform: bool  # issued here: checked against the platform's own records
    document: str  # the uploaded scan, "sha256:<hex>"; "" when on_platform
    filing_receipt_number: str  # the filing holding an on-platform certificate; "" otherwise


E = TypeVar("E", bound=StrEnum)
_DOCUMENT = re.compile(r"sha256:[0-9a-f]{64}")


def check_document_reference(value: str, field: str) -> str:
    """An uploaded document's reference: its content hash, as the upload store names it."""
    if not isinstance(value, str) or not _DOCUMENT.fullmatch(value):
        raise InvalidInput(
            "未引用已上传的文件（应为 sha256:<64 位十六进制>）",
            f"{field} must reference an uploaded document (sha256:<64 hex digits>)",
            code="invalid_document_reference",
            field=field,
        )
    return value


def parse_choice(enum: type[E], value: str, field: str, names_zh: str) -> E:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise InvalidInput(
            f"{names_zh}须为以下之一：{allowed}",
            f"{field} must be one of: {allowed}",
            code=f"invalid_{field}",
            field=field,
        ) from None


def check_basis(kind: BookingKind, kind_of_basis: str, number: str, on_platform: bool) -> str:
    """The basis fits the kind (Art. 13) and can be where it claims to come from; the
    certificate number, cleaned."""
    basis_kind = parse_choice(BasisKind, kind_of_basis, "basis", "预约依据")
    if basis_kind is not BASIS_FOR_KIND[kind]:
        raise InvalidInput(
            f"{BOOKING_KIND_NAMES_ZH[kind]}应以{BASIS_NAMES_ZH[BASIS_FOR_KIND[kind]]}为依据",
            f"a booking of kind {kind} rests on a document of kind {BASIS_FOR_KIND[kind]}",
            code="basis_does_not_fit_kind",
            field="basis",
        )
    if on_platform and basis_kind not in ISSUED_ON_PLATFORM:
        raise InvalidInput(
            f"{BASIS_NAMES_ZH[basis_kind]}不由本平台出具，请上传扫描件",
            f"a {basis_kind} is not issued on this platform: upload a scan",
            code="not_issued_on_platform",
            field="basis",
        )
    return required_text(number, "basis", "凭证编号", 100)


def shanghai_iso(moment: datetime, field: str) -> str:
    """An aware moment as ISO text in Asia/Shanghai; a naive one is refused, never guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(
            "时间须带时区", f"{field} needs a time zone", code="naive_datetime", field=field
        )
    return moment.astimezone(SHANGHAI).isoformat(timespec="minutes")


def slot_start(day: date, half: Half) -> datetime:
    """When a half day begins: the morning at midnight, the afternoon at noon (Shanghai)."""
    return datetime.combine(day, HALF_STARTS[half], tzinfo=SHANGHAI)


def check_recheck(
    passed: bool, findings: list[str], recheck: date | None, working_day: bool, inspected: date
) -> None:
    """A failed inspection lists its findings and a re-check on a later working day."""
    problems = {
        "missing_findings": (
            not passed and not findings,
            "findings",
            "检查不合格时须列明发现的问题",
            "a failed inspection lists its findings",
        ),
        "missing_recheck_date": (
            not passed and recheck is None,
            "recheck_date",
            "检查不合格时须确定复查日期",
            "a failed inspection sets a re-check date",
        ),
        "recheck_without_failure": (
            passed and recheck is not None,
            "recheck_date",
            "检查合格时无需复查",
            "a passed inspection has no re-check",
        ),
        "invalid_recheck_date": (
            recheck is not None and (recheck <= inspected or not working_day),
            "recheck_date",
            "复查日期须为检查日之后的工作日",
            "the re-check is on a working day after the inspection",
        ),
    }
    for code, (broken, field, zh, en) in problems.items():
        if broken:
            raise InvalidInput(zh, en, code=code, field=field)
