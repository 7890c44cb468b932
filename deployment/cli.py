"""The ``firegov`` command: run, serve, seed, bootstrap, audit, calendar, projections and
personal-data erasure. Errors print a Chinese and English message, never a traceback."""

from __future__ import annotations

import getpass
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Annotated, Any

import structlog
import typer

from deployment.bootstrap import Platform, build_platform
from deployment.calendar_warning import calendar_warning
from deployment.cli_calendar import calendar_app
from deployment.logging import configure_logging
from deployment.notify import build_notifier
from deployment.settings import InternalSettings, load_internal_settings
from deployment.sides import PublicSide
from domain.actor import Actor, Role
from domain.errors import DomainError
from projections.internal.notifications import Outbox
from projections.internal.tracking import RebuildableFollower
from projections.log_guard import LogWentBack

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
keys_app = typer.Typer(help="摆渡签名密钥 Bridge signing keys", no_args_is_help=True)
bridge_app = typer.Typer(help="内外网摆渡 The one-way bridge", no_args_is_help=True)
public_app = typer.Typer(help="互联网端 Public side", no_args_is_help=True)
for sub, name in [
    (keys_app, "keys"),
    (bridge_app, "bridge"),
    (public_app, "public"),
    (internal_app, "internal"),
    (demo_app, "demo"),
    (admin_app, "admin"),
    (audit_app, "audit"),
    (projections_app, "projections"),
    (personal_app, "personal-data"),
    (settings_app, "settings"),
    (calendar_app, "calendar"),
]:
    app.add_typer(sub, name=name)


def fail(error: DomainError | Exception) -> None:
    if isinstance(error, DomainError):
        typer.echo(f"错误：{error.message_zh}\nError: {error.message_en}", err=True)
    else:
        typer.echo(f"错误 Error: {error}", err=True)
    raise typer.Exit(2)


@contextmanager
def platform() -> Iterator[Platform]:
    try:
        settings = load_internal_settings()
        configure_logging(settings.log_level, settings.log_json)
        built = build_platform(settings)
    except (DomainError, RuntimeError, ValueError, OSError) as error:
        fail(error)  # a configuration problem: say what, without a traceback
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


STOPPED_RECHECK_SECONDS = 10.0


def follow(
    step: Callable[[], object], name: str, interval: float = 0.2
) -> Callable[[threading.Event], None]:
    """A loop that runs ``step`` until stopped, logging (not dying of) its failures, and
    waiting ``interval`` seconds whenever a round moved nothing. A follower that found the log
    going back (projections.log_guard) has said so already: it is asked again now and then,
    so it goes on by itself once the log is restored."""

    def loop(stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                moved = step()
            except LogWentBack:
                stop.wait(max(interval, STOPPED_RECHECK_SECONDS))
                continue
            except Exception:
                structlog.get_logger().exception("follower_failed", follower=name)
                moved = False
            if not moved:
                stop.wait(interval)

    return loop


def serve_all(
    servers: list[tuple[Any, str, int]], loops: list[Callable[[threading.Event], None]]
) -> None:
    """Serve the given ASGI apps and run the background loops until Ctrl-C."""
    import asyncio

    import uvicorn

    from deployment.serving import server_config

    stop = threading.Event()
    threads = [threading.Thread(target=loop, args=(stop,), daemon=True) for loop in loops]
    for thread in threads:
        thread.start()
    running = [
        uvicorn.Server(server_config(asgi, host=host, port=port)) for asgi, host, port in servers
    ]

    async def main() -> None:
        async def propagate_exit() -> None:
            # Only one server owns the signal handlers: when it stops, stop them all.
            while not any(server.should_exit for server in running):
                await asyncio.sleep(0.2)
            for server in running:
                server.should_exit = True

        await asyncio.gather(propagate_exit(), *(server.serve() for server in running))

    try:
        asyncio.run(main())
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)


def internal_app_of(built: Platform, settings: InternalSettings) -> Any:
    from api_internal.app import create_app

    return create_app(built.staff_backend())


def advancing(catch_up: Callable[[], int]) -> Callable[[], bool]:
    """A step that says whether a position-returning ``catch_up`` moved, so that a follower
    sleeps when there is nothing new instead of spinning."""
    last = -1

    def step() -> bool:
        nonlocal last
        position, last = last, catch_up()
        return last != position

    return step


def internal_loops(built: Platform) -> list[Callable[[threading.Event], None]]:
    return [
        follow(advancing(built.projector.catch_up), "projector", built.settings.poll_seconds),
        follow(advancing(built.ledger.catch_up), "ledger", built.settings.poll_seconds),
        follow(
            built.keep_calendar_and_availability,
            "availability",
            built.settings.availability_seconds,
        ),
        follow(build_notifier(built, built.settings).step, "notifier", built.settings.poll_seconds),
        # Beside the calendar job, on the same clock: once a day, that next year is missing.
        follow(
            calendar_warning(built.calendar, built.services.context.clock),
            "calendar_warning",
            built.settings.availability_seconds,
        ),
    ]


