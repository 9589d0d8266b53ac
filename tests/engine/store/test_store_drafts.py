"""Cases start only on published versions; a draft can be simulated, never run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from boflyt.engine.store import commands as store
from boflyt.engine.store.pseudonym import ReferenceKey
from boflyt.models.errors import CommandError
from boflyt.models.vocabulary import VersionStatus
from tests.factories import linear_version

MONDAY = dt.datetime(2025, 1, 6, 9, 0)


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (
            VersionStatus.DRAFT,
            "test_process@v1 is a draft; cases start only on published versions (publish it first)",
        ),
        (VersionStatus.RETIRED, "test_process@v1 is retired; cases start only on published"),
    ],
)
def test_a_case_does_not_start_on_a_version_that_is_not_published(
    sqlite_engine: Engine, tmp_path: Path, status: VersionStatus, message: str
) -> None:
    version = linear_version().model_copy(update={"status": status})
    key = ReferenceKey.load_or_create(tmp_path / "keys")
    with pytest.raises(CommandError) as caught:
        store.start_case(
            sqlite_engine, version=version, ref="A-1", key=key, actor="ann",
            org="housing_office", now=MONDAY,
        )  # fmt: skip
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)
    assert store.list_cases(sqlite_engine) == []


def test_the_published_version_starts(sqlite_engine: Engine, tmp_path: Path) -> None:
    key = ReferenceKey.load_or_create(tmp_path / "keys")
    state = store.start_case(
        sqlite_engine, version=linear_version(), ref="A-1", key=key, actor="ann",
        org="housing_office", now=MONDAY,
    )  # fmt: skip
    assert state.version == 1
