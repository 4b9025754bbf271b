"""Leads for police liaisons: a provincial liaison's lead list and one full dossier,
ours over HTTP against the same Cypher through the Python driver in-process.

The data set is written with Cypher that follows graph/model.py: `--leads` leads (10,000
by default) spread over eight provinces of three cities each, every lead pushed to a
city agency, on behalf of one of 20 brands, concerning a seller (with a shop, a listing,
a test purchase with its shipment and a complaint), an offline site in a district of
the city, and the person who controls the seller and runs the site; each lead carries
its status events. One lead in ten shares its seller with the next lead (conflicts).

Measured warm, at 1 and 16 concurrent clients:
  list     `leads(first: 50)` for a provincial liaison (its province holds 1/8 of the leads);
  dossier  `GET /leads/{id}/dossier.json` (subjects, traces, evidence, conflicts,
           manifest; audited) for leads of that province in turn.
Contenders:
  ours     `alliance serve` over HTTP with a police-liaison token, through the measuring
           client of `common.http_client` (aiohttp, about 0.6 ms of client CPU per list or
           dossier request, counted in ours' latency); the list answer is checked by its
           status and bytes (data, no errors) and parsed in full on the first call;
  raw      the Cypher our resolvers run (imported from `api.leads` / `api.dossier`, and
           `graph.trace` for the traces, `graph.audit` for the audit event every dossier
           read appends) through the async driver in-process: no HTTP, no GraphQL, no
           token check.
Targets (issue 7): ours/raw p95 <= 1.3; dossier p95 < 200 ms.

    .venv/bin/python bench/leads.py                 # 10,000 leads, throwaway Neo4j
    .venv/bin/python bench/leads.py --leads 2000 --requests 200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from pathlib import Path
from typing import LiteralString

# Run as a script, this file's folder comes first on sys.path and bench/api.py would hide
# the `api` package: the repository's root goes first instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import aiohttp  # noqa: E402
import neo4j  # noqa: E402

from api import dossier, leads, scope  # noqa: E402
from bench.common import (  # noqa: E402
    DATABASE,
    Call,
    Figures,
    async_driver,
    check_graphql,
    database,
    http_client,
    measure,
    serve_ours,
    signed,
    sync_driver,
    wait_ready,
    workdir,
)
from graph import access, audit, schema, trace  # noqa: E402
from graph.caller import Caller  # noqa: E402
from graph.lifecycle import OPEN_CASE_STATUSES, OPEN_LEAD_STATUSES  # noqa: E402

CLIENTS = (1, 16)
P95_RAW_TARGET = 1.3
DOSSIER_P95_TARGET_MS = 200.0
PROVINCES = ["440000", "350000", "330000", "320000", "370000", "410000", "510000", "420000"]
CITIES_PER_PROVINCE = 3
BRANDS = 20
STATUSES = ["pushed", "registered", "filed", "investigating", "pushed", "declined"]

DIVISIONS = """
UNWIND $provinces AS p
MERGE (prov:Division {adcode: p}) SET prov.level = 'province', prov.name = 'P' + p
MERGE (ap:Agency {agency_id: 'AG-' + p}) SET ap.level = 'province', ap.adcode = p, ap.name = 'agency ' + p
MERGE (ap)-[:IN_DIVISION]->(prov)
WITH p, prov
UNWIND range(1, $cities) AS c
WITH p, prov, substring(p, 0, 2) + right('0' + toString(c), 2) + '00' AS city_code
MERGE (city:Division {adcode: city_code}) SET city.level = 'city', city.name = 'C' + city_code
MERGE (city)-[:PART_OF]->(prov)
MERGE (ac:Agency {agency_id: 'AG-' + city_code}) SET ac.level = 'city', ac.adcode = city_code,
      ac.name = 'agency ' + city_code