@app.command()
def run() -> None:
    """一键运行内网、外网和摆渡（内嵌 SQLite，首次启动写入演示数据）Run everything at once."""
    from api_public.app import create_public_app
    from deployment.demo import is_seeded
    from deployment.sides import (
        build_importer,
        build_outbound,
        build_public,
        embedded_public_settings,
        ensure_bridge_keys,
    )

    settings = load_internal_settings()
    with platform() as built:
        if settings.seed_demo_data and not is_seeded(built):
            _seed_and_print(built, settings)
        ensure_bridge_keys(settings)
        outbound = build_outbound(built, settings)
        public_settings = embedded_public_settings(settings)
        public = build_public(public_settings)
        importer = build_importer(built, settings)
        try:
            with suppress(LogWentBack):  # logged; `firegov status` and /health show it
                outbound.step()
            while public.receiver.receive():
                pass
            typer.echo(f"内网工作人员接口 Staff API:  http://{settings.host}:{settings.port}/docs")
            typer.echo(
                f"互联网公众接口 Public API:   http://{public_settings.host}:{public_settings.port}/docs"
            )
            serve_all(
                [
                    (internal_app_of(built, settings), settings.host, settings.port),
                    (create_public_app(public.backend), public_settings.host, public_settings.port),
                ],
                [
                    *internal_loops(built),
                    follow(outbound.step, "outbound", settings.poll_seconds),
                    follow(public.receiver.receive, "receiver", public_settings.poll_seconds),
                    follow(importer.step, "intake", settings.poll_seconds),
                ],
            )
        finally:
            public.close()


@internal_app.command("serve")
def internal_serve() -> None:
    """运行内网工作人员接口 Serve the staff API (no demo data)."""
    settings = load_internal_settings()
    from deployment.sides import build_importer

    with platform() as built:
        typer.echo(f"内网工作人员接口 Staff API: http://{settings.host}:{settings.port}/docs")
        importer = build_importer(built, settings)
        serve_all(
            [(internal_app_of(built, settings), settings.host, settings.port)],
            [*internal_loops(built), follow(importer.step, "intake", settings.poll_seconds)],
        )


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
            console_actor(built, "bootstrap"),
            username=username,
            display_name=display_name,
            agency=built.agencies.detachment.code,
            roles=[str(Role.SYSTEM_ADMIN)],
            password=password,
        )
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


def rebuildable(built: Platform) -> list[tuple[str, RebuildableFollower]]:
    """Every internal read model that follows the log and can be replayed, with its name.

    Not the ledger (a chain computed again would hide a rewrite of history) and not the
    notification delivery record (what was sent is no event): the outbox's rebuild keeps it.
    The outbox is opened on its own, not through the notifier, so that a rebuild needs no
    working sender."""
    return [
        ("员工端视图 staff views", built.projector),
        ("预约名额计数 slot counts", built.slot_counts),
        ("登录失败记录 login attempts", built.login_attempts),
        ("通知发件箱 notification outbox", Outbox(built.app, built.views)),
    ]


@projections_app.command("rebuild")
def projections_rebuild() -> None:
    """删除并重放内网读模型 Drop the internal read models and replay them from the start.

    重建员工端视图、预约名额计数和通知发件箱；
    通知发送记录和账本保持不变，已发出的通知不会重发。
    Rebuilds the staff views, the slot counts and the notification outbox;
    the delivery record and the ledger stay as they are: nothing is sent again.
    """
    with platform() as built:
        reached = []
        for label, follower in rebuildable(built):
            reached.append(follower.rebuild())
            typer.echo(f"  {label}: {reached[-1]}")
        # Events may arrive meanwhile: every read model has reached at least the smallest.
        typer.echo(f"已重建至位置 Rebuilt up to notification {min(reached)}")


@personal_app.command("erase")
def personal_data_erase(
    subject: Annotated[str, typer.Argument(help="个人主体 id（ps-…）subject id")],
    reason: Annotated[str, typer.Option(help="删除理由 reason (recorded)")],
) -> None:
    """销毁某人的密钥，使其个人信息和所提交的材料文件在所有事件、视图和文档库中均已删除
    Crypto-shred one person: their data in every event and view, and their documents."""
    from domain.documents import DocumentStore
    from projections.internal.document_references import DocumentReferences

    with platform() as built:
        erased = built.services.personal_data.erase(console_actor(built, "erase"), subject, reason)
        typer.echo("已删除 Erased" if erased else "此前已删除 Already erased")
        # Unreadable already (their key is gone); the files go too, and so do the plain
        # copies an older installation kept that no one else's case still needs.
        built.projector.catch_up()
        plain = DocumentReferences(built.views).left_only_to(subject, built.sealer.is_erased)
        removed = DocumentStore(built.settings.documents_dir, built.sealer).shred(subject, plain)
        if removed:
            typer.echo(f"已销毁材料文件 {removed} 个 Removed {removed} document file(s)")


