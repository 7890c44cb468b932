"""A booking from the citizen's first look to the reply, over HTTP on both sides (issue 4's
"done when"): the citizen sees which half days have room, books with an uploaded certificate
scan on the public API, the intake importer brings the booking in, the clerk forwards it, the
head assigns it, the handler replies with a free half day within the deadline, and the citizen
sees each step on tracking. Embedded (SQLite and the file ferry both ways) and with PostgreSQL
on both sides and NATS JetStream both ways (a private nats-server running the project's
configuration, as in test_nats_transport)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from api_public.app import create_public_app
from bridge.intake.importer import IntakeImporter
from bridge.keys import create_key_pair
from bridge.outbound import OutboundBridge
from deployment.bootstrap import Platform
from deployment.settings import InternalSettings, Transport
from deployment.sides import (
    PublicSide,
    build_importer,
    build_outbound,
    build_public,
    embedded_public_settings,
    outbound_sink,
)
from domain.actor import Actor, Role
from tests.integration.test_booking_intake import booking
from tests.integration.test_nats_transport import NatsServer, start_server
from tests.support import Clock, client_of, make_platform, open_account, settings_for

SCAN = b"%PDF-1.7\n" + b"scan of the inspection application receipt " * 40
JINSHUI = "zz-jinshui"


@dataclass
class Site:
    """One installation: the internal platform, the outbound bridge, the public side, the
    importer, and the HTTP clients of both APIs."""

    clock: Clock
    platform: Platform
    outbound: OutboundBridge
    public: PublicSide
    importer: IntakeImporter
    staff_api: TestClient
    public_api: TestClient

    def until(self, done: Callable[[], bool], within: float = 10.0) -> None:
        """Run the followers (as `firegov run`'s loops would) until ``done``."""
        deadline = time.monotonic() + within
        while True:
            self.importer.step()
            self.platform.projector.catch_up()
            self.outbound.step()
            while self.public.receiver.receive():
                pass
            if done():
                return
            assert time.monotonic() < deadline, "the installation did not get there in time"
            time.sleep(0.05)

    def account(self, username: str, role: Role) -> Actor:
        actor, _ = open_account(self.platform, username, role, JINSHUI)
        return actor

    def login(self, actor: Actor) -> dict[str, str]:
        """A session opened now, as a login would (the clock jumps past the idle timeout)."""
        return {"Authorization": f"Bearer {self.platform.sessions.open(actor, self.clock.now)}"}


def build_site(
    settings: InternalSettings, public_update: dict[str, Any], clock: Clock
) -> tuple[Site, Callable[[], None]]:
    platform = make_platform(settings, clock)
    if not settings.signing_key_path.exists():  # as `firegov keys init` does in production
        create_key_pair(settings.signing_key_path, settings.verify_key_path)
    sink = outbound_sink(settings)
    ensure = getattr(sink, "ensure_outbound", None)
    if callable(ensure):
        ensure()
    public = build_public(
        embedded_public_settings(settings).model_copy(update=public_update), clock=clock
    )
    importer = build_importer(platform, settings)
    site = Site(
        clock,
        platform,
        build_outbound(platform, settings, sink=sink),
        public,
        importer,
        client_of(platform),
        TestClient(create_public_app(public.backend), raise_server_exceptions=False),
    )

    def close() -> None:
        importer.inbox.close()
        close_sink = getattr(sink, "close", None)
        if callable(close_sink):
            close_sink()
        public.close()
        platform.close()

    return site, close


@pytest.fixture(name="site", params=["embedded", "postgres_nats"])
def site_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    clock = Clock()
    if request.param == "embedded":
        site, close = build_site(settings_for(tmp_path), {}, clock)
        try:
            yield site
        finally:
            close()
        return
    request.applymarker(pytest.mark.postgres)
    request.applymarker(pytest.mark.nats)
    url: str = request.getfixturevalue("pg_url")
    schema: str = request.getfixturevalue("pg_schema")
    public_schema = f"{schema}_public"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(public_schema)))
    server: NatsServer = start_server(tmp_path)
    settings = settings_for(
        tmp_path,
        database_url=url,
        schema=schema,
        bridge_transport="nats",
        nats_url=server.url,
        nats_credentials=server.credentials["bridge"],
        nats_intake_credentials=server.credentials["intake"],
    )
    public_update = {
        "database_url": url,
        "postgres_schema": public_schema,
        "transport": Transport.NATS,
        "nats_url": server.url,
        "nats_credentials": server.credentials["public"],
    }
    site, close = build_site(settings, public_update, clock)
    try:
        yield site
    finally:
        close()
        server.process.terminate()
        server.process.wait(timeout=10)
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(public_schema))
            )


