"""Login, the one-time-code step and logout of the staff console (RULES.md "Who acts", Art. 39).

The login is the JSON login's (api_internal.routes_auth.authenticate): the same lockout after
repeated failures, the same padded failure time, the same session store, whose opaque token
goes into the console's cookie (api_internal.pages_cookies). A role that needs a second factor
(administrators, approvers) gets a second page for the one-time code: the domain checks the
password and the code together, so the first step keeps the username and password for five
minutes in this process's memory only (never on disk, never in the page or a cookie), under a
random key whose cookie is HttpOnly and SameSite=Strict; a code entered, right or wrong, is
counted by the domain like any login. Both login forms carry a double-submit CSRF token (there
is no session yet to bind one to).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from api_internal import pages_cookies as cookies
from api_internal.deps import Backend, BackendDep
from api_internal.pages_web import (
    CsrfRefused,
    FormDep,
    PageRoute,
    UserDep,
    render,
    see_other,
    text,
)
from api_internal.routes_auth import authenticate
from domain.calendar import SHANGHAI
from domain.errors import AuthenticationFailed, DomainError

router = APIRouter(route_class=PageRoute, include_in_schema=False)
MESSAGES = {
    "expired": "会话已结束（超时或已退出），请重新登录。",
    "logged_out": "您已安全退出。",
    "totp_expired": "动态口令步骤已超时，请重新输入用户名和密码。",
}
PENDING_SECONDS = 300
PENDING_MAX = 1000  # pending logins held at most; the oldest goes first


@dataclass(frozen=True)
class Pending:
    username: str
    password: str
    next: str
    until: float  # time.monotonic()


class PendingLogins:
    """Logins whose password was right and that wait for the one-time code."""

    def __init__(self) -> None:
        self._items: dict[str, Pending] = {}
        self._lock = threading.Lock()

    def add(self, username: str, password: str, next_url: str) -> str:
        key = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            self._items = {k: p for k, p in self._items.items() if p.until > now}
            while len(self._items) >= PENDING_MAX:
                self._items.pop(next(iter(self._items)))
            self._items[key] = Pending(username, password, next_url, now + PENDING_SECONDS)
        return key

    def get(self, key: str | None) -> Pending | None:
        with self._lock:
            pending = self._items.get(key) if key else None
        return pending if pending is not None and pending.until > time.monotonic() else None

    def drop(self, key: str | None) -> None:
        with self._lock:
            self._items.pop(key or "", None)


def pending_logins(request: Request) -> PendingLogins:
    found: PendingLogins = request.app.state.pending_logins
    return found


PendingDep = Annotated[PendingLogins, Depends(pending_logins)]


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


def _logged_in(request: Request, backend: Backend, token: str, next_url: str) -> Response:
    response = see_other(safe_next(next_url))
    cookies.put(request, response, cookies.SESSION, token)
    cookies.drop(request, response, cookies.LOGIN_CSRF)
    cookies.drop(request, response, cookies.PENDING)
    return response


@router.get("/console/login")
def login_page(request: Request, backend: BackendDep) -> Response:
    token = cookies.session_token(request)
    if token and backend.sessions.touch(token, backend.clock()) is not None:
        return see_other(safe_next(request.query_params.get("next")))
    message = MESSAGES.get(request.query_params.get("m", ""))
    return _login_page(
        request,
        "login.html",
        message=message,
        username="",
        next=safe_next(request.query_params.get("next")),
    )


@router.post("/console/login")
def login(request: Request, form: LoginForm, backend: BackendDep, pending: PendingDep) -> Response:
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
        actor = authenticate(backend, username, password, None)
    except AuthenticationFailed as error:
        if error.code == "second_factor_required":
            response = see_other("/console/login/totp")
            key = pending.add(username, password, next_url)
            cookies.put(request, response, cookies.PENDING, key)
            return response
        field = "form" if error.code == "account_locked" else "password"
        return _login_page(
            request, "login.html", 401, {field: _refusal(error)}, username=username, next=next_url
        )
    except DomainError as error:
        return _login_page(
            request, "login.html", 422, {"form": error.message_zh}, username=username,
            next=next_url,
        )  # fmt: skip
    return _logged_in(request, backend, backend.sessions.open(actor, backend.clock()), next_url)


@router.get("/console/login/totp")
def totp_page(request: Request, pending: PendingDep) -> Response:
    if pending.get(cookies.read(request, cookies.PENDING)) is None:
        return see_other("/console/login?m=totp_expired")
    return _login_page(request, "login_totp.html")


@router.post("/console/login/totp")
def totp(request: Request, form: LoginForm, backend: BackendDep, pending: PendingDep) -> Response:
    key = cookies.read(request, cookies.PENDING)
    waiting = pending.get(key)
    if waiting is None:
        return see_other("/console/login?m=totp_expired")
    code = text(form, "one_time_code").strip()
    if not _csrf_ok(request, form):
        return _login_page(
            request, "login_totp.html", 422, {"form": "表单已失效，请重新输入动态口令。"}
        )
    if not code:
        return _login_page(request, "login_totp.html", 422, {"one_time_code": "请输入动态口令"})
    try:
        actor = authenticate(backend, waiting.username, waiting.password, code)
    except DomainError as error:
        if error.code == "account_locked":
            pending.drop(key)
            return _login_page(
                request, "login.html", 401, {"form": _refusal(error)},
                username=waiting.username, next=waiting.next,
            )  # fmt: skip
        return _login_page(request, "login_totp.html", 401, {"one_time_code": _refusal(error)})
    pending.drop(key)
    token = backend.sessions.open(actor, backend.clock())
    return _logged_in(request, backend, token, waiting.next)


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
