"""Signing in as a browser does: the session cookie (flags, expiry), sign-out, one-time
codes, and the Bearer header still working for programs, on the real API and Neo4j."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from http.cookies import SimpleCookie

import jwt
import pytest
from fastapi.testclient import TestClient

from api import session
from api.auth import issue_token
from api.main import create_app
from graph.caller import Caller
from graph.drivers import Connection

INVESTIGATOR = Caller(sub="cookie-investigator", role="investigator")
ANALYST = Caller(sub="cookie-analyst", role="analyst")
SAME_SITE = {"Origin": "http://testserver"}
WHO = "{ __typename }"


@pytest.fixture(scope="module")
def app(neo4j_connection: Connection) -> Iterator[TestClient]:
    with TestClient(create_app(connection=neo4j_connection)) as client:
        yield client


@pytest.fixture
def client(app: TestClient) -> Iterator[TestClient]:
    """The module's app with an empty cookie jar."""
    app.cookies.clear()
    yield app
    app.cookies.clear()


def set_cookie(response: object) -> SimpleCookie:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    jar: SimpleCookie = SimpleCookie()
    for header in headers:
        jar.load(header)
    return jar


def sign_in(client: TestClient, token: str, **headers: str) -> object:
    return client.post("/signin", data={"token": token, "next": "/"},
                       headers={**SAME_SITE, **headers}, follow_redirects=False)


def test_signing_in_sets_a_strict_httponly_cookie_that_ends_with_the_token(client: TestClient) -> None:
    token = issue_token(INVESTIGATOR, ttl_seconds=300)
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    response = sign_in(client, token)
    assert response.status_code == 303 and response.headers["location"] == "/"
    morsel = set_cookie(response)[session.COOKIE]
    assert morsel["httponly"] and morsel["samesite"] == "strict" and morsel["path"] == "/"
    assert not morsel["secure"]  # plain http: a Secure cookie would never come back
    assert 0 < int(morsel["max-age"]) <= 300
    assert parsedate_to_datetime(morsel["expires"]).timestamp() <= expires
    assert token not in response.headers["set-cookie"]  # the cookie is a session id, not the token
    who = client.get("/session").json()
    assert who["sub"] == INVESTIGATOR.sub and who["role"] == "investigator"
    assert who["expiresAt"] <= expires


def test_over_https_the_cookie_is_secure(neo4j_connection: Connection) -> None:
    with TestClient(create_app(connection=neo4j_connection), base_url="https://testserver") as secure:
        response = sign_in(secure, issue_token(INVESTIGATOR), Origin="https://testserver")
        assert set_cookie(response)[session.COOKIE]["secure"]


