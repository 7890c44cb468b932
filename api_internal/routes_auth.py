"""Login and logout of staff (RULES.md "Who acts"; Art. 39).

A login is one request (username, password and, where the role needs it, the one-time code)
or two: the password first, answered for an account with a second factor by 401
``second_factor_required`` with a login ticket, then the ticket with the code
(domain.services.staff_login). The console's login pages use the same functions, so both
answer alike in time and in what they count.

Every step names its source, the client key of the request (projections.client_address):
the account counts failures and locks per source (domain.staff), and a source with too many
failed logins across accounts is refused with 429 before its password is looked at
(api_internal.login_throttle; docs/security.md "Login lockout").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, Request, Response
from pydantic import Field

from api_internal.deps import Backend, BackendDep, StaffDep
from api_internal.login_throttle import LoginThrottled
from api_internal.schemas import ActorPublic, LoginPublic, LoginRequest, Strict
from domain.actor import Actor
from domain.calendar import SHANGHAI
from domain.errors import AuthenticationFailed
from domain.services.staff_login import (
    CODE_ATTEMPTS_PER_TICKET,
    TICKET_LIFETIME,
    PendingLogin,
    second_factor_required,
)
from projections.client_address import client_key_of

router = APIRouter(prefix="/api/v1/auth", tags=["登录 auth"])
# Every failed login takes at least this long, counted from the start of the login: an
# unknown username, a wrong password, a locked account and a wrong code then answer alike in
# time, so the answer's speed tells nobody which usernames exist. Successful logins are not
# padded: by then the caller knows the password anyway.
FAILED_LOGIN_FLOOR_SECONDS = 0.25
# The refusals a source's throttle counts: a wrong password, code or unknown username, and a
# try at an account locked for the source. Not a missing code or an ended ticket.
COUNTED_FAILURES = frozenset({"authentication_failed", "account_locked"})
T = TypeVar("T")


def padded(backend: Backend, source: str, operation: Callable[[], T]) -> T:
    """``operation`` from ``source``, unless the source is throttled (429); every refusal
    is counted for the source and padded to FAILED_LOGIN_FLOOR_SECONDS."""
    started = time.perf_counter()
    wait = backend.login_throttle.wait(source, backend.clock())
    if wait:
        raise LoginThrottled(wait)
    try:
        return operation()
    except AuthenticationFailed as refused:
        if refused.code in COUNTED_FAILURES:
            backend.login_throttle.failed(source, backend.clock())
        # Called from sync routes, which run in the thread pool: sleeping holds no event loop.
        time.sleep(max(0.0, FAILED_LOGIN_FLOOR_SECONDS - (time.perf_counter() - started)))
        raise


def authenticate(
    backend: Backend,
    source: str,
    username: str,
    password: str,
    one_time_code: str | None,
    role: str | None = None,
) -> Actor:
    """The whole login in one call (password, code and role together)."""
    staff = backend.services.staff.login
    return padded(
        backend,
        source,
        lambda: staff.authenticate(username, password, one_time_code, role, source=source),
    )


def _start(
    backend: Backend,
    source: str,
    username: str,
    password: str,
    role: str | None,
    choose_role: bool,
) -> Actor | PendingLogin:
    login = backend.services.staff.login
    checked = login.check_password(username, password, role, source=source)
    choosing = choose_role and role is None and len(checked.roles) > 1
    if checked.needs_second_factor or choosing:
        return login.hold(checked, backend.sessions.tickets)
    return login.complete(checked)


def start_login(
    backend: Backend,
    source: str,
    username: str,
    password: str,
    role: str | None,
    choose_role: bool,
) -> Actor | PendingLogin:
    """Step one: the password. The login is complete at once unless the account needs its
    one-time code, or ``choose_role`` asks the holder of several roles to choose one (the
    console does; the JSON API takes the role in the request); then a ticket for step two."""
    return padded(
        backend, source, lambda: _start(backend, source, username, password, role, choose_role)
    )


def finish_login(
    backend: Backend, source: str, ticket: str, one_time_code: str | None, role: str | None
) -> Actor:
    """Step two: the ticket, with the one-time code (if the account has one) and the role;
    a wrong code counts for the source that typed it."""
    login = backend.services.staff.login
    tickets = backend.sessions.tickets
    return padded(
        backend,
        source,
        lambda: login.finish(ticket, one_time_code, role, tickets, source=source),
    )


def actor_public(backend: BackendDep, actor: Actor) -> ActorPublic:
    account = backend.services.staff.account(actor.actor_id)
    return ActorPublic(
        account_id=actor.actor_id,
        username=account.username,
        display_name=account.display_name,
        role=str(actor.role),
        agency=actor.agency,
        agency_name=backend.agencies.get(actor.agency).name,
    )


def _logged_in(backend: Backend, actor: Actor) -> LoginPublic:
    return LoginPublic(
        token=backend.sessions.open(actor, backend.clock()),
        idle_timeout_minutes=backend.idle_timeout_minutes,
        actor=actor_public(backend, actor),
    )


class LoginTicketRequest(Strict):
    ticket: str = Field(min_length=1, max_length=128, description="第一步返回的登录票据")
    one_time_code: str | None = Field(
        default=None, max_length=10, description="动态口令（TOTP，6 位数字）"
    )
    role: str | None = Field(
        default=None, max_length=32, description="以哪个角色登录（默认第一步所选或第一个角色）"
    )


LIFETIME_MINUTES = int(TICKET_LIFETIME.total_seconds() // 60)
THROTTLED = (
    "同一地址（IPv4 地址或 IPv6 /64）在一段时间内对任意账号登录失败次数过多（`login_throttled`，"
    "带 `Retry-After` 头和 `retry_after` 秒数）：到时之前该地址的登录一律拒绝，不核对密码"
)


@router.post(
    "/login",
    summary="登录",
    description=(
        "用户名和密码登录。规则：同一地址对同一账号连续多次失败后，该账号对该地址临时锁定"
        "（次数和时长见配置；从其他地址仍可登录）；同一地址对各账号失败过多则该地址暂被拒绝（429）；"
        "系统管理员、安全管理员、审计管理员和审批领导须提交动态口令（TOTP）：可与密码一并提交，"
        "也可分两步——只提交用户名和密码时，密码正确则返回 401 `second_factor_required`，"
        f"其中带登录票据 `ticket`（{LIFETIME_MINUTES} 分钟内有效、只能用一次、"
        f"最多试 {CODE_ATTEMPTS_PER_TICKET} 次动态口令），再把票据和动态口令提交到 "
        "`POST /api/v1/auth/login/totp`；输错的动态口令与输错的密码一样计入锁定次数。"
        "账号有多个角色时可用 `role` 选择以哪个角色登录（默认第一个），账号没有的角色返回 422 "
        "`role_not_held`。会话无操作超时自动失效（时长见配置，即响应中的 idle_timeout_minutes）；"
        f"登录失败的响应至少耗时 {FAILED_LOGIN_FLOOR_SECONDS} 秒，不论用户名是否存在。"
    ),
    responses={
        401: {
            "description": (
                "用户名、密码或动态口令不正确（`authentication_failed`）；账号已锁定"
                "（`account_locked`，带 `locked_until`）；或密码正确但须动态口令"
                "（`second_factor_required`），此时另带登录票据 `ticket`（与动态口令一起提交到 "
                "/api/v1/auth/login/totp）、票据失效时间 `ticket_expires_at`（Asia/Shanghai）"
                "和账号的全部角色 `roles`（可在第二步用 role 选择其一）"
            ),
        },
        422: {"description": "账号没有所选角色（`role_not_held`，field 为 role）"},
        429: {"description": THROTTLED},
    },
)
def login(body: LoginRequest, request: Request, backend: BackendDep) -> LoginPublic:
    source = client_key_of(request)
    if body.one_time_code:
        actor = authenticate(
            backend, source, body.username, body.password, body.one_time_code, body.role
        )
        return _logged_in(backend, actor)

    def step() -> Actor:
        started = _start(backend, source, body.username, body.password, body.role, False)
        if isinstance(started, Actor):
            return started
        raise second_factor_required(
            ticket=started.ticket,
            ticket_expires_at=started.expires_at.astimezone(SHANGHAI).isoformat(),
            roles=[str(r) for r in started.roles],
        )

    return _logged_in(backend, padded(backend, source, step))


@router.post(
    "/login/totp",
    summary="登录第二步：登录票据和动态口令",
    description=(
        "提交 `POST /api/v1/auth/login` 返回的登录票据和动态口令，完成登录。"
        f"票据 {LIFETIME_MINUTES} 分钟内有效，登录成功后即作废；最多试 "
        f"{CODE_ATTEMPTS_PER_TICKET} 次动态口令，每次输错都计入账号的连续失败次数"
        "（达到上限即锁定）。"
        "同一动态口令只能登录一次。可用 `role` 选择账号的角色之一。"
    ),
    responses={
        401: {
            "description": (
                "动态口令不正确（`authentication_failed`）；账号已锁定（`account_locked`）；"
                "票据已失效、已使用或次数用尽（`login_ticket_invalid`，须重新输入用户名和密码）"
            )
        },
        422: {
            "description": (
                "缺少动态口令（`one_time_code_required`）；账号没有所选角色（`role_not_held`）"
            )
        },
        429: {"description": THROTTLED},
    },
)
def login_totp(body: LoginTicketRequest, request: Request, backend: BackendDep) -> LoginPublic:
    source = client_key_of(request)
    actor = finish_login(backend, source, body.ticket, body.one_time_code, body.role)
    return _logged_in(backend, actor)


@router.post("/logout", status_code=204, summary="退出登录（服务端立即作废会话）")
def logout(request: Request, actor: StaffDep, backend: BackendDep) -> Response:
    backend.sessions.end(request.state.token)
    return Response(status_code=204)


@router.get("/me", summary="当前登录的工作人员")
def me(actor: StaffDep, backend: BackendDep) -> ActorPublic:
    return actor_public(backend, actor)
