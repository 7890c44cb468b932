"""What every page of the staff console shares (issue 5; DESIGN.md decision 9): templates,
security headers, the logged-in person, CSRF-checked forms, and errors as pages in Chinese.

Pages are server-rendered and work without JavaScript: a form posts, the command runs through
the same application service as the JSON route, and the answer is a 303 redirect to the page
(with a fixed message code), or the page again with the error next to the field and what was
typed kept. Nothing a person does ends in a stack trace or a JSON blob: ``PageRoute`` turns
every refusal into a page (403/404 in Chinese, a login redirect for an ended session).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import structlog
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, RedirectResponse, Response

from api_internal import pages_cookies as cookies
from api_internal.deps import Backend, BackendDep
from api_internal.problems import HTTP_MESSAGES, status_of
from api_internal.sessions import TOUCH_GRANULARITY, Ended, Session
from domain.actor import ROLE_NAMES_ZH, Actor
from domain.calendar import SHANGHAI, CoverageStatus
from domain.errors import DomainError, InvalidInput, NotFound

log = structlog.get_logger()
HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
# No inline script or style anywhere: everything comes from /static on this origin.
CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
HSTS = "max-age=31536000"
ERROR_TITLES = {
    400: "请求有误",
    401: "请先登录",
    403: "无权访问",
    404: "没有找到该页面",
    405: "不支持该操作",
    409: "操作未能完成",
    410: "已删除",
    413: "提交的内容过大",
    422: "提交的内容有误",
    500: "系统内部错误",
}


def when(iso: str | None) -> str:
    """An ISO moment as people read it in Asia/Shanghai: 2026-11-24 12:00."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


WEEKDAYS_ZH = "一二三四五六日"


def weekday(iso_day: str) -> str:
    """星期几 of an ISO date."""
    return f"星期{WEEKDAYS_ZH[date.fromisoformat(iso_day).weekday()]}"


def size(octets: int) -> str:
    return f"{octets / 1024 / 1024:.1f} MB" if octets >= 1024 * 1024 else f"{octets / 1024:.0f} KB"


ENV.filters |= {"when": when, "weekday": weekday, "size": size}
ENV.globals["HALF_ZH"] = {"am": "上午", "pm": "下午"}
# Every page's macros (errors next to fields, deadlines), without an import in each template.
ENV.globals["m"] = ENV.get_template("_macros.html").module


@dataclass(frozen=True)
class Shown:
    """What every page's frame needs of the request: where it is, and whether the person
    switched on the large text (大字版)."""

    path: str = "/console"
    large_text: bool = False


# Set by PageRoute for the request; run_in_threadpool carries it into the sync endpoints.
PLAIN = Shown()
SHOWN: ContextVar[Shown] = ContextVar("console_page", default=PLAIN)


class LoginNeeded(Exception):
    """No session, or it ended: the page sends the person to the login page, which says why
    (``why``: a message of pages_auth, "expired" or "lifetime")."""

    def __init__(self, ended: bool, why: str = "expired") -> None:
        super().__init__("login needed")
        self.ended = ended
        self.why = why


class CsrfRefused(Exception):
    """A form without the session's CSRF token (or with another one): nothing is done."""


class FormInvalid(InvalidInput):
    """What the page itself finds wrong with a form before any command runs, every field with
    its message at once (a domain refusal names one field); ``status`` is 413 for a file too
    large, 422 otherwise. Nothing has changed when it is raised."""

    def __init__(self, errors: dict[str, str], status: int = 422) -> None:
        super().__init__("；".join(errors.values()), "the form has errors", code="form_invalid")
        self.errors = errors
        self.status = status


@dataclass(frozen=True)
class ConsoleUser:
    actor: Actor
    token: str
    csrf: str
    display_name: str
    username: str
    role_zh: str
    agency_name: str
    session_ends: datetime  # at the earliest, if nothing more is done (the session slides)
    minutes_left: int
    idle_minutes: int
    max_hours: int = 12  # the absolute lifetime: the session ends then whatever is done
    # Set while staff must be warned that the working-day calendar ends (issue 16): from
    # 1 November while next year is not covered; base.html shows it on every page.
    calendar_warning: CoverageStatus | None = None


