"""The authorisation matrix's vocabulary: a request (:class:`Call`) and the expected answers.

Apart from ``test_authorisation_matrix.py`` because the rows kept beside later pages
(``tests/web/matrix_*.py``) import it too: were it in the test module, pytest's doctest
collection, importing a ``matrix_*.py`` first, would run the test module's merge of those rows
while that file was only half imported, and its rows would be lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LOGIN = (303, "/login")
"""Redirected to the login page."""
INBOX = (303, "/inbox")
PROCS = (303, "/processes")
"""Redirected to the process catalogue (where a facilitator or process owner starts)."""
CASE = (303, "/cases/{case}")
"""Redirected back to the case page (the step was begun or completed)."""
STARTED = (303, "/cases/*")
"""Redirected to the page of the case just started (any case id)."""

Expected = int | tuple[int, str]

PAGE_WHO = ("anonymous", "disabled", "own", "other", "facilitator", "process_owner", "admin")
API_WHO = ("anonymous", "bad_token", *PAGE_WHO[1:])

UNKNOWN = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class Call:
    """One request: ``route`` is the app's route path it exercises; ``url`` may hold ``{a}``,
    ``{b}`` (a fresh case, see the module doc) and ``{who}`` (the principal's user name)."""

    method: str
    route: str
    url: str
    body: dict[str, Any] = field(default_factory=dict)
    """Form fields (pages; the CSRF token is added) or the JSON body (API)."""
    htmx: bool = False
