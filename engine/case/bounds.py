"""Input bounds: what a person may put into the case store, each rule written once.

Every store command (:mod:`boflyt.engine.store.commands`: start, begin, complete, cancel, and the
inbox
read) checks its input here before it writes, so the command line and the coming web app refuse
the same things with the same one-line messages. Pure: no I/O and no clock — the store passes
the present time in as data.

======================  ==============================================================
input                   rule
======================  ==============================================================
organisation (--org)    a lane of the library (``lanes.yaml``), and one the step or case
                        allows: begin/complete the step's lane or its ``joint_with``
                        lanes (the case core's rule); start one allowed on the start
                        step or on a step the start makes ready; cancel an organisation
                        of the version that is not an outside party
time (--at)             not before the case's last event, at most
                        :data:`FUTURE_SLACK` after the present
touch minutes           a finite number from 0 to :data:`MAX_TOUCH_MINUTES`
actor, reason, outcome, not empty, at most ``MAX_*`` characters, and none of
step, case reference    :data:`FORBIDDEN_CATEGORIES` (line breaks, tabs, escapes, …)
======================  ==============================================================

Messages never repeat a long or unprintable input, and never a case reference (it may be a
national identity number); an organisation or step is shown with :func:`visible`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import unicodedata
from collections.abc import Iterable

from boflyt.engine.case.flow import Flow
from boflyt.engine.case.routes import MoveKind
from boflyt.models.errors import AccessError, CommandError

__all__ = [
    "FORBIDDEN_CATEGORIES",
    "FUTURE_SLACK",
    "MAX_ACTOR",
    "MAX_ID",
    "MAX_REASON",
    "MAX_REFERENCE",
    "MAX_TOUCH_MINUTES",
    "cancel_orgs",
    "check_known_org",
    "check_minutes",
    "check_org_may",
    "check_reference",
    "check_text",
    "check_time",
    "start_orgs",
    "visible",
]

MAX_ACTOR = 100
"""Characters in a user name (``--as``)."""
MAX_REASON = 500
"""Characters in a free-text reason (``--reason``)."""
MAX_ID = 64
"""Characters in an identifier typed by a person: step id, outcome label, organisation."""
MAX_REFERENCE = 64
"""Characters in a case reference, whitespace removed (a fødselsnummer has 11)."""
MAX_TOUCH_MINUTES = 10_000.0
"""Hands-on minutes recorded for one step (about 21 working days of 7.5 hours)."""
FUTURE_SLACK = dt.timedelta(minutes=5)
"""How far after the present an event may be dated (clocks on two machines differ a little)."""
FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
"""Unicode categories refused in names and texts: control (newline, tab, escape, …), format
(zero-width and bidirectional marks), lone surrogates, and line or paragraph separators."""
_SHOWN = 40
"""Characters of an organisation or step shown back in a message."""


def visible(text: str, *, limit: int | None = None) -> str:
    """``text`` with every forbidden character written as an escape (``\\n``, ``\\u202e``).

    So a stored or typed value prints on one line, literally; cut to ``limit`` characters
    (with ``…``) when given.

    >>> visible("kari\\nsak avsluttet")
    'kari\\\\nsak avsluttet'
    """
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    if text.isprintable():  # the usual case: nothing to escape (the refused set is unprintable)
        return text
    return "".join(_escape(ch) if _forbidden(ch) else ch for ch in text)


def _forbidden(ch: str) -> bool:
    return unicodedata.category(ch) in FORBIDDEN_CATEGORIES


def _escape(ch: str) -> str:
    return repr(ch)[1:-1] if ch.isascii() else f"\\u{ord(ch):04x}"


def check_text(value: str, *, what: str, limit: int) -> str:
    """``value`` if it is a non-blank text of at most ``limit`` characters without control
    characters; a one-line :class:`CommandError` naming ``what`` otherwise (``value`` is not
    repeated).

    >>> check_text("Kari [/] Nordmann", what="actor name", limit=100)
    'Kari [/] Nordmann'
    """
    if not value.strip():
        raise CommandError(f"{what} is empty")
    if len(value) > limit:
        raise CommandError(f"{what} is {len(value):,} characters long; at most {limit} are allowed")
    if not value.isprintable():
        for position, ch in enumerate(value, start=1):
            if _forbidden(ch):
                raise CommandError(
                    f"{what} contains a control character ({_name(ch)} at position "
                    f"{position}); line breaks, tabs, escapes and other control or format "
                    "characters are not allowed"
                )
    return value


def _name(ch: str) -> str:
    name = unicodedata.name(ch, _CONTROL_NAMES.get(ch, unicodedata.category(ch)))
    return f"U+{ord(ch):04X} {name}"


_CONTROL_NAMES = {"\x00": "NULL", "\t": "TAB", "\n": "LINE FEED", "\r": "CARRIAGE RETURN",
                  "\x1b": "ESCAPE", "\x7f": "DELETE"}  # fmt: skip
"""Names for the control characters, which Unicode's name table leaves out."""


