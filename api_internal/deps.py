"""What the staff API needs from the composition root, and the request's actor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api_internal import pages_cookies
from api_internal.login_throttle import SourceThrottle
from api_internal.sessions import Ended, Session, SessionStore
from domain.actor import Actor
from domain.agencies import AgencyDirectory
from domain.calendar import WorkingDayCalendar
from domain.calendar_watch import CoverageWatch
from domain.documents import DocumentStore
from domain.errors import AuthenticationFailed
from domain.sealing import Sealer
from domain.services import Services
from domain.services.availability import AvailabilityService
from projections.client_address import TrustedProxies
from projections.internal.booking_queries import BookingQueries
from projections.internal.login_attempts import LoginAttempts
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
    # Failed logins: per source across accounts (the 429 throttle), and per account and
    # source as the events record them (the security administrator's view).
    login_throttle: SourceThrottle
    login_attempts: LoginAttempts
    # Where the public portal is reached: the QR code on certificates staff download.
    public_base_url: str = "http://127.0.0.1:8000"
    # The console's document view and reply form (api_internal.pages_*): where imported
    # documents are kept, and the days with room of each agency; unset in a bare API.
    documents: Path | None = None
    availability: AvailabilityService | None = None
    # The largest file the console keeps (the signed commitment of a permit on the spot),
    # the same bound the importer puts on the applicants' files.
    max_upload_bytes: int = 20 * 1024 * 1024
    # Who may say, in X-Forwarded-For, for whom a request comes (FIREGOV_TRUSTED_PROXIES).
    trusted_proxies: TrustedProxies = field(default_factory=TrustedProxies)
    # Over the same read-model store as the filings; derived here so the composition root
    # has nothing more to wire.
    quarantine_queries: QuarantineQueries = field(init=False)
    # How far the calendar reaches today: /health, the console's banner and calendar page.
    calendar_watch: CoverageWatch = field(init=False)
    # The documents, sealed per submission with the same keys as the rest of a person's data.
    document_store: DocumentStore | None = field(init=False)

    def __post_init__(self) -> None:
        self.quarantine_queries = QuarantineQueries(self.queries.store)
        self.calendar_watch = CoverageWatch(self.calendar, self.clock)
        self.document_store = (
            None if self.documents is None else DocumentStore(self.documents, self.sealer)
        )


def backend(request: Request) -> Backend:
    found: Backend = request.app.state.backend
    return found


BackendDep = Annotated[Backend, Depends(backend)]
_bearer = HTTPBearer(auto_error=False)
SAFE_METHODS = frozenset({"GET", "HEAD"})


def current_actor(
    request: Request,
    backend: BackendDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    token = credentials.credentials if credentials is not None else None
    if token is None and request.method in SAFE_METHODS:
        # A link of the console (e.g. the certificate PDF) carries the console's cookie; only
        # for reading: a command always needs the bearer header, so no form can forge one.
        token = pages_cookies.session_token(request)
    if token is None:
        raise AuthenticationFailed("请先登录", "log in first", code="not_authenticated")
    session = backend.sessions.resume(token, backend.clock())
    if session is Ended.LIFETIME:
        hours = backend.sessions.lifetime // timedelta(hours=1)
        raise AuthenticationFailed(
            f"会话已达最长时限（{hours} 小时），无论是否有操作均已结束，请重新登录",
            f"the session reached its maximum lifetime ({hours} hours); log in again",
            code="session_expired",
        )
    if not isinstance(session, Session):
        raise AuthenticationFailed(
            "会话已失效（超时或已退出），请重新登录",
            "the session has ended (idle timeout or logout); log in again",
            code="session_expired",
        )
    actor = session.actor
    request.state.token = token
    request.state.actor_id = actor.actor_id
    return actor


StaffDep = Annotated[Actor, Depends(current_actor)]
