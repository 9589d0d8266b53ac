"""Accounts: add, read, disable; argon2 passwords; API tokens kept only as SHA-256; migration."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

from boflyt.engine.store import accounts, migrations
from boflyt.engine.store.accounts import (
    Account,
    account_for_token,
    add_account,
    authenticate,
    disable_account,
    get_account,
    list_accounts,
    new_token,
)
from boflyt.engine.store.db import HEAD, make_engine, read_scope, upgrade_schema, write_scope
from boflyt.models.errors import CommandError, ConflictError, NotFoundError
from boflyt.models.vocabulary import Role

NOW = dt.datetime(2026, 12, 3, 6, 0)
PASSWORD = "correct horse battery staple"


def _kari(engine: Engine, **changes: object) -> Account:
    given: dict[str, object] = {
        "username": "kari", "password": PASSWORD, "orgs": ["nav", "housing_office", "nav"],
        "roles": [Role.CASEWORKER, Role.ADMIN], "now": NOW,
    } | changes  # fmt: skip
    return add_account(engine, **given)  # type: ignore[arg-type]


def _stored(engine: Engine, query: str | sa.Select[Any]) -> list[tuple[object, ...]]:
    with read_scope(engine) as conn:
        rows = conn.exec_driver_sql(query) if isinstance(query, str) else conn.execute(query)
        return [tuple(row) for row in rows]


def test_an_added_account_reads_back_with_sorted_orgs_and_roles(any_engine):
    added = _kari(any_engine)
    assert added == Account("kari", ("housing_office", "nav"), (Role.ADMIN, Role.CASEWORKER), True)
    assert get_account(any_engine, "kari") == added
    assert get_account(any_engine, "ola") is None
    _kari(any_engine, username="ann", orgs=["nav"], roles=[])
    assert [a.username for a in list_accounts(any_engine)] == ["ann", "kari"]
    assert list_accounts(any_engine)[0].roles == ()


def test_a_second_account_with_the_same_name_is_a_conflict(any_engine):
    _kari(any_engine)
    with pytest.raises(ConflictError, match="an account 'kari' exists already"):
        _kari(any_engine, orgs=["nav"])
    disable_account(any_engine, "kari", now=NOW)
    with pytest.raises(ConflictError):
        _kari(any_engine)
    assert list_accounts(any_engine) == [get_account(any_engine, "kari")]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"username": "Kari"}, "bad user name 'Kari'; a user name is 2-64 characters"),
        ({"username": "k"}, "bad user name 'k'"),
        ({"username": "kari\nadmin"}, "user name contains a control character"),
        ({"orgs": []}, "an account needs at least one organisation"),
        ({"password": "short pass"}, r"too short \(10 characters\); use at least 12"),
        ({"roles": ["boss"]}, "'boss' is not a valid Role; known roles: caseworker, facilitator"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(sqlite_engine, changes, message):
    with pytest.raises(CommandError, match=message) as refused:
        _kari(sqlite_engine, **changes)
    assert "short pass" not in str(refused.value) or "password" not in changes
    assert list_accounts(sqlite_engine) == []


def test_the_stored_hash_is_argon2id_and_never_the_password(any_engine):
    _kari(any_engine)
    [(stored,)] = _stored(any_engine, "SELECT password_hash FROM account")
    assert isinstance(stored, str) and stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert PasswordHasher().verify(stored, PASSWORD)
    dumped = _stored(any_engine, "SELECT * FROM account") + _stored(
        any_engine, "SELECT * FROM account_org"
    )
    assert PASSWORD not in repr(dumped)


def test_authenticate_takes_the_right_password_only_of_an_active_account(any_engine):
    kari = _kari(any_engine)
    assert authenticate(any_engine, "kari", PASSWORD) == kari
    assert authenticate(any_engine, "kari", PASSWORD + "!") is None
    assert authenticate(any_engine, "kari", "") is None
    assert authenticate(any_engine, "nobody", PASSWORD) is None
    assert authenticate(any_engine, "Not A Name\n", PASSWORD) is None
    disable_account(any_engine, "kari", now=NOW)
    assert authenticate(any_engine, "kari", PASSWORD) is None


def test_an_unknown_user_costs_one_argon2_verification_too(sqlite_engine, monkeypatch):
    calls: list[str] = []
    verify = accounts._verifies
    monkeypatch.setattr(accounts, "_verifies", lambda h, p: calls.append(h) or verify(h, p))
    assert authenticate(sqlite_engine, "nobody", PASSWORD) is None
    assert len(calls) == 1 and calls[0].startswith("$argon2id$")


def test_a_hash_made_with_weaker_parameters_is_renewed_on_login(sqlite_engine):
    _kari(sqlite_engine)
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024).hash(PASSWORD)
    with write_scope(sqlite_engine) as conn:
        conn.execute(sa.text("UPDATE account SET password_hash = :h"), {"h": weak})
    assert authenticate(sqlite_engine, "kari", PASSWORD) is not None
    [(renewed,)] = _stored(sqlite_engine, "SELECT password_hash FROM account")
    assert renewed != weak and not accounts._HASHER.check_needs_rehash(str(renewed))


def test_disabling_keeps_the_account_and_its_first_disabled_time(any_engine):
    _kari(any_engine)
    assert disable_account(any_engine, "kari", now=NOW).active is False
    disable_account(any_engine, "kari", now=NOW + dt.timedelta(days=1))
    query = sa.select(accounts.ACCOUNT.c.active, accounts.ACCOUNT.c.disabled_at)
    assert _stored(any_engine, query) == [(False, NOW)]
    with pytest.raises(NotFoundError, match="no account 'ola'; 'boflyt user list' shows"):
        disable_account(any_engine, "ola", now=NOW)


def test_a_token_is_shown_once_and_only_its_sha256_is_stored(any_engine):
    kari = _kari(any_engine)
    token = new_token(any_engine, "kari", now=NOW)
    assert token.startswith("boflyt_") and len(token) > 40
    assert new_token(any_engine, "kari", now=NOW) != token
    stored = _stored(any_engine, sa.select(accounts.TOKEN))
    assert (hashlib.sha256(token.encode()).hexdigest(), "kari", NOW) in stored
    assert token not in repr(stored)
    assert account_for_token(any_engine, token) == kari
    assert account_for_token(any_engine, token + "x") is None
    assert account_for_token(any_engine, "not a token") is None


def test_a_token_stops_working_when_its_account_is_disabled(any_engine):
    _kari(any_engine)
    token = new_token(any_engine, "kari", now=NOW)
    disable_account(any_engine, "kari", now=NOW)
    assert account_for_token(any_engine, token) is None
    assert _stored(any_engine, "SELECT COUNT(*) FROM api_token") == [(0,)]
    with pytest.raises(CommandError, match="'kari' is disabled; it gets no tokens"):
        new_token(any_engine, "kari", now=NOW)
    with pytest.raises(NotFoundError, match="no account 'ola'"):
        new_token(any_engine, "ola", now=NOW)


def test_a_store_of_revision_0003_upgrades_to_accounts_with_its_rows_intact(empty_store_url):
    engine = make_engine(empty_store_url)
    with write_scope(engine) as conn:
        migrations.upgrade(conn, "0003_run_sets")
        conn.exec_driver_sql("INSERT INTO store_meta (name, value) VALUES ('kept', 'yes')")
    assert upgrade_schema(engine) == ("0003_run_sets", HEAD)
    assert _stored(engine, "SELECT name, value FROM store_meta") == [("kept", "yes")]
    _kari(engine)
    assert authenticate(engine, "kari", PASSWORD) is not None
    with engine.connect() as conn:
        assert migrations.drift(conn) == []
    engine.dispose()
