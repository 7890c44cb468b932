"""What both APIs' OpenAPI documents and ``/docs`` pages share (DESIGN.md decision 9: both APIs
are real products, OpenAPI documented, clear errors). Neutral: imports nothing of the project,
so the staff API and the public API both use it (like ``projections.store``).

- **The docs page is served from the installation, under a CSP.** Swagger UI's script and
  stylesheet come from the ``fastapi-offline`` package (a dependency, never copied into the
  repository) through our own routes; the page's one script of ours is a static file
  (``static/swagger-init.js``), so the page needs no inline script and no other origin:
  nothing that a third party serves runs in the console's origin. ReDoc is switched off (its
  styles are injected inline, which the CSP forbids).
- **Every refusal is declared as it is sent.** Each operation lists every status it can answer
  (the app says which by rule, e.g. its middleware's 411/413; a route adds its own with
  ``problems``), each as ``application/problem+json`` with the one shared ``Problem`` schema,
  FastAPI's own 422 included, so a schema-driven fuzzer finds the documents true.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from html import escape
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.responses import HTMLResponse, Response

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
DOCS_URL = "/docs"
ASSETS_URL = "/docs/assets"
# Nothing but this origin: Swagger UI's icons are data: images in its stylesheet; its validator
# badge (an outside service) is switched off in swagger-init.js.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_SWAGGER_DIR = Path(str(files("fastapi_offline"))) / "static"
_OWN_DIR = Path(__file__).resolve().parent / "static"
ASSETS: dict[str, tuple[Path, str]] = {
    "swagger-ui-bundle.js": (_SWAGGER_DIR / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": (_SWAGGER_DIR / "swagger-ui.css", "text/css"),
    "favicon.png": (_SWAGGER_DIR / "favicon.png", "image/png"),
    "swagger-init.js": (_OWN_DIR / "swagger-init.js", "text/javascript"),
}
PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — OpenAPI</title>
<link rel="icon" href="{assets}/favicon.png">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-init.js"></script>
</body>
</html>
"""


def install_docs(app: FastAPI) -> None:
    """``/docs`` and its assets on ``app`` (built with ``docs_url=None, redoc_url=None``)."""
    page = PAGE.format(
        title=escape(app.title), assets=ASSETS_URL, openapi=escape(app.openapi_url or "")
    )

    @app.get(DOCS_URL, include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_CSP})

    @app.get(ASSETS_URL + "/{name}", include_in_schema=False)
    def asset(name: str) -> Response:
        found = ASSETS.get(name)
        if found is None:
            return Response(status_code=404)
        path, media_type = found
        charset = "" if media_type.startswith("image/") else "; charset=utf-8"
        return Response(path.read_bytes(), media_type=media_type + charset)


# -- problem details in the OpenAPI documents ------------------------------------------------

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "问题详情（RFC 9457）：每个错误答复的同一形状。除下列成员外，"
    "可带说明该问题的其他成员（如 `max_bytes`、`expected`、`locked_until`、登录票据 `ticket`）。"
    " / Problem details (RFC 9457), the one shape of every refusal; further members name the "
    "problem's particulars.",
    "required": ["type", "title", "status", "code", "detail", "message_zh", "message_en"],
    "properties": {
        "type": {"type": "string", "description": "问题类型的标识 URI / the problem type's URI"},
        "title": {"type": "string", "description": "英文说明（同 message_en）"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "code": {"type": "string", "minLength": 1, "description": "稳定的错误代码 stable code"},
        "detail": {"type": "string", "description": "中文说明（同 message_zh）"},
        "message_zh": {"type": "string", "description": "中文说明"},
        "message_en": {"type": "string", "description": "English message"},
        "field": {"type": "string", "description": "出错的字段、参数、头或文件"},
        "errors": {
            "type": "array",
            "description": "校验未通过的各项（422 validation_failed）",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "type": {"type": "string"},
                    "message_en": {"type": "string"},
                },
            },
        },
        "max_bytes": {"type": "integer", "description": "请求或文件的字节上限"},
    },
    "additionalProperties": True,
}
REASONS = {
    400: "请求格式不正确（JSON 或 multipart 无法解析）/ malformed request",
    401: "未登录、会话已失效或登录失败 / not authenticated",
    403: "无权（角色或管辖范围），或查询码不正确 / not allowed",
    404: "不存在 / not found",
    409: "当前状态不允许，或与他人的修改冲突 / conflict with the current state",
    410: "已删除（随申请人的个人信息）/ gone",
    411: "请求体须注明 Content-Length / length required",
    413: "请求或文件过大 / too large",
    415: "请求体或文件的类型不被接受 / unsupported media type",
    422: "数据不符合规则 / the request does not validate",
    429: "请求过于频繁 / too many requests",
    503: "暂时无法处理，未保存任何内容 / unavailable just now, nothing kept",
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "多少秒后再试 / seconds to wait before trying again",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}
Responses = dict[int | str, dict[str, Any]]
# The statuses an operation answers by the app's own rules: (path, method, operation) -> them.
Rule = Callable[[str, str, dict[str, Any]], Iterable[int]]


def problems(*statuses: int, **descriptions: str) -> Responses:
    """A route's own refusals for its ``responses=``: ``problems(403, 404, s409="...")``."""
    return {s: {"description": descriptions.get(f"s{s}", REASONS[s])} for s in statuses}


def declare_problems(app: FastAPI, rule: Rule, headers: dict[int, dict[str, Any]]) -> None:
    """Make ``app``'s OpenAPI document declare every refusal as problem details: the statuses
    ``rule`` names are added to each operation, and every 4xx/5xx response (those routes
    declared, and FastAPI's 422) gets the problem media type, the shared schema and the
    headers that ``headers`` (joined with Retry-After on 429 and 503) names for its status."""
    generate = app.openapi
    by_status = {429: RETRY_AFTER, 503: RETRY_AFTER, **headers}

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = generate()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422, replaced
            schemas.pop(unused, None)
        schemas["Problem"] = PROBLEM_SCHEMA
        for path, operations in document.get("paths", {}).items():
            for method, operation in operations.items():
                _declare(operation, rule(path, method, operation), by_status)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _declare(
    operation: dict[str, Any], statuses: Iterable[int], headers: dict[int, dict[str, Any]]
) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for added in statuses:
        responses.setdefault(str(added), {"description": REASONS[added]})
    for status, response in responses.items():
        if status[0] in "45":
            if response.get("description") == "Validation Error":  # FastAPI's own, in English
                response["description"] = REASONS[422]
            response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}}
            if int(status) in headers:
                response["headers"] = headers[int(status)]
    operation["responses"] = dict(sorted(responses.items()))


def has_json_body(operation: dict[str, Any]) -> bool:
    content = operation.get("requestBody", {}).get("content", {})
    return "application/json" in content


def multipart_body(properties: dict[str, Any], required: list[str], files: str) -> dict[str, Any]:
    """``openapi_extra`` of a route that reads its multipart form itself: the named
    ``properties`` (a JSON object property is sent as a JSON text part) and any other field as
    a file (``files`` says which)."""
    encoding = {
        name: {"contentType": "application/json"}
        for name, schema in properties.items()
        if schema.get("type") == "object"
    }
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": {"type": "string", "format": "binary", "description": files},
    }
    if required:
        schema["required"] = required
    content: dict[str, Any] = {"schema": schema}
    if encoding:
        content["encoding"] = encoding
    return {"requestBody": {"required": True, "content": {"multipart/form-data": content}}}
