"""Trace to source: from a listing, shop or seller to the offline sites behind it.

What is followed (data contract, "Paths from online to offline"), from the start's
seller and from every seller linked to it at the chosen strength (`graph.network`):

- purchase (base 0.80): -OPERATES-> Shop -OFFERS-> Listing <-BOUGHT- TestPurchase
  -DELIVERED_BY-> Shipment -ORIGINATES_AT-> Address <-LOCATED_AT- Site
- shipment (0.70): -OPERATES-> Shop <-SENT_BY- Shipment -ORIGINATES_AT-> Address
  <-LOCATED_AT- Site
- ships_from (0.60): -OPERATES-> Shop -SHIPS_FROM-> Address <-LOCATED_AT- Site
- returns_to (0.50): -OPERATES-> Shop -RETURNS_TO-> Address <-LOCATED_AT- Site
- person (0.85): <-CONTROLS- Person -RUNS-> Site
- money (0.70): -PAID_TO-> PaymentAccount -TRANSFERRED_TO*1..3-> PaymentAccount
  <-OWNS- Person -RUNS-> Site

Score of one path (its `weight`), explainable factor by factor:

    weight = min(0.99, base
                 * site factor   (suspected 1.0, confirmed 1.2, raided or RAIDED by a case 1.35)
                 * verdict       (purchase path with verdict counterfeit 1.2, genuine 0.3)
                 * transfers     (money path: 0.85 per transfer after the first)
                 * links         (product of the link weights from the start's seller to the
                                  linked seller the path starts at, `network.LINK_WEIGHTS`)
                 * 0.97 ** hops) (longer is weaker)

Score of a site: noisy-or of the weights of its paths, 1 - prod(1 - weight), so it is
bounded by 1 and every extra independent path raises it less.

Hubs never lead anywhere: an Address used (ship-from, return or shipment origin) by more
sellers than the hub threshold is a fulfilment warehouse or a depot; paths through it are
dropped, so a seller that only shares a warehouse does not trace to what sits there.
`max_hops` counts hops from the start's seller (the listing -> shop -> seller prefix is
shown but not counted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, LiteralString, cast

import neo4j

from graph import network
from graph.model import NODES, node
from graph.risk import noisy_or

BASE = {"purchase": 0.80, "shipment": 0.70, "ships_from": 0.60, "returns_to": 0.50,
        "person": 0.85, "money": 0.70}
SITE_FACTOR = {"suspected": 1.0, "confirmed": 1.2, "raided": 1.35}
VERDICT_FACTOR = {"counterfeit": 1.2, "genuine": 0.3}
TRANSFER_FACTOR = 0.85
HOP_FACTOR = 0.97
MAX_WEIGHT = 0.99
MAX_LINKED = 200
PATHS_PER_SITE = 20

START: LiteralString = """
OPTIONAL MATCH (l:Listing {listing_id: $listing_id})<-[:OFFERS]-(lsh:Shop)<-[:OPERATES]-(ls:Seller)
OPTIONAL MATCH (sh:Shop {shop_id: $shop_id})<-[:OPERATES]-(ss:Seller)
OPTIONAL MATCH (s:Seller {seller_id: $seller_id})
WITH {listing_id: l.listing_id, listing_caption: l.title,
      listing_shop: lsh.shop_id, listing_shop_caption: lsh.name,
      shop_id: sh.shop_id, shop_caption: sh.name,
      seller_id: coalesce(ls.seller_id, ss.seller_id, s.seller_id),
      seller_caption: coalesce(ls.nickname, ss.nickname, s.nickname)} AS start,
     coalesce(ls, ss, s) AS seller
