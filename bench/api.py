"""API latency and throughput: ours over HTTP, the same Cypher in-process, and the peer.

Three queries, run against one database in one run, each at 1 and 16 concurrent clients:
  (a) seller: one seller with its shops and their listings;
  (b) network: the 2-hop network of a ring seller, limit 200;
  (c) search: full-text search, first 20 (brand names and address text in turn).
Three contenders:
  ours  `alliance serve` (FastAPI + strawberry) over HTTP with an investigator token;
  raw   the Cypher our resolvers run, through the async Python driver in-process, sent
        through `graph.access.read_async` as the resolvers do: the builders of
        `api.lookups` and `api.types` are imported (not copied), (a) is the seller lookup
        then one query for its shops and their listings, as the API's DataLoaders plan
        it, and (b) runs the resolver's own walk `api.neighbourhood.walk` (one query), so only
        HTTP and GraphQL are left out (the floor);
  peer  the Neo4j GraphQL Library (`bench/peer_neo4j_graphql`, Node.js) with equivalent
        type definitions; its network is a `@cypher` field with a variable-length
        expansion `(s)-[*1..2]-(m)` (no hub rule), its search a `@cypher` field over the
        same two full-text indexes.
Each (query, clients) pair gets a warm-up, then `--requests` requests or `--seconds`,
whichever comes first; every cell is measured `--rounds` times (3) and its figures are
the medians. Goals: ours at least equal to the peer in p50, p95 and requests/s; ours
minus raw at p50 (the HTTP and GraphQL layer) at most about 2 ms at one client. At the
end: the table in Markdown, and the search's mean reciprocal rank over names of the
bundle (ranked against plain Lucene order).

    .venv/bin/python bench/api.py --scales 10000,100000 --seconds 8 --requests 300 --warmup 30
                                                        # the whole table, one command
    .venv/bin/python bench/api.py --scale 10000
    .venv/bin/python bench/api.py --bundle DIR          # an existing bundle
    NEO4J_URI=bolt://... .venv/bin/python bench/api.py --reuse   # already loaded
    NEO4J_URI=bolt://... .venv/bin/python bench/api.py --reuse --bundle DIR --workers 2

Without NEO4J_URI a throwaway Neo4j is started (no auth) and stopped at the end. The
peer needs `npm ci` in bench/peer_neo4j_graphql once (Node.js 20).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

# Run as a script, this file's folder comes first on sys.path and its name would hide
# the `api` package; drop the folder before importing the project.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import aiohttp  # noqa: E402
import neo4j  # noqa: E402

from alliance import local_neo4j  # noqa: E402
from api import lookups, neighbourhood, types  # noqa: E402
from api.auth import issue_token  # noqa: E402
from api.scope import params as scope_params  # noqa: E402
from api.search import hit, indexes_for, lucene_text, ranked, search_params  # noqa: E402
from bench.common import (  # noqa: E402
    DATABASE,
    Call,
    Figures,
    add_bundle_options,
    check_graphql,
    database,
    http_client,
    measure,
    neo4j_auth,
    prepare,
    process,
    ring_sellers,
    serve_ours,
    wait_ready,
)
from graph import access  # noqa: E402
from graph.caller import Caller  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PEER_DIR = ROOT / "bench" / "peer_neo4j_graphql"
PII_KEY = b"bench-api-key"
CLIENTS = (1, 16)
OVERHEAD_AIM_MS = 2.0

SELLER_OURS = """query($id: ID!) { seller(sellerId: $id) { sellerId nickname
  operates(first: 20) { nodes { shopId name
    offers(first: 20) { nodes { listingId title price } } } } } }"""
SELLER_PEER = """query($id: String!) { sellers(where: {seller_id: {eq: $id}}) { seller_id nickname
  operates(limit: 20) { shop_id name offers(limit: 20) { listing_id title price } } } }"""
NETWORK_OURS = """query($ids: [ID!]!) { network(seedIds: $ids, hops: 2, limit: 200) {
  nodes { id label degree } edges { id type source target } truncated } }"""
NETWORK_PEER = """query($ids: [ID!]!) { network(seedIds: $ids, limit: 200) {
  nodes { id labels degree } edges { id type source target } } }"""
SEARCH_OURS = """query($text: String!) { search(text: $text, first: 20) { id label score } }"""
SEARCH_PEER = """query($text: String!) { search(text: $text, first: 20) { id labels score } }"""



@dataclass
class Inputs:
    sellers: list[str]
    """Ring sellers (with shops), used in turn by (a) and (b)."""
    texts: list[str]
    """Search texts used in turn by (c)."""


# ---------------------------------------------------------------- database and data


def pick_inputs(uri: str, bundle: Path | None) -> Inputs:
    """Ring sellers (`ring_sellers`), and search texts: brand names, an address and the
    commonest cities."""
    sellers = ring_sellers(uri, bundle, 50)
    if not sellers:
        raise SystemExit("no seller with shops in the database: load a bundle first")
    with neo4j.GraphDatabase.driver(uri, auth=neo4j_auth()) as driver:
        brands, _, _ = driver.execute_query(
            "MATCH (b:Brand) WHERE b.name IS NOT NULL RETURN b.name AS name "
            "ORDER BY b.brand_id LIMIT 5", database_=DATABASE)
        cities, _, _ = driver.execute_query(
            "MATCH (a:Address) WHERE a.city IS NOT NULL RETURN a.city AS city, count(*) AS n "
            "ORDER BY n DESC LIMIT 3", database_=DATABASE)
    texts = [r["name"] for r in brands] + ["莆田 工业路"] + [r["city"] for r in cities]
    return Inputs(sellers=sellers, texts=texts)


# ---------------------------------------------------------------- contenders


@contextmanager
def ours(uri: str, secret: str, tmp: Path, workers: int) -> Iterator[str]:
    with serve_ours(uri, secret, tmp, workers) as base:
        yield f"{base}/graphql"


@contextmanager
def peer(uri: str, tmp: Path) -> Iterator[str]:
    if not (PEER_DIR / "node_modules").exists():
        raise SystemExit(f"run `npm ci` in {PEER_DIR} first (Node.js 20)")
    port = local_neo4j.free_port()
    env = {**os.environ, "NEO4J_URI": uri, "PORT": str(port), "NEO4J_DATABASE": DATABASE}
    with process(["node", "index.mjs"], env, PEER_DIR, tmp / "peer.log"):
        yield f"http://127.0.0.1:{port}/"


def http_calls(client: aiohttp.ClientSession, url: str, headers: dict[str, str],
               queries: tuple[str, str, str], inputs: Inputs, peer_search: bool) -> dict[str, Call]:
    checked: set[str] = set()

    async def post(query: str, variables: dict[str, Any]) -> None:
        async with client.post(url, json={"query": query, "variables": variables},
                               headers=headers) as response:
            body = await response.read()
        check_graphql(url, response.status, body, full=query not in checked)
        checked.add(query)

    seller_q, network_q, search_q = queries

    async def seller(i: int) -> None:
        await post(seller_q, {"id": pick(inputs.sellers, i)})

    async def graph(i: int) -> None:
        await post(network_q, {"ids": [pick(inputs.sellers, i)]})

    async def search(i: int) -> None:
        text = pick(inputs.texts, i)
        await post(search_q, {"text": lucene_text(text) if peer_search else text})

    return {"seller": seller, "network": graph, "search": search}


SELLER_PLAN = types.Plan(types.REL_FIELDS["Seller"]["operates"], 0, 20, False, (
    types.Plan(types.REL_FIELDS["Shop"]["offers"], 0, 20, False),))
"""What the API's DataLoaders plan for SELLER_OURS: shops and their listings in one query."""


