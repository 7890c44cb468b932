"""Who acts: the roles of RULES.md ("Who acts") and the actor that travels with every command."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    APPLICANT = "applicant"  # 建设单位 / 申请人 (public side only)
    WINDOW_CLERK = "window_clerk"  # 消防业务受理窗口
    DEPT_HEAD = "dept_head"  # 业务科室负责人 / 大队负责人
    HANDLER = "handler"  # 主办人 / 协办人
    LEGAL_REVIEWER = "legal_reviewer"  # 法制审核
    SECRECY_REVIEWER = "secrecy_reviewer"  # 保密审查
    APPROVER = "approver"  # 审批领导
    PUBLICITY_EDITOR = "publicity_editor"  # 宣传科
    SUPERVISOR = "supervisor"  # 纪保督察科
    SYSTEM_ADMIN = "system_admin"  # 信通科系统管理员
    SECURITY_ADMIN = "security_admin"  # 安全管理员
    AUDITOR = "auditor"  # 审计管理员
    SYSTEM = "system"  # the platform itself (intake import, scheduled jobs, console bootstrap)


ROLE_NAMES_ZH: dict[Role, str] = {
    Role.APPLICANT: "申请人",
    Role.WINDOW_CLERK: "受理窗口",
    Role.DEPT_HEAD: "科室/大队负责人",
    Role.HANDLER: "承办人",
    Role.LEGAL_REVIEWER: "法制审核",
    Role.SECRECY_REVIEWER: "保密审查",
    Role.APPROVER: "审批领导",
    Role.PUBLICITY_EDITOR: "宣传科",
    Role.SUPERVISOR: "纪保督察科",
    Role.SYSTEM_ADMIN: "系统管理员",
    Role.SECURITY_ADMIN: "安全管理员",
    Role.AUDITOR: "审计管理员",
    Role.SYSTEM: "系统",
}

# Art. 27/39: the three administrator roles are kept apart; one person never holds two.
ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR})
# Roles whose login needs a TOTP second factor.
SECOND_FACTOR_ROLES = ADMIN_ROLES | {Role.APPROVER}


@dataclass(frozen=True)
class Actor:
    """The one who issues a command: an account id, the role it acts in, and its agency."""

    actor_id: str
    role: Role
    agency: str

    @classmethod
    def system(cls, agency: str, purpose: str = "system") -> Actor:
        return cls(actor_id=f"system:{purpose}", role=Role.SYSTEM, agency=agency)
