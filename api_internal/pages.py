"""The staff console (issue 5): server-rendered pages in Simplified Chinese over the staff API's
own services and read models, mounted on the internal app next to the JSON API.

- ``/console/login`` (+ ``/console/login/totp``, ``/console/login/role``), ``/console/logout``:
  api_internal.pages_auth
- ``/console`` my work, ``/console/find``: api_internal.pages_work
- ``/console/filings/{receipt}`` filing review, referral, withdrawal: api_internal.pages_filings
- ``/console/bookings/{receipt}`` booking handling: api_internal.pages_bookings (the permit on
  the spot of the notice-and-commitment route, with its upload: api_internal.pages_permit and
  api_internal.pages_uploads)
- ``/console/cases/{receipt}/history``, ``/console/documents/{sha256hex}``: api_internal.pages_cases
- ``/console/calendar`` how far the working-day calendar reaches, and how to load a year:
  api_internal.pages_calendar (the banner of every page while next year is missing: base.html)
- ``/console/security/login-attempts`` the failed logins, for the security administrator:
  api_internal.pages_security
- ``/static/...``: the console's own CSS and its one small script (no CDN)

Shared machinery (templates, headers, sessions, CSRF, error pages) is api_internal.pages_web;
the cookies are api_internal.pages_cookies.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from api_internal import (
    pages_auth,
    pages_bookings,
    pages_calendar,
    pages_cases,
    pages_filings,
    pages_security,
    pages_work,
)
from api_internal.pages_web import STATIC_DIR, PageRoute, error_page

PAGES = (
    pages_auth,
    pages_work,
    pages_filings,
    pages_bookings,
    pages_cases,
    pages_calendar,
    pages_security,
)

# Last: any other /console path is a page "not found", in Chinese, never a JSON problem.
fallback = APIRouter(route_class=PageRoute, include_in_schema=False)


@fallback.api_route("/console/{rest:path}", methods=["GET", "POST"])
def not_found(rest: str) -> Response:
    return error_page(404)


def install(app: FastAPI) -> None:
    for module in PAGES:
        app.include_router(module.router)
    app.include_router(fallback)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
