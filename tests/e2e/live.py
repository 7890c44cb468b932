"""A live embedded installation for the browser tests, wired as ``firegov run`` wires it: the
staff app and the public app under uvicorn (each in a thread, on a free port), and the
followers (projector, ledger, days with room, notifier), the outbound bridge, the receiver and
the intake importer running as loops in threads. Only the clock is the test's: it starts at
a fixed working morning (``START``) and ticks with real time, so that deadlines, days with room
and one-time codes are those of the same ordinary working day whatever day the tests run on.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyotp
import uvicorn

from api_public.app import create_public_app
from deployment.bootstrap import Platform, build_platform
from deployment.cli import follow, internal_app_of, internal_loops
from deployment.serving import server_config
from deployment.settings import InternalSettings, PublicSettings
from deployment.sides import (
    PublicSide,
    build_importer,
    build_outbound,
    build_public,
    embedded_public_settings,
    ensure_bridge_keys,
)
from domain.actor import Role
from domain.calendar import SHANGHAI, WorkingDayCalendar
from tests.support import PASSWORD, TickingClock, open_account, settings_for

JINSHUI = "zz-jinshui"
# Small enough that the "file too large" test uploads little, large enough for real scans.
MAX_FILE_BYTES = 512 * 1024


# The installation's clock starts here whatever day the tests run on (tests/support.py):
# 09:30 (Shanghai) on Monday 15 June 2026, an ordinary working day of a year the calendar
# package covers, far from the year's end: the 5-working-day deadlines and the 20 working days
# with room stay in covered days, and no page warns that next year's calendar is missing (it
# would from 1 November). It ticks with real time from there. The browser's own clock does
# not matter: every cookie the servers set carries a Max-Age, never a date computed from the
# installation's clock.
START = datetime(2026, 6, 15, 9, 30, tzinfo=SHANGHAI)


@dataclass(frozen=True)
class StaffLogin:
    """What a member of staff types at the console's login: username, password, and the secret
    of their authenticator app when the role needs a one-time code."""

    username: str
    password: str
    totp_secret: str | None
    actor_id: str


class CountingDrop:
    """The public side's intake drop, counting what it was handed: a refused submission must
    leave this count unchanged ("nothing is stored")."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.receipts: list[str] = []

    def put(self, receipt_number: str, data: bytes) -> None:
        self.inner.put(receipt_number, data)
        self.receipts.append(receipt_number)

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()


@dataclass
class LiveSite:
    """A running installation: the portal at ``portal``, the console at ``console``."""

    clock: TickingClock
    settings: InternalSettings
    platform: Platform
    public: PublicSide
    portal: str
    console: str
    drop: CountingDrop
    accounts: dict[str, StaffLogin] = field(default_factory=dict)
    # Browser cookies of a console session per username, for tests that only look at pages.
    console_cookies: dict[str, Any] = field(default_factory=dict)

    def account(self, username: str, role: Role, agency: str = JINSHUI) -> StaffLogin:
        """A staff account opened once per installation (asking again gives the same one)."""
        if username not in self.accounts:
            actor, secret = open_account(self.platform, username, role, agency)
            self.accounts[username] = StaffLogin(username, PASSWORD, secret, actor.actor_id)
        return self.accounts[username]

    def one_time_code(self, login: StaffLogin) -> str:
        """The code the authenticator app shows now (by the installation's clock)."""
        assert login.totp_secret is not None, f"{login.username} needs no one-time code"
        return str(pyotp.TOTP(login.totp_secret).at(self.clock()))

    def until(self, done: Callable[[], bool], within: float = 20.0, what: str = "") -> None:
        """Wait for the loops to get the installation to ``done`` (polled, with a deadline)."""
        deadline = time.monotonic() + within
        while not done():
            assert time.monotonic() < deadline, f"the installation did not get there: {what}"
            time.sleep(0.05)

    @property
    def submissions(self) -> int:
        """How many submissions the public side has handed to intake so far."""
        return len(self.drop.receipts)


def free_socket() -> socket.socket:
    """A listening socket on a free port, handed to uvicorn (no race for the port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


@contextmanager
def serving(apps: list[tuple[Any, socket.socket]]) -> Iterator[None]:
    """Serve each ASGI app on its socket in a thread until the block ends."""
    servers = [
        uvicorn.Server(server_config(app, access_log=False, lifespan="on")) for app, _ in apps
    ]
    threads = [
        threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        for server, (_, sock) in zip(servers, apps, strict=True)
    ]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 20
        while not all(server.started for server in servers):
            assert all(t.is_alive() for t in threads), "a server failed to start"
            assert time.monotonic() < deadline, "the servers did not start in time"
            time.sleep(0.02)
        yield
    finally:
        for server in servers:
            server.should_exit = True
        for thread in threads:
            thread.join(timeout=10)
        for _, sock in apps:
            sock.close()


@contextmanager
def looping(loops: list[Callable[[threading.Event], None]]) -> Iterator[None]:
    """Run ``firegov run``'s background loops in threads until the block ends."""
    stop = threading.Event()
    threads = [threading.Thread(target=loop, args=(stop,), daemon=True) for loop in loops]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)


def with_known_fields(settings: Any, **values: Any) -> Any:
    """Settings with those of ``values`` that the settings class has (fields added by other
    parts of the platform, such as the public base URL, are set only where they exist)."""
    known = {k: v for k, v in values.items() if k in type(settings).model_fields}
    return settings.model_copy(update=known)


@contextmanager
def live_site(tmp_path: Path) -> Iterator[LiveSite]:
    """Build, start, and at the end stop and close a whole embedded installation."""
    portal_sock, console_sock = free_socket(), free_socket()
    portal, console = url_of(portal_sock), url_of(console_sock)
    settings: InternalSettings = with_known_fields(
        settings_for(tmp_path, availability_seconds=0.5, intake_max_file_bytes=MAX_FILE_BYTES),
        public_base_url=portal,
    )
    assert WorkingDayCalendar(settings.calendar_dir).is_working_day(START.date())
    clock = TickingClock(START)
    platform = build_platform(settings, clock=clock)
    try:
        ensure_bridge_keys(settings)
        public_settings: PublicSettings = with_known_fields(
            embedded_public_settings(settings),
            max_file_bytes=MAX_FILE_BYTES,
            rate_limit_per_minute=100_000,
            query_code_attempts_per_minute=1_000,
            submissions_per_minute=1_000,
            draft_steps_per_minute=1_000,
            base_url=portal,
        )
        public = build_public(public_settings, clock=clock)
    except BaseException:
        platform.close()
        raise
    importer = build_importer(platform, settings)
    outbound = build_outbound(platform, settings)
    assert public.backend.intake is not None
    drop = CountingDrop(public.backend.intake.drop)
    public.backend.intake.drop = drop
    site = LiveSite(clock, settings, platform, public, portal, console, drop)
    loops = [
        *internal_loops(platform),
        follow(outbound.step, "outbound", settings.poll_seconds),
        follow(public.receiver.receive, "receiver", public_settings.poll_seconds),
        follow(importer.step, "intake", settings.poll_seconds),
    ]
    apps = [
        (internal_app_of(platform, settings), console_sock),
        (create_public_app(public.backend), portal_sock),
    ]
    try:
        with looping(loops), serving(apps):
            yield site
    finally:
        importer.inbox.close()
        public.close()
        platform.close()
