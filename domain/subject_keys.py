"""Per-person data keys as they are kept (DESIGN.md decision 8): the cipher a key was made
for, a key wrapped by the master key or the tombstone of its erasure, and the store protocol
that deployment implements durably (deployment.keystore). An in-memory store serves unit tests.

Split from ``domain.sealing`` (which re-exports these names): the keys and where they live
here, what is done with them there.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class SealingAlgorithm(StrEnum):
    AES_GCM = "aes-256-gcm"
    SM4_GCM = "sm4-gcm"  # GM/T 0002, for deployments that must use the national ciphers


@dataclass(frozen=True)
class StoredKey:
    """One person's data key as the key store holds it: wrapped, or erased (a tombstone)."""

    subject_id: str
    algorithm: SealingAlgorithm
    wrapped_key: bytes | None
    erased_at: datetime | None

    def __post_init__(self) -> None:
        # Exactly one of the two: a live key has bytes, a tombstone has only its date.
        if (self.wrapped_key is None) == (self.erased_at is None):
            raise ValueError("a stored key has either wrapped_key or erased_at, not both")
        if self.erased_at is not None and self.erased_at.tzinfo is None:
            raise ValueError("erased_at must be timezone-aware")

    @property
    def erased(self) -> bool:
        return self.erased_at is not None


class SubjectKeyStore(Protocol):
    def get(self, subject_id: str) -> StoredKey | None:
        """The subject's key or tombstone; None if no key was ever created."""
        ...

    def add(self, key: StoredKey) -> StoredKey:
        """Insert if absent and return what is stored (another writer's key if it raced)."""
        ...

    def erase(self, subject_id: str, erased_at: datetime) -> bool:
        """Destroy the wrapped key, keep a tombstone; False if already erased or unknown."""
        ...


class InMemorySubjectKeyStore:
    """A key store in a dict, for unit tests and the in-memory application."""

    def __init__(self) -> None:
        self._keys: dict[str, StoredKey] = {}
        self._lock = threading.Lock()

    def get(self, subject_id: str) -> StoredKey | None:
        with self._lock:
            return self._keys.get(subject_id)

    def add(self, key: StoredKey) -> StoredKey:
        with self._lock:
            return self._keys.setdefault(key.subject_id, key)

    def erase(self, subject_id: str, erased_at: datetime) -> bool:
        require_aware(erased_at)
        with self._lock:
            current = self._keys.get(subject_id)
            if current is None or current.erased:
                return False
            self._keys[subject_id] = StoredKey(subject_id, current.algorithm, None, erased_at)
            return True


def require_aware(moment: datetime) -> None:
    if moment.tzinfo is None:
        raise ValueError("erased_at must be timezone-aware")
