"""What the staff API needs from the composition root, and the request's actor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api_internal.sessions import SessionStore
from domain.actor import Actor
from domain.agencies import AgencyDirectory
from domain.calendar import WorkingDayCalendar
from domain.errors import AuthenticationFailed
from domain.sealing import Sealer
from domain.services import Services
from projections.internal.booking_queries import BookingQueries
from projections.internal.projector import InternalProjector
from projections.internal.quarantine import QuarantineQueries
from projections.internal.queries import FilingQueries


@dataclass
class Backend:
    services: Services
    queries: FilingQueries
    booking_queries: BookingQueries
    projector: InternalProjector
    sessions: SessionStore
    sealer: Sealer
    agencies: AgencyDirectory
    calendar: WorkingDayCalendar
    clock: Callable[[], datetime]
    idle_timeout_minutes: int
    # Over the same read-model store as the filings; derived here so the composition root
    # has nothing more to wire.
    quarantine_queries: QuarantineQueries = field(init=False)

    def __post_init__(self) -> None:
        self.quarantine_queries = QuarantineQueries(self.queries.store)


def backend(request: Request) -> Backend:
    found: Backend = request.app.state.backend
    return found


BackendDep = Annotated[Backend, Depends(backend)]
_bearer = HTTPBearer(auto_error=False)


def current_actor(
    request: Request,
    backend: BackendDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None:
        raise AuthenticationFailed("请先登录", "log in first", code="not_authenticated")
    actor = backend.sessions.touch(credentials.credentials, backend.clock())
    if actor is None:
        raise AuthenticationFailed(
            "会话已失效（超时或已退出），请重新登录",
            "the session has ended (idle timeout or logout); log in again",
            code="session_expired",
        )
    request.state.token = credentials.credentials
    request.state.actor_id = actor.actor_id
    return actor


StaffDep = Annotated[Actor, Depends(current_actor)]
