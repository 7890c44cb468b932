"""Track a case on the portal (RULES.md Art. 9, 15, 16, 29): the receipt number and the query
code open a page with every step and its date, the current deadline, every supplement notice
with all its items, the reply with the inspection half day, the reason a submission was not
taken in, the certificate's download, and the applicant's own steps taken online (the forms
for them are in pages_tracking_steps).

The answer is the JSON API's own (``routes.track_case``: the same queries, the same query-code
check and its rate limit), so the page and ``GET /api/v1/cases/{receipt}`` never disagree.
Nothing is shown without the query code. After the code is checked once, a short-lived grant
(pages_drafts, behind an HttpOnly cookie scoped to /track) lets the page be reloaded without
the code in the URL and without counting as another attempt."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response

from api_public.pages_drafts import Handle
from api_public.pages_forms import Form, megabytes, text_fields
from api_public.pages_limits import same_site_forms
from api_public.pages_render import (
    backend_of,
    clear_handle,
    drafts_of,
    handle_of,
    redirect,
    render,
    set_handle,
)
from api_public.pages_steps import ACCEPT
from api_public.problems import PublicProblem
from api_public.ratelimit import RateLimiter
from api_public.routes import rate_limited, track_case

# A query code posted from another site must not replace the grant this browser holds.
router = APIRouter(
    dependencies=[Depends(rate_limited), Depends(same_site_forms)], include_in_schema=False
)
COOKIE, PATH, PURPOSE = "fg_track", "/track", "tracking"
GRANT_TTL = 15 * 60
MESSAGES = {
    "case_not_found": (
        "receipt_number",
        "没有该受理编号的记录，请核对编号；刚提交的事项请稍候再查",
    ),
    "wrong_query_code": ("query_code", "查询码不正确，请核对受理回执上的查询码（区分大小写）"),
}


class _Counted(RateLimiter):
    """The query code was checked, and counted, when the grant was made."""

    def __init__(self) -> None:
        super().__init__(1)

    def take(self, client: str) -> float:
        return 0.0


COUNTED = _Counted()


@router.get("/track")
def track_form(request: Request) -> Response:
    return render(request, "track_form.html")


@router.post("/track")
async def track_post(request: Request) -> Response:
    form = Form(await text_fields(request))
    receipt = form.text("receipt_number", "受理编号", 32).upper()
    code = form.text("query_code", "查询码", 64)
    if form.errors:
        return render(
            request, "track_form.html", {"values": form.values, "errors": form.errors}, 422
        )
    backend = backend_of(request)
    try:
        track_case(receipt, request, backend, Response(), x_query_code=code)
    except PublicProblem as problem:
        field, message = MESSAGES.get(problem.code, ("query_code", problem.message_zh))
        headers = {}
        if "retry_after" in problem.extra:
            wait = problem.extra["retry_after"]
            message = f"查询码尝试次数过多，请 {wait} 秒后再试"
            headers["Retry-After"] = str(wait)
        response = render(
            request,
            "track_form.html",
            {"values": form.values, "errors": {field: message}},
            problem.status,
        )
        response.headers.update(headers)
        return response
    granted_at = int(backend.clock().timestamp())
    grant = drafts_of(request).new(
        PURPOSE,
        {"receipt_number": receipt, "query_code": code, "granted_at": granted_at},
        GRANT_TTL,
    )
    response = redirect(request, f"/track/{quote(receipt)}")
    set_handle(request, response, COOKIE, grant, PATH, GRANT_TTL)
    return response


@router.get("/track/{receipt_number}")
def track_page(receipt_number: str, request: Request) -> Response:
    receipt = receipt_number.strip().upper()[:32]
    handle, grant = grant_of(request, receipt)
    if handle is None or grant is None:
        note = "请输入查询码后查看办理进度（为保护申请人信息，查询结果只保留 15 分钟）"
        return render(
            request, "track_form.html", {"values": {"receipt_number": receipt}, "note": note}
        )
    try:
        summary = summary_of(request, receipt, grant)
    except PublicProblem:
        return render(request, "track_form.html", {"values": {"receipt_number": receipt}})
    notice = grant.pop("notice", None)
    if notice is not None:  # shown once, after the step it tells about
        keep_grant(request, handle, grant)
    return case_page(request, summary, {"notice": notice})


def grant_of(request: Request, receipt: str) -> tuple[Handle | None, dict[str, Any] | None]:
    """The grant behind the cookie, when it is for ``receipt`` (and has not expired)."""
    handle = handle_of(request, COOKIE)
    grant = drafts_of(request).load(handle, PURPOSE)
    if grant is None or grant["receipt_number"] != receipt:
        return handle, None
    return handle, grant


def keep_grant(request: Request, handle: Handle, grant: dict[str, Any]) -> None:
    """Save the grant changed (a notice to show once) without making it last longer than the
    15 minutes from the moment the query code was checked."""
    now = int(backend_of(request).clock().timestamp())
    left = GRANT_TTL - (now - int(grant.get("granted_at", now)))
    drafts_of(request).save(handle, PURPOSE, grant, max(1, min(GRANT_TTL, left)))


def summary_of(request: Request, receipt: str, grant: dict[str, Any]) -> dict[str, Any]:
    """The JSON API's tracking of ``receipt`` with the code the grant holds (counted when the
    grant was made, so not again); PublicProblem when the case is gone or the code no longer
    fits."""
    backend = replace(backend_of(request), code_attempts=COUNTED)
    found: dict[str, Any] = track_case(
        receipt, request, backend, Response(), x_query_code=grant["query_code"]
    )
    return found


def case_page(
    request: Request,
    case: dict[str, Any],
    context: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request, "track.html", {"case": case, **facts(request, case), **(context or {})}, status
    )


def facts(request: Request, case: dict[str, Any]) -> dict[str, Any]:
    """Names for the codes the summary carries: kind, notice problems, the certificate's links."""
    catalogue = backend_of(request).catalogue
    service = "booking" if case["case_type"] == "booking" else "filing"
    guide = catalogue.kind(service, case.get("kind") or "")
    number = case.get("certificate_number")
    links = {}
    if number and case["status"] != "certificate_revoked":
        links = {
            "pdf": f"/api/v1/certificates/{quote(number, safe='')}/pdf",
            "verify": f"/verify/{quote(number, safe='')}",
        }
    intake = backend_of(request).intake
    return {
        "kind_name": guide.title if guide else "",
        "problems": catalogue.notice_problems,
        "certificate_links": links,
        "review_days": catalogue.review_working_days,
        # The applicant's own steps online (pages_tracking_steps): offered only where this
        # installation takes submissions, and not again while one of its kind still waits.
        "steps_online": intake is not None,
        "waiting": {f["kind"] for f in case.get("follow_ups", []) if f["status"] == "submitted"},
        "accept": ACCEPT,
        "max_file": megabytes(intake.max_file_bytes) if intake else "",
    }


@router.post("/track/forget")
def forget(request: Request) -> Response:
    """退出查询: on a shared computer, the next person cannot reopen the page."""
    handle = handle_of(request, COOKIE)
    drafts_of(request).delete(handle)
    response = redirect(request, "/track")
    clear_handle(request, response, COOKIE, PATH)
    return response
