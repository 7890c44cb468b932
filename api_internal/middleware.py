"""The request envelope, as plain ASGI (cheaper than Starlette's BaseHTTPMiddleware, which
costs a task and a stream per request): a request id, a body-size limit, JSON bodies only on
the API, security headers, and one structured log line per request. Bodies, which may hold
personal data, are never logged; paths hold receipt numbers only."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import orjson
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api_internal.problems import HTTP_MESSAGES, problem_body

log = structlog.get_logger()
# The API takes JSON bodies only. Without this check a form or text body would be answered
# "validation failed" on every field, which tells the client nothing about what is wrong.
API_PATHS = "/api/"
JSON_MEDIA_TYPE = "application/json"
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
    (b"referrer-policy", b"no-referrer"),
]


def _problem_bytes(status: int, **extra: Any) -> bytes:
    code, zh, en = HTTP_MESSAGES[status]
    return orjson.dumps(problem_body(status, code, zh, en, **extra))


class RequestEnvelope:
    """``max_body`` bounds every body but those of the ``uploads`` paths (a console form with a
    file), which ``max_upload_body`` bounds: a file somewhat over the console's limit is still
    read and answered next to its field; a body beyond that is refused before it is read."""

    def __init__(
        self,
        app: ASGIApp,
        max_body: int,
        uploads: re.Pattern[str] | None = None,
        max_upload_body: int = 0,
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.uploads, self.max_upload_body = uploads, max_upload_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        extra = [*SECURITY_HEADERS, (b"x-request-id", request_id.encode("latin-1"))]

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        refusal = self._refusal(scope["path"], headers) or self._media_type_refusal(
            scope["path"], headers
        )
        try:
            if refusal is None:
                await self.app(scope, receive, send_with_headers)
            else:
                status, body = refusal
                await send_with_headers(
                    {
                        "type": "http.response.start",
                        "status": status,
                        "headers": [(b"content-type", b"application/problem+json")],
                    }
                )
                await send({"type": "http.response.body", "body": body})
        finally:
            log.info(
                "request_completed",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
                actor_id=scope.get("state", {}).get("actor_id"),
            )
            structlog.contextvars.clear_contextvars()

    def _refusal(self, path: str, headers: dict[bytes, bytes]) -> tuple[int, bytes] | None:
        length = headers.get(b"content-length")
        if length is None:
            if b"transfer-encoding" in headers:  # a body of unknown size: ask for its length
                return 411, _problem_bytes(411)
            return None
        upload = self.uploads is not None and self.uploads.fullmatch(path) is not None
        limit = self.max_upload_body if upload else self.max_body
        if not length.isdigit() or int(length) > limit:
            return 413, _problem_bytes(413, max_bytes=limit)
        return None

    @staticmethod
    def _media_type_refusal(path: str, headers: dict[bytes, bytes]) -> tuple[int, bytes] | None:
        """415 for a body on the API that is not JSON (application/json or a +json type)."""
        length = headers.get(b"content-length", b"0")
        if not path.startswith(API_PATHS) or not length.isdigit() or int(length) == 0:
            return None
        declared = headers.get(b"content-type", b"").decode("latin-1")
        media_type = declared.split(";", 1)[0].strip().lower()
        if media_type == JSON_MEDIA_TYPE or (
            media_type.startswith("application/") and media_type.endswith("+json")
        ):
            return None
        return 415, _problem_bytes(415, expected=JSON_MEDIA_TYPE)
