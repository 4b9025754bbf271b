"""The workbench in headless Chromium against a loaded bundle: what a person waits for.

Measured, in Debian's Chromium (/usr/bin/chromium, no GPU) driven by Playwright, against
`alliance serve` as a process:
  (a) sign-in to the first network drawn: a new browser context (empty cache) opens the
      sign-in page, pastes an investigator's token and presses the button; the clock runs
      from the press to the workbench saying its first network (about 200 nodes) is on
      screen (two animation frames after the layout);
  (b) a 2,000-node network drawn: on a signed-in, empty workbench, from asking for it (the
      address's #seed=...) to the view on screen: the GraphQL request, merging, the layout
      (radial tree above 600 nodes) and drawing;
  (c) frames per second while panning (b): the view is panned by a few pixels every
      animation frame for six seconds from the moment it is drawn, the frames counted
      each second; the first three seconds (cytoscape.js caches each node's picture
      then) and the next three are given apart;
  (d) beside (a) and (b): the same view's JSON fetched as GraphiQL would, the GraphQL
      request alone (fetch and JSON.parse in the same browser, same session).
Each is taken `--rounds` times (default 3); the table gives every round and the median.
Goals (the workbench's issue): first network <= 1.5 s, 2,000 nodes drawn <= 3 s,
>= 30 fps while panning.

The views are found, not assumed: the first network is the first of 30 ring sellers
(from truth.json) whose neighbourhood at 2, then 3, then 4 hops reaches 200 nodes (limit
200); the large one the first of ten of those sellers, then of the brands, whose
neighbourhood at 3, then 4 hops reaches 1,900 nodes (limit 2,000).

    .venv/bin/python bench/web.py --scale 10000
    .venv/bin/python bench/web.py                                  # 100,000 sellers
    NEO4J_URI=bolt://... .venv/bin/python bench/web.py --reuse     # already loaded

Without NEO4J_URI a throwaway Neo4j is started (no auth) and stopped at the end.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

# Run as a script, this file's folder comes first on sys.path and its name would hide
# the `api` package; drop the folder before importing the project.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import httpx  # noqa: E402

from bench.common import (  # noqa: E402
    DATABASE,
    add_bundle_options,
    database,
    prepare,
    ring_sellers,
    serve_ours,
    signed,
    sync_driver,
    workdir,
)
from graph.caller import Caller  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 900}
PII_KEY = b"bench-web-key"
PAN_SECONDS = 6
SETTLING = 3
"""Panning starts as soon as the view is drawn; cytoscape.js renders each node into a
cached texture during the first frames, so the first seconds and the rest are given apart."""
NETWORK = ("query Network($seeds: [ID!]!, $hops: Int!, $limit: Int!, $relTypes: [String!]) {\n"
           "  network(seedIds: $seeds, hops: $hops, limit: $limit, relTypes: $relTypes) {\n"
           "    truncated\n    nodes { id label key caption degree hub seed }\n"
           "    edges { id type source target }\n  }\n}")
"""The workbench's own network query (api/web/static/graphql.js), as GraphiQL would send it."""
GOALS = {"first": 1500.0, "large": 3000.0, "fps": 30.0}


@dataclass
class View:
    seed: str
    hops: int
    limit: int
    nodes: int = 0
    edges: int = 0

    def fragment(self) -> str:
        return f"seed={quote(self.seed, safe=':')}&hops={self.hops}&limit={self.limit}"

    def variables(self) -> dict[str, Any]:
        return {"seeds": [self.seed], "hops": self.hops, "limit": self.limit, "relTypes": None}


@dataclass
class Rounds:
    first_ms: list[float] = field(default_factory=list)
    first_json_ms: list[float] = field(default_factory=list)
    first_request_ms: list[float] = field(default_factory=list)
    first_layout_ms: list[float] = field(default_factory=list)
    large_layout_ms: list[float] = field(default_factory=list)
    large_ms: list[float] = field(default_factory=list)
    large_request_ms: list[float] = field(default_factory=list)
    large_json_ms: list[float] = field(default_factory=list)
    fps_first: list[float] = field(default_factory=list)
    fps: list[float] = field(default_factory=list)


# --- data ------------------------------------------------------------------------------

def candidates(uri: str, bundle: Path | None) -> tuple[list[str], list[str]]:
    """Ring sellers (truth.json, else the sellers with most shops) and brands, as seed ids."""
    sellers = ring_sellers(uri, bundle, 30)
    with sync_driver(uri) as db:
        records, _, _ = db.execute_query(
            "MATCH (b:Brand) RETURN b.brand_id AS id ORDER BY b.brand_id LIMIT 5", database_=DATABASE)
    return [f"Seller:{s}" for s in sellers], [f"Brand:{r['id']}" for r in records]


