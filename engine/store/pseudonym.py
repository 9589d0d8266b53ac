"""Keyed pseudonyms for case references (which may be national identity numbers).

The store keeps only ``HMAC-SHA256(key, normalised reference)``; the 32-byte key lives in a
file (by default ``<data_dir>/reference.key``, owner-only, mode 0600), never in the database.
An unkeyed hash of a fødselsnummer is *not* a pseudonym: the space of valid numbers is small
enough to hash completely in seconds, so without the key nothing links a pseudonym back to a
person. Which key belongs to which store is decided in :mod:`boflyt.engine.store.key`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from boflyt.models.errors import CommandError, StoreError

__all__ = ["KEY_FILE", "ReferenceKey", "normalise_reference"]

KEY_FILE = "reference.key"
"""The key file's name in the data directory, unless a path is given."""
_KEY_BYTES = 32
_FINGERPRINT_LABEL = b"boflyt key fingerprint"


def normalise_reference(ref: str) -> str:
    """The reference without any whitespace (``"010170 12345"`` → ``"01017012345"``)."""
    return "".join(ref.split())


@dataclass(frozen=True)
class ReferenceKey:
    """The secret that turns case references into pseudonyms."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) != _KEY_BYTES:
            raise StoreError(f"a reference key has {_KEY_BYTES} bytes, not {len(self.secret)}")

    @classmethod
    def create(cls, path: Path) -> ReferenceKey:
        """Write a new random key to ``path`` (mode 0600, its folder 0700 if new).

        Raises:
            StoreError: ``path`` already exists (a key is never replaced) or cannot be written.
        """
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise StoreError(f"{path} already exists; a reference key is never replaced") from None
        except OSError as exc:
            raise StoreError(f"cannot create the reference key {path}: {exc.strerror}") from None
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(_KEY_BYTES))
        return cls.load(path)

    @classmethod
    def load(cls, path: Path) -> ReferenceKey:
        """Read the key in ``path``.

        Raises:
            StoreError: the file cannot be read, is readable by group or others, or has the
                wrong length.
        """
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                raise StoreError(
                    f"{path} is readable by group or others (mode {mode:04o}); "
                    f"allowed: owner only — run: chmod 600 {path}"
                )
            secret = path.read_bytes()
        except OSError as exc:
            raise StoreError(f"cannot read the reference key {path}: {exc.strerror}") from None
        if len(secret) != _KEY_BYTES:
            raise StoreError(f"{path} holds {len(secret)} bytes; a reference key has {_KEY_BYTES}")
        return cls(secret)

    @classmethod
    def load_or_create(cls, path: Path) -> ReferenceKey:
        """Read the key in ``path``, creating it first if there is none (tests, one-off tools).

        Commands on a store use :func:`boflyt.engine.store.key.open_store_key` instead, which
        creates a key only for a new store.
        """
        return cls.load(path) if path.exists() else cls.create(path)

    @property
    def fingerprint(self) -> str:
        """A short keyed digest naming this key (safe to store and show; reveals nothing)."""
        return hmac.new(self.secret, _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:24]

    def pseudonym(self, ref: str) -> str:
        """HMAC-SHA256 (hex) of the normalised reference; :class:`CommandError` if empty."""
        normalised = normalise_reference(ref)
        if not normalised:
            raise CommandError("a case reference cannot be empty")
        return hmac.new(self.secret, normalised.encode(), hashlib.sha256).hexdigest()
