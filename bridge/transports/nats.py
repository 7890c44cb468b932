"""The NATS JetStream transport (DESIGN.md decisions 5-7): the outbound stream carries the
bridge's signed batches from the internal side to the public side; deployment/nats/README.md
describes the server's accounts and why they are shaped so.

- ``NatsSink`` (internal side, user ``firegov-bridge`` of the INTERNAL account, the only account
  with JetStream) creates the stream ``FIREGOV_OUTBOUND`` and the public side's durable pull
  consumer ``public`` when they are missing, and publishes each batch as ONE message on its own
  subject ``firegov.outbound.batch.<first>-<last>``, waiting for JetStream's ack (no ack: the
  send raises, so ``OutboundBridge.ship`` does not mark the batch shipped).
- ``NatsSource`` (public side, user ``firegov-public`` of the PUBLIC account, which has no
  JetStream) pulls from that durable consumer through the one JetStream API subject the PUBLIC
  account imports, under the private prefix ``firegov.public.js``
  (``firegov.public.js.CONSUMER.MSG.NEXT.FIREGOV_OUTBOUND.public``), and acknowledges through the
  imported ``$JS.ACK.FIREGOV_OUTBOUND.public.>``; nothing else is needed. Each pull is a
  ``no_wait`` request for one message on a fresh inbox rather than nats-py's
  ``pull_subscribe_bind(...).fetch``: ``fetch`` leaves a waiting pull request on the server when
  nothing is there, and on a shared inbox a later fetch then takes that request's expiry status
  for its own answer while a batch sent to it lingers in the client until the next fetch (seen
  as a batch delivered twice in one pass, or one held back until ``ack_wait``).

The stream cannot fork (decision 5 needs one history). A batch's message id is
``batch-<first>-<last>-<digest>`` (16 hex digits of SHA-256 of its bytes), so it is stable for
the same bytes, and different bytes never pass as "the same batch". The sink knows the last
batch in the stream (read from the stream when it connects or after any doubt) and publishes a
batch only if it starts right after that one, with ``Nats-Expected-Last-Msg-Id`` = that batch's
id, so that a concurrent writer cannot slip in between (the server refuses, the sink reads the
stream again and decides anew). The very first batch (empty stream) goes without expectation.
A resend of a batch the stream already holds is harmless: the sink finds it on its subject
with the same id and publishes nothing (a sink that did not know yet is answered "duplicate" by
JetStream within its duplicate window, or refused its expectation and looks again). A batch
that does not follow — a different batch for an already used range (a fork) or one that would
leave a hole — raises ``StreamRefusedBatch`` and is not sent.

High-water mark: heartbeats are NOT messages of the stream. JetStream keeps one "last message
id" per stream and a message without an id resets it (checked on nats-server 2.9.10), so
heartbeats in the same stream would make every following batch's ``Nats-Expected-Last-Msg-Id``
fail. The sink publishes each heartbeat as a plain NATS message on
``firegov.heartbeat.outbound``, which the INTERNAL account exports as a stream and the PUBLIC
account imports (a one-way flow: nothing the public side publishes reaches the internal
account that way). The heartbeat is sent only after the batches it counts were acked, so a
value heard before a pull started is covered by what that pull finds: ``high_water()`` gives
the value heard when the last ``deliveries()`` began (None until one is heard; a public process
that restarts hears the next one, ``OutboundBridge.run`` sends one every round).

Delivery is at least once: the consumer redelivers what was not acknowledged within its
``ack_wait``, and a batch the receiver did not acknowledge (it stopped on a problem, or its
transaction failed) is handed back at once (NAK) when ``deliveries()`` ends. The consumer lets
one batch be outstanding at a time (``max_ack_pending`` 1), so a redelivery cannot be overtaken
and batches arrive in sequence order; the receiver's own sequence check makes the effect exactly
once. ``deliveries()`` never waits for a batch to come: the receiver's loop polls.

nats-py is asynchronous and the bridge and the receiver run in plain threads: each end runs its
client on a private event loop in a daemon thread and waits for each call with a timeout.

Credentials: ``credentials`` is the path of a small TOML (or ``.json``) file with ``user`` and
``password`` of the NATS user (mode 0600, outside the repository); None connects without
credentials (a development server without accounts).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import threading
import tomllib
from collections.abc import Awaitable, Callable, Coroutine, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import nats
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    ReplayPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import APIError, NotFoundError

from bridge.transports.base import Delivery

log = structlog.get_logger()

OUTBOUND_STREAM = "FIREGOV_OUTBOUND"
OUTBOUND_SUBJECTS = "firegov.outbound.>"
BATCH_SUBJECT = "firegov.outbound.batch"  # + ".<first:012d>-<last:012d>"
HEARTBEAT_SUBJECT = "firegov.heartbeat.outbound"
PUBLIC_CONSUMER = "public"
PUBLIC_API_PREFIX = "firegov.public.js"  # the PUBLIC account's import of the JetStream API
INTAKE_SUBJECTS = "firegov.intake.>"  # public -> internal: bridge.transports.nats_intake
BRIDGE_INBOX = "_INBOX_firegov_bridge"
PUBLIC_INBOX = "_INBOX_firegov_public"

FIRST_SEQ_HEADER = "Firegov-First-Seq"
LAST_SEQ_HEADER = "Firegov-Last-Seq"
MSG_ID_HEADER = "Nats-Msg-Id"
EXPECTED_LAST_MSG_ID_HEADER = "Nats-Expected-Last-Msg-Id"
WRONG_LAST_MSG_ID = 10070  # JetStream's error code for a failed Nats-Expected-Last-Msg-Id
STATUS_HEADER, DESCRIPTION_HEADER = "Status", "Description"
NEXT_NO_WAIT = b'{"batch": 1, "no_wait": true}'
NOTHING_NOW = frozenset({"404", "408", "409"})  # no message; request or ack-pending limits
ACK, NAK, TERM = b"+ACK", b"-NAK", b"+TERM"

BATCH_ID = re.compile(r"^batch-(\d+)-(\d+)-([0-9a-f]{16})$")
T = TypeVar("T")
OnConnect = Callable[[Client], Awaitable[None]]


class NatsTransportError(RuntimeError):
    """The NATS transport could not do what was asked (nothing was marked done)."""


class StreamRefusedBatch(NatsTransportError):
    """The batch does not follow the stream's last batch: it would fork the stream or leave a
    hole in it. Nothing was published."""


@dataclass(frozen=True)
class Login:
    user: str
    password: str = field(repr=False)


def load_login(path: Path | None) -> Login | None:
    """The user and password in ``path`` (TOML, or JSON if it ends in ``.json``)."""
    if path is None:
        return None
    raw = path.read_bytes()
    try:
        data: Any = json.loads(raw) if path.suffix == ".json" else tomllib.loads(raw.decode())
    except (ValueError, UnicodeDecodeError) as error:
        raise NatsTransportError(f"{path}: not a readable credentials file: {error}") from None
    user = data.get("user") if isinstance(data, dict) else None
    password = data.get("password") if isinstance(data, dict) else None
    if not (isinstance(user, str) and user and isinstance(password, str) and password):
        raise NatsTransportError(f"{path}: needs a non-empty `user` and `password`")
    return Login(user, password)


@dataclass(frozen=True)
class BatchId:
    first_seq: int
    last_seq: int
    digest: str

    @classmethod
    def of(cls, first_seq: int, last_seq: int, data: bytes) -> BatchId:
        return cls(first_seq, last_seq, hashlib.sha256(data).hexdigest()[:16])

    @classmethod
    def parse(cls, value: str | None) -> BatchId | None:
        match = BATCH_ID.match(value or "")
        return cls(int(match[1]), int(match[2]), match[3]) if match else None

    def __str__(self) -> str:
        return f"batch-{self.first_seq}-{self.last_seq}-{self.digest}"

    @property
    def subject(self) -> str:
        return batch_subject(self.first_seq, self.last_seq)


def batch_subject(first_seq: int, last_seq: int) -> str:
    return f"{BATCH_SUBJECT}.{first_seq:012d}-{last_seq:012d}"


class _LoopThread:
    """A private asyncio event loop in a daemon thread; plain threads call into it."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float) -> T:
        if self.loop.is_closed():
            coroutine.close()
            raise NatsTransportError("the NATS transport is closed")
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise NatsTransportError(f"no answer from NATS within {timeout:g} s") from None

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        if not self.thread.is_alive():
            self.loop.close()


