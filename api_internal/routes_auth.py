"""Login and logout of staff (RULES.md "Who acts"; Art. 39)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api_internal.deps import BackendDep, StaffDep
from api_internal.schemas import ActorPublic, LoginPublic, LoginRequest
from domain.actor import Actor

router = APIRouter(prefix="/api/v1/auth", tags=["登录 auth"])


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
        "用户名和密码登录。规则：连续 5 次失败锁定 30 分钟；系统管理员、安全管理员、审计管理员和"
        "审批领导须同时提交动态口令（TOTP）；会话 30 分钟无操作自动失效。"
    ),
    responses={401: {"description": "用户名、密码或动态口令不正确；或账号已锁定"}},
)
def login(body: LoginRequest, backend: BackendDep) -> LoginPublic:
    actor = backend.services.staff.authenticate(
        body.username, body.password, body.one_time_code, body.role
    )
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
