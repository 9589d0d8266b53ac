"""The process owners' migration page (issue 15): move a process's running cases from one
version to another, knowing in advance what will happen to each.

* ``GET /processes/{process}/migrate?from=A&to=B``: the form (the version the cases run on,
  the published version they move to, a row for each step of vA that vB no longer has, where
  a case standing there should stand instead, and an optional list of case ids).
* ``POST`` the same URL (CSRF form, "Vis plan"; posted so that case ids, or a reference
  typed by mistake, stay out of addresses and logs) shows the plan of
  :func:`boflyt.engine.store.case_migration.plan_migrations`: each case, where it stands now
  and where it will stand, the warnings in the page language, and the refused cases with the
  reason. Nothing is written.
* ``POST`` with ``action=apply`` ("Flytt saker") applies the plan just shown through
  :func:`~boflyt.engine.store.case_migration.apply_migrations` (each case in its own
  transaction, recorded in its timeline and the audit log) and shows the result of each case
  (moved, or untouched and why) with links to the case pages. When the plan is no longer the
  one shown (a case moved on, a case started or ended meanwhile), nothing is applied: the page
  shows the new plan to check again (409).

Process owners only, both ways; anyone else gets 403 naming the role. Case ids are shown (they
are no personal data); references never are.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response

from boflyt.engine.case.migration import MigrationWarning
from boflyt.engine.store import case_migration, queries
from boflyt.engine.store.accounts import Account
from boflyt.models.definition import LaneCatalog, Version
from boflyt.models.errors import BoflytError, NotFoundError
from boflyt.models.vocabulary import Role, RunStatus, VersionStatus
from boflyt.models.words import Language, count, term, word
from boflyt.web.page_kit import (
    address,
    ctx,
    forbidden,
    form,
    lang_of,
    render,
    with_role,
    with_session,
)
from boflyt.web.sessions import Session

if TYPE_CHECKING:
    from boflyt.engine.case.migration import CasePlan, CaseResult

__all__ = ["MAX_ROWS", "router"]

router = APIRouter()

MAX_ROWS = 500
"""The most cases the plan and result tables list (the counts above them cover every case; a
plan row with its warnings is about 0.5 KiB of HTML, so 500 rows stay under half a megabyte)."""

_PATH = "/processes/{process}/migrate"
_NUMBER = re.compile(r"^[1-9][0-9]{0,5}$")
_MAP = "map."
"""Form fields ``map.<old step>`` name the step of the target a case standing there moves to."""
_SPLIT = re.compile(r"[\s,;]+")


def _words(lang: Language) -> Callable[..., str]:
    return lambda key, **fields: word(f"web_migrate.{key}", lang, **fields)


def _counts(lang: Language) -> Callable[..., str]:
    return lambda key, n, **fields: count(f"web_migrate.{key}", n, lang, **fields)


# --------------------------------------------------------------------------- the choice


@dataclass(frozen=True)
class Choice:
    """The form as read: the two versions, the mapping, the cases, and what was wrong."""

    sources: list[tuple[Version, int]]
    """Every version of the process that can have cases, with its running cases' count."""
    targets: list[Version]
    """The published versions (the only ones a case may move to)."""
    source: Version | None
    target: Version | None
    removed: list[str] = field(default_factory=list)
    """Steps of the source the target no longer has (each a mapping row)."""
    mapping: dict[str, str] = field(default_factory=dict)
    case_ids: tuple[str, ...] | None = None
    """The cases to plan (None: every running case of the source); the form shows them."""
    errors: dict[str, str] = field(default_factory=dict)
    """Form field -> what is wrong with it, in the page language."""

    @property
    def ready(self) -> bool:
        """Both versions chosen and nothing wrong: a plan can be made."""
        return self.source is not None and self.target is not None and not self.errors


def _version_of(
    versions: Sequence[Version], raw: str, default: Version | None
) -> tuple[Version | None, bool]:
    """The version numbered ``raw`` (``default`` when ``raw`` is empty); False when ``raw``
    names none of ``versions``."""
    if not raw:
        return default, True
    if _NUMBER.match(raw):
        found = next((v for v in versions if v.version == int(raw)), None)
        if found is not None:
            return found, True
    return None, False


def _newest_other(targets: Sequence[Version], source: Version | None) -> Version | None:
    """The newest published version other than ``source`` (the default target)."""
    others = [v for v in targets if source is None or v.version != source.version]
    return others[-1] if others else None


