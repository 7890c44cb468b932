"""Login, its second step and logout of the staff console (RULES.md "Who acts", Art. 39).

The login is the JSON login's (api_internal.routes_auth): the same lockout after repeated
failures, the same padded failure time, the same session store, whose opaque token goes into
the console's cookie (api_internal.pages_cookies). The password is checked once, on the first
page, and kept nowhere. An account that needs a second factor (administrators, approvers) or
holds several roles then gets a second page: the one-time code, and a choice of the role to
act in. Between the two pages the browser holds only a login ticket (domain.services.
staff_login: random, stored hashed beside the sessions, five minutes, one login, five codes at
most, every wrong code counted towards the lockout like a wrong password) in an HttpOnly,
SameSite=Strict cookie, ``__Host-`` under TLS. Both login forms carry a double-submit CSRF
token (there is no session yet to bind one to). Failures are counted per account and source,
and a source failing across accounts is throttled (429, the page says when to try again).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from api_internal import pages_cookies as cookies
from api_internal.deps import Backend, BackendDep
from api_internal.login_throttle import LoginThrottled
from api_internal.pages_web import (
    CsrfRefused,
    FormDep,
    PageRoute,
    UserDep,
    render,
    see_other,
    text,
)
from api_internal.problems import status_of
from api_internal.routes_auth import finish_login, start_login
from domain.actor import ROLE_NAMES_ZH, Actor
from domain.calendar import SHANGHAI
from domain.errors import AuthenticationFailed, DomainError, InvalidInput
from domain.services.staff_login import CODE_ATTEMPTS_PER_TICKET, TICKET_LIFETIME, PendingLogin
from projections.client_address import client_key_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)
MESSAGES = {
    "expired": "会话已结束（超时或已退出），请重新登录。",
    "lifetime": "会话自登录起已满 {hours} 小时，按安全规定无论是否有操作均已结束，请重新登录。",
    "logged_out": "您已安全退出。",
    "totp_expired": "登录第二步已超时或已结束，请重新输入用户名和密码。",
}
CODE_PAGE, ROLE_PAGE = "/console/login/totp", "/console/login/role"
TICKET_SECONDS = int(TICKET_LIFETIME.total_seconds())


def safe_next(target: str | None) -> str:
    """Back to a console page only: never another site (an open redirect)."""
    if target and target.startswith("/console") and "//" not in target and "\\" not in target:
        return target
    return "/console"


async def login_form(request: Request) -> FormData:
    return await request.form()


LoginForm = Annotated[FormData, Depends(login_form)]


def _login_page(
    request: Request,
    template: str,
    status: int = 200,
    errors: dict[str, str] | None = None,
    **context: object,
) -> Response:
    """The page with a fresh double-submit token in its form and its cookie."""
    token = secrets.token_urlsafe(32)
    if not cookies.session_allowed(request):
        errors = {"form": "内网控制台须通过 HTTPS 访问（本机调试可用 http://127.0.0.1）。"}
    response = render(template, status, csrf=token, errors=errors or {}, **context)
    cookies.put(request, response, cookies.LOGIN_CSRF, token)
    return response


def _csrf_ok(request: Request, form: FormData) -> bool:
    given = form.get("csrf_token")
    expected = cookies.read(request, cookies.LOGIN_CSRF)
    return cookies.same(given if isinstance(given, str) else None, expected)


def _refusal(error: DomainError) -> str:
    if error.code == "account_locked" and error.details.get("locked_until"):
        until = error.details["locked_until"]
        moment = datetime.fromisoformat(until).astimezone(SHANGHAI).strftime("%H:%M")
        return f"{error.message_zh}（{moment} 后可再试）"
    return error.message_zh


def _throttled(request: Request, error: LoginThrottled, **context: object) -> Response:
    """The password page again, 429, saying when this address may try again."""
    minutes = -(-error.retry_after // 60)
    message = f"{error.message_zh}（约 {minutes} 分钟后可再试）"
    response = _login_page(request, "login.html", 429, {"form": message}, **context)
    response.headers["Retry-After"] = str(error.retry_after)
    return response


def _logged_in(request: Request, backend: Backend, actor: Actor, next_url: str) -> Response:
    response = see_other(safe_next(next_url))
    cookies.put(request, response, cookies.SESSION, backend.sessions.open(actor, backend.clock()))
    cookies.drop(request, response, cookies.LOGIN_CSRF)
    cookies.drop(request, response, cookies.PENDING)
    return response


def _step_page(pending: PendingLogin) -> str:
    return CODE_PAGE if pending.needs_second_factor else ROLE_PAGE


def _with_next(path: str, next_url: str) -> str:
    return path if next_url == "/console" else f"{path}?{urlencode({'next': next_url})}"


@router.get("/console/login")
def login_page(request: Request, backend: BackendDep) -> Response:
    token = cookies.session_token(request)
    if token and backend.sessions.touch(token, backend.clock()) is not None:
        return see_other(safe_next(request.query_params.get("next")))
    message = MESSAGES.get(request.query_params.get("m", ""))
    if message is not None:  # the lifetime's message names its hours
        message = message.format(hours=int(backend.sessions.lifetime.total_seconds() // 3600))
    return _login_page(
        request,
        "login.html",
        message=message,
        username="",
        next=safe_next(request.query_params.get("next")),
    )


@router.post("/console/login")
def login(request: Request, form: LoginForm, backend: BackendDep) -> Response:
    username, password = text(form, "username").strip(), text(form, "password")
    next_url = safe_next(text(form, "next"))
    errors: dict[str, str] = {}
    if not _csrf_ok(request, form):
        errors["form"] = "登录表单已失效，请重新输入后登录（请允许本站使用 Cookie）。"
    if not username:
        errors["username"] = "请输入用户名"
    if not password:
        errors["password"] = "请输入密码"  # noqa: S105 - a message, not a password
    if errors or not cookies.session_allowed(request):
        return _login_page(request, "login.html", 422, errors, username=username, next=next_url)
    try:
        started = start_login(
            backend, client_key_of(request), username, password, None, choose_role=True
        )
    except LoginThrottled as error:
        return _throttled(request, error, username=username, next=next_url)
    except AuthenticationFailed as error:
        field = "form" if error.code == "account_locked" else "password"
        return _login_page(
            request, "login.html", 401, {field: _refusal(error)}, username=username, next=next_url
        )
    except DomainError as error:
        return _login_page(
            request, "login.html", 422, {"form": error.message_zh}, username=username,
            next=next_url,
        )  # fmt: skip
    if isinstance(started, Actor):
        return _logged_in(request, backend, started, next_url)
    response = see_other(_with_next(_step_page(started), next_url))
    cookies.put(request, response, cookies.PENDING, started.ticket, TICKET_SECONDS)
    return response


def _pending(request: Request, backend: Backend) -> tuple[str, PendingLogin] | None:
    """The ticket of the browser's login in progress, and what it waits for."""
    ticket = cookies.read(request, cookies.PENDING)
    if not ticket:
        return None
    pending = backend.services.staff.login.pending(ticket, backend.sessions.tickets)
    return (ticket, pending) if pending is not None else None


