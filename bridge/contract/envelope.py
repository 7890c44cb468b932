"""Envelopes and signed batches: how public events travel across the one-way boundary
(DESIGN.md decisions 5 and 6).

Each envelope has a dense sequence number, the internal position it came from, and the hash of
the previous envelope, so a missing, reordered or altered envelope breaks the chain. A batch of
envelopes is signed with Ed25519 by the internal side; the public side holds only the
verification key. The hash function is SHA-256, or SM3 (GB/T 32905) where required.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bridge.contract.events import ContractViolation, validate

FORMAT = "firegov-batch/1"
GENESIS = "0" * 64  # the "previous hash" of envelope 1
HASHES = {"sha256": hashes.SHA256, "sm3": hashes.SM3}


class BatchRefused(ValueError):
    """A batch that must not be applied; ``reason`` is a stable code for status and metrics."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def canonical(value: Any) -> bytes:
    """One byte string per value: sorted keys, no whitespace, UTF-8."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def digest(alg: str, data: bytes) -> str:
    if alg not in HASHES:
        raise BatchRefused("unknown_hash", f"hash function {alg!r} is not allowed")
    hasher = hashes.Hash(HASHES[alg]())
    hasher.update(data)
    return hasher.finalize().hex()


@dataclass(frozen=True)
class Envelope:
    seq: int
    position: int  # the internal notification id the event came from
    type: str
    payload: dict[str, Any]
    prev: str
    hash: str

    def body(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "position": self.position,
            "type": self.type,
            "payload": self.payload,
            "prev": self.prev,
        }

    @classmethod
    def seal(
        cls, alg: str, seq: int, position: int, event_type: str, payload: dict[str, Any], prev: str
    ) -> Envelope:
        body = {"seq": seq, "position": position, "type": event_type, "payload": payload}
        body["prev"] = prev
        return cls(seq, position, event_type, payload, prev, digest(alg, canonical(body)))


@dataclass(frozen=True)
class Batch:
    key_id: str
    hash_alg: str
    envelopes: tuple[Envelope, ...]

    @property
    def first_seq(self) -> int:
        return self.envelopes[0].seq

    @property
    def last_seq(self) -> int:
        return self.envelopes[-1].seq

    def unsigned(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "key_id": self.key_id,
            "hash_alg": self.hash_alg,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "envelopes": [{**e.body(), "hash": e.hash} for e in self.envelopes],
        }

    def sign(self, key: Ed25519PrivateKey) -> bytes:
        unsigned = self.unsigned()
        signature = key.sign(canonical(unsigned))
        return canonical({**unsigned, "signature": base64.b64encode(signature).decode()})


def key_id(public_key: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return digest("sha256", raw)[:16]


def open_batch(
    data: bytes, public_key: Ed25519PublicKey, hash_alg: str, prev: str, next_seq: int
) -> Batch:
    """Verify a batch: signature, format, hash function, envelope hashes, the chain from
    ``prev`` and, for the first envelope, the sequence number; raises BatchRefused."""
    try:
        document = orjson.loads(data)
        signature = base64.b64decode(document.pop("signature"), validate=True)
    except (orjson.JSONDecodeError, KeyError, ValueError, TypeError, AttributeError) as error:
        raise BatchRefused("malformed", str(error)) from None
    try:
        public_key.verify(signature, canonical(document))
    except InvalidSignature:
        raise BatchRefused("bad_signature", "the batch is not signed by the internal key") from None
    if document.get("format") != FORMAT or document.get("hash_alg") != hash_alg:
        raise BatchRefused("wrong_format", f"{document.get('format')}/{document.get('hash_alg')}")
    envelopes = []
    expected_prev, expected_seq = prev, next_seq
    for raw in document["envelopes"]:
        envelope = Envelope(
            raw["seq"], raw["position"], raw["type"], raw["payload"], raw["prev"], raw["hash"]
        )
        if envelope.seq != expected_seq:
            raise BatchRefused("gap", f"expected seq {expected_seq}, got {envelope.seq}")
        if envelope.prev != expected_prev:
            raise BatchRefused(
                "broken_chain", f"seq {envelope.seq} does not link to seq {expected_seq - 1}"
            )
        if digest(hash_alg, canonical(envelope.body())) != envelope.hash:
            raise BatchRefused("bad_hash", f"seq {envelope.seq} was altered")
        try:
            validate(envelope.type, envelope.payload)
        except ContractViolation as error:
            raise BatchRefused("contract_violation", str(error)) from None
        envelopes.append(envelope)
        expected_prev, expected_seq = envelope.hash, envelope.seq + 1
    if (
        not envelopes
        or document["first_seq"] != next_seq
        or document["last_seq"] != expected_seq - 1
    ):
        raise BatchRefused("malformed", "batch bounds do not match its envelopes")
    return Batch(document["key_id"], hash_alg, tuple(envelopes))


def load_verify_key(pem: bytes) -> Ed25519PublicKey:
    """The public side's only key: it can check signatures, never make them."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    key = load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the bridge verification key must be an Ed25519 public key")
    return key
