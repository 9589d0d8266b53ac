"""The what-if page's rows of the authorisation matrix (tests/web/test_authorisation_matrix).

Facilitators and process owners simulate; caseworkers and an administrator without those roles
are refused. The post sends a case count out of range, so an allowed role gets the form back
with its error (422) and no simulation is started by the matrix; an unknown job is 404.
"""

from __future__ import annotations

from tests.web.cells import LOGIN, Call, Expected

WHATIF = "/processes/{process}/versions/{number}/whatif"
FORM = "/processes/private_lease/versions/2/whatif"
PAGE_CALLS = {
    "what-if form": Call("GET", WHATIF, FORM),
    "what-if form, unknown version": Call("GET", WHATIF, FORM.replace("/2/", "/9/")),
    "what-if start (cases out of range)": Call("POST", WHATIF, FORM, {"cases": "0"}),
    "what-if unknown job": Call("GET", WHATIF + "/jobs/{job}", FORM + "/jobs/" + "ab" * 16),
}  # fmt: skip

PAGES: dict[str, tuple[Expected, ...]] = {
    # row                                 anonymous disabled own  other facilit. proc.own admin
    "what-if form":                        (LOGIN,   LOGIN,   403, 403,  200,     200,     403),
    "what-if form, unknown version":       (LOGIN,   LOGIN,   403, 403,  404,     404,     403),
    "what-if start (cases out of range)":  (LOGIN,   LOGIN,   403, 403,  422,     422,     403),
    "what-if unknown job":                 (LOGIN,   LOGIN,   403, 403,  404,     404,     403),
}  # fmt: skip
