"""DESIGN decisions 5 and 6, kept while made cheaper: a signed batch is byte for byte the
canonical JSON it always was (``firegov-batch/1`` did not change), though the outbound now puts
it together from the bytes each envelope was hashed over; the receiver checks the signature on
the signed bytes as they arrived, and still accepts a batch written any other valid way and
refuses an altered one for the same reason as before.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.contract.envelope import (
    GENESIS,
    Batch,
    BatchRefused,
    Envelope,
    canonical,
    digest,
    key_id,
    open_batch,
)

KEY = Ed25519PrivateKey.generate()
OTHER_KEY = Ed25519PrivateKey.generate()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
payloads = st.dictionaries(st.text(), json_values, max_size=6)


def sealed(alg: str, items: list[tuple[str, dict[str, Any]]], first_seq: int = 1) -> Batch:
    envelopes, prev = [], GENESIS
    for offset, (event_type, payload) in enumerate(items):
        envelope = Envelope.seal(alg, first_seq + offset, 7 + offset, event_type, payload, prev)
        envelopes.append(envelope)
        prev = envelope.hash
    return Batch(key_id(KEY.public_key()), alg, tuple(envelopes))


def reference_signed(batch: Batch) -> bytes:
    """A batch as the bridge wrote it before: the whole document serialised, twice."""
    unsigned = batch.unsigned()
    signature = KEY.sign(canonical(unsigned))
    return canonical({**unsigned, "signature": base64.b64encode(signature).decode()})


@settings(max_examples=300)
@given(
    st.sampled_from(["sha256", "sm3"]),
    st.lists(st.tuples(st.text(min_size=1), payloads), min_size=1, max_size=5),
    st.integers(1, 10**12),
)
def test_decision6_a_signed_batch_is_the_same_canonical_bytes_as_before(
    alg: str, items: list[tuple[str, dict[str, Any]]], first_seq: int
) -> None:
    batch = sealed(alg, items, first_seq)
    assert batch.unsigned_bytes() == canonical(batch.unsigned())
    assert batch.sign(KEY) == reference_signed(batch)
    # Envelopes made without their bytes (as the receiver makes them) give the same bytes.
    bare = Batch(
        batch.key_id,
        alg,
        tuple(
            Envelope(e.seq, e.position, e.type, e.payload, e.prev, e.hash) for e in batch.envelopes
        ),
    )
    assert bare.sign(KEY) == reference_signed(batch)


@settings(max_examples=100)
@given(st.lists(st.tuples(st.text(min_size=1), payloads), min_size=1, max_size=5))
def test_decision5_the_receiver_opens_a_batch_however_its_valid_json_is_written(
    items: list[tuple[str, dict[str, Any]]],
) -> None:
    batch = sealed("sha256", items)
    signed = batch.sign(KEY)
    rewritten = orjson.dumps(orjson.loads(signed), option=orjson.OPT_INDENT_2)  # keys unsorted
    for data in (signed, rewritten):
        with pytest.raises(BatchRefused) as refused:  # not on the contract: every check before
            open_batch(data, KEY.public_key(), "sha256", GENESIS, 1)
        assert refused.value.reason == "contract_violation"


def test_decision5_hashes_are_those_of_the_named_function() -> None:
    data = canonical({"seq": 1, "payload": {"名称": "测试"}})
    for alg, function in (("sha256", hashes.SHA256()), ("sm3", hashes.SM3())):
        hasher = hashes.Hash(function)
        hasher.update(data)
        assert digest(alg, data) == hasher.finalize().hex()
    with pytest.raises(BatchRefused) as refused:
        digest("md5", data)
    assert refused.value.reason == "unknown_hash"


def checkpoint_batch() -> Batch:
    payload = {"position": 9, "head_hash": "ab" * 32, "hash_alg": "sha256",
               "recorded_at": "2026-01-05T10:00:00+08:00"}  # fmt: skip
    return sealed("sha256", [("ledger.checkpoint.v1", payload)])


def test_decision5_a_valid_batch_opens_as_signed() -> None:
    batch = checkpoint_batch()
    opened = open_batch(batch.sign(KEY), KEY.public_key(), "sha256", GENESIS, 1)
    assert opened.envelopes == batch.envelopes


def _first_signature_char_changed(data: bytes) -> bytes:
    at = data.rfind(b',"signature":"') + len(b',"signature":"')
    return data[:at] + (b"B" if data[at : at + 1] != b"B" else b"C") + data[at + 1 :]


@pytest.mark.parametrize(
    ("alter", "reason"),
    [
        (lambda d: d.replace(b'"position":7', b'"position":8'), "bad_signature"),
        (_first_signature_char_changed, "bad_signature"),
        (lambda d: d.replace(b',"signature":"', b',"signature":"!'), "malformed"),
        (lambda d: d[: d.rfind(b',"signature"')] + b"}", "malformed"),
        (lambda d: d.replace(b'"signature"', b'"signature","x":1,"y"'), "malformed"),
        (lambda d: b"[" + d + b"]", "malformed"),
        (lambda d: b"garbage", "malformed"),
    ],
)
def test_decision6_an_altered_batch_is_refused_for_the_same_reason_as_before(
    alter: Any, reason: str
) -> None:
    data = alter(checkpoint_batch().sign(KEY))
    with pytest.raises(BatchRefused) as refused:
        open_batch(data, KEY.public_key(), "sha256", GENESIS, 1)
    assert refused.value.reason == reason


def test_decision5_whitespace_around_a_valid_batch_is_checked_the_long_way_and_accepted() -> None:
    batch = checkpoint_batch()
    opened = open_batch(b" " + batch.sign(KEY) + b"\n", KEY.public_key(), "sha256", GENESIS, 1)
    assert opened.envelopes == batch.envelopes


def test_decision6_a_batch_signed_by_another_key_is_refused() -> None:
    data = checkpoint_batch().sign(OTHER_KEY)
    with pytest.raises(BatchRefused) as refused:
        open_batch(data, KEY.public_key(), "sha256", GENESIS, 1)
    assert refused.value.reason == "bad_signature"
