"""The NATS JetStream intake stream (DESIGN.md decision 7): the public side's submissions, one
way, into the internal account; deployment/nats/README.md describes the accounts.

- ``NatsIntakeDrop`` (public side, user ``firegov-public`` of the PUBLIC account, which has no
  JetStream) publishes a bundle (bridge.contract.intake) through the service import
  ``firegov.intake.>``, cut into parts of at most ``PART_BYTES`` (a server's ``max_payload`` is
  1 MiB unless configured), each on ``firegov.intake.<receipt>.<n>`` with its part number, the
  number of parts and the bundle's SHA-256 in headers, and a ``Nats-Msg-Id`` that is stable for
  the same bytes (so a resend within the duplicate window is stored once). Each part waits for
  JetStream's acknowledgement; a part not stored raises, and the public side answers "try
  again" without keeping anything.
- ``NatsIntakeInbox`` (internal side, user ``firegov-intake`` of the INTERNAL account) creates
  the stream ``FIREGOV_INTAKE`` (work-queue retention: a part acknowledged is deleted from the
  server, so no bundle with personal data in the clear stays there) and its durable pull
  consumer ``importer`` when missing, pulls parts, writes each one into a staging directory on
  the internal side and only then acknowledges it. A bundle is offered to the importer when all
  its parts are staged and their SHA-256 matches; ``done`` removes the staged parts. Parts of a
  bundle the public side never finished stay staged until ``stale_after`` and are then removed
  with a warning (the applicant was told to try again).

Delivery is at least once; the importer's own table (``intake_imported``) makes the effect
exactly once, as for the file ferry.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import shutil
import time
from pathlib import Path

import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from bridge.transports.nats import (
    ACK,
    DESCRIPTION_HEADER,
    MSG_ID_HEADER,
    NOTHING_NOW,
    PUBLIC_API_PREFIX,
    PUBLIC_INBOX,
    STATUS_HEADER,
    TERM,
    Endpoint,
    NatsTransportError,
    confirm,
)

log = structlog.get_logger()

INTAKE_STREAM = "FIREGOV_INTAKE"
INTAKE_SUBJECT = "firegov.intake"  # + ".<receipt>.<part>"
INTAKE_CONSUMER = "importer"
INTAKE_INBOX = "_INBOX_firegov_intake"
PART_BYTES = 512 * 1024
PART_HEADER, PARTS_HEADER, DIGEST_HEADER = "Firegov-Part", "Firegov-Parts", "Firegov-Digest"
RECEIPT = re.compile(r"^[A-Z]{2}\d{8}[A-Z]{6}$")
DIGEST = re.compile(r"^[0-9a-f]{64}$")
MAX_PARTS = 256  # 128 MiB: above the largest submission the public side accepts (100 MiB)
MAX_DIGESTS = 2  # different bundles under one receipt number (a retry after a doubt)
STREAM_BYTES = 4 * 1024**3  # the intake stream never takes the outbound stream's room
PULL_BATCH = 64
PULL_REQUEST = b'{"batch": 64, "no_wait": true}'


class NatsIntakeDrop:
    """The public end: publishes each submission's bundle into the intake stream."""

    def __init__(
        self,
        url: str,
        credentials: Path | None,
        *,
        api_prefix: str = PUBLIC_API_PREFIX,
        inbox_prefix: str = PUBLIC_INBOX,
        timeout: float = 10.0,
    ) -> None:
        self.api_prefix = api_prefix
        self.endpoint = Endpoint(url, credentials, inbox_prefix, "public-intake", timeout)

    def put(self, receipt_number: str, data: bytes) -> None:
        if not RECEIPT.fullmatch(receipt_number):
            raise ValueError(f"not a receipt number: {receipt_number!r}")
        parts = max(1, math.ceil(len(data) / PART_BYTES))
        if parts > MAX_PARTS:
            raise ValueError(f"{receipt_number}: a bundle of {len(data)} bytes is too large")
        self.endpoint.call(
            self._put(receipt_number, data, parts), timeout=self.endpoint.timeout * (parts + 2)
        )

    def close(self) -> None:
        self.endpoint.close()

    async def _put(self, receipt: str, data: bytes, parts: int) -> None:
        nc = await self.endpoint.client()
        js = nc.jetstream(prefix=self.api_prefix, timeout=self.endpoint.timeout)
        digest = hashlib.sha256(data).hexdigest()
        for part in range(parts):
            headers = {
                MSG_ID_HEADER: f"{receipt}.{part}.{digest[:16]}",
                PART_HEADER: str(part),
                PARTS_HEADER: str(parts),
                DIGEST_HEADER: digest,
            }
            chunk = data[part * PART_BYTES : (part + 1) * PART_BYTES]
            try:
                await js.publish(f"{INTAKE_SUBJECT}.{receipt}.{part}", chunk, headers=headers)
            except (TimeoutError, NatsError) as error:
                raise NatsTransportError(
                    f"{receipt}: part {part + 1} of {parts} not stored in {INTAKE_STREAM}: "
                    f"{error!r}"
                ) from error


