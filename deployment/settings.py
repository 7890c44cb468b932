"""Settings of the internal process: one pydantic-settings class, prefix ``FIREGOV_``.

Every field is described; docs/configuration.md's tables are generated from these
(``firegov settings table``). With no configuration at all the platform runs embedded:
SQLite files under ``var/``, a master key generated once into ``var/secrets/``.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from projections.client_address import TrustedProxies

PACKAGE_DIR = Path(__file__).resolve().parent


class SealingAlgorithm(StrEnum):
    AES_GCM = "aes-256-gcm"
    SM4_GCM = "sm4-gcm"


class HashAlgorithm(StrEnum):
    SHA256 = "sha256"
    SM3 = "sm3"


class Transport(StrEnum):
    FERRY = "ferry"
    NATS = "nats"


def http_base_url(value: str) -> str:
    """An http(s) address with a host and no query or fragment, without its trailing slash
    (paths such as /verify/... are appended to it)."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(
            "must be an http:// or https:// address with a host, e.g. https://example.org"
        )
    return value.strip().rstrip("/")


def trusted_proxy_list(value: str) -> str:
    """A list of addresses and CIDR networks, written back the way it is read."""
    return str(TrustedProxies.parse(value))


TRUSTED_PROXIES_HELP = (
    "Reverse proxies (addresses or CIDR networks, comma-separated) whose X-Forwarded-For and "
    "X-Forwarded-Proto are believed. The client is then the right-most address of "
    "X-Forwarded-For that is not itself a trusted proxy; from any other peer the headers are "
    "ignored. Empty: none trusted, the peer is the client (docs/security.md)."
)

PUBLIC_BASE_URL_HELP = (
    "Address of the public portal as the internet reaches it (scheme, host, port, optional "
    "path). The QR code on every filing certificate opens <this>/verify/<certificate number>."
)