MERGE (ac)-[:IN_DIVISION]->(city)
WITH city, city_code
MERGE (d:Division {adcode: substring(city_code, 0, 4) + '01'}) SET d.level = 'district'
MERGE (d)-[:PART_OF]->(city)
"""

BRAND_NODES = "UNWIND range(0, $n - 1) AS i MERGE (b:Brand {brand_id: 'B' + i}) SET b.name = 'brand ' + i"

LEADS = """
UNWIND $rows AS r
MATCH (agency:Agency {agency_id: r.agency}), (d:Division {adcode: r.district}),
      (b:Brand {brand_id: r.brand})
CREATE (s:Seller {seller_id: r.seller, nickname: 'seller ' + r.seller, status: 'active', source: 'bench'})
CREATE (sh:Shop {shop_id: 'SH' + r.seller, name: 'shop ' + r.seller, source: 'bench'})
CREATE (l:Listing {listing_id: 'LI' + r.seller, title: 'item ' + r.seller, status: 'live'})
CREATE (a:Address {address_key: 'AD' + r.seller, raw: 'address ' + r.seller, adcode: r.district})
CREATE (site:Site {site_id: 'X' + r.seller, kind: 'factory', status: 'suspected', label: 'site ' + r.seller})
CREATE (p:Person {person_id: 'P' + r.seller, name: 'person ' + r.seller})
CREATE (tp:TestPurchase {purchase_id: 'TP' + r.seller, verdict: 'counterfeit', report_no: 'R' + r.seller})
CREATE (ship:Shipment {shipment_id: 'SF:' + r.seller, carrier: 'SF', waybill_no: r.seller})
CREATE (c:Complaint {complaint_id: 'C' + r.seller, kind: 'counterfeit', outcome: 'upheld'})
CREATE (s)-[:OPERATES]->(sh)-[:OFFERS]->(l)-[:CLAIMS_BRAND]->(b)
CREATE (sh)-[:SHIPS_FROM]->(a)-[:IN_DIVISION]->(d), (site)-[:LOCATED_AT]->(a)
CREATE (p)-[:CONTROLS]->(s), (p)-[:RUNS]->(site)
CREATE (tp)-[:BOUGHT]->(l), (tp)-[:AUTHENTICATED_BY]->(b), (tp)-[:DELIVERED_BY]->(ship)
CREATE (ship)-[:SENT_BY]->(sh), (ship)-[:ORIGINATES_AT]->(a), (b)-[:FILED]->(c)-[:AGAINST]->(l)
WITH r, agency, b, s, sh, site, p, tp, c
UNWIND r.leads AS lr
CREATE (lead:Lead {lead_id: lr.id, created_on: date(lr.created), status: lr.status,
                   estimated_value_cny: lr.value, pushed_on: date(lr.created), source: 'bench'})
CREATE (lead)-[:ON_BEHALF_OF]->(b), (lead)-[:PUSHED_TO {pushed_on: date(lr.created)}]->(agency)
CREATE (lead)-[:CONCERNS]->(s), (lead)-[:CONCERNS]->(sh), (lead)-[:CONCERNS]->(site),
       (lead)-[:CONCERNS]->(p), (lead)-[:EVIDENCED_BY]->(tp), (lead)-[:EVIDENCED_BY]->(c)
FOREACH (st IN ['draft', 'verified', 'pushed'] |
  CREATE (lead)-[:HAS_EVENT]->(:StatusEvent {event_id: lr.id + st, at: datetime(), who: 'bench',
          role: 'investigator', to_status: st}))
