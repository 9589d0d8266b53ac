"""The rich rendering of one version for ``boflyt show``.

Metadata in a panel, the lanes with their labels, the steps in flow order (a table when the
terminal is wide enough, else a list) and the transitions with handoffs marked ↪.
"""

from __future__ import annotations

from rich import box
from rich.console import Console, Group, RenderableType
from rich.measure import Measurement
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from boflyt.commands.labels import cells, lane_text, plain, value_text
from boflyt.engine.definition.diff import transition_key
from boflyt.engine.definition.diff_text import format_value
from boflyt.engine.definition.graph import flow_order, handoffs
from boflyt.models.definition import Duration, LaneCatalog, Step, Transition, Version
from boflyt.models.vocabulary import ValueClass
from boflyt.models.words import DEFAULT_LANGUAGE, Language, format_number, term, word
from boflyt.visualize.wording import outcome_label

__all__ = ["version_view"]


def _header(version: Version, lang: Language) -> Panel:
    based = f"v{version.based_on}" if version.based_on else "—"
    lines = [
        plain(f"{version.key} · {version.label} · {term(version.status, lang)}", "bold"),
        plain(
            f"{word('field.owner', lang)}: {version.owner} · {word('field.date', lang)}: "
            f"{version.date.isoformat()} · {word('field.based_on', lang)}: {based} · "
            f"{word('field.hash', lang)}: {version.content_hash[:12]}"
        ),
    ]
    if version.summary.strip():
        lines.append(plain(" ".join(version.summary.split()), "dim"))
    return Panel(Group(*lines), title=plain(version.name.get(lang), "bold"), title_align="left")


def _lanes_line(version: Version, catalog: LaneCatalog, lang: Language) -> Text:
    parts = []
    for number, lane_id in enumerate(version.lanes, start=1):
        lane = catalog.get(lane_id)
        outside = f", {word('show.outside', lang)}" if lane is not None and lane.outside else ""
        parts.append(f"{number} {lane_text(lane_id, catalog, lang)} ({lane_id}{outside})")
    return plain(f"{word('show.lanes', lang)}: " + " · ".join(parts))


_VALUE_CODES = {
    ValueClass.VALUE_ADDING: "VA",
    ValueClass.NECESSARY: "BNVA",
    ValueClass.WASTE: "NVA",
}
"""The LEAN codes shown in the steps table (the legend below it spells them out)."""

_ENGINE_KINDS = frozenset({"start", "end", "parallel", "join"})
"""Kinds the engine does on its own: no touch time, value or %C&A worth showing."""


def _duration_cell(duration: Duration, lang: Language) -> str:
    return "" if duration.high == 0 else value_text(duration, lang)


def _step_row(number: int, step: Step, catalog: LaneCatalog, lang: Language) -> list[str]:
    wait = _duration_cell(step.wait_days, lang)
    if step.external_wait:
        wait += "*"
    deadline = (
        f"\n{word('field.deadline', lang)}: {format_value(step.deadline, lang)}"
        if step.deadline is not None
        else ""
    )
    return [
        f"{number}. {step.id}\n{step.name.get(lang)}{deadline}",
        " + ".join(lane_text(lane, catalog, lang) for lane in step.lanes),
        term(step.kind, lang),
        _duration_cell(step.touch_minutes, lang),
        wait,
        "" if step.value is None else _VALUE_CODES[step.value],
        "\n".join(term(waste, lang) for waste in step.wastes),
        "" if step.channel is None else term(step.channel, lang),
        ""
        if step.kind.value in _ENGINE_KINDS
        else format_number(step.complete_accurate, lang, None),
    ]


_STEP_COLUMNS = (
    "step",
    "lane",
    "kind",
    "touch_short",
    "wait_short",
    "value",
    "wastes",
    "channel",
    "complete_accurate",
)
_SHOW_COLUMNS = frozenset({"touch_short", "wait_short"})
_TABLE_SLACK = 10
_NUMERIC = frozenset({"touch_short", "wait_short", "complete_accurate"})