def _ended(request: Request) -> Response:
    response = see_other("/console/login?m=totp_expired")
    cookies.drop(request, response, cookies.PENDING)
    return response


def _second_page(
    request: Request,
    pending: PendingLogin,
    next_url: str,
    status: int = 200,
    errors: dict[str, str] | None = None,
    role: str | None = None,
) -> Response:
    """The one-time code and/or the choice of role (a select only for several roles)."""
    return _login_page(
        request,
        "login_totp.html",
        status,
        errors,
        action=_step_page(pending),
        needs_code=pending.needs_second_factor,
        roles=[(str(r), ROLE_NAMES_ZH[r]) for r in pending.roles],
        role=role or str(pending.role),
        next=next_url,
        minutes=TICKET_SECONDS // 60,
        attempts=CODE_ATTEMPTS_PER_TICKET,
    )


@router.get(CODE_PAGE)
@router.get(ROLE_PAGE)
def second_step_page(request: Request, backend: BackendDep) -> Response:
    found = _pending(request, backend)
    if found is None:
        return _ended(request)
    next_url = safe_next(request.query_params.get("next"))
    if request.url.path != _step_page(found[1]):
        return see_other(_with_next(_step_page(found[1]), next_url))
    return _second_page(request, found[1], next_url)


@router.post(CODE_PAGE)
@router.post(ROLE_PAGE)
def second_step(request: Request, form: LoginForm, backend: BackendDep) -> Response:
    found = _pending(request, backend)
    if found is None:
        return _ended(request)
    ticket, pending = found
    next_url = safe_next(text(form, "next"))
    code, role = text(form, "one_time_code").strip(), text(form, "role") or None
    if not _csrf_ok(request, form):
        errors = {"form": "表单已失效，请重新提交。"}
        return _second_page(request, pending, next_url, 422, errors, role)
    if pending.needs_second_factor and not code:
        errors = {"one_time_code": "请输入动态口令"}
        return _second_page(request, pending, next_url, 422, errors, role)
    try:
        actor = finish_login(backend, client_key_of(request), ticket, code or None, role)
    except LoginThrottled as error:
        response = _throttled(request, error, username=pending.username, next=next_url)
        cookies.drop(request, response, cookies.PENDING)
        return response
    except InvalidInput as error:  # a role the account does not hold
        field = error.field if error.field in {"role", "one_time_code"} else "form"
        return _second_page(request, pending, next_url, 422, {field: error.message_zh}, role)
    except AuthenticationFailed as error:
        if error.code == "authentication_failed" and _pending(request, backend) is not None:
            errors = {"one_time_code": _refusal(error)}
            return _second_page(request, pending, next_url, 401, errors, role)
        # Locked, or the ticket ended (expired, or its last code was wrong): from the start.
        message = _refusal(error)
        if error.code == "authentication_failed":
            message += "；动态口令错误次数过多，请重新输入用户名和密码"
        response = _login_page(
            request, "login.html", 401, {"form": message}, username=pending.username,
            next=next_url,
        )  # fmt: skip
        cookies.drop(request, response, cookies.PENDING)
        return response
    except DomainError as error:  # e.g. a parallel change of the account: try once more
        errors = {"form": error.message_zh}
        return _second_page(request, pending, next_url, status_of(error), errors, role)
    return _logged_in(request, backend, actor, next_url)


@router.post("/console/logout")
def logout(request: Request, user: UserDep, form: FormDep, backend: BackendDep) -> Response:
    backend.sessions.end(user.token)
    response = see_other("/console/login?m=logged_out")
    cookies.drop(request, response, cookies.SESSION)
    return response


@router.post("/console/large-text")
def large_text(request: Request, form: LoginForm, backend: BackendDep) -> Response:
    """Switch the large text (大字版) on or off, and back to the page. A staff form like any
    other: the token is the session's, or on the login pages the login form's (also when a
    session cookie that has ended is still in the browser)."""
    token = cookies.session_token(request)
    given = form.get("csrf_token")
    typed = given if isinstance(given, str) else None
    accepted = [cookies.csrf_token(token) if token else None]
    accepted.append(cookies.read(request, cookies.LOGIN_CSRF))
    if not any(cookies.same(typed, expected) for expected in accepted if expected):
        raise CsrfRefused
    response = see_other(safe_next(text(form, "next")))
    if cookies.read(request, cookies.LARGE_TEXT) == "1":
        cookies.drop(request, response, cookies.LARGE_TEXT)
    else:
        cookies.put(request, response, cookies.LARGE_TEXT, "1", cookies.YEAR)
    return response
