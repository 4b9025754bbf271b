"""The cross-site rule for the session cookie and the security headers of every page, on
the real API and Neo4j."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import session
from api.auth import issue_token
from api.main import create_app
from api.web.security import CONTENT_SECURITY_POLICY
from graph.caller import Caller
from graph.drivers import Connection

INVESTIGATOR = Caller(sub="csrf-investigator", role="investigator")
MUTATION = {"query": 'mutation { updateLeadStatus(leadId: "LD-NONE", status: "closed") { status } }'}
WEB = Path(__file__).parent.parent / "api" / "web"


@pytest.fixture(scope="module")
def client(neo4j_connection: Connection) -> Iterator[TestClient]:
    with TestClient(create_app(connection=neo4j_connection)) as test_client:
        test_client.cookies.set(session.COOKIE, session.open_session(
            INVESTIGATOR, session.now() + 600).value)
        yield test_client


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "http://testserver.evil.example"},
    {"Origin": "null"},
    {"Referer": "https://evil.example/page"},
    {},
], ids=["other-site", "lookalike", "null", "referer-only", "no-origin"])
def test_a_cross_site_post_with_the_cookie_is_refused(client: TestClient, headers: dict[str, str]) -> None:
    response = client.post("/graphql", json=MUTATION, headers=headers)
    assert response.status_code == 403
    detail = response.json()["detail"]
    assert detail.startswith("cross-site request refused") and "http://testserver" in detail
    assert response.json()["requestId"] == response.headers["x-request-id"]


@pytest.mark.parametrize("headers", [
    {"Origin": "http://testserver"},
    {"Referer": "http://testserver/graphql"},
], ids=["origin", "referer"])
def test_a_same_site_post_with_the_cookie_goes_through(client: TestClient, headers: dict[str, str]) -> None:
    response = client.post("/graphql", json=MUTATION, headers=headers)
    assert response.status_code == 200  # the mutation ran (and found no such lead)
    assert response.json()["errors"][0]["extensions"]["code"] != "UNAUTHENTICATED"


def test_a_program_with_a_bearer_header_is_not_asked_for_an_origin(client: TestClient) -> None:
    token = issue_token(INVESTIGATOR)
    response = client.post("/graphql", json={"query": "{ __typename }"},
                           headers={"Authorization": f"Bearer {token}", "Origin": "https://evil.example"})
    assert response.status_code == 200


def test_reads_are_not_checked_and_sign_in_and_out_always_are(client: TestClient) -> None:
    assert client.get("/session", headers={"Origin": "https://evil.example"}).status_code == 200
    cross = {"Origin": "https://evil.example"}
    no_cookie = TestClient(client.app)  # no lifespan of its own: it shares the app's driver
    login = no_cookie.post("/signin", data={"token": issue_token(INVESTIGATOR)}, headers=cross,
                           follow_redirects=False)
    assert login.status_code == 403 and session.COOKIE not in login.headers.get("set-cookie", "")
    assert no_cookie.post("/signout", headers=cross).status_code == 403


@pytest.mark.parametrize("path", ["/signin", "/graphql", "/", "/healthz", "/static/site.css",
                                  "/leads/LD-NONE/dossier.html"])
def test_every_response_carries_the_security_headers(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Accept": "text/html"})
    csp = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'" and directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


def test_the_dossier_style_is_allowed_by_its_hash_only() -> None:
    assert re.search(r"style-src 'self' 'sha256-[A-Za-z0-9+/]+=*'(;|$)", CONTENT_SECURITY_POLICY)


def html_pages() -> list[Path]:
    return sorted([*WEB.glob("templates/*.html"), *WEB.glob("static/*.html")])


@pytest.mark.parametrize("page", html_pages(), ids=lambda p: p.name)
def test_no_page_has_inline_script_or_outside_address(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", text, flags=re.S | re.I)
    assert all("src=" in attrs and not body.strip() for attrs, body in scripts), page
    assert not re.search(r"\son[a-z]+\s*=", text, flags=re.I), f"inline event handler in {page}"
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text, flags=re.I), page