def _busiest_other(
    sources: Sequence[Version], running: Counter[int], target: Version | None
) -> Version | None:
    """The newest version other than ``target`` with running cases, else the newest other one
    (the default source)."""
    others = [v for v in sources if target is None or v.version != target.version]
    busy = [v for v in others if running[v.version]]
    chosen = busy or others
    return chosen[-1] if chosen else None


def _running(request: Request, process: str) -> Counter[int]:
    cases = queries.list_cases(ctx(request).engine, process=process, status=RunStatus.RUNNING)
    return Counter(case.version for case in cases)


def _case_ids(request: Request, text: str, lang: Language) -> tuple[tuple[str, ...], str]:
    """The case ids typed (one per line, or separated by commas; a unique prefix of at least six
    characters will do) and the error, if any. A wrong line is named by its number and left out
    of the form shown again, never repeated (it might be a reference typed in the wrong place)."""
    engine, ids, wrong = ctx(request).engine, list[str](), list[str]()
    for number, line in enumerate(text.splitlines(), start=1):
        for token in filter(None, _SPLIT.split(line)):
            try:
                found = queries.resolve_case_id(engine, token)
            except BoflytError:
                wrong.append(str(number))
                continue
            if found not in ids:
                ids.append(found)
    problem = word("web_migrate.bad_case", lang, lines=", ".join(dict.fromkeys(wrong)))
    return tuple(ids), problem if wrong else ""


def read_choice(request: Request, process: str, given: Mapping[str, str]) -> Choice:
    """The form ``given`` (query or posted fields) read against ``process``'s versions."""
    library, lang = ctx(request).library, lang_of(request)
    versions = library.versions(process)
    running = _running(request, process)
    sources = [(v, running[v.version]) for v in versions if v.status is not VersionStatus.DRAFT]
    targets = [v for v in versions if v.status is VersionStatus.PUBLISHED]
    errors: dict[str, str] = {}
    raw_from, raw_to = given.get("from", "").strip(), given.get("to", "").strip()
    source, from_ok = _version_of([v for v, _ in sources], raw_from, None)
    target, to_ok = _version_of(targets, raw_to, _newest_other(targets, source))
    if not raw_from:
        source = _busiest_other([v for v, _ in sources], running, target)
    if not from_ok or source is None:
        errors["from"] = word("web_migrate.bad_from", lang)
    if not to_ok or target is None:
        errors["to"] = word("web_migrate.bad_to", lang)
    elif source is not None and source.version == target.version:
        errors["to"] = word("web_migrate.same", lang, number=source.version)
    removed: list[str] = []
    mapping: dict[str, str] = {}
    if source is not None and target is not None:
        kept = {s.id for s in target.steps}
        removed = [s.id for s in source.steps if s.id not in kept]
        for step in removed:
            chosen = given.get(_MAP + step, "").strip()
            if chosen and chosen not in kept:
                errors[_MAP + step] = word("web_migrate.bad_map", lang, number=target.version)
            elif chosen:
                mapping[step] = chosen
    case_ids, problem = _case_ids(request, given.get("cases", ""), lang)
    if problem:
        errors["cases"] = problem
    return Choice(sources, targets, source, target, removed, mapping, case_ids or None,
                  errors)  # fmt: skip


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class PlanRow:
    """One case of the plan as the page shows it."""

    case_id: str
    now: list[str]
    """Where the case stands now: the names of its open steps in the source."""
    after: list[str]
    """Where it will stand: the names of its open steps in the target (empty when refused)."""
    warnings: list[str]
    refused: str | None
    """Why the case will not move, in the page language (None: it moves)."""


@dataclass(frozen=True)
class Plan:
    """The plan as shown: its rows (at most :data:`MAX_ROWS`), counts and fingerprint."""

    rows: list[PlanRow]
    total: int
    moving: int
    warned: int
    refused: int
    digest: str
    """A fingerprint of the whole plan: the apply form carries it, so a plan that changed
    between showing and applying is shown again instead of applied."""
    standing: Counter[str] = field(default_factory=Counter)
    """How many cases stand on each step of the source (the mapping rows that matter)."""
    reasons: dict[str, str] = field(default_factory=dict)
    """Why each refused case will not move, in the page language, by case id."""


def _names(version: Version, steps: Sequence[str], lang: Language) -> list[str]:
    names = []
    for step in steps:
        try:
            names.append(version.step(step).name.get(lang))
        except KeyError:
            names.append(step)
    return names


