"""The staff HTTP API (internal network only). Built by the composition root with a Backend."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from api_internal import (
    pages,
    pages_uploads,
    problems,
    routes_auth,
    routes_bookings,
    routes_calendar,
    routes_certificate,
    routes_documents,
    routes_filings,
    routes_intake,
    routes_notifications,
    routes_security,
)
from api_internal.deps import Backend
from api_internal.middleware import API_PATHS, RequestEnvelope
from projections.api_docs import declare_problems, has_json_body, install_docs
from projections.client_address import ClientAddress
from projections.internal.tracking import stops

MAX_JSON_BODY = 1024 * 1024  # commands are small; documents arrive through their own route

DESCRIPTION = """
消防"互联网+"便民服务平台 —— 内网工作人员接口。

* 登录后在 `Authorization: Bearer <token>` 头中携带会话令牌；会话无操作超时失效（时长见配置，
  登录响应的 `idle_timeout_minutes`），且自登录起满最长时限（默认 12 小时，
  `FIREGOV_SESSION_MAX_HOURS`）无论是否有操作均失效；登录多次失败后账号临时锁定（次数和时长见配置）。
* 所有错误均为 problem details（`application/problem+json`）：`status`、稳定的 `code`、
  中文 `message_zh` 和英文 `message_en`；输入错误时 `field` 指出字段。
* 400 格式错误；401 未登录/会话失效/口令错误/账号锁定；403 角色无权或超出管辖；404 不存在；
  409 状态不允许（`illegal_transition`）或并发修改（`concurrent_change`，仅此种带
  `Retry-After`）；410 材料已随申请人的个人信息删除（`document_erased`）；
  411 请求体未注明 `Content-Length`；413 请求过大；415 请求体不是 JSON；422 数据不符合规则。
* 命令可带 `If-Match: "<版本号>"`（详情的 `ETag`）：先检查权限和管辖，再比对版本，不一致返回 409。
"""


# Answered to every operation whatever its route declares. 401 goes with a WWW-Authenticate
# challenge; a concurrent change (409) says when to retry.
PROBLEM_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}},
    409: {"Retry-After": {"description": "仅 concurrent_change", "schema": {"type": "string"}}},
}


def refusals(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """What an operation can answer besides what its route declares: the request envelope's
    refusals (api_internal.middleware: 411 and 413 on every request, 415 for a body on the
    API that is not JSON), 400 for a JSON body that does not parse, 401 without a session."""
    found = {411, 413}
    if path.startswith(API_PATHS):
        found.add(415)
    if has_json_body(operation):
        found.add(400)
    if operation.get("security"):
        found.add(401)
    return found


def calendar_health(backend: Backend) -> dict[str, object]:
    """How far the working-day calendar reaches (issue 16): the last day covered (null: not
    even today's year) and whether staff are being warned (from 1 November, next year missing).
    A warning, not a failure: the platform goes on, deadlines in that year show as unknown."""
    status = backend.calendar_watch.status()
    until = status.covered_until
    return {
        "calendar_covered_until": until.isoformat() if until else None,
        "calendar_warning": status.warn,
    }


def create_app(backend: Backend) -> FastAPI:
    app = FastAPI(
        title="firegov 内网工作人员接口 (staff API)",
        version="1.0",
        description=DESCRIPTION,
        docs_url=None,  # served from the installation under a CSP (projections.api_docs)
        redoc_url=None,
    )
    app.state.backend = backend
    problems.install(app)
    install_docs(app)
    declare_problems(app, refusals, PROBLEM_HEADERS)

    app.add_middleware(
        RequestEnvelope,
        max_body=MAX_JSON_BODY,
        uploads=pages_uploads.UPLOADS,
        max_upload_body=pages_uploads.upload_body_limit(backend.max_upload_bytes),
    )
    # Outermost: the client is settled before anything counts it (docs/security.md).
    app.add_middleware(ClientAddress, trusted=backend.trusted_proxies)

    @app.get("/health", tags=["运维 operations"], summary="存活检查")
    def health() -> dict[str, object]:
        # A follower that found the log going back stops rather than skip (issue 16): named.
        stopped = [
            {"name": s.name, "position": s.position, "reason": s.reason}
            for s in stops(backend.projector.store)
        ]
        return {
            "status": "follower_stopped" if stopped else "ok",
            "projection_position": backend.projector.position(),
            **calendar_health(backend),
            "stopped_followers": stopped,
        }

    app.include_router(routes_auth.router)
    app.include_router(routes_filings.router)
    app.include_router(routes_certificate.router)
    app.include_router(routes_documents.router)
    app.include_router(routes_bookings.router)
    app.include_router(routes_notifications.router)
    app.include_router(routes_intake.router)
    app.include_router(routes_calendar.router)
    app.include_router(routes_security.router)
    pages.install(app)  # the staff console's pages and /static
    return app
