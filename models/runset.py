"""Run sets: which case runs a run-based figure stands on.

Every case run belongs to exactly one run set, and no figure pools two of them:

* ``live`` — the cases staff registered (mode ``live``);
* ``imported:<name>`` — the cases of one import (mode ``imported``; the import's name is kept in
  the runs' ``simulation_id`` column);
* ``simulated:<ref>`` — one simulation (one version, scenario, seed and case count): ``ref`` is
  its run number (``simulated:3``), its id, or an id prefix of at least 6 characters.

:class:`RunSet` is a run set as people write it (:meth:`RunSet.parse`, ``str()``);
:class:`RunSetInfo` is one as stored, for one process version, with what its label needs:
"registrert (n=12)", "simulert: kjøring 3, frø 7, 400 saker", "importert: NAME (n=40)". Only live
and imported runs are *measured*; a simulation is always called simulated.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from boflyt.models.errors import CommandError
from boflyt.models.vocabulary import Mode
from boflyt.models.words import Language, count, term, word

__all__ = ["MIN_PREFIX", "RunSet", "RunSetInfo", "SimulationOrigin", "run_word"]

MIN_PREFIX = 6
"""The shortest simulation id prefix accepted (as for case ids)."""

_KEY = re.compile(r"[\w.-]{1,64}")
_FORMS = "live, simulated:N (a run number or simulation id) or imported:NAME"


def run_word(key: str, lang: Language) -> str:
    """A run-set word of the catalogue (``run``: "kjøring" / "run")."""
    return word(f"run_set.{key}", lang)


class SimulationOrigin(StrEnum):
    """Who stored a simulation: ``boflyt simulate`` (or its flow), or the demo.

    The demo keeps one simulation per version: storing a new one deletes its earlier ones.
    """

    SIMULATE = "simulate"
    DEMO = "demo"


def _shown(text: str) -> str:
    """``text`` quoted for an error, unless it holds a long number (maybe a case reference)."""
    return "that run set" if re.search(r"\d{7,}", text) else repr(text)


@dataclass(frozen=True, slots=True, order=True)
class RunSet:
    """A run set by name: ``live``, ``simulated:<number or id>`` or ``imported:<name>``.

    >>> RunSet.parse("simulated:3").number, str(RunSet.parse(" live "))
    (3, 'live')
    >>> RunSet.parse("imported:lisa-2024")
    RunSet(mode=<Mode.IMPORTED: 'imported'>, key='lisa-2024')
    """

    mode: Mode
    key: str = ""
    """Empty for live; the simulation's number, id or id prefix; the import's name. Empty for
    another mode only for a log named by its mode alone (a library caller's frame), which the
    store cannot look up."""

    def __post_init__(self) -> None:
        if self.mode is Mode.LIVE and self.key:
            raise CommandError(f"the live run set has no name; write live, not {_shown(str(self))}")
        if self.key and not _KEY.fullmatch(self.key):
            raise CommandError(
                f"{_shown(str(self))} is not a run set; write {_FORMS} "
                "(names: letters, digits, '_', '.', '-'; at most 64)"
            )
        if self.mode is Mode.SIMULATED and not self.key.isdigit() and len(self.key) < MIN_PREFIX:
            if not self.key:
                return
            raise CommandError(
                f"{_shown(str(self))}: a simulation id prefix needs at least {MIN_PREFIX} "
                "characters; or give its run number (boflyt runs list)"
            )

    @classmethod
    def parse(cls, text: str) -> RunSet:
        """The run set ``text`` names.

        Raises:
            CommandError: ``text`` is not ``live``, ``simulated:REF`` or ``imported:NAME``.
        """
        kind, _, key = text.strip().partition(":")
        try:
            mode = Mode(kind.strip().lower())
        except ValueError:
            raise CommandError(f"{_shown(text.strip())} is not a run set; write {_FORMS}") from None
        if mode is not Mode.LIVE and not key.strip():
            raise CommandError(f"{_shown(text.strip())} is not a run set; write {_FORMS}")
        return cls(mode, key.strip())

    @classmethod
    def live(cls) -> RunSet:
        return cls(Mode.LIVE)

    @classmethod
    def simulation(cls, ref: str | int) -> RunSet:
        """The simulation with this run number or id."""
        return cls(Mode.SIMULATED, str(ref))

    def __str__(self) -> str:
        return f"{self.mode.value}:{self.key}" if self.key else self.mode.value

    @property
    def shown(self) -> str:
        """The name quoted for a message, unless it holds a long number (maybe a reference)."""
        return _shown(str(self))

    @property
    def measured(self) -> bool:
        """Registered or imported runs: measured in reality, not simulated."""
        return self.mode is not Mode.SIMULATED

    @property
    def number(self) -> int | None:
        """The run number of ``simulated:N``; None otherwise."""
        return int(self.key) if self.mode is Mode.SIMULATED and self.key.isdigit() else None


@dataclass(frozen=True, slots=True)
class RunSetInfo:
    """A run set as stored, for one process version: what it is and how many cases it holds.

    ``runs`` is exact: a simulation by its full id. ``cases`` counts the set's case runs of
    ``process`` @ ``version``; ``when`` is when a simulation was stored, or the newest case's
    start of a live or imported set.
    """

    runs: RunSet
    process: str
    version: int
    cases: int
    number: int | None = None
    seed: int | None = None
    scenario: str | None = None
    origin: str | None = None
    when: dt.datetime | None = None

    @property
    def name(self) -> str:
        """How people write it: ``simulated:3`` for a numbered simulation, else ``str(runs)``."""
        return f"simulated:{self.number}" if self.number is not None else str(self.runs)

    @property
    def version_key(self) -> str:
        return f"{self.process}@v{self.version}"

    @property
    def measured(self) -> bool:
        return self.runs.measured

    def kind(self, lang: Language) -> str:
        """registrert / simulert / importert (registered / simulated / imported)."""
        return term(self.runs.mode, lang)

    def label(self, lang: Language) -> str:
        """Which set and how many cases: "simulert: kjøring 3, frø 7, 400 saker".

        >>> info = RunSetInfo(RunSet.simulation("ab12cd34"), "p", 1, 400, number=3, seed=7)
        >>> info.label("nb"), info.label("en")
        ('simulert: kjøring 3, frø 7, 400 saker', 'simulated: run 3, seed 7, 400 cases')
        >>> RunSetInfo(RunSet.live(), "p", 1, 12).label("nb")
        'registrert (n=12)'
        """
        kind = self.kind(lang)
        if self.runs.mode is Mode.SIMULATED and self.number is not None:
            parts = [f"{run_word('run', lang)} {self.number}"]
            if self.seed is not None:
                parts.append(f"{word('term.seed', lang)} {self.seed}")
            parts.append(count("word.cases", self.cases, lang))
            return f"{kind}: {', '.join(parts)}"
        if self.runs.mode is Mode.IMPORTED and self.runs.key:
            return f"{kind}: {self.runs.key} (n={self.cases})"
        return f"{kind} (n={self.cases})"

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly data (``when`` as ISO text); :meth:`from_dict` reads it back."""
        return {
            "run_set": self.name,
            "exact": str(self.runs),
            "kind": self.runs.mode.value,
            "process": self.process,
            "version": self.version,
            "cases": self.cases,
            "number": self.number,
            "seed": self.seed,
            "scenario": self.scenario,
            "origin": self.origin,
            "when": self.when.isoformat(" ", "seconds") if self.when else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSetInfo:
        """The run set :meth:`as_dict` wrote (as a Prefect task passes it on)."""
        when = data.get("when")
        return cls(
            RunSet.parse(data["exact"]), data["process"], data["version"], data["cases"],
            number=data.get("number"), seed=data.get("seed"), scenario=data.get("scenario"),
            origin=data.get("origin"), when=dt.datetime.fromisoformat(when) if when else None,
        )  # fmt: skip
