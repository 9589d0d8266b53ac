"""The draft pages' and the drafts API's rows of the authorisation matrix
(tests/web/test_authorisation_matrix).

Only process owners use them; everyone else is refused (the login page, 401 or 403). The
matrix runs over the shipped library, so each process owner's cell is one that writes nothing:
an unknown version, a published version (read only, never saved over), a text with problems.
The writes themselves are tested in tests/web/test_draft_pages.py over a copy of the library.
"""

from __future__ import annotations

from tests.web.cells import LOGIN, Call, Expected

EDITOR = "/drafts/{process}/{number}"
STALE = "0" * 64
PAGE_CALLS = {
    "drafts": Call("GET", "/drafts", "/drafts"),
    "new draft from an unknown version": Call("POST", "/drafts", "/drafts",
                                              {"source": "private_lease@v99"}),
    "draft editor of published v2 (read only)": Call("GET", EDITOR, "/drafts/private_lease/2"),
    "draft editor of an unknown version": Call("GET", EDITOR, "/drafts/private_lease/99"),
    "check a draft text": Call("POST", EDITOR + "/check", "/drafts/private_lease/2/check",
                               {"text": "process: private_lease\n"}),
    "save over published v2": Call("POST", EDITOR, "/drafts/private_lease/2",
                                   {"text": "process: private_lease\n", "hash": STALE,
                                    "action": "save"}),
    "upload a version file with problems": Call("POST", "/drafts/upload", "/drafts/upload",
                                                {"process": "private_lease",
                                                 "text": "process: private_lease\n"}),
}  # fmt: skip

PAGES: dict[str, tuple[Expected, ...]] = {
    # row                                      anonymous disabled own other facilit. proc.own admin
    "drafts":                                    (LOGIN, LOGIN,   403, 403,  403,     200,     403),
    "new draft from an unknown version":         (LOGIN, LOGIN,   403, 403,  403,     404,     403),
    "draft editor of published v2 (read only)":  (LOGIN, LOGIN,   403, 403,  403,     200,     403),
    "draft editor of an unknown version":        (LOGIN, LOGIN,   403, 403,  403,     404,     403),
    "check a draft text":                        (LOGIN, LOGIN,   403, 403,  403,     200,     403),
    "save over published v2":                    (LOGIN, LOGIN,   403, 403,  403,     409,     403),
    "upload a version file with problems":       (LOGIN, LOGIN,   403, 403,  403,     422,     403),
}  # fmt: skip

API_CALLS = {
    "create a draft from an empty file": Call("POST", "/processes/{process}/drafts",
                                              "/processes/private_lease/drafts"),
}  # fmt: skip

API: dict[str, tuple[int, ...]] = {
    # row                            anonymous bad_token disabled own other facilit. proc.own admin
    "create a draft from an empty file": (401, 401,     401,     403, 403,  403,     422,     403),
}  # fmt: skip
