"""The staff console's cookies: the session cookie and the login form's CSRF cookie.

The session cookie holds the same opaque token as the API's bearer token
(api_internal.sessions), is ``HttpOnly`` and ``SameSite=Strict``, and is named for the way the
console is reached:

- over TLS it is ``__Host-firegov_session`` with ``Secure`` and ``Path=/`` (the ``__Host-``
  prefix makes the browser refuse it from a sub-domain or without TLS, so nobody can plant
  or shadow it);
- over plain HTTP a browser refuses any ``__Host-`` cookie (they need ``Secure``), so the
  console uses the plain name ``firegov_session`` there, and only on a loopback address
  (``localhost``, ``127.0.0.1``, ``::1``: the embedded installation and a developer's machine).
  On any other host without TLS the console opens no session at all
  (``session_allowed`` is false): the token would cross the internal network in the clear.

Nothing here imports the rest of the console, so ``api_internal.deps`` can read the cookie
(the staff certificate PDF is a GET the console links to) without an import cycle.
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import Request
from starlette.responses import Response

SESSION = "firegov_session"
LOGIN_CSRF = "firegov_login_csrf"  # double-submit token of the login forms (no session yet)
PENDING = "firegov_pending_login"  # a login waiting for its one-time code (TOTP step)
LARGE_TEXT = "firegov_large_text"  # 大字版 switched on: kept for a year, so it stays on
YEAR = 365 * 24 * 3600
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
_CSRF_LABEL = b"firegov console csrf v1"


def is_tls(request: Request) -> bool:
    return request.url.scheme == "https"


def is_loopback(request: Request) -> bool:
    host = (request.url.hostname or "").lower()
    return host in LOOPBACK or host.endswith(".localhost")


def session_allowed(request: Request) -> bool:
    """Sessions over TLS, or over plain HTTP on a loopback address only."""
    return is_tls(request) or is_loopback(request)


def cookie_name(request: Request, base: str) -> str:
    return f"__Host-{base}" if is_tls(request) else base


def read(request: Request, base: str) -> str | None:
    if not session_allowed(request):
        return None
    return request.cookies.get(cookie_name(request, base)) or None


def session_token(request: Request) -> str | None:
    """The console's session token from its cookie, if the request may carry one."""
    return read(request, SESSION)


def put(
    request: Request, response: Response, base: str, value: str, max_age: int | None = None
) -> None:
    """A cookie for the whole site, HttpOnly and SameSite=Strict, Secure under TLS; without
    Max-Age unless given, so it ends with the browser (the server ends sessions after the
    idle timeout)."""
    response.set_cookie(
        cookie_name(request, base),
        value,
        max_age=max_age,
        path="/",
        secure=is_tls(request),
        httponly=True,
        samesite="strict",
    )


def drop(request: Request, response: Response, base: str) -> None:
    response.delete_cookie(
        cookie_name(request, base),
        path="/",
        secure=is_tls(request),
        httponly=True,
        samesite="strict",
    )


def csrf_token(session: str) -> str:
    """The session's CSRF token: derived from the session token, so nothing more is stored;
    one-way, so a token seen in a page's HTML never gives away the session."""
    return hmac.new(session.encode(), _CSRF_LABEL, hashlib.sha256).hexdigest()


def same(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison of two tokens; a missing one never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())