class InternalSettings(BaseSettings):
    """The internal (staff) side: event store, projections, staff API."""

    model_config = SettingsConfigDict(env_prefix="FIREGOV_", extra="ignore")

    data_dir: Path = Field(
        default=Path("var"),
        description="Directory for embedded data: SQLite files, generated secrets, documents.",
    )
    internal_database_url: str | None = Field(
        default=None,
        description=(
            "PostgreSQL URL of the internal event store and internal projections "
            "(postgresql://user@host:5432/db). Unset: SQLite files under data_dir/internal."
        ),
    )
    postgres_schema: str = Field(
        default="public",
        description="PostgreSQL schema for the internal tables (tests use their own schema).",
    )
    host: str = Field(default="127.0.0.1", description="Address the internal API listens on.")
    port: int = Field(default=8001, description="Port of the internal API.")
    master_key: SecretStr | None = Field(
        default=None,
        description=(
            "Base64 of 32 random bytes that wraps every person's data key. Unset in embedded "
            "mode: generated once into data_dir/secrets/master.key (mode 0600). Required with "
            "PostgreSQL."
        ),
    )
    sealing_algorithm: SealingAlgorithm = Field(
        default=SealingAlgorithm.AES_GCM,
        description="Cipher for sealed personal data: aes-256-gcm or sm4-gcm (GM/T 0002).",
    )
    hash_algorithm: HashAlgorithm = Field(
        default=HashAlgorithm.SHA256,
        description="Hash of the ledger and the bridge's envelope chain: sha256 or sm3.",
    )
    calendar_dir: Path = Field(
        default=PACKAGE_DIR / "calendar",
        description="Directory of operator calendar overrides, one <year>.toml per year.",
    )
    agencies_file: Path = Field(
        default=PACKAGE_DIR / "data" / "zhengzhou.toml",
        description="Data file of the detachment, its brigades and the districts they cover.",
    )
    certificate_number_format: str = Field(
        default="{prefix}〔{year}〕第{seq:04d}号",
        description=(
            "Format of filing certificate numbers; fields: prefix (per agency and kind), "
            "year, seq (per agency, kind and year)."
        ),
    )
    public_base_url: str = Field(default="http://127.0.0.1:8000", description=PUBLIC_BASE_URL_HELP)
    session_idle_minutes: int = Field(
        default=30, ge=1, description="Staff sessions end after this many idle minutes."
    )
    session_max_hours: int = Field(
        default=12,
        ge=1,
        le=24,
        description="Staff sessions end this many hours after login, however active (MLPS); "
        "both console cookies and API bearer tokens.",
    )
    login_max_failures: int = Field(
        default=5,
        ge=1,
        description="Failed logins of one account in a row from one client address (an IPv6 "
        "address by its /64) that lock the account for that address; from other addresses it "
        "can still log in.",
    )
    lockout_minutes: int = Field(
        default=30, ge=1, description="How long an account stays locked for that address."
    )
    login_source_max_failures: int = Field(
        default=20,
        ge=1,
        description="Failed logins from one client address, whatever the accounts, within "
        "login_source_window_minutes after which that address is refused (429 with "
        "Retry-After) until it falls below again.",
    )
    login_source_window_minutes: int = Field(
        default=15,
        ge=1,
        le=1440,
        description="The window in which login_source_max_failures are counted.",
    )
    trusted_proxies: str = Field(default="", description=TRUSTED_PROXIES_HELP)
    totp_issuer: str = Field(
        default="firegov", description="Issuer name shown in authenticator apps."
    )
    seed_demo_data: bool = Field(
        default=True,
        description="Seed demo accounts, filings and bookings on the first start of `firegov run`.",
    )
    log_level: str = Field(default="INFO", description="Log level: DEBUG, INFO, WARNING, ERROR.")
    log_json: bool | None = Field(
        default=None,
        description="Log as JSON lines. Unset: JSON when stderr is not a terminal.",
    )
    bridge_transport: Transport = Field(
        default=Transport.FERRY,
        description="How batches cross to the public side: ferry (files) or nats (JetStream).",
    )
    ferry_dir: Path | None = Field(
        default=None,
        description="Outbox of the file ferry. Unset: data_dir/ferry (shared with the public "
        "side in the embedded setup; a one-way gateway copies it otherwise).",
    )
    signing_key_file: Path | None = Field(
        default=None,
        description="Ed25519 private key that signs batches. Unset: "
        "data_dir/secrets/bridge-signing.key (created by `firegov keys init`, mode 0600).",
    )
    verify_key_file: Path | None = Field(
        default=None,
        description="Where `firegov keys init` writes the verification key for the public side. "
        "Unset: data_dir/bridge-verify.pub.",
    )
    poll_seconds: float = Field(
        default=0.05,
        gt=0,
        le=5,
        description="How long an idle follower (read models, ledger, outbound bridge) waits "
        "before it looks at the event store again (SQLite has no notifications).",
    )
    bridge_batch_size: int = Field(
        default=400,
        ge=1,
        le=5000,
        description="Internal events (positions of the log) one outbound batch covers at most.",
    )
    checkpoint_every_events: int = Field(
        default=1000, ge=1, description="A ledger checkpoint crosses after this many events..."
    )
    checkpoint_every_seconds: float = Field(
        default=300, gt=0, description="...or after this many seconds, whichever comes first."
    )
    availability_days: int = Field(
        default=20,
        ge=1,
        le=120,
        description="Working days from today whose free inspection places each agency "
        "publishes (the public days with room); fewer where the calendar ends.",
    )
    availability_seconds: float = Field(
        default=3,
        gt=0,
        le=300,
        description="How often the internal side compares the days with room with their last "
        "publication and publishes those that changed.",
    )
    nats_url: str = Field(
        default="nats://127.0.0.1:4222", description="NATS server of the internal account."
    )
    nats_credentials: Path | None = Field(
        default=None, description="NATS credentials file of the internal side's user."
    )
    nats_intake_credentials: Path | None = Field(
        default=None,
        description="NATS credentials file of the intake importer's user (firegov-intake); "
        "used when bridge_transport is nats, which also carries intake.",
    )
    intake_dir: Path | None = Field(
        default=None,
        description="Inbox of the intake ferry (one bundle per public submission: the record "
        "and its files). Unset: data_dir/ferry-intake (shared with the public side in the "
        "embedded setup).",
    )
    intake_max_file_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1,
        description="Largest file the internal side takes: the importer refuses a larger one "
        "(checked again on import), and so does the console's upload of a signed commitment.",
    )
    notify_sender: str = Field(
        default="log",
        pattern=r"^(log|[A-Za-z_][\w.]*:[A-Za-z_]\w*)$",
        description="Sender of notifications to applicants: log (a log line with the receipt "
        "number, template and masked number), or package.module:factory, a callable taking "
        "these settings and returning an SMS or e-mail sender.",
    )
    notify_max_attempts: int = Field(
        default=5, ge=1, le=20, description="Attempts to send a notification before it fails."
    )
    notify_backoff_seconds: float = Field(
        default=60,
        gt=0,
        description="Wait after the first failed attempt; doubled after each further one "
        "(at most a day).",
    )
    notify_lease_seconds: float = Field(
        default=300,
        gt=0,
        description="How long a worker holds a notification it is sending; if it dies, another "
        "worker tries again after this. Longer than the sender's own timeout.",
    )
    notify_max_age_hours: float = Field(
        default=72,
        gt=0,
        description="A notification whose event is older than this is recorded as expired, "
        "never sent (a first start on an old store sends no stale news).",
    )

    _public_base_url = field_validator("public_base_url")(http_base_url)
    _trusted_proxies = field_validator("trusted_proxies")(trusted_proxy_list)

    @field_validator("master_key")
    @classmethod
    def _refuse_weak_master_key(cls, value: SecretStr | None) -> SecretStr | None:
        import base64
        import binascii

        if value is None:
            return None
        try:
            raw = base64.b64decode(value.get_secret_value(), validate=True)
        except binascii.Error as error:
            raise ValueError("master_key must be base64") from error
        if len(raw) != 32 or len(set(raw)) < 8:
            raise ValueError("master_key must be 32 random bytes (base64)")
        return value

    @property
    def internal_dir(self) -> Path:
        return self.data_dir / "internal"

    @property
    def ferry_outbox(self) -> Path:
        return self.ferry_dir or self.data_dir / "ferry"

    @property
    def intake_inbox(self) -> Path:
        return self.intake_dir or self.data_dir / "ferry-intake"

    @property
    def intake_staging(self) -> Path:
        """Parts of bundles pulled from the NATS intake stream, until each bundle is whole."""
        return self.internal_dir / "intake-staging"

    @property
    def documents_dir(self) -> Path:
        return self.internal_dir / "documents"

    @property
    def signing_key_path(self) -> Path:
        return self.signing_key_file or self.data_dir / "secrets" / "bridge-signing.key"

    @property
    def verify_key_path(self) -> Path:
        return self.verify_key_file or self.data_dir / "bridge-verify.pub"

    @property
    def uses_postgres(self) -> bool:
        return self.internal_database_url is not None