@settings_app.command("table")
def settings_table() -> None:
    """输出配置项表格（Markdown）Print the settings tables of docs/configuration.md."""
    from deployment.settings import PublicSettings

    for cls, prefix in ((InternalSettings, "FIREGOV_"), (PublicSettings, "FIREGOV_PUBLIC_")):
        # The docstring's first paragraph, however it is wrapped, heads the table.
        heading = " ".join((cls.__doc__ or cls.__name__).split("\n\n")[0].split())
        typer.echo(f"\n{heading}\n")
        typer.echo("| variable | default | description |\n| --- | --- | --- |")
        for name, field in cls.model_fields.items():
            default = "" if field.default is None else field.default
            if name in {"calendar_dir", "agencies_file"}:
                default = "(package) deployment/" + (
                    "calendar" if name == "calendar_dir" else "data/zhengzhou.toml"
                )
            typer.echo(f"| `{prefix}{name.upper()}` | `{default}` | {field.description} |")


def main() -> None:
    app()


@keys_app.command("init")
def keys_init() -> None:
    """创建摆渡签名密钥对（私钥留内网，公钥交外网）Create the bridge's Ed25519 key pair."""
    from bridge.keys import create_key_pair

    settings = load_internal_settings()
    try:
        create_key_pair(settings.signing_key_path, settings.verify_key_path)
    except FileExistsError as error:
        fail(error)
    typer.echo(f"签名私钥 Signing key (stays inside, 0600): {settings.signing_key_path}")
    typer.echo(f"验证公钥 Verification key (copy to the public side): {settings.verify_key_path}")


@bridge_app.command("outbound")
def bridge_outbound() -> None:
    """运行出站摆渡：读取内网事件，脱敏、签名后发出 Run the outbound bridge."""
    from deployment.sides import build_outbound

    settings = load_internal_settings()
    with platform() as built:
        outbound = build_outbound(built, settings)
        typer.echo(f"出站摆渡运行中 Outbound bridge running ({settings.bridge_transport})")
        serve_loops(
            [
                follow(advancing(built.ledger.catch_up), "ledger", settings.poll_seconds),
                follow(outbound.step, "outbound", settings.poll_seconds),
            ]
        )


@bridge_app.command("resend")
def bridge_resend(
    from_seq: Annotated[int, typer.Option("--from", min=1, help="从该序号起重发 first seq")],
) -> None:
    """重发自某序号起的全部批次（外网缺批次时）Ship every batch again from a sequence number."""
    from deployment.sides import build_outbound

    settings = load_internal_settings()
    with platform() as built:
        count = build_outbound(built, settings).resend(from_seq)
        typer.echo(f"已重发 {count} 个批次 Resent {count} batches")


@bridge_app.command("receive")
def bridge_receive() -> None:
    """运行外网接收端：验签、验链、按序号应用 Run the receiver on the public side."""
    with public_side() as public:
        typer.echo(f"接收端运行中 Receiver running ({public.settings.transport})")
        serve_loops([follow(public.receiver.receive, "receiver", public.settings.poll_seconds)])


@public_app.command("serve")
def public_serve() -> None:
    """运行互联网公众接口 Serve the public API."""
    from api_public.app import create_public_app

    with public_side() as public:
        settings = public.settings
        typer.echo(f"互联网公众接口 Public API: http://{settings.host}:{settings.port}/docs")
        serve_all([(create_public_app(public.backend), settings.host, settings.port)], [])


@public_app.command("rebuild")
def public_rebuild() -> None:
    """删除外网读模型并从序号 1 重放 Drop the public read models and replay from seq 1."""
    with public_side() as public:
        last = public.receiver.rebuild()
        typer.echo(f"已重放至序号 Replayed up to seq {last}")


@app.command()
def status() -> None:
    """运行状态：各跟随者的位置，及因事件日志回退而停止者 Where every follower of the log stands."""
    from deployment.cli_status import report

    with platform() as built:
        healthy = report(built, typer.echo)
    if not healthy:
        raise typer.Exit(1)


@audit_app.command("verify")
def audit_verify() -> None:
    """重算全部事件的哈希链并与账本核对 Recompute the ledger from the event store."""
    with platform() as built:
        built.ledger.catch_up()
        result = built.ledger.verify()
        if result.ok:
            typer.echo(f"一致 OK: {result.checked} events match the ledger")
            return
        typer.echo(
            f"不一致 MISMATCH at position {result.first_mismatch}: the stored event no longer "
            "matches what the ledger recorded",
            err=True,
        )
        raise typer.Exit(1)


@contextmanager
def public_side() -> Iterator[PublicSide]:
    from deployment.settings import load_public_settings
    from deployment.sides import build_public

    try:
        settings = load_public_settings()
        configure_logging(settings.log_level, settings.log_json)
        built = build_public(settings)
    except (RuntimeError, ValueError, OSError) as error:
        fail(error)
    try:
        yield built
    finally:
        built.close()


def serve_loops(loops: list[Callable[[threading.Event], None]]) -> None:
    """Run background loops in the foreground until Ctrl-C."""
    stop = threading.Event()
    threads = [threading.Thread(target=loop, args=(stop,), daemon=True) for loop in loops]
    for thread in threads:
        thread.start()
    try:
        while any(thread.is_alive() for thread in threads):
            stop.wait(1)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)
