"""The ``firegov`` command, run in-process on an embedded (SQLite) data directory: help for
every command, demo data, the first administrator, the audit trail, erasure, projections and
the settings table. Refusals print Chinese and English and exit 2, never a traceback."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pyotp
import pytest
import structlog
import typer
from typer.testing import CliRunner, Result

from deployment import cli
from deployment.bootstrap import Platform, build_platform
from deployment.demo import ACCOUNTS, seed
from deployment.logging import configure_logging
from deployment.notify import OutgoingMessage, build_notifier
from deployment.settings import InternalSettings, PublicSettings, load_internal_settings
from domain.actor import SECOND_FACTOR_ROLES, Actor, Role
from domain.documents import DocumentStore
from domain.query_code import hash_query_code
from domain.sealing import ERASED
from domain.services.filings import FilingService
from projections.internal.notifications import Outbox
from tests.booking_support import JINSHUI, booking_input, staff
from tests.integration.api_fixtures import CJK
from tests.support import TUESDAY_MORNING, Clock, filing_input, make_platform, settings_for

STRONG = "Strong-Passw0rd!"


@contextmanager
def embedded(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[None]:
    """FIREGOV_* as on a fresh machine, except the data directory (no master key: generated)
    and ``env`` (e.g. a PostgreSQL database)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("FIREGOV_")]:
            patch.delenv(name)
        patch.setenv("FIREGOV_DATA_DIR", str(data_dir))
        patch.setenv("FIREGOV_LOG_JSON", "true")
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        yield


