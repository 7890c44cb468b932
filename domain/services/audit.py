"""The history of one case for auditors and the case page: every event, when, who, in which
role and agency, and what (RULES.md Art. 27, 39; DESIGN.md "Auditors"). Sealed personal data
is shown sealed: the history is for accountability, not for reading people's data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.actor import ROLE_NAMES_ZH, Actor, Role
from domain.application import Context
from domain.booking import Booking
from domain.calendar import SHANGHAI
from domain.errors import NotFound, NotPermitted
from domain.filing import Filing
from domain.permissions import Command, authorize
from domain.sealing import is_sealed
from domain.services.booking_base import booking_id
from domain.services.filings import filing_id
from domain.staff import StaffAccount

WHAT_ZH = {
    "Submitted": "提交备案",
    "Quarantined": "网上提交未通过接收检查（已告知原因）",
    "CertificateRevoked": "撤销备案凭证",
    "SupplementNoticeIssued": "出具补正通知（一次告知）",
    "Resubmitted": "补正后重新提交",
    "CertificateIssued": "出具备案凭证",
    "Withdrawn": "撤回备案",
    "ReferredForLackOfJurisdiction": "不予受理，告知向有管辖权机关申请",
    "SelectedForInspection": "被随机抽中检查",
    "InspectionResultRecorded": "记录检查结果",
    "ResultApprovedForPublication": "批准公布检查结果",
    "Opened": "开设账号",
    "SecondFactorEnrolled": "登记动态口令",
    "LoggedIn": "登录",
    "LoginFailed": "登录失败",
    "Locked": "账号锁定",
    "Erased": "删除个人信息（销毁密钥）",
    "Started": "开始编号序列",
    "NumberTaken": "取号",
    "CertificateRegistered": "登记备案凭证编号",
    # Bookings of on-site inspections (网上预约, Art. 11-16)
    "Requested": "提交预约",
    "Forwarded": "转交承办科室（大队）",
    "RejectedOutsideRemit": "不属本机构受理范围，告知向有管辖权机构预约",
    "PermitIssuedOnCommitment": "告知承诺：当场作出许可",
    "HandlersAssigned": "指派主办人、协办人",
    "SlotOffered": "回复检查时间",
    "InspectionRefused": "回复不予安排检查",
    "SlotAccepted": "申请人确认检查时间",
    "AnotherSlotRequested": "申请人要求另行安排检查时间",
    "Cancelled": "申请人取消预约",
    "HalfDayOpened": "开设检查时段",
    "PlaceBooked": "占用检查名额",
    "PlaceReleased": "释放检查名额",
}
# Who may read the history of what is not a case (a filing or a booking).
AUDIT_ROLES = frozenset({Role.AUDITOR, Role.SYSTEM})
_HIDDEN = {
    "originator_id",
    "originator_topic",
    "originator_version",
    "timestamp",
    "actor_id",
    "actor_role",
}
_HIDDEN |= {"actor_agency", "password_hash", "totp_secret", "materials", "query_code_hash"}


@dataclass(frozen=True)
class HistoryEntry:
    position: int
    at: str  # ISO, Asia/Shanghai
    actor_id: str
    actor_name: str
    role: str
    role_zh: str
    agency: str
    event: str
    what_zh: str
    details: dict[str, Any]


def _details(event: Any) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for key, value in vars(event).items():
        if key in _HIDDEN:
            continue
        shown[key] = "〔密封 sealed〕" if is_sealed(value) else value
    materials = getattr(event, "materials", None)
    if materials is not None:
        shown["materials"] = sorted(m["item"] for m in materials)
    return shown


class AuditService:
    def __init__(self, context: Context) -> None:
        self.ctx = context

    def resolve(self, key: str) -> UUID:
        """A receipt number (BA… a filing, YY… a booking) or an aggregate id."""
        try:
            return UUID(key)
        except ValueError:
            receipt = key.strip().upper()
            return booking_id(receipt) if receipt.startswith("YY") else filing_id(receipt)

    def history(self, actor: Actor, key: str) -> list[HistoryEntry]:
        aggregate_id = self.resolve(key)
        events: list[Any] = list(self.ctx.app.events.get(aggregate_id))
        if not events:
            raise NotFound("没有该事项的记录", f"no history for {key}")
        first = events[0]
        if isinstance(first, Filing.Submitted | Booking.Requested):
            # Always the case's own agency: a case never goes unchecked for lack of one.
            authorize(actor, Command.VIEW_HISTORY, self.ctx.agencies, first.agency)
        else:
            # Staff accounts (logins, lockouts), erasures, number sequences, the certificate
            # register and inspection slots belong to no case of any agency: only the audit
            # roles read them (Art. 27, 39).
            authorize(actor, Command.VIEW_HISTORY, self.ctx.agencies)
            if actor.role not in AUDIT_ROLES:
                raise NotPermitted(
                    "只有审计管理员可以查看该记录的历史",
                    "only auditors may read the history of this record",
                    command=str(Command.VIEW_HISTORY),
                )
        names: dict[str, str] = {}
        return [
            HistoryEntry(
                position=event.originator_version,
                at=event.timestamp.astimezone(SHANGHAI).isoformat(timespec="seconds"),
                actor_id=event.actor_id,
                actor_name=self._name(event.actor_id, names),
                role=event.actor_role,
                role_zh=ROLE_NAMES_ZH.get(Role(event.actor_role), event.actor_role),
                agency=event.actor_agency,
                event=type(event).__name__,
                what_zh=WHAT_ZH.get(type(event).__name__, type(event).__name__),
                details=_details(event),
            )
            for event in events
        ]

    def _name(self, actor_id: str, cache: dict[str, str]) -> str:
        if actor_id not in cache:
            try:
                account = self.ctx.load(StaffAccount, UUID(actor_id), "账号", "account")
                cache[actor_id] = f"{account.display_name}（{account.username}）"
            except (ValueError, NotFound):
                cache[actor_id] = actor_id  # system actors: "system:intake" etc.
        return cache[actor_id]