LIMIT 1
"""


def _temporal_overrides() -> str:
    names = {p for n in NODES for p, t in n.properties.items() if t in ("date", "datetime")}
    return ", ".join(f"{p}: null" for p in sorted(names | {"first_seen_at", "last_seen_at"}))


_PATHS_BODY = """
CALL (s) {
  MATCH p = (s)-[:OPERATES]->(:Shop)-[:SHIPS_FROM|RETURNS_TO]->(a:Address)<-[:LOCATED_AT]-(site:Site)
  RETURN p, a, site
  UNION
  MATCH p = (s)-[:OPERATES]->(:Shop)<-[:SENT_BY]-(:Shipment)-[:ORIGINATES_AT]->(a:Address)
            <-[:LOCATED_AT]-(site:Site)
  RETURN p, a, site
  UNION
  MATCH p = (s)-[:OPERATES]->(:Shop)-[:OFFERS]->(:Listing)<-[:BOUGHT]-(:TestPurchase)
            -[:DELIVERED_BY]->(:Shipment)-[:ORIGINATES_AT]->(a:Address)<-[:LOCATED_AT]-(site:Site)
  RETURN p, a, site
  UNION
  MATCH p = (s)<-[:CONTROLS]-(:Person)-[:RUNS]->(site:Site)
  RETURN p, null AS a, site
  UNION
  MATCH p = (s)-[:PAID_TO]->(:PaymentAccount)-[:TRANSFERRED_TO*1..3]->(:PaymentAccount)
            <-[:OWNS]-(:Person)-[:RUNS]->(site:Site)
  RETURN p, null AS a, site
}
WITH sid, p, a, site
WHERE length(p) <= $max_path AND (a IS NULL OR (
  COUNT { MATCH (a)<-[:SHIPS_FROM|RETURNS_TO]-(:Shop)<-[:OPERATES]-(o:Seller) RETURN DISTINCT o } <= $hub
  AND COUNT { MATCH (a)<-[:ORIGINATES_AT]-(:Shipment)-[:SENT_BY]->(:Shop)<-[:OPERATES]-(o:Seller)
              RETURN DISTINCT o } <= $hub))
