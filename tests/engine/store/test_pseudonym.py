"""Keyed pseudonyms: stable, not an unkeyed hash, key kept apart, raw reference never stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from pathlib import Path

import pytest

from boflyt.engine.store import commands as store
from boflyt.engine.store.db import create_schema, make_engine
from boflyt.engine.store.pseudonym import KEY_FILE, ReferenceKey
from boflyt.models.errors import CommandError, StoreError
from tests.factories import linear_version

FNR = "01017012345"  # synthetic (not checksum-valid)


def test_the_same_reference_gives_the_same_pseudonym(tmp_path: Path) -> None:
    key = ReferenceKey.load_or_create(tmp_path / KEY_FILE)
    again = ReferenceKey.load_or_create(tmp_path / KEY_FILE)
    assert key.pseudonym(FNR) == again.pseudonym(" 010170 12345 ") == key.pseudonym(FNR)
    assert key.pseudonym(FNR) != key.pseudonym("01017012346")
    assert len(key.pseudonym(FNR)) == 64


def test_a_pseudonym_is_not_an_unkeyed_hash_and_depends_on_the_key(tmp_path: Path) -> None:
    key = ReferenceKey.load_or_create(tmp_path / "a.key")
    other = ReferenceKey.load_or_create(tmp_path / "b.key")
    unkeyed = {hashlib.new(name, FNR.encode()).hexdigest() for name in ("sha256", "sha1", "md5")}
    assert key.pseudonym(FNR) not in unkeyed
    assert key.pseudonym(FNR) != other.pseudonym(FNR)


def test_the_key_file_is_owner_only_and_a_loose_one_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new" / KEY_FILE
    ReferenceKey.load_or_create(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert len(path.read_bytes()) == 32
    os.chmod(path, 0o644)
    with pytest.raises(StoreError, match=r"readable by group or others.*chmod 600"):
        ReferenceKey.load_or_create(path)
    with pytest.raises(StoreError, match="never replaced"):
        ReferenceKey.create(path)


def test_a_key_that_cannot_be_read_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot read the reference key"):
        ReferenceKey.load(tmp_path)  # a folder, not a key
    (tmp_path / "short.key").write_bytes(b"x" * 5)
    os.chmod(tmp_path / "short.key", 0o600)
    with pytest.raises(StoreError, match="holds 5 bytes"):
        ReferenceKey.load(tmp_path / "short.key")


def test_the_fingerprint_names_the_key_without_revealing_it(tmp_path: Path) -> None:
    key = ReferenceKey.load_or_create(tmp_path / KEY_FILE)
    other = ReferenceKey.load_or_create(tmp_path / "other.key")
    assert key.fingerprint != other.fingerprint
    assert key.fingerprint == ReferenceKey.load(tmp_path / KEY_FILE).fingerprint
    assert key.secret.hex()[:8] not in key.fingerprint and len(key.fingerprint) == 24


def test_an_empty_reference_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot be empty"):
        ReferenceKey.load_or_create(tmp_path / KEY_FILE).pseudonym("   ")


def test_neither_key_nor_raw_reference_reaches_the_database_or_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key = ReferenceKey.load_or_create(tmp_path / "keys" / KEY_FILE)
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    create_schema(engine)
    monday = dt.datetime(2025, 1, 6, 9)
    with caplog.at_level(logging.DEBUG, logger="sqlalchemy.engine"):
        engine.echo = True  # log every statement and its parameters
        state = store.start_case(engine, version=linear_version(), ref=FNR, key=key, actor="ann",
                                 org="housing_office", now=monday)  # fmt: skip
        store.find_case_by_ref(engine, ref=FNR, key=key)
        engine.echo = False
    assert key.pseudonym(FNR) in caplog.text  # the log did capture the parameters
    assert FNR not in caplog.text
    events = store.case_timeline(engine, state.case_id)
    assert all(FNR not in repr(event) for event in events)
    _assert_absent(tmp_path, FNR.encode(), key.secret, key.secret.hex().encode())
    engine.dispose()  # the last connection checkpoints the WAL into the main file
    _assert_absent(tmp_path, FNR.encode(), key.secret, key.secret.hex().encode())


def _assert_absent(folder: Path, *needles: bytes) -> None:
    files = list(folder.glob("store.db*"))
    assert files
    for path in files:
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, path