def test_the_session_ends_when_the_token_would(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    token = issue_token(INVESTIGATOR, ttl_seconds=120)
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    sign_in(client, token)
    assert client.post("/graphql", json={"query": WHO}, headers=SAME_SITE).status_code == 200
    monkeypatch.setattr(session, "now", lambda: expires + 1.0)
    refused = client.post("/graphql", json={"query": WHO}, headers=SAME_SITE)
    assert refused.status_code == 401 and "sign in again" in refused.json()["detail"]


def test_a_refused_token_says_why_and_sets_no_cookie(client: TestClient) -> None:
    expired = issue_token(INVESTIGATOR, ttl_seconds=1, secret="another-secret-entirely-of-forty-bytes!!")
    response = sign_in(client, expired)
    assert response.status_code == 401
    assert "signature does not match" in response.text
    assert session.COOKIE not in set_cookie(response)
    assert sign_in(client, "  ").status_code == 400


def test_sign_out_ends_the_session_on_the_server(client: TestClient) -> None:
    sign_in(client, issue_token(INVESTIGATOR))
    value = client.cookies[session.COOKIE]
    out = client.post("/signout", headers=SAME_SITE, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"].startswith("/signin")
    assert set_cookie(out)[session.COOKIE]["max-age"] == "0"
    # the old cookie, sent again by a program that kept it, no longer works
    client.cookies.set(session.COOKIE, value)
    refused = client.post("/graphql", json={"query": WHO}, headers=SAME_SITE)
    assert refused.status_code == 401
    assert session.find_session(value) is None


def test_the_cookie_opens_the_workbench_and_the_dossier_routes(client: TestClient) -> None:
    stranger = client.get("/", follow_redirects=False)
    assert stranger.status_code == 303 and stranger.headers["location"] == "/signin?next=/"
    assert client.get("/leads/LD-NONE/dossier.html").status_code == 401
    sign_in(client, issue_token(INVESTIGATOR))
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    # past the sign-in: the lead is looked up (there is none by that id)
    assert client.get("/leads/LD-NONE/dossier.html").status_code == 404
    assert client.get("/leads/LD-NONE/dossier.json").status_code == 404


def test_a_one_time_code_signs_in_once(client: TestClient) -> None:
    code = session.issue_code(INVESTIGATOR)
    first = client.get(f"/signin/code/{code}", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/"
    assert set_cookie(first)[session.COOKIE]["httponly"]
    assert client.get("/session").json()["sub"] == INVESTIGATOR.sub
    client.cookies.clear()
    again = client.get(f"/signin/code/{code}", follow_redirects=False)
    assert again.status_code == 401 and "used already" in again.text
    assert session.COOKIE not in set_cookie(again)


def test_a_one_time_code_expires(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    code = session.issue_code(ANALYST, ttl=600)
    issued = session.now()
    monkeypatch.setattr(session, "now", lambda: issued + 601)
    late = client.get(f"/signin/code/{code}", follow_redirects=False)
    assert late.status_code == 401 and "expired" in late.text
    monkeypatch.undo()
    assert client.get(f"/signin/code/{code}", follow_redirects=False).status_code == 401


def test_codes_and_sessions_are_kept_hashed_in_a_private_file(client: TestClient) -> None:
    code = session.issue_code(INVESTIGATOR)
    opened = session.open_session(INVESTIGATOR, session.now() + 60)
    path = session.store_path()
    assert path.stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(path) as conn:
        stored = [str(v) for table in ("sessions", "codes")
                  for row in conn.execute(f"SELECT * FROM {table}") for v in row]  # noqa: S608
    assert code not in stored and opened.value not in stored
    assert session.find_session(opened.value) == opened


def test_bearer_tokens_still_work_and_win_over_a_cookie(client: TestClient) -> None:
    token = issue_token(ANALYST)
    assert client.post("/graphql", json={"query": WHO},
                       headers={"Authorization": f"Bearer {token}"}).status_code == 200
    client.cookies.set(session.COOKIE, "a-session-that-does-not-exist")
    # a program's header is used; the stale cookie is not even looked at
    assert client.post("/graphql", json={"query": WHO},
                       headers={"Authorization": f"Bearer {token}"}).status_code == 200
    stale = client.post("/graphql", json={"query": WHO}, headers=SAME_SITE)
    assert stale.status_code == 401 and "/signin" in stale.json()["detail"]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "x"])
def test_sign_in_never_sends_the_browser_to_another_site(client: TestClient, target: str) -> None:
    response = client.post("/signin", data={"token": issue_token(INVESTIGATOR), "next": target},
                           headers=SAME_SITE, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_the_one_time_code_is_not_written_to_the_access_log(
    client: TestClient, caplog: pytest.LogCaptureFixture,
) -> None:
    code = session.issue_code(INVESTIGATOR)
    with caplog.at_level("INFO", logger="api.access"):
        client.get(f"/signin/code/{code}", follow_redirects=False)
    paths = [getattr(r, "path", "") for r in caplog.records]
    assert "/signin/code/(one-time code)" in paths
    assert not [r for r in caplog.records if code in r.getMessage() or code in str(getattr(r, "path", ""))]
