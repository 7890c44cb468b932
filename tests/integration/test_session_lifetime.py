"""A staff session ends after its absolute lifetime, however active it stays (MLPS 等保; issue 16;
api_internal.sessions): 12 hours by default, ``FIREGOV_SESSION_MAX_HOURS`` otherwise, for the
API's bearer tokens and the console's cookie alike; the console says why in Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployment.bootstrap import Platform
from domain.actor import Role
from tests.integration.api_fixtures import (  # noqa: F401 - fixtures are used by name
    assert_problem,
    clock_fixture,
    login,
)
from tests.integration.test_login import me
from tests.integration.test_staff_pages import (  # noqa: F401 - fixtures are used by name
    JINSHUI,
    SESSION_COOKIE,
    console_client,
    site_fixture,
)
from tests.support import Clock, client_of, make_platform, open_account, settings_for


def test_a_staff_session_ends_after_its_absolute_lifetime_whatever_the_activity(
    site: Platform, clock: Clock
) -> None:
    actor, _ = open_account(site, "clerk", Role.WINDOW_CLERK, JINSHUI)
    api = client_of(site)
    headers = login(api, "clerk", clock)  # a bearer token
    console = console_client(site)
    console.cookies.set(SESSION_COOKIE, site.sessions.open(actor, clock.now))  # a console login

    for _ in range(12 * 3):  # busy all day: both ask every 20 minutes, the last at 11 h 40
        assert me(api, headers).status_code == 200
        page = console.get("/console")
        assert page.status_code == 200
        clock.advance(minutes=20)
    assert "自登录起最长 12 小时" in page.text
    assert '<span id="session-minutes">20</span>' in page.text  # to its end, not 29 (idle)

    ended = assert_problem(me(api, headers), 401, "session_expired")
    assert "12 小时" in ended["message_zh"]
    assert "maximum lifetime" in ended["message_en"]
    redirect = console.get("/console")
    assert redirect.headers["location"] == "/console/login?next=%2Fconsole&m=lifetime"
    page = console.get(redirect.headers["location"]).text
    assert "会话自登录起已满 12 小时，按安全规定无论是否有操作均已结束，请重新登录" in page
    clock.advance(minutes=-1)  # ended for good, even for a clock that goes back
    assert me(api, headers).status_code == 401
    assert console.get("/console").headers["location"].startswith("/console/login")


def test_the_lifetime_is_set_by_firegov_session_max_hours(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIREGOV_SESSION_MAX_HOURS", "2")
    platform = make_platform(settings_for(tmp_path), clock)
    try:
        actor, _ = open_account(platform, "clerk", Role.WINDOW_CLERK, JINSHUI)
        token = platform.sessions.open(actor, clock.now)
        for _ in range(8):  # a request every 17 minutes, the last at 1 h 59 min
            assert platform.sessions.touch(token, clock.now) == actor
            clock.advance(minutes=17)
        clock.advance(minutes=-16)  # 2 hours after login

        assert platform.sessions.touch(token, clock.now) is None
    finally:
        platform.close()
