"""How every portal page is rendered and sent (DESIGN.md decision 9; issue 5 "How the pages
are made"): Jinja2 templates in Simplified Chinese with the site's header, the 大字版 switch
and the operator's footer; dates and times in Asia/Shanghai; the page security headers (a CSP
without inline script or style, nosniff, no referrer, HSTS over TLS); redirects after POST
(303) and the cookies of the portal's server-side records (pages_drafts)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from starlette.templating import Jinja2Templates

from api_public.pages_drafts import Handle, PortalDrafts
from api_public.routes import PublicBackend

SHANGHAI = ZoneInfo("Asia/Shanghai")
HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
TEMPLATES.env.trim_blocks = TEMPLATES.env.lstrip_blocks = True  # tidy HTML source
STATIC_DIR = HERE / "static"
PAGE_CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
LARGE_TEXT_COOKIE = "fg_large_text"
WEEKDAYS = "一二三四五六日"


def _when(value: str | None) -> str:
    """An ISO date and time as people read it, in Shanghai time, with the weekday."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(SHANGHAI)
    return f"{_day_of(moment.date())} {moment:%H:%M}"


def _day_of(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日（星期{WEEKDAYS[day.weekday()]}）"


def _day(value: str | None) -> str:
    if not value:
        return ""
    try:
        return _day_of(date.fromisoformat(value[:10]))
    except ValueError:
        return value


def _size(value: int) -> str:
    if value >= 1024 * 1024:
        return f"{value / 1024 / 1024:.1f} MB"
    return f"{max(1, round(value / 1024))} KB"


def _district_options(districts: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    """(district, "district（its brigade）") for a select: the agency is named as one chooses."""
    return [(district, f"{district}（{agency.name}）") for district, agency in districts]


TEMPLATES.env.filters["when"] = _when
TEMPLATES.env.filters["district_options"] = _district_options
TEMPLATES.env.filters["day"] = _day
TEMPLATES.env.filters["size"] = _size


def backend_of(request: Request) -> PublicBackend:
    found: PublicBackend = request.app.state.backend
    return found


def drafts_of(request: Request) -> PortalDrafts:
    found: PortalDrafts = request.app.state.portal_drafts
    return found


def is_tls(request: Request) -> bool:
    return request.url.scheme == "https"


def secure_headers(request: Request, response: Response) -> Response:
    """The headers every page carries; the API's middleware keeps what is set here."""
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("Cache-Control", "no-store")
    if is_tls(request):
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


def site_name(backend: PublicBackend) -> str:
    return f"{backend.catalogue.city}消防“互联网+”便民服务平台"


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> Response:
    backend = backend_of(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    full = {
        "catalogue": backend.catalogue,
        "operator": backend.operator,
        "site_name": site_name(backend),
        "large_text": request.cookies.get(LARGE_TEXT_COOKIE) == "1",
        "here": here if request.method == "GET" else request.url.path,
        "path": request.url.path,
        "values": {},
        "errors": {},
        **(context or {}),
    }
    return secure_headers(request, TEMPLATES.TemplateResponse(request, name, full, status))


def redirect(request: Request, url: str) -> Response:
    """After a POST: 303, so that reloading the next page never posts again."""
    return secure_headers(request, RedirectResponse(url, status_code=303))


def set_handle(
    request: Request, response: Response, cookie: str, handle: Handle, path: str, ttl: int
) -> None:
    response.set_cookie(
        cookie,
        handle.cookie,
        max_age=ttl,
        path=path,
        httponly=True,
        secure=is_tls(request),
        samesite="lax",  # a form posted from another site arrives without it
    )


def clear_handle(request: Request, response: Response, cookie: str, path: str) -> None:
    response.delete_cookie(cookie, path=path, httponly=True, secure=is_tls(request), samesite="lax")


def handle_of(request: Request, cookie: str) -> Handle | None:
    return Handle.parse(request.cookies.get(cookie))


def safe_back(value: str | None) -> str:
    """Where to return after the 大字版 switch: a path of this site, never another site."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value[:500]
