"""The store's refusals in the page language.

The store and the case core refuse a command with one English :class:`CommandError` sentence
(meant for the terminal). The pages show the cases a caseworker meets in normal work with words
from the catalogue (``[web]`` ``refused_*``), at the form field they concern where there is one;
any other refusal keeps the store's sentence under a translated heading. Nothing here is an error
page: the caller answers 409 (the case is not in a state for it) or 422 (bad input).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from boflyt.engine.case.bounds import MAX_REASON
from boflyt.models.words import Language, word

__all__ = ["Refusal", "refusal"]


@dataclass(frozen=True)
class Refusal:
    """A refusal as shown: the message, the form field it belongs to, the status to answer."""

    message: str
    field: str | None = None
    """``note`` or ``outcome`` when the refusal is about that field, else None."""
    status: int = 409
    known: bool = True
    """False when the message is the store's own sentence (shown under a heading)."""


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    key: str
    """The word ``web.refused_{key}``."""
    field: str | None = None
    status: int = 409


_RULES = (
    _Rule(re.compile(r"^cannot \w+ step '.*' of case \S+: it is not open"), "not_open"),
    _Rule(re.compile(r"was already begun by (?P<user>\S+)"), "already_begun"),
    _Rule(re.compile(r"allowed outcomes: (?P<outcomes>.*)$"), "outcome_one_of", "outcome", 422),
    _Rule(re.compile(r"not a decision; it takes no outcome"), "no_outcome", "outcome", 422),
    _Rule(re.compile(r"^case \S+ is \w+; it takes no commands"), "case_closed"),
    _Rule(re.compile(r"is before the case's last event \((?P<last>[^)]*)\)"), "time_before"),
    _Rule(re.compile(r"^time .* in the future"), "time_future"),
    _Rule(re.compile(r"^note is [\d,]+ characters long"), "note_too_long", "note", 422),
    _Rule(re.compile(r"^note contains a control character"), "note_one_line", "note", 422),
)


def refusal(message: str, lang: Language) -> Refusal:
    """The store's refusal ``message`` as the page shows it in ``lang``.

    >>> refusal("cannot complete step 'b' of case 1: it is not open; open steps: a", "nb").message
    'Steget er ikke klart ennå, eller ikke åpent lenger. Åpne steg står nedenfor.'
    >>> refusal("something new", "en").known
    False
    """
    for rule in _RULES:
        found = rule.pattern.search(message)
        if found:
            fields = {**found.groupdict(), "max": str(MAX_REASON)}
            return Refusal(word(f"web.refused_{rule.key}", lang, **fields), rule.field, rule.status)
    return Refusal(message, None, 409, known=False)