"""  # noqa: E501

_PATH_ROW = ("{sid: sid, site_id: site.site_id, site_kind: site.kind, site_status: site.status, "
             "site_label: site.label, raided: EXISTS { (site)<-[:RAIDED]-(:Case) }, "
             "ns: [n IN nodes(p) | {labels: labels(n), props: n {.*, " + _temporal_overrides()
             + "}, eid: elementId(n)}], "
             "rs: [r IN relationships(p) | {type: type(r), source: r.source, "
             "observed_on: toString(r.observed_on), start: elementId(startNode(r))}]}")
"""One path to a site; node dates and times are left out (the ranking never reads them),
which spares the driver turning them into Python values."""

PATHS: LiteralString = cast(LiteralString, "UNWIND $ids AS sid\nMATCH (s:Seller {seller_id: sid})"
                            + _PATHS_BODY + "RETURN " + _PATH_ROW + " AS row")
"""Every path to a site from the sellers in $ids, one `row` each."""


@lru_cache(maxsize=64)
def trace_query(levels: int, strength: network.Strength) -> LiteralString:
    """The start, the first `levels` hops of the walk and the paths of every seller they
    found, in one query."""
    return cast(LiteralString, START + network.levels_part(
        levels, strength, carry="start, ", seeds="[x IN [seller] WHERE x IS NOT NULL]")
        + "CALL (seen) { UNWIND seen AS s WITH s, s.seller_id AS sid" + _PATHS_BODY
        + "RETURN collect(" + _PATH_ROW + ") AS paths } "
        + network.WALK_RETURN + ", start, paths")


@dataclass(frozen=True)
class NodeRef:
    label: str
    key: str
    caption: str


@dataclass(frozen=True)
class Hop:
    """One step of a path, in the order the path is read (start -> site). `reversed` says
    the relationship itself points the other way (`to` -[type]-> `from`)."""

    from_: NodeRef
    type: str
    to: NodeRef
    source: str | None = None
    observed_on: str | None = None
    reversed: bool = False


@dataclass
class TracePath:
    kind: str
    weight: float
    hops: list[Hop]
    factors: dict[str, float] = field(default_factory=dict)


@dataclass
class Site:
    site_id: str
    kind: str | None
    status: str | None
    label: str | None
    raided: bool


@dataclass
class SourceTrace:
    site: Site
    score: float
    paths: list[TracePath]


def node_ref(labels: list[str], props: dict[str, Any]) -> NodeRef:
    label = next((lb for lb in labels if _known(lb)), labels[0])
    nt = node(label)
    key = str(props.get(nt.key, ""))
    caption = next((str(props[c]) for c in nt.caption if props.get(c)), key)
    return NodeRef(label, key, caption)


def _known(label: str) -> bool:
    try:
        node(label)
    except KeyError:
        return False
    return True


def path_kind(rel_types: list[str]) -> str:
    if "TRANSFERRED_TO" in rel_types:
        return "money"
    if "CONTROLS" in rel_types:
        return "person"
    if "BOUGHT" in rel_types:
        return "purchase"
    if "SENT_BY" in rel_types:
        return "shipment"
    return "ships_from" if "SHIPS_FROM" in rel_types else "returns_to"


def path_weight(kind: str, *, site_status: str | None, raided: bool, verdict: str | None,
                transfers: int, link_weights: list[float], hops: int) -> tuple[float, dict[str, float]]:
    """The weight of one path and the factors it is the product of."""
    status = "raided" if raided else (site_status or "suspected")
    factors = {
        "base": BASE[kind],
        "site": SITE_FACTOR.get(status, 1.0),
        "verdict": VERDICT_FACTOR.get(verdict or "", 1.0) if kind == "purchase" else 1.0,
        "transfers": TRANSFER_FACTOR ** max(transfers - 1, 0),
        "links": 1.0,
        "length": HOP_FACTOR ** hops,
    }
    for w in link_weights:
        factors["links"] *= w
    weight = 1.0
    for value in factors.values():
        weight *= value
    return min(weight, MAX_WEIGHT), factors


def _plain(value: Any) -> str | None:
    return None if value is None else str(value)


def _hops(ns: list[dict[str, Any]], rs: list[dict[str, Any]]) -> list[Hop]:
    refs = [node_ref(n["labels"], n["props"]) for n in ns]
    return [Hop(refs[i], r["type"], refs[i + 1], _plain(r["source"]), _plain(r["observed_on"]),
                reversed=r["start"] != ns[i]["eid"])
            for i, r in enumerate(rs)]


def _link_chain(reach: network.Reach, sid: str, captions: dict[str, str]
                ) -> tuple[list[Hop], list[float]]:
    """Hops and link weights from the walk's seed to seller `sid`."""
    hops: list[Hop] = []
    weights: list[float] = []
    while sid in reach.parent:
        parent, via = reach.parent[sid]
        shared = NodeRef(via.label, via.value, via.value)
        a = NodeRef("Seller", parent, captions.get(parent, parent))
        b = NodeRef("Seller", sid, captions.get(sid, sid))
        hops[:0] = [Hop(a, via.type, shared), Hop(shared, via.type, b, reversed=True)]
        weights.append(via.weight)
        sid = parent
    return hops, weights


