"""Ended web sessions: a logout every worker of the web app refuses from then on.

A web session is a signed cookie (:mod:`boflyt.web.sessions`) the server keeps no list of, so a
copy taken before logging out would stay valid until it idles out. Logging out therefore records
the session's random nonce here, and every request checks it. Only the SHA-256 (hex) of the
nonce is stored (table ``ended_session``, store revision 0005): the table holds nothing a thief
could turn back into a cookie.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from boflyt.engine.case.bounds import MAX_ID
from boflyt.engine.store.db import read_scope, write_scope
from boflyt.engine.store.statements import translate_errors, utc
from boflyt.models import tables

__all__ = ["end_session", "is_ended", "nonce_hash"]

ENDED: sa.Table = tables.EndedSession.__table__  # type: ignore[attr-defined]


def nonce_hash(nonce: str) -> str:
    """The SHA-256 (hex) of a session nonce: what the table keeps instead of the nonce.

    >>> len(nonce_hash("abc"))
    64
    """
    return hashlib.sha256(nonce.encode("utf-8", "replace")).hexdigest()


def end_session(engine: Engine, *, nonce: str, username: str, now: dt.datetime) -> None:
    """Record that the session with ``nonce`` of ``username`` ended at ``now``.

    Ending an ended session again changes nothing (the first ``ended_at`` stays).
    """
    key = nonce_hash(nonce)

    def run() -> None:
        with write_scope(engine) as conn:
            found = conn.execute(sa.select(ENDED.c.nonce_hash).where(ENDED.c.nonce_hash == key))
            if found.first() is None:
                conn.execute(ENDED.insert().values(
                    nonce_hash=key, username=username[:MAX_ID], ended_at=utc(now),
                ))  # fmt: skip

    translate_errors(run)


def is_ended(engine: Engine, nonce: str) -> bool:
    """Whether the session with ``nonce`` was ended by a logout."""
    with read_scope(engine) as conn:
        query = sa.select(ENDED.c.nonce_hash).where(ENDED.c.nonce_hash == nonce_hash(nonce))
        return conn.execute(query).first() is not None
