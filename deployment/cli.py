"""The ``firegov`` command: run, serve, seed, bootstrap, audit, calendar, projections and
personal-data erasure. Errors print a Chinese and English message, never a traceback."""

from __future__ import annotations

import getpass
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from deployment.bootstrap import Platform, build_platform
from deployment.cli_calendar import calendar_app
from deployment.logging import configure_logging
from deployment.settings import InternalSettings, load_internal_settings
from domain.actor import Actor, Role
from domain.errors import DomainError

app = typer.Typer(
    help='firegov — 消防"互联网+"便民服务平台 / fire department public-service platform',
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
internal_app = typer.Typer(help="内网服务 Internal side", no_args_is_help=True)
demo_app = typer.Typer(help="演示数据 Demo data", no_args_is_help=True)
admin_app = typer.Typer(help="系统管理 Administration from the console", no_args_is_help=True)
audit_app = typer.Typer(help="审计 Audit trail", no_args_is_help=True)
projections_app = typer.Typer(help="读模型 Read models", no_args_is_help=True)
personal_app = typer.Typer(help="个人信息 Personal data", no_args_is_help=True)
settings_app = typer.Typer(help="配置 Settings", no_args_is_help=True)
for sub, name in [
    (internal_app, "internal"), (demo_app, "demo"), (admin_app, "admin"), (audit_app, "audit"),
    (projections_app, "projections"), (personal_app, "personal-data"),
    (settings_app, "settings"), (calendar_app, "calendar"),
]:  # fmt: skip
    app.add_typer(sub, name=name)


def fail(error: DomainError | Exception) -> None:
    if isinstance(error, DomainError):
        typer.echo(f"错误：{error.message_zh}\nError: {error.message_en}", err=True)
    else:
        typer.echo(f"错误 Error: {error}", err=True)
    raise typer.Exit(2)


@contextmanager
def platform() -> Iterator[Platform]:
    settings = load_internal_settings()
    configure_logging(settings.log_level, settings.log_json)
    built = build_platform(settings)
    try:
        yield built
    except DomainError as error:
        fail(error)
    finally:
        built.close()


def console_actor(built: Platform, purpose: str) -> Actor:
    """The operator at the server's console, recorded as such in every event it causes."""
    return Actor.system(built.agencies.detachment.code, f"console:{purpose}:{getpass.getuser()}")


def _seed_and_print(built: Platform, settings: InternalSettings) -> None:
    from deployment.demo import seed, write_credentials

    accounts, cases = seed(built)
    path = write_credentials(settings.data_dir, accounts, cases, settings.totp_issuer)
    typer.echo("演示账号 Demo accounts (shown once; also in " + str(path) + "):")
    for a in accounts:
        extra = f"  TOTP secret: {a.totp_secret}" if a.totp_secret else ""
        typer.echo(f"  {a.username:<18} {a.role:<17} {a.agency:<12} {a.password}{extra}")
    typer.echo("演示案件查询码 Demo cases' query codes (for the public portal):")
    for c in cases:
        typer.echo(f"    {c.receipt_number}  {c.query_code}")


def _serve(built: Platform, settings: InternalSettings) -> None:
    import uvicorn

    from api_internal.app import create_app
    from api_internal.deps import Backend

    stop = threading.Event()
    follower = threading.Thread(target=built.projector.run, args=(stop,), daemon=True)
    follower.start()
    backend = Backend(
        services=built.services, queries=built.queries, projector=built.projector,
        sessions=built.sessions, sealer=built.sealer, agencies=built.agencies,
        calendar=built.calendar, clock=built.services.context.clock,
        idle_timeout_minutes=settings.session_idle_minutes,
    )  # fmt: skip
    typer.echo(f"内网工作人员接口 Staff API: http://{settings.host}:{settings.port}/docs")
    try:
        uvicorn.run(create_app(backend), host=settings.host, port=settings.port, log_config=None)
    finally:
        stop.set()
        follower.join(timeout=5)


@app.command()
def run() -> None:
    """一键运行（内嵌 SQLite，首次启动写入演示数据）Run everything embedded in one process."""
    from deployment.demo import is_seeded

    settings = load_internal_settings()
    with platform() as built:
        if settings.seed_demo_data and not is_seeded(built):
            _seed_and_print(built, settings)
        built.projector.catch_up()
        _serve(built, settings)


@internal_app.command("serve")
def internal_serve() -> None:
    """运行内网工作人员接口 Serve the staff API (no demo data)."""
    settings = load_internal_settings()
    with platform() as built:
        built.projector.catch_up()
        _serve(built, settings)


@demo_app.command("seed")
def demo_seed() -> None:
    """写入演示账号和备案，并打印账号密码 Seed demo accounts and filings; print credentials."""
    from deployment.demo import is_seeded

    settings = load_internal_settings()
    with platform() as built:
        if is_seeded(built):
            typer.echo("演示数据已存在 Demo data exists already (see demo-credentials.txt).")
            return
        _seed_and_print(built, settings)


@admin_app.command("bootstrap")
def admin_bootstrap(
    username: Annotated[str, typer.Option(help="用户名 username")] = "sysadmin",
    display_name: Annotated[str, typer.Option(help="姓名 display name")] = "系统管理员",
) -> None:
    """创建第一位系统管理员（仅当尚无系统管理员时）Create the very first system administrator."""
    settings = load_internal_settings()
    with platform() as built:
        opened_before = built.app.recorder.select_notifications(
            start=1, limit=1_000_000, topics=["firegov:StaffAccount.Opened"]
        )
        for notification in opened_before:
            event: Any = built.app.mapper.to_domain_event(notification)
            if str(Role.SYSTEM_ADMIN) in event.roles:
                fail(RuntimeError("已有系统管理员 a system administrator exists already"))
        password = (
            getpass.getpass("密码 Password: ")
            if sys.stdin.isatty()
            else sys.stdin.readline().strip()
        )
        opened = built.services.staff.open_account(
            console_actor(built, "bootstrap"), username=username, display_name=display_name,
            agency=built.agencies.detachment.code, roles=[str(Role.SYSTEM_ADMIN)],
            password=password,
        )  # fmt: skip
        typer.echo(f"已创建系统管理员 Created system administrator: {opened.username}")
        uri = built.services.staff.provisioning_uri(opened, settings.totp_issuer)
        typer.echo(f"动态口令 TOTP (add to an authenticator app, shown once): {uri}")


@audit_app.command("history")
def audit_history(
    key: Annotated[str, typer.Argument(help="受理编号或事项 id receipt number or aggregate id")],
) -> None:
    """案件全部历史：何时、何人、何角色、何机构、何事 Every event of one case."""
    with platform() as built:
        entries = built.services.audit.history(console_actor(built, "audit"), key)
        for e in entries:
            details = "; ".join(f"{k}={v}" for k, v in e.details.items())
            typer.echo(
                f"{e.position:>3}  {e.at}  {e.actor_name}  {e.role_zh}({e.role})  {e.agency}  "
                f"{e.what_zh} [{e.event}]  {details}"
            )


@projections_app.command("rebuild")
def projections_rebuild() -> None:
    """删除并重放内网读模型 Drop the internal read models and replay them from the start."""
    with platform() as built:
        position = built.projector.rebuild()
        typer.echo(f"已重建至位置 Rebuilt up to notification {position}")


@personal_app.command("erase")
def personal_data_erase(
    subject: Annotated[str, typer.Argument(help="个人主体 id（ps-…）subject id")],
    reason: Annotated[str, typer.Option(help="删除理由 reason (recorded)")],
) -> None:
    """销毁某人的密钥，使其个人信息在所有事件和视图中显示为已删除 Crypto-shred one person."""
    with platform() as built:
        erased = built.services.personal_data.erase(console_actor(built, "erase"), subject, reason)
        typer.echo("已删除 Erased" if erased else "此前已删除或不存在 Already erased or unknown")


@settings_app.command("table")
def settings_table() -> None:
    """输出配置项表格（Markdown）Print the settings table for README.md."""
    typer.echo("| variable | default | description |\n| --- | --- | --- |")
    for name, field in InternalSettings.model_fields.items():
        default = field.default if field.default is not None else ""
        if name in {"calendar_dir", "agencies_file"}:
            default = "(package) " + (
                "deployment/calendar"
                if name == "calendar_dir"
                else "deployment/data/zhengzhou.toml"
            )
        typer.echo(f"| `FIREGOV_{name.upper()}` | `{default}` | {field.description} |")


def main() -> None:
    app()