def load_internal_settings() -> InternalSettings:
    return InternalSettings()


class PublicSettings(BaseSettings):
    """The public (internet) side: receiver, public read models, public API. It holds no
    secret of the internal side: only the bridge's verification key."""

    model_config = SettingsConfigDict(env_prefix="FIREGOV_PUBLIC_", extra="ignore")

    data_dir: Path = Field(
        default=Path("var/public"), description="Directory for the public side's embedded data."
    )
    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL of the public read models. Unset: data_dir/public.sqlite.",
    )
    postgres_schema: str = Field(default="public", description="PostgreSQL schema of the views.")
    host: str = Field(default="127.0.0.1", description="Address the public API listens on.")
    port: int = Field(default=8000, description="Port of the public API.")
    # FIREGOV_PUBLIC_BASE_URL: the same variable, with the same meaning, as the internal side's.
    base_url: str = Field(default="http://127.0.0.1:8000", description=PUBLIC_BASE_URL_HELP)
    _base_url = field_validator("base_url")(http_base_url)
    transport: Transport = Field(
        default=Transport.FERRY, description="Where batches arrive from: ferry or nats."
    )
    ferry_dir: Path = Field(
        default=Path("var/ferry"), description="Inbox of the file ferry (batches and heartbeat)."
    )
    verify_key_file: Path = Field(
        default=Path("var/bridge-verify.pub"),
        description="The bridge's Ed25519 verification key (public; never the signing key).",
    )
    hash_algorithm: HashAlgorithm = Field(
        default=HashAlgorithm.SHA256,
        description="Hash of the envelope chain; must match the internal side's.",
    )
    poll_seconds: float = Field(
        default=0.05,
        gt=0,
        le=5,
        description="How long an idle receiver waits before it looks again.",
    )
    rate_limit_per_minute: int = Field(
        default=300, ge=1, description="Requests per minute per client address (then 429)."
    )
    query_code_attempts_per_minute: int = Field(
        default=10, ge=1, description="Query-code checks per minute per client address."
    )
    # FIREGOV_PUBLIC_TRUSTED_PROXIES: the proxies in front of the portal, not the console's.
    trusted_proxies: str = Field(default="", description=TRUSTED_PROXIES_HELP)
    _trusted_proxies = field_validator("trusted_proxies")(trusted_proxy_list)
    nats_url: str = Field(
        default="nats://127.0.0.1:4222", description="NATS server of the public account."
    )
    nats_credentials: Path | None = Field(
        default=None, description="NATS credentials file of the public side's user."
    )
    log_level: str = Field(default="INFO", description="Log level: DEBUG, INFO, WARNING, ERROR.")
    log_json: bool | None = Field(
        default=None, description="Log as JSON lines. Unset: JSON when stderr is not a terminal."
    )
    intake_dir: Path = Field(
        default=Path("var/ferry-intake"),
        description="Outbox of the intake ferry: one inert bundle (record and files) per "
        "accepted submission. With transport nats, submissions go to the NATS intake stream.",
    )
    intake_timeout_seconds: float = Field(
        default=5,
        gt=0,
        le=60,
        description="How long the public side waits for the NATS intake stream to store each "
        "part of a submission before it answers 503 (try again) and keeps nothing.",
    )
    max_file_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1, description="Largest uploaded file accepted (bytes)."
    )
    max_submission_bytes: int = Field(
        default=100 * 1024 * 1024,
        ge=1,
        description="Largest total of the files of one submission accepted (bytes).",
    )
    submissions_per_minute: int = Field(
        default=5, ge=1, description="Submissions per minute per client address (then 429)."
    )
    draft_steps_per_minute: int = Field(
        default=20,
        ge=1,
        description="Portal forms: drafts started and uploads into them per minute per client "
        "address (then 429, what was typed kept).",
    )
    draft_bytes_per_client: int = Field(
        default=200 * 1024 * 1024,
        ge=1,
        description="Portal forms: bytes of files the unfinished drafts of one client address "
        "(an IPv6 address by its /64) may hold at once; a file beyond it is refused next to its "
        "field and not kept. At least max_submission_bytes.",
    )
    draft_bytes_total: int = Field(
        default=2 * 1024 * 1024 * 1024,
        ge=1,
        description="Portal forms: bytes of files all unfinished drafts together may hold at "
        "once (stored base64-encoded in the public database, about a third more); beyond it the "
        "upload step answers 503 系统繁忙 and keeps nothing. At least draft_bytes_per_client.",
    )
    agencies_file: Path = Field(
        default=PACKAGE_DIR / "data" / "zhengzhou.toml",
        description="Data file of the agencies (the internal side's agencies_file): the "
        "portal's service guides show their names, addresses, phones and districts.",
    )
    operator_name: str = Field(
        default="",
        max_length=200,
        description="Portal footer: the operator (主办单位) of the site. Empty: line hidden.",
    )
    operator_address: str = Field(
        default="", max_length=200, description="Portal footer: the operator's address."
    )
    operator_phone: str = Field(
        default="", max_length=50, description="Portal footer: the operator's phone number."
    )
    icp_number: str = Field(
        default="",
        max_length=100,
        description="Portal footer: the site's ICP filing number (ICP备案号), linked to "
        "beian.miit.gov.cn. Empty: line hidden.",
    )
    psb_number: str = Field(
        default="",
        max_length=100,
        description="Portal footer: the site's public security filing number (公安机关备案号), "
        "linked to beian.mps.gov.cn. Empty: line hidden.",
    )

    @model_validator(mode="after")
    def _drafts_fit_a_submission(self) -> PublicSettings:
        """A person filing one submission of the largest size allowed must fit the budgets."""
        if self.draft_bytes_per_client < self.max_submission_bytes:
            raise ValueError("draft_bytes_per_client must be at least max_submission_bytes")
        if self.draft_bytes_total < self.draft_bytes_per_client:
            raise ValueError("draft_bytes_total must be at least draft_bytes_per_client")
        return self


def load_public_settings() -> PublicSettings:
    return PublicSettings()