def firegov(
    data_dir: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> Result:
    """Run ``firegov <args>`` as of ``TUESDAY_MORNING`` (the platform it builds gets the test's
    clock, never the machine's); the logging it configures is undone afterwards, so later tests
    never write to this run's (closed) captured stderr."""
    saved = structlog.get_config()

    def configure_uncached(level: str = "INFO", json: bool | None = None) -> None:
        configure_logging(level, json)
        structlog.configure(cache_logger_on_first_use=False)

    with embedded(data_dir, env), pytest.MonkeyPatch.context() as patch:
        patch.setattr("deployment.cli.configure_logging", configure_uncached)
        patch.setattr(
            "deployment.cli.build_platform", partial(build_platform, clock=Clock(TUESDAY_MORNING))
        )
        try:
            return CliRunner().invoke(cli.app, list(args), input=stdin)
        finally:
            structlog.configure(**saved)


@contextmanager
def opened(
    data_dir: Path, clock: Clock | None = None, env: dict[str, str] | None = None
) -> Iterator[Platform]:
    """The platform the command works on, opened by the test to look at the outcome (or, with
    a clock, to make cases as of a known time); as of ``TUESDAY_MORNING`` without one."""
    with embedded(data_dir, env):
        platform = build_platform(load_internal_settings(), clock=clock or Clock(TUESDAY_MORNING))
    try:
        yield platform
    finally:
        platform.close()


def assert_refused(result: Result, *messages: str) -> None:
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    for message in messages:
        assert message in result.stderr


# -- help --------------------------------------------------------------------------------------


def command_paths(app: typer.Typer, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []
    for command in app.registered_commands:
        assert command.callback is not None
        paths.append((*prefix, command.name or command.callback.__name__.replace("_", "-")))
    for group in app.registered_groups:
        assert group.name is not None
        assert group.typer_instance is not None
        paths.append((*prefix, group.name))
        paths += command_paths(group.typer_instance, (*prefix, group.name))
    return paths


HELP_PATHS = [(), *command_paths(cli.app)]


@pytest.mark.parametrize("path", HELP_PATHS, ids=lambda p: " ".join(("firegov", *p)))
def test_every_command_and_group_explains_itself_in_chinese_and_english(
    tmp_path: Path, path: tuple[str, ...]
) -> None:
    result = firegov(tmp_path, *path, "--help")

    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout
    assert CJK.search(result.stdout)
    assert not (tmp_path / "internal").exists()  # asking for help touches no data


def test_the_help_walk_reaches_every_group_and_its_commands() -> None:
    assert {"run", "demo seed", "admin bootstrap", "audit history"} <= {
        " ".join(p) for p in HELP_PATHS
    }
    assert {p[0] for p in HELP_PATHS if len(p) == 2} == {
        "internal", "demo", "admin", "audit", "projections", "personal-data", "settings",
        "calendar", "keys", "bridge", "public",
    }  # fmt: skip


# -- demo data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    data_dir: Path
    first: Result
    second: Result


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    data_dir = tmp_path_factory.mktemp("seeded")
    return Seeded(data_dir, firegov(data_dir, "demo", "seed"), firegov(data_dir, "demo", "seed"))


def test_demo_seed_prints_one_account_per_role_and_files_demo_filings(seeded: Seeded) -> None:
    assert seeded.first.exit_code == 0, seeded.first.output
    printed = seeded.first.stdout.splitlines()
    lines = [line.split() for line in printed if line.startswith("  ") and line[2] != " "]
    cases = [line.split() for line in printed if line.startswith("    ")]

    assert len(lines) == 12
    assert [(u, r, a) for u, r, a, *_ in lines] == [(u, str(r), a) for u, _, r, a in ACCOUNTS]
    staff_roles = {str(r) for r in Role if r not in {Role.APPLICANT, Role.SYSTEM}}
    assert {role for _, role, *_ in lines} == staff_roles
    for username, role, _, password, *totp in lines:
        assert bool(totp) == (Role(role) in SECOND_FACTOR_ROLES), username
        assert len(password) >= 12
    with opened(seeded.data_dir) as platform:
        rows = platform.queries.rows()
        bookings = platform.booking_queries.rows()
        documents = [
            (m["document"], r["contact_subject"]) for r in rows
            for m in platform.services.filings.load(r["receipt_number"]).materials.values()
        ]  # fmt: skip
        documents += [
            (platform.services.bookings.load(b["receipt_number"]).basis["document"],
             b["contact_subject"])
            for b in bookings
        ]  # fmt: skip
        # Sealed under each case's own key, as an applicant's upload is.
        store = DocumentStore(platform.settings.documents_dir, platform.sealer)
        contents = [store.read(reference, [subject]) for reference, subject in documents]
    assert len(rows) == 4
    assert {row["agency"] for row in rows} == {"zz-jinshui", "zz-erqi"}
    # A booking for the window, one for the handler to answer, one to permit on the spot.
    assert sorted(b["status"] for b in bookings) == ["assigned", "received", "received"]
    listed = sorted(receipt for receipt, _ in cases)
    assert listed == sorted(r["receipt_number"] for r in [*rows, *bookings])
    # The command ran on the test's clock: its cases date from the days up to TUESDAY_MORNING.
    assert {receipt[2:10] for receipt in listed} <= {f"202611{day}" for day in range(20, 25)}
    assert all(len(code) == 10 for _, code in cases)
    # Every document the cases name is a real PDF in the document store (the console opens it).
    assert all(content is not None and content.startswith(b"%PDF-") for content in contents)
    credentials = (seeded.data_dir / "demo-credentials.txt").stat()
    assert credentials.st_mode & 0o077 == 0  # readable by the operator only


def test_a_second_demo_seed_says_the_data_exists_and_adds_nothing(seeded: Seeded) -> None:
    assert seeded.second.exit_code == 0, seeded.second.output
    assert "演示数据已存在 Demo data exists already" in seeded.second.stdout
    assert "demo-clerk " not in seeded.second.stdout
    with opened(seeded.data_dir) as platform:
        assert len(platform.queries.rows()) == 4


def test_audit_history_prints_who_submitted_in_which_role_and_agency(seeded: Seeded) -> None:
    with opened(seeded.data_dir) as platform:
        (row,) = [r for r in platform.queries.rows() if r["project_name"] == "郑州金水科创大厦"]

    result = firegov(seeded.data_dir, "audit", "history", row["receipt_number"])

    assert result.exit_code == 0, result.output
    (submitted,) = [line for line in result.stdout.splitlines() if "[Submitted]" in line]
    assert "王晓燕（demo-clerk）" in submitted
    assert "受理窗口(window_clerk)" in submitted
    assert "zz-jinshui" in submitted
    assert "contact_name=〔密封 sealed〕" in submitted  # the trail does not show personal data


def test_audit_history_of_an_unknown_receipt_is_refused_in_both_languages(
    seeded: Seeded,
) -> None:
    result = firegov(seeded.data_dir, "audit", "history", "BA20260101ZZZZZZ")

    assert_refused(result, "错误：没有该事项的记录", "Error: no history for BA20260101ZZZZZZ")


def test_personal_data_erase_shreds_the_contact_of_a_filing(seeded: Seeded) -> None:
    with opened(seeded.data_dir) as platform:
        row = next(r for r in platform.queries.rows() if r["agency"] == "zz-erqi")
        assert platform.sealer.open(row["contact_name"]) == "张伟"

    erased = firegov(
        seeded.data_dir, "personal-data", "erase", row["contact_subject"], "--reason", "x"
    )
    again = firegov(
        seeded.data_dir, "personal-data", "erase", row["contact_subject"], "--reason", "x"
    )

    assert erased.exit_code == 0, erased.output
    assert "已删除 Erased" in erased.stdout
    assert "此前已删除 Already erased" in again.stdout
    with opened(seeded.data_dir) as platform:
        assert platform.sealer.open(row["contact_name"]) == ERASED


def test_personal_data_erase_of_an_unknown_subject_is_refused_in_both_languages(
    seeded: Seeded,
) -> None:
    result = firegov(
        seeded.data_dir, "personal-data", "erase", "ps-0123456789abcdef", "--reason", "x"
    )

    assert_refused(result, "错误：没有该人员的个人信息", "Error: no personal data is held")


def test_demo_seed_backdates_its_filings_without_touching_the_shared_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A running server reads the platform's clock for every request: seeding must not swap it,
    not even for a moment."""
    clock = Clock()
    platform = make_platform(settings_for(tmp_path), clock)
    submitted = FilingService.submit
    seen: list[tuple[bool, datetime]] = []

    def watched(service: FilingService, *args: Any, **kwargs: Any) -> str:
        seen.append((platform.services.context.clock is clock, service.ctx.clock()))
        return submitted(service, *args, **kwargs)

    monkeypatch.setattr(FilingService, "submit", watched)
    try:
        seed(platform)
    finally:
        platform.close()

    assert [shared for shared, _ in seen] == [True] * 4
    assert [clock.now - at for _, at in seen] == [
        timedelta(days=days, hours=2) for days in (4, 1, 0, 2)
    ]


def test_projections_rebuild_replays_everything_and_prints_the_position(seeded: Seeded) -> None:
    with opened(seeded.data_dir) as platform:
        before = platform.queries.rows()
        last = platform.app.recorder.max_notification_id()

    result = firegov(seeded.data_dir, "projections", "rebuild")

    assert result.exit_code == 0, result.output
    assert f"已重建至位置 Rebuilt up to notification {last}" in result.stdout
    with opened(seeded.data_dir) as platform:
        assert platform.queries.rows() == before


class RecordingSender:
    """A gateway that keeps what it was given."""

    name = "test-sms"

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> None:
        self.sent.append(message)


def deliver_all(platform: Platform, sender: RecordingSender) -> None:
    notifier = build_notifier(platform, platform.settings, sender)
    while notifier.step():
        pass


def follower_rows(platform: Platform) -> dict[str, list[dict[str, Any]]]:
    """The slot counts, the outbox's derived rows and every message with its delivery status."""
    with platform.views.reading() as tx:
        counts = tx.fetchall("SELECT * FROM view_slot_counts ORDER BY id")
    outbox = Outbox(platform.app, platform.views)
    return {"view_slot_counts": counts, **outbox.derived_rows(), "messages": outbox.messages()}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> dict[str, str]:
    """The environment of an embedded installation, or of one on its own PostgreSQL schema."""
    if request.param == "sqlite":
        return {}
    return {
        "FIREGOV_INTERNAL_DATABASE_URL": request.getfixturevalue("pg_url"),
        "FIREGOV_POSTGRES_SCHEMA": request.getfixturevalue("pg_schema"),
        "FIREGOV_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),  # required there
    }


def test_projections_rebuild_restores_slot_counts_and_the_outbox_and_sends_nothing_again(
    tmp_path: Path, database: dict[str, str]
) -> None:
    """Every read model that follows the log is replayed; what went out to applicants is a
    record of the world, kept as it was, so no message is sent a second time."""
    clock = Clock()  # Tuesday 2026-11-24 09:30, Asia/Shanghai
    intake, window = Actor.system("zz", "intake"), Actor("window", Role.WINDOW_CLERK, JINSHUI)
    sender = RecordingSender()
    with opened(tmp_path, clock, database) as platform:
        filing = platform.services.filings.submit(
            intake, **filing_input(), channel="online", query_code_hash=hash_query_code("x" * 10)
        )
        platform.services.filings.issue_certificate(window, filing)
        bookings = platform.services.bookings
        head = staff(platform.services, "head", JINSHUI, Role.DEPT_HEAD)
        handler = staff(platform.services, "handler", JINSHUI)
        booked = bookings.request(intake, **booking_input(), channel="online")
        bookings.forward(window, booked, "防火监督科")
        bookings.assign(head, booked, handler.actor_id)
        bookings.reply_with_slot(handler, booked, "2026-11-26", "am")
        platform.slot_counts.catch_up()
        deliver_all(platform, sender)
        before = follower_rows(platform)
        last = platform.app.recorder.max_notification_id()
        with platform.views.transaction() as tx:  # the derived rows lost: only a replay helps
            for table in ("view_slot_counts", "notification_outbox", "notification_cases"):
                tx.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
    assert [row["booked"] for row in before["view_slot_counts"]] == [1]
    assert {m["status"] for m in before["messages"]} == {"sent"}
    assert len(sender.sent) == len(before["messages"]) == 5

    result = firegov(tmp_path, "projections", "rebuild", env=database)

    assert result.exit_code == 0, result.output
    assert "slot counts" in result.stdout
    assert "notification outbox" in result.stdout
    assert f"已重建至位置 Rebuilt up to notification {last}" in result.stdout
    with opened(tmp_path, clock, database) as platform:
        assert follower_rows(platform) == before
        assert platform.slot_counts.position() == last
        deliver_all(platform, sender)
    assert len(sender.sent) == 5  # nothing went out twice


# -- the first administrator -------------------------------------------------------------------


def test_admin_bootstrap_creates_the_first_system_administrator_once(tmp_path: Path) -> None:
    first = firegov(tmp_path, "admin", "bootstrap", stdin=f"{STRONG}\n")
    second = firegov(tmp_path, "admin", "bootstrap", "--username", "root2", stdin=f"{STRONG}\n")

    assert first.exit_code == 0, first.output
    assert "已创建系统管理员 Created system administrator: sysadmin" in first.stdout
    uri = re.search(r"otpauth://totp/\S+", first.stdout)
    assert uri is not None
    assert "issuer=firegov" in uri.group()
    assert_refused(second, "已有系统管理员 a system administrator exists already")
    with opened(tmp_path) as platform:
        assert usernames(platform) == ["sysadmin"]
        totp = pyotp.parse_uri(uri.group())  # the URI really enrols the second factor
        assert isinstance(totp, pyotp.TOTP)
        code = totp.at(TUESDAY_MORNING)  # the moment the platform is opened at
        admin = platform.services.staff.authenticate("sysadmin", STRONG, code, source="192.0.2.1")
    assert admin.role is Role.SYSTEM_ADMIN


def usernames(platform: Platform) -> list[str]:
    """Every account opened in this data directory."""
    notifications = platform.app.recorder.select_notifications(
        start=1, limit=1000, topics=["firegov:StaffAccount.Opened"]
    )
    events = [platform.app.mapper.to_domain_event(n) for n in notifications]
    return [getattr(event, "username", "") for event in events]


@pytest.mark.parametrize(
    "password",
    ["short1A", "alllowercaseletters", "Sysadmin-2026"],
    ids=["seven characters", "one class", "contains the username"],
)
def test_admin_bootstrap_refuses_a_weak_password_in_both_languages(
    tmp_path: Path, password: str
) -> None:
    result = firegov(tmp_path, "admin", "bootstrap", stdin=f"{password}\n")

    assert_refused(
        result,
        "错误：密码至少 8 位",
        "Error: the password needs at least 8 characters",
    )
    assert "otpauth://" not in result.output
    with opened(tmp_path) as platform:
        assert usernames(platform) == []


# -- settings ----------------------------------------------------------------------------------


def test_settings_table_has_a_markdown_row_for_every_setting(tmp_path: Path) -> None:
    result = firegov(tmp_path, "settings", "table")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines.count("| variable | default | description |") == 2  # internal, public
    listed = [line.split("|")[1].strip() for line in lines if line.startswith("| `")]
    rows = dict(zip(listed, (line for line in lines if line.startswith("| `")), strict=True))
    public = [f"`FIREGOV_PUBLIC_{name.upper()}`" for name in PublicSettings.model_fields]
    internal = [f"`FIREGOV_{name.upper()}`" for name in InternalSettings.model_fields]
    # FIREGOV_PUBLIC_BASE_URL is listed on both sides: both read it, with the same meaning.
    assert listed == internal + public
    for name, field in InternalSettings.model_fields.items():
        row = rows[f"`FIREGOV_{name.upper()}`"]
        assert row.count("|") == 4
        assert str(field.description) in row
    assert "| `FIREGOV_SESSION_IDLE_MINUTES` | `30` |" in result.stdout


def test_settings_tables_in_docs_configuration_are_the_generated_ones(tmp_path: Path) -> None:
    """The manual's tables are ``firegov settings table``'s output word for word: a setting
    added, renamed or described anew without regenerating them fails here."""
    result = firegov(tmp_path, "settings", "table")
    page = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text(encoding="utf-8")
    begin, end = "<!-- begin: output of `firegov settings table` -->", "<!-- end: output of"

    assert result.exit_code == 0, result.output
    assert page.count(begin) == 1
    assert page.count(end) == 1
    documented = page.split(begin)[1].split(end)[0]
    assert documented.strip() == result.stdout.strip(), (
        "docs/configuration.md is stale: put the output of `firegov settings table` between "
        "its markers"
    )
