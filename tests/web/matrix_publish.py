"""The publishing pages' and API routes' rows of the authorisation matrix
(tests/web/test_authorisation_matrix).

Process owners publish and retire; facilitators may read the diff; caseworkers and an
administrator without those roles are refused. The matrix runs on the shipped library, so no
cell here may change a file: the process owner's posts are the refusals (publishing a published
version is 409, retiring an unknown version 404); the successful writes are tested on a copy in
tests/web/test_publish_pages.py.
"""

from __future__ import annotations

from tests.web.cells import LOGIN, Call, Expected

VERSION = "/versions/{process}/{number}"
PAGE_CALLS = {
    "diff private_lease v2": Call("GET", VERSION + "/diff", "/versions/private_lease/2/diff"),
    "diff unknown version": Call("GET", VERSION + "/diff", "/versions/private_lease/9/diff"),
    "confirm publish of a published version": Call(
        "GET", VERSION + "/publish", "/versions/private_lease/2/publish"
    ),
    "publish a published version": Call(
        "POST", VERSION + "/publish", "/versions/private_lease/2/publish"
    ),
    "confirm retire private_lease v2": Call(
        "GET", VERSION + "/retire", "/versions/private_lease/2/retire"
    ),
    "retire an unknown version": Call(
        "POST", VERSION + "/retire", "/versions/private_lease/9/retire"
    ),
}

PAGES: dict[str, tuple[Expected, ...]] = {
    # row                                    anonymous disabled own other facilit. proc.own admin
    "diff private_lease v2":                  (LOGIN,   LOGIN,  403, 403,  200,     200,     403),
    "diff unknown version":                   (LOGIN,   LOGIN,  403, 403,  404,     404,     403),
    "confirm publish of a published version": (LOGIN,   LOGIN,  403, 403,  403,     409,     403),
    "publish a published version":            (LOGIN,   LOGIN,  403, 403,  403,     409,     403),
    "confirm retire private_lease v2":        (LOGIN,   LOGIN,  403, 403,  403,     200,     403),
    "retire an unknown version":              (LOGIN,   LOGIN,  403, 403,  403,     404,     403),
}  # fmt: skip

API_VERSION = "/processes/{process}/versions/{number}"
API_CALLS = {  # under PREFIX
    "publish a published version": Call(
        "POST", API_VERSION + "/publish", "/processes/private_lease/versions/2/publish"
    ),
    "retire an unknown version": Call(
        "POST", API_VERSION + "/retire", "/processes/private_lease/versions/9/retire"
    ),
}

API: dict[str, tuple[int, ...]] = {
    # row                          anonymous bad_token disabled own other facilit. proc.own admin
    "publish a published version": (401,     401,      401,     403, 403,  403,     409,     403),
    "retire an unknown version":   (401,     401,      401,     403, 403,  403,     404,     403),
}  # fmt: skip