def trace_walk(*, listing_id: str | None = None, shop_id: str | None = None,
               seller_id: str | None = None, strength: network.Strength = "STRONG",
               max_hops: int = 8, first: int = 10,
               hub_threshold: int = network.HUB_THRESHOLD) -> network.Walk:
    given = [v for v in (listing_id, shop_id, seller_id) if v is not None]
    if len(given) != 1:
        raise ValueError("give exactly one of listingId, shopId, sellerId")
    network.check_strength(strength)
    network.check_positive("maxHops", max_hops, 12)
    network.check_positive("first", first, 100)
    network.check_positive("hub threshold", hub_threshold)
    depth = max((max_hops - 2) // 2, 0)
    params = {"listing_id": listing_id, "shop_id": shop_id, "seller_id": seller_id,
              "max_path": max_hops, **network.walk_params(strength, hub_threshold)}
    found = (yield trace_query(network.first_levels(depth), strength), params)[0]
    start = found["start"]
    if start["seller_id"] is None:
        what = ("listing", listing_id) if listing_id else (
            ("shop", shop_id) if shop_id else ("seller", seller_id))
        raise LookupError(f"no {what[0]} {what[1]!r} with a seller behind it")
    reach: network.Reach = yield from network.walk(
        [start["seller_id"]], strength=strength, hub_threshold=hub_threshold,
        max_size=MAX_LINKED, max_depth=depth, first=found)
    if set(reach.sellers) <= set(found["seen_ids"]):
        rows = [row for row in found["paths"] if row["sid"] in reach.sellers]
    else:
        rows = [r["row"] for r in (yield PATHS, {"ids": sorted(reach.sellers), "hub": hub_threshold,
                                                  "max_path": max_hops})]
    return rank(rows, reach, _prefix(start), max_hops=max_hops, first=first)


def _prefix(start: dict[str, Any]) -> list[Hop]:
    seller = NodeRef("Seller", start["seller_id"], start["seller_caption"] or start["seller_id"])
    if start["listing_id"] is not None:
        listing = NodeRef("Listing", start["listing_id"], start["listing_caption"] or "")
        shop = NodeRef("Shop", start["listing_shop"], start["listing_shop_caption"] or "")
        return [Hop(listing, "OFFERS", shop, reversed=True),
                Hop(shop, "OPERATES", seller, reversed=True)]
    if start["shop_id"] is not None:
        shop = NodeRef("Shop", start["shop_id"], start["shop_caption"] or "")
        return [Hop(shop, "OPERATES", seller, reversed=True)]
    return []


def rank(rows: list[dict[str, Any]], reach: network.Reach, prefix: list[Hop], *,
         max_hops: int, first: int) -> list[SourceTrace]:
    sites: dict[str, SourceTrace] = {}
    seen: set[tuple[str, ...]] = set()
    for row in rows:
        chain, link_weights = _link_chain(reach, row["sid"], {})
        own = _hops(row["ns"], row["rs"])
        hops = chain + own
        if len(hops) > max_hops:
            continue
        signature = tuple(f"{h.from_.key}-{h.type}-{h.to.key}" for h in hops)
        if signature in seen:
            continue
        seen.add(signature)
        types = [r["type"] for r in row["rs"]]
        verdict = next((n["props"].get("verdict") for n in row["ns"]
                        if "TestPurchase" in n["labels"]), None)
        kind = path_kind(types)
        weight, factors = path_weight(
            kind, site_status=row["site_status"], raided=row["raided"], verdict=verdict,
            transfers=types.count("TRANSFERRED_TO"), link_weights=link_weights, hops=len(hops))
        trace = sites.setdefault(row["site_id"], SourceTrace(
            Site(row["site_id"], row["site_kind"], row["site_status"], row["site_label"],
                 row["raided"]), 0.0, []))
        trace.paths.append(TracePath(kind, weight, prefix + hops, factors))
    for trace in sites.values():
        trace.score = noisy_or([p.weight for p in trace.paths])
        trace.paths.sort(key=lambda p: (-p.weight, len(p.hops)))
        del trace.paths[PATHS_PER_SITE:]
    ranked = sorted(sites.values(), key=lambda t: (-t.score, t.site.site_id))
    return ranked[:first]


def trace_to_source(driver: neo4j.Driver, database: str, **options: Any) -> list[SourceTrace]:
    result: list[SourceTrace] = network.run_sync(driver, database, trace_walk(**options))
    return result


async def trace_to_source_async(driver: neo4j.AsyncDriver, database: str,
                                **options: Any) -> list[SourceTrace]:
    result: list[SourceTrace] = await network.run_async(driver, database, trace_walk(**options))
    return result
