"""Decision 8: personal data is sealed per person, and erasing the person's key shreds it."""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from domain.errors import DomainError, InvalidInput
from domain.sealing import (
    ERASED,
    SEALED_PREFIX,
    InMemorySubjectKeyStore,
    KeyUnwrapError,
    SealedValueInvalid,
    Sealer,
    SealingAlgorithm,
    StoredKey,
    SubjectErased,
    is_sealed,
    subject_of,
)

MASTER_KEY = bytes(range(32))
NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


@pytest.fixture
def store() -> InMemorySubjectKeyStore:
    return InMemorySubjectKeyStore()


@pytest.fixture
def sealer(store: InMemorySubjectKeyStore) -> Sealer:
    return Sealer(store, MASTER_KEY)


def _payload(sealed: str) -> bytes:
    encoded = sealed.rsplit(":", 1)[1]
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))


def _with_payload(sealed: str, payload: bytes) -> str:
    head = sealed.rsplit(":", 1)[0]
    return head + ":" + base64.urlsafe_b64encode(payload).rstrip(b"=").decode()


def test_sealed_phone_number_never_contains_the_plaintext(sealer: Sealer) -> None:
    subject = sealer.subject_for("mobile", "13812345678")
    sealed = sealer.seal(subject, "13812345678")

    assert is_sealed(sealed)
    assert sealed.startswith(f"{SEALED_PREFIX}{subject}:aes-256-gcm:")
    assert "13812345678" not in sealed
    assert b"13812345678" not in _payload(sealed)
    assert sealer.open(sealed) == "13812345678"


def test_chinese_name_round_trips(sealer: Sealer) -> None:
    subject = sealer.new_subject()
    assert sealer.open(sealer.seal(subject, "张三丰")) == "张三丰"
    assert sealer.open(sealer.seal(subject, "")) == ""


def test_sealing_twice_gives_different_values(sealer: Sealer) -> None:
    # A fresh nonce per value: equal plaintexts must not be recognisable as equal.
    subject = sealer.new_subject()
    first, second = sealer.seal(subject, "河南省郑州市"), sealer.seal(subject, "河南省郑州市")
    assert first != second
    assert sealer.open(first) == sealer.open(second) == "河南省郑州市"


def test_two_persons_have_different_keys(sealer: Sealer, store: InMemorySubjectKeyStore) -> None:
    alice, bob = sealer.new_subject(), sealer.new_subject()
    sealer.seal(alice, "李四")
    sealer.seal(bob, "王五")

    alice_key, bob_key = store.get(alice), store.get(bob)
    assert alice_key is not None
    assert bob_key is not None
    assert alice_key.wrapped_key != bob_key.wrapped_key
    assert alice != bob


def test_a_person_keeps_one_key(sealer: Sealer, store: InMemorySubjectKeyStore) -> None:
    subject = sealer.new_subject()
    sealer.seal(subject, "a")
    key = store.get(subject)
    sealer.seal(subject, "b")
    assert store.get(subject) == key


def test_same_natural_key_gives_same_subject(sealer: Sealer) -> None:
    first = sealer.subject_for("mobile", "13812345678")
    assert sealer.subject_for("mobile", "13812345678") == first
    assert sealer.subject_for("mobile", "13912345678") != first
    assert sealer.subject_for("id_number", "13812345678") != first
    # The same master key gives the same subject in another process.
    assert Sealer(InMemorySubjectKeyStore(), MASTER_KEY).subject_for("mobile", "13812345678") == (
        first
    )


def test_subject_id_reveals_nothing(sealer: Sealer) -> None:
    subject = sealer.subject_for("mobile", "13812345678")
    assert subject.startswith("ps-")
    assert len(subject) == 3 + 32
    assert "1381234" not in subject
    # Without the master key the id cannot be recomputed.
    other = Sealer(InMemorySubjectKeyStore(), os.urandom(32))
    assert other.subject_for("mobile", "13812345678") != subject


def test_subject_kind_cannot_contain_a_colon(sealer: Sealer) -> None:
    with pytest.raises(ValueError, match="kind"):
        sealer.subject_for("a:b", "c")


def test_new_subjects_are_unique(sealer: Sealer) -> None:
    subjects = {sealer.new_subject() for _ in range(100)}
    assert len(subjects) == 100
    assert all(s.startswith("ps-") and len(s) == 35 for s in subjects)


def test_subject_of_reads_the_subject(sealer: Sealer) -> None:
    subject = sealer.new_subject()
    assert subject_of(sealer.seal(subject, "x")) == subject
    with pytest.raises(SealedValueInvalid):
        subject_of("13812345678")


