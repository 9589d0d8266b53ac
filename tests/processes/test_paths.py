"""Every simulated path of every seed version keeps the order its process README states.

The orders are declared in each version file (``order:``, one entry per sentence of the README's
legal or administrative chain) and checked twice: by validation on the graph, and here on 300
simulated cases per version, where the first completion of ``before`` must come before the
first event of any ``after`` step.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from boflyt.analysis.simulation.cohort import simulate
from boflyt.engine.definition.load import load_lanes, load_library, parse_version
from boflyt.engine.definition.scenario import load_scenario
from boflyt.models.definition import OrderRule, Version
from boflyt.models.errors import DefinitionError

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
VERSION_FILES = sorted(PROCESSES.glob("*/v*.yaml"))
IDS = [f"{path.parent.name}/{path.name}" for path in VERSION_FILES]
CASES = 300

# The chains each README states, as (before, after) pairs every version must declare.
STATED = {
    "eviction_prevention": [
        ("file_petition", "carry_out_eviction"),
        ("serve_petition", "carry_out_eviction"),
    ],
    "private_lease": [
        ("view_dwelling", "sign_head_lease"),
        ("sign_head_lease", "sign_sublease"),
        ("sign_sublease", "move_in"),
    ],
    "refugee_settlement": [
        ("imdi_settlement_decision", "arrival"),
        ("make_ready", "arrival"),
        ("arrival", "start_introduction_programme"),
    ],
}


def violations(events: pl.DataFrame, rules: tuple[OrderRule, ...]) -> list[str]:
    """``case: after without before`` for every case whose path breaks a rule."""
    found = []
    for rule in rules:
        done = (
            events.filter((pl.col("step") == rule.before) & (pl.col("kind") == "step_completed"))
            .group_by("case_id")
            .agg(pl.col("seq").min().alias("done"))
        )
        reached = (
            events.filter(pl.col("step").is_in(list(rule.after)))
            .group_by("case_id")
            .agg(pl.col("seq").min().alias("reached"), pl.col("step").sort_by("seq").first())
        )
        bad = reached.join(done, on="case_id", how="left").filter(
            pl.col("done").is_null() | (pl.col("done") > pl.col("reached"))
        )
        found += [f"{r['case_id']}: {r['step']} without {rule.before}" for r in bad.to_dicts()]
    return found


def simulated(version: Version, cases: int = CASES) -> pl.DataFrame:
    library = load_library(PROCESSES)
    path = library.scenario_path(version.process)
    scenario = load_scenario(path, version=version, lanes=library.lanes)
    return simulate(version, scenario, cases=cases, seed=11, lanes=library.lanes).events


@pytest.mark.parametrize("path", VERSION_FILES, ids=IDS)
def test_every_simulated_path_keeps_the_stated_order(path: Path) -> None:
    version = load_library(PROCESSES).get(path.parent.name, int(path.stem[1:]))
    declared = {(rule.before, after) for rule in version.order for after in rule.after}
    assert set(STATED[version.process]) <= declared
    events = simulated(version)
    assert events["case_id"].n_unique() == CASES
    for rule in version.order:  # the rules are exercised, not vacuous
        assert events.filter(pl.col("step").is_in(list(rule.after)))["case_id"].n_unique() > 0
    assert violations(events, version.order) == []


def _early_aid(text: str) -> str:
    """eviction_prevention v1 as it was: NAV's letter leads straight to an aid application, whose
    decision withdraws a petition never filed, or evicts."""
    old = "{from: nav_register_notice, to: end_settled_with_nav, outcome: resolved"
    start = text.index(old)
    line = text[start : text.index("\n", start)]
    return text.replace(
        line, "{from: nav_register_notice, to: apply_financial_aid, outcome: resolved, "
        "probability: 0.4}",
    )  # fmt: skip


def test_the_old_eviction_model_breaks_the_law_in_simulation_and_in_validation() -> None:
    path = PROCESSES / "eviction_prevention" / "v1.yaml"
    text = _early_aid(path.read_text(encoding="utf-8"))
    with pytest.raises(DefinitionError) as caught:
        parse_version(
            text, file="eviction_prevention/v1.yaml", lanes=load_lanes(PROCESSES / "lanes.yaml")
        )
    assert "'carry_out_eviction' can be reached without 'file_petition' before it" in str(
        caught.value
    )
    unchecked = load_library(PROCESSES).get("eviction_prevention", 1)
    transitions = tuple(
        t.model_copy(update={"target": "apply_financial_aid"})
        if (t.source, t.target) == ("nav_register_notice", "end_settled_with_nav")
        else t
        for t in unchecked.transitions
    )
    broken = simulated(unchecked.model_copy(update={"transitions": transitions}))
    found = violations(broken, unchecked.order)
    assert any("carry_out_eviction without file_petition" in line for line in found)
    assert any("withdraw_petition without file_petition" in line for line in found)
