"""The first call of each kind after a restart of Neo4j and of `alliance serve`.

One throwaway Neo4j is started and loaded once (a generated bundle, the demo's scale by
default, seller networks computed as the demo does). Then, for each round: `alliance
serve` is stopped, Neo4j is stopped and started again (its plan cache, the JVM's
compiled code and the page cache start empty), `alliance serve` starts, and the bench
waits for `/healthz` and then `/readyz` (a load balancer's view: no traffic before the
instance says it is ready). Then one call of each kind, in turn, each timed on its own:

    lookups        a seller with its shops and their listings
    search         search("加工点")
    network        the 2-hop network of a ring seller
    sellerNetwork  that seller's network with its risk and links
    traceToSource  a ring listing traced to its sites
    leads          a police liaison's leads
    dossier        GET /leads/{id}/dossier.json
    savedQuery     GET /queries/sellers-sharing-identifiers.json

The median over the rounds is printed for each kind, with the time to /healthz and to
/readyz. `--no-warm` serves without the start-up warming, to compare.

    .venv/bin/python bench/first_call.py                   # scale 2000, three rounds
    .venv/bin/python bench/first_call.py --no-warm         # the same without warming
    .venv/bin/python bench/first_call.py --scale 10000 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import aiohttp  # noqa: E402
import neo4j  # noqa: E402

from alliance import local_neo4j  # noqa: E402
from api.auth import issue_token  # noqa: E402
from bench import common  # noqa: E402
from bench.common import DATABASE, http_client, serve_ours  # noqa: E402
from graph.caller import Caller  # noqa: E402

GOAL_SECONDS = 1.0
SAVED_QUERY = "sellers-sharing-identifiers"
SELLER = """query($id: ID!) { seller(sellerId: $id) { sellerId nickname
  operates(first: 20) { nodes { shopId name
    offers(first: 20) { nodes { listingId title price } } } } } }"""
SEARCH = '{ search(text: "加工点", first: 5) { label key displayName score } }'
NETWORK = """query($id: ID!) { network(seedIds: [$id], hops: 2, limit: 200) {
  nodes { id label degree } edges { id type source target } truncated } }"""
SELLER_NETWORK = """query($id: ID!) { sellerNetwork(sellerId: $id) { riskScore
  stats { sellers shops sites } links { a b via { kind value } } } }"""
TRACE = """query($id: ID!) { traceToSource(listingId: $id) { score site { siteId kind label }
  paths { weight hops { from { label key } type to { label key } } } } }"""
LEADS = "{ leads(first: 10) { totalCount nodes { leadId status estimatedValueCny } } }"
KINDS = ("lookups", "search", "network", "sellerNetwork", "traceToSource", "leads", "dossier",
         "savedQuery")

PICK = """
MATCH (s:Seller)-[:IN_NETWORK]->(n:Network) WITH s, n ORDER BY n.risk_score DESC, s.seller_id
LIMIT 1 OPTIONAL MATCH (s)-[:OPERATES]->(:Shop)-[:OFFERS]->(l:Listing)
WITH s, min(l.listing_id) AS listing
OPTIONAL MATCH (lead:Lead)-[:PUSHED_TO]->(a:Agency)
WITH s, listing, a, lead ORDER BY lead.created_on DESC, lead.lead_id
RETURN s.seller_id AS seller, listing, a.agency_id AS agency, collect(lead.lead_id)[0] AS lead
LIMIT 1
"""


@dataclass
class Ids:
    seller: str
    listing: str
    agency: str
    lead: str


@dataclass
class Round:
    healthz: float
    ready: float
    calls: dict[str, float]


def load(uri: str, scale: int, seed: int, tmp: Path) -> Ids:
    """A generated bundle loaded with its networks stored; the ids the calls ask for."""
    common.load(uri, [common.generate(tmp / "bundle", scale, seed)], source="bench",
                pii_key=b"bench-first-call", networks=True)
    with neo4j.GraphDatabase.driver(uri) as driver:
        records, _, _ = driver.execute_query(PICK, database_=DATABASE)
    r = records[0]
    return Ids(seller=r["seller"], listing=r["listing"], agency=r["agency"], lead=r["lead"])


class Client:
    def __init__(self, session: aiohttp.ClientSession, base: str, secret: str, ids: Ids) -> None:
        self.session = session
        self.base = base
        self.ids = ids
        self.investigator = issue_token(Caller(sub="bench", role="investigator"), secret=secret)
        self.liaison = issue_token(Caller(sub="bench-liaison", role="police_liaison",
                                          agency_id=ids.agency), secret=secret)

    async def graphql(self, query: str, token: str, **variables: Any) -> None:
        async with self.session.post(f"{self.base}/graphql",
                                     json={"query": query, "variables": variables},
                                     headers={"Authorization": f"Bearer {token}"}) as response:
            body = await response.read()
        parsed = json.loads(body)
        if response.status != 200 or parsed.get("errors") or parsed.get("data") is None:
            raise RuntimeError(f"{response.status} {body[:300]!r}")

    async def get(self, path: str) -> None:
        async with self.session.get(f"{self.base}{path}", headers={
                "Authorization": f"Bearer {self.investigator}"}) as response:
            body = await response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {body[:300]!r}")

    async def call(self, kind: str) -> None:
        ids, inv = self.ids, self.investigator
        calls = {
            "lookups": lambda: self.graphql(SELLER, inv, id=ids.seller),
            "search": lambda: self.graphql(SEARCH, inv),
            "network": lambda: self.graphql(NETWORK, inv, id=f"Seller:{ids.seller}"),
            "sellerNetwork": lambda: self.graphql(SELLER_NETWORK, inv, id=ids.seller),
            "traceToSource": lambda: self.graphql(TRACE, inv, id=ids.listing),
            "leads": lambda: self.graphql(LEADS, self.liaison),
            "dossier": lambda: self.get(f"/leads/{ids.lead}/dossier.json"),
            "savedQuery": lambda: self.get(f"/queries/{SAVED_QUERY}.json?seller_id={ids.seller}"),
        }
        await calls[kind]()


async def wait_for(session: aiohttp.ClientSession, url: str, timeout: float = 180.0) -> float:
    began = time.perf_counter()
    while time.perf_counter() - began < timeout:
        try:
            async with session.get(url) as response:
                await response.read()
                if response.status == 200:
                    return time.perf_counter() - began
        except (aiohttp.ClientError, TimeoutError):
            pass
        await asyncio.sleep(0.05)
    raise SystemExit(f"{url} did not answer 200 within {timeout:.0f} s")


async def one_round(base: str, secret: str, ids: Ids, started: float) -> Round:
    async with http_client(connections=4, timeout=60.0) as session:
        await wait_for(session, f"{base}/healthz")
        healthz = time.perf_counter() - started
        await wait_for(session, f"{base}/readyz")
        ready = time.perf_counter() - started
        client = Client(session, base, secret, ids)
        calls = {}
        for kind in KINDS:
            began = time.perf_counter()
            await client.call(kind)
            calls[kind] = time.perf_counter() - began
    return Round(healthz, ready, calls)


def restart_neo4j(config: local_neo4j.ServerConfig) -> None:
    local_neo4j.stop(config.home)
    local_neo4j.start(config)


def run(args: argparse.Namespace) -> list[Round]:
    local_neo4j.ensure_jars()
    tmp = Path(tempfile.mkdtemp(prefix="alliance-bench-first-"))
    config = local_neo4j.ServerConfig(home=tmp / "neo4j", port=local_neo4j.free_port(),
                                      auth=False, memory=local_neo4j.SMALL_MEMORY)
    rounds = []
    try:
        local_neo4j.start(config)
        began = time.perf_counter()
        ids = load(config.uri, args.scale, args.seed, tmp)
        print(f"loaded scale {args.scale} in {time.perf_counter() - began:.0f} s; {ids}", flush=True)
        secret = secrets.token_urlsafe(48)
        for n in range(args.rounds):
            restart_neo4j(config)
            started = time.perf_counter()
            with serve_ours(config.uri, secret, tmp, args.workers,
                            extra=[] if args.warm else ["--no-warm"]) as base:
                result = asyncio.run(one_round(base, secret, ids, started))
            rounds.append(result)
            print(f"round {n + 1}: healthz {result.healthz:.2f} s, ready {result.ready:.2f} s; "
                  + ", ".join(f"{k} {v * 1000:.0f}" for k, v in result.calls.items()) + " ms",
                  flush=True)
    finally:
        local_neo4j.stop(config.home)
        shutil.rmtree(tmp, ignore_errors=True)
    return rounds


def report(rounds: list[Round]) -> None:
    print(f"\nmedian of {len(rounds)} rounds after a restart of Neo4j and of alliance serve:")
    print(f"  /healthz answers after {statistics.median(r.healthz for r in rounds):.2f} s, "
          f"/readyz after {statistics.median(r.ready for r in rounds):.2f} s")
    for kind in KINDS:
        value = statistics.median(r.calls[kind] for r in rounds)
        mark = "ok" if value <= GOAL_SECONDS else "OVER 1 s"
        print(f"  {kind:14} {value * 1000:8.0f} ms  {mark}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=2000, help="sellers to generate")
    parser.add_argument("--seed", type=int, default=20181)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="`alliance serve --workers`")
    parser.add_argument("--no-warm", dest="warm", action="store_false",
                        help="serve with `--no-warm` (no start-up warming)")
    args = parser.parse_args()
    report(run(args))


if __name__ == "__main__":
    main()
