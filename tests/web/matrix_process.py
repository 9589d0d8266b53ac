"""The authorisation matrix's rows for the process catalogue, a version's page and its
downloads, and the API's process routes (issue 13; :mod:`tests.web.test_authorisation_matrix`).

Facilitators, process owners and caseworkers read the pages; an admin without those roles gets
403. The API's process routes take any active account's token (a process design holds no
personal data). Unknown versions are 404 for every reader.
"""

from __future__ import annotations

from tests.web.cells import LOGIN, Call, Expected

VERSION = "/processes/{process}/versions/{number}"
V2 = "/processes/private_lease/versions/2"

PAGE_CALLS = {
    "process catalogue": Call("GET", "/processes", "/processes"),
    "version page": Call("GET", VERSION, V2),
    "unknown version page": Call("GET", VERSION, "/processes/private_lease/versions/99"),
    "step details (htmx)": Call(
        "GET", VERSION + "/steps/{step}", V2 + "/steps/search_dwelling", htmx=True
    ),
    "unknown step details": Call("GET", VERSION + "/steps/{step}", V2 + "/steps/zzz"),
    "swimlane svg": Call("GET", VERSION + "/swimlane.{fmt}", V2 + "/swimlane.svg"),
    "swimlane png": Call("GET", VERSION + "/swimlane.{fmt}", V2 + "/swimlane.png"),
    "steps csv": Call("GET", VERSION + "/{table}.csv", V2 + "/steps.csv"),
    "wastes csv": Call("GET", VERSION + "/{table}.csv", V2 + "/wastes.csv"),
    "design timeline svg": Call("GET", VERSION + "/timeline.svg", V2 + "/timeline.svg"),
}

_READ = (LOGIN, LOGIN, 200, 200, 200, 200, 403)
_GONE = (LOGIN, LOGIN, 404, 404, 404, 404, 403)
PAGES: dict[str, tuple[Expected, ...]] = {
    # row                 anonymous disabled own other facilit. proc.own admin
    "process catalogue": _READ,
    "version page": _READ,
    "unknown version page": _GONE,
    "step details (htmx)": _READ,
    "unknown step details": _GONE,
    "swimlane svg": _READ,
    "swimlane png": _READ,
    "steps csv": _READ,
    "wastes csv": _READ,
    "design timeline svg": _READ,
}

API_SWIMLANE = "/processes/{process}/versions/{version}/swimlane.svg"
API_CALLS = {
    "api: process list": Call("GET", "/processes", "/processes"),
    "api: swimlane svg": Call(
        "GET", API_SWIMLANE, "/processes/private_lease/versions/2/swimlane.svg"
    ),
    "api: unknown version swimlane": Call(
        "GET", API_SWIMLANE, "/processes/private_lease/versions/99/swimlane.svg"
    ),
    "api: unknown process swimlane": Call(
        "GET", API_SWIMLANE, "/processes/nowhere/versions/1/swimlane.svg"
    ),
}

API: dict[str, tuple[int, ...]] = {
    # row                          anonymous bad_token disabled own other facilit. proc.own admin
    "api: process list":             (401, 401,     401,     200, 200,  200,     200,     200),
    "api: swimlane svg":             (401, 401,     401,     200, 200,  200,     200,     200),
    "api: unknown version swimlane": (401, 401,     401,     404, 404,  404,     404,     404),
    "api: unknown process swimlane": (401, 401,     401,     404, 404,  404,     404,     404),
}  # fmt: skip
