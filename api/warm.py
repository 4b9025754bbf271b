"""Warming at start-up, so that the first call of each kind is not the slow one.

After a restart, the first call of a kind pays for everything done once: Neo4j plans
its Cypher (and its JVM compiles the code that runs it), the driver opens and
authenticates connections, Python imports what a resolver imports on first use, and
strawberry and graphql-core build their caches. `warm` does all of that in the
background of a new process, before any user asks: it waits until Neo4j answers,
checks (`EXPLAIN`s) the saved queries, runs each hot GraphQL operation once through the
schema for each kind of caller (their Cypher differs by kind, `api.scope`), builds one
dossier without auditing it, and fills the driver's pool.

Harmless by construction: only reads (the operations are queries, the dossier is built
with `build_dossier`, which appends no audit event), with keys read from the graph
itself (any seller with a listing, any lead, agency and brand) or made up when the
graph is empty. Nothing is returned to anyone; a failure is logged and the next
operation runs. `Warming` says how far it got, for `/readyz`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import neo4j

from api.context import Context
from api.deps import with_jurisdiction
from core.errors import AllianceError, NotFound
from graph import access
from graph.caller import Caller

log = logging.getLogger("api.warm")

WAIT_SECONDS = 1.0
"""Pause between two tries while Neo4j does not answer yet."""
WARM_SECONDS = 120.0
"""How long readiness waits for the warming once Neo4j answers; past it the warming goes
on while the process serves."""
POOL = 8
"""Connections opened at once to fill the driver's pool."""
TIMEOUT = 30.0
"""Transaction timeout of each warming query."""
MISSING = "__warm-up__"
"""A key no node has, when the graph holds nothing of a kind."""

SAMPLE = """
CALL () { OPTIONAL MATCH (s:Seller)-[:OPERATES]->(sh:Shop)-[:OFFERS]->(l:Listing)
          RETURN s.seller_id AS seller, sh.shop_id AS shop, l.listing_id AS listing LIMIT 1 }
CALL () { OPTIONAL MATCH (lead:Lead)-[:PUSHED_TO]->(a:Agency)
          RETURN lead.lead_id AS lead, a.agency_id AS agency LIMIT 1 }
CALL () { OPTIONAL MATCH (b:Brand) RETURN b.brand_id AS brand LIMIT 1 }
CALL () { OPTIONAL MATCH (site:Site) RETURN site.site_id AS site LIMIT 1 }
RETURN seller, shop, listing, lead, agency, brand, site
"""

SELLER_PAGE = """query($id: ID!) { seller(sellerId: $id) { sellerId nickname
  operates(first: 20) { nodes { shopId name
    offers(first: 20) { nodes { listingId title price } } } } } }"""
OPERATIONS: dict[str, str] = {
    "lookups": SELLER_PAGE,
    "lookups:plain": """query($id: ID!, $shop: ID!, $listing: ID!, $brand: ID!, $site: ID!) {
      seller(sellerId: $id) { sellerId nickname legalName platform status }
      shop(shopId: $shop) { shopId name } listing(listingId: $listing) { listingId title price }
      brand(brandId: $brand) { brandId name } site(siteId: $site) { siteId label kind } }""",
    "search": '{ search(text: "加工点", first: 20) { id label key displayName score } }',
    "search:labels": 'query($l: [String!]) { search(text: "工业路", labels: $l, first: 20) { id score } }',
    "network": """query($ids: [ID!]!) { network(seedIds: $ids, hops: 2, limit: 200) {
      nodes { id label degree } edges { id type source target } truncated } }""",
    "network:properties": """query($ids: [ID!]!) { network(seedIds: $ids, hops: 2, limit: 200) {
      nodes { id label key caption degree hub seed properties }
      edges { id type source target properties } truncated } }""",
    "sellerNetwork": """query($id: ID!) { sellerNetwork(sellerId: $id) { riskScore
      stats { sellers shops sites } links { a b via { kind value } } } }""",
    "traceToSource": """query($listing: ID!, $shop: ID!, $id: ID!) {
      byListing: traceToSource(listingId: $listing) { score site { siteId kind label }
        paths { weight hops { from { label key } type to { label key } } } }
      byShop: traceToSource(shopId: $shop) { score site { siteId } }
      bySeller: traceToSource(sellerId: $id) { score site { siteId } } }""",
    "riskScore": "query($id: ID!) { riskScore(sellerId: $id) { score } }",
    "networks": "{ networks(first: 8) { items { networkId riskScore size } } }",
    "leads": """query($lead: ID!) { leads(first: 10) { totalCount
      nodes { leadId status estimatedValueCny } }
      lead(leadId: $lead) { leadId status } cases(first: 10) { totalCount } }""",
    "savedQueries": "{ savedQueries { name } }",
}
"""The hot operations, by the kind of call they warm."""


