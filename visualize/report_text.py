"""Words and tables of the workshop report.

Numbers come from :class:`~boflyt.analysis.compare.Comparison` rows and are formatted here once;
every
table cell also carries the unrounded value in a ``data-*`` attribute, so tests (and curious
readers) can check the page against the analysis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from boflyt.analysis.compare import Row
from boflyt.analysis.outcomes import DESIGNED, OutcomeFigure, designed_outcomes
from boflyt.models.definition import OutcomeMetric, Version
from boflyt.models.words import DEFAULT_LANGUAGE, Language, entries, format_number, word
from boflyt.visualize.wording import waste_label

__all__ = [
    "card",
    "css_class",
    "fmt_number",
    "outcome_table_html",
    "table_html",
    "texts",
    "waste_rows",
]

_UNITS = {"count": "", "min": " min", "wd": " d", "%": " %", "pp": " pp"}


def texts(lang: Language) -> dict[str, str]:
    """Every report text in ``lang``: the ``report`` group of the word catalogue."""
    prefix = "report."
    return {
        key.removeprefix(prefix): value
        for key, value in entries(lang).items()
        if key.startswith(prefix) and isinstance(value, str)
    }


def fmt_number(value: float | None, unit: str, lang: Language = DEFAULT_LANGUAGE) -> str:
    """A figure as printed: one decimal (none for minutes) by :func:`format_number`, and its unit.

    >>> fmt_number(12.345, "wd"), fmt_number(12.345, "wd", "en"), fmt_number(1090, "min")
    ('12,3 d', '12.3 d', '1\u202f090 min')
    """
    if value is None:
        return "–"
    return format_number(value, lang, 0 if unit == "min" else 1) + _UNITS.get(unit, "")


def _signed(text: str, value: float) -> str:
    return f"+{text}" if value > 0 else text


_UP_IS_GOOD = {"activity_ratio", "rolled_ca", "steps_value_adding"}


def css_class(row: Row) -> str:
    """``better`` when a metric moved the good way, ``worse`` when the bad way, else empty."""
    if row.change is None or abs(row.change) < 1e-9:
        return ""
    up_is_good = row.key.removeprefix("observed_") in _UP_IS_GOOD
    return "better" if (row.change > 0) == up_is_good else "worse"


def _change_unit(unit: str) -> str:
    """Changes of a percentage are in percentage points."""
    return "pp" if unit == "%" else unit


def card(row: Row, lang: Language) -> dict[str, str]:
    """A headline card: label, before → after and the change in %."""
    pct = row.pct_change
    if pct is not None:
        change = _signed(fmt_number(pct, "%", lang), pct)
    elif row.change is not None:
        change = _signed(fmt_number(row.change, "pp", lang), row.change)
    else:
        change = ""
    return {
        "key": row.key,
        "label": row.label(lang),
        "before": fmt_number(row.before, row.unit, lang),
        "after": fmt_number(row.after, row.unit, lang),
        "pct": change,
        "css": css_class(row),
    }


def _cell(value: float | None, unit: str, lang: Language, name: str) -> str:
    raw = "" if value is None else repr(float(value))
    return f'<td class="num" data-{name}="{raw}">{escape(fmt_number(value, unit, lang))}</td>'


def _ci_cell(row: Row, lang: Language) -> str:
    if row.ci_low is None or row.ci_high is None:
        return '<td class="num" data-ci="">–</td>'
    unit = _change_unit(row.unit)
    text = f"{fmt_number(row.ci_low, unit, lang)} … {fmt_number(row.ci_high, unit, lang)}"
    return f'<td class="num" data-ci="{row.ci_low!r},{row.ci_high!r}">{escape(text)}</td>'


def table_html(
    rows: Sequence[Row], name: str, lang: Language, *, cases: tuple[int, int] | None = None
) -> str:
    """A metrics table (design or observed rows of a Comparison); raw values in ``data-*``."""
    t = texts(lang)
    with_ci = any(r.ci_low is not None for r in rows)
    before, after = t["before"], t["after"]
    if cases is not None:
        before, after = f"{before} (n={cases[0]})", f"{after} (n={cases[1]})"
    head = [t["metric"], before, after, t["change"], "%"] + ([t["ci"]] if with_ci else [])
    lines = [f'<table class="metrics" data-table="{escape(name)}"><thead><tr>']
    lines += [f"<th>{escape(h)}</th>" for h in head]
    lines.append("</tr></thead><tbody>")
    for row in rows:
        pct = row.pct_change
        cells = [
            f"<td>{escape(row.label(lang))}</td>",
            _cell(row.before, row.unit, lang, "before"),
            _cell(row.after, row.unit, lang, "after"),
            _cell(row.change, _change_unit(row.unit), lang, "change").replace(
                'class="num"', f'class="num {css_class(row)}"'
            ),
            _cell(pct, "%", lang, "pct").replace(">", ">+" if (pct or 0) > 0 else ">", 1),
        ]
        if with_ci:
            cells.append(_ci_cell(row, lang))
        lines.append(f'<tr data-metric="{escape(row.key)}">{"".join(cells)}</tr>')
    lines.append("</tbody></table>")
    return "".join(lines)


def waste_rows(wastes: Mapping[str, tuple[int, int]], lang: Language) -> list[dict[str, object]]:
    """Per LEAN waste category: steps tagged before, after and how many fewer."""
    return [
        {
            "key": key,
            "label": waste_label(key, lang),
            "before": before,
            "after": after,
            "removed": before - after,
        }
        for key, (before, after) in wastes.items()
    ]


# --- outcome metrics -----------------------------------------------------------------------


def _outcome_cell(figure: OutcomeFigure | None, lang: Language, column: str) -> str:
    """A share as %, a time in working days with the share of cases reaching the steps."""
    if figure is None or figure.reach is None:
        return f'<td class="num" data-column="{column}" data-value="">–</td>'
    share = fmt_number(100 * figure.reach, "%", lang)
    text = share
    if figure.measure == "time_to":
        days = fmt_number(figure.value, "wd", lang)
        text = word("outcome.reached", lang, value=days, share=share)
    raw = "" if figure.value is None else repr(float(figure.value))
    data = f'data-column="{column}" data-value="{raw}" data-reach="{figure.reach!r}"'
    return f'<td class="num" {data}>{escape(text)}</td>'


def _change_cell(old: OutcomeFigure | None, new: OutcomeFigure | None, lang: Language) -> str:
    if old is None or new is None or old.value is None or new.value is None:
        return '<td class="num" data-change="">–</td>'
    share = new.measure == "share"
    change = (new.value - old.value) * (100 if share else 1)
    text = fmt_number(change, "pp" if share else "wd", lang)
    return f'<td class="num" data-change="{change!r}">{escape(_signed(text, change))}</td>'


def _column(version: Version, figure: OutcomeFigure, lang: Language) -> tuple[str, str]:
    if figure.source == DESIGNED:
        head = word("term.designed", lang)
    else:
        source = word(f"mode.{figure.source}", lang)
        head = word("outcome.logged", lang, source=source, cases=figure.cases)
    return f"v{version.version}:{figure.source}", f"{version.key}: {head}"


def outcome_table_html(
    before: Version,
    after: Version,
    logged: tuple[Sequence[OutcomeFigure], Sequence[OutcomeFigure]],
    lang: Language,
    *,
    designed: tuple[Sequence[OutcomeFigure], Sequence[OutcomeFigure]] | None = None,
) -> str:
    """The outcome metrics of two versions: designed before and after with the change, then
    each source of each version's event log with its n; raw values in ``data-*``. Empty when
    neither version declares outcome metrics. ``designed`` are the designed figures when
    already computed (a report's :class:`~boflyt.analysis.report_data.ReportData`)."""
    metrics: dict[str, OutcomeMetric] = {m.id: m for m in before.outcome_metrics}
    metrics |= {m.id: m for m in after.outcome_metrics}
    if not metrics:
        return ""
    sides = (before, after)
    if designed is None:
        designed = (designed_outcomes(before), designed_outcomes(after))
    figures = [[*d, *logs] for d, logs in zip(designed, logged, strict=True)]
    columns: dict[str, str] = {}
    found: dict[tuple[str, str], OutcomeFigure] = {}
    for version, side in zip(sides, figures, strict=True):
        for figure in side:
            key, title = _column(version, figure, lang)
            columns.setdefault(key, title)
            found[(figure.metric, key)] = figure
    planned = [f"v{v.version}:{DESIGNED}" for v in sides]
    logs = [key for key in columns if key not in planned]
    head = [word("outcome.metric", lang), *(columns[k] for k in planned), texts(lang)["change"]]
    lines = ['<table class="metrics" data-table="outcomes"><thead><tr>']
    lines += [f"<th>{escape(h)}</th>" for h in [*head, *(columns[k] for k in logs)]]
    lines.append("</tr></thead><tbody>")
    for key, metric in metrics.items():
        old, new = (found.get((key, k)) for k in planned)
        cells = [f"<td>{escape(metric.name.get(lang))}</td>"]
        cells += [_outcome_cell(old, lang, planned[0]), _outcome_cell(new, lang, planned[1])]
        cells.append(_change_cell(old, new, lang))
        cells += [_outcome_cell(found.get((key, k)), lang, k) for k in logs]
        lines.append(f'<tr data-metric="{escape(key)}">{"".join(cells)}</tr>')
    lines.append("</tbody></table>")
    return "".join(lines)