def _lane_name(lanes: LaneCatalog, lane_id: str, lang: Language) -> str:
    lane = lanes.get(lane_id)
    return lane.name.get(lang) if lane else lane_id


def _shown_warning(warning: MigrationWarning, choice: Choice, lanes: LaneCatalog,
                   lang: Language) -> str:  # fmt: skip
    """``warning`` in ``lang`` with the names people know instead of ids: the step's name (in
    the source, else the target), a mapped step's name in the target, organisations' names."""
    assert choice.source is not None and choice.target is not None
    step = warning.step
    if step is not None:
        known = {s.id for s in choice.source.steps}
        step = _names(choice.source if step in known else choice.target, [step], lang)[0]
    values = warning.values
    if warning.code == "step_mapped":
        values = tuple(_names(choice.target, values, lang))
    elif warning.code == "reopened_elsewhere":
        values = tuple(_lane_name(lanes, v, lang) for v in values)
    return replace(warning, step=step, values=values).text(lang)


def digest_of(choice: Choice, plans: Sequence[CasePlan]) -> str:
    """The fingerprint of ``plans`` for ``choice``'s versions and mapping."""
    assert choice.source is not None and choice.target is not None
    data = [
        choice.source.content_hash, choice.target.content_hash, sorted(choice.mapping.items()),
        [(p.case_id, list(p.now), list(p.after), [(w.code, w.step) for w in p.warnings],
          p.refused) for p in plans],
    ]  # fmt: skip
    return hashlib.sha256(json.dumps(data).encode()).hexdigest()[:32]


_NOT_WORK = re.compile(r"^the case stands on step '(?P<step>[^']+)', an? (?P<kind>\w+) step in ")


def reason_of(plan: CasePlan, choice: Choice, lang: Language) -> str | None:
    """Why ``plan``'s case will not move, in ``lang``: the page's own words for the refusals a
    process owner can do something about here (a step that needs a mapping), else the store's
    sentence."""
    assert choice.source is not None and choice.target is not None
    if plan.refused is None:
        return None
    number = choice.target.version
    for step in plan.now:
        if step in choice.removed and step not in choice.mapping:
            name = _names(choice.source, [step], lang)[0]
            return word("web_migrate.needs_map", lang, step=name, number=number)
    found = _NOT_WORK.match(plan.refused)
    if found:
        name = _names(choice.source, [found["step"]], lang)[0]
        return word("web_migrate.not_work", lang, step=name, number=number)
    return word("web_migrate.refused", lang, reason=plan.refused)


def _order(plan: CasePlan) -> int:
    """Refused cases first, then those with warnings, then the rest (the table's order)."""
    return 0 if plan.refused else 1 if plan.warnings else 2


def make_plan(request: Request, choice: Choice) -> Plan:
    """The plan of ``choice`` (which must be :attr:`Choice.ready`), as the page shows it.

    Raises:
        BoflytError: the store refused the question (its sentence is shown).
    """
    assert choice.source is not None and choice.target is not None
    lang, lanes = lang_of(request), ctx(request).library.lanes
    plans = case_migration.plan_migrations(
        ctx(request).engine, source=choice.source, target=choice.target,
        case_ids=choice.case_ids, mapping=choice.mapping or None,
    )  # fmt: skip
    rows = [
        PlanRow(
            p.case_id, _names(choice.source, p.now, lang),
            [] if p.refused else _names(choice.target, p.after, lang),
            [_shown_warning(w, choice, lanes, lang) for w in p.warnings],
            reason_of(p, choice, lang),
        )
        for p in sorted(plans, key=_order)[:MAX_ROWS]
    ]  # fmt: skip
    refused = sum(1 for p in plans if p.refused)
    warned = sum(1 for p in plans if p.warnings and not p.refused)
    standing = Counter(step for p in plans for step in dict.fromkeys(p.now))
    reasons = {p.case_id: reason_of(p, choice, lang) or "" for p in plans if p.refused}
    return Plan(rows, len(plans), len(plans) - refused, warned, refused,
                digest_of(choice, plans), standing, reasons)  # fmt: skip


# --------------------------------------------------------------------------- the pages


