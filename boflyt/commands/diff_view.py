"""The rich rendering of a :class:`~boflyt.engine.definition.diff.VersionDiff` for ``boflyt
diff``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from rich.console import Group, RenderableType
from rich.table import Table

from boflyt.commands.labels import cells, lane_text, plain, value_text
from boflyt.engine.definition.diff import FieldChange, VersionDiff
from boflyt.models.definition import LaneCatalog, Step
from boflyt.models.words import DEFAULT_LANGUAGE, Language, term, word
from boflyt.visualize.wording import outcome_label

__all__ = ["diff_view"]


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    return table


def _steps_listed(title: str, steps: Iterable[Step], catalog: LaneCatalog, lang: Language) -> Table:
    table = _table(
        title, word("field.step", lang), word("field.lane", lang), word("field.kind", lang)
    )
    for step in steps:
        table.add_row(
            *cells(
                f"{step.id} ({step.name.get(lang)})",
                lane_text(step.lane, catalog, lang),
                term(step.kind, lang),
            )
        )
    return table


def _change_cells(change: FieldChange, lang: Language, catalog: LaneCatalog) -> list[str]:
    before, after = change.before, change.after
    if change.field == "lane":
        before, after = lane_text(before, catalog, lang), lane_text(after, catalog, lang)
    elif change.field == "based_on":
        before, after = (f"v{n}" if n else None for n in (before, after))
    return [word(f"field.{change.field}", lang), value_text(before, lang), value_text(after, lang)]


def _changes_table(
    title: str, rows: Iterable[tuple[str, FieldChange]], lang: Language, catalog: LaneCatalog
) -> Table:
    listed = list(rows)
    owned = any(owner for owner, _ in listed)
    heads = (word("show.change", lang), word("show.before", lang), word("show.after", lang))
    table = _table(title, *(("", *heads) if owned else heads))
    last = None
    for owner, change in listed:
        first = [owner if owner != last else ""] if owned else []
        table.add_row(*cells(*first, *_change_cells(change, lang, catalog)))
        last = owner
    return table


def _transitions_diff(diff: VersionDiff, lang: Language) -> Table:
    table = _table(
        word("show.transitions", lang), "", word("show.from_to", lang), word("field.outcome", lang)
    )
    for sign, transitions in (("−", diff.transitions_removed), ("+", diff.transitions_added)):
        for t in transitions:
            table.add_row(*cells(sign, f"{t.source} → {t.target}", outcome_label(t, lang)))
    return table


def _handoffs_diff(diff: VersionDiff, catalog: LaneCatalog, lang: Language) -> Table:
    title = f"{word('show.handoffs', lang)}: {diff.handoffs_before} → {diff.handoffs_after}"
    table = _table(title, "", word("show.from_to", lang), word("field.lane", lang))
    for sign, found in (("−", diff.handoffs_removed), ("+", diff.handoffs_added)):
        for h in found:
            lanes = (
                f"{lane_text(h.from_lane, catalog, lang)} ↪ {lane_text(h.to_lane, catalog, lang)}"
            )
            table.add_row(*cells(sign, f"{h.source} → {h.target}", lanes))
    for change in diff.handoffs_changed:
        old, new = change.before, change.after
        lanes = (
            f"{lane_text(old.from_lane, catalog, lang)} ↪ {lane_text(old.to_lane, catalog, lang)}"
            f"\n{lane_text(new.from_lane, catalog, lang)} ↪ {lane_text(new.to_lane, catalog, lang)}"
        )
        table.add_row(*cells("~", f"{new.source} → {new.target}", lanes))
    return table


def _diff_parts(
    diff: VersionDiff, catalog: LaneCatalog, lang: Language
) -> Iterator[RenderableType]:
    if diff.metadata:
        rows = [("", change) for change in diff.metadata]
        yield _changes_table(word("show.metadata", lang), rows, lang, catalog)
    if diff.lanes_removed or diff.lanes_added:
        text = ", ".join(
            [f"− {lane_text(lane, catalog, lang)}" for lane in diff.lanes_removed]
            + [f"+ {lane_text(lane, catalog, lang)}" for lane in diff.lanes_added]
        )
        yield plain(word("show.lanes_changed", lang).format(text=text))
    if diff.steps_removed:
        yield _steps_listed(word("show.steps_removed", lang), diff.steps_removed, catalog, lang)
    if diff.steps_added:
        yield _steps_listed(word("show.steps_added", lang), diff.steps_added, catalog, lang)
    if diff.steps_changed:
        rows = [(c.id, f) for c in diff.steps_changed for f in c.changes]
        yield _changes_table(word("show.steps_changed", lang), rows, lang, catalog)
    if diff.transitions_removed or diff.transitions_added:
        yield _transitions_diff(diff, lang)
    if diff.transitions_changed:
        rows = [(_arrow(c.key), f) for c in diff.transitions_changed for f in c.changes]
        yield _changes_table(word("show.transitions_changed", lang), rows, lang, catalog)
    if diff.handoffs_removed or diff.handoffs_added or diff.handoffs_changed:
        yield _handoffs_diff(diff, catalog, lang)
    else:
        yield plain(
            f"{word('show.handoffs', lang)}: {diff.handoffs_before} → {diff.handoffs_after}"
        )


def _arrow(key: tuple[str, str, str | None]) -> str:
    source, target, outcome = key
    return f"{source} → {target}" + (f" [{outcome}]" if outcome else "")


def diff_view(diff: VersionDiff, catalog: LaneCatalog, lang: Language = DEFAULT_LANGUAGE) -> Group:
    """The summary sentence, then one table per kind of change."""
    head = plain(f"{diff.before} → {diff.after}: {diff.summary(lang)}", "bold")
    if diff.is_empty and not diff.metadata:
        return Group(head, plain(word("show.no_change", lang)))
    return Group(head, *_diff_parts(diff, catalog, lang))
