"""What keeps anonymous visitors from filling the public side through the portal's forms, and
other sites from posting into them (a security review of issue 5).

The filing and booking forms keep a server-side draft between their steps (pages_drafts), with
the files uploaded so far, for anyone who asks. So: starting a draft and uploading into one are
counted per client address (429 beyond DraftLimits.steps, with what was typed kept); the files
are held within the budgets of pages_drafts (a file beyond the draft's or the address's budget
is refused next to its field and not kept); and when all drafts together are full, the upload
step answers a page saying 系统繁忙 (503) and keeps nothing.

A form posted from another site (``Sec-Fetch-Site`` cross-site or same-site) is refused before
anything is read. SameSite=Lax keeps the visitor's cookies off such a post, but the answer could
still set new ones, replacing the visitor's draft or tracking grant with one of the other site's
making; and a sibling site's post carries the cookies. (A browser that sends no such header is
let through: this adds to SameSite, it does not replace it.)"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, Response

from api_public.pages_render import backend_of, render
from projections.client_address import client_key_of

# A person who starts a form or uploads again gets the rest of the minute to wait.
STARTED_TOO_OFTEN = (
    "开始新的申报过于频繁，请 {} 秒后再点下面的按钮（已填写的内容仍在下面，尚未保存）"
)
UPLOADED_TOO_OFTEN = "上传过于频繁，所选文件未保存，请 {} 秒后重新选择并上传"
BUSY_RETRY_SECONDS = 900


class PageStop(Exception):
    """A page that answers instead of the one asked for (refused from another site, or the
    system busy), rendered by the handler ``install`` registers."""

    def __init__(
        self,
        template: str,
        status: int,
        context: dict[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(template)
        self.template, self.status, self.retry_after = template, status, retry_after
        self.context = context or {}


def install(app: FastAPI) -> None:
    async def stopped(request: Request, stop: Exception) -> Response:
        assert isinstance(stop, PageStop)  # noqa: S101 - registered for PageStop only
        response = render(request, stop.template, stop.context, stop.status)
        if stop.retry_after is not None:
            response.headers["Retry-After"] = str(stop.retry_after)
        return response

    app.add_exception_handler(PageStop, stopped)


def from_another_site(request: Request) -> bool:
    """A browser says where a form was posted from (``Sec-Fetch-Site``); another site, or a
    sibling one, may not act for the person whose cookies came along."""
    return request.headers.get("sec-fetch-site", "same-origin") in {"cross-site", "same-site"}


def same_site_forms(request: Request) -> None:
    """Router dependency: a POST from another site is refused (403) before it is read."""
    if request.method == "POST" and from_another_site(request):
        raise PageStop("elsewhere.html", 403)


def too_often(request: Request) -> int:
    """0 when this address may start a draft or upload into one now (and it is counted),
    else the seconds to wait."""
    wait = backend_of(request).drafts.steps.take(client_key_of(request))
    return max(1, round(wait)) if wait else 0


def slowed(response: Response, wait: int) -> Response:
    response.headers["Retry-After"] = str(wait)
    return response


def busy(back: str) -> PageStop:
    """系统繁忙: all drafts together hold as many files as the installation allows."""
    return PageStop("busy.html", 503, {"back": back}, BUSY_RETRY_SECONDS)
