"""The KPI trends pages' rows of the authorisation matrix (tests/web/test_authorisation_matrix.py):
facilitators and process owners only; everyone else signed in gets 403."""

from __future__ import annotations

from tests.web.cells import LOGIN, Call, Expected

PAGE_CALLS = {
    "trends: choose a process": Call("GET", "/trends", "/trends"),
    "trends of private_lease": Call("GET", "/trends/{process}", "/trends/private_lease"),
    "trends of an unknown process": Call("GET", "/trends/{process}", "/trends/no_such_process"),
    "trends CSV of private_lease": Call(
        "GET", "/trends/{process}/trends.csv", "/trends/private_lease/trends.csv"
    ),
}

PAGES: dict[str, tuple[Expected, ...]] = {
    # row                            anonymous disabled own  other facilit. proc.own admin
    "trends: choose a process":        (LOGIN, LOGIN,   403, 403,  200,     200,     403),
    "trends of private_lease":         (LOGIN, LOGIN,   403, 403,  200,     200,     403),
    "trends of an unknown process":    (LOGIN, LOGIN,   403, 403,  404,     404,     403),
    "trends CSV of private_lease":     (LOGIN, LOGIN,   403, 403,  200,     200,     403),
}  # fmt: skip