def graphql(base: str, token: str, query: str, variables: dict[str, Any]) -> Any:
    response = httpx.post(f"{base}/graphql", json={"query": query, "variables": variables},
                          headers={"Authorization": f"Bearer {token}"}, timeout=300)
    body = response.json()
    if body.get("errors"):
        raise SystemExit(f"GraphQL error: {body['errors'][0]['message']}")
    return body["data"]


def find_view(base: str, token: str, seeds: list[str], hops: tuple[int, ...], limit: int,
              wanted: int) -> View:
    """The first seed and hop count whose network reaches `wanted` nodes (within `limit`)."""
    best: View | None = None
    for h in hops:
        for seed in seeds:
            view = View(seed, h, limit)
            graph = graphql(base, token, NETWORK, view.variables())["network"]
            view.nodes, view.edges = len(graph["nodes"]), len(graph["edges"])
            if view.nodes >= wanted:
                return view
            if best is None or view.nodes > best.nodes:
                best = view
    assert best is not None
    print(f"no seed reaches {wanted} nodes; using {best.seed} at {best.hops} hops "
          f"({best.nodes} nodes)", flush=True)
    return best


# --- the browser -------------------------------------------------------------------------

JSON_ALONE = """async ([query, variables]) => {
  const began = performance.now();
  const response = await fetch('/graphql', {method: 'POST', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json'}, body: JSON.stringify({query, variables})});
  const body = await response.json();
  if (!body.data) throw new Error(JSON.stringify(body.errors));
  return performance.now() - began;
}"""

ASK = """(fragment) => {
  performance.clearResourceTimings();
  window.__asked = performance.now();
  location.hash = fragment;
}"""

DRAWN = """() => {
  const last = (prefix) => performance.getEntriesByType('mark')
    .filter((m) => m.name.startsWith(prefix)).pop();
  const request = performance.getEntriesByType('resource').find((e) => e.name.endsWith('/graphql'));
  return {drawn: last('workbench:drawn:').startTime - (window.__asked || 0),
          request: request ? request.duration : null,
          layout: last('workbench:laid-out').startTime - last('workbench:merged').startTime,
          nodes: window.workbench.cy.nodes().length, edges: window.workbench.cy.edges().length};
}"""
"""When the view was on screen (from `window.__asked`, else from the page's start), its
GraphQL request's duration and the time the layout took (with the first styling)."""

PAN = """(seconds) => new Promise((resolve) => {
  const cy = window.workbench.cy;
  const perSecond = [];
  let frames = 0;
  let since = performance.now();
  const step = (now) => {
    frames += 1;
    cy.panBy({x: 6 * Math.cos(now / 500), y: 6 * Math.sin(now / 500)});
    if (now - since >= 1000) {
      perSecond.push(frames * 1000 / (now - since));
      frames = 0;
      since = now;
    }
    if (perSecond.length < seconds) requestAnimationFrame(step);
    else resolve(perSecond);
  };
  requestAnimationFrame(step);
})"""
"""Pan by a few pixels every animation frame; the frames counted in each second."""


def wait_drawn(page: Any, count: int, timeout: float = 300.0) -> None:
    page.wait_for_selector(f"body[data-drawn='{count}']", state="attached", timeout=timeout * 1000)


def first_network(browser: Any, base: str, token: str, view: View, rounds: Rounds) -> None:
    """Sign in on a new context and wait for the first network; then the JSON alone."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.goto(f"{base}/signin?next={quote('/#' + view.fragment(), safe='')}")
        page.fill("#token", token)
        began = time.perf_counter()
        page.click("#signin")
        wait_drawn(page, 1)
        rounds.first_ms.append((time.perf_counter() - began) * 1000)
        figures = page.evaluate(DRAWN)
        rounds.first_request_ms.append(figures["request"] or float("nan"))
        rounds.first_layout_ms.append(figures["layout"])
        rounds.first_json_ms.append(float(page.evaluate(JSON_ALONE, [NETWORK, view.variables()])))
    finally:
        context.close()


def large_network(browser: Any, base: str, token: str, view: View, rounds: Rounds) -> None:
    """On a signed-in empty workbench: ask for the view, wait until drawn, pan it."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.goto(f"{base}/signin?next=/")
        page.fill("#token", token)
        with page.expect_navigation():
            page.click("#signin")
        page.wait_for_selector("body[data-ready='true']", state="attached")
        page.evaluate(ASK, view.fragment())
        wait_drawn(page, 1)
        figures = page.evaluate(DRAWN)
        view.nodes, view.edges = figures["nodes"], figures["edges"]
        rounds.large_ms.append(figures["drawn"])
        rounds.large_request_ms.append(figures["request"] or float("nan"))
        rounds.large_layout_ms.append(figures["layout"])
        per_second = [float(f) for f in page.evaluate(PAN, PAN_SECONDS)]
        rounds.fps_first.append(statistics.mean(per_second[:SETTLING]))
        rounds.fps.append(statistics.mean(per_second[SETTLING:]))
        rounds.large_json_ms.append(float(page.evaluate(JSON_ALONE, [NETWORK, view.variables()])))
    finally:
        context.close()


