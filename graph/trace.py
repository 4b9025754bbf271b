"""Trace to source: from a listing, shop or seller to the offline sites behind it.

What is followed (data contract, "Paths from online to offline"), from the start's
seller and from every seller linked to it at the chosen strength (`graph.seller_networks`):

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
                                  linked seller the path starts at, `seller_networks.LINK_WEIGHTS`)
                 * 0.97 ** hops) (longer is weaker)

Score of a site: noisy-or of the weights of its paths, 1 - prod(1 - weight), so it is
bounded by 1 and every extra independent path raises it less.

`hops` is counted from the start's seller (through the links to the seller the path
starts at), so a path weighs the same whether the trace starts at the listing, its shop
or its seller (from the listing it may be shown shorter, see below, or be left out sooner
by `max_hops`).

Hubs never lead anywhere: an Address used (ship-from, return or shipment origin) by more
sellers than the hub threshold is a fulfilment warehouse or a depot; paths through it are
dropped, so a seller that only shares a warehouse does not trace to what sits there.

Paths are simple (no node twice) and read from the start: listing -> shop -> seller, the
links to another seller, then that seller's path to the site.
- A money path never passes the same payment account twice (the query asks for it).
- A path that comes back to a node it passed (the start's own shop or listing: "Listing
  <-OFFERS- shop <-OPERATES- seller -OPERATES-> shop -OFFERS-> Listing <-BOUGHT- ...") is
  shown without the loop ("Listing <-BOUGHT- ..."); nothing is dropped, the weight stays.
- A path that goes out through a linked seller and comes back (the payout account or
  address that links the two sellers, then that seller's path through it again) is the
  nearer seller's own path, which is found too with a higher weight; it is left out.
- The same path is listed once per site (with its highest weight), and counted once in the
  site's score.
`max_hops` bounds every path as it is shown, the listing -> shop -> seller prefix included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, LiteralString, cast

import neo4j

from graph import access, seller_networks
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
ORDER BY start.listing_shop, start.seller_id
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
  WHERE all(i IN range(1, length(p)) WHERE NOT nodes(p)[i] IN nodes(p)[..i])
  RETURN p, null AS a, site
}
WITH sid, p, a, site
WHERE length(p) <= $max_path + CASE WHEN sid = seed THEN $prefix ELSE -$prefix - 2 END
  AND (a IS NULL OR (
  COUNT { MATCH (a)<-[:SHIPS_FROM|RETURNS_TO]-(:Shop)<-[:OPERATES]-(o:Seller) RETURN DISTINCT o } <= $hub
  AND COUNT { MATCH (a)<-[:ORIGINATES_AT]-(:Shipment)-[:SENT_BY]->(:Shop)<-[:OPERATES]-(o:Seller)
              RETURN DISTINCT o } <= $hub))
"""  # noqa: E501
"""The paths of seller `s` (`sid`) to sites; `seed` is the start's seller. Only the money
path can meet a node twice by itself (a transfer cycle), and its WHERE forbids it; the
other patterns pass nodes of different labels. The length bound is loose here (a path of
the start's seller that comes back through the start's shop or listing is shown shorter,
a linked seller's path after at least one link of two hops) and exact in `rank`."""

_PATH_ROW = ("{sid: sid, site_id: site.site_id, site_kind: site.kind, site_status: site.status, "
             "site_label: site.label, raided: EXISTS { (site)<-[:RAIDED]-(:Case) }, "
             "ns: [n IN nodes(p) | {labels: labels(n), props: n {.*, " + _temporal_overrides()
             + "}, eid: elementId(n)}], "
             "rs: [r IN relationships(p) | {type: type(r), source: r.source, "
             "observed_on: toString(r.observed_on), start: elementId(startNode(r))}]}")
"""One path to a site; node dates and times are left out (the ranking never reads them),
which spares the driver turning them into Python values."""