@dataclass
class Warming:
    """How far the warming got: `waiting` (for Neo4j), `running`, `late` (still running
    past WARM_SECONDS), `done`, `partial` (stopped by a failure), or `off`."""

    state: str = "off"
    ran: dict[str, float] = field(default_factory=dict)
    """Seconds each warming step took, by name."""
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def busy(self) -> bool:
        return self.state in ("waiting", "running")

    def summary(self) -> dict[str, Any]:
        return {"state": self.state, "ran": len(self.ran), "failed": len(self.failed),
                "seconds": round(self.seconds, 2)}


@dataclass
class Keys:
    seller: str = MISSING
    shop: str = MISSING
    listing: str = MISSING
    lead: str = MISSING
    agency: str = MISSING
    brand: str = MISSING
    site: str = MISSING

    def variables(self) -> dict[str, Any]:
        return {"id": self.seller, "ids": [f"Seller:{self.seller}"], "shop": self.shop,
                "listing": self.listing, "lead": self.lead, "brand": self.brand,
                "site": self.site, "l": ["Address", "Site"]}


async def wait_for_database(driver: neo4j.AsyncDriver, database: str) -> None:
    """Return once Neo4j answers (it may still be starting after a restart)."""
    while True:
        try:
            await access.read_async(driver, database, "RETURN 1 AS ok", timeout=5.0,
                                    name="warm:wait")
            return
        except (AllianceError, neo4j.exceptions.Neo4jError, OSError):
            await asyncio.sleep(WAIT_SECONDS)


async def sample_keys(driver: neo4j.AsyncDriver, database: str) -> Keys:
    rows = await access.read_async(driver, database, SAMPLE, timeout=TIMEOUT, name="warm:sample")
    found = {k: v for k, v in (rows[0].items() if rows else []) if v is not None}
    return Keys(**{k: str(v) for k, v in found.items()})


def callers(keys: Keys) -> list[Caller]:
    """One caller of each kind (`api.scope.kind`): their query texts differ."""
    return [Caller(sub="warm-up", role="investigator"),
            Caller(sub="warm-up", role="police_liaison", agency_id=keys.agency),
            Caller(sub="warm-up", role="brand_member", brand_id=keys.brand),
            Caller(sub="warm-up", role="analyst")]


INVESTIGATION = ("sellerNetwork", "traceToSource", "riskScore", "networks")
"""Operations only callers who see everything may run (`api.investigation.allowed`)."""
DOSSIER_ROLES = ("investigator", "police_liaison")
"""Roles whose dossier is warmed (a brand member's reads the same Cypher as theirs)."""
EXPECTED = ("NOT_FOUND",)
"""Error codes a warm-up call may meet on purpose (a made-up key in an empty graph)."""


def operations_for(caller: Caller) -> list[str]:
    return [name for name in OPERATIONS
            if caller.sees_everything or name not in INVESTIGATION]


