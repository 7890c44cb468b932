"""Short-lived server-side records of the portal's forms: the draft of a filing or booking
between its steps (with the files uploaded so far), the one-time hand-over of a receipt number
and query code to the confirmation page, and the grant that lets a tracking page be reloaded
after the query code was checked.

The browser holds only an opaque cookie: a random id and a random key. The store keeps, under
a hash of the id, the record sealed with that key (AES-GCM), so what a person typed (a contact's
name and phone) is never in a URL, never at rest in the clear, and unreadable without the
cookie. Records expire (``ttl``); expired ones are never read, and are deleted at the first
write after each minute, whoever writes. Nothing here reaches the intake: a draft is submitted
only by PublicIntake.submit, like an API submission.

Anyone on the internet can start a draft, so what drafts may hold is bounded (DraftLimits): the
files of one draft never more than one submission may carry, the files held at once for one
client address, and the files of all drafts together. A file beyond a budget is refused and
not kept; the budgets count the files' own bytes (stored base64-encoded, about a third more).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from api_public.pages_budgets import DraftLimits, DraftsFull, Overflow, held_by
from projections.store import Tx, ViewStore

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS portal_drafts (
        id_hash TEXT PRIMARY KEY, purpose TEXT NOT NULL, sealed TEXT NOT NULL,
        expires_at BIGINT NOT NULL)""",
    # size: the file's own bytes; client: held_by() of the client key that uploaded it.
    """CREATE TABLE IF NOT EXISTS portal_draft_files (
        id_hash TEXT NOT NULL, item TEXT NOT NULL, sealed TEXT NOT NULL,
        size BIGINT NOT NULL, client TEXT NOT NULL, PRIMARY KEY (id_hash, item))""",
    "CREATE INDEX IF NOT EXISTS portal_drafts_expiry ON portal_drafts (expires_at)",
    "CREATE INDEX IF NOT EXISTS portal_draft_files_client ON portal_draft_files (client)",
)
PURGE_EVERY = 60  # seconds between two purges of expired records
# One writer of files at a time on PostgreSQL, so that two uploads cannot both fit a budget
# that only one of them fits (SQLite has a single writer anyway).
FILES_LOCK = 0x6669726567  # "fireg"
HELD = (
    "SELECT COALESCE(SUM(f.size), 0) AS n FROM portal_draft_files f"
    " JOIN portal_drafts d ON d.id_hash = f.id_hash WHERE d.expires_at > ?"
)


@dataclass(frozen=True)
class Handle:
    """What the cookie holds: the record's id and the key that opens it."""

    id: str
    key: bytes

    @property
    def cookie(self) -> str:
        return f"{self.id}.{base64.urlsafe_b64encode(self.key).decode().rstrip('=')}"

    @property
    def id_hash(self) -> str:
        return hashlib.sha256(b"firegov-portal-draft:" + self.id.encode()).hexdigest()

    @classmethod
    def parse(cls, value: str | None) -> Handle | None:
        if not value or value.count(".") != 1 or len(value) > 100:
            return None
        ident, key = value.split(".")
        try:
            raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
        except (binascii.Error, ValueError):
            return None
        return cls(ident, raw) if len(raw) == 32 and ident.isalnum() else None


def _seal(handle: Handle, aad: str, data: bytes) -> str:
    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(handle.key).encrypt(nonce, data, aad.encode())).decode()


def _open(handle: Handle, aad: str, sealed: str) -> bytes | None:
    try:
        raw = base64.b64decode(sealed)
        return AESGCM(handle.key).decrypt(raw[:12], raw[12:], aad.encode())
    except (InvalidTag, ValueError, binascii.Error):
        return None


