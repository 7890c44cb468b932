"""Shared test helpers: a settable clock, platforms on SQLite or PostgreSQL, filing inputs
(made with the demo data's own helpers: ``credit_code``, ``document``, ``materials``)."""

from __future__ import annotations

import base64
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api_internal.app import create_app
from api_internal.deps import Backend
from deployment.bootstrap import Platform, build_platform
from deployment.demo import credit_code, document, materials
from deployment.settings import InternalSettings
from domain.actor import Actor, Role
from domain.calendar import SHANGHAI

# Re-exported: tests make their filing inputs with the demo data's own helpers.
__all__ = ["credit_code", "document", "materials"]

# A Tuesday morning in an ordinary working week (Asia/Shanghai).
TUESDAY_MORNING = datetime(2026, 11, 24, 9, 30, tzinfo=SHANGHAI)
PASSWORD = "Correct-Horse-9"


@dataclass
class Clock:
    now: datetime = TUESDAY_MORNING

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now = self.now + timedelta(**delta)


class TickingClock:
    """Real time moved to a start the test chooses, for installations that run on their own
    (the browser tests, the benchmarks): time passes, but the day is never the machine's.
    ``advance`` jumps ahead (e.g. to the next day)."""

    def __init__(self, start: datetime) -> None:
        self._start, self._began = start, time.monotonic()
        self._offset = timedelta()
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._start + self._offset + timedelta(seconds=time.monotonic() - self._began)

    def advance(self, **delta: float) -> None:
        with self._lock:
            self._offset += timedelta(**delta)


# The working-day calendars of the tests (tests/calendars/README.md): the package's years and
# nothing else, whatever deployment/calendar holds one day; a test that needs a later year brings
# its file (tests/calendars/hypothetical/, never a real arrangement).
TEST_CALENDARS = Path(__file__).resolve().parent / "calendars"
PACKAGE_ONLY = TEST_CALENDARS / "package-only"
HYPOTHETICAL = TEST_CALENDARS / "hypothetical"


def settings_for(
    tmp_path: Path, database_url: str | None = None, schema: str = "public", **extra: Any
) -> InternalSettings:
    """An installation in ``tmp_path``; its calendar directory, ``tmp_path/calendar``, starts
    empty (the package's years only) unless ``calendar_dir`` is given."""
    if "calendar_dir" not in extra:
        extra["calendar_dir"] = tmp_path / "calendar"
        extra["calendar_dir"].mkdir(parents=True, exist_ok=True)
    return InternalSettings(
        data_dir=tmp_path / "var",
        internal_database_url=database_url,
        postgres_schema=schema,
        master_key=base64.b64encode(os.urandom(32)).decode(),
        seed_demo_data=False,
        **extra,
    )


def make_platform(settings: InternalSettings, clock: Clock) -> Platform:
    return build_platform(settings, clock=clock)


def backend_of(platform: Platform) -> Backend:
    return platform.staff_backend()


def client_of(platform: Platform) -> TestClient:
    return TestClient(create_app(backend_of(platform)), raise_server_exceptions=False)


def filing_input(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "kind": "design",
        "organisation_name": "郑州测试置业有限公司",
        "credit_code": credit_code("org"),
        "project_name": "测试大厦",
        "project_address": "金水区花园路 1 号",
        "district": "金水区",
        "contact_name": "张伟",
        "contact_phone": "13812345678",
        "materials": materials(),
    }
    values.update(overrides)
    return values


def open_account(
    platform: Platform, username: str, role: Role, agency: str
) -> tuple[Actor, str | None]:
    """Open a staff account; returns its actor and its TOTP secret (if the role needs one)."""
    console = Actor.system(platform.agencies.detachment.code, "test")
    opened = platform.services.staff.open_account(
        console, username=username, display_name=f"测试{username}", agency=agency,
        roles=[str(role)], password=PASSWORD,
    )  # fmt: skip
    return Actor(str(opened.account_id), role, agency), opened.totp_secret


def memory_services(clock: Clock) -> Any:
    """Application services over the in-memory event store and key store (no I/O)."""
    from deployment.settings import PACKAGE_DIR
    from domain.agencies import AgencyDirectory
    from domain.application import Context, FiregovApplication
    from domain.calendar import WorkingDayCalendar
    from domain.sealing import InMemorySubjectKeyStore, Sealer
    from domain.services import Services

    app = FiregovApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    context = Context(
        app=app,
        calendar=WorkingDayCalendar(PACKAGE_ONLY),
        agencies=AgencyDirectory.from_toml(PACKAGE_DIR / "data" / "zhengzhou.toml"),
        sealer=Sealer(InMemorySubjectKeyStore(), os.urandom(32)),
        clock=clock,
    )
    return Services(context)
