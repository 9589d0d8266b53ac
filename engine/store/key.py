"""One pseudonymisation key per store: the store records its key's fingerprint.

Every machine and data folder working on the same store must pseudonymise a reference the
same way, or the same person gets two pseudonyms and the duplicate check is bypassed. So the
store keeps the fingerprint of its key in ``store_meta`` (never the key itself), and
:func:`open_store_key` enforces, in one place:

* a key file is created only together with a new store — one with no fingerprint and no case
  holding a reference;
* a key whose fingerprint differs from the store's is refused;
* a missing key file for a store that has a fingerprint or holds references is refused,
  never replaced (a new key would orphan every stored pseudonym).

A store from before fingerprints (references but no fingerprint) adopts the key it is first
opened with.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from boflyt.engine.store.db import read_scope, write_scope
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.engine.store.statements import CASE_TABLE, translate_errors
from boflyt.models.errors import ConflictError, StoreError
from boflyt.models.tables import StoreMeta

__all__ = ["FINGERPRINT", "open_store_key", "store_fingerprint"]

FINGERPRINT = "reference_key_fingerprint"
"""The ``store_meta`` row naming the store's key."""
META_TABLE = StoreMeta.__table__  # type: ignore[attr-defined]


def open_store_key(engine: Engine, key_file: Path, *, how_to_point: str = "") -> ReferenceKey:
    """The store's key, read from ``key_file`` — created there only for a new store.

    ``how_to_point`` is appended to a refusal: how the user names the right key file.

    Raises:
        StoreError: the key file belongs to another store, or is missing for a store that
            already has a key; or the file cannot be read or written.
    """
    if key_file.exists():  # the usual case, settled without taking the write lock
        key = ReferenceKey.load(key_file)
        if translate_errors(lambda: store_fingerprint(engine)) == key.fingerprint:
            return key
    try:
        return translate_errors(lambda: _open(engine, key_file, how_to_point))
    except ConflictError:  # another process recorded a key at the same moment: judge again
        return translate_errors(lambda: _open(engine, key_file, how_to_point))


def store_fingerprint(engine: Engine) -> str | None:
    """The fingerprint of the store's key, or None if none is recorded yet."""
    with read_scope(engine) as conn:
        return _recorded(conn)


def _open(engine: Engine, key_file: Path, how_to_point: str) -> ReferenceKey:
    hint = f"; {how_to_point}" if how_to_point else ""
    with write_scope(engine) as conn:
        recorded = _recorded(conn)
        if key_file.exists():
            key = ReferenceKey.load(key_file)
            if recorded is None:
                _record(conn, key)
            elif recorded != key.fingerprint:
                raise StoreError(
                    f"the reference key {key_file} is not this store's key (fingerprint "
                    f"{key.fingerprint}, the store's is {recorded}){hint}"
                )
            return key
        if recorded is not None or _holds_references(conn):
            raise StoreError(
                f"no reference key at {key_file}, and this store already has one "
                f"(fingerprint {recorded or 'not recorded'}); a new key is never made for it"
                f"{hint}"
            )
        key = ReferenceKey.create(key_file)
        try:
            _record(conn, key)
        except BaseException:
            key_file.unlink(missing_ok=True)  # the store did not take it: leave no stray key
            raise
        return key


def _recorded(conn: Connection) -> str | None:
    query = sa.select(META_TABLE.c.value).where(META_TABLE.c.name == FINGERPRINT)
    return conn.execute(query).scalar_one_or_none()


def _record(conn: Connection, key: ReferenceKey) -> None:
    conn.execute(META_TABLE.insert().values(name=FINGERPRINT, value=key.fingerprint))


def _holds_references(conn: Connection) -> bool:
    query = sa.select(CASE_TABLE.c.id).where(CASE_TABLE.c.ref_key.is_not(None)).limit(1)
    return conn.execute(query).first() is not None
