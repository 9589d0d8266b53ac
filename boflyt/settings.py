"""Settings: the only place Boflyt reads environment variables (prefix ``BOFLYT_``).

Every field is optional: an unset path is decided by the workspace (:mod:`boflyt.workspace`). A
bad value is one :class:`~boflyt.models.errors.SettingsError` naming the variable, the value
and what is allowed, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from boflyt.models.errors import SettingsError
from boflyt.models.words import DEFAULT_LANGUAGE, Language, languages

__all__ = ["DATABASE_SCHEMES", "Settings", "get_settings"]

DATABASE_SCHEMES = ("sqlite:///", "postgresql://", "postgresql+psycopg://")
"""The database URL forms Boflyt accepts."""


class Settings(BaseSettings):
    """Where Boflyt keeps its data and how it renders; each environment variable is optional."""

    model_config = SettingsConfigDict(env_prefix="BOFLYT_", extra="ignore")

    home: Path | None = None
    """The workspace folder; unset: the nearest folder upwards holding ``boflyt.toml``."""
    data_dir: Path | None = None
    """Holds the SQLite store and the pseudonymisation key (created owner-only)."""
    database_url: str | None = None
    """A SQLAlchemy URL, e.g. ``postgresql+psycopg://user@host/db``; SQLite in data_dir if unset."""
    database_url_secret: str | None = None
    """The name of a Prefect Secret block holding the store URL; flows read it before
    ``database_url`` (see :mod:`boflyt.flows.store`)."""
    reference_key_file: Path | None = None
    """The store's pseudonymisation key; unset: ``reference.key`` in the data directory."""
    processes_dir: Path | None = None
    reports_dir: Path | None = None
    renderer: Literal["auto", "pure", "dot"] = "auto"
    """Graphviz renderer: the graphviz-pure wheel, the system ``dot``, or the first found."""
    lang: Language = DEFAULT_LANGUAGE
    """The language of every word (a file of the word catalogue: ``nb``, ``en``, …)."""
    web_secure_cookies: bool = False
    """Mark the web app's cookies ``Secure``: set it when ``boflyt serve`` is reached over https."""
    web_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    """Minutes without a request after which a web session ends."""
    min_cell: int = Field(default=5, ge=1, le=1000)
    """The smallest group of cases a figure is shown for outside a case (the KPI trends); a
    smaller group shows "–"."""

    smtp_host: str | None = None
    """The SMTP server the outbox sends through (:mod:`boflyt.flows.outbox`); unset: no e-mail."""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "boflyt@localhost"
    """The sender address of notices."""
    smtp_user: str | None = None
    """Log in with this user (and ``smtp_password``) when set."""
    smtp_password: str | None = None
    smtp_starttls: bool = False
    """Upgrade the connection with STARTTLS before logging in or sending."""
    smtp_timeout: float = Field(default=30.0, gt=0, le=600)
    """Seconds to wait for the SMTP server; a claim is held ten times this long."""
    base_url: str = "http://localhost:8000"
    """Where the web app is reached: notices link to ``{base_url}/cases/{case id}``."""

    @field_validator("lang")
    @classmethod
    def _known_language(cls, lang: str) -> Language:
        if lang not in languages():
            raise ValueError(f"allowed: a language of the word catalogue: {', '.join(languages())}")
        return Language(lang)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(DATABASE_SCHEMES):
            raise ValueError(f"allowed: a URL starting with {', '.join(DATABASE_SCHEMES)}")
        return url


def get_settings() -> Settings:
    """Read the settings afresh (tests change the environment between calls).

    Raises:
        SettingsError: a variable holds a value that is not allowed.
    """
    try:
        return Settings()
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        allowed = error["msg"].removeprefix("Value error, ").removeprefix("Input should be ")
        raise SettingsError(
            f"BOFLYT_{field.upper()}={_shown(field, error.get('input'))} is not allowed; "
            f"{allowed if allowed.startswith('allowed') else 'allowed: ' + allowed}"
        ) from None


def _shown(field: str, value: object) -> str:
    """The offending value, with any password in a database URL masked."""
    text = str(value)
    if field == "database_url" and "@" in text and ":" in text.split("@", 1)[0]:
        scheme, rest = text.split("://", 1) if "://" in text else ("", text)
        user = rest.split("@", 1)[0].split(":", 1)[0]
        text = f"{scheme}://{user}:***@{rest.split('@', 1)[1]}"
    return repr(text)
