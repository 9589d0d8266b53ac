"""Login, sessions, CSRF, idle timeout, the rate limit and logout."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.web.conftest import PASSWORD, csrf_of, log_in


def test_home_sends_a_stranger_to_the_login_page(client):
    response = client.get("/", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    assert client.get("/inbox", follow_redirects=False).headers["location"] == "/login"


def test_the_login_page_labels_its_fields_and_carries_a_csrf_token(client):
    html = client.get("/login").text
    assert '<label for="username">Brukernavn</label>' in html
    assert '<label for="password">Passord</label>' in html
    assert 'name="csrf" value="' in html
    assert '<html lang="nb">' in html


def test_the_right_password_opens_the_inbox(client):
    response = log_in(client, "ann")
    assert (response.status_code, response.headers["location"]) == (303, "/inbox")
    assert client.get("/", follow_redirects=False).headers["location"] == "/inbox"
    assert "Innlogget som ann" in client.get("/inbox").text


@pytest.mark.parametrize(
    ("username", "password"),
    [("ann", "wrong password!"), ("nobody", PASSWORD), ("cy", PASSWORD)],
    ids=["wrong password", "unknown user", "disabled user"],
)
def test_a_failed_login_says_the_same_thing_whoever_it_was(client, username, password):
    response = log_in(client, username, password)
    assert response.status_code == 401
    assert "Feil brukernavn eller passord" in response.text
    assert "boflyt_session" not in response.cookies
    assert client.get("/inbox", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("token", [None, "forged"], ids=["missing", "forged"])
def test_a_post_without_the_csrf_token_is_refused(client, token):
    client.get("/login")
    data = {"username": "ann", "password": PASSWORD} | ({"csrf": token} if token else {})
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 403
    assert "boflyt_session" not in response.cookies


def test_the_session_cookie_is_signed_http_only_and_same_site_strict(client):
    response = log_in(client, "ann")
    cookie = next(h for h in response.headers.get_list("set-cookie")
                  if h.startswith("boflyt_session="))  # fmt: skip
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    value = client.cookies["boflyt_session"].strip('"')
    client.cookies.set("boflyt_session", value.replace("ann|", "bo|"))
    assert client.get("/inbox", follow_redirects=False).status_code == 303


def test_cookies_are_secure_when_the_setting_says_so(web_store, library, clock, key):
    from fastapi.testclient import TestClient

    from boflyt.web.app import WebConfig, create_app

    config = WebConfig(b"s" * 32, secure_cookies=True)
    app = create_app(web_store[0], library, config, key=key, clock=clock)
    with TestClient(app, base_url="https://testserver") as client:
        cookies = log_in(client, "ann").headers.get_list("set-cookie")
    assert cookies and all("Secure" in c for c in cookies)


def test_a_session_ends_after_30_idle_minutes_and_each_request_renews_it(client, clock):
    log_in(client, "ann")
    clock.now += dt.timedelta(minutes=29)
    assert client.get("/inbox", follow_redirects=False).status_code == 200
    clock.now += dt.timedelta(minutes=29)
    assert client.get("/inbox", follow_redirects=False).status_code == 200
    clock.now += dt.timedelta(minutes=31)
    assert client.get("/inbox", follow_redirects=False).headers["location"] == "/login"


def test_five_failures_per_account_block_the_sixth_try_for_five_minutes(client, clock):
    for _ in range(5):
        assert log_in(client, "ann", "wrong password!").status_code == 401
    blocked = log_in(client, "ann")
    assert blocked.status_code == 429
    assert "For mange mislykkede innlogginger" in blocked.text
    clock.now += dt.timedelta(minutes=6)
    assert log_in(client, "ann").status_code == 303


def test_failures_from_one_address_block_other_accounts_too(client):
    for name in ("x1", "x2", "x3", "x4", "x5"):
        log_in(client, name, "wrong password!")
    assert log_in(client, "bo").status_code == 429


def test_logout_needs_the_csrf_token_and_ends_the_session(client):
    log_in(client, "ann")
    assert client.post("/logout", data={}, follow_redirects=False).status_code == 403
    response = client.post("/logout", data={"csrf": csrf_of(client, "/inbox")},
                           follow_redirects=False)  # fmt: skip
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    assert client.get("/inbox", follow_redirects=False).headers["location"] == "/login"


def test_a_disabled_account_loses_its_session_at_once(client, web_store):
    from boflyt.engine.store import accounts

    log_in(client, "ann")
    accounts.disable_account(web_store[0], "ann", now=dt.datetime(2025, 1, 6))
    assert client.get("/inbox", follow_redirects=False).status_code == 303


def test_the_language_switch_is_remembered_and_goes_back_only_to_local_pages(client):
    response = client.get("/language/en?next=/login", follow_redirects=False)
    assert response.headers["location"] == "/login"
    assert '<label for="username">Username</label>' in client.get("/login").text
    away = client.get("/language/nb?next=//evil.example/", follow_redirects=False)
    assert away.headers["location"] == "/"
    assert "Brukernavn" in client.get("/login").text


def test_every_page_forbids_framing_and_other_origins(client):
    headers = client.get("/login").headers
    assert headers["x-frame-options"] == "DENY"
    assert headers["content-security-policy"].startswith("default-src 'self'")


def test_a_login_gives_a_fresh_csrf_seed_and_refuses_an_oversized_form(client):
    token = csrf_of(client)
    seed = client.cookies["boflyt_csrf"]
    log_in(client, "ann")
    assert client.cookies["boflyt_csrf"] != seed
    assert client.post("/logout", data={"csrf": token}, follow_redirects=False).status_code == 403
    huge = {"csrf": csrf_of(client, "/inbox"), "pad": "x" * 10_000}
    assert client.post("/logout", data=huge, follow_redirects=False).status_code == 403


def test_a_copied_cookie_of_a_logged_out_session_is_refused_by_every_worker(
    client, web_store, library, config, clock, key
):
    from fastapi.testclient import TestClient

    from boflyt.web.app import create_app

    log_in(client, "ann")
    copied = client.cookies["boflyt_session"]
    other_worker = create_app(web_store[0], library, config, key=key, clock=clock)
    with TestClient(other_worker, base_url="http://testserver") as thief:
        thief.cookies.set("boflyt_session", copied)
        assert thief.get("/inbox", follow_redirects=False).status_code == 200
        client.post("/logout", data={"csrf": csrf_of(client, "/inbox")})
        thief.cookies.set("boflyt_session", copied)
        assert thief.get("/inbox", follow_redirects=False).headers["location"] == "/login"
    client.cookies.set("boflyt_session", copied)
    assert client.get("/inbox", follow_redirects=False).headers["location"] == "/login"
    client.cookies.clear()
    assert log_in(client, "ann").status_code == 303  # a new login is a new session
    assert client.get("/inbox", follow_redirects=False).status_code == 200


def test_only_the_sha256_of_an_ended_nonce_is_stored(sqlite_engine):
    import hashlib

    import sqlalchemy as sa

    from boflyt.engine.store import web_sessions

    now = dt.datetime(2025, 1, 6, 9)
    assert not web_sessions.is_ended(sqlite_engine, "n0nce")
    web_sessions.end_session(sqlite_engine, nonce="n0nce", username="ann", now=now)
    web_sessions.end_session(sqlite_engine, nonce="n0nce", username="ann", now=now)  # again: no-op
    assert web_sessions.is_ended(sqlite_engine, "n0nce")
    assert not web_sessions.is_ended(sqlite_engine, "other")
    with sqlite_engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT nonce_hash, username FROM ended_session")).all()
    assert rows == [(hashlib.sha256(b"n0nce").hexdigest(), "ann")]


def _audit_rows(engine) -> list[tuple[str, str, str | None]]:
    import sqlalchemy as sa

    query = "SELECT actor, action, address FROM audit_entry WHERE action LIKE 'log%' ORDER BY seq"
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(query))]


def test_logins_failures_and_logouts_go_to_the_audit_log_without_typed_secrets(client, web_store):
    from boflyt.engine.store import audit

    engine = web_store[0]
    log_in(client, "ann", "wrong password!")
    log_in(client, "correct horse battery", "x" * 12)  # a password typed as the user name
    log_in(client, "ann")
    client.post("/logout", data={"csrf": csrf_of(client, "/inbox")})
    assert _audit_rows(engine) == [
        ("ann", "login_failed", "testclient"),
        ("(unknown account)", "login_failed", "testclient"),
        ("ann", "login", "testclient"),
        ("ann", "logout", "testclient"),
    ]
    assert audit.verify(engine).intact
