"""Benchmark: the bridge from the internal notification log to the public read models.

    python -m tests.bench.bridge            # SQLite in a temporary directory, the file ferry
    python -m tests.bench.bridge --nats     # the same over NATS JetStream

Prints, from one run, on one installation:
  (a) the raw rate of reading and decoding the notification log (``select_notifications`` and
      ``mapper.to_domain_event`` for every notification): the ceiling of any follower;
  (b) bridge throughput over a pre-filled log (outbound produce and ship, then the receiver
      applies, until caught up), in internal events per second and as a ratio to (a)
      (aim >= 0.3x);
  (c) the lag from a command's commit to its effect on the public side under a steady 100
      commands per second, with the followers of ``firegov run`` (projector, ledger, outbound,
      receiver) polling in threads with its idle wait of 0.2 s, again with 0.05 s (aim: p99
      <= 1 s over the ferry), and once more with deployment.cli's own loops as wired today;
  (d) the peak resident memory: everything runs in this one process (and, with --nats, the
      private nats-server).

``--nats`` starts a private nats-server running deployment/nats/firegov.conf (its own JetStream
store, fresh passwords, a free port) when the binary is installed, so no stream of an earlier
run or of a test on a shared server gets in the way; otherwise it uses FIREGOV_NATS_URL
(default 127.0.0.1:4222) and the credentials in the settings. It prints "NATS transport not
available" and exits 0 when bridge.transports.nats cannot be imported or no server answers.
Figures, not assertions: these machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from bridge.outbound import OutboundBridge
from bridge.transports.base import BatchSink
from deployment.bootstrap import Platform, build_platform
from deployment.cli import advancing, follow, internal_loops
from deployment.logging import configure_logging
from deployment.settings import InternalSettings, PublicSettings, Transport
from deployment.sides import (
    PublicSide,
    build_outbound,
    build_public,
    embedded_public_settings,
    ensure_bridge_keys,
    outbound_sink,
)
from domain.actor import Actor, Role
from domain.query_code import hash_query_code, new_query_code
from tests.support import TUESDAY_MORNING, TickingClock, filing_input, settings_for

NATS_CONFIG = Path(__file__).resolve().parents[2] / "deployment" / "nats" / "firegov.conf"
CLERK = Actor("bench-window", Role.WINDOW_CLERK, "zz-jinshui")
WATCH_INTERVAL = 0.005  # how often the watcher looks at the public side


@dataclass
class Installation:
    settings: InternalSettings
    platform: Platform
    outbound: OutboundBridge
    sink: BatchSink
    public: PublicSide

    def close(self) -> None:
        close_sink = getattr(self.sink, "close", None)
        if callable(close_sink):
            close_sink()
        self.public.close()
        self.platform.close()


def install(directory: Path, nats: NatsAccess | None) -> Installation:
    """One installation on a clock that ticks with real time from a fixed working morning (the
    lags are measured with time.perf_counter; the day is never the machine's, whose year the
    calendar may not cover): the outbound bridge and the public side over the ferry, or over
    NATS (built as deployment/sides.py builds them)."""
    if nats is None:
        settings = settings_for(directory)
    else:
        settings = settings_for(
            directory,
            bridge_transport=Transport.NATS,
            nats_url=nats.url,
            nats_credentials=nats.bridge_credentials,
            nats_intake_credentials=nats.intake_credentials,
        )
    clock = TickingClock(TUESDAY_MORNING)
    platform = build_platform(settings, clock=clock)
    ensure_bridge_keys(settings)
    sink = outbound_sink(settings)
    public_settings = embedded_public_settings(settings)
    if nats is not None:
        public_settings = public_settings.model_copy(
            update={
                "transport": Transport.NATS,
                "nats_url": nats.url,
                "nats_credentials": nats.public_credentials,
            }
        )
        ensure = getattr(sink, "ensure_outbound", None)
        if callable(ensure):
            ensure()  # the stream and the public side's consumer exist before the first pull
    return Installation(
        settings,
        platform,
        build_outbound(platform, settings, sink=sink),
        sink,
        build_public(public_settings, clock=clock),
    )


def prefill(platform: Platform, events: int) -> None:
    """Filings submitted and certified (three internal events each) until ``events``."""
    filings = platform.services.filings
    index = 0
    while (platform.app.recorder.max_notification_id() or 0) < events:
        receipt = filings.submit(
            CLERK,
            **filing_input(contact_phone=f"139{index:08d}"),
            query_code_hash=hash_query_code(new_query_code()),
        )
        filings.issue_certificate(CLERK, receipt)
        index += 1


def decode_rate(platform: Platform, page: int) -> tuple[int, float]:
    """(a): every notification read and decoded, as a follower pages through the log."""
    recorder, mapper = platform.app.recorder, platform.app.mapper
    started = time.perf_counter()
    count, start = 0, 1
    while notifications := recorder.select_notifications(start=start, limit=page):
        for notification in notifications:
            mapper.to_domain_event(notification)
        count += len(notifications)
        start = notifications[-1].id + 1
    return count, count / (time.perf_counter() - started)


@dataclass(frozen=True)
class Throughput:
    events: int
    envelopes: int
    outbound_seconds: float
    receiver_seconds: float

    @property
    def rate(self) -> float:
        return self.events / (self.outbound_seconds + self.receiver_seconds)


def bridge_throughput(installation: Installation) -> Throughput:
    """(b): the outbound produces and ships everything, then the receiver applies it all."""
    outbound, receiver = installation.outbound, installation.public.receiver
    events = installation.platform.app.recorder.max_notification_id() or 0
    started = time.perf_counter()
    outbound.step()  # produces until caught up, then ships
    shipped = time.perf_counter()
    last_seq = outbound.state().last_seq
    give_up = shipped + 300
    while (status := receiver.status()).last_seq < last_seq:  # a transport may trickle
        if status.problem is not None and status.problem != "missing_batch":
            raise RuntimeError(f"the receiver stopped: {status.problem}: {status.problem_detail}")
        if time.perf_counter() > give_up:
            raise RuntimeError(f"the receiver is stuck at seq {status.last_seq} of {last_seq}")
        receiver.receive()
    applied = time.perf_counter()
    return Throughput(events, last_seq, shipped - started, applied - shipped)


Loop = Callable[[threading.Event], None]


def firegov_run_loops(installation: Installation) -> list[Loop]:
    """The followers exactly as `firegov run` wires them."""
    return [
        *internal_loops(installation.platform),
        follow(installation.outbound.step, "outbound", installation.settings.poll_seconds),
        follow(
            installation.public.receiver.receive,
            "receiver",
            installation.public.settings.poll_seconds,
        ),
    ]


def waiting_loops(installation: Installation, interval: float) -> list[Loop]:
    """The same followers, each waiting ``interval`` whenever a round moved nothing."""
    platform, outbound = installation.platform, installation.outbound
    receiver = installation.public.receiver
    return [
        follow(advancing(platform.projector.catch_up), "projector", interval),
        follow(advancing(platform.ledger.catch_up), "ledger", interval),
        follow(outbound.step, "outbound", interval),
        follow(receiver.receive, "receiver", interval),
    ]


@dataclass
class Command:
    kind: str  # "submit" (the case becomes visible) or "certify" (the certificate does)
    key: str
    scheduled: float
    committed: float
    visible: float | None = None


@dataclass
class LagRun:
    commands: list[Command] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)


def issue_commands(installation: Installation, run: LagRun, rate: float, seconds: float) -> None:
    """One thread, on a schedule: submit a filing, then certify it, and so on."""
    filings = installation.platform.services.filings
    begin = time.perf_counter()
    receipt = ""
    for index in range(int(rate * seconds)):
        scheduled = begin + index / rate
        if (wait := scheduled - time.perf_counter()) > 0:
            time.sleep(wait)
        if index % 2 == 0:
            kind = "submit"
            receipt = filings.submit(
                CLERK,
                **filing_input(contact_phone=f"138{index:08d}"),
                query_code_hash=hash_query_code(new_query_code()),
            )
            key = receipt
        else:
            kind, key = "certify", filings.issue_certificate(CLERK, receipt)
        run.commands.append(Command(kind, key, scheduled, time.perf_counter()))
    run.done.set()


def watch(installation: Installation, run: LagRun, stop: threading.Event) -> None:
    """Notes when each command's effect is visible on the public side. Commands come from one
    thread, so they cross in order: only the oldest unseen one needs looking at."""
    queries = installation.public.queries
    seen = 0
    while not stop.is_set():
        while seen < len(run.commands):
            command = run.commands[seen]
            found = (
                queries.case(command.key)
                if command.kind == "submit"
                else queries.certificate(command.key)
            )
            if found is None:
                break
            command.visible = time.perf_counter()
            seen += 1
        if run.done.is_set() and seen == len(run.commands):
            return
        stop.wait(WATCH_INTERVAL)


@contextmanager
def running(loops: list[Loop]) -> Iterator[threading.Event]:
    stop = threading.Event()
    threads = [threading.Thread(target=loop, args=(stop,), daemon=True) for loop in loops]
    for thread in threads:
        thread.start()
    try:
        yield stop
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)


def lag(installation: Installation, loops: list[Loop], rate: float, seconds: float) -> LagRun:
    """(c): a steady stream of commands while the followers poll."""
    platform = installation.platform
    platform.projector.catch_up()  # followers start level with the log, as in a running system
    platform.ledger.catch_up()
    installation.outbound.step()
    while installation.public.receiver.receive():
        pass
    run = LagRun()
    with running(loops) as stop:
        watcher = threading.Thread(target=watch, args=(installation, run, stop), daemon=True)
        watcher.start()
        issue_commands(installation, run, rate, seconds)
        watcher.join(timeout=seconds + 60)
    return run


def describe_lag(name: str, run: LagRun, rate: float) -> str:
    lags = [c.visible - c.committed for c in run.commands if c.visible is not None]
    missing = len(run.commands) - len(lags)
    if len(lags) < 2:
        return f"{name}: too few commands crossed ({len(lags)}); missing {missing}"
    late = max(c.committed - c.scheduled for c in run.commands)
    span = run.commands[-1].committed - run.commands[0].scheduled
    p99 = statistics.quantiles(lags, n=100)[98]
    return (
        f"{name}: {len(run.commands)} commands at {len(run.commands) / span:.0f}/s "
        f"(asked {rate:.0f}/s; commits at most {late * 1000:.0f} ms behind schedule); "
        f"lag median {statistics.median(lags) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"max {max(lags) * 1000:.0f} ms" + (f"; {missing} NEVER SEEN" if missing else "")
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(url: str) -> bool:
    parts = urlparse(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), 1):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class NatsAccess:
    url: str
    bridge_credentials: Path | None
    public_credentials: Path | None
    server: subprocess.Popen[bytes] | None  # the private server, if this run started one
    intake_credentials: Path | None = None


def nats_server_binary() -> str | None:
    # Debian installs it in /usr/sbin, which is not on every user's PATH.
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
    return os.environ.get("FIREGOV_NATS_SERVER") or shutil.which("nats-server", path=path)


@contextmanager
def nats_access(directory: Path) -> Iterator[NatsAccess]:
    """A private nats-server running deployment/nats/firegov.conf (its own store, fresh
    passwords, a free port) if the binary is installed; otherwise the configured server
    (FIREGOV_NATS_URL, FIREGOV_NATS_CREDENTIALS, FIREGOV_PUBLIC_NATS_CREDENTIALS,
    FIREGOV_NATS_INTAKE_CREDENTIALS)."""
    binary = nats_server_binary()
    if binary is None:
        internal, public = InternalSettings(), PublicSettings()
        yield NatsAccess(
            internal.nats_url,
            internal.nats_credentials,
            public.nats_credentials,
            None,
            internal.nats_intake_credentials,
        )
        return
    store = directory / "jetstream"
    config = directory / "firegov.conf"
    config.write_text(
        re.sub(
            r"(?m)^(\s*)store_dir:.*$",
            lambda m: f'{m[1]}store_dir: "{store.as_posix()}"',
            NATS_CONFIG.read_text(encoding="utf-8"),
        ),
        encoding="utf-8",
    )
    env = dict(os.environ)
    credentials = {}
    users = {"bridge": "firegov-bridge", "public": "firegov-public", "intake": "firegov-intake"}
    for who, user in users.items():
        password = "fg" + secrets.token_hex(16)
        env[f"FIREGOV_NATS_{who.upper()}_PASSWORD"] = password
        credentials[who] = directory / f"nats-{who}.toml"
        credentials[who].write_text(f'user = "{user}"\npassword = "{password}"\n')
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - the installed nats-server, our own arguments
        [binary, "-c", str(config), "-a", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"nats://127.0.0.1:{port}"
    try:
        for _ in range(1000):
            if answers(url) or server.poll() is not None:
                break
            time.sleep(0.01)
        yield NatsAccess(
            url, credentials["bridge"], credentials["public"], server, credentials["intake"]
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM of another process (Linux), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def bench(directory: Path, nats: NatsAccess | None, args: argparse.Namespace) -> None:
    installation = install(directory, nats)
    try:
        prefill(installation.platform, args.events)
        installation.platform.ledger.catch_up()  # the ledger follower's work, not the bridge's
        page = installation.settings.bridge_batch_size
        decoded = [decode_rate(installation.platform, page) for _ in range(3)]
        count, raw = decoded[0][0], statistics.median(rate for _, rate in decoded)
        moved = bridge_throughput(installation)
        runs = [
            (
                "idle wait 0.2 s",
                lag(installation, waiting_loops(installation, 0.2), args.rate, args.seconds),
            ),
            (
                "firegov run's loops (idle wait FIREGOV_POLL_SECONDS, 0.05 s by default)",
                lag(installation, firegov_run_loops(installation), args.rate, args.seconds),
            ),
        ]
    finally:
        installation.close()
    transport = "file ferry" if nats is None else f"NATS JetStream at {nats.url}"
    print(f"transport: {transport}; store: SQLite; batch size {page}")
    print(f"(a) read + decode the notification log  {raw:9.0f} events/s   ({count} events)")
    print(
        f"(b) bridge, log -> public projection     {moved.rate:9.0f} events/s   "
        f"{moved.rate / raw:.2f}x of (a)  (aim >= 0.3x; {moved.events} events -> "
        f"{moved.envelopes} envelopes; outbound {moved.outbound_seconds:.2f} s, "
        f"receiver {moved.receiver_seconds:.2f} s)"
    )
    for index, (name, run) in enumerate(runs):
        print(f"{'(c)' if index == 0 else '   '} {describe_lag(name, run, args.rate)}")
    print("    (projector, ledger, outbound and receiver loops in threads of this process;")
    print("     lag = commit of the command -> seen by a watcher polling the public database;")
    print("     the last run uses deployment.cli's loops, as `firegov run` wires them)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nats", action="store_true", help="cross over NATS JetStream")
    parser.add_argument("--events", type=int, default=3000, help="pre-filled internal events")
    parser.add_argument("--rate", type=float, default=100.0, help="commands per second in (c)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each (c) run")
    args = parser.parse_args()
    configure_logging("WARNING")  # log lines would be measured too
    with tempfile.TemporaryDirectory() as tmp:
        if not args.nats:
            bench(Path(tmp), None, args)
            server_peak = None
        else:
            try:
                importlib.import_module("bridge.transports.nats")
            except ImportError as error:
                print(f"NATS transport not available: {error}")
                return
            with nats_access(Path(tmp)) as nats:
                if not answers(nats.url):
                    print(f"NATS transport not available: no server answers at {nats.url}")
                    return
                bench(Path(tmp), nats, args)
                server_peak = peak_rss_mb(nats.server.pid) if nats.server else None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(d) peak resident memory: {peak:.0f} MB (everything above ran in this one process)")
    if server_peak is not None:
        print(f"    private nats-server: {server_peak:.0f} MB")


if __name__ == "__main__":
    main()
