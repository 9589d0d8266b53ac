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
from boflyt.visualize.wording import waste_label

__all__ = ["card", "css_class", "fmt_number", "table_html", "texts", "waste_rows"]

_TEXTS: dict[str, tuple[str, str]] = {
    "summary": ("Kort fortalt", "In short"),
    "swimlane": ("Svømmebane", "Swimlane"),
    "before": ("før", "before"),
    "after": ("etter", "after"),
    "before_after": ("Før og etter", "Before and after"),
    "before_after_note": (
        "Etter-versjonen tegnet mot før-versjonen: grønne steg er nye, blå er endret, grå "
        "stiplede er fjernet. Tallene øverst er forventede verdier per sak.",
        "The after version drawn against the before version: green steps are new, blue are "
        "changed, grey dashed ones removed. The figures at the top are expected values per case.",
    ),
    "timeline": ("Verdistrøm: ventetid og arbeidstid", "Value stream: waiting and touch time"),
    "design": ("Designmål (forventet per sak)", "Design metrics (expected per case)"),
    "design_note": (
        "Beregnet fra prosessdefinisjonen: hvert steg vektes med forventet antall besøk per sak "
        "(forgreninger og løkker med sin sannsynlighet). 1 arbeidsdag = 7,5 timer.",
        "Computed from the process definition: each step weighted by its expected visits per "
        "case (branches and loops with their probability). 1 working day = 7.5 hours.",
    ),
    "observed": ("Målte verdier (fra saksforløp)", "Observed metrics (from case runs)"),
    "observed_note": (
        "Snitt over avsluttede saker. 95 % konfidensintervall for endringen er funnet med "
        "bootstrap (2000 trekk, fast frø).",
        "Mean over finished cases. The 95 % confidence interval of the change comes from a "
        "bootstrap (2000 resamples, fixed seed).",
    ),
    "distribution": ("Fordeling av gjennomløpstid", "Lead-time distribution"),
    "overlay": ("Målt ventetid i svømmebanen", "Measured waiting time on the swimlane"),
    "waste": ("Sløsing fjernet", "Waste removed"),
    "category": ("Kategori (steg merket)", "Category (steps tagged)"),
    "removed": ("Fjernet", "Removed"),
    "removed_steps": ("Fjernede steg", "Removed steps"),
    "duplicates": ("Dobbeltregistreringer per datafelt", "Duplicate registrations by field"),
    "metric": ("Mål", "Metric"),
    "change": ("Endring", "Change"),
    "ci": ("95 % KI for endringen", "95 % CI of the change"),
    "cases": ("saker", "cases"),
    "generated": ("Laget", "Generated"),
    "working_days": ("arbeidsdager", "working days"),
    "index_title": ("Boflyt: før og etter LEAN", "Boflyt: before and after LEAN"),
    "process": ("Prosess", "Process"),
    "versions": ("Versjoner", "Versions"),
    "handoffs": ("Overleveringer", "Handoffs"),
    "transactions": ("Transaksjoner", "Transactions"),
    "lead_time": ("Gjennomløpstid", "Lead time"),
    "note": ("Forventede verdier per sak fra prosessdefinisjonene. Laget", "Expected values "
             "per case from the process definitions. Generated"),
}  # fmt: skip

_UNITS = {"count": "", "min": " min", "wd": " d", "%": " %", "pp": " pp"}


def texts(lang: str) -> dict[str, str]:
    """Every report text in ``lang``."""
    return {key: en if lang == "en" else nb for key, (nb, en) in _TEXTS.items()}


def fmt_number(value: float | None, unit: str, lang: str = "nb") -> str:
    """A figure as printed: one decimal (none for minutes), decimal comma in bokmål.

    >>> fmt_number(12.345, "wd"), fmt_number(12.345, "wd", "en"), fmt_number(90, "min")
    ('12,3 d', '12.3 d', '90 min')
    """
    if value is None:
        return "–"
    digits = 0 if unit == "min" else 1
    text = f"{value:,.{digits}f}".replace(",", "\u2009")
    if lang != "en":
        text = text.replace(".", ",")
    return text.replace("-", "\u2212") + _UNITS.get(unit, "")


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


def card(row: Row, lang: str) -> dict[str, str]:
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


def _cell(value: float | None, unit: str, lang: str, name: str) -> str:
    raw = "" if value is None else repr(float(value))
    return f'<td class="num" data-{name}="{raw}">{escape(fmt_number(value, unit, lang))}</td>'


def _ci_cell(row: Row, lang: str) -> str:
    if row.ci_low is None or row.ci_high is None:
        return '<td class="num" data-ci="">–</td>'
    unit = _change_unit(row.unit)
    text = f"{fmt_number(row.ci_low, unit, lang)} … {fmt_number(row.ci_high, unit, lang)}"
    return f'<td class="num" data-ci="{row.ci_low!r},{row.ci_high!r}">{escape(text)}</td>'


def table_html(
    rows: Sequence[Row], name: str, lang: str, *, cases: tuple[int, int] | None = None
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


def waste_rows(wastes: Mapping[str, tuple[int, int]], lang: str) -> list[dict[str, object]]:
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
