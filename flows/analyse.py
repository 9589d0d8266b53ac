"""The ``compare_versions`` flow: two versions under one scenario, simulated, stored, compared.

Both versions are simulated with the same scenario and seed (chunk tasks as in
:mod:`boflyt.flows.simulate`), both cohorts go to the store (so ``boflyt compare --observed`` finds
them later), then :func:`boflyt.analysis.compare.compare` runs on the two logs and the comparison is
published as a Prefect markdown artifact (plain-language summary and the metric table) and a
table artifact. The store is the worker's (:func:`boflyt.flows.store.open_store`), never a
parameter; ``processes_dir`` and ``work_dir`` default to the worker's workspace.
"""

from __future__ import annotations

import uuid
from typing import Any

import polars as pl
from prefect import flow, task
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact

from boflyt.analysis.compare import compare
from boflyt.engine.load import load_library
from boflyt.flows import processes_or_default
from boflyt.flows.simulate import remove_chunks, simulate_and_store

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
    processes_dir: str | None = None,
) -> dict[str, Any]:
    """Compare the two simulated logs; return the comparison as plain data with summaries."""
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
    data = comparison.as_dict()
    data["summary"] = {"nb": comparison.summary("nb"), "en": comparison.summary("en")}
    return data


def comparison_markdown(data: dict[str, Any], *, lang: str = "nb") -> str:
    """The comparison as markdown: summary sentences, then one table row per metric."""
    lines = [f"# {data['process']}: v{data['before']} → v{data['after']}", ""]
    lines += [f"- {sentence}" for sentence in data["summary"][lang]]
    lines += ["", "| metric | before | after | change | 95 % CI |", "|---|---:|---:|---:|---|"]
    for row in data["rows"]:
        ci = (
            f"{row['ci_low']:.2f} … {row['ci_high']:.2f}"
            if row["ci_low"] is not None and row["ci_high"] is not None
            else ""
        )
        lines.append(
            f"| {row['en' if lang == 'en' else 'nb']} ({row['source']}) | "
            f"{_number(row['before'])} | {_number(row['after'])} | "
            f"{_number(row['change'])} | {ci} |"
        )
    return "\n".join(lines)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


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
    lang: str = "nb",
) -> dict[str, Any]:
    """Simulate ``before`` and ``after`` under ``scenario``, store both, compare them.

    Returns the two simulation ids and the comparison (plain data, as published).
    """
    ids: dict[int, str] = {}
    parts: dict[int, list[dict[str, Any]]] = {}
    for number in (before, after):
        ids[number] = str(uuid.uuid4())
        parts[number], _ = simulate_and_store(
            ids[number],
            process,
            number,
            scenario,
            cases=cases,
            seed=seed,
            chunks=chunks,
            processes_dir=processes_dir,
            work_dir=work_dir,
        )
    data = compare_parts(
        process,
        before,
        after,
        before_parts=parts[before],
        after_parts=parts[after],
        seed=seed,
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
    return {"before_simulation": ids[before], "after_simulation": ids[after], "comparison": data}
