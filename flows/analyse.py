"""The ``compare_versions`` flow: two versions under one scenario, simulated, stored, compared.

Both versions are simulated with the same scenario and seed (chunk tasks as in
:mod:`boflyt.flows.simulate`), both cohorts go to the store as two run sets (``simulated:N``, so
``boflyt compare --runs simulated:N --runs simulated:M`` finds them later), then
:func:`boflyt.analysis.compare.compare` runs on the two logs and the comparison is published as a
Prefect markdown artifact (plain-language summary and the metric table, every simulated figure
named by its run set) and a table artifact. The store is the worker's
(:func:`boflyt.flows.store.open_store`), never a parameter; ``processes_dir`` and ``work_dir``
default to the worker's workspace.
"""

from __future__ import annotations

import uuid
from typing import Any

import polars as pl
from prefect import flow, task
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact

from boflyt.analysis.compare import compare
from boflyt.engine.definition.load import load_library
from boflyt.flows import processes_or_default
from boflyt.flows.simulate import remove_chunks, simulate_and_store
from boflyt.models.runset import RunSetInfo, SimulationOrigin
from boflyt.models.words import DEFAULT_LANGUAGE, Language, format_number, languages, word
from boflyt.visualize.run_set_text import comparison_summary, run_text

__all__ = ["compare_parts", "compare_versions", "comparison_markdown"]


@task(name="compare-logs")
def compare_parts(
    process: str,
    before: int,
    after: int,
    *,
    before_parts: list[dict[str, Any]],
    after_parts: list[dict[str, Any]],
    seed: int,
    runs: list[dict[str, Any]],
    processes_dir: str | None = None,
) -> dict[str, Any]:
    """Compare the two simulated logs; return the comparison as plain data with summaries.

    ``runs`` are the two stored run sets (before, after) the logs are, as the store task
    returned them; the summaries name them, and the data keeps them under ``runs``.
    """
    library = load_library(processes_or_default(processes_dir))

    def events(parts: list[dict[str, Any]]) -> pl.DataFrame:
        return pl.concat([pl.read_parquet(part["events"]) for part in parts])

    comparison = compare(
        library.get(process, before),
        library.get(process, after),
        before_events=events(before_parts),
        after_events=events(after_parts),
        lanes=library.lanes,
        seed=seed,
    )
    sets = RunSetInfo.from_dict(runs[0]), RunSetInfo.from_dict(runs[1])
    data = comparison.as_dict()
    data["runs"] = {"before": runs[0], "after": runs[1]}
    data["labels"] = {lang: [info.label(lang) for info in sets] for lang in languages()}
    data["summary"] = {lang: comparison_summary(comparison, sets, lang) for lang in languages()}
    return data


def comparison_markdown(data: dict[str, Any], *, lang: Language = DEFAULT_LANGUAGE) -> str:
    """The comparison as markdown: summary sentences, then one table row per metric; the
    simulated rows' columns name their run sets."""
    lines = [f"# {data['process']}: v{data['before']} → v{data['after']}", ""]
    lines += [f"- {sentence}" for sentence in data["summary"][lang]]
    before, after = data["labels"][lang]
    lines += ["", f"{run_text('before', lang)}: {before} · {run_text('after', lang)}: {after}", ""]
    keys = ("analyse.metric", "run_set.before", "run_set.after", "analyse.change", "analyse.ci")
    heads = [word(key, lang) for key in keys]
    lines += ["| " + " | ".join(heads) + " |", "|---|---:|---:|---:|---|"]
    for row in data["rows"]:
        ci = (
            f"{_number(row['ci_low'], lang)} … {_number(row['ci_high'], lang)}"
            if row["ci_low"] is not None and row["ci_high"] is not None
            else ""
        )
        source = word("term.simulated" if row["source"] == "observed" else "term.designed", lang)
        name = word(f"metric.{row['key']}", lang)
        lines.append(
            f"| {name} ({source}) | {_number(row['before'], lang)} | "
            f"{_number(row['after'], lang)} | {_number(row['change'], lang)} | {ci} |"
        )
    return "\n".join(lines)


def _number(value: float | None, lang: Language) -> str:
    return "" if value is None else format_number(value, lang, 2)


@flow(name="compare-versions")
async def compare_versions(
    process: str,
    before: int,
    after: int,
    scenario: str = "default",
    cases: int = 1000,
    seed: int = 0,
    chunks: int = 1,
    processes_dir: str | None = None,
    work_dir: str | None = None,
    lang: Language = DEFAULT_LANGUAGE,
    origin: str = SimulationOrigin.SIMULATE.value,
    replace: bool = False,
) -> dict[str, Any]:
    """Simulate ``before`` and ``after`` under ``scenario``, store both, compare them.

    Each version's cohort is one run set; ``origin`` marks who stored it and ``replace``
    deletes the earlier sets of the same version and origin as it is stored (the demo's way).
    Returns the two simulation ids, the two run sets (exact names ``simulated:<id>`` under
    ``before_runs``/``after_runs``, and as data) and the comparison (plain data, as published).
    """
    ids: dict[int, str] = {}
    parts: dict[int, list[dict[str, Any]]] = {}
    stored: dict[int, dict[str, Any]] = {}
    for number in (before, after):
        ids[number] = str(uuid.uuid4())
        parts[number], _, stored[number] = simulate_and_store(
            ids[number],
            process,
            number,
            scenario,
            cases=cases,
            seed=seed,
            chunks=chunks,
            processes_dir=processes_dir,
            work_dir=work_dir,
            origin=origin,
            replace=replace,
        )
    data = compare_parts(
        process,
        before,
        after,
        before_parts=parts[before],
        after_parts=parts[after],
        seed=seed,
        runs=[stored[before], stored[after]],
        processes_dir=processes_dir,
    )
    for chunk_parts in parts.values():
        remove_chunks(chunk_parts)
    key = f"comparison-{process.replace('_', '-')}"
    await acreate_markdown_artifact(
        markdown=comparison_markdown(data, lang=lang),
        key=key,
        description=f"{process} v{before} vs v{after} ({scenario})",
    )
    await acreate_table_artifact(
        table=[
            {k: row[k] for k in ("key", "source", "before", "after", "change", "ci_low", "ci_high")}
            for row in data["rows"]
        ],
        key=f"{key}-table",
    )
    return {
        "before_simulation": ids[before],
        "after_simulation": ids[after],
        "before_runs": stored[before]["exact"],
        "after_runs": stored[after]["exact"],
        "comparison": data,
    }
