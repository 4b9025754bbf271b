"""Quality and speed of seller networks and trace to source against known answers.

    .venv/bin/python bench/trace_quality.py --scale 10000 [--seed 7] [--uri bolt://...]
    .venv/bin/python bench/trace_quality.py --scale 100000 --synthetic
    .venv/bin/python bench/trace_quality.py --uri bolt://... --bundle DIR --reuse

Data: by default the project generator (`alliance.generate.generate_bundle(out_dir,
scale=, seed=)`, with its `truth.json`) loaded by `loaders.load_paths(driver, database,
paths, source=)`. `--synthetic` plants rings and honest sellers directly with Cypher
following graph/model.py (for when the generator is not there, and for raw scale).
truth.json gives the rings ({"rings": [{"sellers": [...], "sites": [...]}]}); honest
sellers are sampled from the graph by their id prefix ("honest_sellers": {"id_prefix"}).

Neo4j: `--uri` (auth from NEO4J_USER / NEO4J_PASSWORD), else a throwaway local server.

Prints: pairwise precision / recall of stored STRONG networks against the planted rings;
hit@1 / hit@3 of the planted sites when tracing ring listings, with how many of their
paths pass a node twice or are listed twice for a site (both should be 0); the share of honest
listings that trace to any den or factory (false alarms); `alliance analyze networks`
wall time; p50 / p95 warm latency of traceToSource and sellerNetwork, each beside the
plain Cypher peer run through the same driver in the same run, with the ratio (the
driver asks for no server notifications, so formatting warnings is not timed).
`--no-plain-network` leaves out the plain peer of sellerNetwork, whose walk over identifiers
reaches the read timeout on 1M sellers. `--plain-analyze` also times a plain-Cypher peer
of the components step of `analyze networks` (label propagation; it writes and then removes
a property on every seller).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC
from functools import partial
from itertools import combinations
from pathlib import Path
from typing import Any, LiteralString

import neo4j.time
from neo4j import Driver, GraphDatabase

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alliance import local_neo4j
from core.errors import QueryTooSlow  # noqa: E402
from graph import access, risk, schema, seller_networks, trace  # noqa: E402

SAMPLES = 200

PLAIN_NETWORK: LiteralString = """
MATCH (s:Seller {seller_id: $id})
OPTIONAL MATCH (s) ((a:Seller)-[r1:VERIFIED_AS|PAID_TO|HAS_PHONE|HAS_EMAIL|USED_DEVICE]->(x)
           <-[r2]-(b:Seller) WHERE type(r1) = type(r2) AND (NOT x:Device OR x.kind = 'fp')
           AND COUNT { (x)<-[]-(:Seller) } <= 30){1,6} (o:Seller)
WITH s, collect(DISTINCT o.seller_id) AS others
RETURN [s.seller_id] + others AS ids
"""
"""The plain-Cypher peer of the walk: one quantified-path query, hubs filtered inline
(links up to 6 deep, no hub report, no link list). sellerNetwork's peer runs it and then
the same stats query; traceToSource's peer runs it from the listing's seller and then
the same paths query (no ranking)."""

PLAIN_START: LiteralString = """
MATCH (:Listing {listing_id: $listing_id})<-[:OFFERS]-(:Shop)<-[:OPERATES]-(s:Seller)
OPTIONAL MATCH (s) ((a:Seller)-[r1:VERIFIED_AS|PAID_TO|HAS_PHONE|HAS_EMAIL|USED_DEVICE]->(x)
           <-[r2]-(b:Seller) WHERE type(r1) = type(r2) AND (NOT x:Device OR x.kind = 'fp')
           AND COUNT { (x)<-[]-(:Seller) } <= 30){1,3} (o:Seller)
