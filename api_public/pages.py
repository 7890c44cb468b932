"""The public portal's pages (issue 5; RULES.md Art. 7-16, 20, 29): the home page with a
service guide (办事指南) for each service, the search over published certificates and
inspection results, certificate verification (the page the certificate's QR code opens), the
published inspection results, and the 大字版 switch. The filing and booking forms and case
tracking are in pages_filing, pages_booking and pages_tracking.

Every page is server-rendered, works without JavaScript and reads only the public read models
(the same queries as the JSON API); none of them shows personal data."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from api_public import (
    pages_booking,
    pages_filing,
    pages_limits,
    pages_steps,
    pages_tracking,
    pages_tracking_steps,
)
from api_public.pages_drafts import PortalDrafts
from api_public.pages_render import (
    LARGE_TEXT_COOKIE,
    STATIC_DIR,
    backend_of,
    is_tls,
    render,
    safe_back,
    secure_headers,
)
from api_public.routes import PublicBackend, rate_limited

router = APIRouter(dependencies=[Depends(rate_limited)], include_in_schema=False)
RESULTS_PER_PAGE = 20
PASSED = {"yes": True, "no": False}


def filing_kinds(request: Request) -> dict[str, str]:
    """Filing kind -> its name, from the catalogue (the domain's names)."""
    return {g.kind: g.title for g in backend_of(request).catalogue.of("filing")}


@router.get("/")
def home(request: Request) -> Response:
    return render(request, "home.html")


@router.get("/guide/{slug}")
def guide(slug: str, request: Request) -> Response:
    found = backend_of(request).catalogue.guide(slug[:64])
    if found is None:
        return render(request, "not_found.html", {"what": "办事指南"}, 404)
    return render(request, "guide.html", {"guide": found})


@router.post("/large-text")
def large_text(request: Request, back: Annotated[str, Form(max_length=500)] = "/") -> Response:
    """大字版: a cookie the pages read, so the mode stays on across pages and visits."""
    response = RedirectResponse(safe_back(back), status_code=303)
    if request.cookies.get(LARGE_TEXT_COOKIE) == "1":
        response.delete_cookie(LARGE_TEXT_COOKIE, path="/", samesite="lax", secure=is_tls(request))
    else:
        response.set_cookie(
            LARGE_TEXT_COOKIE,
            "1",
            max_age=365 * 24 * 3600,
            path="/",
            httponly=True,
            samesite="lax",
            secure=is_tls(request),
        )
    return secure_headers(request, response)


@router.get("/search")
def search(request: Request, q: Annotated[str, Query(max_length=200)] = "") -> Response:
    """The home page's search box: published certificates and inspection results whose
    number, organisation or project contains the text typed."""
    text = q.strip()[:100]
    queries = backend_of(request).queries
    certificates = queries.search_certificates(text) if text else []
    results = queries.inspection_results(text=text, size=RESULTS_PER_PAGE) if text else None
    return render(
        request,
        "search.html",
        {
            "q": text,
            "certificates": certificates,
            "results": results,
            "kinds": filing_kinds(request),
        },
    )


@router.get("/verify")
def verify_form(request: Request, number: Annotated[str, Query(max_length=200)] = "") -> Response:
    if number.strip():
        return secure_headers(
            request,
            RedirectResponse(f"/verify/{quote(number.strip()[:64], safe='')}", status_code=303),
        )
    return render(request, "verify.html", {"number": "", "certificate": None, "asked": False})


@router.get("/verify/{certificate_number}")
def verify(certificate_number: str, request: Request) -> Response:
    """Art. 10: anyone may check a certificate (its QR code opens this page): valid,
    withdrawn or unknown, said in words, with the certificate's public facts."""
    number = certificate_number.strip()[:64]
    found = backend_of(request).queries.certificate(number)
    context = {
        "number": number,
        "certificate": found,
        "asked": True,
        "kinds": filing_kinds(request),
    }
    response = render(request, "verify.html", context, 200 if found else 404)
    response.headers["Cache-Control"] = "no-cache"
    return response


@router.get("/results")
def results(
    request: Request,
    agency: Annotated[str, Query(max_length=40)] = "",
    kind: Annotated[str, Query(max_length=20)] = "",
    passed: Annotated[str, Query(max_length=5)] = "",
    page: Annotated[str, Query(max_length=6)] = "1",
) -> Response:
    """Art. 10, 20: the published inspection results, filtered by agency, kind and outcome.
    Anything unexpected in the address is ignored rather than refused."""
    catalogue = backend_of(request).catalogue
    chosen = {
        "agency": agency if catalogue.agency(agency) else "",
        "kind": kind if kind in filing_kinds(request) else "",
        "passed": passed if passed in PASSED else "",
    }
    number = int(page) if page.isascii() and page.isdigit() and 1 <= int(page) <= 10_000 else 1
    found = backend_of(request).queries.inspection_results(
        agency=chosen["agency"] or None,
        kind=chosen["kind"] or None,
        passed=PASSED.get(chosen["passed"]),
        page=number,
        size=RESULTS_PER_PAGE,
    )
    pages = max(1, -(-found.total // RESULTS_PER_PAGE))
    query = "&".join(f"{k}={quote(v)}" for k, v in chosen.items() if v)
    return render(
        request,
        "results.html",
        {
            "found": found,
            "values": chosen,
            "pages": pages,
            "query": query,
            "kinds": filing_kinds(request),
        },
    )


PROBLEM_HEADINGS = {
    404: "没有找到该页面",
    405: "不支持该操作",
    429: "请求过于频繁",
    500: "系统出错了",
}


def problem_page(
    request: Request, status: int, detail: str, headers: dict[str, str] | None
) -> Response:
    """A problem as a page in Chinese (the API answers the same problem as JSON)."""
    response = render(
        request,
        "problem.html",
        {
            "heading": PROBLEM_HEADINGS.get(status, "请求无法处理"),
            "detail": detail,
            "retry_after": (headers or {}).get("Retry-After"),
        },
        status,
    )
    response.headers.update(headers or {})
    return response


def install_pages(app: FastAPI, backend: PublicBackend) -> None:
    """Mount the portal on the public app: its pages, its records between steps, /static."""
    # Looked up at each use: the backend's clock may be replaced after the app is built.
    app.state.portal_drafts = PortalDrafts(backend.queries.store, lambda: backend.clock())  # noqa: PLW0108
    pages_limits.install(app)  # the 系统繁忙 and "posted from another site" pages
    app.state.problem_page = problem_page  # any other problem met by a person's browser
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(router)
    app.include_router(pages_filing.router)
    app.include_router(pages_booking.router)
    app.include_router(pages_steps.router)
    app.include_router(pages_tracking.router)
    app.include_router(pages_tracking_steps.router)
