"""Problem details (RFC 9457) for the public API: status, a stable code, a Chinese and an
English message; never a stack trace."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger()

MESSAGES = {
    400: ("bad_request", "请求格式不正确", "the request is malformed"),
    403: ("forbidden", "无权访问", "not allowed"),
    404: ("not_found", "没有找到该资源", "no such resource"),
    405: ("method_not_allowed", "不支持该请求方法", "method not allowed"),
    429: ("too_many_requests", "请求过于频繁，请稍后再试", "too many requests; slow down"),
    500: ("internal_error", "系统内部错误，请稍后重试", "internal error; please retry later"),
}


class PublicProblem(Exception):
    def __init__(
        self, status: int, code: str, message_zh: str, message_en: str, **extra: Any
    ) -> None:
        super().__init__(message_en)
        self.status, self.code = status, code
        self.message_zh, self.message_en, self.extra = message_zh, message_en, extra


def problem(
    status: int,
    code: str,
    message_zh: str,
    message_en: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": f"https://firegov.example/problems/{code}",
        "title": message_en,
        "status": status,
        "code": code,
        "detail": message_zh,
        "message_zh": message_zh,
        "message_en": message_en,
    }
    body.update({k: v for k, v in extra.items() if v is not None and k not in body})
    return JSONResponse(body, status, headers=headers, media_type="application/problem+json")


# The portal's page for a problem met outside the API (installed by api_public.pages): a person
# whose browser asked for a page gets a page in Chinese, never a JSON document.
ProblemPage = Callable[[Request, int, str, dict[str, str] | None], Response]


def wants_page(request: Request) -> bool:
    path = request.url.path
    return (
        not path.startswith(("/api/", "/static/", "/docs", "/openapi", "/redoc"))
        and "text/html" in request.headers.get("accept", "")
        and getattr(request.app.state, "problem_page", None) is not None
    )


def answer(
    request: Request,
    status: int,
    code: str,
    message_zh: str,
    message_en: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    if wants_page(request):
        page: ProblemPage = request.app.state.problem_page
        return page(request, status, message_zh, headers)
    return problem(status, code, message_zh, message_en, headers, **extra)


def install(app: FastAPI) -> None:
    @app.exception_handler(PublicProblem)
    async def public_problem(request: Request, error: PublicProblem) -> Response:
        extra = dict(error.extra)
        headers = {"Retry-After": str(extra.pop("retry_after"))} if "retry_after" in extra else None
        return answer(
            request, error.status, error.code, error.message_zh, error.message_en, headers, **extra
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e.get("loc", ())[1:]), "type": e.get("type")}
            for e in error.errors()
        ]
        return problem(
            422,
            "validation_failed",
            "提交的数据不符合要求，请检查标出的字段",
            "the request does not validate; see errors",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        code, zh, en = MESSAGES.get(error.status_code, ("http_error", "请求无法处理", "error"))
        return answer(request, error.status_code, code, zh, en)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("request_failed", path=request.url.path)
        return answer(request, 500, *MESSAGES[500])
