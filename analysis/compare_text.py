"""Plain-language sentences from a before/after comparison, in bokmål or English.

Every sentence is generated from the figures of a :class:`~boflyt.analysis.compare.Comparison`;
nothing is written that the numbers do not say.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from boflyt.models.vocabulary import Waste
from boflyt.models.words import DEFAULT_LANGUAGE, Language, format_number, term, word

if TYPE_CHECKING:
    from boflyt.analysis.compare import Comparison, Row

__all__ = ["sentences"]

_UNITS = {"wd": "unit.wd", "min": "unit.minutes"}
"""Units spelled out in a sentence; ``%`` and counts need no word."""


def _pct(row: Row, lang: Language) -> str:
    if row.pct_change is None:
        return ""
    sign = "+" if row.pct_change > 0 else ""
    return f" ({sign}{format_number(row.pct_change, lang, 0)} %)"


def _unit(row: Row, lang: Language) -> str:
    if row.unit == "%":
        return " %"
    return f" {word(_UNITS[row.unit], lang)}" if row.unit in _UNITS else ""


def _count_sentence(
    c: Comparison, key: str, lang: Language, *, per_case: bool = True
) -> str | None:
    row = c.row(key)
    if row.before is None or row.after is None:
        return None
    digits = 1 if per_case else 0
    fields = {
        "before": format_number(row.before, lang, digits),
        "value": format_number(row.after, lang, digits),
        "old": f"v{c.before}",
        "after": f"v{c.after}",
        "what": word(f"compare.{key}", lang),
        "each": f" {word('compare.per_case', lang)}" if per_case else "",
        "pct": _pct(row, lang),
    }
    if row.after < row.before:
        gone = format_number(row.before - row.after, lang, digits)
        return word("compare.removes", lang, gone=gone, **fields)
    return word("compare.has", lang, **fields)


def _time_sentence(c: Comparison, lang: Language) -> str:
    lead, ctrl = c.row("lead_days"), c.row("controllable_lead_days")
    assert lead.before is not None and lead.after is not None
    assert ctrl.before is not None and ctrl.after is not None
    return word(
        "compare.time",
        lang,
        lead_before=format_number(lead.before, lang),
        lead_after=format_number(lead.after, lang),
        lead_pct=_pct(lead, lang),
        ctrl_before=format_number(ctrl.before, lang),
        ctrl_after=format_number(ctrl.after, lang),
        ctrl_pct=_pct(ctrl, lang),
    )


def _story(
    key: str, lang: Language, before: int, after: int, removed: int, added: int, **more: int
) -> str:
    """One sentence of the structural story: ``key`` before → after, removed and added."""
    return word(f"compare.{key}", lang, before=before, after=after, removed=removed,
                added=added, **more)  # fmt: skip


def _steps_sentence(c: Comparison, lang: Language) -> str:
    removed, added = len(c.steps_removed), len(c.steps_added)
    return _story("steps", lang, c.before, c.after, removed, added, changed=len(c.steps_changed))


def _lane(c: Comparison, lane: str, lang: Language) -> str:
    found = c.lanes.get(lane) if c.lanes is not None else None
    return found.name.get(lang) if found is not None else lane


def _handoff_sentence(c: Comparison, lang: Language) -> str:
    gone = [(f, t) for f, t, b, a in c.lane_pairs if b > 0 and a == 0]
    pairs = ", ".join(f"{_lane(c, f, lang)} → {_lane(c, t, lang)}" for f, t in gone)
    removed, added = len(c.handoffs_removed), len(c.handoffs_added)
    text = _story("handoffs", lang, c.handoffs_before, c.handoffs_after, removed, added)
    return text + (" " + word("compare.no_handoff_left", lang, pairs=pairs) if pairs else "")


def _waste_sentence(c: Comparison, lang: Language) -> str | None:
    fewer = [(w, b, a) for w, (b, a) in c.wastes.items() if a < b]
    if not fewer:
        return None
    parts = ", ".join(f"{term(Waste(w), lang)} {b} → {a}" for w, b, a in fewer)
    return word("compare.wastes", lang, parts=parts)


def _observed_sentence(row: Row, lang: Language) -> str:
    f = format_number
    assert row.before is not None and row.after is not None and row.change is not None
    ci = ""
    if row.ci_low is not None and row.ci_high is not None:
        ci = word("compare.ci", lang, low=f(row.ci_low, lang, 2), high=f(row.ci_high, lang, 2))
    return word(
        "compare.observed",
        lang,
        metric=row.label(lang).lower(),
        before=f(row.before, lang),
        after=f(row.after, lang),
        unit=_unit(row, lang),
        diff=f(row.change, lang, 2),
        ci=ci,
    )


def sentences(c: Comparison, lang: Language = DEFAULT_LANGUAGE) -> list[str]:
    """The comparison as plain-language sentences in ``lang``, every word from the catalogue.

    >>> from boflyt.analysis.compare import compare
    >>> from tests.factories import linear_version
    >>> sentences(compare(linear_version(), linear_version()), "nb")[5]
    'Overleveringer i flyten: 1 → 1 (0 fjernet, 0 nye).'
    """
    found = [
        _count_sentence(c, "expected_handoffs", lang),
        _count_sentence(c, "expected_transactions", lang),
        _count_sentence(c, "duplicate_registrations", lang, per_case=False),
        _time_sentence(c, lang),
        _steps_sentence(c, lang),
        _handoff_sentence(c, lang),
        _waste_sentence(c, lang),
    ]  # fmt: skip
    found += [_observed_sentence(row, lang) for row in c.rows if row.source == "observed"]
    return [s for s in found if s]
