"""Words, tables and the plain-language summary of the workshop report.

Numbers are formatted here once; every table cell also carries the unrounded value in a
``data-value`` attribute so tests (and curious readers) can check it against the analysis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
import polars as pl

from analysis.design import DesignMetrics
from analysis.observed import CASE_METRICS, ObservedMetrics
from models.definition import Version
from visualize.wording import waste_label

__all__ = [
    "MetricRow",
    "fmt_number",
    "observed_rows",
    "summary_text",
    "table_html",
    "texts",
    "waste_rows",
]

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

_UNITS = {"count": "", "min": " min", "wd": " d", "%": " %"}


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


@dataclass(frozen=True, slots=True)
class MetricRow:
    """One metric, before and after, with the change and (observed only) its 95 % CI."""

    key: str
    label: str
    unit: str
    before: float | None
    after: float | None
    ci: tuple[float, float] | None = None
    cases: tuple[int, int] | None = None

    @property
    def change(self) -> float | None:
        return None if self.before is None or self.after is None else self.after - self.before

    @property
    def pct(self) -> float | None:
        change = self.change
        return None if change is None or not self.before else 100.0 * change / self.before

    def css(self) -> str:
        """``better`` when the metric moved the good way, ``worse`` when the bad way."""
        change = self.change
        if change is None or abs(change) < 1e-9:
            return ""
        up_is_good = self.key in _UP_IS_GOOD
        return "better" if (change > 0) == up_is_good else "worse"

    def card(self, lang: str) -> dict[str, str]:
        pct = self.pct
        return {
            "key": self.key,
            "label": self.label,
            "before": fmt_number(self.before, self.unit, lang),
            "after": fmt_number(self.after, self.unit, lang),
            "pct": "" if pct is None else _signed(fmt_number(pct, "%", lang), pct),
            "css": self.css(),
        }


def _signed(text: str, value: float) -> str:
    return f"+{text}" if value > 0 else text


_UP_IS_GOOD = {"activity_ratio", "rolled_ca", "steps_value_adding"}


def _cell(value: float | None, unit: str, lang: str, name: str) -> str:
    raw = "" if value is None else repr(float(value))
    return f'<td class="num" data-{name}="{raw}">{escape(fmt_number(value, unit, lang))}</td>'


def table_html(rows: Sequence[MetricRow], name: str, lang: str) -> str:
    """The metrics table (design or observed) as HTML; raw values in ``data-*`` attributes."""
    t = texts(lang)
    with_ci = any(r.ci is not None for r in rows)
    head = [t["metric"], "", "", t["change"], "%"] + ([t["ci"]] if with_ci else [])
    if rows and rows[0].cases is not None:
        n0, n1 = rows[0].cases or (0, 0)
        head[1], head[2] = f"{t['before']} (n={n0})", f"{t['after']} (n={n1})"
    else:
        head[1], head[2] = t["before"], t["after"]
    lines = [f'<table class="metrics" data-table="{escape(name)}"><thead><tr>']
    lines += [f"<th>{escape(h)}</th>" for h in head]
    lines.append("</tr></thead><tbody>")
    for row in rows:
        cells = [
            f"<td>{escape(row.label)}</td>",
            _cell(row.before, row.unit, lang, "before"),
            _cell(row.after, row.unit, lang, "after"),
            _cell(row.change, row.unit, lang, "change").replace(
                'class="num"', f'class="num {row.css()}"'
            ),
            _cell(row.pct, "%", lang, "pct").replace(
                ">", f">{'+' if (row.pct or 0) > 0 else ''}", 1
            ),
        ]
        if with_ci:
            ci = row.ci
            text = (
                "–"
                if ci is None
                else (f"{fmt_number(ci[0], row.unit, lang)} … {fmt_number(ci[1], row.unit, lang)}")
            )
            raw = "" if ci is None else f"{ci[0]!r},{ci[1]!r}"
            cells.append(f'<td class="num" data-ci="{raw}">{escape(text)}</td>')
        lines.append(f'<tr data-metric="{escape(row.key)}">{"".join(cells)}</tr>')
    lines.append("</tbody></table>")
    return "".join(lines)


def _finished(observed: ObservedMetrics, version: Version) -> pl.DataFrame:
    return observed.cases.filter(
        (pl.col("status") == "finished")
        & (pl.col("process") == version.process)
        & (pl.col("version") == version.version)
    )


def bootstrap_ci(
    before: np.ndarray, after: np.ndarray, *, seed: int, resamples: int = 2000
) -> tuple[float, float] | None:
    """95 % percentile-bootstrap interval of ``mean(after) - mean(before)``."""
    if before.size < 2 or after.size < 2:
        return None
    rng = np.random.default_rng(seed)
    b = rng.choice(before, size=(resamples, before.size)).mean(axis=1)
    a = rng.choice(after, size=(resamples, after.size)).mean(axis=1)
    low, high = np.percentile(a - b, [2.5, 97.5])
    return float(low), float(high)


def observed_rows(
    before: ObservedMetrics,
    after: ObservedMetrics,
    v_before: Version,
    v_after: Version,
    *,
    lang: str,
    seed: int = 0,
) -> list[MetricRow]:
    """One row per per-case metric: means over finished cases, change and bootstrap CI."""
    b, a = _finished(before, v_before), _finished(after, v_after)
    rows = []
    for metric in CASE_METRICS:
        xb = b[metric.key].drop_nulls().cast(pl.Float64).to_numpy()
        xa = a[metric.key].drop_nulls().cast(pl.Float64).to_numpy()
        rows.append(
            MetricRow(
                metric.key,
                metric.label(lang),
                metric.unit,
                float(xb.mean()) if xb.size else None,
                float(xa.mean()) if xa.size else None,
                ci=bootstrap_ci(xb, xa, seed=seed),
                cases=(b.height, a.height),
            )
        )
    return rows


def waste_rows(
    before: Mapping[str, int], after: Mapping[str, int], lang: str
) -> list[dict[str, object]]:
    """Per LEAN waste category: steps tagged before, after and the difference."""
    return [
        {
            "key": key,
            "label": waste_label(key, lang),
            "before": before.get(key, 0),
            "after": after.get(key, 0),
            "removed": before.get(key, 0) - after.get(key, 0),
        }
        for key in before
    ]


def _pct_text(before: float, after: float, lang: str) -> str:
    if not before:
        return ""
    pct = 100.0 * (after - before) / before
    return _signed(fmt_number(pct, "%", lang), pct)


def summary_text(
    before: Version,
    after: Version,
    m_before: DesignMetrics,
    m_after: DesignMetrics,
    observed: Sequence[MetricRow],
    lang: str,
) -> str:
    """A few plain sentences generated from the figures (design first, observed if any)."""
    h0, h1 = m_before["expected_handoffs"], m_after["expected_handoffs"]
    x0, x1 = m_before["expected_transactions"], m_after["expected_transactions"]
    l0, l1 = m_before["lead_days"], m_after["lead_days"]
    w0, w1 = m_before["waste_tags"], m_after["waste_tags"]
    d0, d1 = m_before["duplicate_registrations"], m_after["duplicate_registrations"]
    f = fmt_number
    vb, va = f"v{before.version}", f"v{after.version}"
    if lang == "en":
        parts = [
            f"{va} changes expected handoffs per case from {f(h0, 'count', lang)} to "
            f"{f(h1, 'count', lang)} ({_pct_text(h0, h1, lang)}) and transactions from "
            f"{f(x0, 'count', lang)} to {f(x1, 'count', lang)} ({_pct_text(x0, x1, lang)}).",
            f"The expected lead time goes from {f(l0, 'wd', lang)} to {f(l1, 'wd', lang)} "
            f"({_pct_text(l0, l1, lang)}) compared with {vb}.",
            f"Waste tags: {w0:.0f} → {w1:.0f}; duplicate registrations: {d0:.0f} → {d1:.0f}.",
        ]
    else:
        parts = [
            f"{va} endrer forventede overleveringer per sak fra {f(h0, 'count', lang)} til "
            f"{f(h1, 'count', lang)} ({_pct_text(h0, h1, lang)}) og transaksjonene fra "
            f"{f(x0, 'count', lang)} til {f(x1, 'count', lang)} ({_pct_text(x0, x1, lang)}).",
            f"Forventet gjennomløpstid går fra {f(l0, 'wd', lang)} til {f(l1, 'wd', lang)} "
            f"({_pct_text(l0, l1, lang)}) sammenlignet med {vb}.",
            f"Sløsingsmerker: {w0:.0f} → {w1:.0f}; dobbeltregistreringer: {d0:.0f} → {d1:.0f}.",
        ]
    lead = next((r for r in observed if r.key == "lead_days"), None)
    if lead is not None and lead.before is not None and lead.after is not None:
        n0, n1 = lead.cases or (0, 0)
        if lang == "en":
            parts.append(
                f"Measured over {n0} and {n1} finished cases, the mean lead time went from "
                f"{f(lead.before, 'wd', lang)} to {f(lead.after, 'wd', lang)}."
            )
        else:
            parts.append(
                f"Målt over {n0} og {n1} avsluttede saker gikk snittet for gjennomløpstid fra "
                f"{f(lead.before, 'wd', lang)} til {f(lead.after, 'wd', lang)}."
            )
    return " ".join(parts)
