"""Migrating running live cases between two published versions of a process, in the store.

:func:`plan_migrations` reads the running live cases of the source version and plans each
(:func:`boflyt.engine.case.migration.plan_case`); :func:`apply_migrations` moves each case in its
own write transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

from sqlalchemy.engine import Engine

from boflyt.engine.case.migration import CasePlan, CaseResult
from boflyt.engine.store.commands import wall_clock
from boflyt.models.definition import Version

__all__ = ["apply_migrations", "plan_migrations"]


def plan_migrations(
    engine: Engine,
    *,
    source: Version,
    target: Version,
    case_ids: Sequence[str] | None = None,
    mapping: Mapping[str, str] | None = None,
) -> list[CasePlan]:
    """The plan of each running live case of ``source`` (or ``case_ids``) moving to ``target``."""
    raise NotImplementedError


def apply_migrations(
    engine: Engine,
    *,
    source: Version,
    target: Version,
    case_ids: Sequence[str] | None = None,
    mapping: Mapping[str, str] | None = None,
    actor: str,
    address: str | None = None,
    clock: Callable[[], dt.datetime] = wall_clock,
) -> list[CaseResult]:
    """Move each planned case that is not refused to ``target``, one transaction per case."""
    raise NotImplementedError