def _form_page(
    request: Request,
    found: tuple[Account, Session],
    process: str,
    choice: Choice,
    *,
    plan: Plan | None = None,
    problem: str | None = None,
    changed: bool = False,
    status: int = 200,
) -> Response:
    account, session = found
    lang = lang_of(request)
    name = choice.sources[-1][0].name.get(lang) if choice.sources else process
    steps = {s.id: s.name.get(lang) for s in choice.source.steps} if choice.source else {}
    if status == 200 and (choice.errors or problem):
        status = 422
    standing = plan.standing if plan else Counter[str]()
    needed = [s for s in choice.removed if standing[s] or s in choice.mapping]
    others = [s for s in choice.removed if s not in needed]
    page = render(
        request, "migrate.html", status, account=account, w=_words(lang), c=_counts(lang),
        process=process, name=name, choice=choice, plan=plan, problem=problem, changed=changed,
        steps=steps, status_of=lambda v: term(v.status, lang), map_prefix=_MAP,
        standing=standing, needed=needed, others=others,
        others_open=any(_MAP + s in choice.errors for s in others),
    )  # fmt: skip
    return with_session(request, page, session)


def _unknown(request: Request, found: tuple[Account, Session], process: str) -> Response | None:
    if process in ctx(request).library.processes():
        return None
    account, session = found
    message = word("web_migrate.no_process", lang_of(request))
    return with_session(request, render(request, "message.html", 404, account=account,
                                        message=message), session)  # fmt: skip


@router.get(_PATH)
def migration_page(request: Request, process: str) -> Response:
    """The migration form, its versions and mapping taken from the query (``from``, ``to``,
    ``map.<step>``; case ids are only posted, so they stay out of addresses and logs)."""
    found = with_role(request, Role.PROCESS_OWNER)
    if isinstance(found, Response):
        return found
    unknown = _unknown(request, found, process)
    if unknown is not None:
        return unknown
    given = {k: v for k, v in request.query_params.items() if k != "cases"}
    choice = read_choice(request, process, given)
    return _form_page(request, found, process, choice, status=200)


@dataclass(frozen=True)
class ResultRow:
    """One case of the result as the page shows it."""

    case_id: str
    migrated: bool
    reason: str | None


def _failed(result: CaseResult, lang: Language) -> str | None:
    """Why a case the plan let move was left untouched (the store's sentence), or None."""
    if result.migrated or not result.reason:
        return None
    return word("web_migrate.failed", lang, reason=result.reason)


@router.post(_PATH)
async def migrate(request: Request, process: str) -> Response:
    """The plan of the form posted (CSRF form; nothing written); with ``action=apply``, apply
    the plan shown and show each case's result (409 with the new plan when it changed since it
    was shown). 422 with the form when it is wrong."""
    found = with_role(request, Role.PROCESS_OWNER)
    if isinstance(found, Response):
        return found
    given = await form(request)
    if given is None:
        return forbidden(request)
    unknown = _unknown(request, found, process)
    if unknown is not None:
        return unknown
    choice = read_choice(request, process, given)
    if not choice.ready:
        return _form_page(request, found, process, choice, status=422)
    try:
        plan = make_plan(request, choice)
    except BoflytError as exc:
        return _form_page(request, found, process, choice, problem=str(exc))
    if given.get("action") != "apply":
        return _form_page(request, found, process, choice, plan=plan)
    if plan.digest != given.get("plan", ""):
        return _form_page(request, found, process, choice, plan=plan, changed=True, status=409)
    assert choice.source is not None and choice.target is not None
    context, (account, session) = ctx(request), found
    try:
        results: list[CaseResult] = case_migration.apply_migrations(
            context.engine, source=choice.source, target=choice.target,
            case_ids=choice.case_ids, mapping=choice.mapping or None, actor=account.username,
            address=address(request), clock=context.clock,
        )  # fmt: skip
    except NotFoundError as exc:
        return _form_page(request, found, process, choice, problem=str(exc), status=404)
    except BoflytError as exc:
        return _form_page(request, found, process, choice, problem=str(exc), status=409)
    lang = lang_of(request)
    rows = [
        ResultRow(r.case_id, r.migrated, plan.reasons.get(r.case_id) or _failed(r, lang))
        for r in sorted(results, key=lambda r: r.migrated)[:MAX_ROWS]  # untouched ones first
    ]
    moved = sum(1 for r in results if r.migrated)
    page = render(request, "migrate_result.html", account=account, w=_words(lang),
                  c=_counts(lang), process=process, choice=choice, rows=rows,
                  total=len(results), moved=moved, untouched=len(results) - moved)  # fmt: skip
    return with_session(request, page, session)