def check_reference(ref: str) -> str:
    """The case reference, checked like :func:`check_text` on its whitespace-free form.

    Its messages say where the problem is, never what the reference holds.
    """
    compact = "".join(ref.split())
    check_text(compact, what="the case reference", limit=MAX_REFERENCE)
    return ref


def check_minutes(minutes: float | None) -> float | None:
    """``minutes`` if it is ``None`` or a finite number from 0 to :data:`MAX_TOUCH_MINUTES`.

    >>> check_minutes(float("nan"))
    Traceback (most recent call last):
    ...
    boflyt.models.errors.CommandError: touch minutes must be a number from 0 to 10,000, not nan
    """
    if minutes is None:
        return None
    if not (math.isfinite(minutes) and 0 <= minutes <= MAX_TOUCH_MINUTES):
        raise CommandError(
            f"touch minutes must be a number from 0 to {MAX_TOUCH_MINUTES:,.0f}, not {minutes:g}"
        )
    return minutes


def check_time(at: dt.datetime, *, last: dt.datetime | None, present: dt.datetime) -> None:
    """Refuse ``at`` (naive UTC, like ``last`` and ``present``) before the case's last event
    ``last`` or more than :data:`FUTURE_SLACK` after ``present``.
    """
    if last is not None and at < last:
        raise CommandError(
            f"time {at:%Y-%m-%d %H:%M} is before the case's last event ({last:%Y-%m-%d %H:%M} "
            "UTC); a case's events cannot go back in time"
        )
    if at > present + FUTURE_SLACK:
        ahead = _span(at - present)
        raise CommandError(
            f"time {at:%Y-%m-%d %H:%M} is {ahead} in the future (now {present:%Y-%m-%d %H:%M} "
            "UTC); give --at in UTC, or with an offset such as +01:00"
        )


def _span(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} minutes"
    if minutes < 48 * 60:
        return f"{minutes // 60} hours"
    return f"{minutes // (24 * 60):,} days"


def check_known_org(org: str, known: Iterable[str]) -> str:
    """``org`` if it is one of ``known`` (the library's lanes); else a :class:`CommandError`
    suggesting the closest ones.

    >>> check_known_org("nav2", ["housing_office", "nav"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    boflyt.models.errors.CommandError: unknown organisation 'nav2'; did you mean 'nav'? known: ...
    """
    names = sorted(set(known))
    if org in names:
        return org
    check_text(org, what="organisation", limit=MAX_ID)
    close = difflib.get_close_matches(org.lower(), names, n=2, cutoff=0.6)
    guess = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    raise CommandError(
        f"unknown organisation '{visible(org, limit=_SHOWN)}'; {guess}known: {', '.join(names)}"
    )


def start_orgs(flow: Flow) -> frozenset[str]:
    """Organisations that may start a case on ``flow``: those allowed on the start step or on
    a step the start makes ready (its route, through a join whether it fires or not). A start
    step in an outside party's lane is recorded by any organisation of the version, as the case
    core allows.
    """
    if not flow.start:
        return frozenset()
    allowed = set(flow.steps[flow.start].allowed)
    route = flow.routes.get((flow.start, None))
    for branch in route.branches() if route else ():
        for move in branch.moves:
            if move.kind is MoveKind.READY:
                allowed |= move.step.allowed
    return frozenset(allowed)


def cancel_orgs(flow: Flow) -> frozenset[str]:
    """Organisations that may cancel a case on ``flow``: the version's lanes that are not
    outside parties (a tenant's withdrawal is recorded by the office that hears of it)."""
    return frozenset(flow.version.lanes) - flow.outside


def check_org_may(org: str, allowed: frozenset[str], *, verb: str, case: str) -> None:
    """:class:`AccessError` unless ``org`` is in ``allowed`` (``verb``: start, cancel)."""
    if org not in allowed:
        raise AccessError(
            f"{org} may not {verb} {case}; allowed organisations: {', '.join(sorted(allowed))}"
        )
