"""Keyed pseudonyms for case references (which may be national identity numbers).

The store keeps only ``HMAC-SHA256(key, normalised reference)``; the 32-byte key lives in
``<data_dir>/reference.key`` (created once, owner-only, mode 0600), never in the database. An
unkeyed hash of a fødselsnummer is *not* a pseudonym: the space of valid numbers is small enough
to hash completely in seconds, so without the key nothing links a pseudonym back to a person.
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
_KEY_BYTES = 32


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
    def load_or_create(cls, data_dir: Path) -> ReferenceKey:
        """Read ``data_dir/reference.key``, creating it (mode 0600) on first use.

        Raises :class:`StoreError` when the file is readable by group or others, or has the
        wrong length.
        """
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = data_dir / KEY_FILE
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return cls._read(path)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(_KEY_BYTES))
        return cls._read(path)

    @classmethod
    def _read(cls, path: Path) -> ReferenceKey:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise StoreError(
                f"{path} is readable by group or others (mode {mode:04o}); "
                f"allowed: owner only — run: chmod 600 {path}"
            )
        secret = path.read_bytes()
        if len(secret) != _KEY_BYTES:
            raise StoreError(f"{path} holds {len(secret)} bytes; a reference key has {_KEY_BYTES}")
        return cls(secret)

    def pseudonym(self, ref: str) -> str:
        """HMAC-SHA256 (hex) of the normalised reference; :class:`CommandError` if empty."""
        normalised = normalise_reference(ref)
        if not normalised:
            raise CommandError("a case reference cannot be empty")
        return hmac.new(self.secret, normalised.encode(), hashlib.sha256).hexdigest()
