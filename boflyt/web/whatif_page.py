"""The what-if page (issue 13): simulate a version under an edited scenario, in the background.

``GET /processes/{process}/versions/{number}/whatif`` is a form prefilled from the process's
``default`` scenario (arrivals per week, staff per organisation of the version, case count,
seed, the run's name); ``POST`` checks it on the server (each error at its field, 422) and
starts the simulation as a job (:mod:`boflyt.web.whatif_jobs`: the Prefect flow in a subprocess,
its state in a JSON file every worker reads), then sends the browser to
``…/whatif/jobs/{job}``: the job's state, polled by htmx every 2 s (a ``<progress>`` bar of the
cases simulated), and once finished the stored run set ``simulated:N`` with links to compare it
with the other versions (and this version's earlier simulations) on the before/after page. A
failure is shown with its error. Facilitators and process owners use it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from boflyt.engine.definition.scenario import load_scenario
from boflyt.engine.store.queries import list_run_sets
from boflyt.models.definition import Version
from boflyt.models.errors import BoflytError
from boflyt.models.scenario import Scenario
from boflyt.models.vocabulary import Role
from boflyt.models.words import Language, format_number, word
from boflyt.web import whatif_jobs
from boflyt.web.page_kit import ctx, forbidden, form, lang_of, render, with_role, with_session

__all__ = ["MAX_CASES", "ROLES", "router"]

router = APIRouter()

ROLES = (Role.FACILITATOR, Role.PROCESS_OWNER)
"""Who may simulate (it writes a run set to the store)."""
MAX_CASES = 20_000
"""The most cases one what-if run may simulate (a few seconds to a minute of work)."""
MAX_STAFF = 10_000
MAX_ARRIVALS = 100_000.0
MAX_SEED = 2**31 - 1
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
BASE = "/processes/{process}/versions/{number}/whatif"


def _w(lang: Language) -> Any:
    """The page's own words, ``[web_whatif]``."""
    return lambda key, **fields: word(f"web_whatif.{key}", lang, **fields)


def _version(request: Request, process: str, number: int) -> Version | None:
    try:
        return ctx(request).library.get(process, number)
    except BoflytError:
        return None


def _default(request: Request, version: Version) -> Scenario:
    """The process's ``default`` scenario, or a plain one (2 a week, one person per office)."""
    library = ctx(request).library
    try:
        return load_scenario(library.scenario_path(version.process), version=version,
                             lanes=library.lanes)  # fmt: skip
    except BoflytError:
        return Scenario(name="default", arrivals_per_week=2, start="2025-01-06",
                        capacity={lane: 1 for lane in _staffed(request, version)})  # fmt: skip


def _staffed(request: Request, version: Version) -> list[str]:
    """The version's organisations that have staff (outside parties have none)."""
    lanes = ctx(request).library.lanes
    return [x for x in version.lanes if not ((lane := lanes.get(x)) and lane.outside)]


def _lane_name(request: Request, lane_id: str, lang: Language) -> str:
    lane = ctx(request).library.lanes.get(lane_id)
    return lane.name.get(lang) if lane else lane_id


def _not_found(request: Request, account: Any, session: Any, lang: Language) -> Response:
    page = render(request, "message.html", 404, account=account,
                  message=_w(lang)("not_found"))  # fmt: skip
    return with_session(request, page, session)


@router.get(BASE)
def whatif_form(request: Request, process: str, number: int) -> Response:
    """The scenario form, prefilled from the default scenario."""
    found = with_role(request, *ROLES)
    if isinstance(found, Response):
        return found
    account, session = found
    lang = lang_of(request)
    version = _version(request, process, number)
    if version is None:
        return _not_found(request, account, session, lang)
    default = _default(request, version)
    values = {
        "arrivals": format_number(default.arrivals_per_week, lang, None).replace("\u202f", ""),
        "cases": "1000",
        "seed": "0",
        "name": "whatif",
        **{f"staff_{x}": str(default.capacity.get(x, 1)) for x in _staffed(request, version)},
    }
    return _form_page(request, account, session, version, values, {}, 200)


