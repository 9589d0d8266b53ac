"""A small valid version file and lane catalogue, for building bad snippets in tests."""

from __future__ import annotations

from pathlib import Path

from boflyt.models.definition import Lane, LaneCatalog, Text

__all__ = ["BASE", "DECLARED", "LANES", "declare", "edit", "write_version"]

LANES = LaneCatalog(
    lanes=(
        Lane(id="tenant", name=Text(nb="Søker", en="Applicant"), outside=True),
        Lane(id="housing_office", name=Text(nb="Boligkontoret", en="Housing office")),
        Lane(id="nav", name=Text(nb="NAV", en="NAV")),
        Lane(id="landlord", name=Text(nb="Utleier", en="Landlord"), outside=True),
    )
)

# Line numbers matter: the tests name them. Steps start on lines 12, 16, 22, 30, 34, 38, 43, 48,
# 52; transitions are on lines 57-66 (transitions[0] .. transitions[9]).
BASE = """\
process: test_process
version: 1
label: Test
status: published
owner: Tests
date: 2024-03-01
summary: >
  A small valid process. [Brackets in prose are fine.
name: {nb: Testprosess, en: Test process}
lanes: [tenant, housing_office, nav]
steps:
  - id: start
    kind: start
    lane: tenant
    name: {nb: Start, en: Start}
  - id: apply
    kind: task
    lane: tenant
    name: {nb: Søk, en: Apply}
    touch_minutes: [30, 60]
    channel: letter
  - id: check
    kind: decision
    lane: housing_office
    name: {nb: Sjekk, en: Check}
    touch_minutes: 20
    wait_days: {dist: triangular, low: 1, mode: 2, high: 5}
    value: necessary
    wastes: [waiting]
  - id: fix
    kind: task
    lane: tenant
    name: {nb: Rett, en: Fix}
  - id: split
    kind: parallel
    lane: housing_office
    name: {nb: Del, en: Split}
  - id: nav_part
    kind: task
    lane: nav
    joint_with: [housing_office]
    name: {nb: NAV, en: NAV}
  - id: office_part
    kind: wait
    lane: housing_office
    name: {nb: Vent, en: Wait}
    external_wait: true
  - id: join
    kind: join
    lane: housing_office
    name: {nb: Samle, en: Join}
  - id: end
    kind: end
    lane: housing_office
    name: {nb: Slutt, en: End}
transitions:
  - {from: start, to: apply}
  - {from: apply, to: check}
  - {from: check, to: split, outcome: complete, probability: 0.7}
  - {from: check, to: fix, outcome: incomplete, probability: 0.3}
  - {from: fix, to: check, rework: true}
  - {from: split, to: nav_part}
  - {from: split, to: office_part}
  - {from: nav_part, to: join}
  - {from: office_part, to: join}
  - {from: join, to: end}
"""


# Orders and outcome metrics that hold for BASE, inserted after its lanes by `declare`: the
# order entries are then on lines 12-14, the outcome metrics on lines 16-17.
DECLARED = """\
order:
  - {before: apply, after: [check, split]}
  - {before: nav_part, after: [join, end]}
  - {before: check, after: [fix]}
outcome_metrics:
  - {id: finished, name: {nb: Ferdig, en: Finished}, measure: share, steps: [end]}
  - {id: to_nav, name: {nb: Til NAV, en: To NAV}, measure: time_to, steps: [nav_part]}
"""


def declare(*changes: tuple[str, str]) -> str:
    """BASE with :data:`DECLARED` after its lanes, then each ``(old, new)`` applied once."""
    lanes = "lanes: [tenant, housing_office, nav]\n"
    return edit((lanes, lanes + DECLARED), *changes)


def edit(*changes: tuple[str, str], base: str = BASE) -> str:
    """``base`` with each ``(old, new)`` replaced once; fails loudly if ``old`` is absent."""
    text = base
    for old, new in changes:
        assert old in text, f"snippet edit not found: {old!r}"
        text = text.replace(old, new, 1)
    return text


def write_version(
    root: Path, text: str, *, process: str = "test_process", name: str = "v1.yaml"
) -> Path:
    """Write ``text`` as ``root/<process>/<name>`` and return the path."""
    folder = root / process
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
