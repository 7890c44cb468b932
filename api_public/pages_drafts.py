"""Short-lived server-side records of the portal's forms: the draft of a filing or booking
between its steps (with the files uploaded so far), the one-time hand-over of a receipt number
and query code to the confirmation page, and the grant that lets a tracking page be reloaded
after the query code was checked.

The browser holds only an opaque cookie: a random id and a random key. The store keeps, under
a hash of the id, the record sealed with that key (AES-GCM), so what a person typed (a contact's
name and phone) is never in a URL, never at rest in the clear, and unreadable without the
cookie. Records expire (``ttl``) and expired ones are purged on each write. Nothing here
reaches the intake: a draft is submitted only by PublicIntake.submit, like an API submission.
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

from projections.store import Tx, ViewStore

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS portal_drafts (
        id_hash TEXT PRIMARY KEY, purpose TEXT NOT NULL, sealed TEXT NOT NULL,
        expires_at BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS portal_draft_files (
        id_hash TEXT NOT NULL, item TEXT NOT NULL, sealed TEXT NOT NULL,
        PRIMARY KEY (id_hash, item))""",
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
        with store.transaction() as tx:
            for statement in SCHEMA:
                tx.execute(statement)

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
            self._purge(tx, now)
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

    def put_file(self, handle: Handle, item: str, content: bytes) -> None:
        sealed = _seal(handle, f"file:{item}:{handle.id_hash}", content)
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO portal_draft_files (id_hash, item, sealed) VALUES (?, ?, ?)"
                " ON CONFLICT (id_hash, item) DO UPDATE SET sealed = excluded.sealed",
                [handle.id_hash, item, sealed],
            )

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

    @staticmethod
    def _purge(tx: Tx, now: int) -> None:
        tx.execute(
            "DELETE FROM portal_draft_files WHERE id_hash IN"
            " (SELECT id_hash FROM portal_drafts WHERE expires_at <= ?)",
            [now],
        )
        tx.execute("DELETE FROM portal_drafts WHERE expires_at <= ?", [now])
