"""Crash safety of the bridge (DESIGN.md decisions 5 and 6): the outbound bridge and the receiver,
each in a process of its own, are killed with SIGKILL at random instants, dozens of times, while
a stream of filings and certificates runs; the public side still ends up with every public event
exactly once, byte for byte what a clean replay of the same ferry into an empty database gives.

The roles live in tests/integration/crash_worker.py. The kill schedule is seeded
(``FIREGOV_CRASH_SEED`` replays another one); the kill instants themselves race with real work,
which is the point.
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest

from bridge.allow_list import TOPICS, translate
from bridge.contract.envelope import GENESIS, Envelope, load_verify_key, open_batch
from bridge.transports.ferry import NAME as BATCH_NAME
from deployment.bootstrap import Platform, build_platform
from deployment.settings import InternalSettings, PublicSettings, Transport
from deployment.sides import (
    PublicSide,
    build_outbound,
    build_public,
    embedded_public_settings,
    ensure_bridge_keys,
)
from projections.public.queries import PublicQueries
from projections.store import SqliteViewStore
from tests.integration.crash_worker import (
    MASTER_KEY_ENV,
    crash_settings,
    fixed_clock,
    ready_marker,
)

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 1050  # internal events the producer records
RATE = 50.0  # events per second: the stream lasts about 20 s, the time the kills take
KILLS = 30
PAUSE = (0.02, 0.3)  # seconds between kill attempts
ROLES = ("outbound", "receiver")
# Hang guards, not measures: the kill phase takes about 25 s, catching up after it 1-2 s.
PATIENCE = 180.0
CATCH_UP_PATIENCE = 60.0
CHECKPOINT = "ledger.checkpoint.v1"
TIMELINE_STEP = {
    "filing.received.v1": "received",
    "filing.certificate_issued.v1": "certificate_issued",
}


@dataclass
class Workers:
    """The worker processes of one test, each role's log in a file of its own."""

    data_dir: Path
    logs: Path
    env: dict[str, str]
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    started: Counter[str] = field(default_factory=Counter)

    def start(self, role: str, *args: str) -> None:
        self.started[role] += 1
        log = self.logs / f"{role}-{self.started[role]:03d}.log"
        with open(log, "wb") as output:
            self.running[role] = subprocess.Popen(  # noqa: S603 - our interpreter, our module
                [sys.executable, "-m", "tests.integration.crash_worker", role,
                 str(self.data_dir), *args],
                cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def ready(self, role: str) -> bool:
        process = self.running[role]
        self.check_alive(role)
        return ready_marker(self.data_dir, role, process.pid).exists()

    def check_alive(self, role: str) -> None:
        """A worker never stops by itself (the producer only when done, with status 0)."""
        code = self.running[role].poll()
        if code is not None and not (role == "producer" and code == 0):
            raise AssertionError(f"the {role} worker exited with {code}:\n{self.log_tail(role)}")

    def kill(self, role: str) -> None:
        process = self.running[role]
        process.send_signal(signal.SIGKILL)
        code = process.wait()
        if code != -signal.SIGKILL:
            raise AssertionError(
                f"the {role} worker had exited with {code}:\n{self.log_tail(role)}"
            )

    def log_tail(self, role: str) -> str:
        log = self.logs / f"{role}-{self.started[role]:03d}.log"
        return log.read_text(errors="replace")[-4000:]

    def refusals(self) -> Counter[str]:
        """Batches any receiver refused, by reason, from the workers' JSON log lines."""
        reasons: Counter[str] = Counter()
        for path in self.logs.iterdir():
            for line in path.read_bytes().splitlines():
                try:
                    entry = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(entry, dict) and entry.get("event") == "bridge_batch_refused":
                    reasons[str(entry.get("reason"))] += 1
        return reasons

    def stop_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                process.kill()
            process.wait()


@pytest.fixture(name="workers")
def workers_fixture(tmp_path: Path) -> Iterator[Workers]:
    logs = tmp_path / "logs"
    logs.mkdir()
    env = {**os.environ, MASTER_KEY_ENV: base64.b64encode(os.urandom(32)).decode()}
    workers = Workers(tmp_path / "var", logs, env)
    try:
        yield workers
    finally:
        workers.stop_all()  # even when the test failed: no worker outlives it


def prepare(workers: Workers) -> InternalSettings:
    """Keys and schemas once, before any worker starts (first-start races are not the subject)."""
    settings = crash_settings(workers.data_dir, workers.env[MASTER_KEY_ENV])
    ensure_bridge_keys(settings)
    platform = build_platform(settings, clock=fixed_clock)
    build_outbound(platform, settings)
    build_public(embedded_public_settings(settings), clock=fixed_clock).close()
    platform.close()
    return settings


def outbound_state(settings: InternalSettings) -> dict[str, Any]:
    store = SqliteViewStore(settings.internal_dir / "views.sqlite")
    try:
        with store.reading() as tx:
            row = tx.fetchone("SELECT * FROM bridge_outbound")
    finally:
        store.close()
    assert row is not None
    return row


def wait_until_caught_up(
    workers: Workers, settings: InternalSettings, platform: Platform, public: PublicSide
) -> int:
    """Wait on the tracking positions: the outbound has consumed and shipped everything, the
    receiver has applied everything; returns the last seq."""
    deadline = time.monotonic() + CATCH_UP_PATIENCE
    while time.monotonic() < deadline:
        for role in ROLES:
            workers.check_alive(role)
        state = outbound_state(settings)
        if (
            state["position"] == platform.app.recorder.max_notification_id()
            and state["shipped_seq"] == state["last_seq"]
            and public.receiver.status().last_seq == state["last_seq"]
        ):
            return int(state["last_seq"])
        time.sleep(0.05)
    raise AssertionError(f"not caught up: {outbound_state(settings)}, {public.receiver.status()}")


def ferry_envelopes(settings: InternalSettings) -> tuple[list[Envelope], int]:
    """Every envelope of every batch file, verified in order from the genesis; and how many
    batch files there are."""
    batches = sorted(
        (int(match[1]), int(match[2]), path)
        for path in settings.ferry_outbox.iterdir()
        if (match := BATCH_NAME.match(path.name))
    )
    key = load_verify_key(settings.verify_key_path.read_bytes())
    envelopes: list[Envelope] = []
    previous = GENESIS
    for first, last, path in batches:
        batch = open_batch(path.read_bytes(), key, str(settings.hash_algorithm), previous, first)
        assert (batch.first_seq, batch.last_seq) == (first, last), path.name
        envelopes.extend(batch.envelopes)
        previous = batch.envelopes[-1].hash
    return envelopes, len(batches)


def crossing(platform: Platform, settings: InternalSettings) -> list[tuple[int, str, Any]]:
    """What should have crossed, recomputed from the internal log: (position, type, payload)
    of every public event the allow-list makes of it, in order."""
    sources = build_outbound(platform, settings).sources
    expected: list[tuple[int, str, Any]] = []
    start = 1
    while notifications := platform.app.recorder.select_notifications(start=start, limit=500):
        for notification in notifications:
            if notification.topic in TOPICS:
                event = platform.app.mapper.to_domain_event(notification)
                expected += [(notification.id, t, p) for t, p in translate(event, sources)]
        start = notifications[-1].id + 1
    return expected


def dump_hash(queries: PublicQueries) -> str:
    return hashlib.sha256(orjson.dumps(queries.dump(), option=orjson.OPT_SORT_KEYS)).hexdigest()


def test_killing_the_bridge_and_the_receiver_at_random_leaves_the_public_side_exact(
    workers: Workers, tmp_path: Path
) -> None:
    started = time.monotonic()
    seed = int(os.environ.get("FIREGOV_CRASH_SEED", "20261124"))
    chance = random.Random(seed)
    settings = prepare(workers)
    workers.start("producer", "--events", str(EVENTS), "--rate", str(RATE))
    for role in ROLES:
        workers.start(role)

    kills: Counter[str] = Counter()
    kills_while_producing = 0
    while sum(kills.values()) < KILLS or workers.running["producer"].poll() is None:
        workers.check_alive("producer")
        time.sleep(chance.uniform(*PAUSE))
        role = chance.choice(ROLES)
        if not workers.ready(role):  # still starting: take the other one if it is at work
            role = next(other for other in ROLES if other != role)
            if not workers.ready(role):
                continue
        producing = workers.running["producer"].poll() is None
        workers.kill(role)
        kills[role] += 1
        kills_while_producing += producing
        workers.start(role)
        assert time.monotonic() - started < PATIENCE, f"kill phase stuck (seed {seed})"

    platform = build_platform(settings, clock=fixed_clock)
    live = build_public(embedded_public_settings(settings), clock=fixed_clock)
    replay = build_public(
        PublicSettings(
            data_dir=tmp_path / "replay",
            database_url=None,
            transport=Transport.FERRY,
            ferry_dir=settings.ferry_outbox,
            verify_key_file=settings.verify_key_path,
            hash_algorithm=settings.hash_algorithm,
        ),
        clock=fixed_clock,
    )
    try:
        last_seq = wait_until_caught_up(workers, settings, platform, live)
        workers.stop_all()

        # No gap, no duplicate: the batch files hold seq 1..last exactly once, chained.
        envelopes, batch_files = ferry_envelopes(settings)
        assert [e.seq for e in envelopes] == list(range(1, last_seq + 1))
        status = live.receiver.status()
        assert (status.last_seq, status.problem, status.refused) == (last_seq, None, 0)

        # Every public event the internal log makes crossed once, in order, from its position.
        expected = crossing(platform, settings)
        crossed = [(e.position, e.type, e.payload) for e in envelopes if e.type != CHECKPOINT]
        assert crossed == expected
        checkpoints = [e for e in envelopes if e.type == CHECKPOINT]
        assert checkpoints, "no ledger checkpoint crossed"
        assert platform.ledger.verify().ok
        for checkpoint in checkpoints:
            position = checkpoint.payload["position"]
            assert checkpoint.payload["head_hash"] == platform.ledger.hash_at(position)

        # ...and took effect once: each case's timeline has exactly its events.
        steps: defaultdict[str, list[str]] = defaultdict(list)
        for _, event_type, payload in expected:
            steps[payload["receipt_number"]].append(TIMELINE_STEP[event_type])
        tables = dict(live.queries.dump())
        timelines: defaultdict[str, list[str]] = defaultdict(list)
        for row in tables["public_case_timeline"]:  # ordered by receipt, then seq
            timelines[row["receipt_number"]].append(row["type"])
        assert timelines == steps
        assert len(tables["public_cases"]) == len(steps)
        assert len(tables["public_certificates"]) == sum(
            event_type == "filing.certificate_issued.v1" for _, event_type, _ in expected
        )
        assert len(tables["public_checkpoints"]) == len(checkpoints)

        # A clean replay of the same ferry into an empty database gives the same bytes.
        while replay.receiver.receive():
            pass
        assert replay.receiver.status().last_seq == last_seq
        assert dump_hash(live.queries) == dump_hash(replay.queries), f"seed {seed}"
        events = platform.app.recorder.max_notification_id()
    finally:
        replay.close()
        live.close()
        platform.close()

    # Never did a receiver see an overlap or a broken batch. A "gap" may be seen for a round
    # without anything being lost: a directory listing taken while the outbound renames two
    # batches in can show the later one without the earlier (the checks above would have
    # found a real gap).
    refusals = workers.refusals()
    assert set(refusals) <= {"gap"}, refusals
    leftovers = len(list(settings.ferry_outbox.glob(".*.tmp")))
    print(
        f"\ncrash test (seed {seed}): {sum(kills.values())} kills ({dict(kills)}; "
        f"{kills_while_producing} while the producer ran), {events} internal events, "
        f"{last_seq} envelopes in {batch_files} batches ({len(checkpoints)} checkpoints), "
        f"{leftovers} half-written batch files left behind, "
        f"{refusals['gap']} transient gaps seen, "
        f"{time.monotonic() - started:.1f} s"
    )
