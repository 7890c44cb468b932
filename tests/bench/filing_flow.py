"""Benchmark: the filing flow (submit, supplement notice, resubmission, certificate) through the
application service and through HTTP, next to bare eventsourcing saves of a one-event aggregate
on the same store, printed as ratios measured in the same run; and the peak resident memory.

    bin/bench                 # SQLite files in a temporary directory
    bin/bench --postgres      # PostgreSQL at FIREGOV_TEST_POSTGRES_URL (its own schema)

Aims (issue 2): service >= 0.8x bare, HTTP >= 0.5x bare, peak RSS < 300 MB. Figures, not
assertions: these machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import uvicorn
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from fastapi import FastAPI
from uvicorn.config import LOGGING_CONFIG

from api_internal.app import create_app
from deployment.bootstrap import Platform, event_store_env
from deployment.logging import configure_logging
from deployment.serving import server_config
from domain.actor import Role
from tests.support import (
    PASSWORD,
    Clock,
    backend_of,
    filing_input,
    make_platform,
    materials,
    open_account,
    settings_for,
)


class Dot(Aggregate):
    """The smallest thing eventsourcing can save: one aggregate, one event."""


class Bare(Application[uuid.UUID]):
    name = "bare"


def rate(count: int, work: Callable[[int], None]) -> float:
    started = time.perf_counter()
    for index in range(count):
        work(index)
    return count / (time.perf_counter() - started)


def bare_rate(platform: Platform, count: int) -> float:
    env = event_store_env(platform.settings)
    if "SQLITE_DBNAME" in env:
        env["SQLITE_DBNAME"] = str(Path(env["SQLITE_DBNAME"]).with_name("bare.sqlite"))
    app = Bare(env=env)
    try:

        def save_one(_: int) -> None:
            app.save(Dot())

        return rate(count, save_one)
    finally:
        app.close()


def service_flow(platform: Platform, count: int) -> float:
    clerk, _ = open_account(platform, "bench-clerk", Role.WINDOW_CLERK, "zz-jinshui")
    filings = platform.services.filings
    complete = materials(version="2")
    incomplete = materials(leave_out=("construction_permit",))

    def one(index: int) -> None:
        receipt = filings.submit(
            clerk, **filing_input(contact_phone=f"139{index:08d}", materials=incomplete)
        )
        filings.issue_supplement_notice(
            clerk, receipt, [{"item": "construction_permit", "problem": "missing", "reason": "缺"}]
        )
        filings.resubmit(clerk, receipt, complete)
        filings.issue_certificate(clerk, receipt)

    return 4 * rate(count, one)


@contextmanager
def serving(platform: Platform) -> Iterator[str]:
    """The staff API on a real uvicorn server on a free loopback port."""
    with serving_app(create_app(backend_of(platform))) as base_url:
        yield base_url


@contextmanager
def serving_app(app: FastAPI) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = server_config(
        app, host="127.0.0.1", port=port, log_level="warning", log_config=LOGGING_CONFIG
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def http_flow(platform: Platform, count: int) -> float:
    open_account(platform, "bench-http", Role.WINDOW_CLERK, "zz-jinshui")
    incomplete = [dict(m) for m in materials(leave_out=("construction_permit",))]
    complete = [dict(m) for m in materials(version="3")]
    notice = {"items": [{"item": "construction_permit", "problem": "missing", "reason": "缺"}]}
    with serving(platform) as base_url, httpx.Client(base_url=base_url) as client:
        token = client.post(
            "/api/v1/auth/login", json={"username": "bench-http", "password": PASSWORD}
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}

        def one(index: int) -> None:
            body = filing_input(contact_phone=f"137{index:08d}", materials=incomplete)
            response = client.post("/api/v1/filings", json=body, headers=headers)
            receipt = response.json()["receipt_number"]
            base = f"/api/v1/filings/{receipt}"
            checks: list[Any] = [
                client.post(f"{base}/supplement-notice", json=notice, headers=headers),
                client.post(f"{base}/resubmission", json={"materials": complete}, headers=headers),
                client.post(f"{base}/certificate", headers=headers),
            ]
            if response.status_code != 201 or any(c.status_code >= 300 for c in checks):
                raise RuntimeError(f"HTTP flow failed: {[c.text for c in checks]}")

        return 4 * rate(count, one)


def empty_endpoint_rate(count: int) -> float:
    """Round trips to an empty FastAPI endpoint on the same server set-up: the floor of any
    HTTP figure here, since client and server share this process and its interpreter lock."""
    app = FastAPI()

    @app.post("/nothing")
    def nothing() -> dict[str, str]:
        return {}

    with serving_app(app) as base_url, httpx.Client(base_url=base_url) as client:

        def call(_: int) -> None:
            client.post("/nothing").raise_for_status()

        return rate(count, call)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", action="store_true", help="run on PostgreSQL")
    parser.add_argument("-n", type=int, default=200, help="filings per measurement")
    args = parser.parse_args()
    configure_logging("WARNING")  # a log line per request would be measured too
    url = os.environ.get("FIREGOV_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        if args.postgres:
            with psycopg.connect(url, autocommit=True) as connection:
                connection.execute(f"CREATE SCHEMA {schema}")
        settings = settings_for(
            Path(tmp), database_url=url if args.postgres else None, schema=schema
        )
        platform = make_platform(settings, Clock())
        try:
            bare = bare_rate(platform, args.n * 4)
            service = service_flow(platform, args.n)
            http = http_flow(platform, args.n)
            floor = empty_endpoint_rate(args.n * 4)
        finally:
            platform.close()
            if args.postgres:
                with psycopg.connect(url, autocommit=True) as connection:
                    connection.execute(f"DROP SCHEMA {schema} CASCADE")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    store = "PostgreSQL" if args.postgres else "SQLite"
    print(f"store: {store}, {args.n} filings x 4 commands")
    print(f"bare eventsourcing saves   {bare:9.1f} /s   1.00x")
    print(f"filing flow via service    {service:9.1f} /s   {service / bare:.2f}x   (aim >= 0.8x)")
    print(f"filing flow via HTTP       {http:9.1f} /s   {http / bare:.2f}x   (aim >= 0.5x)")
    print(f"empty FastAPI endpoint     {floor:9.1f} /s   {floor / bare:.2f}x   (the HTTP ceiling)")
    print(f"peak resident memory       {peak_mb:9.1f} MB          (aim < 300 MB)")


if __name__ == "__main__":
    main()