def _column_key(key: str) -> str:
    return f"show.{key}" if key in _SHOW_COLUMNS else f"field.{key}"


def _steps_table(version: Version, catalog: LaneCatalog, lang: Language) -> Table:
    table = Table(
        title=word("show.steps", lang), title_justify="left", box=box.SIMPLE_HEAD, show_lines=True
    )
    widest_id = max((len(step.id) for step in version.steps), default=4)
    for key in _STEP_COLUMNS:
        table.add_column(
            word(_column_key(key), lang),
            justify="right" if key in _NUMERIC else "left",
            min_width=widest_id + 4 if key == "step" else None,
        )
    for number, step in enumerate(flow_order(version), start=1):
        table.add_row(*cells(*_step_row(number, step, catalog, lang)))
    return table


def _steps_list(version: Version, catalog: LaneCatalog, lang: Language) -> Group:
    """The steps table as a list, for terminals too narrow for the table."""
    headings = [word(_column_key(key), lang).replace("\n", " ") for key in _STEP_COLUMNS]
    lines: list[RenderableType] = [plain(word("show.steps", lang), "italic")]
    for number, step in enumerate(flow_order(version), start=1):
        first, *rest = _step_row(number, step, catalog, lang)
        details = " · ".join(
            f"{heading}: {cell.replace(chr(10), ', ')}"
            for heading, cell in zip(headings[1:], rest, strict=True)
            if cell
        )
        lines.append(plain(first.replace("\n", " — "), "bold"))
        lines.append(Padding(plain(details), (0, 0, 0, 4)))
    return Group(*lines)


def _steps_view(
    version: Version, catalog: LaneCatalog, lang: Language, width: int
) -> RenderableType:
    table = _steps_table(version, catalog, lang)
    probe = Console(width=10_000)  # measure unclamped: Measurement.get caps at the width
    # rich shares out the shrinking in proportion, not word by word, so a table needs some
    # columns more than its measured minimum before nothing is cut off (10 covers the library).
    if Measurement.get(probe, probe.options, table).minimum + _TABLE_SLACK <= width:
        return table
    return _steps_list(version, catalog, lang)


def _ordered_transitions(version: Version) -> list[Transition]:
    rank = {step.id: index for index, step in enumerate(flow_order(version))}
    return sorted(version.transitions, key=lambda t: rank.get(t.source, len(rank)))


def _transitions_table(version: Version, catalog: LaneCatalog, lang: Language) -> Table:
    crossing = {transition_key(h.transition): h for h in handoffs(version)}
    table = Table(title=word("show.transitions", lang), title_justify="left")
    table.add_column(word("show.from_to", lang))
    table.add_column(word("field.outcome", lang))
    table.add_column("p", justify="right")
    table.add_column("↻")
    table.add_column(word("show.handoff", lang))
    for transition in _ordered_transitions(version):
        handoff = crossing.get(transition_key(transition))
        crossed = (
            f"↪ {lane_text(handoff.from_lane, catalog, lang)} → "
            f"{lane_text(handoff.to_lane, catalog, lang)}"
            if handoff
            else ""
        )
        table.add_row(
            *cells(
                f"{transition.source} → {transition.target}",
                outcome_label(transition, lang),
                ""
                if transition.probability is None
                else format_number(transition.probability, lang, None),
                "↻" if transition.rework else "",
                crossed,
            )
        )
    return table


def version_view(
    version: Version, catalog: LaneCatalog, lang: Language = DEFAULT_LANGUAGE, *, width: int = 200
) -> Group:
    """Metadata, lanes, steps in flow order and transitions with handoffs marked ↪.

    The steps are a table when it fits in ``width`` columns, else a list.
    """
    counts = word(
        "show.count_line",
        lang,
        steps=len(version.steps),
        transitions=len(version.transitions),
        handoffs=len(handoffs(version)),
    )
    return Group(
        _header(version, lang),
        _lanes_line(version, catalog, lang),
        _steps_view(version, catalog, lang, width),
        plain(word("show.legend", lang), "dim"),
        _transitions_table(version, catalog, lang),
        plain(counts, "bold"),
    )
