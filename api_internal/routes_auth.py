"""Login and logout of staff (RULES.md "Who acts"; Art. 39)."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response

from api_internal.deps import Backend, BackendDep, StaffDep
from api_internal.schemas import ActorPublic, LoginPublic, LoginRequest
from domain.actor import Actor
from domain.errors import AuthenticationFailed

router = APIRouter(prefix="/api/v1/auth", tags=["登录 auth"])
# Every failed login takes at least this long, counted from the start of the login: an
# unknown username, a wrong password, a locked account and a wrong code then answer alike in
# time, so the answer's speed tells nobody which usernames exist. Successful logins are not
# padded: by then the caller knows the password anyway.
FAILED_LOGIN_FLOOR_SECONDS = 0.25


def authenticate(
    backend: Backend,
    username: str,
    password: str,
    one_time_code: str | None,
    role: str | None = None,
) -> Actor:
    """The domain's login, with every failure padded to FAILED_LOGIN_FLOOR_SECONDS; shared
    by this API and the console's login pages (api_internal.pages_auth)."""
    started = time.perf_counter()
    try:
        return backend.services.staff.authenticate(username, password, one_time_code, role)
    except AuthenticationFailed:
        # Called from sync routes, which run in the thread pool: sleeping holds no event loop.
        time.sleep(max(0.0, FAILED_LOGIN_FLOOR_SECONDS - (time.perf_counter() - started)))
        raise


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


@router.post(
    "/login",
    summary="登录",
    description=(
        "用户名和密码登录。规则：连续多次失败后账号临时锁定（次数和时长见配置）；"
        "系统管理员、安全管理员、审计管理员和审批领导须同时提交动态口令（TOTP）；"
        "会话无操作超时自动失效（时长见配置，即响应中的 idle_timeout_minutes）；"
        f"登录失败的响应至少耗时 {FAILED_LOGIN_FLOOR_SECONDS} 秒，不论用户名是否存在。"
    ),
    responses={401: {"description": "用户名、密码或动态口令不正确；或账号已锁定"}},
)
def login(body: LoginRequest, backend: BackendDep) -> LoginPublic:
    actor = authenticate(backend, body.username, body.password, body.one_time_code, body.role)
    token = backend.sessions.open(actor, backend.clock())
    return LoginPublic(
        token=token,
        idle_timeout_minutes=backend.idle_timeout_minutes,
        actor=actor_public(backend, actor),
    )


@router.post("/logout", status_code=204, summary="退出登录（服务端立即作废会话）")
def logout(request: Request, actor: StaffDep, backend: BackendDep) -> Response:
    backend.sessions.end(request.state.token)
    return Response(status_code=204)


@router.get("/me", summary="当前登录的工作人员")
def me(actor: StaffDep, backend: BackendDep) -> ActorPublic:
    return actor_public(backend, actor)