async def run_operations(driver: neo4j.AsyncDriver, database: str, plain: Caller, keys: Keys,
                         warming: Warming) -> None:
    """Each operation `plain`'s role may run, in turn, then (for those who may read one)
    a dossier."""
    from api.schema import schema

    caller = await with_jurisdiction(plain, driver, database)
    for name in operations_for(caller):
        began = time.perf_counter()
        ctx = Context(driver=driver, database=database, caller=caller,
                      request_id="warm-up", timeout=TIMEOUT)
        result = await schema.execute(OPERATIONS[name], variable_values=keys.variables(),
                                      context_value=ctx)
        errors = [e.message for e in result.errors or []
                  if (e.extensions or {}).get("code") not in EXPECTED]
        note(warming, f"{name}:{caller.role}", errors, began)
    if caller.role in DOSSIER_ROLES:
        await build_dossier(driver, database, caller, keys, warming)


async def build_dossier(driver: neo4j.AsyncDriver, database: str, caller: Caller, keys: Keys,
                        warming: Warming) -> None:
    from api import dossier

    began = time.perf_counter()
    ctx = Context(driver=driver, database=database, caller=caller, request_id="warm-up",
                  timeout=TIMEOUT)
    with contextlib.suppress(NotFound):  # a made-up lead in a graph without leads
        await dossier.build_dossier(ctx, keys.lead)
    note(warming, f"dossier:{caller.role}", [], began)


async def fill_pool(driver: neo4j.AsyncDriver, database: str) -> None:
    await asyncio.gather(*(access.read_async(driver, database, "RETURN 1 AS ok", timeout=5.0,
                                             name="warm:pool") for _ in range(POOL)))


def note(warming: Warming, name: str, errors: list[str], began: float) -> None:
    if errors:
        warming.failed[name] = "; ".join(errors)
        log.warning("warm-up %s: %s", name, warming.failed[name])
    else:
        warming.ran[name] = time.perf_counter() - began


async def warm(driver: neo4j.AsyncDriver, database: str, warming: Warming) -> None:
    """Warm everything (see the module's docstring); never raises. Past WARM_SECONDS the
    state becomes `late` (readiness stops waiting) and the warming goes on."""
    from api import saved_queries

    warming.state = "waiting"
    await wait_for_database(driver, database)
    warming.state = "running"
    began = time.perf_counter()
    steps = asyncio.ensure_future(_steps(driver, database, warming, saved_queries.startup))
    try:
        done, _ = await asyncio.wait({steps}, timeout=WARM_SECONDS)
        if not done:
            warming.state = "late"
            log.warning("warm-up still running after %.0f s; serving meanwhile", WARM_SECONDS)
        await steps
        warming.state = "done"
    except asyncio.CancelledError:
        steps.cancel()
        raise
    except Exception as exc:  # warming must never take the process down
        log.warning("warm-up stopped: %s", exc, exc_info=exc)
        warming.state = "partial"
    warming.seconds = time.perf_counter() - began
    log.info("warm-up %s in %.1f s: %d operations, %d failed", warming.state, warming.seconds,
             len(warming.ran), len(warming.failed))


async def _steps(driver: neo4j.AsyncDriver, database: str, warming: Warming,
                 check_saved: Any) -> None:
    """One step at a time, the likeliest first calls first: on a cold server, planning
    several queries at once only makes each of them slower."""
    began = time.perf_counter()
    await fill_pool(driver, database)
    note(warming, "pool", [], began)
    keys = await sample_keys(driver, database)
    first, *others = callers(keys)
    await run_operations(driver, database, first, keys, warming)
    await _check_saved(driver, database, warming, check_saved)
    for caller in others:
        await run_operations(driver, database, caller, keys, warming)


async def _check_saved(driver: neo4j.AsyncDriver, database: str, warming: Warming,
                       check_saved: Any) -> None:
    began = time.perf_counter()
    try:
        await check_saved(driver, database)
        note(warming, "savedQuery:check", [], began)
    except (AllianceError, neo4j.exceptions.Neo4jError, OSError) as exc:
        note(warming, "savedQuery:check", [str(exc)], began)
