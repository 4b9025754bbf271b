"""Exports: how long `api.exports.export` takes for the largest stored network of a
synthetic bundle and a lead on all its sellers, per format, as an investigator and as the liaison of
the lead's agency.

A bundle of `--scale` sellers is generated (`alliance generate`), loaded into a throwaway
Neo4j (or NEO4J_URI), its networks stored (`alliance analyze networks`); then each export
runs `--repeat` times warm, in process through the async driver (no HTTP), and the
median and the worst are printed with the nodes, edges and bytes written. Every run
appends its audit event, as a real export does.

    .venv/bin/python bench/exports.py                  # 2,000 sellers
    .venv/bin/python bench/exports.py --scale 500 --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# Run as a script, this file's folder comes first on sys.path and bench/api.py would hide
# the `api` package: the repository's root goes first instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import neo4j  # noqa: E402

from api.context import Context  # noqa: E402
from api.deps import with_jurisdiction  # noqa: E402
from api.exports import FORMATS, export  # noqa: E402
from bench.common import DATABASE, async_driver, database, generate, load, workdir  # noqa: E402
from graph.caller import Caller  # noqa: E402

BIGGEST_NETWORK = """
MATCH (n:Network {strength: 'STRONG'}) RETURN n.network_id AS id, n.size AS size
ORDER BY n.size DESC, n.network_id LIMIT 1
"""
LEAD = """
MATCH (n:Network {network_id: $network_id})<-[:IN_NETWORK]-(s:Seller)
WITH collect(s) AS sellers
MATCH (a:Agency) WITH sellers, a ORDER BY a.agency_id LIMIT 1
CREATE (l:Lead {lead_id: 'LD-BENCH', status: 'pushed', created_on: date(), pushed_on: date(),
                title: 'bench'})
CREATE (l)-[:PUSHED_TO {pushed_on: date()}]->(a)
WITH l, a, sellers
CALL (l, sellers) {
  UNWIND sellers AS s MERGE (l)-[:CONCERNS]->(s)
  WITH s MATCH (s)-[:OPERATES]->(shop:Shop) MERGE (l)-[:CONCERNS]->(shop)
  WITH shop MATCH (shop)-[:OFFERS]->(:Listing)<-[:BOUGHT]-(tp:TestPurchase) MERGE (l)-[:EVIDENCED_BY]->(tp)
}
RETURN l.lead_id AS id, a.agency_id AS agency, COUNT { (l)-[:CONCERNS|EVIDENCED_BY]->() } AS n
"""
"""A lead on every seller of the largest network, their shops and the test purchases of
their listings, pushed to the first agency (a generated bundle has no leads)."""


async def run(uri: str, repeat: int) -> None:
    driver = async_driver(uri)
    try:
        net = (await driver.execute_query(BIGGEST_NETWORK, database_=DATABASE)).records[0]
        lead = (await driver.execute_query(LEAD, network_id=net["id"], database_=DATABASE)).records[0]
        print(f"network {net['id']} ({net['size']} sellers); lead {lead['id']} "
              f"({lead['n']} subjects and evidence, agency {lead['agency']})")
        investigator = Caller(sub="bench", role="investigator")
        liaison = await with_jurisdiction(Caller(sub="bench", role="police_liaison",
                                                 agency_id=lead["agency"]), driver, DATABASE)
        print("| export | caller | format | median ms | max ms | nodes | edges | bytes |")
        print("|---|---|---|---|---|---|---|---|")
        for kind, key in (("network", net["id"]), ("lead", lead["id"])):
            for who, caller in (("investigator", investigator), ("liaison", liaison)):
                for fmt in FORMATS:
                    await one(driver, caller, who, kind, key, fmt, repeat)
    finally:
        await driver.close()


async def one(driver: neo4j.AsyncDriver, caller: Caller, who: str, kind: str, key: str, fmt: str,
              repeat: int) -> None:
    ctx = Context(driver=driver, database=DATABASE, caller=caller, request_id="bench", timeout=60.0)
    times = []
    done = None
    for _ in range(repeat + 1):  # the first run warms the plans
        started = time.perf_counter()
        try:
            done = await export(ctx, kind, key, fmt)
        except Exception as exc:  # a liaison may not see the network: say so
            print(f"| {kind} | {who} | {fmt} | {type(exc).__name__}: {exc} | | | | |")
            return
        times.append((time.perf_counter() - started) * 1000)
    warm = times[1:]
    assert done is not None
    print(f"| {kind} | {who} | {fmt} | {statistics.median(warm):.0f} | {max(warm):.0f} | {done.nodes} | "
          f"{done.edges} | {len(done.body):,} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with database("alliance-bench-exports-") as uri, workdir("alliance-bench-exports-") as tmp:
        bundle = generate(tmp / "bundle", args.scale)
        load(uri, [bundle], source="bench-exports", pii_key=b"bench", networks=True)
        asyncio.run(run(uri, args.repeat))


if __name__ == "__main__":
    main()
