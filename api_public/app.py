"""The public HTTP API (internet side). Built by the composition root with a PublicBackend; it
reads the public read models only."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api_public import problems, routes, routes_availability, routes_certificate, routes_intake
from api_public.pages import install_pages
from api_public.routes import PublicBackend
from projections.api_docs import declare_problems, has_json_body, install_docs
from projections.client_address import ClientAddress

DESCRIPTION = """
消防"互联网+"便民服务平台 —— 互联网公众接口（只读）。

* 办理进度：受理编号 + 查询码（`X-Query-Code` 头）。
* 备案凭证核验、抽查结果公示、各机构可预约检查的工作日、内外网交换状态、账本检查点。
* 错误均为 problem details：`status`、稳定的 `code`、中文 `message_zh`、英文 `message_en`。
  404 不存在；403 查询码错误；422 参数不符合要求；429 请求过于频繁（带 `Retry-After`）。
"""
HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
]


HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class SecurityHeaders:
    """The API's headers on every response; a header the response set itself (the portal
    pages' CSP) is kept, and HSTS is added when the request came over TLS."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        tls = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = [*HEADERS, HSTS] if tls else HEADERS
                message["headers"] = headers + [h for h in extra if h[0] not in present]
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


class BodyLimit:
    """Every request body has a declared length no larger than ``max_body``: a body without
    ``Content-Length`` (chunked) is answered 411 and a larger one 413 before anything reads it,
    so no upload can fill the disk where the size checks of intake would come too late (the
    server itself stops reading at the declared length)."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            length = headers.get(b"content-length")
            refusal = None
            if length is None and b"transfer-encoding" in headers:
                refusal = problems.problem(
                    411,
                    "length_required",
                    "请求须注明长度（Content-Length）",
                    "the request must state its length (Content-Length)",
                )
            elif length is not None and (not length.isdigit() or int(length) > self.max_body):
                refusal = problems.problem(
                    413,
                    "request_too_large",
                    f"请求超过 {self.max_body} 字节的上限",
                    f"the request is larger than {self.max_body} bytes",
                    max_bytes=self.max_body,
                )
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


def refusals(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """What an operation can answer besides what its route declares: BodyLimit's 411 and 413
    on every request, 429 on the API (its every router is ``rate_limited``), and 400 for a
    JSON body that cannot even be decoded."""
    found = {411, 413}
    if path.startswith("/api/"):
        found.add(429)
    if has_json_body(operation):
        found.add(400)
    return found


def create_public_app(backend: PublicBackend) -> FastAPI:
    app = FastAPI(
        title="firegov 互联网公众接口 (public API)",
        version="1.0",
        description=DESCRIPTION,
        docs_url=None,  # served from the installation under a CSP (projections.api_docs)
        redoc_url=None,
    )
    app.state.backend = backend
    problems.install(app)
    install_docs(app)
    declare_problems(app, refusals, {})
    largest = backend.intake.max_submission_bytes if backend.intake else 0
    app.add_middleware(BodyLimit, max_body=largest + routes_intake.MULTIPART_OVERHEAD)
    app.add_middleware(SecurityHeaders)
    # Outermost: the client is settled before anything counts it (docs/security.md).
    app.add_middleware(ClientAddress, trusted=backend.trusted_proxies)

    @app.get("/health", tags=["运行 operations"], summary="存活检查")
    def health() -> dict[str, object]:
        # How far the internal calendar reaches, as the bridge last said (issue 16): null
        # until the first word, and when this year itself is not covered.
        coverage = backend.queries.calendar_coverage()
        return {
            "status": "ok",
            "calendar_covered_until": coverage["covered_until"] if coverage else None,
            "calendar_first_uncovered_year": (
                int(coverage["first_uncovered_year"]) if coverage else None
            ),
        }

    app.include_router(routes.router)
    app.include_router(routes_intake.router)
    app.include_router(routes_availability.router)
    install_pages(app, backend)  # the portal's pages and /static
    app.include_router(routes_certificate.router)
    return app