class Endpoint:
    """One NATS connection on its own loop, made on first use and made again if closed."""

    def __init__(
        self, url: str, credentials: Path | None, inbox_prefix: str, name: str, timeout: float
    ) -> None:
        self.url, self.login, self.inbox_prefix = url, load_login(credentials), inbox_prefix
        self.name, self.timeout = name, timeout
        self.runner = _LoopThread(f"nats-{name}")
        self.nc: Client | None = None
        self.lock: asyncio.Lock | None = None
        self.last_error: Exception | None = None

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coroutine`` on the loop and wait for it. Each NATS request inside has its own
        timeout; the default here only guards against a call that hangs (a connection attempt
        and a few requests fit in it)."""
        return self.runner.call(coroutine, 3 * self.timeout if timeout is None else timeout)

    async def client(self, on_connect: OnConnect | None = None) -> Client:
        self.lock = self.lock or asyncio.Lock()
        async with self.lock:
            if self.nc is not None and not self.nc.is_closed:
                return self.nc
            self.last_error = None
            try:
                nc = await asyncio.wait_for(self._connect(), self.timeout)
            except (TimeoutError, OSError, NatsError) as error:
                cause = self.last_error or error
                raise NatsTransportError(
                    f"cannot connect to NATS at {self.url} as {self.name}: {cause!r}"
                ) from error
            if on_connect is not None:
                try:
                    await on_connect(nc)
                except BaseException:
                    await nc.close()
                    raise
            self.nc = nc
            return nc

    async def _connect(self) -> Client:
        options: dict[str, Any] = {}
        if self.login is not None:
            options = {"user": self.login.user, "password": self.login.password}
        return await nats.connect(
            servers=[self.url],
            name=f"firegov-{self.name}",
            inbox_prefix=self.inbox_prefix,
            connect_timeout=max(1, int(self.timeout)),
            reconnect_time_wait=1,
            max_reconnect_attempts=-1,  # after the first connection: keep trying for ever
            error_cb=self._on_error,
            **options,
        )

    async def _on_error(self, error: Exception) -> None:
        self.last_error = error
        log.warning("nats_error", endpoint=self.name, error=repr(error))

    async def _close(self) -> None:
        if self.nc is not None and not self.nc.is_closed:
            await self.nc.close()

    def close(self) -> None:
        if not self.runner.loop.is_closed():
            try:
                self.call(self._close())
            except NatsTransportError:
                log.warning("nats_close_failed", endpoint=self.name)
        self.runner.stop()


async def pull_one(nc: Client, next_subject: str, timeout: float) -> Msg | None:
    """A durable consumer's next message, or None if none is waiting: one pull request with
    ``no_wait`` on a fresh inbox, which JetStream answers with exactly one message (a message of
    the stream, or a status such as 404 No Messages), so no request is left waiting on the
    server to catch a later message for a reader that is gone."""
    inbox = nc.new_inbox()
    subscription = await nc.subscribe(inbox)
    try:
        await nc.publish(next_subject, NEXT_NO_WAIT, reply=inbox)
        try:
            message = await subscription.next_msg(timeout=timeout)
        except TimeoutError:
            raise NatsTransportError(f"no answer to a pull on {next_subject}") from None
    finally:
        await subscription.unsubscribe()
    status = (message.headers or {}).get(STATUS_HEADER)
    if status is None:
        return message
    if status in NOTHING_NOW:
        return None
    description = (message.headers or {}).get(DESCRIPTION_HEADER, "")
    raise NatsTransportError(f"pull on {next_subject}: {status} {description}")


async def confirm(nc: Client, message: Msg, kind: bytes, timeout: float) -> None:
    """Acknowledge (or hand back, or terminate) ``message`` and wait until JetStream has it."""
    if not message.reply:
        raise NatsTransportError("a message without an acknowledgement subject")
    try:
        await nc.request(message.reply, kind, timeout=timeout)
    except (NatsError, TimeoutError) as error:
        raise NatsTransportError(f"{kind.decode()} not confirmed: {error!r}") from error


class NatsSink:
    """The internal end: publishes batches into the outbound stream (see the module text)."""

    def __init__(
        self,
        url: str,
        credentials: Path | None,
        *,
        stream: str = OUTBOUND_STREAM,
        consumer: str = PUBLIC_CONSUMER,
        inbox_prefix: str = BRIDGE_INBOX,
        ack_wait: float = 30.0,
        duplicate_window: float = 120.0,
        timeout: float = 10.0,
    ) -> None:
        self.stream, self.consumer = stream, consumer
        self.ack_wait, self.duplicate_window = ack_wait, duplicate_window
        self.endpoint = Endpoint(url, credentials, inbox_prefix, "bridge", timeout)
        self._tail: BatchId | None = None  # the stream's last batch, if known
        self._tail_known = False

    # -- the BatchSink protocol ---------------------------------------------------------------

    def send(self, first_seq: int, last_seq: int, data: bytes) -> None:
        self.endpoint.call(self._send(BatchId.of(first_seq, last_seq, data), data))

    def heartbeat(self, high_water: int) -> None:
        self.endpoint.call(self._heartbeat(high_water))

    def close(self) -> None:
        self.endpoint.close()

    # -- operator and test helpers ------------------------------------------------------------

    def ensure_outbound(self) -> None:
        """Create the outbound stream and the public side's durable consumer if missing
        (also done on every connect)."""
        self.endpoint.call(self._js())

    def stream_messages(self) -> int:
        """How many messages the outbound stream holds."""

        async def count() -> int:
            info = await (await self._js()).stream_info(self.stream)
            return int(info.state.messages)

        return self.endpoint.call(count())

    # -- inside the loop ----------------------------------------------------------------------

    async def _js(self) -> JetStreamContext:
        return (await self.endpoint.client(self._ensure)).jetstream(timeout=self.endpoint.timeout)

    async def _ensure(self, nc: Client) -> None:
        js = nc.jetstream(timeout=self.endpoint.timeout)
        try:
            await js.stream_info(self.stream)
        except NotFoundError:
            await js.add_stream(
                StreamConfig(
                    name=self.stream,
                    description="firegov: signed batches of the outbound bridge (DESIGN.md 5-7)",
                    subjects=[OUTBOUND_SUBJECTS],
                    retention=RetentionPolicy.LIMITS,
                    storage=StorageType.FILE,
                    discard=DiscardPolicy.OLD,
                    duplicate_window=self.duplicate_window,
                    deny_delete=True,
                    deny_purge=True,
                )
            )
            log.info("nats_stream_created", stream=self.stream)
        try:
            await js.consumer_info(self.stream, self.consumer)
        except NotFoundError:
            await js.add_consumer(
                self.stream,
                ConsumerConfig(
                    name=self.consumer,
                    durable_name=self.consumer,
                    description="firegov: the public side's receiver",
                    deliver_policy=DeliverPolicy.ALL,
                    ack_policy=AckPolicy.EXPLICIT,
                    ack_wait=self.ack_wait,
                    max_deliver=-1,
                    max_ack_pending=1,  # one at a time: redeliveries cannot overtake
                    filter_subject=f"{BATCH_SUBJECT}.>",
                    replay_policy=ReplayPolicy.INSTANT,
                ),
            )
            log.info("nats_consumer_created", stream=self.stream, consumer=self.consumer)
        self._tail_known = False

    async def _read_tail(self, js: JetStreamContext) -> BatchId | None:
        try:
            info = await js.stream_info(self.stream)
        except NotFoundError:  # lost while connected: create it again (it starts empty)
            log.error("nats_stream_missing", stream=self.stream)
            if self.endpoint.nc is not None:
                await self._ensure(self.endpoint.nc)
            info = await js.stream_info(self.stream)
        if not info.state.messages:
            return None
        last = await js.get_msg(self.stream, info.state.last_seq)
        tail = BatchId.parse((last.headers or {}).get(MSG_ID_HEADER))
        if tail is None:
            raise NatsTransportError(
                f"the last message of {self.stream} (seq {info.state.last_seq}) is not a batch"
            )
        return tail

    async def _send(self, batch: BatchId, data: bytes) -> None:
        js = await self._js()
        for _ in range(3):
            if not self._tail_known:
                self._tail, self._tail_known = await self._read_tail(js), True
            tail = self._tail
            after = tail.last_seq if tail is not None else 0
            if batch.first_seq != after + 1:
                await self._not_next(js, batch, tail)
                return
            headers = {
                MSG_ID_HEADER: str(batch),
                FIRST_SEQ_HEADER: str(batch.first_seq),
                LAST_SEQ_HEADER: str(batch.last_seq),
            }
            if tail is not None:
                headers[EXPECTED_LAST_MSG_ID_HEADER] = str(tail)
            try:
                ack = await js.publish(batch.subject, data, stream=self.stream, headers=headers)
            except APIError as error:
                self._tail_known = False
                if error.err_code == WRONG_LAST_MSG_ID:  # someone else wrote: look again
                    continue
                raise NatsTransportError(f"{batch} not stored: {error}") from error
            except (TimeoutError, NatsError) as error:
                self._tail_known = False  # it may or may not be stored: look again next time
                raise NatsTransportError(f"{batch} not acknowledged: {error!r}") from error
            if ack.duplicate:  # stored before within the duplicate window: harmless
                self._tail_known = False
            else:
                self._tail = batch
            log.info("nats_batch_published", batch=str(batch), stream_seq=ack.seq)
            return
        raise NatsTransportError(f"{batch}: the stream kept changing under the bridge")

    async def _not_next(self, js: JetStreamContext, batch: BatchId, tail: BatchId | None) -> None:
        """The batch does not start right after the stream's last batch: it is either a resend
        of a batch the stream holds (harmless), or it would fork the stream or leave a hole."""
        after = tail.last_seq if tail is not None else 0
        if batch.first_seq > after + 1:
            raise StreamRefusedBatch(
                f"{batch} would leave a hole: {self.stream} ends at seq {after}; "
                f"resend from seq {after + 1}"
            )
        try:
            stored = await js.get_last_msg(self.stream, batch.subject)
        except NotFoundError:
            stored = None
        stored_id = BatchId.parse((stored.headers or {}).get(MSG_ID_HEADER)) if stored else None
        if stored_id == batch:
            log.info("nats_batch_already_stored", batch=str(batch))
            return
        raise StreamRefusedBatch(
            f"{batch} would fork {self.stream}: it holds {stored_id or 'another batch'} for "
            f"these seqs and ends with {tail}"
        )

    async def _heartbeat(self, high_water: int) -> None:
        nc = await self.endpoint.client(self._ensure)
        await nc.publish(HEARTBEAT_SUBJECT, json.dumps({"high_water": high_water}).encode())
        await nc.flush(timeout=max(1, round(self.endpoint.timeout)))


class NatsSource:
    """The public end: pulls batches from its durable consumer (see the module text)."""

    def __init__(
        self,
        url: str,
        credentials: Path | None,
        *,
        stream: str = OUTBOUND_STREAM,
        consumer: str = PUBLIC_CONSUMER,
        api_prefix: str = PUBLIC_API_PREFIX,
        inbox_prefix: str = PUBLIC_INBOX,
        timeout: float = 10.0,
    ) -> None:
        self.stream, self.consumer = stream, consumer
        self.next_subject = f"{api_prefix}.CONSUMER.MSG.NEXT.{stream}.{consumer}"
        self.endpoint = Endpoint(url, credentials, inbox_prefix, "public", timeout)
        self._heard: int | None = None  # the last heartbeat's high-water mark
        self._reported: int | None = None  # ... as it was when the last pull began
        self._pulled = False
        self._unacknowledged: dict[str, Msg] = {}

    # -- the BatchSource protocol -------------------------------------------------------------

    def deliveries(self, after_seq: int) -> Generator[Delivery, None, None]:
        """Batches in stream order, one at a time, until none is waiting (it never waits for
        one to come). What the caller did not acknowledge is handed back (NAK) when the
        iteration ends, so it comes again at once. ``after_seq`` is not needed: the durable
        consumer remembers what was acknowledged (so a replay from seq 1 needs the consumer
        created anew; deployment/nats/README.md)."""
        self._reported, self._pulled = self._heard, True
        try:
            while (message := self.endpoint.call(self._pull())) is not None:
                delivery = self._delivery(message)
                if delivery is None:
                    continue
                self._unacknowledged[str(message.reply)] = message
                yield delivery
        finally:
            if self._unacknowledged:
                try:
                    self.endpoint.call(self._hand_back())
                except NatsTransportError as error:  # they come again after ack_wait anyway
                    log.warning("nats_hand_back_failed", error=str(error))

    def high_water(self) -> int | None:
        return self._reported if self._pulled else self._heard

    def acknowledge(self, delivery: Delivery) -> None:
        message = delivery.token
        if not isinstance(message, Msg):
            raise TypeError("not a delivery of the NATS transport")
        self.endpoint.call(self._confirm(message, ACK))
        self._unacknowledged.pop(str(message.reply), None)

    def close(self) -> None:
        self.endpoint.close()

    # -- inside the loop ----------------------------------------------------------------------

    async def _on_connect(self, nc: Client) -> None:
        await nc.subscribe(HEARTBEAT_SUBJECT, cb=self._on_heartbeat)

    async def _on_heartbeat(self, message: Msg) -> None:
        try:
            value = json.loads(message.data)["high_water"]
        except (ValueError, KeyError, TypeError):
            log.warning("nats_heartbeat_unreadable", data=message.data[:100])
            return
        if isinstance(value, int) and not isinstance(value, bool):
            self._heard = value

    async def _pull(self) -> Msg | None:
        nc = await self.endpoint.client(self._on_connect)
        return await pull_one(nc, self.next_subject, self.endpoint.timeout)

    async def _confirm(self, message: Msg, kind: bytes) -> None:
        nc = await self.endpoint.client(self._on_connect)
        await confirm(nc, message, kind, self.endpoint.timeout)

    def _delivery(self, message: Msg) -> Delivery | None:
        headers = message.headers or {}
        try:
            first, last = int(headers[FIRST_SEQ_HEADER]), int(headers[LAST_SEQ_HEADER])
        except (KeyError, ValueError):
            log.error("nats_not_a_batch", subject=message.subject)
            self.endpoint.call(self._confirm(message, TERM))  # never again: not a batch
            return None
        return Delivery(first, last, message.data, token=message)

    async def _hand_back(self) -> None:
        messages, self._unacknowledged = list(self._unacknowledged.values()), {}
        for message in messages:
            try:
                await self._confirm(message, NAK)
            except NatsTransportError as error:  # it comes again after ack_wait anyway
                log.warning("nats_nak_failed", error=repr(error))
