"""The security administrator's page of failed logins (MLPS; docs/security.md, "Login
lockout"): ``/console/security/login-attempts``, the same rows as
``GET /api/v1/security/login-attempts`` (api_internal.routes_security): per account and
source, the failures in a row, when, the last reason and the lock; then the sources throttled
for failing across accounts. Never a password or a code: none is recorded."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from starlette.responses import Response

from api_internal.deps import BackendDep
from api_internal.pages_web import PageRoute, UserDep, render
from api_internal.routes_security import login_watch, shanghai

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PATH = "/console/security/login-attempts"
REASONS_ZH = {
    "wrong_password": "密码错误",
    "wrong_one_time_code": "动态口令错误",
    "one_time_code_reused": "动态口令重复使用",
    "credentials_erased": "账号凭据已删除",
    "second_factor_erased": "动态口令密钥已删除",
}


@router.get(PATH)
def login_attempts(user: UserDep, backend: BackendDep) -> Response:
    watch = login_watch(backend, user.actor)
    throttled = {
        s.source: shanghai(watch.now + timedelta(seconds=s.throttled_for))
        for s in watch.sources
        if s.throttled_for
    }
    return render(
        "login_attempts.html",
        user=user,
        attempts=watch.attempts,
        sources=watch.sources,
        throttled=throttled,
        reasons=REASONS_ZH,
        iso=shanghai,
    )
