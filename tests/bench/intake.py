"""Benchmark: citizens' submissions from the public API into the window's queue (issue 4).

    python -m tests.bench.intake            # SQLite in a temporary directory, the file ferry
    python -m tests.bench.intake --nats     # the same over the NATS intake stream

Prints, from one run, on one installation:
  (a) the baseline: bookings recorded at the window through the service
      (``BookingService.request``), per second;
  (b) submissions accepted on the public side per second: booking submissions with a 200 kB
      certificate scan POSTed to the public API (multipart, checked, packed, handed to the
      transport), as a ratio to (a);
  (c) submissions imported on the internal side per second (pulled, unpacked, checked again,
      files kept, ``Booking.Requested`` recorded under the system actor), as a ratio to (a);
  (d) the time from a submission's answer on the public side to its appearance in the
      window's queue (the internal read model), median and 99th percentile, with the loops of
      ``firegov run`` (importer, projector, and the rest) running in threads, at a steady rate
      of submissions (aim: p99 <= 2 s over the ferry, <= 0.5 s over NATS);
  (e) the peak resident memory of this process (and, with --nats, the private nats-server).

``--nats`` starts a private nats-server running deployment/nats/firegov.conf (as
``tests.bench.bridge`` does). Figures, not assertions: these machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import importlib
import resource
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from fastapi.testclient import TestClient

from api_public.app import create_public_app
from api_public.ratelimit import RateLimiter
from bridge.intake.importer import IntakeImporter
from deployment.cli import follow, internal_loops
from deployment.logging import configure_logging
from deployment.sides import build_importer
from domain.actor import Actor, Role
from domain.calendar import SHANGHAI
from tests.bench.bridge import (
    Installation,
    NatsAccess,
    answers,
    install,
    nats_access,
    peak_rss_mb,
    running,
)
from tests.support import credit_code

CLERK = Actor("bench-window", Role.WINDOW_CLERK, "zz-jinshui")
SCAN = b"%PDF-1.7\n" + bytes(range(256)) * 800  # about 200 kB
WATCH_INTERVAL = 0.005


def booking(index: int) -> dict[str, Any]:
    return {
        "kind": "pre_opening",
        "district": "金水区",
        "organisation_name": f"郑州压测商业管理有限公司{index}",
        "credit_code": credit_code(f"bench-{index}"),
        "project_name": f"压测购物中心{index}号楼",
        "wished_time": "2027-03-02T09:00",
        "contact_name": "王芳",
        "contact_phone": f"138{index:08d}",
        "basis_kind": "inspection_receipt",
        "basis_number": f"郑金消检受字〔2026〕第{index:04d}号",
        "basis_on_platform": False,
    }


def post(client: TestClient, index: int) -> str:
    answer = client.post(
        "/api/v1/bookings",
        data={"submission": orjson.dumps(booking(index)).decode()},
        files={"basis_document": (f"scan-{index}.pdf", SCAN, "application/pdf")},
    )
    if answer.status_code != 201:
        raise RuntimeError(f"submission refused: {answer.status_code} {answer.text}")
    receipt: str = answer.json()["receipt_number"]
    return receipt


def window_rate(installation: Installation, count: int) -> float:
    """(a): bookings recorded at the window, with the same form, through the service."""
    from datetime import datetime

    from tests.support import document

    bookings = installation.platform.services.bookings
    started = time.perf_counter()
    for index in range(count):
        form = booking(100_000 + index)
        form.pop("basis_on_platform")
        bookings.request(
            CLERK,
            **{**form, "wished_time": datetime(2027, 3, 2, 9, tzinfo=SHANGHAI)},
            basis_document=document(f"window scan {index}"),
        )
    return count / (time.perf_counter() - started)


def imported_all(importer: IntakeImporter, expected: int) -> float:
    started = time.perf_counter()
    done = 0
    give_up = started + 300
    while done < expected:
        done += importer.step()
        if time.perf_counter() > give_up:
            raise RuntimeError(f"only {done} of {expected} submissions were imported")
    return time.perf_counter() - started


@dataclass
class Submission:
    receipt: str
    answered: float
    queued: float | None = None


@dataclass
class LatencyRun:
    submissions: list[Submission] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)


def in_queue(installation: Installation) -> set[str]:
    with installation.platform.views.reading() as tx:
        rows = tx.fetchall("SELECT receipt_number FROM view_bookings WHERE status = 'received'")
    return {row["receipt_number"] for row in rows}


def watch(installation: Installation, run: LatencyRun, stop: threading.Event) -> None:
    while not stop.is_set():
        waiting = [s for s in run.submissions if s.queued is None]
        if waiting:
            seen, now = in_queue(installation), time.perf_counter()
            for submission in waiting:
                if submission.receipt in seen:
                    submission.queued = now
        elif run.done.is_set():
            return
        stop.wait(WATCH_INTERVAL)


def latency(
    installation: Installation,
    client: TestClient,
    importer: IntakeImporter,
    rate: float,
    seconds: float,
) -> LatencyRun:
    """(d): submissions at a steady rate while `firegov run`'s loops follow."""
    settings = installation.settings
    loops = [
        *internal_loops(installation.platform),
        follow(importer.step, "intake", settings.poll_seconds),
    ]
    run = LatencyRun()
    with running(loops) as stop:
        watcher = threading.Thread(target=watch, args=(installation, run, stop), daemon=True)
        watcher.start()
        begin = time.perf_counter()
        for index in range(int(rate * seconds)):
            if (wait := begin + index / rate - time.perf_counter()) > 0:
                time.sleep(wait)
            receipt = post(client, 200_000 + index)
            run.submissions.append(Submission(receipt, time.perf_counter()))
        run.done.set()
        watcher.join(timeout=seconds + 60)
    return run