def raw_calls(driver: neo4j.AsyncDriver, inputs: Inputs) -> dict[str, Call]:
    scope = scope_params(Caller(sub="bench", role="investigator"))
    seller_q = lookups.nodes_by_key("Seller", "all")
    shops_q = types.page_query(SELLER_PLAN, "all")
    search_q = ranked(indexes_for([]), "all", bounded=True)
    ctx = SimpleNamespace(driver=driver, database=DATABASE, scope=scope, timeout=30.0, kind="all")

    async def read(query: Any, parameters: dict[str, Any]) -> list[neo4j.Record]:
        return await access.read_async(driver, DATABASE, query, parameters, timeout=30.0,
                                       name="bench:raw")

    async def seller(i: int) -> None:
        key = pick(inputs.sellers, i)
        await read(seller_q, {"keys": [key], **scope})
        await read(shops_q, {"keys": [key], **types.page_params(SELLER_PLAN), **scope})

    async def graph(i: int) -> None:
        await neighbourhood.walk(ctx, [f"Seller:{pick(inputs.sellers, i)}"], 2, [], 200,  # type: ignore[arg-type]
                           neighbourhood.HUB_DEGREE, full=False)

    async def search(i: int) -> None:
        await read(search_q, {**search_params(pick(inputs.texts, i), [], 20), **scope})

    return {"seller": seller, "network": graph, "search": search}