def console_user(request: Request, backend: BackendDep) -> ConsoleUser:
    """The logged-in person, sliding the session's idle timeout (as a bearer token does)."""
    token = cookies.session_token(request)
    now = backend.clock()
    session = backend.sessions.resume(token, now) if token else Ended.UNKNOWN
    if token is None or not isinstance(session, Session):
        why = "lifetime" if session is Ended.LIFETIME else "expired"
        raise LoginNeeded(ended=token is not None, why=why)
    actor = session.actor
    request.state.actor_id = actor.actor_id  # for the request's log line
    account = backend.services.staff.account(actor.actor_id)
    # The session slides to the minute (api_internal.sessions): it lasts at least this long,
    # and never past its absolute end.
    ends = min(now + backend.sessions.idle - TOUCH_GRANULARITY, session.ends_by)
    coverage = backend.calendar_watch.status()  # kept for the day: cheap on every page
    return ConsoleUser(
        actor=actor,
        token=token,
        csrf=cookies.csrf_token(token),
        display_name=account.display_name,
        username=account.username,
        role_zh=ROLE_NAMES_ZH[actor.role],
        agency_name=backend.agencies.get(actor.agency).name,
        session_ends=ends.astimezone(SHANGHAI),
        minutes_left=int((ends - now).total_seconds() // 60),
        idle_minutes=backend.idle_timeout_minutes,
        max_hours=backend.sessions.lifetime // timedelta(hours=1),
        calendar_warning=coverage if coverage.warn else None,
    )


UserDep = Annotated[ConsoleUser, Depends(console_user)]


async def checked_form(request: Request, user: UserDep) -> FormData:
    """The posted form, once its CSRF token is the session's (SameSite=Strict is the second
    line of defence: a cross-site form never carries the cookie)."""
    form = await request.form()
    given = form.get("csrf_token")
    if not cookies.same(given if isinstance(given, str) else None, user.csrf):
        raise CsrfRefused
    return form


FormDep = Annotated[FormData, Depends(checked_form)]


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def texts(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str) and v]


def render(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("user", None)
    context.setdefault("message", None)
    context.setdefault("errors", {})
    context.setdefault("csrf", "")
    context["shown"] = SHOWN.get()
    return HTMLResponse(ENV.get_template(template).render(**context), status)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def error_page(status: int, detail: str | None = None) -> HTMLResponse:
    title = ERROR_TITLES.get(status, "请求无法处理")
    if detail is None:
        detail = HTTP_MESSAGES.get(status, ("", title, ""))[1]
    return render("error.html", status, title=title, detail=detail, code=status)


def field_errors(error: DomainError, fields: Mapping[str, str], form_key: str) -> dict[str, str]:
    """A domain refusal placed next to the field it names (``fields`` maps the domain's field
    names to the page's); anything else next to the form's button."""
    key = fields.get(error.field or "", form_key)
    return {key: error.message_zh}


def login_redirect(request: Request, ended: bool, why: str = "expired") -> RedirectResponse:
    target = request.url.path
    if request.method == "GET" and request.url.query:
        target += f"?{request.url.query}"
    query = {"next": target} if request.method == "GET" else {}
    if ended:
        query["m"] = why
    return see_other("/console/login" + (f"?{urlencode(query)}" if query else ""))


def secure(request: Request, response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    if cookies.is_tls(request):
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class PageRoute(APIRoute):
    """A console route: refusals become pages, and every answer gets the page headers."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            large = cookies.read(request, cookies.LARGE_TEXT) == "1"
            SHOWN.set(Shown(request.url.path, large))
            try:
                response = await handler(request)
            except LoginNeeded as needed:
                response = login_redirect(request, needed.ended, needed.why)
            except CsrfRefused:
                response = error_page(
                    403, "表单已失效或来源不明，未执行任何操作。请返回页面刷新后重试。"
                )
            except DomainError as error:
                response = error_page(status_of(error), error.message_zh)
            except RequestValidationError:
                response = error_page(400)
            except StarletteHTTPException as error:
                response = error_page(error.status_code)
            except Exception:
                log.exception("page_failed", path=request.url.path)
                response = error_page(500)
            return secure(request, response)

        return page


def backend_of(request: Request) -> Backend:
    found: Backend = request.app.state.backend
    return found


# What a receipt number in a console address may look like; anything else is no case at all.
RECEIPT = re.compile(r"[A-Za-z0-9-]{1,40}")


def receipt_of(value: str, what_zh: str, what_en: str) -> str:
    """``value`` as a receipt number (upper case), or NotFound naming ``what``."""
    if not RECEIPT.fullmatch(value):
        raise NotFound(f"{what_zh}不存在", f"{what_en} not found")
    return value.upper()