PATHS: LiteralString = cast(LiteralString, "UNWIND $ids AS sid\nMATCH (s:Seller {seller_id: sid})\n"
                            "WITH s, sid, $seed AS seed" + _PATHS_BODY + "RETURN " + _PATH_ROW
                            + " AS row")
"""Every path to a site from the sellers in $ids, one `row` each ($seed: the start's
seller, $prefix: the hops from the start to it, $max_path: maxHops, $hub)."""


@lru_cache(maxsize=64)
def trace_query(levels: int, strength: seller_networks.Strength) -> LiteralString:
    """The start, the first `levels` hops of the walk and the paths of every seller they
    found, in one query."""
    return cast(LiteralString, START + seller_networks.levels_part(
        levels, strength, carry="start, ", seeds="[x IN [seller] WHERE x IS NOT NULL]")
        + "CALL (seen, start) { UNWIND seen AS s WITH s, s.seller_id AS sid, "
          "start.seller_id AS seed" + _PATHS_BODY
        + "RETURN collect(" + _PATH_ROW + ") AS paths } "
        + seller_networks.WALK_RETURN + ", start, paths")


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


def _link_chain(reach: seller_networks.Reach, sid: str, captions: dict[str, str]
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
               seller_id: str | None = None, strength: seller_networks.Strength = "STRONG",
               max_hops: int = 8, first: int = 10,
               hub_threshold: int = seller_networks.HUB_THRESHOLD) -> seller_networks.Walk:
    given = [v for v in (listing_id, shop_id, seller_id) if v is not None]
    if len(given) != 1:
        raise ValueError("give exactly one of listingId, shopId, sellerId")
    seller_networks.check_strength(strength)
    seller_networks.check_positive("maxHops", max_hops, 12)
    seller_networks.check_positive("first", first, 100)
    seller_networks.check_positive("hub threshold", hub_threshold)
    prefix = 2 if listing_id is not None else (1 if shop_id is not None else 0)
    depth = max((max_hops - prefix - 2) // 2, 0)  # each link is two hops, a path at least two
    bounds = {"max_path": max_hops, "prefix": prefix, "hub": hub_threshold}
    params = {"listing_id": listing_id, "shop_id": shop_id, "seller_id": seller_id,
              **bounds, **seller_networks.walk_params(strength, hub_threshold)}
    found = (yield trace_query(seller_networks.first_levels(depth), strength), params)[0]
    start = found["start"]
    if start["seller_id"] is None:
        what = ("listing", listing_id) if listing_id else (
            ("shop", shop_id) if shop_id else ("seller", seller_id))
        raise LookupError(f"no {what[0]} {what[1]!r} with a seller behind it")
    reach: seller_networks.Reach = yield from seller_networks.walk(
        [start["seller_id"]], strength=strength, hub_threshold=hub_threshold,
        max_size=MAX_LINKED, max_depth=depth, first=found)
    if set(reach.sellers) <= set(found["seen_ids"]):
        rows = [row for row in found["paths"] if row["sid"] in reach.sellers]
    else:
        rows = [r["row"] for r in (yield PATHS, {"ids": sorted(reach.sellers),
                                                  "seed": start["seller_id"], **bounds})]
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


def _id(ref: NodeRef) -> tuple[str, str]:
    return ref.label, ref.key


def without_loops(prefix: list[Hop], chain: list[Hop], own: list[Hop]) -> list[Hop] | None:
    """prefix + chain + own as a simple path: where it comes back to a node it passed, the
    hops in between are cut out. None when such a loop holds a link between two sellers:
    the path is then a nearer seller's own path (found on its own, with a higher weight)
    seen again through a linked seller."""
    hops = prefix + chain + own
    links = range(len(prefix), len(prefix) + len(chain))
    kept: list[int] = []
    reached = {_id(hops[0].from_): 0}  # node -> how many kept hops lead to it
    for i, hop in enumerate(hops):
        node = _id(hop.to)
        back = reached.get(node)
        if back is None:
            kept.append(i)
            reached[node] = len(kept)
            continue
        loop = [*kept[back:], i]
        if any(j in links for j in loop):
            return None
        for j in kept[back:]:
            del reached[_id(hops[j].to)]
        del kept[back:]
        reached[node] = back
    return [hops[i] for i in kept]


def signature(hops: list[Hop]) -> tuple[tuple[str, str, str, str, str, bool], ...]:
    """What a path is as evidence: its nodes and relationships, in order."""
    return tuple((h.from_.label, h.from_.key, h.type, h.to.label, h.to.key, h.reversed)
                 for h in hops)


def _path(row: dict[str, Any], reach: seller_networks.Reach, prefix: list[Hop],
          captions: dict[str, str]) -> TracePath | None:
    """One row as a path from the start, or None (see `without_loops`)."""
    chain, link_weights = _link_chain(reach, row["sid"], captions)
    own = _hops(row["ns"], row["rs"])
    hops = without_loops(prefix, chain, own)
    if hops is None:
        return None
    types = [r["type"] for r in row["rs"]]
    verdict = next((n["props"].get("verdict") for n in row["ns"]
                    if "TestPurchase" in n["labels"]), None)
    kind = path_kind(types)
    weight, factors = path_weight(
        kind, site_status=row["site_status"], raided=row["raided"], verdict=verdict,
        transfers=types.count("TRANSFERRED_TO"), link_weights=link_weights,
        hops=len(chain) + len(own))
    return TracePath(kind, weight, hops, factors)


def rank(rows: list[dict[str, Any]], reach: seller_networks.Reach, prefix: list[Hop], *,
         max_hops: int, first: int) -> list[SourceTrace]:
    """Sites by score, each with its paths (simple, at most `max_hops` hops, each once)."""
    best: dict[tuple[str, Any], tuple[dict[str, Any], TracePath]] = {}
    captions = {row["sid"]: node_ref(row["ns"][0]["labels"], row["ns"][0]["props"]).caption
                for row in rows}
    if prefix:
        captions[prefix[-1].to.key] = prefix[-1].to.caption
    for row in rows:
        path = _path(row, reach, prefix, captions)
        if path is None or len(path.hops) > max_hops:
            continue
        key = (row["site_id"], signature(path.hops))
        if key not in best or path.weight > best[key][1].weight:
            best[key] = (row, path)
    sites: dict[str, SourceTrace] = {}
    for row, path in best.values():
        trace = sites.setdefault(row["site_id"], SourceTrace(
            Site(row["site_id"], row["site_kind"], row["site_status"], row["site_label"],
                 row["raided"]), 0.0, []))
        trace.paths.append(path)
    for trace in sites.values():
        trace.score = noisy_or([p.weight for p in trace.paths])
        trace.paths.sort(key=lambda p: (-p.weight, len(p.hops)))
        del trace.paths[PATHS_PER_SITE:]
    ranked = sorted(sites.values(), key=lambda t: (-t.score, t.site.site_id))
    return ranked[:first]


def trace_to_source(driver: neo4j.Driver, database: str, *,
                    timeout: float | None = access.DEFAULT_TIMEOUT, name: str = "traceToSource",
                    **options: Any) -> list[SourceTrace]:
    """`trace_walk` with the sync driver, each query a read with `timeout`, timed as `name`."""
    result: list[SourceTrace] = access.steps(driver, database, trace_walk(**options),
                                             timeout=timeout, name=name)
    return result


async def trace_to_source_async(driver: neo4j.AsyncDriver, database: str, *,
                                timeout: float | None = access.DEFAULT_TIMEOUT,
                                name: str = "traceToSource", **options: Any) -> list[SourceTrace]:
    result: list[SourceTrace] = await access.steps_async(driver, database, trace_walk(**options),
                                                         timeout=timeout, name=name)
    return result