def test_erasing_a_person_shows_every_value_as_erased(sealer: Sealer) -> None:
    person, other = sealer.new_subject(), sealer.new_subject()
    values = [sealer.seal(person, text) for text in ("赵六", "13812345678", "郑州市金水路1号")]
    others = sealer.seal(other, "孙七")

    assert sealer.erase(person, NOW) is True

    assert [sealer.open(v) for v in values] == [ERASED] * 3
    assert sealer.open_or_none(values[0]) == ERASED
    assert sealer.is_erased(person)
    # Nobody else is affected.
    assert sealer.open(others) == "孙七"
    assert not sealer.is_erased(other)


def test_erasure_is_immediate_for_every_sealer_on_the_store(store: InMemorySubjectKeyStore) -> None:
    # Two sealers stand for two processes sharing one key store: no stale cache opens.
    writer, reader = Sealer(store, MASTER_KEY), Sealer(store, MASTER_KEY)
    subject = writer.new_subject()
    sealed = writer.seal(subject, "周八")
    assert reader.open(sealed) == "周八"

    writer.erase(subject, NOW)

    assert reader.open(sealed) == ERASED


def test_erased_key_bytes_are_gone_from_the_store(
    sealer: Sealer, store: InMemorySubjectKeyStore
) -> None:
    subject = sealer.new_subject()
    sealer.seal(subject, "x")
    sealer.erase(subject, NOW)
    assert store.get(subject) == StoredKey(subject, SealingAlgorithm.AES_GCM, None, NOW)


def test_erasing_twice_or_an_unknown_subject_reports_false(sealer: Sealer) -> None:
    subject = sealer.new_subject()
    sealer.seal(subject, "x")
    assert sealer.erase(subject, NOW) is True
    assert sealer.erase(subject, NOW) is False
    assert sealer.erase(sealer.new_subject(), NOW) is False


def test_erasure_needs_an_aware_time(sealer: Sealer) -> None:
    subject = sealer.new_subject()
    sealer.seal(subject, "x")
    with pytest.raises(ValueError, match="timezone"):
        sealer.erase(subject, datetime(2025, 1, 1))  # naive on purpose


def test_erased_subject_cannot_be_sealed_again(sealer: Sealer) -> None:
    subject = sealer.subject_for("mobile", "13812345678")
    sealer.seal(subject, "13812345678")
    sealer.erase(subject, NOW)

    with pytest.raises(SubjectErased) as refused:
        sealer.seal(subject, "13812345678")

    assert refused.value.code == "subject_erased"
    assert isinstance(refused.value, DomainError)
    assert sealer.is_erased(subject)


def test_tampered_value_is_refused(sealer: Sealer) -> None:
    sealed = sealer.seal(sealer.new_subject(), "13812345678")
    payload = bytearray(_payload(sealed))
    payload[15] ^= 0x01

    with pytest.raises(SealedValueInvalid) as refused:
        sealer.open(_with_payload(sealed, bytes(payload)))

    assert refused.value.code == "sealed_value_invalid"
    assert isinstance(refused.value, InvalidInput)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s[:-4],  # truncated
        lambda s: s + "A",  # extended, not canonical base64
        lambda s: s[:-1] + "!",  # not base64url
        lambda s: s.replace(":aes-256-gcm:", ":rot13:"),  # unknown cipher
        lambda s: s.replace(":aes-256-gcm:", ":sm4-gcm:"),  # another cipher
        lambda s: s + ":extra",  # extra field
        lambda s: s.rsplit(":", 1)[0] + ":",  # empty payload
        lambda s: SEALED_PREFIX + "AAAA",  # nothing but a payload
    ],
)
def test_malformed_value_is_refused(sealer: Sealer, mangle: Callable[[str], str]) -> None:
    sealed = sealer.seal(sealer.new_subject(), "13812345678")
    with pytest.raises(SealedValueInvalid):
        sealer.open(mangle(sealed))


def test_value_of_an_unknown_subject_is_refused(sealer: Sealer) -> None:
    sealed = Sealer(InMemorySubjectKeyStore(), MASTER_KEY).seal("ps-elsewhere", "x")
    with pytest.raises(SealedValueInvalid):
        sealer.open(sealed)


def test_value_cannot_be_moved_to_another_subject(sealer: Sealer) -> None:
    alice, mallory = sealer.new_subject(), sealer.new_subject()
    sealed = sealer.seal(alice, "13812345678")
    sealer.seal(mallory, "whatever")  # mallory has a key of her own

    moved = sealed.replace(alice, mallory)

    with pytest.raises(SealedValueInvalid):
        sealer.open(moved)


