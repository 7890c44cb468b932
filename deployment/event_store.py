"""The embedded event store hands out every notification id once (issue 16).

eventsourcing 9.5.6's SQLite recorder numbers notifications by the table's rowid. Without
AUTOINCREMENT SQLite gives a new row ``max(rowid) + 1``: were the last row ever deleted, its id
would go to the next event, and every follower already past it would skip that event for ever.
This recorder declares the rowid ``INTEGER PRIMARY KEY AUTOINCREMENT``, so SQLite never hands
out an id again, not even a deleted row's (it keeps the largest in ``sqlite_sequence``).

The column is named ``rowid`` on purpose: the recorder reads ``SELECT rowid, * ...`` and
``MAX(rowid)``, and SQLite names a column that aliases the rowid by its declared name, so with
any other name those reads would no longer find a ``rowid`` column. The recorder is chosen by
eventsourcing's own ``APPLICATION_RECORDER_TOPIC`` setting (deployment.bootstrap).

A store made before (without AUTOINCREMENT) is migrated once, when a process opens it: the rows
are copied with their ids into the new table in one transaction, so every id stays what it was.
A last row deleted before the migration cannot be known any more; the followers' own check
(projections.log_guard) stops them if the log no longer holds what they passed.

PostgreSQL needs none of this: its notification ids come from a sequence, which never goes back.
"""

from __future__ import annotations

import structlog
from eventsourcing.persistence import OperationalError
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

log = structlog.get_logger()
TOPIC = "deployment.event_store:SqliteEventRecorder"


class SqliteEventRecorder(SQLiteApplicationRecorder):
    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name)
        # Named columns: the table has one more than the four values an event gives.
        self.insert_events_statement = (
            f"INSERT INTO {events_table_name}"  # noqa: S608 - the recorder's own table name
            " (originator_id, originator_version, topic, state) VALUES (?,?,?,?)"
        )

    def construct_create_table_statements(self) -> list[str]:
        return [self._table(self.events_table_name)]

    @staticmethod
    def _table(name: str) -> str:
        return (
            f"CREATE TABLE IF NOT EXISTS {name} ("
            "rowid INTEGER PRIMARY KEY AUTOINCREMENT, "
            "originator_id TEXT NOT NULL, "
            "originator_version INTEGER NOT NULL, "
            "topic TEXT, "
            "state BLOB, "
            "UNIQUE (originator_id, originator_version))"
        )

    def create_table(self) -> None:
        try:
            super().create_table()
        except OperationalError:
            # Another process migrated meanwhile, which made this transaction's view stale:
            # look again (the table is now the new one, and nothing is left to do).
            super().create_table()

    def _create_table(self, c: SQLiteCursor) -> None:
        c.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
            [self.events_table_name],
        )
        found = c.fetchone()
        if found is not None and "AUTOINCREMENT" not in str(found[0]).upper():
            self._migrate(c)
        super()._create_table(c)

    def _migrate(self, c: SQLiteCursor) -> None:
        """Copy every row with its id into a table with AUTOINCREMENT (one transaction)."""
        old = self.events_table_name
        new = f"{old}_autoincrement"
        c.execute(f"DROP TABLE IF EXISTS {new}")
        c.execute(self._table(new))
        columns = "rowid, originator_id, originator_version, topic, state"
        c.execute(f"INSERT INTO {new} ({columns}) SELECT {columns} FROM {old} ORDER BY rowid")  # noqa: S608 - fixed names
        c.execute(f"SELECT COUNT(*), MAX(rowid) FROM {new}")  # noqa: S608 - fixed names
        rows, newest = c.fetchone()
        c.execute(f"DROP TABLE {old}")
        c.execute(f"ALTER TABLE {new} RENAME TO {old}")
        log.warning("event_store_migrated_to_autoincrement", events=rows, newest_id=newest)
