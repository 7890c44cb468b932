"""A small SQL store for the internal read models, on SQLite (embedded) or PostgreSQL.

Every projection keeps its tracking position in ``view_tracking`` and moves it in the same
transaction as its rows (DESIGN.md "Read side"); a compare-and-set on the position makes two
projectors racing over the same batch apply it once.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from psycopg_pool import ConnectionPool


class Tx(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...
    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]: ...
    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None: ...


class ViewStore(Protocol):
    dialect: str

    @contextmanager
    def transaction(self) -> Iterator[Tx]: ...  # pragma: no cover - protocol

    @contextmanager
    def reading(self) -> Iterator[Tx]: ...  # pragma: no cover - protocol

    def close(self) -> None: ...


class _SqliteTx:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self.connection.execute(sql, tuple(params)).rowcount

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cursor = self.connection.execute(sql, tuple(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self.fetchall(sql, params)
        return rows[0] if rows else None


class SqliteViewStore:
    dialect = "sqlite"

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._lock = threading.Lock()  # SQLite has one writer; queue writers here, not in retries
        self._memory: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self.path == ":memory:":
            if self._memory is None:
                self._memory = sqlite3.connect(":memory:", check_same_thread=False)
            return self._memory
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            self._local.connection = connection
        return connection

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self._lock:
            connection = self._connection()
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteTx(connection)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[Tx]:
        """A read-only snapshot: in WAL mode readers neither wait for nor block the writer."""
        if self.path == ":memory:":
            with self.transaction() as tx:
                yield tx
            return
        connection = self._connection()
        connection.execute("BEGIN")
        try:
            yield _SqliteTx(connection)
        finally:
            connection.execute("ROLLBACK")

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None


class _PostgresTx:
    def __init__(self, connection: Any) -> None:
        self.connection = connection

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = self.connection.execute(self._sql(sql), tuple(params))
        return int(cursor.rowcount)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cursor = self.connection.execute(self._sql(sql), tuple(params))
        names = [d.name for d in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self.fetchall(sql, params)
        return rows[0] if rows else None


class PostgresViewStore:
    dialect = "postgres"

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool  # owned by the caller, who also closes it

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self.pool.connection() as connection, connection.transaction():
            yield _PostgresTx(connection)

    reading = transaction

    def close(self) -> None:
        pass  # the pool belongs to the composition root