"""


def lead_rows(count: int) -> list[dict[str, object]]:
    """One row per seller; one seller in ten gets two leads (a conflict)."""
    rows: list[dict[str, object]] = []
    i = 0
    while i < count:
        province = PROVINCES[i % len(PROVINCES)]
        city = province[:2] + f"{(i // len(PROVINCES)) % CITIES_PER_PROVINCE + 1:02d}00"
        n = 2 if i % 10 == 0 and i + 1 < count else 1
        rows.append({
            "seller": f"S{i:06d}", "agency": f"AG-{city}", "district": city[:4] + "01",
            "brand": f"B{i % BRANDS}",
            "leads": [{"id": f"LD{i + k:06d}", "status": STATUSES[(i + k) % len(STATUSES)],
                       "value": float(20_000 + (i * 7919) % 400_000),
                       "created": f"2025-{(i + k) % 12 + 1:02d}-{(i + k) % 28 + 1:02d}"}
                      for k in range(n)]})
        i += n
    return rows


def build(uri: str, count: int) -> None:
    with sync_driver(uri) as driver:
        driver.execute_query("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS",
                             database_=DATABASE)
        schema.apply(driver, DATABASE)
        driver.execute_query(DIVISIONS, {"provinces": PROVINCES, "cities": CITIES_PER_PROVINCE},
                             database_=DATABASE)
        driver.execute_query(BRAND_NODES, {"n": BRANDS}, database_=DATABASE)
        rows = lead_rows(count)
        began = time.perf_counter()
        for start in range(0, len(rows), 500):
            driver.execute_query(LEADS, {"rows": rows[start:start + 500]}, database_=DATABASE)
        print(f"wrote {count} leads in {time.perf_counter() - began:.0f} s", flush=True)


def liaison(agency: str = "AG-" + PROVINCES[0]) -> Caller:
    province = agency.removeprefix("AG-")
    codes = [province] + [province[:2] + f"{c:02d}00" for c in range(1, CITIES_PER_PROVINCE + 1)]
    codes += [c[:4] + "01" for c in codes[1:]]
    return Caller(sub="bench-liaison", role="police_liaison", agency_id=agency, agency_adcodes=tuple(codes))


def province_leads(uri: str, caller: Caller, limit: int = 200) -> list[str]:
    with sync_driver(uri) as driver:
        records, _, _ = driver.execute_query(
            "MATCH (l:Lead)-[:PUSHED_TO]->(a:Agency) WHERE a.adcode IN $codes "
            "RETURN l.lead_id AS id ORDER BY id LIMIT $limit",
            {"codes": list(caller.agency_adcodes), "limit": limit}, database_=DATABASE)
    return [r["id"] for r in records]


LIST_OURS = "query { leads(first: 50) { totalCount edges { node { leadId status createdOn } } } }"


def our_calls(client: aiohttp.ClientSession, base: str, token: str, ids: list[str]) -> dict[str, Call]:
    headers = {"Authorization": f"Bearer {token}"}
    list_url, list_body = f"{base}/graphql", json.dumps({"query": LIST_OURS}).encode()
    list_headers = {**headers, "Content-Type": "application/json"}
    checked = False

    async def list_leads(i: int) -> None:
        nonlocal checked
        async with client.post(list_url, data=list_body, headers=list_headers) as response:
            body = await response.read()
        check_graphql(list_url, response.status, body, full=not checked)
        checked = True

    async def one_dossier(i: int) -> None:
        async with client.get(f"{base}/leads/{ids[i % len(ids)]}/dossier.json", headers=headers) as response:
            await response.read()
            response.raise_for_status()

    return {"list": list_leads, "dossier": one_dossier}


LIST_RAW = leads.list_query(leads.LEADS_QUERY, "Lead",
                           frozenset({"leadId", "status", "createdOn"}))
"""The list query our resolver sends for LIST_OURS."""


def raw_calls(driver: neo4j.AsyncDriver, caller: Caller, ids: list[str]) -> dict[str, Call]:
    rights = scope.params(caller)

    async def read(query: LiteralString, params: dict[str, object]) -> list[neo4j.Record]:
        return await access.read_async(driver, DATABASE, query, params, name="bench:raw")

    async def list_leads(i: int) -> None:
        await read(LIST_RAW, {"status": None, "brand": None, "skip": 0, "first": 50, **rights})

    who = scope.kind(caller)

    async def visible(refs: dossier.Refs) -> None:
        await asyncio.gather(*(read(dossier.visible_keys_query(who, label), {"keys": sorted(keys), **rights})
                               for label, keys in refs.keys.items()
                               if scope.visible_as(who, label, "n") != "false"))

    async def one_dossier(i: int) -> None:
        lead_id = ids[i % len(ids)]
        rows = await read(dossier.lead_query(who), {"lead_id": lead_id, **rights})
        await visible(dossier.lead_refs(rows[0]))
        subjects = [s for s in rows[0]["subjects"] if s["label"] in ("Seller", "Shop")]
        ships = sorted(set(rows[0]["shipment_ids"]))[:dossier.MAX_SHIPMENTS]
        conflicts = read(dossier.conflicts_query(who), {
            "lead_id": lead_id, "open_leads": list(OPEN_LEAD_STATUSES),
            "open_cases": list(OPEN_CASE_STATUSES), **rights})
        traces = [trace.trace_to_source_async(
            driver, DATABASE, first=dossier.TRACES_PER_SUBJECT,
            **({"seller_id": s["props"]["seller_id"]} if s["label"] == "Seller"
               else {"shop_id": s["props"]["shop_id"]}))
            for s in subjects[:dossier.TRACED_SUBJECTS]]
        await asyncio.gather(conflicts, read(dossier.SHIPMENTS_QUERY, {"ids": ships}), *traces)
        await audit.append_async(driver, DATABASE, audit.event(caller, "dossier.read", ids=[lead_id]))

    return {"list": list_leads, "dossier": one_dossier}


def print_row(query: str, clients: int, row: dict[str, Figures]) -> None:
    print(f"\n{query}, {clients} client(s)")
    print(f"  {'':6} {'p50 ms':>9} {'p95 ms':>9} {'req/s':>9} {'n':>6}")
    for name, f in row.items():
        print(f"  {name:6} {f.p50_ms:9.2f} {f.p95_ms:9.2f} {f.rps:9.1f} {f.count:6d}")
    if "ours" in row and "raw" in row:
        ratio = row["ours"].p95_ms / row["raw"].p95_ms
        mark = "ok" if ratio <= P95_RAW_TARGET else "ABOVE TARGET"
        print(f"  ours/raw p95 {ratio:.2f}x (target <= {P95_RAW_TARGET}) {mark}")
    if query == "dossier" and "ours" in row:
        mark = "ok" if row["ours"].p95_ms < DOSSIER_P95_TARGET_MS else "ABOVE TARGET"
        print(f"  ours dossier p95 {row['ours'].p95_ms:.1f} ms (target < {DOSSIER_P95_TARGET_MS:.0f}) {mark}")
    sys.stdout.flush()


async def bench(uri: str, args: argparse.Namespace, tmp: Path) -> None:
    caller = liaison()
    ids = province_leads(uri, caller)
    print(f"liaison {caller.agency_id}: {len(ids)} sample leads of its province", flush=True)
    secret, token = signed(Caller(sub=caller.sub, role=caller.role, agency_id=caller.agency_id))
    driver = async_driver(uri, max_connection_pool_size=32, notifications_min_severity="OFF")
    try:
        async with http_client() as client:
            with serve_ours(uri, secret, tmp, workers=args.workers) as base:
                await wait_ready(f"{base}/graphql", {"query": "{ __typename }"}, tmp / "ours.log")
                contenders = {"ours": our_calls(client, base, token, ids),
                              "raw": raw_calls(driver, caller, ids)}
                for query in ("list", "dossier"):
                    for calls in contenders.values():
                        await measure(calls[query], 4, args.warmup, args.seconds)
                    for clients in CLIENTS:
                        row = {name: await measure(calls[query], clients, args.requests, args.seconds)
                               for name, calls in contenders.items()}
                        print_row(query, clients, row)
    finally:
        await driver.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=400, help="per measurement, at most")
    parser.add_argument("--seconds", type=float, default=20.0, help="per measurement, at most")
    parser.add_argument("--warmup", type=int, default=60)
    parser.add_argument("--workers", type=int, default=1, help="API worker processes")
    parser.add_argument("--reuse", action="store_true", help="the database (NEO4J_URI) is already built")
    args = parser.parse_args()
    logging.getLogger("neo4j").setLevel(logging.ERROR)
    with workdir("alliance-bench-leads-") as tmp, database("alliance-bench-leads-db-") as uri:
        if not args.reuse:
            build(uri, args.leads)
        asyncio.run(bench(uri, args, tmp))


if __name__ == "__main__":
    main()