WITH s, collect(DISTINCT o.seller_id) AS others
RETURN [s.seller_id] + others AS ids
"""


PLAIN_LABELS: LiteralString = """
MATCH (s:Seller) CALL (s) { SET s.plain_cc = s.seller_id } IN TRANSACTIONS OF 10000 ROWS
"""

PLAIN_PASS: LiteralString = """
MATCH (x) WHERE x:Identity OR x:PaymentAccount OR x:Phone OR x:Email OR (x:Device AND x.kind = 'fp')
CALL (x) {
  MATCH (x)<-[:VERIFIED_AS|PAID_TO|HAS_PHONE|HAS_EMAIL|USED_DEVICE]-(s:Seller)
  WITH collect(DISTINCT s) AS ss WHERE 1 < size(ss) <= $hub
  WITH ss, reduce(m = ss[0].plain_cc, s IN ss | CASE WHEN s.plain_cc < m THEN s.plain_cc ELSE m END) AS m
  UNWIND ss AS s
  WITH s, m WHERE s.plain_cc > m
  SET s.plain_cc = m
  RETURN count(*) AS changed
} IN TRANSACTIONS OF 5000 ROWS
RETURN sum(changed) AS changed
"""

PLAIN_CLEAR: LiteralString = """
MATCH (s:Seller) CALL (s) { REMOVE s.plain_cc } IN TRANSACTIONS OF 10000 ROWS
"""
"""The plain-Cypher peer of `analyze networks` (no graph library in Community): label
propagation, each seller taking the smallest label of the sellers it shares a non-hub
STRONG identifier with, pass after pass until nothing changes; the components are then
read back grouped by label (networks are not stored)."""


def plain_analyze(driver: Driver, database: str) -> tuple[int, int]:
    """Components of two or more sellers and the passes it took."""
    with driver.session(database=database) as session:
        session.run(PLAIN_LABELS).consume()
        passes = 0
        while True:
            passes += 1
            if session.run(PLAIN_PASS, {"hub": seller_networks.HUB_THRESHOLD}).single(strict=True)[0] == 0:
                break
        groups = session.run("MATCH (s:Seller) WITH s.plain_cc AS cc, count(*) AS n WHERE n > 1 "
                             "RETURN count(*) AS groups").single(strict=True)[0]
        session.run(PLAIN_CLEAR).consume()
    return groups, passes


@contextmanager
def neo4j_driver(uri: str | None) -> Iterator[tuple[Driver, str]]:
    if uri:
        auth = (os.environ.get("NEO4J_USER", "neo4j"), os.environ["NEO4J_PASSWORD"]) \
            if "NEO4J_PASSWORD" in os.environ else None
        with GraphDatabase.driver(uri, auth=auth, notifications_min_severity="OFF") as driver:
            yield driver, os.environ.get("NEO4J_DATABASE", "neo4j")
        return
    home = Path(tempfile.mkdtemp(prefix="alliance-bench-trace-"))
    config = local_neo4j.ServerConfig(home=home, port=local_neo4j.free_port(), auth=False)
    local_neo4j.start(config)
    try:
        with GraphDatabase.driver(config.uri, auth=None, notifications_min_severity="OFF") as driver:
            yield driver, "neo4j"
    finally:
        local_neo4j.stop(home)
        shutil.rmtree(home, ignore_errors=True)


# --- data ----------------------------------------------------------------------------------

SYNTH_RINGS: LiteralString = """
UNWIND $rings AS ring
MERGE (site:Site {site_id: ring.site, kind: 'factory', status: 'suspected'})
MERGE (fa:Address {address_key: 'addr:' + ring.site})
MERGE (site)-[:LOCATED_AT]->(fa)
MERGE (ph:Phone {e164: ring.phone})
MERGE (acct:PaymentAccount {account: 'alipay:' + ring.site})
WITH ring, fa, ph, acct
UNWIND range(0, size(ring.sellers) - 1) AS i
WITH ring, fa, ph, acct, i, ring.sellers[i] AS sid
MERGE (s:Seller {seller_id: sid})
MERGE (sh:Shop {shop_id: 'shop-' + sid})
MERGE (s)-[:OPERATES]->(sh)
MERGE (l:Listing {listing_id: 'lst-' + sid})
MERGE (sh)-[:OFFERS]->(l)
FOREACH (_ IN CASE WHEN i % 2 = 0 THEN [1] ELSE [] END | MERGE (s)-[:HAS_PHONE]->(ph))
FOREACH (_ IN CASE WHEN i % 2 = 1 OR i = 0 THEN [1] ELSE [] END | MERGE (s)-[:PAID_TO]->(acct))
FOREACH (_ IN CASE WHEN i % 3 = 0 THEN [1] ELSE [] END | MERGE (sh)-[:SHIPS_FROM]->(fa))
"""

SYNTH_HONEST: LiteralString = """
UNWIND $rows AS row
MERGE (s:Seller {seller_id: row.sid})
MERGE (sh:Shop {shop_id: 'shop-' + row.sid})
MERGE (s)-[:OPERATES]->(sh)
MERGE (l:Listing {listing_id: 'lst-' + row.sid})
MERGE (sh)-[:OFFERS]->(l)
MERGE (ph:Phone {e164: row.phone})
MERGE (s)-[:HAS_PHONE]->(ph)
MERGE (wa:Address {address_key: row.warehouse})
MERGE (sh)-[:SHIPS_FROM]->(wa)
MERGE (wh:Site {site_id: 'site:' + row.warehouse, kind: 'warehouse', status: 'confirmed'})
MERGE (wh)-[:LOCATED_AT]->(wa)
"""


def synthetic(driver: Driver, database: str, scale: int, seed: int) -> dict[str, Any]:
    """Rings of 3-8 sellers (about 10% of sellers) sharing a phone, a payout account and a
    factory address; honest sellers with their own phones, using 20 fulfilment warehouses."""
    rnd = random.Random(seed)
    rings: list[dict[str, Any]] = []
    n = 0
    while n < scale // 10:
        size = rnd.randint(3, 8)
        k = len(rings)
        rings.append({"site": f"site:f{k}", "phone": f"+86139{k:08d}",
                      "sellers": [f"ring{k}-{i}" for i in range(size)]})
        n += size
    honest = [{"sid": f"h{i}", "phone": f"+86138{i:08d}", "warehouse": f"wh{i % 20}"}
              for i in range(scale - n)]
    for start in range(0, len(rings), 500):
        driver.execute_query(SYNTH_RINGS, {"rings": rings[start:start + 500]},
                             database_=database)
    for start in range(0, len(honest), 5000):
        driver.execute_query(SYNTH_HONEST, {"rows": honest[start:start + 5000]},
                             database_=database)
    return {"rings": [{"sellers": r["sellers"], "sites": [r["site"]]} for r in rings],
            "honest_sellers": [h["sid"] for h in honest]}


def generated(driver: Driver, database: str, scale: int, seed: int,
              bundle: Path | None = None, reuse: bool = False) -> dict[str, Any]:
    """Generate a bundle (or take `bundle`), load it (unless `reuse`: it is loaded
    already) and return its truth with a sample of honest sellers."""
    from alliance.generate import generate_bundle, read_truth
    from loaders import load_paths

    out = bundle or Path(tempfile.mkdtemp(prefix="alliance-bench-bundle-"))
    if bundle is None:
        generate_bundle(out, scale=scale, seed=seed)
    if not reuse:
        load_paths(driver, database, [out], source="bench")
    truth = read_truth(out)
    honest = read(driver, database, HONEST_SAMPLE, {"prefix": truth["honest_sellers"]["id_prefix"]})
    truth["honest_sellers"] = [row["sid"] for row in honest]
    return truth


HONEST_SAMPLE: LiteralString = (
    "MATCH (s:Seller) WHERE s.seller_id STARTS WITH $prefix "
    "RETURN s.seller_id AS sid ORDER BY sid LIMIT 5000"
)


# --- measures ------------------------------------------------------------------------------


def pairs(groups: list[list[str]]) -> set[tuple[str, str]]:
    return {(a, b) for g in groups for a, b in combinations(sorted(g), 2)}


def stored_groups(driver: Driver, database: str) -> list[list[str]]:
    rows = access.read(driver, database,
                       "MATCH (s:Seller)-[:IN_NETWORK]->(n:Network {strength: 'STRONG'}) "
                       "RETURN n.network_id AS n, collect(s.seller_id) AS ids", timeout=None)
    return [r["ids"] for r in rows]


def listing_of(driver: Driver, database: str, sellers: list[str]) -> dict[str, str]:
    rows = access.read(driver, database,
                       "UNWIND $ids AS sid MATCH (:Seller {seller_id: sid})-[:OPERATES]->(:Shop)"
                       "-[:OFFERS]->(l:Listing) WITH sid, min(l.listing_id) AS l RETURN sid, l",
                       {"ids": sellers}, timeout=None)
    return {r["sid"]: r["l"] for r in rows}


def simple(hops: list[trace.Hop]) -> bool:
    """Whether a path passes no node twice."""
    seen = [(h.to.label, h.to.key) for h in hops] + [(hops[0].from_.label, hops[0].from_.key)]
    return len(set(seen)) == len(seen)


def timed(fn: Callable[[], Any]) -> float:
    began = time.perf_counter()
    fn()
    return (time.perf_counter() - began) * 1000


def timed_peer(fn: Callable[[], Any]) -> float:
    """`timed`, where a peer query stopped by the read timeout counts as the timeout."""
    began = time.perf_counter()
    try:
        fn()
    except QueryTooSlow:
        return float("inf")
    return (time.perf_counter() - began) * 1000


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=10000, help="Sellers to generate.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--uri", default=None, help="A Neo4j to use (else a throwaway one).")
    parser.add_argument("--synthetic", action="store_true",
                        help="Plant rings with Cypher instead of the generator + loader.")
    parser.add_argument("--no-plain-network", dest="plain_network", action="store_false",
                        help="Time sellerNetwork without its plain-Cypher peer (its walk over "
                             "identifiers reaches the read timeout on 1M sellers).")
    parser.add_argument("--plain-analyze", action="store_true",
                        help="Also time a plain-Cypher peer of analyze networks (it writes "
                             "and then removes a property on every seller).")
    parser.add_argument("--bundle", type=Path, help="Use this generated bundle (and its truth).")
    parser.add_argument("--reuse", action="store_true",
                        help="The bundle is loaded already (needs --uri and --bundle).")
    args = parser.parse_args()
    if args.scale < 100:
        parser.error("--scale must be at least 100")
    if args.reuse and not (args.uri and args.bundle):
        parser.error("--reuse needs --uri and --bundle")
    with neo4j_driver(args.uri) as (driver, database):
        schema.apply(driver, database)
        began = time.perf_counter()
        if args.synthetic:
            truth = synthetic(driver, database, args.scale, args.seed)
        else:
            truth = generated(driver, database, args.scale, args.seed, args.bundle, args.reuse)
        print(f"data: {args.scale} sellers, {len(truth['rings'])} rings, "
              f"loaded in {time.perf_counter() - began:.1f} s")
        report(driver, database, truth, args.plain_analyze, args.plain_network)
    return 0


def report(driver: Driver, database: str, truth: dict[str, Any], plain: bool = False,
           plain_network: bool = True) -> None:
    began = time.perf_counter()
    components = seller_networks.compute_networks(driver, database)
    computed = time.perf_counter() - began
    stored = seller_networks.store_networks(driver, database, components.groups,
                                    stamp=neo4j.time.DateTime.now(tz=UTC))
    ours = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"analyze networks: {stored} networks in {ours:.1f} s: components {computed:.1f} s "
          f"(stream + union-find), store with stats {ours - computed:.1f} s "
          f"({len(components.hubs)} hubs skipped; peak RSS of this process {peak:.0f} MiB)")
    if plain:
        began = time.perf_counter()
        groups, passes = plain_analyze(driver, database)
        peer = time.perf_counter() - began
        print(f"plain Cypher label propagation: {groups} components in {peer:.1f} s "
              f"({passes} passes, nothing stored); ratio of the components step "
              f"{computed / peer:.2f}")
    found = pairs(stored_groups(driver, database))
    planted = pairs([r["sellers"] for r in truth["rings"]])
    precision = len(found & planted) / len(found) if found else 0.0
    recall = len(found & planted) / len(planted) if planted else 0.0
    print(f"networks: pairwise precision {precision:.4f} (target >= 0.99), "
          f"recall {recall:.4f} (target >= 0.95)")

    rnd = random.Random(1)
    rings = rnd.sample(truth["rings"], min(SAMPLES, len(truth["rings"])))
    ring_listings = listing_of(driver, database, [r["sellers"][0] for r in rings])
    hit1 = hit3 = asked = 0
    ours_trace: list[float] = []
    paths: list[tuple[str, list[trace.Hop]]] = []
    for ring in rings:
        listing = ring_listings.get(ring["sellers"][0])
        if listing is None:
            continue
        asked += 1
        started = time.perf_counter()
        traces = trace.trace_to_source(driver, database, listing_id=listing)
        ours_trace.append((time.perf_counter() - started) * 1000)
        top = [t.site.site_id for t in traces]
        paths += [(t.site.site_id, p.hops) for t in traces for p in t.paths]
        hit1 += bool(set(top[:1]) & set(ring["sites"]))
        hit3 += bool(set(top[:3]) & set(ring["sites"]))
    print(f"trace: hit@1 {hit1 / max(asked, 1):.4f}, hit@3 {hit3 / max(asked, 1):.4f} "
          f"(target >= 0.95) over {asked} ring listings; {len(paths)} paths, "
          f"{sum(not simple(hops) for _, hops in paths)} with a node twice, "
          f"{len(paths) - len({(s, trace.signature(h)) for s, h in paths})} listed twice")

    honest = rnd.sample(truth["honest_sellers"], min(SAMPLES, len(truth["honest_sellers"])))
    honest_listings = listing_of(driver, database, honest)
    alarms = 0
    for listing in honest_listings.values():
        traces = trace.trace_to_source(driver, database, listing_id=listing)
        alarms += any(t.site.kind in ("den", "factory") for t in traces)
    print(f"false alarms: {alarms / max(len(honest_listings), 1):.4f} (target <= 0.01) over "
          f"{len(honest_listings)} honest listings")
    timings(driver, database, [r["sellers"][0] for r in rings], list(ring_listings.values()),
            plain_network)


def timings(driver: Driver, database: str, sellers: list[str], listings: list[str],
            plain_network_too: bool = True) -> None:
    for listing in listings[:20]:  # warm up
        trace.trace_to_source(driver, database, listing_id=listing)
    ours = [timed(partial(trace.trace_to_source, driver, database, listing_id=x))
            for x in listings]
    peer = [timed_peer(partial(plain_trace, driver, database, x)) for x in listings]
    line("traceToSource", ours, "linked sellers + paths, 2 queries", peer)
    ours = [timed(partial(seller_networks.seller_network, driver, database, s)) for s in sellers]
    if not plain_network_too:
        print(f"sellerNetwork: p50 {statistics.median(ours):.1f} ms, p95 {p(ours, 0.95):.1f} ms "
              f"over {len(ours)} ring sellers (plain Cypher peer not run)")
        return
    peer = [timed_peer(partial(plain_network, driver, database, s)) for s in sellers]
    line("sellerNetwork", ours, "linked sellers + stats, 2 queries", peer)


def read(driver: Driver, database: str, query: LiteralString, params: dict[str, Any]
         ) -> list[dict[str, Any]]:
    """A read of the peer, sent as ours are (`graph.access`)."""
    return [r.data() for r in access.read(driver, database, query, params, name="bench:peer")]


def plain_trace(driver: Driver, database: str, listing: str) -> list[dict[str, Any]]:
    ids = read(driver, database, PLAIN_START, {"listing_id": listing})[0]["ids"]
    return read(driver, database, trace.PATHS,
                {"ids": ids, "seed": ids[0], "prefix": 2, "hub": seller_networks.HUB_THRESHOLD,
                 "max_path": 8})


def plain_network(driver: Driver, database: str, seller: str) -> list[dict[str, Any]]:
    ids = read(driver, database, PLAIN_NETWORK, {"id": seller})[0]["ids"]
    return read(driver, database, risk.STATS, risk.stats_params(ids))


def line(name: str, ours: list[float], peer_name: str, peer: list[float]) -> None:
    if not ours or not peer:
        print(f"{name}: no samples")
        return
    stopped = sum(x == float("inf") for x in peer)
    print(f"{name}: p50 {statistics.median(ours):.1f} ms, p95 {p(ours, 0.95):.1f} ms; "
          f"plain Cypher ({peer_name}): p50 {statistics.median(peer):.1f} ms, "
          f"p95 {p(peer, 0.95):.1f} ms; ratio p95 {p(ours, 0.95) / p(peer, 0.95):.2f}"
          + (f"; {stopped} of {len(peer)} peer calls stopped by the read timeout (inf)"
             if stopped else ""))


if __name__ == "__main__":
    sys.exit(main())
