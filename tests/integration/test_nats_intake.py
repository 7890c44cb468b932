"""Intake over NATS JetStream (issue 4) against a real nats-server running the project's
configuration: the public user publishes bundles into the intake stream through its service
import, the intake importer pulls them, and nothing else crosses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from api_public.app import create_public_app
from bridge.transports.nats_intake import (
    INTAKE_CONSUMER,
    INTAKE_STREAM,
    PART_BYTES,
    NatsIntakeDrop,
    NatsIntakeInbox,
)
from deployment.settings import Transport
from deployment.sides import (
    PublicSide,
    build_importer,
    build_public,
    embedded_public_settings,
    ensure_bridge_keys,
)
from domain.documents import DocumentStore
from projections.internal.booking_queries import Task
from tests.integration.test_booking_intake import PDF, booking
from tests.integration.test_nats_transport import (  # noqa: F401 - the fixture
    NatsServer,
    server_fixture,
    wait_for,
)
from tests.support import Clock, make_platform, settings_for

pytestmark = pytest.mark.nats

RECEIPT = "YY20261124ABCDEF"


@pytest.fixture
def inbox(server: NatsServer, tmp_path: Path) -> Iterator[NatsIntakeInbox]:
    found = NatsIntakeInbox(server.url, server.credentials["intake"], tmp_path / "staging")
    found.ensure_intake()
    yield found
    found.close()


@pytest.fixture
def drop(server: NatsServer) -> Iterator[NatsIntakeDrop]:
    found = NatsIntakeDrop(server.url, server.credentials["public"], timeout=1)
    yield found
    found.close()


def stream_messages(server: NatsServer) -> int:
    async def count() -> int:
        nc = await server.connect("intake")
        try:
            return int((await nc.jetstream().stream_info(INTAKE_STREAM)).state.messages)
        finally:
            await nc.close()

    return asyncio.run(count())


def pending_within(inbox: NatsIntakeInbox, within: float = 5.0) -> list[str]:
    deadline = time.monotonic() + within
    while not (found := inbox.pending()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def test_a_bundle_larger_than_a_message_arrives_whole_and_leaves_nothing_on_the_server(
    server: NatsServer, drop: NatsIntakeDrop, inbox: NatsIntakeInbox
) -> None:
    bundle = bytes(range(256)) * (PART_BYTES * 2 // 256 + 7)  # three parts

    drop.put(RECEIPT, bundle)

    assert pending_within(inbox) == [RECEIPT]
    assert inbox.read(RECEIPT) == bundle
    assert stream_messages(server) == 0  # work queue: acknowledged parts are deleted
    inbox.done(RECEIPT)
    assert inbox.pending() == []
    assert not (inbox.staging / RECEIPT).exists()


def test_a_bundle_put_twice_is_offered_once(drop: NatsIntakeDrop, inbox: NatsIntakeInbox) -> None:
    drop.put(RECEIPT, b"the same bytes")
    drop.put(RECEIPT, b"the same bytes")  # a resend: the stream's duplicate window drops it

    assert pending_within(inbox) == [RECEIPT]
    inbox.done(RECEIPT)
    assert inbox.pending() == []


def test_without_the_intake_stream_the_public_side_is_told_to_try_again(
    drop: NatsIntakeDrop,
) -> None:
    from bridge.transports.nats import NatsTransportError

    with pytest.raises(NatsTransportError):
        drop.put(RECEIPT, b"nobody listens")


def test_the_public_user_can_neither_read_nor_manage_the_intake_stream(
    server: NatsServer, inbox: NatsIntakeInbox
) -> None:
    forbidden = [
        f"$JS.API.CONSUMER.MSG.NEXT.{INTAKE_STREAM}.{INTAKE_CONSUMER}",
        f"$JS.API.STREAM.DELETE.{INTAKE_STREAM}",
        f"$JS.API.STREAM.PURGE.{INTAKE_STREAM}",
        f"$JS.API.CONSUMER.DELETE.{INTAKE_STREAM}.{INTAKE_CONSUMER}",
        f"$JS.ACK.{INTAKE_STREAM}.{INTAKE_CONSUMER}.1.1.1.1.0",
    ]
    errors: list[str] = []

    async def attempt() -> None:
        nc = await server.connect("public", errors)
        try:
            for subject in forbidden:
                await nc.publish(subject, b"{}", reply=nc.new_inbox())
            await nc.subscribe("firegov.intake.>")
            await nc.flush()
            await wait_for(errors, len(forbidden) + 1)
        finally:
            await nc.close()

    asyncio.run(attempt())

    refused = "\n".join(errors).lower()
    for subject in forbidden:
        assert f'permissions violation for publish to "{subject.lower()}"' in refused
    assert 'permissions violation for subscription to "firegov.intake.>"' in refused


def nats_installation(server: NatsServer, tmp_path: Path) -> tuple[Any, PublicSide]:
    settings = settings_for(
        tmp_path,
        bridge_transport="nats",
        nats_url=server.url,
        nats_credentials=server.credentials["bridge"],
        nats_intake_credentials=server.credentials["intake"],
    )
    clock = Clock()
    platform = make_platform(settings, clock)
    ensure_bridge_keys(settings)
    public_settings = embedded_public_settings(settings).model_copy(
        update={
            "transport": Transport.NATS,
            "nats_url": server.url,
            "nats_credentials": server.credentials["public"],
            "intake_timeout_seconds": 1,
        }
    )
    return (settings, platform), build_public(public_settings, clock=clock)


def test_art14_a_booking_posted_on_the_portal_reaches_the_window_through_nats(
    server: NatsServer, tmp_path: Path
) -> None:
    (settings, platform), public = nats_installation(server, tmp_path)
    importer = build_importer(platform, settings)
    try:
        importer.inbox.pending()  # the importer makes the stream and its consumer
        scan = PDF + b"0" * (PART_BYTES + 10)  # two parts
        with TestClient(create_public_app(public.backend)) as client:
            answer = client.post(
                "/api/v1/bookings",
                data={"submission": orjson.dumps(booking()).decode()},
                files={"basis_document": ("scan.pdf", scan, "application/pdf")},
            )
        assert answer.status_code == 201, answer.text
        receipt = answer.json()["receipt_number"]

        deadline = time.monotonic() + 5
        while not importer.step() and time.monotonic() < deadline:
            time.sleep(0.05)

        platform.projector.catch_up()
        now = platform.services.context.clock()
        queue = platform.booking_queries.queue([Task.REVIEW], None, now)
        assert [item.receipt_number for item in queue] == [receipt]
        booked = platform.services.bookings.load(receipt)
        kept = DocumentStore(settings.documents_dir, platform.sealer)
        assert kept.read(booked.basis["document"], [booked.contact_subject]) == scan
        assert stream_messages(server) == 0
    finally:
        importer.inbox.close()
        public.close()
        platform.close()


def test_a_submission_the_stream_does_not_take_is_answered_503_and_kept_nowhere(
    server: NatsServer, tmp_path: Path
) -> None:
    _, public = nats_installation(server, tmp_path)  # no importer: no intake stream yet
    try:
        with TestClient(create_public_app(public.backend)) as client:
            answer = client.post(
                "/api/v1/bookings",
                data={"submission": orjson.dumps(booking()).decode()},
                files={"basis_document": ("scan.pdf", PDF, "application/pdf")},
            )
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "intake_unavailable"
        assert answer.headers["Retry-After"]
        with public.store.reading() as tx:
            assert tx.fetchall("SELECT * FROM public_pending") == []
    finally:
        public.close()
