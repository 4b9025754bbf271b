"""What the browser tests share (the fixtures are in conftest.py; import helpers from
here, never from conftest, which pytest loads as a module of its own).

`Web` is the served app (`web.graphql(role, ...)` asks its API directly with that role's
token); `seen(page)` every URL a page's browser context asked for, `outside(page, base)`
those not served by the app; `sign_in` signs in through the page, `sign_in_with_link`
with a one-time link; `until` polls the page for a condition.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from neo4j import Driver

from api import session
from api.auth import issue_token
from api.main import create_app
from graph.caller import Caller
from graph.drivers import Connection

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).parent / "screenshots"
BUNDLE_SCALE = 300
BUNDLE_SEED = 17
LEADS_BUNDLE = Path(__file__).parent.parent / "fixtures" / "leads"
PII_KEY = b"browser-tests-key"
QUERY_TIMEOUT = 60.0
"""The served app's query timeout: first plans on a busy two-core machine are slow."""
CALLERS: dict[str, Caller] = {
    "investigator": Caller(sub="web-investigator", role="investigator"),
    "admin": Caller(sub="web-admin", role="admin"),
    "brand_member": Caller(sub="web-brand-b2", role="brand_member", brand_id="B2"),
    "police_liaison": Caller(sub="web-liaison-gz", role="police_liaison", agency_id="AG-GZ"),
    "analyst": Caller(sub="web-analyst", role="analyst"),
    "platform": Caller(sub="web-platform", role="platform"),
}
"""One caller per role; the brand and agency are those of tests/fixtures/leads."""


@dataclass
class Web:
    """The app under test: `base` its origin, `bundle` the loaded generated bundle's
    folder and `truth` its truth.json, `callers` one caller per role."""

    base: str
    bundle: Path
    truth: dict[str, Any]
    callers: dict[str, Caller] = field(default_factory=lambda: dict(CALLERS))

    def token(self, role: str, ttl_seconds: float = 3600) -> str:
        return issue_token(self.callers[role], ttl_seconds=ttl_seconds)

    def graphql(self, role: str, query: str, variables: dict[str, Any]) -> Any:
        """The API's answer (its data; no errors) to `query`, asked with `role`'s token."""
        response = httpx.post(f"{self.base}/graphql", json={"query": query, "variables": variables},
                              headers={"Authorization": f"Bearer {self.token(role)}"}, timeout=120)
        body = response.json()
        assert "errors" not in body, body
        return body["data"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def empty(driver: Driver, database: str) -> None:
    with driver.session(database=database) as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()


def load_bundle(driver: Driver, database: str, folder: Path) -> tuple[Path, dict[str, Any]]:
    """Empty the database; load a generated bundle and the leads fixture; store networks."""
    from alliance.generate import generate_bundle, read_truth
    from graph.seller_networks import analyze_networks
    from loaders import load_paths

    empty(driver, database)
    bundle = folder / "bundle"
    generate_bundle(bundle, scale=BUNDLE_SCALE, seed=BUNDLE_SEED)
    for source, path in (("web-generated", bundle), ("web-leads", LEADS_BUNDLE)):
        load_paths(driver, database, [path], source=source, pii_key=PII_KEY,
                   rejects_path=folder / f"{source}.rejects.jsonl")
    analyze_networks(driver, database)
    return bundle, read_truth(bundle)


class ServedApp:
    """The app under uvicorn in a thread of this process, on `port` of 127.0.0.1."""

    def __init__(self, connection: Connection, port: int) -> None:
        app = create_app(connection=connection, query_timeout=QUERY_TIMEOUT)
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="web-under-test", daemon=True)

    def __enter__(self) -> ServedApp:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the app did not start (see the log above)")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


_SEEN: dict[int, list[str]] = {}


def record(context: Any) -> list[str]:
    """Start recording every URL `context` asks for (requests and websockets)."""
    urls: list[str] = []
    _SEEN[id(context)] = urls
    context.on("request", lambda r: urls.append(r.url))
    context.on("page", lambda p: p.on("websocket", lambda ws: urls.append(ws.url)))
    return urls


def forget(context: Any) -> None:
    _SEEN.pop(id(context), None)


def seen(page: Any) -> list[str]:
    """Every URL the page's browser context asked for so far, in order."""
    return _SEEN[id(page.context)]


def outside(page: Any, base: str) -> list[str]:
    """The URLs the page's context asked for that `base` does not serve (data: and
    blob: URLs are the page's own)."""
    return [url for url in seen(page)
            if not (url == base or url.startswith((base + "/", "data:", "blob:")))]


def sign_in(page: Any, base: str, token: str) -> None:
    """Sign in through the sign-in page, as a person would: paste the token, press the button."""
    page.goto(f"{base}/signin")
    page.fill("#token", token)
    with page.expect_navigation():
        page.click("#signin")


def sign_in_with_link(page: Any, web: Web, role: str) -> None:
    """Sign in as `role` by opening a new one-time sign-in link (the session cookie alone)."""
    page.goto(f"{web.base}/signin/code/{session.issue_code(web.callers[role])}")


def until(page: Any, script: str, arg: Any = None, timeout: float = 60.0) -> Any:
    """Poll `script` (a function of `arg`) in the page until it returns something true.
    (Playwright's wait_for_function evaluates a string, which the CSP forbids.)"""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(script, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {script}")
        time.sleep(0.1)
