"""Settings: the only place Boflyt reads environment variables (prefix ``BOFLYT_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["PROJECT_ROOT", "Settings", "get_settings"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Where Boflyt keeps its data and how it renders; every field has a safe default."""

    model_config = SettingsConfigDict(env_prefix="BOFLYT_", extra="ignore")

    data_dir: Path = Field(default=PROJECT_ROOT / "data")
    """Holds the SQLite store and the pseudonymisation key (created owner-only)."""
    database_url: str | None = None
    """A SQLAlchemy URL, e.g. ``postgresql+psycopg://user@host/db``; SQLite in data_dir if unset."""
    processes_dir: Path = Field(default=PROJECT_ROOT / "processes")
    reports_dir: Path = Field(default=PROJECT_ROOT / "reports")
    renderer: Literal["auto", "pure", "dot"] = "auto"
    """Graphviz renderer: the graphviz-pure wheel, the system ``dot``, or the first found."""
    lang: Literal["nb", "en"] = "nb"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'boflyt.db'}"


def get_settings() -> Settings:
    """Read the settings afresh (tests change the environment between calls)."""
    return Settings()
