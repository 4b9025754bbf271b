"""Investigation queries: seller networks, stored networks ranked by risk, trace to source.

`sellerNetwork` and `traceToSource` are computed on the fly by `graph.seller_networks` and
`graph.trace` (the same code as the CLI, its queries sent through `graph.access` with the
request's timeout: one round trip each for most networks and traces);
`networks` reads the `Network` nodes `alliance analyze networks` stored. The formulas
(link weights, path weights, noisy-or, risk factors) are documented in those modules.
A trace's paths are read from the start (listing -> shop -> seller, the links to other
sellers, then to the site), pass no node twice and are listed once per site; `maxHops`
bounds each path as it is shown, the listing and shop hops included.
For now only investigators and admins may use them; other roles get FORBIDDEN.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, LiteralString

import strawberry

from api.context import Context
from core.errors import Forbidden, UserError
from graph import access, risk, seller_networks, trace

TRIED_DAYS = 7
"""The window of `RankedNetwork.shopsTried`: the last seven days."""

MAX_FIRST = 100


@strawberry.enum(description="Which shared identifiers link two sellers (PROBABLE: STRONG "
                             "plus the probable matches no investigator rejected).")
class LinkStrength(Enum):
    STRONG = "STRONG"
    WEAK = "WEAK"
    PROBABLE = "PROBABLE"


@strawberry.enum(description="How stored networks are ranked.")
class NetworkOrder(Enum):
    RISK = "RISK"
    SIZE = "SIZE"


@strawberry.type(description="An identifier two sellers share, or a probable match (kind "
                             "`probable`: its weight is the match probability).")
class LinkVia:
    kind: str
    label: str
    value: str
    weight: float
    reasons: list[str] = strawberry.field(
        default_factory=list, description="For a probable match: what the model saw.")


@strawberry.type
class SellerLink:
    a: strawberry.ID
    b: strawberry.ID
    via: list[LinkVia]


@strawberry.type(description="An identifier shared by more sellers than the hub threshold: "
                             "shown, never used as a link.")
class HubSkipped:
    kind: str
    label: str
    value: str
    sellers: int


@strawberry.type
class NetworkMember:
    seller_id: strawberry.ID
    distance: int = strawberry.field(description="Links from the seller asked about.")


@strawberry.type
class NetworkStats:
    sellers: int
    shops: int
    listings: int
    brands_hit: int
    upheld_complaints: int
    counterfeit_verdicts: int
    sites: int
    open_leads: int
    cases: int


@strawberry.type
class RiskFactor:
    name: str
    value: float
    weight: float
    contribution: float


@strawberry.type
class SellerNetwork:
    seller_id: strawberry.ID
    strength: LinkStrength
    sellers: list[NetworkMember]
    shops: list[strawberry.ID]
    links: list[SellerLink]
    hubs_skipped: list[HubSkipped]
    truncated: bool
    stats: NetworkStats
    risk_score: float
    risk_factors: list[RiskFactor]


@strawberry.type
class TraceNode:
    label: str
    key: str
    caption: str


@strawberry.type
class TraceHop:
    from_: TraceNode = strawberry.field(name="from")
    type: str
    to: TraceNode
    source: str | None
    observed_on: str | None
    reversed: bool = strawberry.field(
        description="The relationship points from `to` to `from` (hops follow the path).")


@strawberry.type
class TracePath:
    kind: str
    weight: float
    hops: list[TraceHop]


@strawberry.type
class TraceSite:
    site_id: strawberry.ID
    kind: str | None
    status: str | None
    label: str | None
    raided: bool


@strawberry.type
class SourceTrace:
    site: TraceSite
    score: float
    paths: list[TracePath]


@strawberry.type
class RankedNetwork:
    network_id: strawberry.ID
    size: int
    strength: str
    risk_score: float | None
    shops: int | None
    listings: int | None
    upheld_complaints: int | None
    counterfeit_verdicts: int | None
    sites: int | None
    computed_at: str | None
    shops_tried: int = strawberry.field(description=(
        f"New shops whose uploads matched this network in recorded screenings in the last "
        f"{TRIED_DAYS} days (distinct shops)."))
    uploads_blocked: int = strawberry.field(description=(
        f"Of those uploads, how many were blocked (last {TRIED_DAYS} days)."))


@strawberry.type
class RankedNetworkPage:
    items: list[RankedNetwork]
    end_cursor: str | None
    has_next_page: bool


@strawberry.type
class RiskScore:
    score: float
    factors: list[RiskFactor]


TRIED: LiteralString = """
RETURN n {.*,
  shops_tried: size(COLLECT { MATCH (n)<-[:MATCHED]-(sc:Screening) WHERE sc.at >= $since
                              RETURN DISTINCT coalesce(sc.shop_id, sc.upload_id) }),
  uploads_blocked: COUNT { MATCH (n)<-[:MATCHED]-(sc:Screening)
                           WHERE sc.at >= $since AND sc.decision = 'BLOCK' } } AS n
