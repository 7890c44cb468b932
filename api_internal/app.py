"""The staff HTTP API (internal network only). Built by the composition root with a Backend."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable

import structlog
from fastapi import FastAPI, Request, Response

from api_internal import problems, routes_auth, routes_filings
from api_internal.deps import Backend

log = structlog.get_logger()
MAX_JSON_BODY = 1024 * 1024  # commands are small; documents arrive through their own route

DESCRIPTION = """
消防"互联网+"便民服务平台 —— 内网工作人员接口。

* 登录后在 `Authorization: Bearer <token>` 头中携带会话令牌；会话 30 分钟无操作失效。
* 所有错误均为 problem details（`application/problem+json`）：`status`、稳定的 `code`、
  中文 `message_zh` 和英文 `message_en`；输入错误时 `field` 指出字段。
* 400 格式错误；401 未登录/会话失效/口令错误；403 角色无权或超出管辖；404 不存在；
  409 状态不允许或并发修改（带 `Retry-After`）；413 请求过大；422 数据不符合规则。
"""


def create_app(backend: Backend) -> FastAPI:
    app = FastAPI(
        title="firegov 内网工作人员接口 (staff API)",
        version="1.0",
        description=DESCRIPTION,
    )
    app.state.backend = backend
    problems.install(app)

    @app.middleware("http")
    async def limit_body(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request_id = request.headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_JSON_BODY):
            code, zh, en = problems.HTTP_MESSAGES[413]
            response: Response = problems.problem(413, code, zh, en, max_bytes=MAX_JSON_BODY)
        else:
            response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers["X-Request-ID"] = request_id
        # The path holds receipt numbers only; bodies (which may hold personal data) are not logged.
        log.info(
            "request_completed",
            method=request.method,
            path=request.url.path,
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
            actor_id=getattr(request.state, "actor_id", None),
        )
        structlog.contextvars.clear_contextvars()
        return response

    @app.get("/health", tags=["运维 operations"], summary="存活检查")
    def health() -> dict[str, object]:
        return {"status": "ok", "projection_position": backend.projector.position()}

    app.include_router(routes_auth.router)
    app.include_router(routes_filings.router)
    return app
