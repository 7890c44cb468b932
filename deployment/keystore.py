"""Durable stores of per-person data keys and the master key (DESIGN.md decision 8).

Crypto-shredding only works if an erased key is really gone, so both stores overwrite the
wrapped key on erasure and keep a tombstone (the subject id, its algorithm and the date of
erasure) so that a later seal for the same person is refused rather than silently given a
new key. The master key that wraps every data key comes from ``FIREGOV_MASTER_KEY``; only
embedded (SQLite) installations may generate one into ``data_dir/secrets/master.key``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from psycopg import sql
from psycopg_pool import ConnectionPool

from deployment.settings import InternalSettings
from domain.sealing import MASTER_KEY_BYTES, Sealer, SealingAlgorithm, StoredKey, SubjectKeyStore

_TABLE = "subject_keys"


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None:
        raise ValueError("erased_at must be timezone-aware")


class SqliteSubjectKeyStore:
    """Data keys in one SQLite file, for embedded installations.

    One connection guarded by a lock: the FastAPI app calls from worker threads, and the
    statements are tiny, so serialising them costs nothing measurable.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None

    @property
    def path(self) -> Path:
        return self._path

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit mode: we open our own transactions where we need them.
            connection = sqlite3.connect(
                self._path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
            # Per connection: erased key bytes are overwritten with zeros in the file,
            # not merely marked free.
            connection.execute("PRAGMA secure_delete = ON")
            connection.execute("PRAGMA journal_mode = WAL")
            self._connection = connection
        return self._connection

    @contextlib.contextmanager
    def _session(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._connect()

    def ensure_schema(self) -> None:
        with self._session() as connection:
            connection.execute(
                f"CREATE TABLE IF NOT EXISTS {_TABLE} ("
                " subject_id TEXT PRIMARY KEY,"
                " algorithm TEXT NOT NULL,"
                " wrapped_key BLOB,"
                " created_at TEXT NOT NULL,"
                " erased_at TEXT)"
            )

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def get(self, subject_id: str) -> StoredKey | None:
        with self._session() as connection:
            row = connection.execute(
                f"SELECT subject_id, algorithm, wrapped_key, erased_at FROM {_TABLE}"  # noqa: S608 - constant table name
                " WHERE subject_id = ?",
                (subject_id,),
            ).fetchone()
        if row is None:
            return None
        return StoredKey(
            subject_id=row[0],
            algorithm=SealingAlgorithm(row[1]),
            wrapped_key=None if row[2] is None else bytes(row[2]),
            erased_at=None if row[3] is None else datetime.fromisoformat(row[3]),
        )

    def add(self, key: StoredKey) -> StoredKey:
        with self._session() as connection:
            connection.execute(
                f"INSERT INTO {_TABLE} (subject_id, algorithm, wrapped_key, created_at, erased_at)"  # noqa: S608 - constant table name
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (subject_id) DO NOTHING",
                (
                    key.subject_id,
                    key.algorithm.value,
                    key.wrapped_key,
                    datetime.now(UTC).isoformat(),
                    None if key.erased_at is None else key.erased_at.isoformat(),
                ),
            )
        # Another process may have inserted first: what the file holds is authoritative.
        stored = self.get(key.subject_id)
        if stored is None:  # pragma: no cover - we just inserted and never delete rows
            raise RuntimeError(f"subject key {key.subject_id} vanished after insert")
        return stored

    def erase(self, subject_id: str, erased_at: datetime) -> bool:
        _require_aware(erased_at)
        with self._session() as connection:
            cursor = connection.execute(
                f"UPDATE {_TABLE} SET wrapped_key = NULL, erased_at = ?"  # noqa: S608 - constant table name
                " WHERE subject_id = ? AND erased_at IS NULL",
                (erased_at.isoformat(), subject_id),
            )
            erased = cursor.rowcount == 1
            if erased:
                # The page that held the key is still in the WAL until a checkpoint copies
                # the new page over it; truncate the WAL so the old frames leave the file.
                # If readers block it, the next checkpoint will complete the job.
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return erased


class PostgresSubjectKeyStore:
    """Data keys in PostgreSQL, next to the internal event store.

    Erasure sets the wrapped key to NULL; the old row version stays in the heap until
    VACUUM reclaims it (and in WAL archives and backups for their retention period).
    """

    def __init__(self, pool: ConnectionPool[Any], schema: str = "public") -> None:
        self._pool = pool
        self._table = sql.Identifier(schema, _TABLE)

    def ensure_schema(self) -> None:
        with self._pool.connection() as connection, connection.transaction():
            # Concurrent CREATE TABLE IF NOT EXISTS can still collide on the catalog;
            # serialise the (rare) schema creations across processes.
            connection.execute("SELECT pg_advisory_xact_lock(hashtext('firegov.subject_keys'))")
            connection.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} ("
                    " subject_id text PRIMARY KEY,"
                    " algorithm text NOT NULL,"
                    " wrapped_key bytea,"
                    " created_at timestamptz NOT NULL DEFAULT now(),"
                    " erased_at timestamptz)"
                ).format(self._table)
            )

    def get(self, subject_id: str) -> StoredKey | None:
        with self._pool.connection() as connection:
            row = connection.execute(
                sql.SQL(
                    "SELECT subject_id, algorithm, wrapped_key, erased_at FROM {}"
                    " WHERE subject_id = %s"
                ).format(self._table),
                (subject_id,),
            ).fetchone()
        if row is None:
            return None
        return StoredKey(
            subject_id=row[0],
            algorithm=SealingAlgorithm(row[1]),
            wrapped_key=None if row[2] is None else bytes(row[2]),
            erased_at=row[3],
        )

    def add(self, key: StoredKey) -> StoredKey:
        with self._pool.connection() as connection:
            # READ COMMITTED: if a concurrent insert of the same subject is in flight, the
            # INSERT waits for it and then does nothing; the next statement sees its row.
            connection.execute(
                sql.SQL(
                    "INSERT INTO {} (subject_id, algorithm, wrapped_key, created_at, erased_at)"
                    " VALUES (%s, %s, %s, now(), %s) ON CONFLICT (subject_id) DO NOTHING"
                ).format(self._table),
                (key.subject_id, key.algorithm.value, key.wrapped_key, key.erased_at),
            )
        stored = self.get(key.subject_id)
        if stored is None:  # pragma: no cover - rows are never deleted
            raise RuntimeError(f"subject key {key.subject_id} vanished after insert")
        return stored

    def erase(self, subject_id: str, erased_at: datetime) -> bool:
        _require_aware(erased_at)
        with self._pool.connection() as connection:
            cursor = connection.execute(
                sql.SQL(
                    "UPDATE {} SET wrapped_key = NULL, erased_at = %s"
                    " WHERE subject_id = %s AND erased_at IS NULL"
                ).format(self._table),
                (erased_at, subject_id),
            )
            return bool(cursor.rowcount == 1)