RELEVANCE_TEXTS = """
CALL () { MATCH (n:Shop) WHERE n.name IS NOT NULL
          RETURN DISTINCT n.name AS text ORDER BY text LIMIT 30 }
RETURN text
UNION
CALL () { MATCH (n:Site) WHERE n.label IS NOT NULL
          RETURN DISTINCT n.label AS text ORDER BY text LIMIT 20 }
RETURN text
UNION
CALL () { MATCH (n:Brand) WHERE n.name IS NOT NULL
          RETURN DISTINCT n.name AS text ORDER BY text LIMIT 10 }
RETURN text
"""
"""Names of the bundle searched for relevance: for each, a node named exactly so exists."""


async def search_mrr(driver: neo4j.AsyncDriver) -> str:
    """Mean reciprocal rank of the first hit named exactly as the text, over names of the
    bundle: the ranked search the API runs against plain Lucene order (the query before
    ranking, `api.lookups.search`)."""
    scope = scope_params(Caller(sub="bench", role="investigator"))
    texts = [r["text"] for r in await access.read_async(driver, DATABASE, RELEVANCE_TEXTS,
                                                         timeout=60.0, name="bench:mrr")]
    plain_q = lookups.search(indexes_for([]), "all")
    ranked_q = ranked(indexes_for([]), "all", bounded=True)
    totals = {"ranked": 0.0, "lucene": 0.0}
    for text in texts:
        for name, query, params in (
                ("ranked", ranked_q, search_params(text, [], 20)),
                ("lucene", plain_q, {"text": lucene_text(text), "labels": [], "first": 20})):
            rows = await access.read_async(driver, DATABASE, query, {**params, **scope},
                                           timeout=60.0, name="bench:mrr")
            names = [hit(r["labels"], r["props"], r["score"]).display_name.lower() for r in rows]
            wanted = " ".join(text.split()).lower()
            totals[name] += 1 / (names.index(wanted) + 1) if wanted in names else 0.0
    n = max(len(texts), 1)
    return (f"search MRR over {len(texts)} names of the bundle (exact name wanted first): "
            f"ranked {totals['ranked'] / n:.3f}, Lucene order {totals['lucene'] / n:.3f}")


def pick(items: list[str], i: int) -> str:
    return items[i % len(items)]


# ---------------------------------------------------------------- measuring


Row = dict[str, Figures]


