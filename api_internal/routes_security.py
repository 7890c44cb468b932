"""What the security administrator watches (MLPS; docs/security.md, "Login lockout"): the
failed logins per account and source, with the locks they caused, and the sources throttled
for failing across accounts. Thin: authorise, read, respond. No password or code is ever
recorded, so none can be shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api_internal.common import ROLE_REFUSED
from api_internal.deps import Backend, BackendDep, StaffDep
from api_internal.login_throttle import FailingSource
from domain.actor import Actor
from domain.calendar import SHANGHAI
from domain.permissions import Command, authorize
from projections.internal.login_attempts import LoginAttempt

router = APIRouter(prefix="/api/v1/security", tags=["安全 security"])


@dataclass(frozen=True)
class LoginWatch:
    attempts: list[LoginAttempt]
    sources: list[FailingSource]
    now: datetime


def login_watch(backend: Backend, actor: Actor) -> LoginWatch:
    """The failed logins as of now, for the security administrator only."""
    authorize(actor, Command.VIEW_LOGIN_ATTEMPTS, backend.agencies)
    now = backend.clock()
    return LoginWatch(backend.login_attempts.recent(now), backend.login_throttle.failing(now), now)


def shanghai(moment: datetime | None) -> str | None:
    return moment.astimezone(SHANGHAI).isoformat() if moment else None


class LoginAttemptPublic(BaseModel):
    username: str
    account_id: str
    source: str = Field(description="来源：IPv4 地址或 IPv6 /64 网段")
    failures: int = Field(description="自该来源上次成功登录以来连续失败的次数")
    first_failed_at: str
    last_failed_at: str
    last_reason: str = Field(
        description="wrong_password、wrong_one_time_code、one_time_code_reused、"
        "credentials_erased、second_factor_erased"
    )
    locked_until: str | None = Field(description="该账号对该来源锁定到何时；未锁定为 null")


class FailingSourcePublic(BaseModel):
    source: str
    failures: int = Field(description="窗口期内对任意账号（含不存在的用户名）的登录失败次数")
    last_failed_at: str
    throttled_until: str | None = Field(description="该来源被拒绝登录到何时；未限制为 null")


class LoginAttemptsPublic(BaseModel):
    attempts: list[LoginAttemptPublic]
    sources: list[FailingSourcePublic]


@router.get(
    "/login-attempts",
    summary="登录失败记录（安全管理员）",
    description="按账号和来源（IPv4 地址或 IPv6 /64 网段）列出最近的登录失败：连续失败次数、"
    "首次和最近一次失败的时间、最近一次的原因、该账号对该来源锁定到何时（最近的在前，最多 200 "
    "条，保留 30 天）；另列窗口期内对各账号登录失败的来源及其被限制到何时。不含任何密码或动态"
    "口令。时间为北京时间。仅安全管理员可查看。",
    responses=ROLE_REFUSED,
)
def login_attempts(actor: StaffDep, backend: BackendDep) -> LoginAttemptsPublic:
    watch = login_watch(backend, actor)
    return LoginAttemptsPublic(
        attempts=[
            LoginAttemptPublic(
                username=a.username,
                account_id=a.account_id,
                source=a.source,
                failures=a.failures,
                first_failed_at=str(shanghai(a.first_failed_at)),
                last_failed_at=str(shanghai(a.last_failed_at)),
                last_reason=a.last_reason,
                locked_until=shanghai(a.locked_until),
            )
            for a in watch.attempts
        ],
        sources=[
            FailingSourcePublic(
                source=s.source,
                failures=s.failures,
                last_failed_at=str(shanghai(s.last_failed_at)),
                throttled_until=shanghai(
                    watch.now + timedelta(seconds=s.throttled_for) if s.throttled_for else None
                ),
            )
            for s in watch.sources
        ],
    )
