"""The words on diagrams and reports, from the word catalogue (:mod:`boflyt.models.words`).

Labels drawn by Graphviz stay ASCII-safe apart from æøå: graphviz-pure's bundled font has no
glyphs for symbols such as ◇ or ⧉, and em dashes upset its width estimates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from boflyt.models import words
from boflyt.models.definition import Lane, Step, Transition, Version
from boflyt.models.vocabulary import StepKind, Waste
from boflyt.models.words import Language

__all__ = [
    "kind_counts_text",
    "lane_label",
    "outcome_label",
    "outcome_text",
    "waste_label",
    "word",
]

_WASTES = frozenset(waste.value for waste in Waste)


def word(key: str, lang: Language) -> str:
    """The diagram word for ``key`` in ``lang``: ``diagram.<key>`` of the word catalogue.

    >>> word("handoffs", "nb"), word("handoffs", "en")
    ('overleveringer', 'handoffs')
    """
    return words.word(f"diagram.{key}", lang)


def waste_label(waste: str, lang: Language) -> str:
    """A LEAN waste category in ``lang``; unknown ones come back as given."""
    return words.term(Waste(waste), lang) if waste in _WASTES else waste


def lane_label(lane_id: str, lane: Lane | None, lang: Language) -> str:
    """The catalogue label of a lane, or its id when the catalogue does not know it."""
    return lane.name.get(lang) if lane else lane_id


def outcome_label(transition: Transition, lang: Language) -> str:
    """The text on an edge: its label in ``lang`` (the definition's ``label: {nb, en}``), else
    its outcome identifier as written.

    >>> from boflyt.models.definition import Transition
    >>> t = Transition.model_validate({"from": "a", "to": "b", "outcome": "not_approved",
    ...                                "label": {"nb": "ikke godkjent", "en": "not approved"}})
    >>> outcome_label(t, "nb"), outcome_label(t, "en")
    ('ikke godkjent', 'not approved')
    """
    if transition.label is not None:
        return transition.label.get(lang)
    return transition.outcome or ""


def outcome_text(version: Version, step: str, outcome: str, lang: Language) -> str:
    """The label of ``outcome`` leaving ``step`` in ``version``; the identifier when unlabelled."""
    for transition in version.transitions:
        if transition.source == step and transition.outcome == outcome:
            return outcome_label(transition, lang)
    return outcome


def kind_counts_text(steps: Sequence[Step], lane_count: int, handoffs: int, lang: Language) -> str:
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
