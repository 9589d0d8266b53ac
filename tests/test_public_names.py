"""Each package states its public names in ``__all__``, and the set is pinned here.

A name added to or dropped from a package's ``__all__`` must be added or dropped here too, on
purpose (httpx's ``test_exported_members`` does the same). Packages whose modules are heavy
(models, engine, analysis, visualize) list their modules and import none of them; the rest
re-export the names callers use.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from types import ModuleType

import pytest

# Each package's public names, sorted, separated by white space.
_PINNED = {
    "boflyt.models": """
        definition errors events runset scenario tables vocabulary words
    """,
    "boflyt.engine": """
        calendar case definition store
    """,
    "boflyt.engine.definition": """
        BrokenFile FieldChange Handoff HandoffChange Library StepChange TransitionChange
        VersionDiff diff_versions end_steps flow_order handoffs is_handoff lanes_schema
        load_lanes load_library load_scenario load_version parse_ref parse_scenario
        parse_version schema_text start_steps to_graph validate version_schema
        write_schema
    """,
    "boflyt.engine.case": """
        BeginStep CancelCase CaseState Command CompleteStep Decision Escalate Flow
        FlowStep Move MoveKind OPEN_STATUSES Route StartCase WorkItem compile_flow
        decide open_items overdue_items ready_items replay working_minutes
    """,
    "boflyt.engine.store": """
        Account AuditRecord CaseSummary CommandInput DeletedRuns FRAME_SCHEMA HEAD InboxEntry
        KEY_FILE Problem ReferenceKey StoreRevision Verification account_for_token add_account
        append_frame append_simulated authenticate begin_step cancel_case case_flow case_frame
        case_log
        case_timeline check_actor
        complete_step delete_run_sets describe_run_set disable_account empty_frame
        escalate_overdue event_frame find_case_by_ref find_simulation get_account
        get_case get_version inbox item_frame list_accounts list_cases list_run_sets
        make_engine migrate new_token normalise_reference open_schema open_store_key
        outside_lanes publish_version read_scope record record_in resolve_case_id run_set_log
        run_set_where shown_url start_case store_fingerprint store_revision
        upgrade_schema verify wall_clock write_scope
    """,
    "boflyt.analysis": """
        accuracy calibration chain compare compare_text conformance design discovery draft follows
        log_distance observed observed_cases observed_tables outcomes report_data simulation
        step_pairs trends waste
    """,
    "boflyt.analysis.simulation": """
        SLICE_ROWS Series SimulationResult build_result calendar_of chunk_size daily_levels
        frame_slices log_records merge_results simulate simulate_chunk store_cohort
        store_cohort_files summarise to_frame
    """,
    "boflyt.visualize": """
        charts diagram extraction layout measured_timeline render report report_text run_set_text
        side_by_side svg swimlane swimlane_header timeline value_stream wording
    """,
    "boflyt.flows": """
        processes_or_default work_dir_or_default
    """,
}
PUBLIC_NAMES = {package: names.split() for package, names in _PINNED.items()}

SUBMODULES_ONLY = ("boflyt.models", "boflyt.engine", "boflyt.analysis", "boflyt.visualize")


def _resolve(package: ModuleType, name: str) -> object:
    """The object ``name`` stands for: an attribute, else a submodule of that name."""
    if hasattr(package, name):
        return getattr(package, name)
    return importlib.import_module(f"{package.__name__}.{name}")


@pytest.mark.parametrize("name", list(PUBLIC_NAMES))
def test_each_package_states_exactly_its_pinned_public_names(name: str) -> None:
    package = importlib.import_module(name)
    stated = getattr(package, "__all__", None)
    assert stated is not None, f"{name} states no __all__"
    assert len(set(stated)) == len(stated), f"{name}.__all__ repeats a name"
    assert sorted(stated) == PUBLIC_NAMES[name]


@pytest.mark.parametrize("name", list(PUBLIC_NAMES))
def test_every_public_name_resolves(name: str) -> None:
    package = importlib.import_module(name)
    for public in PUBLIC_NAMES[name]:
        assert _resolve(package, public) is not None, f"{name}.{public}"


@pytest.mark.parametrize("name", SUBMODULES_ONLY)
def test_heavy_packages_list_every_module_they_hold(name: str) -> None:
    package = importlib.import_module(name)
    held = sorted(module.name for module in pkgutil.iter_modules(package.__path__))
    assert PUBLIC_NAMES[name] == held
    for public in PUBLIC_NAMES[name]:
        assert isinstance(_resolve(package, public), ModuleType), f"{name}.{public}"


def test_the_pure_case_wing_loads_no_sql_library() -> None:
    probe = (
        "import sys, boflyt.engine.case, boflyt.engine.definition, boflyt.models; "
        "print(sorted(m for m in ('sqlalchemy', 'sqlmodel', 'psycopg') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
