"""Decision 8 on real storage: an erased data key is gone from the file, not just hidden."""

from __future__ import annotations

import base64
import sqlite3
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from psycopg_pool import ConnectionPool
from pydantic import SecretStr

from deployment.keystore import (
    PostgresSubjectKeyStore,
    SqliteSubjectKeyStore,
    build_sealer,
    load_master_key,
)
from deployment.settings import InternalSettings
from deployment.settings import SealingAlgorithm as SettingsAlgorithm
from domain.sealing import (
    ERASED,
    Sealer,
    SealingAlgorithm,
    StoredKey,
    SubjectErased,
    SubjectKeyStore,
)

MASTER_KEY = bytes(range(32))
NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqliteSubjectKeyStore]:
    store = SqliteSubjectKeyStore(tmp_path / "keys.sqlite")
    store.ensure_schema()
    store.ensure_schema()  # idempotent
    yield store
    store.close()


@pytest.fixture
def pg_store(pg_url: str, pg_schema: str) -> Iterator[PostgresSubjectKeyStore]:
    pool: ConnectionPool[Any] = ConnectionPool(
        pg_url,
        kwargs={"options": f"-c search_path={pg_schema}"},
        min_size=1,
        max_size=4,
        open=False,
    )
    with pool:
        store = PostgresSubjectKeyStore(pool, schema=pg_schema)
        store.ensure_schema()
        store.ensure_schema()  # idempotent
        yield store


def _file_bytes(path: Path) -> bytes:
    return b"".join(
        p.read_bytes()
        for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-journal"))
        if p.exists()
    )


