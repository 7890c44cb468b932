"""Personal data is sealed per person (DESIGN.md decision 8: crypto-shredding).

Natural persons' names, phone numbers, ID numbers and home addresses travel in events
only as *sealed values*: encrypted with a data key that belongs to that one person. The
data keys live in their own store, wrapped by the master key. Erasing a person's key
makes every event and every view that still holds one of their sealed values show it as
erased, without rewriting the (immutable) event history.

A sealed value is a self-describing string, so projections can store it as it is and open
it later::

    sealed:v1:<subject_id>:<algorithm>:<base64url(nonce || ciphertext || tag), no padding>

The subject id and the algorithm are authenticated (GCM additional data), so a sealed value
cannot be moved to another person or reinterpreted under another cipher. Files (a person's
uploaded documents, domain.documents) are sealed the same way as bytes (``seal_bytes``).

This module imports only the standard library and ``cryptography``; deployment maps its
settings onto :class:`SealingAlgorithm` and supplies a durable :class:`SubjectKeyStore`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from domain.errors import DomainError, InvalidInput
from domain.subject_keys import (
    InMemorySubjectKeyStore,
    SealingAlgorithm,
    StoredKey,
    SubjectKeyStore,
    require_aware,
)

__all__ = [  # the key names are re-exported: callers import them from here as before
    "ERASED",
    "InMemorySubjectKeyStore",
    "KeyUnwrapError",
    "SealedValueInvalid",
    "Sealer",
    "SealingAlgorithm",
    "StoredKey",
    "SubjectErased",
    "SubjectKeyStore",
    "is_sealed",
    "subject_of",
]

ERASED = "〔已删除 erased〕"
SEALED_PREFIX = "sealed:v1:"

MASTER_KEY_BYTES = 32
NONCE_BYTES = 12  # the GCM standard nonce: random 96 bits per value
TAG_BYTES = 16

# Subject ids are embedded in a colon-separated string and used as AAD: keep them to a
# plain alphabet so a value can never be parsed two ways.
_SUBJECT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}")
_BASE64URL = re.compile(r"[A-Za-z0-9_\-]+")
# Domain separation: the master key wraps data keys directly (AES-256-GCM, AAD = subject
# id); pseudonymous subject ids use a key *derived* from it, so a subject id never acts
# as an oracle on the wrapping key.
_SUBJECT_ID_KEY_INFO = b"firegov/sealing/v1/subject-id"


_DATA_KEY_BYTES: dict[SealingAlgorithm, int] = {
    SealingAlgorithm.AES_GCM: 32,
    SealingAlgorithm.SM4_GCM: 16,
}


class SealedValueInvalid(InvalidInput):
    """A sealed value that is malformed or fails authentication (tampered, moved, truncated)."""

    code = "sealed_value_invalid"


class SubjectErased(DomainError):
    """New personal data for a person whose key was erased is refused, never re-keyed."""

    code = "subject_erased"


class KeyUnwrapError(RuntimeError):
    """A stored data key cannot be unwrapped: the master key is wrong or the key store damaged.

    Not a :class:`DomainError`: nothing the caller sent is wrong, the installation is.
    """


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(SEALED_PREFIX)


@dataclass(frozen=True)
class _Parsed:
    subject_id: str
    algorithm: SealingAlgorithm
    payload: bytes  # nonce || ciphertext || tag


def _invalid(reason_zh: str, reason_en: str) -> SealedValueInvalid:
    return SealedValueInvalid(
        f"加密个人信息无效：{reason_zh}", f"invalid sealed value: {reason_en}"
    )


def _parse(sealed: str) -> _Parsed:
    if not is_sealed(sealed):
        raise _invalid("格式错误", "missing the sealed:v1: prefix")
    parts = sealed[len(SEALED_PREFIX) :].split(":")
    if len(parts) != 3:
        raise _invalid("格式错误", "expected subject:algorithm:payload")
    subject_id, algorithm_name, encoded = parts
    if not _SUBJECT_ID.fullmatch(subject_id):
        raise _invalid("主体标识错误", "malformed subject id")
    try:
        algorithm = SealingAlgorithm(algorithm_name)
    except ValueError:
        raise _invalid("算法未知", f"unknown algorithm {algorithm_name!r}") from None
    payload = _b64decode(encoded)
    if len(payload) < NONCE_BYTES + TAG_BYTES:
        raise _invalid("数据截断", "payload too short")
    return _Parsed(subject_id, algorithm, payload)


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(encoded: str) -> bytes:
    # The decoder silently drops foreign characters and ignores trailing bits; insist on
    # the one canonical spelling so a value has exactly one textual form.
    if not _BASE64URL.fullmatch(encoded):
        raise _invalid("编码错误", "payload is not base64url")
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        raise _invalid("编码错误", "payload is not base64url") from None
    if _b64encode(raw) != encoded:
        raise _invalid("编码错误", "payload is not canonical base64url")
    return raw


def subject_of(sealed: str) -> str:
    """The subject (pseudonymous person id) a sealed value belongs to."""
    return _parse(sealed).subject_id


def _check_subject_id(subject_id: str) -> None:
    if not _SUBJECT_ID.fullmatch(subject_id):
        raise ValueError(f"malformed subject id {subject_id!r}")


def _aad(subject_id: str, algorithm: SealingAlgorithm) -> bytes:
    return f"{subject_id}:{algorithm.value}".encode()


def _encrypt(algorithm: SealingAlgorithm, key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    if algorithm is SealingAlgorithm.AES_GCM:
        return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)
    # cryptography has no one-shot AEAD class for SM4; the GCM mode object is equivalent.
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    return nonce + ciphertext + encryptor.tag


def _decrypt(algorithm: SealingAlgorithm, key: bytes, payload: bytes, aad: bytes) -> bytes:
    """Raises InvalidTag if the payload or the AAD was changed."""
    nonce, body = payload[:NONCE_BYTES], payload[NONCE_BYTES:]
    if algorithm is SealingAlgorithm.AES_GCM:
        return AESGCM(key).decrypt(nonce, body, aad)
    ciphertext, tag = body[:-TAG_BYTES], body[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(aad)
    return decryptor.update(ciphertext) + decryptor.finalize()


class Sealer:
    """Seals and opens personal data with per-person keys from a :class:`SubjectKeyStore`.

    Unwrapped data keys are deliberately not cached: every seal and open reads the store,
    so an erasure done by any process stops every other process from opening at once.
    """

    def __init__(
        self,
        store: SubjectKeyStore,
        master_key: bytes,
        algorithm: SealingAlgorithm = SealingAlgorithm.AES_GCM,
    ) -> None:
        if len(master_key) != MASTER_KEY_BYTES:
            raise ValueError(f"the master key must be {MASTER_KEY_BYTES} bytes")
        self._store = store
        self._wrapping = AESGCM(master_key)
        self._algorithm = algorithm
        self._subject_id_key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=_SUBJECT_ID_KEY_INFO
        ).derive(master_key)

    @property
    def algorithm(self) -> SealingAlgorithm:
        """The cipher for *new* data keys; existing keys keep the one they were made with."""
        return self._algorithm

    def subject_for(self, kind: str, natural_key: str) -> str:
        """The same person (same kind and normalised natural key) always gets the same id.

        Keyed with a secret derived from the master key, so the id reveals nothing and
        cannot be recomputed from a phone number without the key.
        """
        if not kind or ":" in kind:
            # "a:b" + "c" and "a" + "b:c" must not collide.
            raise ValueError(f"malformed subject kind {kind!r}")
        if not natural_key:
            raise ValueError("the natural key is empty")
        digest = hmac.new(
            self._subject_id_key, f"{kind}:{natural_key}".encode(), hashlib.sha256
        ).hexdigest()
        return "ps-" + digest[:32]

    def new_subject(self) -> str:
        """A fresh subject for a person without a natural key."""
        return "ps-" + secrets.token_hex(16)

    def seal(self, subject_id: str, plaintext: str) -> str:
        return self.seal_many(subject_id, plaintext)[0]

    def seal_many(self, subject_id: str, *plaintexts: str) -> list[str]:
        """Seal several values of one person with one look-up of their key."""
        algorithm, key = self._live_key(subject_id)
        aad = _aad(subject_id, algorithm)
        return [
            f"{SEALED_PREFIX}{subject_id}:{algorithm.value}:"
            + _b64encode(_encrypt(algorithm, key, plaintext.encode(), aad))
            for plaintext in plaintexts
        ]

    def open(self, sealed: str) -> str:
        """The plaintext, or :data:`ERASED` if the person's key was erased."""
        parsed = _parse(sealed)
        stored = self._store.get(parsed.subject_id)
        if stored is None:
            raise _invalid("没有该主体的密钥", "no key exists for this subject")
        if stored.erased:
            return ERASED
        if stored.algorithm is not parsed.algorithm:
            raise _invalid("算法不符", "algorithm does not match the subject's key")
        key = self._unwrap(stored)
        try:
            plaintext = _decrypt(
                parsed.algorithm,
                key,
                parsed.payload,
                _aad(parsed.subject_id, parsed.algorithm),
            )
        except InvalidTag:
            raise _invalid("校验失败", "authentication failed (tampered or moved)") from None
        try:
            return plaintext.decode()
        except UnicodeDecodeError:  # authenticated, so only a bug on the sealing side
            raise _invalid("内容不是文本", "plaintext is not UTF-8") from None

    def seal_bytes(self, subject_id: str, data: bytes, context: str) -> bytes:
        """``data`` (a document) sealed under the subject's key: ``<algorithm>\\n`` then nonce,
        ciphertext and tag. ``context`` (what the bytes are, e.g. their content hash) is
        authenticated with the subject, so a sealed file moved to another name or person fails.
        """
        algorithm, key = self._live_key(subject_id)
        aad = _aad(subject_id, algorithm) + b":" + context.encode()
        return algorithm.value.encode() + b"\n" + _encrypt(algorithm, key, data, aad)

    def open_bytes(self, subject_id: str, sealed: bytes, context: str) -> bytes | None:
        """What :meth:`seal_bytes` sealed, or None if the subject's key was erased."""
        _check_subject_id(subject_id)
        name, _, payload = sealed.partition(b"\n")
        stored = self._store.get(subject_id)
        if stored is None:
            raise _invalid("没有该主体的密钥", "no key exists for this subject")
        if stored.erased:
            return None
        if name != stored.algorithm.value.encode() or len(payload) < NONCE_BYTES + TAG_BYTES:
            raise _invalid("格式或算法不符", "malformed, or not the subject's algorithm")
        aad = _aad(subject_id, stored.algorithm) + b":" + context.encode()
        try:
            return _decrypt(stored.algorithm, self._unwrap(stored), payload, aad)
        except InvalidTag:
            raise _invalid("校验失败", "authentication failed (tampered or moved)") from None

    def open_or_none(self, value: str | None) -> str | None:
        """Opens sealed values; passes None and plain (never-sealed) values through."""
        if value is None or not is_sealed(value):
            return value
        return self.open(value)

    def erase(self, subject_id: str, erased_at: datetime) -> bool:
        require_aware(erased_at)
        return self._store.erase(subject_id, erased_at)

    def knows(self, subject_id: str) -> bool:
        """True if the store holds the subject's key or the tombstone of its erasure."""
        return self._store.get(subject_id) is not None

    def is_erased(self, subject_id: str) -> bool:
        stored = self._store.get(subject_id)
        return stored is not None and stored.erased

    def _live_key(self, subject_id: str) -> tuple[SealingAlgorithm, bytes]:
        """The subject's cipher and data key (made on first use); refused once erased."""
        _check_subject_id(subject_id)
        stored = self._store.get(subject_id) or self._create_key(subject_id)
        if stored.erased:
            raise SubjectErased(
                "该人员的个人信息已被删除，不能再登记新的个人信息",
                "this person's data was erased; new personal data for them is refused",
                subject_id=subject_id,
            )
        # The key's own cipher, even if the settings changed since it was made.
        return stored.algorithm, self._unwrap(stored)

    def _create_key(self, subject_id: str) -> StoredKey:
        data_key = os.urandom(_DATA_KEY_BYTES[self._algorithm])
        nonce = os.urandom(NONCE_BYTES)
        wrapped = nonce + self._wrapping.encrypt(nonce, data_key, subject_id.encode())
        # A concurrent sealer may have won the race: use whatever the store kept.
        return self._store.add(StoredKey(subject_id, self._algorithm, wrapped, None))

    def _unwrap(self, stored: StoredKey) -> bytes:
        wrapped = stored.wrapped_key
        if wrapped is None:  # callers handle tombstones first; this is a bug guard
            raise RuntimeError(f"subject {stored.subject_id} is erased")
        nonce, body = wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:]
        try:
            key = self._wrapping.decrypt(nonce, body, stored.subject_id.encode())
        except InvalidTag:
            raise KeyUnwrapError(
                f"the data key of subject {stored.subject_id} cannot be unwrapped: "
                "wrong master key (FIREGOV_MASTER_KEY) or damaged key store"
            ) from None
        if len(key) != _DATA_KEY_BYTES[stored.algorithm]:
            raise KeyUnwrapError(
                f"the data key of subject {stored.subject_id} has the wrong length"
            )
        return key