def _form_page(
    request: Request,
    account: Any,
    session: Any,
    version: Version,
    values: dict[str, str],
    errors: dict[str, str],
    status: int,
) -> Response:
    lang = lang_of(request)
    lanes = [(x, _lane_name(request, x, lang)) for x in _staffed(request, version)]
    page = render(request, "whatif.html", status, account=account, w=_w(lang), version=version,
                  version_name=version.name.get(lang), lanes=lanes, values=values,
                  errors=errors, max_cases=format_number(MAX_CASES, lang, 0),
                  action=BASE.format(process=version.process, number=version.version))  # fmt: skip
    return with_session(request, page, session)


def _number(text: str) -> float | None:
    """A number typed the Norwegian or English way (``2,5`` or ``2.5``); None if not one."""
    try:
        value = float(re.sub(r"[\s\u202f]", "", text).replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _whole(text: str, low: int, high: int) -> int | None:
    value = text.strip()
    if not re.fullmatch(r"[0-9]{1,12}", value):
        return None
    number = int(value)
    return number if low <= number <= high else None


def _read(
    fields: dict[str, str], lanes: list[str], lang: Language
) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's values checked: the parsed values and an error per bad field."""
    w = _w(lang)
    errors: dict[str, str] = {}
    parsed: dict[str, Any] = {}
    arrivals = _number(fields.get("arrivals", ""))
    if arrivals is None or not 0 < arrivals <= MAX_ARRIVALS:
        errors["arrivals"] = w("err_arrivals", high=format_number(MAX_ARRIVALS, lang, 0))
    parsed["arrivals"] = arrivals
    for key, low, high, message in (
        ("cases", 1, MAX_CASES, "err_cases"),
        ("seed", 0, MAX_SEED, "err_seed"),
    ):
        parsed[key] = _whole(fields.get(key, ""), low, high)
        if parsed[key] is None:
            errors[key] = w(message, high=format_number(high, lang, 0))
    staff: dict[str, int] = {}
    for lane in lanes:
        value = _whole(fields.get(f"staff_{lane}", ""), 1, MAX_STAFF)
        if value is None:
            errors[f"staff_{lane}"] = w("err_staff", high=format_number(MAX_STAFF, lang, 0))
        else:
            staff[lane] = value
    parsed["staff"] = staff
    name = fields.get("name", "").strip()
    if not _NAME.match(name):
        errors["name"] = w("err_name")
    parsed["name"] = name
    return parsed, errors


@router.post(BASE)
async def whatif_start(request: Request, process: str, number: int) -> Response:
    """Check the form; start the simulation job and go to its page, or show the errors (422)."""
    found = with_role(request, *ROLES)
    if isinstance(found, Response):
        return found
    account, session = found
    fields = await form(request)
    if fields is None:
        return forbidden(request)
    lang = lang_of(request)
    version = _version(request, process, number)
    if version is None:
        return _not_found(request, account, session, lang)
    lanes = _staffed(request, version)
    values = {k: v for k, v in fields.items() if k != "csrf"}
    parsed, errors = _read(fields, lanes, lang)
    scenario = None
    if not errors:
        default = _default(request, version)
        data = default.model_dump()
        data.update(name=parsed["name"], arrivals_per_week=parsed["arrivals"],
                    capacity={**default.capacity, **parsed["staff"]},
                    description=f"what-if from {default.name}")  # fmt: skip
        try:
            scenario = Scenario.model_validate(data)
        except ValidationError as exc:
            errors["form"] = "; ".join(str(e["msg"]) for e in exc.errors())
    if scenario is None:
        return _form_page(request, account, session, version, values, errors, 422)
    context = ctx(request)
    try:
        job = await run_in_threadpool(  # copying the library and forking: off the event loop
            whatif_jobs.start_job, whatif_jobs.jobs_dir(), library_root=context.library.root,
            process=process, version=number, scenario=scenario, cases=parsed["cases"],
            seed=parsed["seed"],
            database_url=context.engine.url.render_as_string(hide_password=False),
            owner=account.username, prefect=getattr(request.app.state, "whatif_prefect", True),
        )  # fmt: skip
    except (BoflytError, OSError) as exc:  # no data folder to write, no process to start
        errors["form"] = _w(lang)("not_started", error=str(exc))
        return _form_page(request, account, session, version, values, errors, 503)
    target = f"{BASE.format(process=process, number=number)}/jobs/{job}"
    return with_session(request, RedirectResponse(target, status_code=303), session)


@router.get(BASE + "/jobs/{job}")
def whatif_job(request: Request, process: str, number: int, job: str) -> Response:
    """The job's state: the whole page, or only its status block for htmx's poll."""
    found = with_role(request, *ROLES)
    if isinstance(found, Response):
        return found
    account, session = found
    lang = lang_of(request)
    version = _version(request, process, number)
    state = whatif_jobs.read_job(whatif_jobs.jobs_dir(create=False), job) if version else None
    if (
        version is None
        or state is None
        or (state["process"], state["version"])
        != (
            process,
            number,
        )
    ):
        return _not_found(request, account, session, lang)
    template = "whatif_status.html" if request.headers.get("HX-Request") else "whatif_job.html"
    page = render(request, template, account=account, w=_w(lang), version=version,
                  version_name=version.name.get(lang), job=state,
                  job_url=f"{BASE.format(process=process, number=number)}/jobs/{job}",
                  form_url=BASE.format(process=process, number=number),
                  compare=_compare_links(request, version, state, lang),
                  facts=_facts(request, version, state, lang), percent=_percent(state),
                  done=format_number(state.get("done", 0), lang, 0),
                  cases=format_number(state["cases"], lang, 0))  # fmt: skip
    return with_session(request, page, session)


def _facts(
    request: Request, version: Version, job: dict[str, Any], lang: Language
) -> list[tuple[str, str]]:
    """The run's scenario as label and value, numbers written the page language's way."""
    w = _w(lang)
    scenario = job["scenario"]
    staff = [(w("staff_of", name=_lane_name(request, x, lang)), format_number(n, lang, 0))
             for x, n in scenario["capacity"].items() if x in version.lanes]  # fmt: skip
    try:
        created = dt.datetime.fromisoformat(str(job["created"])).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        created = str(job["created"])
    return [
        (w("arrivals"), format_number(scenario["arrivals_per_week"], lang, None)),
        *staff,
        (w("cases"), format_number(job["cases"], lang, 0)),
        (w("seed"), str(job["seed"])),
        (w("started_by"), f"{job['owner']}, {created}"),
    ]


def _percent(job: dict[str, Any]) -> int:
    if job["state"] == "finished":
        return 100
    return min(100, int(100 * job.get("done", 0) / max(1, job["cases"])))


def _compare_links(
    request: Request, version: Version, job: dict[str, Any], lang: Language
) -> list[tuple[str, str]]:
    """Links to the before/after page: this run set against each other version's registered
    cases, and against each earlier simulation of this version."""
    if job["state"] != "finished" or not job.get("run_set"):
        return []
    w = _w(lang)
    mine = str(job["run_set"])
    base = f"/processes/{version.process}/compare?"
    links = []
    for other in ctx(request).library.versions(version.process):
        if other.version == version.version:
            continue
        if other.version < version.version:
            query = {"a": other.version, "b": version.version, "rb": mine}
        else:
            query = {"a": version.version, "b": other.version, "ra": mine}
        links.append((base + urlencode(query), w("compare_version", other=other.version)))
    try:
        earlier = list_run_sets(ctx(request).engine, process=version.process)
    except BoflytError:
        earlier = []
    for info in earlier:
        if info.version != version.version or info.number is None or info.name == mine:
            continue
        query = {"a": version.version, "b": version.version, "ra": info.name, "rb": mine}
        label = w("compare_run", run=info.name, scenario=info.scenario or "–")
        links.append((base + urlencode(query), label))
    return links