def _checkpoint(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


def _shreds_personal_data(store: SubjectKeyStore) -> None:
    sealer = Sealer(store, MASTER_KEY)
    person, other = sealer.subject_for("mobile", "13812345678"), sealer.new_subject()
    phone = sealer.seal(person, "13812345678")
    name = sealer.seal(person, "张三")
    others = sealer.seal(other, "李四")
    assert sealer.open(phone) == "13812345678"

    assert sealer.erase(person, NOW) is True
    assert sealer.erase(person, NOW) is False

    assert sealer.open(phone) == ERASED
    assert sealer.open(name) == ERASED
    assert sealer.open(others) == "李四"
    with pytest.raises(SubjectErased):
        sealer.seal(person, "13812345678")
    assert store.get(person) == StoredKey(person, SealingAlgorithm.AES_GCM, None, NOW)


def _shares_one_key_under_races(store: SubjectKeyStore) -> None:
    sealer = Sealer(store, MASTER_KEY)
    subject = sealer.new_subject()
    barrier = threading.Barrier(8)
    results: list[str] = []
    errors: list[BaseException] = []

    def seal() -> None:
        try:
            barrier.wait()
            results.append(sealer.seal(subject, "并发"))
        except BaseException as error:  # collected and re-raised in the test thread
            errors.append(error)

    threads = [threading.Thread(target=seal) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert [sealer.open(value) for value in results] == ["并发"] * 8


def test_sqlite_store_shreds_personal_data(sqlite_store: SqliteSubjectKeyStore) -> None:
    _shreds_personal_data(sqlite_store)


def test_sqlite_concurrent_seals_share_one_key(sqlite_store: SqliteSubjectKeyStore) -> None:
    _shares_one_key_under_races(sqlite_store)


def test_sqlite_erased_key_bytes_leave_the_database_file(
    sqlite_store: SqliteSubjectKeyStore,
) -> None:
    sealer = Sealer(sqlite_store, MASTER_KEY)
    person = sealer.new_subject()
    bystander = sealer.new_subject()
    sealer.seal(person, "13812345678")
    sealer.seal(bystander, "x")
    stored = sqlite_store.get(person)
    assert stored is not None
    assert stored.wrapped_key is not None
    wrapped = stored.wrapped_key
    _checkpoint(sqlite_store.path)
    assert wrapped in _file_bytes(sqlite_store.path)  # the check below can see it

    sealer.erase(person, NOW)
    _checkpoint(sqlite_store.path)

    assert wrapped not in _file_bytes(sqlite_store.path)
    assert sealer.is_erased(person)


def test_sqlite_erase_alone_clears_the_wal(sqlite_store: SqliteSubjectKeyStore) -> None:
    # Without anybody's help (no checkpoint from outside), the WAL must not keep the key.
    sealer = Sealer(sqlite_store, MASTER_KEY)
    person = sealer.new_subject()
    sealer.seal(person, "13812345678")
    stored = sqlite_store.get(person)
    assert stored is not None
    assert stored.wrapped_key is not None

    sealer.erase(person, NOW)

    assert stored.wrapped_key not in _file_bytes(sqlite_store.path)


def test_sqlite_tombstone_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "keys.sqlite"
    first = SqliteSubjectKeyStore(path)
    first.ensure_schema()
    subject = Sealer(first, MASTER_KEY).new_subject()
    sealed = Sealer(first, MASTER_KEY).seal(subject, "王五")
    Sealer(first, MASTER_KEY).erase(subject, NOW)
    first.close()

    reopened = SqliteSubjectKeyStore(path)
    sealer = Sealer(reopened, MASTER_KEY)
    assert sealer.open(sealed) == ERASED
    with pytest.raises(SubjectErased):
        sealer.seal(subject, "王五")
    reopened.close()


def test_sqlite_add_keeps_the_first_key(sqlite_store: SqliteSubjectKeyStore) -> None:
    first = StoredKey("ps-race", SealingAlgorithm.AES_GCM, b"first", None)
    second = StoredKey("ps-race", SealingAlgorithm.SM4_GCM, b"second", None)
    assert sqlite_store.add(first) == first
    assert sqlite_store.add(second) == first
    assert sqlite_store.get("ps-unknown") is None
    assert sqlite_store.erase("ps-unknown", NOW) is False


@pytest.mark.postgres
def test_postgres_store_shreds_personal_data(pg_store: PostgresSubjectKeyStore) -> None:
    _shreds_personal_data(pg_store)


@pytest.mark.postgres
def test_postgres_concurrent_seals_share_one_key(pg_store: PostgresSubjectKeyStore) -> None:
    _shares_one_key_under_races(pg_store)


@pytest.mark.postgres
def test_postgres_add_keeps_the_first_key(pg_store: PostgresSubjectKeyStore) -> None:
    first = StoredKey("ps-race", SealingAlgorithm.AES_GCM, b"first", None)
    second = StoredKey("ps-race", SealingAlgorithm.SM4_GCM, b"second", None)
    assert pg_store.add(first) == first
    assert pg_store.add(second) == first
    assert pg_store.get("ps-unknown") is None
    assert pg_store.erase("ps-unknown", NOW) is False


def _embedded_settings(tmp_path: Path, **overrides: Any) -> InternalSettings:
    # Explicit values, so FIREGOV_* variables of the machine running the tests don't leak in.
    fields: dict[str, Any] = {
        "data_dir": tmp_path / "var",
        "internal_database_url": None,
        "master_key": None,
        "sealing_algorithm": SettingsAlgorithm.AES_GCM,
    }
    return InternalSettings(**(fields | overrides))


def test_embedded_master_key_is_generated_once_and_private(tmp_path: Path) -> None:
    settings = _embedded_settings(tmp_path)

    key = load_master_key(settings)

    path = tmp_path / "var" / "secrets" / "master.key"
    assert len(key) == 32
    assert base64.b64decode(path.read_text()) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_master_key(settings) == key
    assert [p.name for p in path.parent.iterdir()] == ["master.key"]  # no temporary left


def test_concurrent_first_starts_agree_on_one_master_key(tmp_path: Path) -> None:
    settings = _embedded_settings(tmp_path)
    barrier = threading.Barrier(8)
    keys: list[bytes] = []

    def load() -> None:
        barrier.wait()
        keys.append(load_master_key(settings))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(keys) == 8
    assert len(set(keys)) == 1


def test_configured_master_key_wins(tmp_path: Path) -> None:
    configured = base64.b64encode(bytes(range(100, 132))).decode()
    settings = _embedded_settings(tmp_path, master_key=SecretStr(configured))

    assert load_master_key(settings) == bytes(range(100, 132))
    assert not (tmp_path / "var" / "secrets").exists()


def test_postgres_without_master_key_is_refused(tmp_path: Path) -> None:
    settings = _embedded_settings(tmp_path, internal_database_url="postgresql://db/firegov")

    with pytest.raises(RuntimeError, match="FIREGOV_MASTER_KEY is required"):
        load_master_key(settings)
    assert not (tmp_path / "var" / "secrets").exists()


def test_build_sealer_maps_the_configured_cipher(
    tmp_path: Path, sqlite_store: SqliteSubjectKeyStore
) -> None:
    settings = _embedded_settings(tmp_path, sealing_algorithm=SettingsAlgorithm.SM4_GCM)

    sealer = build_sealer(settings, sqlite_store)

    assert sealer.algorithm is SealingAlgorithm.SM4_GCM
    sealed = sealer.seal(sealer.new_subject(), "赵六")
    assert ":sm4-gcm:" in sealed
    assert build_sealer(settings, sqlite_store).open(sealed) == "赵六"


def test_every_settings_cipher_has_a_domain_cipher() -> None:
    assert {a.value for a in SettingsAlgorithm} == {a.value for a in SealingAlgorithm}