# --- the run -----------------------------------------------------------------------------

def median(values: list[float]) -> float:
    return statistics.median(values)


def print_table(rounds: Rounds, first: View, large: View) -> None:
    def row(name: str, values: list[float], unit: str, goal: str) -> None:
        cells = " | ".join(f"{v:,.0f}" if unit == "ms" else f"{v:.1f}" for v in values)
        mid = median(values)
        shown = f"{mid:,.0f} {unit}" if unit == "ms" else f"{mid:.1f} {unit}"
        print(f"| {name} | {cells} | **{shown}** | {goal} |")

    n = len(rounds.fps)
    print()
    print(f"| measure | {' | '.join(f'round {i + 1}' for i in range(n))} | median | goal |")
    print(f"|---|{'---|' * n}---|---|")
    row(f"sign-in to first network drawn ({first.nodes} nodes, {first.edges} edges)",
        rounds.first_ms, "ms", "<= 1,500 ms")
    row("  of which its GraphQL request (in the page)", rounds.first_request_ms, "ms", "-")
    row("  of which the layout (force, with the first styling)", rounds.first_layout_ms, "ms", "-")
    row("  same view, GraphQL request alone (GraphiQL)", rounds.first_json_ms, "ms", "-")
    row(f"{large.nodes:,}-node network drawn ({large.edges:,} edges)", rounds.large_ms, "ms",
        "<= 3,000 ms")
    row("  of which its GraphQL request (in the page)", rounds.large_request_ms, "ms", "-")
    row("  of which the layout (radial tree, with the first styling)", rounds.large_layout_ms, "ms", "-")
    row("  same view, GraphQL request alone (GraphiQL)", rounds.large_json_ms, "ms", "-")
    row(f"frames per second panning it, first {SETTLING} s after drawing", rounds.fps_first, "fps",
        ">= 30 fps")
    row(f"frames per second panning it, the {PAN_SECONDS - SETTLING} s after", rounds.fps, "fps",
        ">= 30 fps")
    print()
    print(f"views: first {first.seed} hops {first.hops} limit {first.limit}; "
          f"large {large.seed} hops {large.hops} limit {large.limit}")


def run(base: str, token: str, uri: str, bundle: Path | None, rounds_wanted: int) -> None:
    from playwright.sync_api import sync_playwright

    sellers, brands = candidates(uri, bundle)
    first = find_view(base, token, sellers, (2, 3, 4), 200, 200)
    large = find_view(base, token, sellers[:10] + brands, (3, 4), 2000, 1900)
    print(f"first view: {first}\nlarge view: {large}", flush=True)
    rounds = Rounds()
    load_before = os.getloadavg()[0]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                             headless=True)
        try:
            first_network(browser, base, token, first, Rounds())  # warm-up: server plans, caches
            large_network(browser, base, token, large, Rounds())
            for i in range(rounds_wanted):
                first_network(browser, base, token, first, rounds)
                large_network(browser, base, token, large, rounds)
                print(f"round {i + 1}: first {rounds.first_ms[-1]:.0f} ms "
                      f"(JSON {rounds.first_json_ms[-1]:.0f} ms), "
                      f"large {rounds.large_ms[-1]:.0f} ms (JSON {rounds.large_json_ms[-1]:.0f} ms), "
                      f"{rounds.fps_first[-1]:.1f} then {rounds.fps[-1]:.1f} fps", flush=True)
        finally:
            browser.close()
    print_table(rounds, first, large)
    print(f"load average (1 min) of the machine: {load_before:.1f} before the rounds, "
          f"{os.getloadavg()[0]:.1f} after ({os.cpu_count()} cores)")


@contextmanager
def served(uri: str, tmp: Path) -> Iterator[tuple[str, str]]:
    secret, token = signed(Caller(sub="bench-web", role="investigator"))
    with serve_ours(uri, secret, tmp) as base:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"alliance serve did not start; see {tmp / 'ours.log'}")
            time.sleep(0.3)
        yield base, token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_bundle_options(parser, scale=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.getLogger("neo4j").setLevel(logging.ERROR)
    if args.reuse and not os.environ.get("NEO4J_URI"):
        parser.error("--reuse needs NEO4J_URI (a throwaway server starts empty)")
    if not CHROMIUM.exists():
        raise SystemExit("no /usr/bin/chromium: run ./dev setup (Debian's chromium)")
    with workdir("alliance-bench-web-") as tmp, database() as uri:
        bundle = prepare(uri, args, tmp, source="bench-web", pii_key=PII_KEY)
        with served(uri, tmp) as (base, token):
            run(base, token, uri, bundle, args.rounds)


if __name__ == "__main__":
    main()