class NatsIntakeInbox:
    """The internal end: stages the parts it pulls and offers whole bundles (module text)."""

    def __init__(
        self,
        url: str,
        credentials: Path | None,
        staging: Path,
        *,
        inbox_prefix: str = INTAKE_INBOX,
        timeout: float = 10.0,
        ack_wait: float = 60.0,
        stale_after: float = 24 * 3600.0,
        max_pull: int = 4096,
    ) -> None:
        self.staging, self.stale_after, self.max_pull = staging, stale_after, max_pull
        self.ack_wait = ack_wait
        self.next_subject = f"$JS.API.CONSUMER.MSG.NEXT.{INTAKE_STREAM}.{INTAKE_CONSUMER}"
        self.endpoint = Endpoint(url, credentials, inbox_prefix, "intake", timeout)
        staging.mkdir(parents=True, exist_ok=True)

    # -- the importer's inbox -----------------------------------------------------------------

    def pending(self) -> list[str]:
        """Pull what is waiting (staging each part before acknowledging it), then the receipts
        whose bundles are whole, in the order of their names (kind, date, letters)."""
        self.endpoint.call(self._pull_all(), timeout=self.endpoint.timeout * 10)
        whole = []
        for receipt in sorted(os.listdir(self.staging)):
            if RECEIPT.fullmatch(receipt) and self._whole(receipt) is not None:
                whole.append(receipt)
        self._sweep_stale()
        return whole

    def read(self, receipt_number: str) -> bytes | None:
        found = self._whole(receipt_number)
        if found is None:
            return None
        folder, parts = found
        return b"".join((folder / f"{n:04d}.part").read_bytes() for n in range(parts))

    def done(self, receipt_number: str) -> None:
        shutil.rmtree(self.staging / receipt_number, ignore_errors=True)

    def ensure_intake(self) -> None:
        """Create the intake stream and the importer's consumer if missing."""
        self.endpoint.call(self._client())

    def close(self) -> None:
        self.endpoint.close()

    # -- staging ------------------------------------------------------------------------------

    def _whole(self, receipt: str) -> tuple[Path, int] | None:
        """The folder of a bundle whose parts are all staged and match its digest."""
        root = self.staging / receipt
        try:
            digests = [d for d in os.listdir(root) if DIGEST.fullmatch(d)]
        except FileNotFoundError:
            return None
        for digest in digests:
            folder = root / digest
            try:
                parts = int((folder / "parts").read_text())
            except (FileNotFoundError, ValueError):
                continue
            names = [f"{n:04d}.part" for n in range(parts)]
            if not all((folder / name).exists() for name in names):
                continue
            hasher = hashlib.sha256()
            for name in names:
                hasher.update((folder / name).read_bytes())
            if hasher.hexdigest() == digest:
                return folder, parts
            log.error("intake_bundle_damaged", receipt=receipt)
            shutil.rmtree(folder, ignore_errors=True)
        return None

    def _stage(self, receipt: str, digest: str, part: int, parts: int, data: bytes) -> None:
        folder = self.staging / receipt / digest
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in ((f"{part:04d}.part", data), ("parts", str(parts).encode())):
            temporary = folder / f".{name}.{os.getpid()}.tmp"
            with open(temporary, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, folder / name)

    def _room_for(self, receipt: str, digest: str) -> bool:
        """At most ``MAX_DIGESTS`` different bundles are staged under one receipt number."""
        try:
            staged = {d for d in os.listdir(self.staging / receipt) if DIGEST.fullmatch(d)}
        except FileNotFoundError:
            return True
        return digest in staged or len(staged) < MAX_DIGESTS

    def _sweep_stale(self) -> None:
        cutoff = time.time() - self.stale_after
        for receipt in os.listdir(self.staging):
            folder = self.staging / receipt
            try:
                if folder.stat().st_mtime < cutoff and self._whole(receipt) is None:
                    log.warning("intake_bundle_incomplete_removed", receipt=receipt)
                    shutil.rmtree(folder, ignore_errors=True)
            except FileNotFoundError:
                continue

    # -- inside the loop ----------------------------------------------------------------------

    async def _client(self) -> Client:
        return await self.endpoint.client(self._ensure)

    async def _ensure(self, nc: Client) -> None:
        js = nc.jetstream(timeout=self.endpoint.timeout)
        try:
            await js.stream_info(INTAKE_STREAM)
        except NotFoundError:
            await js.add_stream(
                StreamConfig(
                    name=INTAKE_STREAM,
                    description="firegov: citizens' submissions, public -> internal (issue 4)",
                    subjects=[f"{INTAKE_SUBJECT}.>"],
                    retention=RetentionPolicy.WORK_QUEUE,
                    storage=StorageType.FILE,
                    discard=DiscardPolicy.NEW,  # full: refuse new parts, never drop old ones
                    duplicate_window=120.0,
                    max_age=14 * 24 * 3600.0,
                    max_bytes=STREAM_BYTES,
                    max_msg_size=PART_BYTES + 64 * 1024,
                )
            )
            log.info("nats_stream_created", stream=INTAKE_STREAM)
        try:
            await js.consumer_info(INTAKE_STREAM, INTAKE_CONSUMER)
        except NotFoundError:
            await js.add_consumer(
                INTAKE_STREAM,
                ConsumerConfig(
                    name=INTAKE_CONSUMER,
                    durable_name=INTAKE_CONSUMER,
                    description="firegov: the internal side's intake importer",
                    deliver_policy=DeliverPolicy.ALL,
                    ack_policy=AckPolicy.EXPLICIT,
                    ack_wait=self.ack_wait,
                    max_deliver=-1,
                    max_ack_pending=MAX_PARTS,
                ),
            )
            log.info("nats_consumer_created", stream=INTAKE_STREAM, consumer=INTAKE_CONSUMER)

    async def _pull_all(self) -> None:
        nc = await self._client()
        pulled = 0
        while pulled < self.max_pull:
            try:
                messages = await self._pull_batch(nc)
            except NatsTransportError:
                await self._ensure(nc)  # the stream or consumer lost meanwhile: make them again
                raise
            for message in messages:
                await self._take(nc, message)
            await nc.flush(timeout=max(1, round(self.endpoint.timeout)))
            pulled += len(messages)
            if len(messages) < PULL_BATCH:
                return

    async def _pull_batch(self, nc: Client) -> list[Msg]:
        """Up to ``PULL_BATCH`` waiting messages: one ``no_wait`` pull on a fresh inbox, which
        JetStream answers with the messages it has and, if fewer, a status (404 or 408)."""
        inbox = nc.new_inbox()
        subscription = await nc.subscribe(inbox)
        messages: list[Msg] = []
        try:
            await nc.publish(self.next_subject, PULL_REQUEST, reply=inbox)
            while len(messages) < PULL_BATCH:
                try:
                    message = await subscription.next_msg(timeout=self.endpoint.timeout)
                except TimeoutError:
                    raise NatsTransportError(f"no answer to a pull on {INTAKE_STREAM}") from None
                status = (message.headers or {}).get(STATUS_HEADER)
                if status is None:
                    messages.append(message)
                elif status in NOTHING_NOW:
                    break
                else:
                    description = (message.headers or {}).get(DESCRIPTION_HEADER, "")
                    raise NatsTransportError(f"pull on {INTAKE_STREAM}: {status} {description}")
        finally:
            await subscription.unsubscribe()
        return messages

    async def _take(self, nc: Client, message: Msg) -> None:
        headers = message.headers or {}
        pieces = message.subject.split(".")
        try:
            receipt, part = pieces[2], int(headers[PART_HEADER])
            parts, digest = int(headers[PARTS_HEADER]), headers[DIGEST_HEADER]
            well_formed = (
                len(pieces) == 4
                and RECEIPT.fullmatch(receipt) is not None
                and DIGEST.fullmatch(digest) is not None
                and pieces[3] == str(part)
                and 0 <= part < parts <= MAX_PARTS
            )
        except (IndexError, KeyError, ValueError):
            well_formed = False
        if well_formed and len(message.data) > PART_BYTES:
            well_formed = False  # a part is never larger than the public side cuts them
        if well_formed and not self._room_for(receipt, digest):
            well_formed = False
        if not well_formed:
            log.error("intake_not_a_part", subject=message.subject[:120])
            await confirm(nc, message, TERM, self.endpoint.timeout)  # never again
            return
        self._stage(receipt, digest, part, parts, message.data)
        # Staged first, so the acknowledgement need not be waited for: if it is lost, the part
        # comes again after ack_wait and only rewrites the same file.
        await nc.publish(str(message.reply), ACK)
