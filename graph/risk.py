"""Risk scores for sellers, shops and networks, with the factors that make them up.

Formula. Each factor `i` has a count `x_i` from the graph, a weight `w_i` (the most it
can say on its own) and a scale `s_i` (the count at which it says about 63% of that):

    contribution_i = w_i * (1 - exp(-x_i / s_i))
    risk           = 1 - prod_i (1 - contribution_i)          (noisy-or, in [0, 1))

So one factor alone never goes above its weight, more evidence of one kind saturates
instead of growing without bound, and independent kinds of evidence add up. Factors:

- upheld_complaints (w 0.5, s 3): complaints with outcome `upheld` against its
  listings or shops.
- counterfeit_verdicts (w 0.7, s 1): test purchases of its listings with verdict
  `counterfeit`.
- blocked_listings (w 0.3, s 5): listings with status `blocked` or blocked at upload.
- network_size (w 0.3, s 10): other sellers in its STRONG network.
- site_proximity (w 0.6, s 1): confirmed or raided sites one step away (a person who
  controls it runs the site, or a non-hub ship-from / return address is the site's).
- enforcement (w 0.8, s 1): cases from leads about it with status raided, prosecuted
  or judged.

Stored networks keep their score in `Network.risk_score` (`alliance analyze networks`);
a raid or a case status change rewrites it for the networks it moves at once
(`REFRESH_STORED`, the same formula in Cypher, `risk_cypher`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, LiteralString, cast

FACTORS: dict[str, tuple[float, float]] = {
    "upheld_complaints": (0.5, 3.0),
    "counterfeit_verdicts": (0.7, 1.0),
    "blocked_listings": (0.3, 5.0),
    "network_size": (0.3, 10.0),
    "site_proximity": (0.6, 1.0),
    "enforcement": (0.8, 1.0),
}

ENFORCED_CASE = ["raided", "prosecuted", "judged"]
CLOSED_LEAD = ["closed", "declined", "withdrawn", "judged"]
STRONG_SITE = ["confirmed", "raided"]


@dataclass(frozen=True)
class RiskFactor:
    name: str
    value: float
    weight: float
    contribution: float


@dataclass(frozen=True)
class Risk:
    score: float
    factors: list[RiskFactor]


def noisy_or(weights: list[float]) -> float:
    """1 - prod(1 - w): independent evidence combined, bounded by 1."""
    rest = 1.0
    for w in weights:
        rest *= 1.0 - min(max(w, 0.0), 1.0)
    return 1.0 - rest


def risk(values: dict[str, float]) -> Risk:
    """The score for factor counts `values` (missing factors count 0)."""
    factors = []
    for name, (weight, scale) in FACTORS.items():
        x = max(float(values.get(name, 0.0)), 0.0)
        factors.append(RiskFactor(name, x, weight, weight * (1.0 - math.exp(-x / scale))))
    return Risk(noisy_or([f.contribution for f in factors]), factors)


# Stats of a set of sellers (one seller, a network), optionally narrowed to one shop.
# A hub address is counted by its degree: only shops ship from or return to an address,
# and a pattern without a label on the far end is read from the degree store (a label
# would visit every shop of a hub of thousands, for every shop of the network at it).
_STATS_BODY = """
WITH collect(DISTINCT s) AS ss
CALL (ss) {
  UNWIND ss AS s MATCH (s)-[:OPERATES]->(sh:Shop)
  WHERE $shop_id IS NULL OR sh.shop_id = $shop_id
  RETURN collect(DISTINCT sh) AS shops
}
CALL (shops) {
  UNWIND shops AS sh MATCH (sh)-[:OFFERS]->(l:Listing) RETURN collect(DISTINCT l) AS ls
}
CALL (ls) {
  UNWIND ls AS l MATCH (l)-[:CLAIMS_BRAND]->(b:Brand) RETURN collect(DISTINCT b.brand_id) AS brands
}
CALL (ls, shops) {
  UNWIND ls + shops AS t MATCH (t)<-[:AGAINST]-(c:Complaint {outcome: 'upheld'})
  RETURN count(DISTINCT c) AS upheld
}
CALL (ls) {
  UNWIND ls AS l MATCH (l)<-[:BOUGHT]-(tp:TestPurchase {verdict: 'counterfeit'})
  RETURN count(DISTINCT tp) AS verdicts
}
CALL (ss, shops) {
  UNWIND ss + shops AS t MATCH (t)<-[:CONCERNS]-(ld:Lead) RETURN collect(DISTINCT ld) AS leads
}
CALL (leads) {
  UNWIND leads AS ld MATCH (ld)-[:BECAME]->(c:Case)
  RETURN count(DISTINCT c) AS cases,
         count(DISTINCT CASE WHEN c.status IN $enforced THEN c END) AS enforced
}
CALL (ss, shops) {
  CALL (ss, shops) {
    UNWIND ss AS s MATCH (s)<-[:CONTROLS]-(:Person)-[:RUNS]->(site:Site) RETURN site
    UNION
    UNWIND shops AS sh MATCH (sh)-[:SHIPS_FROM|RETURNS_TO]->(a:Address)<-[:LOCATED_AT]-(site:Site)
    WHERE COUNT { (a)<-[:SHIPS_FROM|RETURNS_TO]-() } <= $hub
    RETURN site
  }
  RETURN count(DISTINCT site) AS sites,
         count(DISTINCT CASE WHEN site.status IN $strong_site
               OR EXISTS { (site)<-[:RAIDED]-(:Case) } THEN site END) AS strong_sites
}
"""

_STATS_FIELDS: tuple[tuple[str, str], ...] = (
    ("sellers", "size(ss)"), ("shops", "size(shops)"), ("shop_ids", "[sh IN shops | sh.shop_id]"),
    ("listings", "size(ls)"),
    ("blocked", "size([l IN ls WHERE l.status = 'blocked' OR l.blocked_at_upload])"),
    ("brands", "brands"), ("upheld", "upheld"), ("verdicts", "verdicts"), ("sites", "sites"),
    ("strong_sites", "strong_sites"),
    ("open_leads", "size([ld IN leads WHERE NOT ld.status IN $closed_lead])"),
    ("cases", "cases"), ("enforced", "enforced"),
)

STATS: LiteralString = cast(LiteralString, (
    "UNWIND $ids AS sid\nMATCH (s:Seller {seller_id: sid})" + _STATS_BODY + "RETURN "
    + ", ".join(f"{expr} AS {name}" for name, expr in _STATS_FIELDS)))
"""The stats of the sellers in $ids, one row."""


def stats_map(source: str) -> str:
    """The same stats as one map `stats`, of the Seller nodes `s` that `source` yields
    (for use inside another query's subquery)."""
    fields = ", ".join(f"{name}: {expr}" for name, expr in _STATS_FIELDS)
    return f"{source}{_STATS_BODY}RETURN {{{fields}}} AS stats"


def stats_params(ids: list[str], *, shop_id: str | None = None, hub: int = 30) -> dict[str, Any]:
    return {"ids": ids, "shop_id": shop_id, "hub": hub, "enforced": ENFORCED_CASE,
            "strong_site": STRONG_SITE, "closed_lead": CLOSED_LEAD}


def risk_from_stats(stats: dict[str, Any], network_size: int) -> Risk:
    return risk({
        "upheld_complaints": stats["upheld"],
        "counterfeit_verdicts": stats["verdicts"],
        "blocked_listings": stats["blocked"],
        "network_size": max(network_size - 1, 0),
        "site_proximity": stats["strong_sites"],
        "enforcement": stats["enforced"],
    })


_COUNTS: dict[str, str] = {
    "upheld_complaints": "{s}.upheld",
    "counterfeit_verdicts": "{s}.verdicts",
    "blocked_listings": "{s}.blocked",
    "network_size": "({n} - 1)",
    "site_proximity": "{s}.strong_sites",
    "enforcement": "{s}.enforced",
}
if set(_COUNTS) != set(FACTORS):
    raise RuntimeError("every risk factor needs its count in Cypher")


def risk_cypher(stats: str, size: str) -> str:
    """Cypher for `risk_from_stats(stats, size).score`: the same formula, for stats map
    `stats` (as `stats_map` makes it) and a network of `size` sellers."""
    parts = []
    for name, (weight, scale) in FACTORS.items():
        x = _COUNTS[name].format(s=stats, n=size)
        parts.append(f"{weight!r} * (1.0 - exp(-toFloat(CASE WHEN {x} > 0 THEN {x} ELSE 0 END) / {scale!r}))")
    return f"(1.0 - reduce(rest = 1.0, c IN [{', '.join(parts)}] | rest * (1.0 - c)))"


REFRESH_STORED: LiteralString = cast(LiteralString, """
CALL () {
  MATCH (:Site {site_id: $site_id})<-[:RUNS]-(:Person)-[:CONTROLS]->(s:Seller) RETURN s
  UNION
  MATCH (:Site {site_id: $site_id})-[:LOCATED_AT]->(:Address)<-[:SHIPS_FROM|RETURNS_TO]-(:Shop)
        <-[:OPERATES]-(s:Seller) RETURN s
  UNION
  MATCH (:Case {case_id: $case_id})<-[:BECAME]-(:Lead)-[:CONCERNS]->(s:Seller) RETURN s
  UNION
  MATCH (:Case {case_id: $case_id})<-[:BECAME]-(:Lead)-[:CONCERNS]->(:Shop)<-[:OPERATES]-(s:Seller)
  RETURN s
}
MATCH (s)-[:IN_NETWORK]->(n:Network)
WITH DISTINCT n
CALL (n) { """ + stats_map("MATCH (s:Seller)-[:IN_NETWORK]->(n)") + """ }
SET n.risk_score = """ + risk_cypher("stats", "n.size") + """
RETURN count(n) AS networks
""")
"""Recompute the stored risk score of every stored network a raid on site $site_id or a
status change of case $case_id can move (site_proximity, enforcement): the networks of
the sellers next to the site and of the sellers the case's leads concern (directly or
through their shops). Either parameter may be null."""


def refresh_params(*, case_id: str | None, site_id: str | None) -> dict[str, Any]:
    return {**stats_params([]), "case_id": case_id, "site_id": site_id}