class PortalDrafts:
    def __init__(self, store: ViewStore, clock: Callable[[], datetime]) -> None:
        self.store, self.clock = store, clock
        self._purged_at: int | None = None
        with store.transaction() as tx:
            if "client" not in self._columns(tx, "portal_draft_files"):
                # Files kept before the budgets carry no size: they belong to drafts of at
                # most two hours, which start again.
                tx.execute("DROP TABLE IF EXISTS portal_draft_files")
            for statement in SCHEMA:
                tx.execute(statement)

    def _columns(self, tx: Tx, table: str) -> set[str]:
        if self.store.dialect == "postgres":
            rows = tx.fetchall(
                "SELECT column_name AS name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = ?",
                [table],
            )
        else:
            rows = tx.fetchall(f"PRAGMA table_info({table})")
        return {row["name"] for row in rows}

    def _now(self) -> int:
        return int(self.clock().timestamp())

    def new(self, purpose: str, data: dict[str, Any], ttl_seconds: int) -> Handle:
        handle = Handle(secrets.token_hex(16), os.urandom(32))
        self.save(handle, purpose, data, ttl_seconds)
        return handle

    def save(self, handle: Handle, purpose: str, data: dict[str, Any], ttl_seconds: int) -> None:
        """Store ``data`` under ``handle`` (replacing what was there), for ``ttl_seconds``."""
        sealed = _seal(handle, f"{purpose}:{handle.id_hash}", orjson.dumps(data))
        now = self._now()
        with self.store.transaction() as tx:
            self._purge_now_and_then(tx, now)
            tx.execute(
                "INSERT INTO portal_drafts (id_hash, purpose, sealed, expires_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (id_hash) DO UPDATE SET"
                " purpose = excluded.purpose, sealed = excluded.sealed,"
                " expires_at = excluded.expires_at",
                [handle.id_hash, purpose, sealed, now + ttl_seconds],
            )

    def load(self, handle: Handle | None, purpose: str) -> dict[str, Any] | None:
        """The record, or None when there is none, it expired, or the key does not open it."""
        if handle is None:
            return None
        with self.store.reading() as tx:
            row = tx.fetchone(
                "SELECT sealed FROM portal_drafts WHERE id_hash = ? AND purpose = ?"
                " AND expires_at > ?",
                [handle.id_hash, purpose, self._now()],
            )
        return self._decode(handle, purpose, row)

    def take(self, handle: Handle | None, purpose: str) -> dict[str, Any] | None:
        """The record, removed in the same step: whoever asks second gets None (shown once)."""
        if handle is None:
            return None
        with self.store.transaction() as tx:
            row = tx.fetchone(
                "DELETE FROM portal_drafts WHERE id_hash = ? AND purpose = ? AND expires_at > ?"
                " RETURNING sealed",
                [handle.id_hash, purpose, self._now()],
            )
            tx.execute("DELETE FROM portal_draft_files WHERE id_hash = ?", [handle.id_hash])
        return self._decode(handle, purpose, row)

    def _decode(
        self, handle: Handle, purpose: str, row: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        if row is None:
            return None
        opened = _open(handle, f"{purpose}:{handle.id_hash}", row["sealed"])
        found: dict[str, Any] | None = orjson.loads(opened) if opened is not None else None
        return found

    def delete(self, handle: Handle | None) -> None:
        if handle is None:
            return
        with self.store.transaction() as tx:
            tx.execute("DELETE FROM portal_drafts WHERE id_hash = ?", [handle.id_hash])
            tx.execute("DELETE FROM portal_draft_files WHERE id_hash = ?", [handle.id_hash])

    def put_files(
        self,
        handle: Handle,
        client: str,
        files: dict[str, bytes],
        per_draft: int,
        limits: DraftLimits,
    ) -> dict[str, Overflow]:
        """Keep ``files`` (checklist item -> content) with the draft, each replacing the file
        kept for its item, in order and each only if it fits: the draft's files together
        within ``per_draft`` (what one submission may carry), and the files held for the
        ``client`` key (projections.client_address) within its budget. The ones refused are
        returned and not kept. DraftsFull, with nothing kept, when a file would take all
        drafts over their budget."""
        sealed = {i: _seal(handle, f"file:{i}:{handle.id_hash}", c) for i, c in files.items()}
        who, now = held_by(client), self._now()
        refused: dict[str, Overflow] = {}
        with self.store.transaction() as tx:
            if self.store.dialect == "postgres":
                tx.fetchone("SELECT pg_advisory_xact_lock(?)", [FILES_LOCK])
            self._purge_now_and_then(tx, now)
            held = {
                row["item"]: row
                for row in tx.fetchall(
                    "SELECT item, size, client FROM portal_draft_files WHERE id_hash = ?",
                    [handle.id_hash],
                )
            }
            in_draft = sum(int(row["size"]) for row in held.values())
            of_client, in_all = self._held(tx, now, who), self._held(tx, now)
            for item, content in files.items():
                old = held.get(item)
                freed = int(old["size"]) if old else 0
                freed_of_client = freed if old and old["client"] == who else 0
                size = len(content)
                if in_draft - freed + size > per_draft:
                    refused[item] = Overflow.DRAFT
                    continue
                if of_client - freed_of_client + size > limits.bytes_per_client:
                    refused[item] = Overflow.CLIENT
                    continue
                if in_all - freed + size > limits.bytes_total:
                    raise DraftsFull  # the transaction is rolled back: nothing is kept
                in_draft, in_all = in_draft - freed + size, in_all - freed + size
                of_client = of_client - freed_of_client + size
                held[item] = {"size": size, "client": who}
                tx.execute(
                    "INSERT INTO portal_draft_files (id_hash, item, sealed, size, client)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id_hash, item) DO UPDATE SET"
                    " sealed = excluded.sealed, size = excluded.size, client = excluded.client",
                    [handle.id_hash, item, sealed[item], size, who],
                )
        return refused

    @staticmethod
    def _held(tx: Tx, now: int, client: str | None = None) -> int:
        """Bytes of the files of unexpired drafts: of one client, or of all."""
        if client is None:
            row = tx.fetchone(HELD, [now])
        else:
            row = tx.fetchone(HELD + " AND f.client = ?", [now, client])
        return int(row["n"]) if row else 0

    def file(self, handle: Handle, item: str) -> bytes | None:
        with self.store.reading() as tx:
            row = tx.fetchone(
                "SELECT sealed FROM portal_draft_files WHERE id_hash = ? AND item = ?",
                [handle.id_hash, item],
            )
        return _open(handle, f"file:{item}:{handle.id_hash}", row["sealed"]) if row else None

    def drop_file(self, handle: Handle, item: str) -> None:
        with self.store.transaction() as tx:
            tx.execute(
                "DELETE FROM portal_draft_files WHERE id_hash = ? AND item = ?",
                [handle.id_hash, item],
            )

    def purge(self) -> int:
        """Delete the expired records and their files now; how many records went."""
        now = self._now()
        with self.store.transaction() as tx:
            return self._purge(tx, now)

    def _purge_now_and_then(self, tx: Tx, now: int) -> None:
        """Purge at a write at most once a minute (per process): a purge after every write
        would scan the table for each step anyone takes."""
        if self._purged_at is not None and self._purged_at <= now < self._purged_at + PURGE_EVERY:
            return
        self._purge(tx, now)
        self._purged_at = now

    @staticmethod
    def _purge(tx: Tx, now: int) -> int:
        gone = tx.execute("DELETE FROM portal_drafts WHERE expires_at <= ?", [now])
        # Also the files of a draft deleted while they were being kept (another tab's reset).
        tx.execute(
            "DELETE FROM portal_draft_files WHERE NOT EXISTS (SELECT 1 FROM portal_drafts d"
            " WHERE d.id_hash = portal_draft_files.id_hash)"
        )
        return gone