def describe(run: LatencyRun, rate: float) -> str:
    delays = [s.queued - s.answered for s in run.submissions if s.queued is not None]
    missing = len(run.submissions) - len(delays)
    if len(delays) < 2:
        return f"too few submissions reached the queue ({len(delays)})"
    p99 = statistics.quantiles(delays, n=100, method="inclusive")[98]
    return (
        f"{len(run.submissions)} submissions at {rate:.0f}/s: answer -> window's queue "
        f"median {statistics.median(delays) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"max {max(delays) * 1000:.0f} ms" + (f"; {missing} NEVER QUEUED" if missing else "")
    )


def bench(directory: Path, nats: NatsAccess | None, args: argparse.Namespace) -> None:
    installation = install(directory, nats)
    importer = build_importer(installation.platform, installation.settings)
    # The per-address limits are not what is measured here.
    installation.public.backend.submissions = None
    installation.public.backend.requests = RateLimiter(10**9)
    try:
        importer.step()  # over NATS: the importer makes the intake stream and its consumer
        baseline = window_rate(installation, args.count)
        with TestClient(create_public_app(installation.public.backend)) as client:
            started = time.perf_counter()
            for index in range(args.count):
                post(client, index)
            accepted = args.count / (time.perf_counter() - started)
            imported = args.count / imported_all(importer, args.count)
            installation.platform.projector.catch_up()
            run = latency(installation, client, importer, args.rate, args.seconds)
    finally:
        importer.inbox.close()
        installation.close()
    transport = "file ferry" if nats is None else f"NATS JetStream at {nats.url}"
    print(f"transport: {transport}; store: SQLite; scan {len(SCAN) // 1024} kB per submission")
    print(f"(a) bookings recorded at the window   {baseline:8.1f}/s   (baseline, {args.count})")
    print(f"(b) accepted on the public side       {accepted:8.1f}/s   {accepted / baseline:.2f}x")
    print(f"(c) imported on the internal side     {imported:8.1f}/s   {imported / baseline:.2f}x")
    aim = "2 s" if nats is None else "0.5 s"
    print(f"(d) {describe(run, args.rate)} (aim p99 <= {aim})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nats", action="store_true", help="intake over NATS JetStream")
    parser.add_argument("--count", type=int, default=200, help="submissions in (a)-(c)")
    parser.add_argument("--rate", type=float, default=10.0, help="submissions per second in (d)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of (d)")
    args = parser.parse_args()
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        server_peak = None
        if not args.nats:
            bench(Path(tmp), None, args)
        else:
            try:
                importlib.import_module("bridge.transports.nats_intake")
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
    print(f"(e) peak resident memory: {peak:.0f} MB (everything above ran in this one process)")
    if server_peak is not None:
        print(f"    private nats-server: {server_peak:.0f} MB")


if __name__ == "__main__":
    main()