def test_value_cannot_be_moved_even_with_the_same_key(store: InMemorySubjectKeyStore) -> None:
    # Even if the key store row were copied to another subject, the AAD binds the subject.
    sealer = Sealer(store, MASTER_KEY)
    alice = sealer.new_subject()
    sealed = sealer.seal(alice, "x")
    key = store.get(alice)
    assert key is not None
    store.add(StoredKey("ps-copy", key.algorithm, key.wrapped_key, None))

    with pytest.raises(KeyUnwrapError):  # the wrapping's AAD is the subject id, too
        sealer.open(sealed.replace(alice, "ps-copy"))


def test_sm4_gcm_round_trip(store: InMemorySubjectKeyStore) -> None:
    sealer = Sealer(store, MASTER_KEY, SealingAlgorithm.SM4_GCM)
    subject = sealer.subject_for("id_number", "410102199003070011")
    sealed = sealer.seal(subject, "410102199003070011")

    assert f":{subject}:sm4-gcm:" in sealed
    assert "410102199003070011" not in sealed
    assert sealer.open(sealed) == "410102199003070011"
    stored = store.get(subject)
    assert stored is not None
    assert stored.algorithm is SealingAlgorithm.SM4_GCM


def test_sm4_gcm_tampering_is_refused(store: InMemorySubjectKeyStore) -> None:
    sealer = Sealer(store, MASTER_KEY, SealingAlgorithm.SM4_GCM)
    sealed = sealer.seal(sealer.new_subject(), "410102199003070011")
    payload = bytearray(_payload(sealed))
    payload[-1] ^= 0x80  # in the tag
    with pytest.raises(SealedValueInvalid):
        sealer.open(_with_payload(sealed, bytes(payload)))


def test_a_key_keeps_its_cipher_when_the_setting_changes(store: InMemorySubjectKeyStore) -> None:
    subject = "ps-switch"
    old = Sealer(store, MASTER_KEY, SealingAlgorithm.AES_GCM).seal(subject, "旧")
    switched = Sealer(store, MASTER_KEY, SealingAlgorithm.SM4_GCM)

    new = switched.seal(subject, "新")

    assert ":aes-256-gcm:" in new
    assert switched.open(old) == "旧"
    assert switched.open(new) == "新"
    assert ":sm4-gcm:" in switched.seal(switched.new_subject(), "x")


def test_wrong_master_key_cannot_open(store: InMemorySubjectKeyStore) -> None:
    sealed = Sealer(store, MASTER_KEY).seal("ps-alice", "13812345678")
    intruder = Sealer(store, os.urandom(32))

    with pytest.raises(KeyUnwrapError, match="master key"):
        intruder.open(sealed)
    with pytest.raises(KeyUnwrapError):
        intruder.seal("ps-alice", "x")


def test_master_key_must_be_32_bytes(store: InMemorySubjectKeyStore) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Sealer(store, b"short")


def test_open_or_none_passes_plain_values_through(sealer: Sealer) -> None:
    assert sealer.open_or_none(None) is None
    assert sealer.open_or_none("郑州市消防救援支队") == "郑州市消防救援支队"
    sealed = sealer.seal(sealer.new_subject(), "x")
    assert sealer.open_or_none(sealed) == "x"


def test_is_sealed() -> None:
    assert not is_sealed(None)
    assert not is_sealed(42)
    assert not is_sealed("13812345678")
    assert is_sealed(SEALED_PREFIX + "ps-x:aes-256-gcm:AAAA")


def test_malformed_subject_id_is_not_sealed(sealer: Sealer) -> None:
    with pytest.raises(ValueError, match="subject"):
        sealer.seal("a:b", "x")
    with pytest.raises(ValueError, match="subject"):
        sealer.seal("", "x")


def test_concurrent_seals_for_one_person_share_a_key(store: InMemorySubjectKeyStore) -> None:
    sealer = Sealer(store, MASTER_KEY)
    subject = sealer.new_subject()
    results: list[str] = []
    barrier = threading.Barrier(8)

    def seal() -> None:
        barrier.wait()
        results.append(sealer.seal(subject, "并发"))

    threads = [threading.Thread(target=seal) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [sealer.open(value) for value in results] == ["并发"] * 8


def test_stored_key_is_either_live_or_a_tombstone() -> None:
    with pytest.raises(ValueError, match="either"):
        StoredKey("ps-x", SealingAlgorithm.AES_GCM, b"k", NOW)
    with pytest.raises(ValueError, match="either"):
        StoredKey("ps-x", SealingAlgorithm.AES_GCM, None, None)