"""
"""Of a stored network, the new shops whose uploads matched it in recorded screenings
since `$since` (distinct shops, an upload without a shop counted once), and how many of
those uploads were blocked: the ring trying new shops."""

NETWORKS_BY_RISK: LiteralString = """
MATCH (n:Network {strength: $strength}) WHERE n.size >= $min_size
  AND ($brand_id IS NULL OR EXISTS { (n)<-[:IN_NETWORK]-(:Seller)-[:OPERATES]->(:Shop)
       -[:OFFERS]->(:Listing)-[:CLAIMS_BRAND]->(:Brand {brand_id: $brand_id}) })
WITH n ORDER BY n.risk_score DESC, n.network_id SKIP $skip LIMIT $limit
""" + TRIED + "ORDER BY n.risk_score DESC, n.network_id"

NETWORKS_BY_SIZE: LiteralString = """
MATCH (n:Network {strength: $strength}) WHERE n.size >= $min_size
  AND ($brand_id IS NULL OR EXISTS { (n)<-[:IN_NETWORK]-(:Seller)-[:OPERATES]->(:Shop)
       -[:OFFERS]->(:Listing)-[:CLAIMS_BRAND]->(:Brand {brand_id: $brand_id}) })
WITH n ORDER BY n.size DESC, n.network_id SKIP $skip LIMIT $limit
""" + TRIED + "ORDER BY n.size DESC, n.network_id"

SELLER_OF_SHOP: LiteralString = """
MATCH (s:Seller)-[:OPERATES]->(:Shop {shop_id: $shop_id}) RETURN s.seller_id AS id LIMIT 1
"""

NETWORK_SIZE: LiteralString = """
MATCH (:Seller {seller_id: $id})-[:IN_NETWORK]->(n:Network {strength: 'STRONG'})
RETURN n.size AS size
"""


async def run(ctx: Context, gen: access.Steps, name: str) -> Any:
    """Drive a `graph.seller_networks` or `graph.trace` computation with the request's
    reads (its timeout, retries, metrics and errors: `graph.access`)."""
    return await access.steps_async(ctx.driver, ctx.database, gen, timeout=ctx.timeout, name=name)


async def rows(ctx: Context, query: LiteralString, params: dict[str, Any], name: str
               ) -> list[dict[str, Any]]:
    return [r.data() for r in await access.read_async(ctx.driver, ctx.database, query, params,
                                                      timeout=ctx.timeout, name=name)]


def allowed(ctx: Context) -> None:
    if not ctx.caller.sees_everything:
        raise Forbidden(f"role {ctx.caller.role!r} may not run investigation queries; "
                        "investigators and admins may")


def _risk_factors(r: risk.Risk) -> list[RiskFactor]:
    return [RiskFactor(name=f.name, value=f.value, weight=f.weight,
                       contribution=f.contribution) for f in r.factors]


def _node(ref: trace.NodeRef) -> TraceNode:
    return TraceNode(label=ref.label, key=ref.key, caption=ref.caption)


def source_trace(t: trace.SourceTrace) -> SourceTrace:
    return SourceTrace(
        site=TraceSite(site_id=strawberry.ID(t.site.site_id), kind=t.site.kind,
                       status=t.site.status, label=t.site.label, raided=t.site.raided),
        score=t.score,
        paths=[TracePath(kind=p.kind, weight=p.weight, hops=[
            TraceHop(from_=_node(h.from_), type=h.type, to=_node(h.to), source=h.source,
                     observed_on=h.observed_on, reversed=h.reversed) for h in p.hops])
            for p in t.paths],
    )


def _network(net: seller_networks.SellerNetwork) -> SellerNetwork:
    s = net.stats
    return SellerNetwork(
        seller_id=strawberry.ID(net.seller_id),
        strength=LinkStrength(net.strength),
        sellers=[NetworkMember(seller_id=strawberry.ID(k), distance=d)
                 for k, d in sorted(net.reach.sellers.items(), key=lambda kv: (kv[1], kv[0]))],
        shops=[strawberry.ID(x) for x in net.shops],
        links=[SellerLink(a=strawberry.ID(lk.a), b=strawberry.ID(lk.b), via=[
            LinkVia(kind=v.kind, label=v.label, value=v.value, weight=v.weight,
                    reasons=v.value.split(", ") if v.kind == "probable" else []) for v in lk.via])
            for lk in net.links],
        hubs_skipped=[HubSkipped(kind=h.kind, label=h.label, value=h.value, sellers=h.sellers)
                      for h in net.reach.hubs.values()],
        truncated=net.reach.truncated,
        stats=NetworkStats(sellers=s["sellers"], shops=s["shops"], listings=s["listings"],
                           brands_hit=len(s["brands"]), upheld_complaints=s["upheld"],
                           counterfeit_verdicts=s["verdicts"], sites=s["sites"],
                           open_leads=s["open_leads"], cases=s["cases"]),
        risk_score=net.risk.score,
        risk_factors=_risk_factors(net.risk),
    )


def _ranked(n: dict[str, Any]) -> RankedNetwork:
    computed = n.get("computed_at")
    return RankedNetwork(
        network_id=strawberry.ID(n["network_id"]), size=n.get("size") or 0,
        strength=n.get("strength") or "STRONG", risk_score=n.get("risk_score"),
        shops=n.get("shops"), listings=n.get("listings"),
        upheld_complaints=n.get("upheld_complaints"),
        counterfeit_verdicts=n.get("counterfeit_verdicts"), sites=n.get("sites"),
        computed_at=None if computed is None else str(computed),
        shops_tried=n.get("shops_tried") or 0, uploads_blocked=n.get("uploads_blocked") or 0)


_CURSOR = re.compile(r"[0-9]{1,9}")
"""A networks endCursor: the offset of the next page, in ASCII digits."""


def _offset(after: str | None) -> int:
    """The offset an `after` cursor stands for; a UserError for any other text."""
    if after is None:
        return 0
    if not _CURSOR.fullmatch(after):
        shown = after if len(after) <= 40 else after[:40] + "..."
        raise UserError(f"networks(after:) {shown!r} is not a cursor returned by networks; "
                        "pass the endCursor of a previous page")
    return int(after)


@strawberry.type
class InvestigationQuery:
    @strawberry.field(description="The sellers linked to one seller by shared identifiers "
                                  "(hubs skipped), with stats and a risk score.")
    async def seller_network(
        self, info: strawberry.Info, seller_id: strawberry.ID,
        strength: LinkStrength = LinkStrength.STRONG, max_size: int = seller_networks.MAX_SIZE,
    ) -> SellerNetwork:
        ctx: Context = info.context
        allowed(ctx)
        try:
            net = await run(ctx, seller_networks.seller_network_walk(
                str(seller_id), strength=strength.value, max_size=max_size), "sellerNetwork")
        except (ValueError, LookupError) as exc:
            raise UserError(f"sellerNetwork: {exc}") from None
        return _network(net)

    @strawberry.field(description="Stored networks (alliance analyze networks), riskiest "
                                  "first; `after` is the endCursor of the previous page.")
    async def networks(
        self, info: strawberry.Info, first: int = 20, after: str | None = None,
        min_size: int = 2, brand_id: strawberry.ID | None = None,
        order_by: NetworkOrder = NetworkOrder.RISK,
        strength: LinkStrength = LinkStrength.STRONG,
    ) -> RankedNetworkPage:
        ctx: Context = info.context
        allowed(ctx)
        if not 1 <= first <= MAX_FIRST:
            raise UserError(f"networks(first:) must be 1 to {MAX_FIRST}, got {first}")
        skip = _offset(after)
        query = NETWORKS_BY_RISK if order_by == NetworkOrder.RISK else NETWORKS_BY_SIZE
        records = await rows(ctx, query, {"strength": strength.value, "min_size": min_size,
                                          "brand_id": None if brand_id is None else str(brand_id),
                                          "skip": skip, "limit": first + 1,
                                          "since": datetime.now(UTC) - timedelta(days=TRIED_DAYS)},
                           "networks")
        items = [_ranked(r["n"]) for r in records[:first]]
        more = len(records) > first
        return RankedNetworkPage(items=items, has_next_page=more,
                                 end_cursor=str(skip + len(items)) if items else None)

    @strawberry.field(description="Offline sites behind a listing, shop or seller (give "
                                  "exactly one), best first, each path with its weight.")
    async def trace_to_source(
        self, info: strawberry.Info, listing_id: strawberry.ID | None = None,
        shop_id: strawberry.ID | None = None, seller_id: strawberry.ID | None = None,
        strength: LinkStrength = LinkStrength.STRONG, max_hops: int = 8, first: int = 10,
    ) -> list[SourceTrace]:
        ctx: Context = info.context
        allowed(ctx)
        try:
            traces = await run(ctx, trace.trace_walk(
                listing_id=None if listing_id is None else str(listing_id),
                shop_id=None if shop_id is None else str(shop_id),
                seller_id=None if seller_id is None else str(seller_id),
                strength=strength.value, max_hops=max_hops, first=first), "traceToSource")
        except (ValueError, LookupError) as exc:
            raise UserError(f"traceToSource: {exc}") from None
        return [source_trace(t) for t in traces]

    @strawberry.field(description="Risk score of a seller or of one shop (give exactly one), "
                                  "with the factors it is made of.")
    async def risk_score(
        self, info: strawberry.Info, seller_id: strawberry.ID | None = None,
        shop_id: strawberry.ID | None = None,
    ) -> RiskScore:
        ctx: Context = info.context
        allowed(ctx)
        if (seller_id is None) == (shop_id is None):
            raise UserError("riskScore: give exactly one of sellerId, shopId")
        sid = None if seller_id is None else str(seller_id)
        if shop_id is not None:
            found = await rows(ctx, SELLER_OF_SHOP, {"shop_id": str(shop_id)}, "riskScore")
            sid = found[0]["id"] if found else None
            if sid is None:
                raise UserError(f"riskScore: no shop {str(shop_id)!r} with a seller")
        params = risk.stats_params([sid or ""], shop_id=None if shop_id is None
                                       else str(shop_id))
        stats = (await rows(ctx, risk.STATS, params, "riskScore"))[0]
        if stats["sellers"] == 0:
            raise UserError(f"riskScore: no seller {sid!r}")
        size = await rows(ctx, NETWORK_SIZE, {"id": sid}, "riskScore")
        r = risk.risk_from_stats(stats, size[0]["size"] if size else 1)
        return RiskScore(score=r.score, factors=_risk_factors(r))
