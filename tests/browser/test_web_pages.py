"""In Chromium: the sign-in page for every role, one-time sign-in links, sign-out, and
GraphiQL at /graphql from the app's own files, with no request leaving 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from api import session
from graph.caller import ROLES
from tests.browser.harness import Web, free_port, outside, seen, sign_in, sign_in_with_link

SHOTS = Path(__file__).parent / "screenshots"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_signs_in_through_the_page_and_reads_as_itself(
    role: str, web: Web, page_for: Callable[[str], Any],
) -> None:
    page = page_for(role)
    who = page.evaluate("fetch('/session').then(r => r.json())")
    caller = web.callers[role]
    assert (who["sub"], who["role"]) == (caller.sub, role)
    cookie = next(c for c in page.context.cookies() if c["name"] == session.COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert page.evaluate("document.cookie") == ""  # HttpOnly: no script reads it
    status = page.evaluate(
        "fetch('/graphql', {method: 'POST', headers: {'Content-Type': 'application/json'},"
        " body: JSON.stringify({query: '{ __typename }'})}).then(r => r.status)")
    assert status == 200
    assert outside(page, web.base) == []


def test_a_wrong_token_keeps_the_sign_in_page_and_says_why(
    web: Web, new_page: Callable[..., Any],
) -> None:
    page = new_page()  # a browser in Chinese: the page says it in Chinese
    sign_in(page, web.base, "not-a-token")
    assert page.url.startswith(f"{web.base}/signin")
    assert page.inner_text("#message").startswith("未登录：")
    page.select_option("#lang", "en")
    assert page.inner_text("#message").startswith("Not signed in: ")
    assert page.inner_text("#signin") == "Sign in"
    assert not [c for c in page.context.cookies() if c["name"] == session.COOKIE]


def test_the_workbench_sends_a_stranger_to_sign_in(web: Web, new_page: Callable[[], Any]) -> None:
    page = new_page()
    page.goto(f"{web.base}/")
    assert page.url == f"{web.base}/signin?next=/"


def test_a_one_time_link_signs_in_once_and_sign_out_ends_the_session(
    web: Web, new_page: Callable[..., Any],
) -> None:
    code = session.issue_code(web.callers["investigator"])
    page = new_page()
    page.goto(f"{web.base}/signin/code/{code}")
    assert page.url == f"{web.base}/"
    assert page.evaluate("fetch('/session').then(r => r.status)") == 200

    other = new_page("en-US")
    other.goto(f"{web.base}/signin/code/{code}")
    assert "used already" in other.inner_text("#message")

    page.goto(f"{web.base}/signin")
    with page.expect_navigation():
        page.click("#signout")
    assert page.url.startswith(f"{web.base}/signin")
    assert page.evaluate("fetch('/session').then(r => r.status)") == 401
    page.goto(f"{web.base}/")
    assert page.url.startswith(f"{web.base}/signin")


def test_graphiql_renders_from_local_files_and_runs_a_query_with_the_session(
    web: Web, page_for: Callable[[str], Any],
) -> None:
    page = page_for("investigator")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{web.base}/graphql")
    page.wait_for_selector(".graphiql-container")
    page.wait_for_selector(".graphiql-query-editor .CodeMirror")
    page.click(".graphiql-execute-button")
    page.wait_for_function(  # a function, not an expression: the page's CSP forbids eval
        "() => (document.querySelector('.graphiql-response') || {innerText: ''})"
        ".innerText.includes('displayName')")
    response = page.inner_text(".graphiql-response")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "graphiql.png"))
    assert '"errors"' not in response, response
    assert [e for e in errors if "Content Security Policy" in e] == [], errors
    assert outside(page, web.base) == [], seen(page)
    assert any("/static/vendor/graphiql-" in url for url in seen(page))


def test_the_printed_dossier_link_opens_styled_in_the_signed_in_browser(
    web: Web, new_page: Callable[..., Any],
) -> None:
    page = new_page("en-US")
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in_with_link(page, web, "investigator")
    # planning a dossier's queries the first time is slow on a busy machine
    page.goto(f"{web.base}/leads/LD-GZ/dossier.html", timeout=180_000)
    assert page.inner_text("h1").startswith("Dossier LD-GZ")
    # the dossier's own <style> applies: its hash is in the policy
    assert page.evaluate("getComputedStyle(document.querySelector('h2')).borderBottomStyle") == "solid"
    assert violations == []


class _OtherSite(BaseHTTPRequestHandler):
    """Another program on this machine (another port: the same site for cookies, another
    origin) whose page posts to the app as soon as it opens."""

    target = ""

    def do_GET(self) -> None:
        mutation = ('{"query": "mutation { updateLeadStatus(leadId: \\"LD-NONE\\", '
                    'status: \\"closed\\") { status } }", "x": "')
        body = (f'<form id="f" method="post" action="{self.target}/graphql" enctype="text/plain">'
                f"<input type=\"hidden\" name='{mutation}' value='\"}}'></form>"
                "<script>document.getElementById('f').submit()</script>").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_a_page_of_another_origin_posting_with_the_cookie_is_refused(
    web: Web, page_for: Callable[[str], Any],
) -> None:
    page = page_for("investigator")
    _OtherSite.target = web.base
    other = ThreadingHTTPServer(("127.0.0.1", free_port()), _OtherSite)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        with page.expect_navigation(url=f"{web.base}/graphql"):
            page.goto(f"http://127.0.0.1:{other.server_port}/")
        assert "cross-site request refused" in page.inner_text("body")
    finally:
        other.shutdown()
    assert page.evaluate("fetch('/session').then(r => r.status)") == 200  # still signed in