def days_with_room(site: Site) -> dict[tuple[str, str], int]:
    answer = site.public_api.get(f"/api/v1/agencies/{JINSHUI}/availability")
    if answer.status_code == 404:
        return {}
    assert answer.status_code == 200, answer.text
    return {(d["day"], d["half"]): d["free"] for d in answer.json()["days"]}


def tracking(site: Site, receipt: str, code: str) -> dict[str, Any]:
    answer = site.public_api.get(f"/api/v1/cases/{receipt}", headers={"X-Query-Code": code})
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def test_art11_to_16_a_citizen_books_online_and_sees_the_window_head_and_handler_act(
    site: Site,
) -> None:
    # The citizen looks at the brigade's days with room and picks the first morning.
    site.until(lambda: site.platform.publish_availability() == [] and bool(days_with_room(site)))
    room = days_with_room(site)
    day, half = next((d, h) for (d, h), free in sorted(room.items()) if h == "am" and free > 0)
    free_before = room[(day, half)]

    # Tuesday 09:30: the booking with the scan of the inspection application receipt.
    answer = site.public_api.post(
        "/api/v1/bookings",
        data={"submission": orjson.dumps(booking(wished_time=f"{day}T09:00")).decode()},
        files={"basis_document": ("受理凭证.pdf", SCAN, "application/pdf")},
        headers={"Idempotency-Key": "e2e-booking-0001-of-the-citizen"},
    )
    assert answer.status_code == 201, answer.text
    receipt, code = answer.json()["receipt_number"], answer.json()["query_code"]
    assert tracking(site, receipt, code)["status"] == "submitted"

    # The importer brings it in; the window finds it in its queue, due by noon.
    clerk = site.account("window", Role.WINDOW_CLERK)
    head = site.account("head", Role.DEPT_HEAD)
    handler = site.account("handler", Role.HANDLER)
    site.until(lambda: tracking(site, receipt, code)["status"] == "received")
    window = site.login(clerk)
    (item,) = site.staff_api.get("/api/v1/bookings/queue", headers=window).json()["items"]
    assert (item["receipt_number"], item["task"]) == (receipt, "review")
    assert item["deadline"] == "2026-11-24T12:00:00+08:00"
    detail = site.staff_api.get(f"/api/v1/bookings/{receipt}", headers=window).json()
    assert (detail["contact_name"], detail["channel"]) == ("王芳", "online")

    # 10:00 forwarded; 10:30 the head names the main handler.
    site.clock.now = site.clock.now.replace(hour=10, minute=0)
    forwarded = site.staff_api.post(
        f"/api/v1/bookings/{receipt}/forwarding", json={"department": "防火监督科"}, headers=window
    )
    assert forwarded.status_code < 300, forwarded.text
    site.clock.now = site.clock.now.replace(minute=30)
    assigned = site.staff_api.post(
        f"/api/v1/bookings/{receipt}/handlers",
        json={"main_handler": handler.actor_id, "assistants": []},
        headers=site.login(head),
    )
    assert assigned.status_code < 300, assigned.text

    # The handler finds it due within 2 working days and replies with the free morning.
    replying = site.login(handler)
    (to_reply,) = site.staff_api.get("/api/v1/bookings/queue", headers=replying).json()["items"]
    assert (to_reply["task"], to_reply["overdue"]) == ("reply", False)
    assert to_reply["deadline"] == "2026-11-26T23:59:59+08:00"
    site.clock.now = site.clock.now.replace(hour=15, minute=0)
    replied = site.staff_api.post(
        f"/api/v1/bookings/{receipt}/slot-offer",
        json={"day": day, "half": half},
        headers=site.login(handler),
    )
    assert replied.status_code < 300, replied.text

    # The citizen sees every step, the slot, and one place fewer on that morning.
    def slot_shown() -> bool:
        site.platform.publish_availability()
        return (
            tracking(site, receipt, code).get("slot") is not None
            and days_with_room(site).get((day, half), 0) == free_before - 1
        )

    site.until(slot_shown)
    seen = tracking(site, receipt, code)
    assert [s["step"] for s in seen["timeline"]] == [
        "received",
        "forwarded",
        "handlers_assigned",
        "slot_offered",
    ]
    assert (seen["slot"]["day"], seen["slot"]["half"], seen["slot"]["accepted"]) == (
        day,
        half,
        False,
    )
    assert seen["status_zh"] == "已回复检查时间，待申请人确认"
    assert "王芳" not in orjson.dumps(seen).decode()
