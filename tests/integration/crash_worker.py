"""One role of the bridge crash test (tests/integration/test_bridge_crash.py) in a process of its
own, so the test can SIGKILL it at any instant:

    python -m tests.integration.crash_worker outbound <data_dir>
    python -m tests.integration.crash_worker receiver <data_dir>
    python -m tests.integration.crash_worker producer <data_dir> --events 1050 --rate 60

``outbound`` and ``receiver`` loop for ever (until killed); ``producer`` records filings and
certifies every other one until the internal notification log holds ``--events`` events, at
about ``--rate`` events per second, then exits. Every process builds the same settings from
``data_dir`` and the master key in ``FIREGOV_CRASH_MASTER_KEY``; once built, it creates
``<data_dir>/crash/ready-<role>-<pid>`` so the test kills it at work, not while it imports.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from deployment.bootstrap import build_platform
from deployment.logging import configure_logging
from deployment.settings import InternalSettings
from deployment.sides import build_outbound, build_public, embedded_public_settings
from domain.actor import Actor, Role
from domain.calendar import SHANGHAI
from domain.filing import CHECKLISTS, FilingKind, Material
from domain.identifiers import credit_code_check_char
from domain.query_code import hash_query_code, new_query_code

MASTER_KEY_ENV = "FIREGOV_CRASH_MASTER_KEY"
BATCH_SIZE = 7  # small, so a 1,000-event stream makes well over a hundred batches
CHECKPOINT_EVERY = 100  # ledger checkpoints cross every 100 internal events
IDLE = 0.01  # poll often: a kill then lands in the middle of work more often than in a sleep
CLERK = Actor("w", Role.WINDOW_CLERK, "zz-jinshui")
# tests.support's Tuesday morning; importing tests.support would load the whole staff API and
# the test client, which would slow every restart after a kill.
TUESDAY_MORNING = datetime(2026, 11, 24, 9, 30, tzinfo=SHANGHAI)


def fixed_clock() -> datetime:
    return TUESDAY_MORNING


def filing_fields(index: int) -> dict[str, Any]:
    first17 = f"91410105{index:09d}"
    return {
        "kind": "design",
        "organisation_name": "郑州测试置业有限公司",
        "credit_code": first17 + credit_code_check_char(first17),
        "project_name": f"崩溃测试工程 {index}",
        "project_address": "金水区花园路 1 号",
        "district": "金水区",
        "contact_name": "张伟",
        "contact_phone": f"139{index:08d}",
        "materials": [
            Material(
                item=item,
                document="sha256:" + hashlib.sha256(f"{index}:{item}".encode()).hexdigest(),
                file_name=f"{item}.pdf",
                size=1000,
                media_type="application/pdf",
            )
            for item in CHECKLISTS[FilingKind.DESIGN]
        ],
    }


def crash_settings(data_dir: Path, master_key: str) -> InternalSettings:
    return InternalSettings(
        data_dir=data_dir,
        internal_database_url=None,
        master_key=master_key,
        seed_demo_data=False,
        bridge_batch_size=BATCH_SIZE,
        checkpoint_every_events=CHECKPOINT_EVERY,
    )


def ready_marker(data_dir: Path, role: str, pid: int) -> Path:
    return data_dir / "crash" / f"ready-{role}-{pid}"


def _signal_ready(data_dir: Path, role: str) -> None:
    marker = ready_marker(data_dir, role, os.getpid())
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()


def run_outbound(settings: InternalSettings) -> None:
    # All internal processes share one fixed clock: the producer's events and the outbound's
    # checkpoints then mean the same instant, and deadlines stay in the calendar's years.
    platform = build_platform(settings, clock=fixed_clock)
    outbound = build_outbound(platform, settings)
    _signal_ready(settings.data_dir, "outbound")
    while True:
        if not outbound.step():
            time.sleep(IDLE)


def run_receiver(settings: InternalSettings) -> None:
    public = build_public(embedded_public_settings(settings), clock=fixed_clock)
    _signal_ready(settings.data_dir, "receiver")
    while True:
        if not public.receiver.receive():
            time.sleep(IDLE)


def run_producer(settings: InternalSettings, events: int, rate: float) -> None:
    platform = build_platform(settings, clock=fixed_clock)
    filings = platform.services.filings
    recorder = platform.app.recorder
    _signal_ready(settings.data_dir, "producer")
    started = time.monotonic()
    index = 0
    uncertified: str | None = None
    while (recorded := recorder.max_notification_id() or 0) < events:
        ahead = recorded / rate - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(ahead)
        receipt = filings.submit(
            CLERK,
            **filing_fields(index),
            query_code_hash=hash_query_code(new_query_code()),
        )
        if uncertified is None:
            uncertified = receipt
        else:  # certify the previous filing, so certificates interleave with submissions
            filings.issue_certificate(CLERK, uncertified)
            uncertified = None
        index += 1
    platform.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("role", choices=["outbound", "receiver", "producer"])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--events", type=int, default=1050, help="producer: events to record")
    parser.add_argument("--rate", type=float, default=60.0, help="producer: events per second")
    args = parser.parse_args()
    configure_logging("WARNING", json=True)
    settings = crash_settings(args.data_dir, os.environ[MASTER_KEY_ENV])
    if args.role == "outbound":
        run_outbound(settings)
    elif args.role == "receiver":
        run_receiver(settings)
    else:
        run_producer(settings, args.events, args.rate)


if __name__ == "__main__":
    main()
