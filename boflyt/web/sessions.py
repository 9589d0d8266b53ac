"""Signed session cookies with an idle timeout, CSRF tokens, and the login rate limit.

A session is a cookie ``username|nonce|last_seen`` with an HMAC-SHA256 of it under the web
secret (kept in the data folder, owner-only, made on first start). The server keeps no table of
live sessions: every request re-signs the cookie with a new ``last_seen``, and a cookie idle
longer than the timeout, or naming an account that is now disabled, is no session. Logging out
records the nonce (its SHA-256 only) as ended in the store
(:mod:`boflyt.engine.store.web_sessions`), so a copy of the cookie taken before is refused by
every worker (:func:`boflyt.web.page_kit.logged_in`).

A CSRF token is the HMAC of a random cookie value (double submit, bound to the secret), so a
form posted from another site has neither. The login rate limit counts failures per account and
per address in this process's memory: with several workers each counts its own.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import secrets
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "RateLimit",
    "Session",
    "Signer",
    "load_secret",
    "new_nonce",
]

SECRET_FILE = "web.secret"
"""The secret's file name in the data folder."""


def load_secret(data_dir: Path) -> bytes:
    """The web secret of ``data_dir``: 32 random bytes, written owner-only (0600) on first use.

    Written whole to a temporary file and linked into place, so workers starting together all
    read the one secret that won, never a half-written one.
    """
    path = data_dir / SECRET_FILE
    if not path.exists():
        temporary = data_dir / f".{SECRET_FILE}.{secrets.token_hex(8)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(base64.b64encode(secrets.token_bytes(32)))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return base64.b64decode(path.read_bytes().strip())


@dataclass(frozen=True)
class Session:
    """Who is logged in, under which random nonce, and when they were last seen (naive UTC)."""

    username: str
    nonce: str
    last_seen: dt.datetime


@dataclass(frozen=True)
class Signer:
    """Signs and checks session cookies and CSRF tokens under one secret."""

    secret: bytes
    idle: dt.timedelta = dt.timedelta(minutes=30)

    def _mac(self, purpose: str, text: str) -> str:
        message = f"{purpose}|{text}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def session_cookie(self, session: Session) -> str:
        """The cookie value of ``session``."""
        text = f"{session.username}|{session.nonce}|{session.last_seen.isoformat()}"
        return f"{text}|{self._mac('session', text)}"

    def session(self, cookie: str | None, *, now: dt.datetime) -> Session | None:
        """The session of ``cookie`` if its signature holds and it has not been idle too long."""
        parts = (cookie or "").rsplit("|", 3)
        if len(parts) != 4:
            return None
        text = "|".join(parts[:3])
        if not hmac.compare_digest(parts[3], self._mac("session", text)):
            return None
        try:
            last_seen = dt.datetime.fromisoformat(parts[2])
        except ValueError:
            return None
        if not dt.timedelta(0) <= now - last_seen <= self.idle:
            return None
        return Session(parts[0], parts[1], last_seen)

    def csrf_token(self, seed: str) -> str:
        """The form token that goes with the CSRF cookie ``seed``."""
        return self._mac("csrf", seed)

    def csrf_ok(self, seed: str | None, token: str | None) -> bool:
        """Whether a posted ``token`` matches the CSRF cookie ``seed``."""
        if not seed or not token:
            return False
        return hmac.compare_digest(token, self.csrf_token(seed))


def new_nonce() -> str:
    """A random value for a session or a CSRF cookie."""
    return secrets.token_urlsafe(24)


@dataclass
class RateLimit:
    """At most ``failures`` failed logins per key (account or address) within ``window``.

    In memory, per process: a restart forgets, and each worker counts on its own.
    """

    failures: int = 5
    window: dt.timedelta = dt.timedelta(minutes=5)
    _seen: dict[str, deque[dt.datetime]] = field(default_factory=dict)

    def _recent(self, key: str, now: dt.datetime) -> deque[dt.datetime]:
        times = self._seen.setdefault(key, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def blocked(self, keys: tuple[str, ...], *, now: dt.datetime) -> bool:
        """Whether any of ``keys`` has used up its failures in the window."""
        return any(len(self._recent(key, now)) >= self.failures for key in keys)

    def fail(self, keys: tuple[str, ...], *, now: dt.datetime) -> None:
        """Count one failure against each of ``keys``."""
        for key in keys:
            self._recent(key, now).append(now)
