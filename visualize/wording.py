"""The words on diagrams and reports, in bokmål (default) and English.

Labels drawn by Graphviz stay ASCII-safe apart from æøå: graphviz-pure's bundled font has no
glyphs for symbols such as ◇ or ⧉, and em dashes upset its width estimates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from boflyt.models.definition import Lane, Step, Transition
from boflyt.models.vocabulary import StepKind

__all__ = ["WORDS", "kind_counts_text", "lane_label", "outcome_label", "waste_label", "word"]

WORDS: dict[str, tuple[str, str]] = {
    "handoff": ("overlevering mellom organisasjoner", "handoff between organisations"),
    "handoffs": ("overleveringer", "handoffs"),
    "transactions": ("transaksjoner", "transactions"),
    "lead_time": ("gjennomløpstid", "lead time"),
    "days": ("d", "d"),
    "rework": ("omarbeid (løkke)", "rework loop"),
    "waste": ("SLØSING", "WASTE"),
    "waste_legend": ("sløsing (LEAN-kategori)", "waste (LEAN category)"),
    "duplicate": ("dobbeltregistrering", "duplicate registration"),
    "external_wait": ("ekstern ventetid", "external wait"),
    "decision": ("rombe = beslutning", "diamond = decision"),
    "new": ("NY", "NEW"),
    "changed": ("ENDRET", "CHANGED"),
    "removed": ("FJERNET", "REMOVED"),
    "new_legend": ("nytt steg", "new step"),
    "changed_legend": ("endret steg", "changed step"),
    "removed_legend": ("fjernet steg (grå, stiplet)", "removed step (grey, dashed)"),
    "observed_wait": ("målt ventetid (arbeidsdager)", "measured waiting time (working days)"),
    "wait": ("venter", "wait"),
    "start": ("Start", "Start"),
    "end": ("Slutt", "End"),
    "legend": ("Forklaring", "Legend"),
    "tasks": ("oppgaver", "tasks"),
    "decisions": ("beslutninger", "decisions"),
    "lanes": ("organisasjoner", "organisations"),
    "steps": ("steg", "steps"),
    "before": ("Før", "Before"),
    "after": ("Etter", "After"),
    "outside": ("ekstern part", "outside party"),
}

_WASTES: dict[str, tuple[str, str]] = {
    "transport": ("transport", "transport"),
    "inventory": ("lager/kø", "inventory"),
    "motion": ("bevegelse", "motion"),
    "waiting": ("venting", "waiting"),
    "overproduction": ("overproduksjon", "overproduction"),
    "overprocessing": ("overbehandling", "overprocessing"),
    "defects": ("feil/omarbeid", "defects"),
    "unused_skills": ("ubrukt kompetanse", "unused skills"),
}


def word(key: str, lang: str) -> str:
    """The word for ``key`` in ``lang`` (``nb`` or ``en``).

    >>> word("handoffs", "nb"), word("handoffs", "en")
    ('overleveringer', 'handoffs')
    """
    nb, en = WORDS[key]
    return en if lang == "en" else nb


def waste_label(waste: str, lang: str) -> str:
    """A LEAN waste category in ``lang``; unknown ones come back as given."""
    nb, en = _WASTES.get(waste, (waste, waste))
    return en if lang == "en" else nb


def lane_label(lane_id: str, lane: Lane | None, lang: str) -> str:
    """The catalogue label of a lane, or its id when the catalogue does not know it."""
    return lane.name.get(lang) if lane else lane_id


_OUTCOMES: dict[str, str] = {
    "approved": "godkjent",
    "approve": "godkjenn",
    "not_approved": "ikke godkjent",
    "rejected": "avslått",
    "reject": "avslag",
    "refused": "avslått",
    "complete": "komplett",
    "incomplete": "ufullstendig",
    "documents_missing": "mangler dokumenter",
    "yes": "ja",
    "no": "nei",
    "ok": "ok",
    "paid": "betalt",
    "unpaid": "ikke betalt",
    "more_info": "mer informasjon",
    "in_target_group": "i målgruppen",
    "not_in_target_group": "ikke i målgruppen",
    "matched": "avstemt",
    "mismatch": "avvik",
    "accepted": "akseptert",
    "declined": "takket nei",
}


def outcome_label(transition: Transition, lang: str) -> str:
    """The text on an edge: its label, else its outcome (common ones translated to bokmål).

    >>> from models.definition import Transition
    >>> t = Transition.model_validate({"from": "a", "to": "b", "outcome": "not_approved"})
    >>> outcome_label(t, "nb"), outcome_label(t, "en")
    ('ikke godkjent', 'not approved')
    """
    if transition.label is not None:
        return transition.label.get(lang)
    if not transition.outcome:
        return ""
    if lang != "en" and transition.outcome in _OUTCOMES:
        return _OUTCOMES[transition.outcome]
    return transition.outcome.replace("_", " ")


def kind_counts_text(steps: Sequence[Step], lane_count: int, handoffs: int, lang: str) -> str:
    """A one-line census, e.g. ``14 oppgaver, 3 beslutninger, 4 organisasjoner, 3 overleveringer``.

    Parallel, join, start and end steps are not counted.
    """
    kinds = Counter(step.kind for step in steps)
    tasks = kinds[StepKind.TASK] + kinds[StepKind.AUTO] + kinds[StepKind.WAIT]
    parts = [
        f"{tasks} {word('tasks', lang)}",
        f"{kinds[StepKind.DECISION]} {word('decisions', lang)}",
        f"{lane_count} {word('lanes', lang)}",
        f"{handoffs} {word('handoffs', lang)}",
    ]
    return ", ".join(parts)
