"""The before/after page's rows of the authorisation matrix (tests/web/test_authorisation_matrix).

Facilitators and process owners use the page, caseworkers of any organisation may read it (it
changes nothing and shows no case), an administrator without those roles is refused.
"""

from __future__ import annotations

from tests.web.cells import LOGIN, Call, Expected

COMPARE = "/processes/{process}/compare"
PAGE_CALLS = {
    "compare private_lease": Call("GET", COMPARE, "/processes/private_lease/compare?a=1&b=2"),
    "compare unknown process": Call("GET", COMPARE, "/processes/nosuch/compare"),
    "compare report": Call("GET", COMPARE + "/report.html",
                           "/processes/private_lease/compare/report.html?a=1&b=2"),
    "compare table": Call("GET", COMPARE + "/table.csv",
                          "/processes/private_lease/compare/table.csv"),
    "compare ghost diagram": Call("GET", COMPARE + "/{figure}.svg",
                                  "/processes/private_lease/compare/ghost.svg"),
    "compare unknown diagram": Call("GET", COMPARE + "/{figure}.svg",
                                    "/processes/private_lease/compare/nosuch.svg"),
}  # fmt: skip

PAGES: dict[str, tuple[Expected, ...]] = {
    # row                      anonymous disabled own   other facilit. proc.own admin
    "compare private_lease":   (LOGIN,   LOGIN,   200,  200,  200,     200,     403),
    "compare unknown process": (LOGIN,   LOGIN,   404,  404,  404,     404,     403),
    "compare report":          (LOGIN,   LOGIN,   200,  200,  200,     200,     403),
    "compare table":           (LOGIN,   LOGIN,   200,  200,  200,     200,     403),
    "compare ghost diagram":   (LOGIN,   LOGIN,   200,  200,  200,     200,     403),
    "compare unknown diagram": (LOGIN,   LOGIN,   404,  404,  404,     404,     403),
}  # fmt: skip