async def run_all(contenders: dict[str, dict[str, Call]], args: argparse.Namespace
                  ) -> dict[tuple[str, int], Row]:
    """Every (query, clients) cell, `--rounds` times; each figure the median of its rounds."""
    rounds: dict[tuple[str, int], list[Row]] = {}
    for n in range(args.rounds):
        print(f"\n--- round {n + 1} of {args.rounds}", flush=True)
        for query in ("seller", "network", "search"):
            for calls in contenders.values():  # warm-up: plans, caches, JIT, pools
                await measure(calls[query], 4, args.warmup, args.seconds)
            for clients in CLIENTS:
                row = {}
                for name, calls in contenders.items():
                    row[name] = await measure(calls[query], clients, args.requests, args.seconds)
                rounds.setdefault((query, clients), []).append(row)
                print_row(query, clients, row)
    return {cell: median_row(rows) for cell, rows in rounds.items()}


def median_row(rows: list[Row]) -> Row:
    return {name: Figures(p50_ms=statistics.median(r[name].p50_ms for r in rows),
                          p95_ms=statistics.median(r[name].p95_ms for r in rows),
                          rps=statistics.median(r[name].rps for r in rows),
                          count=sum(r[name].count for r in rows))
            for name in rows[0]}


def verdict(ours: Figures, peer: Figures) -> str:
    behind = [what for what, worse in (("p50", ours.p50_ms > peer.p50_ms),
                                       ("p95", ours.p95_ms > peer.p95_ms),
                                       ("req/s", ours.rps < peer.rps)) if worse]
    ratios = (f"p50 {ours.p50_ms / peer.p50_ms:.2f}x, p95 {ours.p95_ms / peer.p95_ms:.2f}x, "
              f"req/s {ours.rps / peer.rps:.2f}x")
    return ("behind in " + ", ".join(behind) if behind else "at least equal") + f" ({ratios})"


def table(results: dict[tuple[str, int], Row], scale: str) -> str:
    """The comparison table in Markdown: p50 / p95 ms and req/s, medians of the rounds."""
    names = list(next(iter(results.values())))
    lines = [f"| query, clients ({scale}) | " + " | ".join(names)
             + " | ours vs peer | ours - raw, p50 ms |",
             "|---|" + "---|" * (len(names) + 2)]
    for (query, clients), row in results.items():
        cells = [f"{f.p50_ms:.1f} / {f.p95_ms:.1f}, {f.rps:.0f}" for f in row.values()]
        vs = verdict(row["ours"], row["peer"]) if {"ours", "peer"} <= set(row) else ""
        over = f"{row['ours'].p50_ms - row['raw'].p50_ms:.1f}" if {"ours", "raw"} <= set(row) else ""
        lines.append(f"| {query}, {clients} | " + " | ".join(cells) + f" | {vs} | {over} |")
    return "\n".join(lines)


def print_row(query: str, clients: int, row: dict[str, Figures]) -> None:
    print(f"\n{query}, {clients} client(s)")
    print(f"  {'':6} {'p50 ms':>9} {'p95 ms':>9} {'req/s':>9} {'n':>6}")
    for name, f in row.items():
        print(f"  {name:6} {f.p50_ms:9.2f} {f.p95_ms:9.2f} {f.rps:9.1f} {f.count:6d}")
    ours_f = row.get("ours")
    if ours_f is None:
        return
    if "raw" in row:
        print(f"  ours - raw  p50 {ours_f.p50_ms - row['raw'].p50_ms:.1f} ms "
              f"(aim <= {OVERHEAD_AIM_MS:g} ms)")
    if "peer" in row:
        p = row["peer"]
        lat = ours_f.p95_ms / p.p95_ms
        thr = ours_f.rps / p.rps
        mark = "ok" if lat <= 1.0 and thr >= 1.0 else "BEHIND PEER"
        print(f"  ours/peer p50 {ours_f.p50_ms / p.p50_ms:.2f}x  p95 {lat:.2f}x  "
              f"req/s {thr:.2f}x (target p95 <= 1, req/s >= 1) {mark}")
    sys.stdout.flush()


