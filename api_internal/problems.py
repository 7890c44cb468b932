"""Errors as problem details (RFC 9457) with a stable code and a Chinese and English message.

Nothing a client sends can produce a stack trace: every exception ends here, and an
unexpected one is logged and answered with a plain 500 problem.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api_internal.login_throttle import LoginThrottled
from domain.errors import (
    AuthenticationFailed,
    ConcurrentChange,
    DomainError,
    Gone,
    IllegalTransition,
    InvalidInput,
    NotFound,
    NotPermitted,
)

log = structlog.get_logger()

STATUS: list[tuple[type[DomainError], int]] = [
    (AuthenticationFailed, 401),
    (NotPermitted, 403),
    (NotFound, 404),
    (ConcurrentChange, 409),
    (IllegalTransition, 409),
    (Gone, 410),
    (InvalidInput, 422),
]
HTTP_MESSAGES = {
    400: ("bad_request", "请求格式不正确", "the request is malformed"),
    401: ("not_authenticated", "请先登录", "log in first"),
    403: ("forbidden", "无权访问", "not allowed"),
    404: ("not_found", "没有找到该资源", "no such resource"),
    405: ("method_not_allowed", "不支持该请求方法", "method not allowed"),
    411: ("length_required", "请求须注明 Content-Length", "Content-Length required"),
    413: ("payload_too_large", "请求内容过大", "the request body is too large"),
    415: (
        "unsupported_media_type",
        "请求体须为 JSON（Content-Type: application/json）",
        "the body must be JSON (Content-Type: application/json)",
    ),
    500: ("internal_error", "系统内部错误，请稍后重试", "internal error; please retry later"),
}


def problem_body(
    status: int, code: str, message_zh: str, message_en: str, /, **extra: Any
) -> dict[str, Any]:
    """The problem-details body; the one shape of every refusal, wherever it is answered."""
    body: dict[str, Any] = {
        "type": f"https://firegov.example/problems/{code}",
        "title": message_en,
        "status": status,
        "code": code,
        "detail": message_zh,
        "message_zh": message_zh,
        "message_en": message_en,
    }
    for key, value in extra.items():
        if value is not None:
            # A detail never overrides a member of the problem (an IllegalTransition's
            # ``status`` is the case's status, not the HTTP one): it is kept as ``case_<key>``.
            body[f"case_{key}" if key in body else key] = value
    return body


def problem(
    status: int,
    code: str,
    message_zh: str,
    message_en: str,
    headers: dict[str, str] | None = None,
    /,
    **extra: Any,
) -> JSONResponse:
    body = problem_body(status, code, message_zh, message_en, **extra)
    return JSONResponse(body, status, headers=headers, media_type="application/problem+json")


def status_of(error: DomainError) -> int:
    return next((status for cls, status in STATUS if isinstance(error, cls)), 400)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> JSONResponse:
        headers = {"Retry-After": "1"} if isinstance(error, ConcurrentChange) else None
        if isinstance(error, AuthenticationFailed):
            headers = {"WWW-Authenticate": "Bearer"}
        return problem(
            status_of(error), error.code, error.message_zh, error.message_en, headers,
            field=error.field, **error.details,
        )  # fmt: skip

    @app.exception_handler(LoginThrottled)
    async def throttled(request: Request, error: LoginThrottled) -> JSONResponse:
        wait = str(error.retry_after)
        return problem(
            429, error.code, error.message_zh, error.message_en, {"Retry-After": wait},
            retry_after=error.retry_after,
        )  # fmt: skip

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e.get("loc", ())[1:]), "type": e.get("type"),
             "message_en": e.get("msg")}
            for e in error.errors()
        ]  # fmt: skip
        if any(e["type"] == "json_invalid" for e in errors):
            return problem(
                400, "malformed_json", "请求体不是有效的 JSON", "the body is not valid JSON"
            )
        return problem(
            422, "validation_failed", "提交的数据不符合要求，请检查标出的字段",
            "the request does not validate; see errors", errors=errors,
        )  # fmt: skip

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code, zh, en = HTTP_MESSAGES.get(
            error.status_code, ("http_error", "请求无法处理", str(error.detail))
        )
        return problem(error.status_code, code, zh, en, dict(error.headers or {}) or None)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("request_failed", path=request.url.path)
        code, zh, en = HTTP_MESSAGES[500]
        return problem(500, code, zh, en)
