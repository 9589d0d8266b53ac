"""One pseudonymisation key per store, on SQLite and PostgreSQL: made only with a new store,
refused when it is another store's, never silently replaced."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from boflyt.engine.store import commands as store
from boflyt.engine.store.key import FINGERPRINT, open_store_key, store_fingerprint
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.models.errors import StoreError
from tests.factories import linear_version

FNR = "01017012345"  # synthetic
MONDAY = dt.datetime(2025, 1, 6, 9)
HINT = "set BOFLYT_REFERENCE_KEY_FILE"


def _start(engine: Engine, key: ReferenceKey) -> None:
    store.start_case(engine, version=linear_version(), ref=FNR, key=key, actor="ann",
                     org="housing_office", now=MONDAY)  # fmt: skip


def test_a_new_store_makes_its_key_and_records_only_its_fingerprint(
    any_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "a" / "reference.key"
    key = open_store_key(any_engine, path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert store_fingerprint(any_engine) == key.fingerprint
    assert open_store_key(any_engine, path) == key
    with any_engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT name, value FROM store_meta")).all()
    assert [tuple(row) for row in rows] == [(FINGERPRINT, key.fingerprint)]
    assert key.secret.hex() not in key.fingerprint


def test_a_second_data_folder_on_a_shared_store_is_refused(
    any_engine: Engine, tmp_path: Path
) -> None:
    first = open_store_key(any_engine, tmp_path / "a" / "reference.key")
    second = tmp_path / "b" / "reference.key"
    with pytest.raises(StoreError, match=f"no reference key at .*never made.*; {HINT}"):
        open_store_key(any_engine, second, how_to_point=HINT)
    assert not second.exists()
    ReferenceKey.create(second)  # its own key from before: still not the store's
    with pytest.raises(StoreError, match=f"not this store's key .*{first.fingerprint}"):
        open_store_key(any_engine, second)
    assert open_store_key(any_engine, tmp_path / "a" / "reference.key") == first


def test_a_lost_key_of_a_store_with_cases_is_refused_not_replaced(
    any_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "reference.key"
    key = open_store_key(any_engine, path)
    _start(any_engine, key)
    path.unlink()
    with pytest.raises(StoreError, match="never made"):
        open_store_key(any_engine, path)
    assert not path.exists()


def test_a_store_from_before_fingerprints_adopts_its_key_but_never_makes_one(
    any_engine: Engine, tmp_path: Path
) -> None:
    old = ReferenceKey.load_or_create(tmp_path / "old.key")
    _start(any_engine, old)  # a case with a reference, no fingerprint recorded
    with pytest.raises(StoreError, match="not recorded"):
        open_store_key(any_engine, tmp_path / "reference.key")
    assert not (tmp_path / "reference.key").exists()
    assert open_store_key(any_engine, tmp_path / "old.key") == old
    assert store_fingerprint(any_engine) == old.fingerprint


@pytest.mark.postgres
def test_two_folders_opening_a_new_shared_store_at_once_get_one_key(
    pg_engine: Engine, tmp_path: Path
) -> None:
    paths = [tmp_path / f"machine{n}" / "reference.key" for n in range(4)]
    barrier = threading.Barrier(len(paths))
    outcomes: dict[Path, object] = {}

    def open_key(path: Path) -> None:
        barrier.wait()
        try:
            outcomes[path] = open_store_key(pg_engine, path)
        except StoreError as exc:
            outcomes[path] = exc

    threads = [threading.Thread(target=open_key, args=(path,)) for path in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    keys = [o for o in outcomes.values() if isinstance(o, ReferenceKey)]
    assert len(keys) == 1 and store_fingerprint(pg_engine) == keys[0].fingerprint
    assert sum(path.exists() for path in paths) == 1
