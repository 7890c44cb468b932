"""The one internal event store (DESIGN.md): every aggregate lives in this Application, so its
notification log is the single, gap-free, totally ordered history that projections, the bridge
and auditors read. Persistence comes from the environment (SQLite embedded, PostgreSQL in
production); the transcoder is orjson.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Transcoder

from domain.actor import Actor
from domain.agencies import AgencyDirectory
from domain.calendar import WorkingDayCalendar
from domain.errors import ConcurrentChange, NotFound, StaleVersion
from domain.events import by
from domain.sealing import Sealer
from domain.transcoding import OrjsonTranscoder

A = TypeVar("A", bound=Aggregate)


class FiregovApplication(Application[UUID]):
    name = "firegov"
    # Cached aggregates are fast-forwarded from the store on every get, so several processes
    # may share one store; a stale copy can only lose the optimistic-concurrency race.
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "5000"}

    def construct_transcoder(self) -> Transcoder:
        transcoder = OrjsonTranscoder()
        self.register_transcodings(transcoder)
        return transcoder


@dataclass
class Context:
    """What every application service needs: the store, the clock, and the rule books."""

    app: FiregovApplication
    calendar: WorkingDayCalendar
    agencies: AgencyDirectory
    sealer: Sealer
    clock: Callable[[], datetime]
    certificate_number_format: str = "{prefix}〔{year}〕第{seq:04d}号"
    login_max_failures: int = 5
    lockout: timedelta = field(default_factory=lambda: timedelta(minutes=30))

    def stamp(self, actor: Actor) -> dict[str, Any]:
        """Actor and time for the next event: who did it travels with every fact."""
        return by(actor, self.clock())

    def load(self, cls: type[A], aggregate_id: UUID, what_zh: str, what_en: str) -> A:
        try:
            aggregate: Any = self.app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(f"{what_zh}不存在", f"{what_en} not found") from None
        if not isinstance(aggregate, cls):
            raise NotFound(f"{what_zh}不存在", f"{what_en} not found")
        return aggregate

    def save(self, *aggregates: Aggregate) -> None:
        try:
            self.app.save(*aggregates)
        except IntegrityError:
            raise ConcurrentChange(
                "该事项刚被他人修改，请刷新后重试",
                "the case was changed by someone else meanwhile; reload and retry",
                retry=True,
            ) from None


def retrying(attempts: int, operation: Callable[[], Any]) -> Any:
    """Run ``operation`` again when an optimistic-concurrency conflict interrupts it.

    Between attempts each writer waits a short random time (growing with the attempt), so the
    writers that just collided do not all come back at once and collide again.
    """
    for attempt in range(attempts):
        try:
            return operation()
        except StaleVersion:
            raise  # the caller's version is out of date: another attempt cannot succeed
        except ConcurrentChange:
            if attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0, 0.005 * (attempt + 1)))  # noqa: S311 - jitter, no secret
    return None
