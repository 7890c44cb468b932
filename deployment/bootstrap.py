"""The composition root (cosmicpython's ``bootstrap``): settings in, a wired platform out.

Embedded (no database URL): SQLite files under ``data_dir/internal``. With
``FIREGOV_INTERNAL_DATABASE_URL``: the event store, read models, key store and sessions on
PostgreSQL. Nothing else changes (DESIGN.md decision 7).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlparse

from psycopg_pool import ConnectionPool

from api_internal.deps import Backend
from api_internal.login_throttle import SourceThrottle
from api_internal.sessions import SessionStore
from deployment import event_store
from deployment.keystore import (
    PostgresSubjectKeyStore,
    SqliteSubjectKeyStore,
    build_sealer,
)
from deployment.settings import InternalSettings
from domain.actor import Actor
from domain.agencies import AgencyDirectory
from domain.application import Context, FiregovApplication
from domain.calendar import WorkingDayCalendar
from domain.sealing import Sealer
from domain.services import Services
from domain.services.availability import AvailabilityService
from domain.services.calendar_coverage import CalendarCoverageService, CoverageChange
from projections.client_address import TrustedProxies
from projections.internal.booking_queries import BookingQueries
from projections.internal.ledger import Ledger
from projections.internal.login_attempts import LoginAttempts
from projections.internal.open_cases import open_cases
from projections.internal.projector import InternalProjector
from projections.internal.queries import FilingQueries
from projections.internal.slot_counts import SlotCounts
from projections.store import PostgresViewStore, SqliteViewStore, ViewStore


def event_store_env(settings: InternalSettings) -> dict[str, str]:
    """eventsourcing's persistence settings derived from ours."""
    if settings.internal_database_url is None:
        settings.internal_dir.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(settings.internal_dir / "events.sqlite"),
            "SQLITE_LOCK_TIMEOUT": "30",
            # Ids never handed out twice, not even a deleted last row's (issue 16).
            "APPLICATION_RECORDER_TOPIC": event_store.TOPIC,
        }
    url = urlparse(settings.internal_database_url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.path.lstrip("/") or "postgres",
        "POSTGRES_HOST": url.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": unquote(url.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(url.password or ""),
        "POSTGRES_SCHEMA": settings.postgres_schema,
        # DESIGN.md "Known traps": keep the default insert path with its table lock.
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
    }


@dataclass
class Platform:
    settings: InternalSettings
    app: FiregovApplication
    services: Services
    projector: InternalProjector
    ledger: Ledger
    queries: FilingQueries
    booking_queries: BookingQueries
    sessions: SessionStore
    sealer: Sealer
    calendar: WorkingDayCalendar
    agencies: AgencyDirectory
    views: ViewStore
    closers: list[Callable[[], None]]
    availability: AvailabilityService  # publishes the days with room (a loop of `run`)
    calendar_coverage: CalendarCoverageService  # records how far the calendar reaches (same loop)
    slot_counts: SlotCounts  # the places booked per half day, which availability reads
    login_attempts: LoginAttempts  # failed logins per account and source (security admin)

    def staff_backend(self) -> Backend:
        """What the staff API needs of this platform."""
        return Backend(
            services=self.services,
            queries=self.queries,
            booking_queries=self.booking_queries,
            projector=self.projector,
            sessions=self.sessions,
            sealer=self.sealer,
            agencies=self.agencies,
            calendar=self.calendar,
            clock=self.services.context.clock,
            idle_timeout_minutes=self.settings.session_idle_minutes,
            login_throttle=SourceThrottle(
                self.sessions.store,
                self.settings.login_source_max_failures,
                timedelta(minutes=self.settings.login_source_window_minutes),
            ),
            login_attempts=self.login_attempts,
            public_base_url=self.settings.public_base_url,
            documents=self.settings.documents_dir,
            availability=self.availability,
            max_upload_bytes=self.settings.intake_max_file_bytes,
            trusted_proxies=TrustedProxies.parse(self.settings.trusted_proxies),
        )

    def record_calendar_coverage(self) -> CoverageChange | None:
        """Record how far the working-day calendar reaches when it changed (issue 16)."""
        system = Actor.system(self.agencies.detachment.code, "calendar")
        return self.calendar_coverage.record_changed(system)

    def keep_calendar_and_availability(self) -> list[str]:
        """One round of the calendar job: the calendar's reach first (a new year's deadlines),
        then the days with room, which that reach bounds."""
        self.record_calendar_coverage()
        return self.publish_availability()

    def publish_availability(self) -> list[str]:
        """One round of the days-with-room job, as the platform itself; the agencies published."""
        system = Actor.system(self.agencies.detachment.code, "availability")
        return self.availability.publish_changed(system)

    def close(self) -> None:
        for close in reversed(self.closers):
            close()
        self.app.close()


def build_platform(
    settings: InternalSettings, clock: Callable[[], datetime] | None = None
) -> Platform:
    now = clock or (lambda: datetime.now(UTC))
    calendar = WorkingDayCalendar(settings.calendar_dir)
    agencies = AgencyDirectory.from_toml(settings.agencies_file)
    closers: list[Callable[[], None]] = []
    keys: SqliteSubjectKeyStore | PostgresSubjectKeyStore
    views: ViewStore
    sessions_store: ViewStore
    if settings.internal_database_url is None:
        keys = SqliteSubjectKeyStore(settings.internal_dir / "keys.sqlite")
        views = SqliteViewStore(settings.internal_dir / "views.sqlite")
        sessions_store = SqliteViewStore(settings.internal_dir / "sessions.sqlite")
        closers += [keys.close, views.close, sessions_store.close]
    else:
        # One pool for the key store, read models and sessions; the event store has its own.
        pool = ConnectionPool(
            settings.internal_database_url,
            min_size=1,
            max_size=8,
            kwargs={"options": f"-c search_path={settings.postgres_schema}"},
            open=True,
        )
        keys = PostgresSubjectKeyStore(pool, settings.postgres_schema)
        views = sessions_store = PostgresViewStore(pool)
        closers.append(pool.close)
    keys.ensure_schema()
    sealer = build_sealer(settings, keys)
    app = FiregovApplication(env=event_store_env(settings))
    context = Context(
        app=app,
        calendar=calendar,
        agencies=agencies,
        sealer=sealer,
        clock=now,
        certificate_number_format=settings.certificate_number_format,
        login_max_failures=settings.login_max_failures,
        lockout=timedelta(minutes=settings.lockout_minutes),
    )
    services = Services(context)
    slot_counts = SlotCounts(app, views)
    return Platform(
        settings=settings,
        app=app,
        services=services,
        projector=InternalProjector(app, views),
        ledger=Ledger(app, views, str(settings.hash_algorithm)),
        queries=FilingQueries(views, calendar),
        booking_queries=BookingQueries(views, calendar),
        sessions=SessionStore(
            sessions_store,
            timedelta(minutes=settings.session_idle_minutes),
            timedelta(hours=settings.session_max_hours),
        ),
        sealer=sealer,
        calendar=calendar,
        agencies=agencies,
        views=views,
        closers=closers,
        availability=AvailabilityService(
            context,
            capacity=services.bookings.capacity,
            booked=slot_counts.booked,
            days=settings.availability_days,
        ),
        calendar_coverage=CalendarCoverageService(context, lambda: open_cases(views)),
        slot_counts=slot_counts,
        login_attempts=LoginAttempts(app, views),
    )
