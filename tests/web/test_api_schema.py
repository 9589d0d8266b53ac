"""Property-based tests of the API generated from its OpenAPI description (schemathesis).

Every operation of ``/api/v1/openapi.json`` gets generated requests, both fitting the description
and not (wrong types, missing and extra fields, strings with control characters, huge numbers),
with a valid caseworker's token; path values are generated, or fixed to a real case so the
requests reach the store. No answer may be a 500, and every answer must match the status codes,
headers and bodies the description states (except schemathesis's "positive data accepted": a
request that fits the description may still name an unknown process, or minutes the store
refuses, and get 422). Examples are bounded (:data:`EXAMPLES` per operation
and mode) so the module takes well under a minute.

schemathesis's own pytest integration (``from_fixture``) does not run under pytest 9, so each
operation's strategy is drawn with Hypothesis's ``@given`` inside the test.
"""

from __future__ import annotations

import pytest
import schemathesis
from argon2 import PasswordHasher
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from boflyt.engine.store import accounts
from boflyt.web.app import create_app
from tests.web.conftest import MONDAY

pytestmark = pytest.mark.slow

EXAMPLES = 60

OPERATIONS = [
    ("GET", "/inbox"),
    ("POST", "/cases"),
    ("GET", "/cases/{case_id}"),
    ("POST", "/cases/{case_id}/steps/{step}/begin"),
    ("POST", "/cases/{case_id}/steps/{step}/complete"),
    ("GET", "/processes"),
    ("GET", "/processes/{process}/versions/{version}/swimlane.svg"),
    # As a caseworker (403): generated input never writes to the shipped library these
    # fixtures read; the process owner's answers are tested on a copy in test_draft_pages.py
    # and test_publish_pages.py.
    ("POST", "/processes/{process}/drafts"),
    ("POST", "/processes/{process}/versions/{number}/publish"),
    ("POST", "/processes/{process}/versions/{number}/retire"),
]


def _runs() -> list[tuple[str, str, bool, GenerationMode]]:
    """(method, path, real case, mode) worth running: a real case only where a path names one;
    invalid input only where the description constrains something besides plain strings."""
    runs = []
    for method, path in OPERATIONS:
        for real_case in (False, True) if "{case_id}" in path else (False,):
            runs.append((method, path, real_case, GenerationMode.POSITIVE))
            if method == "POST" and not path.endswith("/begin"):
                runs.append((method, path, real_case, GenerationMode.NEGATIVE))
    return runs


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch):
    """Passwords hashed with the cheapest argon2 parameters: these tests are about the API."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(accounts, "_HASHER", cheap)


@pytest.fixture
def api_schema(web_store, library, config, clock, key):
    """The API's schema, loaded from the app over the web fixtures' store (cases A and B)."""
    app = create_app(web_store[0], library, config, key=key, clock=clock)
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)


def test_the_description_lists_the_operations_tested_here(api_schema):
    found = {(r.ok().method.upper(), r.ok().path) for r in api_schema.get_all_operations()}
    assert found == set(OPERATIONS)


@pytest.mark.parametrize("method, path, real_case, mode", _runs())
def test_no_generated_request_makes_the_api_fail(
    api_schema, web_store, method, path, real_case, mode
):
    token = accounts.new_token(web_store[0], "ann", now=MONDAY)
    headers = {"Authorization": f"Bearer {token}"}
    fixed = {"case_id": web_store[1].a} if real_case else None
    operation = api_schema[path][method]

    @given(operation.as_strategy(mode, path_parameters=fixed, headers=headers))
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def check(case):
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    check()
