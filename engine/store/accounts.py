"""Accounts: who may use the store, in which organisations and roles; passwords and API tokens.

An account is a user name, the organisations it acts for (lane ids of the library; the caller
checks them against the workspace's lane catalogue, the store does not know the library) and its
roles (:class:`boflyt.models.vocabulary.Role`). Accounts are disabled, never deleted, so the
record of who did what keeps its names.

* **Passwords** are kept only as argon2id hashes (argon2-cffi's ``PasswordHasher`` with its
  defaults); :func:`authenticate` costs one argon2 verification whether the user exists or not
  (an unknown user is verified against a dummy hash), so timing does not tell which names exist.
* **API tokens** are 256 random bits shown once by :func:`new_token`; only their SHA-256 is
  stored. Disabling an account deletes its tokens.

Every change (an account added, disabled, a token issued) is recorded in the audit log
(:mod:`boflyt.engine.store.audit`) in the same transaction, by ``actor`` (the admin's account on
the web; :data:`~boflyt.engine.store.audit.OPERATOR` from the command line) and from ``address``.
Passwords and tokens never appear in an error message or the audit log. The SQL is written
once, as SQLAlchemy Core statements on the tables of :mod:`boflyt.models.tables`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection, Engine

from boflyt.engine.case.bounds import MAX_ACTOR, MAX_ID, check_text, visible
from boflyt.engine.store.audit import OPERATOR, record_in
from boflyt.engine.store.db import read_scope, write_scope
from boflyt.engine.store.statements import translate_errors, utc
from boflyt.models import tables
from boflyt.models.errors import AccessError, CommandError, ConflictError, NotFoundError
from boflyt.models.vocabulary import AuditAction, Role

__all__ = [
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "TOKEN_PREFIX",
    "Account",
    "account_for_token",
    "add_account",
    "authenticate",
    "check_actor",
    "check_password",
    "check_username",
    "disable_account",
    "get_account",
    "list_accounts",
    "new_token",
]

MIN_PASSWORD = 12
"""Characters a password needs at least."""
MAX_PASSWORD = 1024
"""Characters a password may have at most (argon2 hashes any length; this bounds the work)."""
TOKEN_PREFIX = "boflyt_"
"""What every API token starts with, so secret scanners and people recognise one."""
_USERNAME = re.compile(r"[a-z][a-z0-9._-]{1,63}")
_HASHER = PasswordHasher()

ACCOUNT: sa.Table = tables.Account.__table__  # type: ignore[attr-defined]
ORG: sa.Table = tables.AccountOrg.__table__  # type: ignore[attr-defined]
ROLE: sa.Table = tables.AccountRole.__table__  # type: ignore[attr-defined]
TOKEN: sa.Table = tables.ApiToken.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Account:
    """One account as the rest of Boflyt sees it: never its password hash."""

    username: str
    orgs: tuple[str, ...]
    """Lane ids of the library (organisations) it acts for, sorted."""
    roles: tuple[Role, ...]
    """Its roles, sorted."""
    active: bool

    def may(self, role: Role) -> bool:
        """Whether the account is active and has ``role``."""
        return self.active and role in self.roles


def check_actor(engine: Engine, username: str, org: str, role: Role = Role.CASEWORKER) -> Account:
    """The active account ``username`` that acts for ``org`` with ``role``: the one rule for who
    may give a command on a case, whether from the terminal (``--as``), a page or the API.

    Raises:
        CommandError: ``username`` or ``org`` is empty, too long or holds a control character
            (:func:`boflyt.engine.case.bounds.check_text`).
        AccessError: no such account, or it is disabled, does not act for ``org`` or lacks
            ``role``; the message says which and how to fix it.
    """
    check_text(username, what="actor name", limit=MAX_ACTOR)
    shown = visible(username, limit=MAX_ID)
    account = get_account(engine, username)
    if account is None:
        hint = visible(org, limit=MAX_ID) or "ORG"
        raise AccessError(
            f"'{shown}' is not an account of this store; case work is done as an account: "
            f"'boflyt user add {shown} --org {hint} --role {role.value}' adds one "
            "('boflyt user list' shows them)"
        )
    check_text(org, what="organisation", limit=MAX_ID)
    if not account.active:
        raise AccessError(f"account '{shown}' is disabled")
    if org not in account.orgs:
        acts_for = ", ".join(account.orgs) or "no organisation"
        raise AccessError(
            f"account '{shown}' acts for {acts_for}, not for '{visible(org, limit=MAX_ID)}'"
        )
    if role not in account.roles:
        has = ", ".join(r.value for r in account.roles) or "none"
        raise AccessError(f"account '{shown}' lacks the role {role.value} (its roles: {has})")
    return account


def check_username(username: str) -> str:
    """``username`` if it is 2-64 characters of ``a-z 0-9 . _ -`` starting with a letter.

    >>> check_username("kari.nordmann")
    'kari.nordmann'
    >>> check_username("Kari")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    boflyt.models.errors.CommandError: bad user name 'Kari'; a user name is 2-64 characters ...
    """
    if _USERNAME.fullmatch(username):
        return username
    shown = visible(check_text(username, what="user name", limit=MAX_ID))
    raise CommandError(
        f"bad user name '{shown}'; a user name is 2-64 characters of a-z, 0-9, '.', '_' and "
        "'-', starting with a letter (e.g. kari.nordmann)"
    )


def check_password(password: str) -> None:
    """Refuse a password shorter than :data:`MIN_PASSWORD` or longer than :data:`MAX_PASSWORD`.

    The message never repeats the password.
    """
    if len(password) < MIN_PASSWORD:
        raise CommandError(
            f"the password is too short ({len(password)} characters); use at least "
            f"{MIN_PASSWORD}, e.g. four unrelated words"
        )
    if len(password) > MAX_PASSWORD:
        raise CommandError(f"the password is longer than {MAX_PASSWORD} characters")


def _orgs(orgs: Iterable[str]) -> tuple[str, ...]:
    found = tuple(sorted({check_text(org, what="organisation", limit=MAX_ID) for org in orgs}))
    if not found:
        raise CommandError("an account needs at least one organisation (a lane id, e.g. nav)")
    return found


def _roles(roles: Iterable[Role | str]) -> tuple[Role, ...]:
    try:
        return tuple(sorted({Role(role) for role in roles}))
    except ValueError as exc:
        known = ", ".join(role.value for role in Role)
        raise CommandError(f"{exc}; known roles: {known}") from None


def add_account(
    engine: Engine,
    *,
    username: str,
    password: str,
    orgs: Sequence[str],
    roles: Sequence[Role],
    now: dt.datetime,
    actor: str = OPERATOR,
    address: str | None = None,
) -> Account:
    """Store a new active account with the argon2 hash of ``password``; the account.

    ``actor`` (who adds it) and ``address`` go to the audit entry, with the organisations and
    roles given.

    Raises:
        CommandError: a bad user name, no organisation, an unknown role or a weak password.
        ConflictError: an account with this user name exists (active or disabled).
    """
    account = Account(check_username(username), _orgs(orgs), _roles(roles), active=True)
    check_password(password)
    password_hash = _HASHER.hash(password)

    def run() -> None:
        with write_scope(engine) as conn:
            if _row(conn, account.username) is not None:
                raise ConflictError(f"an account '{account.username}' exists already")
            conn.execute(ACCOUNT.insert().values(
                username=account.username, password_hash=password_hash, active=True,
                created_at=utc(now), disabled_at=None,
            ))  # fmt: skip
            conn.execute(ORG.insert(), [{"username": account.username, "org": org}
                                        for org in account.orgs])  # fmt: skip
            if account.roles:
                conn.execute(ROLE.insert(), [{"username": account.username, "role": role.value}
                                             for role in account.roles])  # fmt: skip
            detail = (f"account={account.username} orgs={','.join(account.orgs)} "
                      f"roles={','.join(r.value for r in account.roles)}")  # fmt: skip
            record_in(conn, actor=actor, action=AuditAction.USER_ADDED, now=now, detail=detail,
                      address=address)  # fmt: skip

    translate_errors(run)
    return account


def _row(conn: Connection, username: str) -> sa.Row[str, bool] | None:
    query = sa.select(ACCOUNT.c.password_hash, ACCOUNT.c.active)
    return conn.execute(query.where(ACCOUNT.c.username == username)).one_or_none()


def _accounts(conn: Connection, usernames: Sequence[str] | None = None) -> list[Account]:
    """The accounts named (all when None), sorted by user name, with orgs and roles."""
    query = sa.select(ACCOUNT.c.username, ACCOUNT.c.active).order_by(ACCOUNT.c.username)
    orgs, roles = sa.select(ORG.c.username, ORG.c.org), sa.select(ROLE.c.username, ROLE.c.role)
    if usernames is not None:
        query = query.where(ACCOUNT.c.username.in_(usernames))
        orgs, roles = (
            orgs.where(ORG.c.username.in_(usernames)),
            roles.where(ROLE.c.username.in_(usernames)),
        )
    org_of: dict[str, list[str]] = {}
    role_of: dict[str, list[Role]] = {}
    for name, org in conn.execute(orgs):
        org_of.setdefault(name, []).append(org)
    for name, role in conn.execute(roles):
        role_of.setdefault(name, []).append(Role(role))
    return [
        Account(name, tuple(sorted(org_of.get(name, ()))), tuple(sorted(role_of.get(name, ()))),
                bool(active))
        for name, active in conn.execute(query)
    ]  # fmt: skip


def _unknown(username: str) -> NotFoundError:
    shown = visible(username, limit=MAX_ID)
    return NotFoundError(f"no account '{shown}'; 'boflyt user list' shows the accounts")


def get_account(engine: Engine, username: str) -> Account | None:
    """The account named ``username``, or None."""
    with read_scope(engine) as conn:
        found = _accounts(conn, [username])
    return found[0] if found else None


def list_accounts(engine: Engine) -> list[Account]:
    """Every account, active and disabled, sorted by user name."""
    with read_scope(engine) as conn:
        return _accounts(conn)


def disable_account(
    engine: Engine,
    username: str,
    *,
    now: dt.datetime,
    actor: str = OPERATOR,
    address: str | None = None,
) -> Account:
    """Disable the account (it can no longer log in) and delete its API tokens; the account.

    Disabling a disabled account changes nothing (it keeps the first ``disabled_at``); each
    call is recorded in the audit log (``actor``, ``address``).

    Raises:
        NotFoundError: no account has this user name.
    """

    def run() -> Account:
        with write_scope(engine) as conn:
            row = _row(conn, username)
            if row is None:
                raise _unknown(username)
            if row.active:
                conn.execute(ACCOUNT.update().where(ACCOUNT.c.username == username)
                             .values(active=False, disabled_at=utc(now)))  # fmt: skip
            conn.execute(TOKEN.delete().where(TOKEN.c.username == username))
            record_in(conn, actor=actor, action=AuditAction.USER_DISABLED, now=now,
                      detail=f"account={username}", address=address)  # fmt: skip
            return _accounts(conn, [username])[0]

    return translate_errors(run)


@cache
def _dummy_hash() -> str:
    """A hash no password is known for: unknown users are verified against it."""
    return _HASHER.hash(secrets.token_urlsafe(32))


def _verifies(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(engine: Engine, username: str, password: str) -> Account | None:
    """The account if ``password`` is its password and it is active; else None.

    An unknown user costs the same argon2 verification as a known one. A hash made with weaker
    parameters than today's is replaced on a successful login.
    """
    with read_scope(engine) as conn:
        row = _row(conn, username)
    if row is None:
        _verifies(_dummy_hash(), password)
        return None
    if not _verifies(row.password_hash, password) or not row.active:
        return None
    if _HASHER.check_needs_rehash(row.password_hash):
        with write_scope(engine) as conn:
            conn.execute(ACCOUNT.update().where(ACCOUNT.c.username == username)
                         .values(password_hash=_HASHER.hash(password)))  # fmt: skip
    return get_account(engine, username)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(
    engine: Engine,
    username: str,
    *,
    now: dt.datetime,
    actor: str = OPERATOR,
    address: str | None = None,
) -> str:
    """A new API token of the account: returned once here, only its SHA-256 is stored (the
    audit entry, by ``actor`` from ``address``, names the account, never the token).

    Raises:
        NotFoundError: no account has this user name.
        CommandError: the account is disabled.
    """
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)

    def run() -> None:
        with write_scope(engine) as conn:
            row = _row(conn, username)
            if row is None:
                raise _unknown(username)
            if not row.active:
                raise CommandError(f"the account '{username}' is disabled; it gets no tokens")
            conn.execute(TOKEN.insert().values(
                token_hash=_token_hash(token), username=username, created_at=utc(now),
            ))  # fmt: skip
            record_in(conn, actor=actor, action=AuditAction.TOKEN_ISSUED, now=now,
                      detail=f"account={username}", address=address)  # fmt: skip

    translate_errors(run)
    return token


def account_for_token(engine: Engine, token: str) -> Account | None:
    """The active account the API token belongs to, or None (unknown token, disabled account)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    query = sa.select(TOKEN.c.username).join(ACCOUNT, ACCOUNT.c.username == TOKEN.c.username)
    query = query.where(TOKEN.c.token_hash == _token_hash(token), ACCOUNT.c.active)
    with read_scope(engine) as conn:
        username = conn.execute(query).scalar_one_or_none()
        return _accounts(conn, [username])[0] if username is not None else None
