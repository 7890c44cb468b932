"""Envelopes and signed batches: how public events travel across the one-way boundary
(DESIGN.md decisions 5 and 6).

Each envelope has a dense sequence number, the internal position it came from, and the hash of
the previous envelope, so a missing, reordered or altered envelope breaks the chain. A batch of
envelopes is signed with Ed25519 by the internal side; the public side holds only the
verification key. The hash function is SHA-256, or SM3 (GB/T 32905) where required.

The bytes are the canonical JSON of each part (sorted keys, no whitespace). Both sides avoid
serialising a payload more than once: the outbound builds a batch from the bytes each envelope
was hashed over, and the receiver checks the signature on the signed bytes as they arrived.
Either way the bytes are exactly those of ``canonical`` (tests/unit/test_envelope_bytes.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bridge.contract.events import ContractViolation, validate

FORMAT = "firegov-batch/1"
GENESIS = "0" * 64  # the "previous hash" of envelope 1
HASHES = {"sha256": hashes.SHA256, "sm3": hashes.SM3}
# A signed batch ends with its signature: "signature" sorts after every other key of a batch.
SIGNATURE_KEY = b',"signature":"'
_SIGNATURE_TAIL = re.compile(rb',"signature":"([A-Za-z0-9+/]+={0,2})"\}')


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
    if alg == "sha256":  # the same digest as cryptography's, without its per-call set-up
        return hashlib.sha256(data).hexdigest()
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
    # canonical(self.body()) when sealed here: what the hash was computed over, kept so that
    # signing the batch does not serialise the payload again. Empty: computed when needed.
    encoded: bytes = field(default=b"", compare=False, repr=False)

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
        encoded = canonical(body)
        return cls(seq, position, event_type, payload, prev, digest(alg, encoded), encoded)

    def in_batch(self) -> bytes:
        """canonical({**self.body(), "hash": self.hash}): "hash" sorts before every key of the
        body, so it is the body's bytes with the hash put in front."""
        encoded = self.encoded or canonical(self.body())
        return b'{"hash":' + canonical(self.hash) + b"," + encoded[1:]


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

    def header(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "key_id": self.key_id,
            "hash_alg": self.hash_alg,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
        }

    def unsigned(self) -> dict[str, Any]:
        envelopes = [{**e.body(), "hash": e.hash} for e in self.envelopes]
        return {**self.header(), "envelopes": envelopes}

    def unsigned_bytes(self) -> bytes:
        """canonical(self.unsigned()), put together from each envelope's bytes: "envelopes"
        sorts before the batch's other keys."""
        envelopes = b",".join(envelope.in_batch() for envelope in self.envelopes)
        return b'{"envelopes":[' + envelopes + b"]," + canonical(self.header())[1:]

    def sign(self, key: Ed25519PrivateKey) -> bytes:
        """canonical({**self.unsigned(), "signature": ...}): "signature" sorts last."""
        unsigned = self.unsigned_bytes()
        signature = base64.b64encode(key.sign(unsigned))
        return unsigned[:-1] + SIGNATURE_KEY + signature + b'"}'


def key_id(public_key: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return digest("sha256", raw)[:16]


def open_batch(
    data: bytes, public_key: Ed25519PublicKey, hash_alg: str, prev: str, next_seq: int
) -> Batch:
    """Verify a batch: signature, format, hash function, envelope hashes, the chain from
    ``prev`` and, for the first envelope, the sequence number; raises BatchRefused."""
    document = _signed_as_sent(data, public_key)
    if document is None:
        document = _signed_as_parsed(data, public_key)
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


def _signed_as_sent(data: bytes, public_key: Ed25519PublicKey) -> dict[str, Any] | None:
    """The batch's document if ``data`` is a batch as ``Batch.sign`` writes it (the signed
    bytes, then the signature as the last key) and the signature holds for those bytes: the
    document is then parsed from exactly the bytes that were signed, with no need to serialise
    it again. None otherwise: ``_signed_as_parsed`` decides, and names the refusal."""
    cut = data.rfind(SIGNATURE_KEY)
    tail = _SIGNATURE_TAIL.fullmatch(data, cut) if cut > 0 else None
    if tail is None:
        return None
    signed = data[:cut] + b"}"
    try:
        public_key.verify(base64.b64decode(tail[1], validate=True), signed)
        document = orjson.loads(signed)
    except (InvalidSignature, binascii.Error, orjson.JSONDecodeError):
        return None
    return document if isinstance(document, dict) else None


def _signed_as_parsed(data: bytes, public_key: Ed25519PublicKey) -> dict[str, Any]:
    """The batch's document, its signature checked on its canonical bytes (any batch that is
    valid JSON, however written); raises BatchRefused."""
    try:
        document: dict[str, Any] = orjson.loads(data)
        signature = base64.b64decode(document.pop("signature"), validate=True)  # objects only
    except (orjson.JSONDecodeError, KeyError, ValueError, TypeError, AttributeError) as error:
        raise BatchRefused("malformed", str(error)) from None
    try:
        public_key.verify(signature, canonical(document))
    except InvalidSignature:
        raise BatchRefused("bad_signature", "the batch is not signed by the internal key") from None
    return document


def load_verify_key(pem: bytes) -> Ed25519PublicKey:
    """The public side's only key: it can check signatures, never make them."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    key = load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the bridge verification key must be an Ed25519 public key")
    return key
