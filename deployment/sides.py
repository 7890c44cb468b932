"""Wiring of the bridge and the public side (DESIGN.md decisions 5-7): the outbound bridge on
the internal side, and the receiver, public read models and public API on the other. Each can
run in its own process; ``firegov run`` runs all of them in one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from psycopg_pool import ConnectionPool

from api_public.pages_budgets import DraftLimits
from api_public.ratelimit import RateLimiter
from api_public.routes import PublicBackend
from bridge.allow_list import RecentAggregates, Sources
from bridge.contract.envelope import load_verify_key
from bridge.intake.importer import IntakeImporter, IntakeInbox
from bridge.intake.public import IntakeDrop, PublicIntake
from bridge.keys import create_key_pair, load_signing_key
from bridge.outbound import Checkpoints, LedgerHead, OutboundBridge
from bridge.receiver import Receiver
from bridge.transports.base import BatchSink, BatchSource
from bridge.transports.ferry import FerryIntakeDrop, FerryIntakeInbox, FerrySink, FerrySource
from deployment.bootstrap import Platform
from deployment.portal import build_catalogue, build_operator
from deployment.settings import InternalSettings, PublicSettings, Transport
from domain.documents import DocumentStore
from projections.client_address import TrustedProxies
from projections.public.queries import PublicQueries
from projections.store import PostgresViewStore, SqliteViewStore, ViewStore


def ensure_bridge_keys(settings: InternalSettings) -> None:
    """Embedded installations get a key pair on first start; production runs `keys init`."""
    if not settings.signing_key_path.exists():
        if settings.uses_postgres:
            raise RuntimeError(
                f"no bridge signing key at {settings.signing_key_path}: run `firegov keys init`"
            )
        create_key_pair(settings.signing_key_path, settings.verify_key_path)


def outbound_sink(settings: InternalSettings) -> BatchSink:
    if settings.bridge_transport is Transport.NATS:
        from bridge.transports.nats import NatsSink

        return NatsSink(settings.nats_url, settings.nats_credentials)
    return FerrySink(settings.ferry_outbox)


def build_outbound(
    platform: Platform, settings: InternalSettings, sink: BatchSink | None = None
) -> OutboundBridge:
    app = platform.app
    recent = RecentAggregates(app)
    sources = Sources(
        calendar=platform.calendar,
        agencies=platform.agencies,
        filing_at=recent.at,
        booking_at=recent.at,
    )
    return OutboundBridge(
        app=app,
        store=platform.views,
        sources=sources,
        ledger=LedgerHead(platform.ledger.catch_up, platform.ledger.hash_at),
        signing_key=load_signing_key(settings.signing_key_path),
        hash_alg=str(settings.hash_algorithm),
        sink=sink or outbound_sink(settings),
        clock=platform.services.context.clock,
        batch_size=settings.bridge_batch_size,
        checkpoints=Checkpoints(
            settings.checkpoint_every_events, settings.checkpoint_every_seconds
        ),
        recent=recent,
    )


@dataclass
class PublicSide:
    settings: PublicSettings
    store: ViewStore
    receiver: Receiver
    queries: PublicQueries
    backend: PublicBackend
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in reversed(self.closers):
            close()


def inbound_source(settings: PublicSettings) -> BatchSource:
    if settings.transport is Transport.NATS:
        from bridge.transports.nats import NatsSource

        return NatsSource(settings.nats_url, settings.nats_credentials)
    return FerrySource(settings.ferry_dir)


def build_public(
    settings: PublicSettings,
    source: BatchSource | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> PublicSide:
    closers: list[Callable[[], None]] = []
    store: ViewStore
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        sqlite = SqliteViewStore(settings.data_dir / "public.sqlite")
        store = sqlite
        closers.append(sqlite.close)
    else:
        pool = ConnectionPool(
            settings.database_url,
            min_size=1,
            max_size=8,
            kwargs={"options": f"-c search_path={settings.postgres_schema}"},
            open=True,
        )
        store = PostgresViewStore(pool)
        closers.append(pool.close)
    source = source or inbound_source(settings)
    if hasattr(source, "close"):
        closers.append(source.close)
    receiver = Receiver(
        store,
        source,
        load_verify_key(settings.verify_key_file.read_bytes()),
        str(settings.hash_algorithm),
        clock,
    )
    queries = PublicQueries(store)
    drop = intake_drop(settings)
    if hasattr(drop, "close"):
        closers.append(drop.close)
    intake = PublicIntake(
        store,
        drop,
        settings.max_file_bytes,
        settings.max_submission_bytes,
        clock,
    )
    backend = PublicBackend(
        queries=queries,
        requests=RateLimiter(settings.rate_limit_per_minute),
        code_attempts=RateLimiter(settings.query_code_attempts_per_minute),
        intake=intake,
        submissions=RateLimiter(settings.submissions_per_minute),
        clock=clock,
        public_base_url=settings.base_url,
        catalogue=build_catalogue(settings.agencies_file),
        operator=build_operator(settings),
        drafts=DraftLimits(
            settings.draft_bytes_per_client,
            settings.draft_bytes_total,
            RateLimiter(settings.draft_steps_per_minute),
        ),
        trusted_proxies=TrustedProxies.parse(settings.trusted_proxies),
    )
    return PublicSide(settings, store, receiver, queries, backend, closers)


def embedded_public_settings(settings: InternalSettings) -> PublicSettings:
    """The public side of a one-process installation, reading what the internal side writes."""
    return PublicSettings(
        data_dir=settings.data_dir / "public",
        ferry_dir=settings.ferry_outbox,
        verify_key_file=settings.verify_key_path,
        hash_algorithm=settings.hash_algorithm,
        poll_seconds=settings.poll_seconds,
        intake_dir=settings.intake_inbox,
        base_url=settings.public_base_url,
        agencies_file=settings.agencies_file,
    )


def intake_drop(settings: PublicSettings) -> IntakeDrop:
    """Where the public side hands submissions over: the same transport as its batches come by."""
    if settings.transport is Transport.NATS:
        from bridge.transports.nats_intake import NatsIntakeDrop

        return NatsIntakeDrop(
            settings.nats_url, settings.nats_credentials, timeout=settings.intake_timeout_seconds
        )
    return FerryIntakeDrop(settings.intake_dir)


def intake_inbox(settings: InternalSettings) -> IntakeInbox:
    """Where the importer pulls submissions from: the bridge's transport, the other way."""
    if settings.bridge_transport is Transport.NATS:
        from bridge.transports.nats_intake import NatsIntakeInbox

        return NatsIntakeInbox(
            settings.nats_url, settings.nats_intake_credentials, settings.intake_staging
        )
    return FerryIntakeInbox(settings.intake_inbox)


def build_importer(
    platform: Platform, settings: InternalSettings, inbox: IntakeInbox | None = None
) -> IntakeImporter:
    """The internal half of intake, over the configured transport."""
    return IntakeImporter(
        filings=platform.services.filings,
        bookings=platform.services.bookings,
        intake=platform.services.intake,
        agencies=platform.agencies,
        store=platform.views,
        inbox=inbox or intake_inbox(settings),
        documents=DocumentStore(settings.documents_dir, platform.sealer),
        max_file_bytes=settings.intake_max_file_bytes,
        clock=platform.services.context.clock,
    )
