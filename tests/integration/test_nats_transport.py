"""The NATS JetStream transport against a real nats-server running the project's configuration
(deployment/nats/firegov.conf; DESIGN.md decisions 5-7 and "Known traps in the libraries"):
batches cross once however often they are sent, the stream cannot fork, the public account can
neither write nor manage the outbound stream — not even through a reply-to — and a filing
handled inside shows up on the public side through NATS.

Each test starts its own server on a free port with a temporary JetStream directory and fresh
passwords in the environment; it is skipped if nats-server is not installed (a failure with
FIREGOV_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import StreamConfig
from nats.js.errors import APIError, NotFoundError

from bridge.transports.base import Delivery
from bridge.transports.nats import (
    BRIDGE_INBOX,
    HEARTBEAT_SUBJECT,
    OUTBOUND_STREAM,
    PUBLIC_API_PREFIX,
    PUBLIC_CONSUMER,
    PUBLIC_INBOX,
    WRONG_LAST_MSG_ID,
    BatchId,
    NatsSink,
    NatsSource,
    StreamRefusedBatch,
    batch_subject,
)
from deployment.sides import (
    build_outbound,
    build_public,
    embedded_public_settings,
    ensure_bridge_keys,
)
from domain.actor import Role
from domain.query_code import hash_query_code, new_query_code
from tests.support import Clock, filing_input, make_platform, open_account, settings_for

pytestmark = pytest.mark.nats

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deployment" / "nats" / "firegov.conf"
USERS = {"bridge": "firegov-bridge", "intake": "firegov-intake", "public": "firegov-public"}
INTAKE_STREAM = "FIREGOV_INTAKE"
INTAKE_INBOX = "_INBOX_firegov_intake"
ACK_WAIT = 1.0  # seconds; short, so that a redelivery after a lost ack comes quickly
POLL = 0.05  # seconds between pulls when nothing was waiting (the receiver's loop polls too)


def nats_server_binary() -> str | None:
    configured = os.environ.get("FIREGOV_NATS_SERVER")
    if configured:
        return shutil.which(configured)
    # Debian installs it in /usr/sbin, which is not on every user's PATH.
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
    return shutil.which("nats-server", path=path)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class NatsServer:
    url: str
    passwords: dict[str, str]
    credentials: dict[str, Path]
    process: subprocess.Popen[bytes]
    log_path: Path
    clients: list[NatsSink | NatsSource] = field(default_factory=list)

    def sink(self) -> NatsSink:
        sink = NatsSink(self.url, self.credentials["bridge"], ack_wait=ACK_WAIT)
        self.clients.append(sink)
        return sink

    def source(self) -> NatsSource:
        source = NatsSource(self.url, self.credentials["public"])
        self.clients.append(source)
        return source

    async def connect(self, who: str, errors: list[str] | None = None) -> Client:
        """A raw nats-py connection as one of the configured users; protocol errors the server
        sends (permissions violations) are collected in ``errors``."""
        inbox = {"bridge": BRIDGE_INBOX, "intake": INTAKE_INBOX, "public": PUBLIC_INBOX}[who]

        async def collect(error: Exception) -> None:
            if errors is not None:
                errors.append(str(error))

        return await nats.connect(
            self.url,
            user=USERS[who],
            password=self.passwords[who],
            inbox_prefix=inbox,
            error_cb=collect,
            allow_reconnect=False,
        )


def start_server(tmp_path: Path) -> NatsServer:
    binary = nats_server_binary()
    if binary is None:
        pytest.skip(
            "nats-server not found (apt install nats-server, or set FIREGOV_NATS_SERVER to it)"
        )
    store = tmp_path / "jetstream"
    # The config's store_dir cannot be overridden by a flag (the server calls that a duplicate
    # setting), so the server runs a copy that differs in that one line.
    text, count = re.subn(
        r"(?m)^(\s*)store_dir:.*$",
        lambda m: f'{m[1]}store_dir: "{store.as_posix()}"',
        CONFIG.read_text(encoding="utf-8"),
    )
    assert count == 1, "deployment/nats/firegov.conf should set jetstream { store_dir } once"
    config = tmp_path / "firegov.conf"
    config.write_text(text, encoding="utf-8")
    passwords = {who: "fg" + secrets.token_hex(16) for who in USERS}
    credentials = {}
    for who, user in USERS.items():
        path = tmp_path / f"nats-{who}.toml"
        path.write_text(f'user = "{user}"\npassword = "{passwords[who]}"\n', encoding="utf-8")
        credentials[who] = path
    env = {**os.environ, **{f"FIREGOV_NATS_{w.upper()}_PASSWORD": p for w, p in passwords.items()}}
    port = free_port()
    log_path = tmp_path / "nats-server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own binary and arguments
            [binary, "-c", str(config), "-a", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    deadline = time.monotonic() + 10
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"nats-server exited: {log_path.read_text(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("nats-server did not accept connections in 10 s") from None
            time.sleep(0.02)
    return NatsServer(f"nats://127.0.0.1:{port}", passwords, credentials, process, log_path)


@pytest.fixture(name="server")
def server_fixture(tmp_path: Path) -> Iterator[NatsServer]:
    running = start_server(tmp_path)
    try:
        yield running
    finally:
        for client in reversed(running.clients):
            client.close()
        running.process.terminate()
        try:
            running.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            running.process.kill()
            running.process.wait()


FIRST, SECOND, THIRD = b'{"batch": 1}', b'{"batch": 2}', b'{"batch": 3}'


def receive_all(
    source: NatsSource, after_seq: int = 0, expect: int = 1, within: float = 5.0
) -> list[Delivery]:
    """Pull and acknowledge until ``expect`` batches came (or ``within`` seconds passed)."""
    received: list[Delivery] = []
    deadline = time.monotonic() + within
    while len(received) < expect and time.monotonic() < deadline:
        for delivery in source.deliveries(after_seq):
            received.append(delivery)
            source.acknowledge(delivery)
        time.sleep(POLL)
    return received


def contents(deliveries: list[Delivery]) -> list[tuple[int, int, bytes]]:
    return [(d.first_seq, d.last_seq, d.data) for d in deliveries]


def times_delivered(delivery: Delivery) -> int:
    assert isinstance(delivery.token, Msg)
    return int(delivery.token.metadata.num_delivered)


async def wait_for(errors: list[str], count: int, within: float = 2.0) -> None:
    deadline = time.monotonic() + within
    while len(errors) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


async def create_intake_stream(server: NatsServer) -> None:
    """What the intake importer will do on the internal side (a later issue)."""
    nc = await server.connect("intake")
    try:
        await nc.jetstream().add_stream(
            StreamConfig(name=INTAKE_STREAM, subjects=["firegov.intake.>"])
        )
    finally:
        await nc.close()


@dataclass(frozen=True)
class Inside:
    """What the internal side sees of the streams (user firegov-bridge / firegov-intake)."""

    outbound_messages: int
    outbound_last_seq: int
    consumer_ack_pending: int
    intake_messages: int | None


async def look_inside(server: NatsServer) -> Inside:
    bridge = await server.connect("bridge")
    try:
        js = bridge.jetstream()
        stream = await js.stream_info(OUTBOUND_STREAM)
        consumer = await js.consumer_info(OUTBOUND_STREAM, PUBLIC_CONSUMER)
    finally:
        await bridge.close()
    intake = await server.connect("intake")
    try:
        try:
            intake_messages: int | None = (
                await intake.jetstream().stream_info(INTAKE_STREAM)
            ).state.messages
        except NotFoundError:
            intake_messages = None
    finally:
        await intake.close()
    return Inside(
        stream.state.messages, stream.state.last_seq, consumer.num_ack_pending, intake_messages
    )


# -- delivery -----------------------------------------------------------------------------------


def test_a_batch_sent_twice_is_stored_once_and_comes_again_until_acknowledged(
    server: NatsServer,
) -> None:
    sink, source = server.sink(), server.source()

    sink.send(1, 2, FIRST)
    sink.send(1, 2, FIRST)  # the bridge resends after a lost ack: a harmless duplicate
    assert sink.stream_messages() == 1

    offered = list(source.deliveries(0))  # the receiver stops before acknowledging
    again = receive_all(source)  # handed back at once, so it comes again
    assert contents(offered) == contents(again) == [(1, 2, FIRST)]
    assert times_delivered(again[0]) == 2
    assert list(source.deliveries(2)) == []  # acknowledged: gone for good

    sink.send(3, 4, SECOND)
    crashed = server.source()
    pending = crashed.deliveries(2)
    taken = next(pending)  # ... and its process dies before acknowledging
    crashed.close()
    redelivered = receive_all(source, after_seq=2, within=ACK_WAIT + 4)
    pending.close()
    assert contents(redelivered) == [(taken.first_seq, taken.last_seq, taken.data)]
    assert contents(redelivered) == [(3, 4, SECOND)]
    assert times_delivered(redelivered[0]) == 2


def test_the_public_side_learns_the_high_water_mark_from_heartbeats(server: NatsServer) -> None:
    sink, source = server.sink(), server.source()
    sink.send(1, 2, FIRST)
    assert [d.last_seq for d in receive_all(source)] == [2]  # connected now, listening

    sink.heartbeat(2)
    deadline = time.monotonic() + 2
    while source.high_water() is None and time.monotonic() < deadline:
        assert list(source.deliveries(2)) == []
        time.sleep(POLL)

    assert source.high_water() == 2
    assert sink.stream_messages() == 1  # heartbeats are not messages of the stream


# -- no fork ------------------------------------------------------------------------------------


def test_a_batch_that_would_fork_the_stream_is_refused(server: NatsServer) -> None:
    sink = server.sink()
    sink.send(1, 2, FIRST)
    sink.send(3, 5, SECOND)

    with pytest.raises(StreamRefusedBatch, match="fork"):
        sink.send(3, 4, b"another batch claiming to follow 1-2")
    with pytest.raises(StreamRefusedBatch, match="fork"):
        sink.send(3, 5, b"other bytes for the same seqs")
    with pytest.raises(StreamRefusedBatch, match="hole"):
        sink.send(8, 9, THIRD)

    stale = server.sink()  # a second bridge process ...
    stale.send(3, 5, SECOND)  # ... that knows the stream up to 3-5 (a harmless resend)
    sink.send(6, 7, THIRD)
    with pytest.raises(StreamRefusedBatch, match="fork"):  # JetStream refuses its expectation
        stale.send(6, 9, b"a different continuation of 3-5")

    async def publish_after_an_older_batch() -> int:
        nc = await server.connect("bridge")
        try:
            await nc.jetstream().publish(
                batch_subject(6, 9),
                b"forged",
                headers={
                    "Nats-Msg-Id": str(BatchId.of(6, 9, b"forged")),
                    "Nats-Expected-Last-Msg-Id": str(BatchId.of(3, 5, SECOND)),
                },
            )
        except APIError as error:
            return int(error.err_code or 0)
        finally:
            await nc.close()
        return 0

    assert asyncio.run(publish_after_an_older_batch()) == WRONG_LAST_MSG_ID
    assert sink.stream_messages() == 3
    assert contents(receive_all(server.source(), expect=3)) == [
        (1, 2, FIRST),
        (3, 5, SECOND),
        (6, 7, THIRD),
    ]


# -- permissions --------------------------------------------------------------------------------


def test_the_public_user_can_neither_write_nor_manage_the_outbound_stream(
    server: NatsServer,
) -> None:
    sink = server.sink()
    sink.send(1, 2, FIRST)
    forbidden = [
        batch_subject(3, 3),
        HEARTBEAT_SUBJECT,
        f"$JS.API.STREAM.DELETE.{OUTBOUND_STREAM}",
        f"$JS.API.STREAM.PURGE.{OUTBOUND_STREAM}",
        f"$JS.API.CONSUMER.DELETE.{OUTBOUND_STREAM}.{PUBLIC_CONSUMER}",
        f"{PUBLIC_API_PREFIX}.STREAM.DELETE.{OUTBOUND_STREAM}",
        f"{PUBLIC_API_PREFIX}.STREAM.PURGE.{OUTBOUND_STREAM}",
    ]
    unreadable = ["firegov.outbound.>", f"{BRIDGE_INBOX}.>", "_INBOX.>", ">"]
    errors: list[str] = []

    async def attempt() -> None:
        nc = await server.connect("public", errors)
        try:
            for subject in forbidden:
                await nc.publish(subject, b"{}", reply=nc.new_inbox())
            for subject in unreadable:
                await nc.subscribe(subject)
            await nc.flush()
            await wait_for(errors, len(forbidden) + len(unreadable))
        finally:
            await nc.close()

    asyncio.run(attempt())
    inside = asyncio.run(look_inside(server))

    refused = "\n".join(errors).lower()
    for subject in forbidden:
        assert f'permissions violation for publish to "{subject.lower()}"' in refused
    for subject in unreadable:
        assert f'permissions violation for subscription to "{subject.lower()}"' in refused
    assert (inside.outbound_messages, inside.outbound_last_seq) == (1, 1)


def test_a_reply_to_chosen_by_the_public_side_never_reaches_the_internal_account(
    server: NatsServer,
) -> None:
    """In one account each of these deleted, purged or wrote the outbound stream (DESIGN.md,
    "Known traps"); across the account boundary the reply goes back to PUBLIC."""
    sink = server.sink()
    sink.ensure_outbound()
    asyncio.run(create_intake_stream(server))
    delete = f"$JS.API.STREAM.DELETE.{OUTBOUND_STREAM}"
    purge = f"$JS.API.STREAM.PURGE.{OUTBOUND_STREAM}"
    pull = json.dumps({"batch": 1, "no_wait": True}).encode()
    next_message = f"{PUBLIC_API_PREFIX}.CONSUMER.MSG.NEXT.{OUTBOUND_STREAM}.{PUBLIC_CONSUMER}"
    ack = f"$JS.ACK.{OUTBOUND_STREAM}.{PUBLIC_CONSUMER}.1.99.99.0.0"
    errors: list[str] = []

    async def attack(*publishes: tuple[str, bytes, str]) -> None:
        nc = await server.connect("public", errors)
        try:
            for subject, payload, reply in publishes:
                await nc.publish(subject, payload, reply=reply)
            await nc.flush()
            await asyncio.sleep(0.2)
        finally:
            await nc.close()

    # Nothing to deliver: JetStream answers the pull with an empty "404 No Messages" status,
    # which in one account is a valid stream-delete request.
    asyncio.run(attack((next_message, pull, delete)))
    sink.send(1, 2, FIRST)
    sink.send(3, 5, SECOND)
    asyncio.run(
        attack(
            (next_message, pull, purge),  # answered with batch 1-2
            ("firegov.intake.filing", b"{}", purge),  # answered with a PubAck
            ("firegov.intake.filing", b"{}", delete),
            ("firegov.intake.filing", b"{}", batch_subject(6, 6)),  # a PubAck as a "batch"
            (ack, b"+ACK", delete),
        )
    )
    inside = asyncio.run(look_inside(server))

    assert errors == []  # every door used was open: what JetStream answered went to PUBLIC
    assert inside.consumer_ack_pending == 1  # the pull was answered (into the void) ...
    assert inside.intake_messages == 3  # ... and so were the three submissions
    assert (inside.outbound_messages, inside.outbound_last_seq) == (2, 2)  # not deleted,
    # not purged, nothing injected; and the batch taken by the pull comes again after ack_wait
    assert contents(receive_all(server.source(), expect=2, within=ACK_WAIT + 4)) == [
        (1, 2, FIRST),
        (3, 5, SECOND),
    ]


def test_the_public_user_can_submit_to_the_intake_stream(server: NatsServer) -> None:
    asyncio.run(create_intake_stream(server))
    server.sink().ensure_outbound()  # so that look_inside finds the outbound side too
    errors: list[str] = []

    async def submit() -> str:
        nc = await server.connect("public", errors)
        try:
            ack = await nc.jetstream(prefix=PUBLIC_API_PREFIX).publish(
                "firegov.intake.filing", b'{"kind": "design"}'
            )
        finally:
            await nc.close()
        return ack.stream

    assert asyncio.run(submit()) == INTAKE_STREAM
    assert errors == []
    assert asyncio.run(look_inside(server)).intake_messages == 1


# -- end to end ---------------------------------------------------------------------------------


def test_a_filing_certified_inside_shows_up_outside_through_nats(
    server: NatsServer, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path)
    clock = Clock()
    platform = make_platform(settings, clock)
    ensure_bridge_keys(settings)
    sink = server.sink()
    outbound = build_outbound(platform, settings, sink=sink)
    public = build_public(embedded_public_settings(settings), server.source(), clock)

    def cross() -> int:
        outbound.step()
        while public.receiver.receive():
            pass
        return public.receiver.status().last_seq

    try:
        clerk, _ = open_account(platform, "clerk", Role.WINDOW_CLERK, "zz-jinshui")
        receipt = platform.services.filings.submit(
            clerk, **filing_input(), query_code_hash=hash_query_code(new_query_code())
        )
        number = platform.services.filings.issue_certificate(clerk, receipt)
        last = cross()

        case = public.queries.case(receipt)
        certificate = public.queries.certificate(number)
        assert case is not None
        assert case["certificate_number"] == number
        assert certificate is not None
        assert certificate["certificate_number"] == number
        before, stored = public.queries.dump(), sink.stream_messages()

        assert outbound.resend(1) == stored  # the whole history again, through NATS
        deadline = time.monotonic() + 3  # ... and its heartbeat, which may come a moment later
        while public.receiver.receive() or (
            public.receiver.status().high_water is None and time.monotonic() < deadline
        ):
            time.sleep(POLL)

        status = public.receiver.status()
        assert (status.last_seq, status.healthy, status.high_water) == (last, True, last)
        assert public.queries.dump() == before
        assert sink.stream_messages() == stored
    finally:
        public.close()
        platform.close()
