"""Browser tests: Debian's headless Chromium, driven by Playwright, against the app served
on a free port of 127.0.0.1 over the test Neo4j with a small bundle loaded.

Fixtures:
- `web` (package): the served app (`harness.Web`): `web.base` is its origin
  (`http://127.0.0.1:<port>`), `web.bundle` the generated bundle's folder, `web.truth`
  its truth.json, `web.callers` one caller per role, `web.token(role)` a token,
  `web.graphql(role, query, variables)` the API's data asked with that token. The
  database is emptied and loaded once for this folder's tests (scale `BUNDLE_SCALE`
  plus tests/fixtures/leads), so load nothing that other browser tests would trip on;
  it is emptied again when they are done.
- `browser` (package): Chromium (`/usr/bin/chromium`, from `./dev setup`; never a
  downloaded browser), launched with `harness.CHROMIUM_ARGS`.
- `page_for(role, locale="zh-CN")`: a page of a new browser context (no cookies, its own
  cache, the browser's language `locale`) signed in as that role through the real
  sign-in page, on the workbench (`/`).
- `new_page(locale="zh-CN")`: a page of a new context, not signed in.
Helpers (import them from `tests.browser.harness`): `seen(page)` every URL the page's
context asked for (documents, scripts, fetches, websockets), in order;
`outside(page, web.base)` those the app does not serve; `sign_in(page, base, token)`;
`sign_in_with_link(page, web, role)` (a one-time link); `until(page, script, arg)` polls.

Every test here is marked `browser`. When one fails, a screenshot of each of its pages
is saved in `tests/browser/screenshots/` (gitignored), named after the test, and the
report names the file.

Why Playwright: it drives the system's Chromium through `executable_path`, reports every
request of a page as an event (the no-outside-request checks), waits for elements by
itself and takes screenshots; Selenium would need chromedriver's DevTools bridge for the
requests. Playwright's `launch` gives each run a fresh temporary user-data-dir, and each
context starts as empty as an incognito window.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from api import saved_queries
from graph.drivers import Connection
from tests.browser.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    ServedApp,
    Web,
    empty,
    forget,
    free_port,
    load_bundle,
    record,
    sign_in,
)

_PAGES = pytest.StashKey[list[Any]]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A screenshot of each page of a failing browser test."""
    report = yield
    if report.failed and report.when in ("setup", "call"):
        name = re.sub(r"[^\w.-]+", "_", item.nodeid.split("::", 1)[-1])
        for n, page in enumerate(item.stash.get(_PAGES, [])):
            path = SCREENSHOTS / f"{name}-{n}.png"
            SCREENSHOTS.mkdir(exist_ok=True)
            try:
                page.screenshot(path=str(path), full_page=True)
            except Exception as exc:  # a closed page or a dead browser: say so, keep the report
                report.sections.append(("screenshot", f"none of page {n}: {exc}"))
            else:
                report.sections.append(("screenshot", str(path)))
    return report


@pytest.fixture(scope="package")
def web(driver: Driver, database: str, neo4j_connection: Connection,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    bundle, truth = load_bundle(driver, database, tmp_path_factory.mktemp("web-bundle"))
    saved_queries.LIBRARY.reset()
    with ServedApp(neo4j_connection, free_port()) as served:
        yield Web(base=f"http://127.0.0.1:{served.server.config.port}", bundle=bundle, truth=truth)
    saved_queries.LIBRARY.reset()
    empty(driver, database)  # the next folder's tests find the database as they would alone


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module: Playwright's sync API keeps an event loop running in
    this thread while it lives, so it must end before the next module (which may call
    asyncio.run)."""
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: `./dev setup` installs Debian's chromium and chromium-driver")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                              headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def new_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """Pages of fresh browser contexts (not signed in), with their requests recorded."""
    contexts: list[Any] = []
    pages = request.node.stash.setdefault(_PAGES, [])

    def make(locale: str = "zh-CN") -> Any:
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale=locale)
        record(context)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        pages.append(page)
        return page

    yield make
    for context in contexts:
        forget(context)
        context.close()


@pytest.fixture
def page_for(web: Web, new_page: Callable[..., Any]) -> Callable[..., Any]:
    """`page_for(role, locale)`: a page signed in as `role` through /signin, on the workbench (/)."""

    def make(role: str, locale: str = "zh-CN") -> Any:
        page = new_page(locale)
        sign_in(page, web.base, web.token(role))
        if page.url != f"{web.base}/":
            raise AssertionError(f"signing in as {role} ended on {page.url}: "
                                 f"{page.inner_text('body')[:300]}")
        return page

    return make
