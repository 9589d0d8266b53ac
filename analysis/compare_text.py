"""Plain-language sentences from a before/after comparison, in bokmål or English.

Every sentence is generated from the figures of a :class:`~boflyt.analysis.compare.Comparison`;
nothing is written that the numbers do not say.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from boflyt.models.vocabulary import Waste

if TYPE_CHECKING:
    from boflyt.analysis.compare import Comparison, Row

__all__ = ["WASTE_LABELS", "format_number", "sentences"]

WASTE_LABELS: dict[str, tuple[str, str]] = {
    Waste.TRANSPORT.value: ("transport", "transport"),
    Waste.INVENTORY.value: ("lager", "inventory"),
    Waste.MOTION.value: ("bevegelse", "motion"),
    Waste.WAITING.value: ("venting", "waiting"),
    Waste.OVERPRODUCTION.value: ("overproduksjon", "overproduction"),
    Waste.OVERPROCESSING.value: ("overprosessering", "overprocessing"),
    Waste.DEFECTS.value: ("feil", "defects"),
    Waste.UNUSED_SKILLS.value: ("ubrukt kompetanse", "unused skills"),
}
"""(bokmål, English) name of each LEAN waste."""

_UNITS = {
    "wd": ("virkedager", "working days"),
    "min": ("minutter", "minutes"),
    "%": ("%", "%"),
    "count": ("", ""),
}


def format_number(value: float, lang: str, digits: int = 1) -> str:
    """``1234.5`` → ``1 234,5`` (nb) or ``1,234.5`` (en); a minus sign, not a hyphen.

    >>> format_number(-1234.56, "nb"), format_number(-1234.56, "en")
    ('−1 234,6', '−1,234.6')
    """
    text = f"{value:,.{digits}f}".replace("-", "−")
    if lang == "en":
        return text
    return text.replace(",", " ").replace(".", ",")


def _pct(row: Row, lang: str) -> str:
    if row.pct_change is None:
        return ""
    sign = "+" if row.pct_change > 0 else ""
    return f" ({sign}{format_number(row.pct_change, lang, 0)} %)"


def _unit(row: Row, lang: str) -> str:
    word = _UNITS.get(row.unit, ("", ""))[lang == "en"]
    return f" {word}" if word and word != "%" else word


def _count_sentence(
    c: Comparison, key: str, words: tuple[str, str], lang: str, *, per_case: bool = True
) -> str | None:
    row = c.row(key)
    if row.before is None or row.after is None:
        return None
    digits = 1 if per_case else 0
    b, a = format_number(row.before, lang, digits), format_number(row.after, lang, digits)
    v1, v2, word = f"v{c.before}", f"v{c.after}", words[lang == "en"]
    each = (" per case" if lang == "en" else " per sak") if per_case else ""
    if row.after < row.before:
        gone = format_number(row.before - row.after, lang, digits)
        if lang == "en":
            return f"{v2} removes {gone} of {b} {word}{each}{_pct(row, lang)}."
        return f"{v2} fjerner {gone} av {b} {word}{each}{_pct(row, lang)}."
    if lang == "en":
        return f"{v2} has {a} {word}{each} against {b} in {v1}{_pct(row, lang)}."
    return f"{v2} har {a} {word}{each} mot {b} i {v1}{_pct(row, lang)}."


def _time_sentence(c: Comparison, lang: str) -> str:
    lead, ctrl = c.row("lead_days"), c.row("controllable_lead_days")
    f = format_number
    assert lead.before is not None and lead.after is not None
    assert ctrl.before is not None and ctrl.after is not None
    if lang == "en":
        return (
            f"Expected lead time goes from {f(lead.before, lang)} to {f(lead.after, lang)} "
            f"working days{_pct(lead, lang)}; the part the organisations control from "
            f"{f(ctrl.before, lang)} to {f(ctrl.after, lang)}{_pct(ctrl, lang)}."
        )
    return (
        f"Forventet gjennomløpstid går fra {f(lead.before, lang)} til {f(lead.after, lang)} "
        f"virkedager{_pct(lead, lang)}; den delen organisasjonene styrer selv fra "
        f"{f(ctrl.before, lang)} til {f(ctrl.after, lang)}{_pct(ctrl, lang)}."
    )


def _steps_sentence(c: Comparison, lang: str) -> str:
    r, a, k = len(c.steps_removed), len(c.steps_added), len(c.steps_changed)
    if lang == "en":
        return f"v{c.after} removes {r} steps, adds {a} and changes {k} kept from v{c.before}."
    kept = f"som er beholdt fra v{c.before}"
    return f"v{c.after} tar bort {r} steg, legger til {a} og endrer {k} {kept}."


def _lane(c: Comparison, lane: str, lang: str) -> str:
    found = c.lanes.get(lane) if c.lanes is not None else None
    return found.name.get(lang) if found is not None else lane


def _handoff_sentence(c: Comparison, lang: str) -> str:
    gone = [(f, t) for f, t, b, a in c.lane_pairs if b > 0 and a == 0]
    pairs = ", ".join(f"{_lane(c, f, lang)} → {_lane(c, t, lang)}" for f, t in gone)
    if lang == "en":
        text = (
            f"Handoff edges in the flow: {c.handoffs_before} → {c.handoffs_after} "
            f"({len(c.handoffs_removed)} removed, {len(c.handoffs_added)} new)."
        )
        return text + (f" Lane pairs with no handoff left: {pairs}." if pairs else "")
    text = (
        f"Overleveringer i flyten: {c.handoffs_before} → {c.handoffs_after} "
        f"({len(c.handoffs_removed)} fjernet, {len(c.handoffs_added)} nye)."
    )
    return text + (f" Ingen overleveringer lenger mellom: {pairs}." if pairs else "")


def _waste_sentence(c: Comparison, lang: str) -> str | None:
    fewer = [(w, b, a) for w, (b, a) in c.wastes.items() if a < b]
    if not fewer:
        return None
    parts = ", ".join(f"{WASTE_LABELS[w][lang == 'en']} {b} → {a}" for w, b, a in fewer)
    if lang == "en":
        return f"Steps tagged with each waste: {parts}."
    return f"Steg merket med sløsing: {parts}."


def _observed_sentence(row: Row, lang: str) -> str:
    f = format_number
    assert row.before is not None and row.after is not None and row.change is not None
    ci = ""
    if row.ci_low is not None and row.ci_high is not None:
        lo, hi = f(row.ci_low, lang, 2), f(row.ci_high, lang, 2)
        ci = f"; 95 % CI {lo} to {hi}" if lang == "en" else f"; 95 % KI {lo} til {hi}"
    diff = f(row.change, lang, 2)
    if lang == "en":
        return (
            f"Observed {row.en.lower()}: {f(row.before, lang)} → {f(row.after, lang)}"
            f"{_unit(row, lang)} per finished case (difference {diff}{ci})."
        )
    return (
        f"Observert {row.nb.lower()}: {f(row.before, lang)} → {f(row.after, lang)}"
        f"{_unit(row, lang)} per avsluttet sak (forskjell {diff}{ci})."
    )


def sentences(c: Comparison, lang: str = "nb") -> list[str]:
    """The comparison as plain-language sentences; ``lang`` is ``nb`` or ``en``."""
    found = [
        _count_sentence(c, "expected_handoffs",
                        ("forventede overleveringer", "expected handoffs"), lang),
        _count_sentence(c, "expected_transactions",
                        ("forventede transaksjoner", "expected transactions"), lang),
        _count_sentence(c, "duplicate_registrations",
                        ("dobbeltregistreringer", "duplicate registrations"), lang,
                        per_case=False),
        _time_sentence(c, lang),
        _steps_sentence(c, lang),
        _handoff_sentence(c, lang),
        _waste_sentence(c, lang),
    ]  # fmt: skip
    found += [_observed_sentence(row, lang) for row in c.rows if row.source == "observed"]
    return [s for s in found if s]
