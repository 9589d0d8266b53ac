"""The migration page's rows of the authorisation matrix (tests/web/test_authorisation_matrix).

Only process owners plan and apply a migration; facilitators, caseworkers and an administrator
without that role are refused (403), and no session is the login page. The plan is posted (its
case ids stay out of addresses) and writes nothing. The matrix's store holds no private_lease
case, so no cell here moves one: the process owner's apply carries no plan fingerprint, which is
the plan-changed answer (409, nothing applied); the moves themselves are tested in
tests/web/test_migration_pages.py.
"""

from __future__ import annotations

from tests.web.cells import LOGIN, Call, Expected

MIGRATE = "/processes/{process}/migrate"
PAGE_CALLS = {
    "migration form private_lease": Call("GET", MIGRATE, "/processes/private_lease/migrate"),
    "migration plan private_lease v1 to v2": Call(
        "POST", MIGRATE, "/processes/private_lease/migrate", {"from": "1", "to": "2"}
    ),
    "migration form of an unknown process": Call("GET", MIGRATE, "/processes/nothing/migrate"),
    "migrate private_lease without the plan shown": Call(
        "POST",
        MIGRATE,
        "/processes/private_lease/migrate",
        {"from": "1", "to": "2", "action": "apply"},
    ),
    "migrate an unknown process": Call(
        "POST", MIGRATE, "/processes/nothing/migrate", {"from": "1", "to": "2", "action": "apply"}
    ),
}

PAGES: dict[str, tuple[Expected, ...]] = {
    # row                                          anonym. disabl. own other facil. p.own admin
    "migration form private_lease":                 (LOGIN, LOGIN,  403, 403, 403,    200, 403),
    "migration plan private_lease v1 to v2":        (LOGIN, LOGIN,  403, 403, 403,    200, 403),
    "migration form of an unknown process":         (LOGIN, LOGIN,  403, 403, 403,    404, 403),
    "migrate private_lease without the plan shown": (LOGIN, LOGIN,  403, 403, 403,    409, 403),
    "migrate an unknown process":                   (LOGIN, LOGIN,  403, 403, 403,    404, 403),
}  # fmt: skip
