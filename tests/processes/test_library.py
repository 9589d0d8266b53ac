"""The process library: every version file in processes/ loads and obeys the graph rules."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from boflyt.engine.definition.graph import end_steps, start_steps
from boflyt.engine.definition.load import load_lanes, load_library, load_version
from boflyt.models.vocabulary import VersionStatus

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
VERSION_FILES = sorted(PROCESSES.glob("*/v*.yaml"))
IDS = [f"{path.parent.name}/{path.name}" for path in VERSION_FILES]


def test_lanes_file_loads_with_bokmal_and_english_labels() -> None:
    lanes = load_lanes(PROCESSES / "lanes.yaml")
    assert {"housing_office", "nav", "property_company", "accounting"} <= set(lanes.ids)
    assert all(lane.name.nb and lane.name.en for lane in lanes.lanes)


@pytest.mark.parametrize("path", VERSION_FILES, ids=IDS)
def test_version_file_is_valid(path: Path) -> None:
    version = load_version(path, lanes=load_lanes(PROCESSES / "lanes.yaml"))
    assert (version.process, f"v{version.version}.yaml") == (path.parent.name, path.name)
    assert len(start_steps(version)) == 1
    assert end_steps(version)
    if version.based_on is not None:
        assert (path.parent / f"v{version.based_on}.yaml").is_file()


def test_whole_library_loads_quickly() -> None:
    lanes = load_lanes(PROCESSES / "lanes.yaml")
    began = time.process_time()  # CPU time: other processes on a busy CI box do not count
    for path in VERSION_FILES:
        load_version(path, lanes=lanes)
    elapsed = time.process_time() - began
    assert elapsed < 1.0, f"{len(VERSION_FILES)} files took {elapsed:.2f} s of CPU"


def test_library_index_covers_every_file() -> None:
    library = load_library(PROCESSES)
    assert library.processes() == sorted({path.parent.name for path in VERSION_FILES})
    for process in library.processes():
        numbers = [v.version for v in library.versions(process)]
        assert numbers == sorted(numbers)
        assert library.path(process, numbers[0]).is_file()
        if any(v.status is VersionStatus.PUBLISHED for v in library.versions(process)):
            assert library.get(process).status is VersionStatus.PUBLISHED