async def bench(uri: str, inputs: Inputs, args: argparse.Namespace, tmp: Path) -> None:
    names = [n.strip() for n in args.contenders.split(",")]
    secret = secrets.token_urlsafe(48)
    token = issue_token(Caller(sub="bench", role="investigator"), secret=secret)
    driver = neo4j.AsyncGraphDatabase.driver(uri, auth=neo4j_auth(), max_connection_pool_size=32,
                                           notifications_min_severity="OFF")
    try:
        async with http_client() as client:
            contenders: dict[str, dict[str, Call]] = {}
            with ours(uri, secret, tmp, args.workers) if "ours" in names else nothing() as ours_url, \
                 peer(uri, tmp) if "peer" in names else nothing() as peer_url:
                if ours_url:
                    await wait_ready(ours_url, {"query": "{ __typename }"}, tmp / "ours.log")
                    await wait_warm(ours_url.removesuffix("/graphql"), tmp / "ours.log")
                    contenders["ours"] = http_calls(
                        client, ours_url, {"Authorization": f"Bearer {token}"},
                        (SELLER_OURS, NETWORK_OURS, SEARCH_OURS), inputs, peer_search=False)
                if "raw" in names:
                    contenders["raw"] = raw_calls(driver, inputs)
                if peer_url:
                    await wait_ready(peer_url, {"query": "{ __typename }"}, tmp / "peer.log")
                    contenders["peer"] = http_calls(
                        client, peer_url, {}, (SELLER_PEER, NETWORK_PEER, SEARCH_PEER), inputs,
                        peer_search=True)
                results = await run_all(contenders, args)
        mrr = await search_mrr(driver)
        print(f"\nmedian of {args.rounds} round(s), p50 / p95 ms, req/s "
              f"({args.label or 'this database'}):\n")
        print(table(results, args.label or "this database"))
        print(f"\n{mrr}", flush=True)
    finally:
        await driver.close()


async def wait_warm(base: str, log: Path, timeout: float = 600.0) -> None:
    """Until ours says ready (`/readyz`: its start-up warming is over), as a load
    balancer would wait before sending it traffic."""
    deadline = time.monotonic() + timeout
    async with http_client(connections=1, timeout=10.0) as client:
        while time.monotonic() < deadline:
            async with client.get(f"{base}/readyz") as response:
                if response.status == 200:
                    return
            await asyncio.sleep(0.5)
    raise SystemExit(f"{base}/readyz did not say ready within {timeout:.0f} s; see {log}")


@contextmanager
def nothing() -> Iterator[str]:
    yield ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_bundle_options(parser, 100_000)
    parser.add_argument("--scales", help="several scales, one throwaway database each "
                                         "(e.g. 10000,100000: the whole comparison)")
    parser.add_argument("--requests", type=int, default=400, help="per measurement, at most")
    parser.add_argument("--seconds", type=float, default=20.0, help="per measurement, at most")
    parser.add_argument("--warmup", type=int, default=60, help="warm-up requests per contender")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; figures are medians")
    parser.add_argument("--contenders", default="ours,raw,peer")
    parser.add_argument("--workers", type=int, default=1, help="`alliance serve --workers`")
    args = parser.parse_args()
    logging.getLogger("neo4j").setLevel(logging.ERROR)
    if args.reuse and args.bundle is None and not os.environ.get("NEO4J_URI"):
        parser.error("--reuse needs NEO4J_URI (a throwaway server starts empty)")
    if args.scales and (args.reuse or args.bundle or os.environ.get("NEO4J_URI")):
        parser.error("--scales generates each scale into its own throwaway database")
    scales = [int(x) for x in args.scales.split(",")] if args.scales else [args.scale]
    for scale in scales:
        args.scale = scale
        args.label = f"{scale:,} sellers" if not (args.reuse or args.bundle) else ""
        run_one(args)


def run_one(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="alliance-bench-api-run-"))
    try:
        with database() as uri:
            bundle = prepare(uri, args, tmp, source="bench", pii_key=PII_KEY)
            inputs = pick_inputs(uri, bundle)
            print(f"database {uri}; {len(inputs.sellers)} seed sellers; "
                  f"search texts {inputs.texts}", flush=True)
            asyncio.run(bench(uri, inputs, args, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