def _decode_master_key(encoded: str, source: str) -> bytes:
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        raise RuntimeError(f"the master key in {source} is not base64") from None
    if len(raw) != MASTER_KEY_BYTES:
        raise RuntimeError(f"the master key in {source} is not {MASTER_KEY_BYTES} bytes")
    return raw


def load_master_key(settings: InternalSettings) -> bytes:
    """The master key: from FIREGOV_MASTER_KEY, or generated once in embedded mode.

    Error messages name where the key came from, never the key itself.
    """
    if settings.master_key is not None:
        return _decode_master_key(settings.master_key.get_secret_value(), "FIREGOV_MASTER_KEY")
    if settings.internal_database_url is not None:
        # With a shared database, a key generated on one host would not be on the others,
        # and every person's data would be unreadable after a redeploy: demand one.
        raise RuntimeError(
            "FIREGOV_MASTER_KEY is required when FIREGOV_INTERNAL_DATABASE_URL is set "
            "(base64 of 32 random bytes, e.g. `openssl rand -base64 32`)"
        )
    path = settings.data_dir / "secrets" / "master.key"
    if not path.exists():
        _create_master_key_file(path)
    return _decode_master_key(path.read_text(encoding="ascii"), str(path))


def _create_master_key_file(path: Path) -> None:
    directory = path.parent
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask
    encoded = base64.b64encode(os.urandom(MASTER_KEY_BYTES)) + b"\n"
    temporary = directory / f".master.key.{os.getpid()}.{threading.get_ident()}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.write(descriptor, encoded)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        # link() fails if the name exists, unlike rename(): if another process created
        # the key first we must use theirs, never replace a key that may already wrap data.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not every platform can open a directory
        directory_descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(directory_descriptor)
        finally:
            os.close(directory_descriptor)


def build_sealer(settings: InternalSettings, store: SubjectKeyStore) -> Sealer:
    """A sealer whose new keys use the configured cipher (existing keys keep theirs)."""
    algorithm = SealingAlgorithm(settings.sealing_algorithm.value)
    return Sealer(store, load_master_key(settings), algorithm)
