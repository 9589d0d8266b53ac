"""Starting a case as an account (boflyt.web.case_start), shared by the start page and the API."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from boflyt.engine.store import accounts
from boflyt.engine.store import commands as store
from boflyt.models.errors import AccessError, ConflictError, NotFoundError
from boflyt.models.vocabulary import Role, RunStatus
from boflyt.web.case_start import Startable, start, startable
from tests.web.conftest import MONDAY, PASSWORD, REF_A

NOW = MONDAY + dt.timedelta(days=2)


def _account(engine, name: str, orgs: list[str], roles=(Role.CASEWORKER,)):
    return accounts.add_account(engine, username=name, password=PASSWORD, orgs=orgs,
                                roles=list(roles), now=MONDAY)  # fmt: skip


def test_startable_lists_the_published_versions_an_organisation_may_start(sqlite_engine, library):
    housing = _account(sqlite_engine, "ann", ["housing_office"])
    nav = _account(sqlite_engine, "bo", ["nav"])
    assert startable(library, sqlite_engine, housing) == [
        Startable("private_lease", (1, 2), library.get("private_lease").name.get("nb")),
        Startable("refugee_settlement", (1, 2), library.get("refugee_settlement").name.get("nb")),
    ]
    by_process = {s.process: s.versions for s in startable(library, sqlite_engine, nav)}
    assert by_process["eviction_prevention"] == (1,)  # v2 starts in accounting only


def test_startable_is_empty_without_the_caseworker_role_or_when_disabled(sqlite_engine, library):
    owner = _account(sqlite_engine, "ola", ["nav"], roles=(Role.PROCESS_OWNER,))
    cy = _account(sqlite_engine, "cy", ["nav"])
    accounts.disable_account(sqlite_engine, "cy", now=MONDAY)
    assert startable(library, sqlite_engine, owner) == []
    assert startable(library, sqlite_engine, cy) == []  # the account value is stale: store wins


def test_start_picks_the_newest_published_version_and_the_account_s_organisation(
    sqlite_engine, library, key, caplog
):
    ann = _account(sqlite_engine, "ann", ["accounting", "housing_office"])
    caplog.set_level(logging.DEBUG)
    state = start(sqlite_engine, library, key, account=ann, process="private_lease",
                  version=None, reference=REF_A, now=NOW)  # fmt: skip
    assert (state.process, state.version, state.status) == ("private_lease", 2, RunStatus.RUNNING)
    first = store.case_timeline(sqlite_engine, state.case_id)[0]
    assert (first.actor, first.org) == ("ann", "accounting")  # the first of its orgs that may
    assert REF_A not in repr(state) and REF_A not in caplog.text
    found = store.find_case_by_ref(sqlite_engine, ref=REF_A, key=key)
    assert [c.id for c in found] == [state.case_id]


def test_start_on_a_given_version(sqlite_engine, library, key):
    bo = _account(sqlite_engine, "bo", ["nav"])
    state = start(sqlite_engine, library, key, account=bo, process="eviction_prevention",
                  version=1, reference="x-1", now=NOW)  # fmt: skip
    assert state.version == 1


def test_without_a_version_it_is_the_newest_the_account_may_start(sqlite_engine, library, key):
    """eviction_prevention v2 starts in accounting only: NAV starts on v1, as its start page
    and the API offer it, and accounting on v2."""
    bo = _account(sqlite_engine, "bo", ["nav"])
    per = _account(sqlite_engine, "per", ["accounting"])
    given = {"process": "eviction_prevention", "version": None, "now": NOW}
    assert start(sqlite_engine, library, key, account=bo, reference="x-1", **given).version == 1
    assert start(sqlite_engine, library, key, account=per, reference="x-2", **given).version == 2


def test_an_organisation_that_may_not_start_is_refused_and_nothing_is_stored(
    sqlite_engine, library, key
):
    ann = _account(sqlite_engine, "ann", ["housing_office"])
    with pytest.raises(AccessError, match=r"may not start a case on eviction_prevention@v2.*"
                       r"organisations that may: accounting") as refused:  # fmt: skip
        start(sqlite_engine, library, key, account=ann, process="eviction_prevention",
              version=2, reference=REF_A, now=NOW)  # fmt: skip
    assert REF_A not in str(refused.value)
    assert store.list_cases(sqlite_engine) == []


def test_a_role_or_a_disabled_account_is_refused(sqlite_engine, library, key):
    owner = _account(sqlite_engine, "ola", ["nav"], roles=(Role.PROCESS_OWNER,))
    cy = _account(sqlite_engine, "cy", ["nav"])
    accounts.disable_account(sqlite_engine, "cy", now=MONDAY)
    for account, message in ((owner, "may not start"), (cy, "disabled")):
        with pytest.raises(AccessError, match=message):
            start(sqlite_engine, library, key, account=account, process="private_lease",
                  version=None, reference="r", now=NOW)  # fmt: skip
    assert store.list_cases(sqlite_engine) == []


def test_unknown_process_or_version_and_a_duplicate_reference(sqlite_engine, library, key):
    ann = _account(sqlite_engine, "ann", ["housing_office"])
    given = {"account": ann, "reference": REF_A, "now": NOW}
    with pytest.raises(NotFoundError, match="unknown process 'nope'"):
        start(sqlite_engine, library, key, process="nope", version=None, **given)
    with pytest.raises(NotFoundError, match="has no version 9"):
        start(sqlite_engine, library, key, process="private_lease", version=9, **given)
    start(sqlite_engine, library, key, process="private_lease", version=None, **given)
    with pytest.raises(ConflictError, match="already has this reference") as again:
        start(sqlite_engine, library, key, process="private_lease", version=None, **given)
    assert REF_A not in str(again.value)
