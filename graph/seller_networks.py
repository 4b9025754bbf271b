"""Seller networks: the link graph of sellers that share identifiers.

Two sellers are linked when they share an identifier (data contract, "Identifiers that
link sellers"):

- STRONG: an Identity (VERIFIED_AS), a PaymentAccount (PAID_TO), a Phone (HAS_PHONE),
  an Email (HAS_EMAIL) or a Device of kind `fp` (USED_DEVICE).
- WEAK: all of STRONG, plus a Device of kind `ip` and an Address that shops of both
  sellers ship from or return to (Seller-OPERATES->Shop-SHIPS_FROM|RETURNS_TO->Address).

Hubs do not link: an identifier shared by more sellers than `hub_threshold` (default 30)
is a hub (a fulfilment warehouse, a carrier's IP range); it is reported with its seller
count and never joins two sellers.

`seller_network` walks the link graph breadth-first from one seller. The first `LEVELS`
hops run in one query (each hop expands the whole frontier; the stats of what was found
come in the same query), and a walk that goes further goes on with one query per hop.
The walk is written once, as a generator that yields `(cypher, parameters)` and receives
the rows, so the same code runs on the sync driver and on the async driver used by the
API (`graph.access.steps` / `steps_async`: the reads' timeout, retries, metrics and
errors).

Networks for the whole graph (`alliance analyze networks`): `compute_networks` streams
every shared identifier's sellers from Neo4j into a union-find in Python (memory: two ints
per linked seller) and `store_networks` writes the components as `Network` nodes. Only
components of two or more sellers are stored; a seller without an `IN_NETWORK`
relationship is a singleton. This whole-graph work has no timeout of its own
(`ANALYZE_TIMEOUT`: the server's limit applies); its queries go through `graph.access` too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any, Literal, LiteralString, cast

import neo4j
import neo4j.time

from graph import access, risk
from graph.model import node

Strength = Literal["STRONG", "WEAK"]
STRENGTHS: tuple[str, ...] = ("STRONG", "WEAK")
HUB_THRESHOLD = 30
MAX_SIZE = 500
FRONTIER_BATCH = 5000
"""Sellers expanded per query of a walk."""
LEVELS = 4
"""Hops of a walk done by its first query."""
LEVEL_CAP = 5000
"""New sellers one hop of the first query may expand next; above that the walk goes on
hop by hop (in batches of FRONTIER_BATCH)."""

LINK_WEIGHTS: dict[str, float] = {
    "identity": 1.0,
    "payment_account": 0.9,
    "phone": 0.8,
    "email": 0.7,
    "device_fp": 0.7,
    "device_ip": 0.3,
    "address": 0.4,
}
"""How strongly one shared identifier of each kind says two sellers are run together."""

_KIND_OF_LABEL = {
    "Identity": "identity",
    "PaymentAccount": "payment_account",
    "Phone": "phone",
    "Email": "email",
}

ANALYZE_TIMEOUT: float | None = None
"""Seconds each query of `alliance analyze` may run: None, the server's own limit (it reads
and writes the whole graph)."""

Query = access.Query
Walk = access.Steps


def check_strength(strength: str) -> Strength:
    if strength not in STRENGTHS:
        raise ValueError(f"strength must be one of {STRENGTHS}, not {strength!r}")
    return strength  # type: ignore[return-value]


def check_positive(name: str, value: int, maximum: int | None = None) -> int:
    if value < 1 or (maximum is not None and value > maximum):
        upper = f" and at most {maximum}" if maximum is not None else ""
        raise ValueError(f"{name} must be at least 1{upper}, got {value}")
    return value


def device_kinds(strength: Strength) -> list[str]:
    return ["fp"] if strength == "STRONG" else ["fp", "ip"]


def link_kind(label: str, device_kind: str | None) -> str:
    if label == "Device":
        return f"device_{device_kind or 'fp'}"
    if label == "Address":
        return "address"
    return _KIND_OF_LABEL[label]


_KEY_EXPR = "coalesce(" + ", ".join(
    f"x.{node(label).key}" for label in ("Identity", "PaymentAccount", "Phone", "Email",
                                         "Device", "Address")
) + ")"

# For a seller `s` bound outside: its identifiers (then its addresses), and for each the
# number of sellers holding it and, when it is not a hub, those sellers.
_HOLDERS_DIRECT = """
  MATCH (s)-[r:VERIFIED_AS|PAID_TO|HAS_PHONE|HAS_EMAIL|USED_DEVICE]->(x)
  WHERE NOT x:Device OR x.kind IN $device_kinds
  WITH DISTINCT x, type(r) AS rt
  CALL (x, rt) {
    MATCH (x)<-[r2]-(o:Seller) WHERE type(r2) = rt
    RETURN count(DISTINCT o) AS n
  }
  CALL (x, rt, n) {
    WITH x, rt, n WHERE n <= $hub
    MATCH (x)<-[r2]-(o:Seller) WHERE type(r2) = rt
    RETURN collect(DISTINCT o) AS others
  }
  RETURN labels(x)[0] AS label, """ + _KEY_EXPR + """ AS key, x.kind AS device_kind, rt AS type,
         n, others
"""

_HOLDERS_ADDRESS = """
  MATCH (s)-[:OPERATES]->(:Shop)-[:SHIPS_FROM|RETURNS_TO]->(x:Address)
  WITH DISTINCT x
  CALL (x) {
    MATCH (x)<-[:SHIPS_FROM|RETURNS_TO]-(:Shop)<-[:OPERATES]-(o:Seller)
    RETURN count(DISTINCT o) AS n
  }
  CALL (x, n) {
    WITH x, n WHERE n <= $hub
    MATCH (x)<-[:SHIPS_FROM|RETURNS_TO]-(:Shop)<-[:OPERATES]-(o:Seller)
    RETURN collect(DISTINCT o) AS others
  }
  RETURN 'Address' AS label, x.address_key AS key, null AS device_kind,
         'SHIPS_FROM|RETURNS_TO' AS type, n, others
"""


def _one_hop(holders: str) -> LiteralString:
    """One hop of the walk as its own query: for each frontier seller in $ids, its
    identifiers and, for each, the number of sellers holding it and (when it is not a
    hub) who they are."""
    return cast(LiteralString,
                "UNWIND $ids AS sid WITH DISTINCT sid MATCH (s:Seller {seller_id: sid}) "
                "CALL (s) { " + holders + " } "
                "RETURN sid, label, key, device_kind, type, n, [o IN others | o.seller_id] AS others")


NEIGHBOURS_DIRECT = _one_hop(_HOLDERS_DIRECT)
NEIGHBOURS_ADDRESS = _one_hop(_HOLDERS_ADDRESS)


def _level(weak: bool, carry: str) -> str:
    """One hop inside a query: the rows `NEIGHBOURS_DIRECT` (and `NEIGHBOURS_ADDRESS`)
    give for `frontier`, then the sellers not seen yet as the next frontier (none once
    there are more than $cap of them: the walk then goes on hop by hop)."""
    holders = _HOLDERS_DIRECT + (" UNION ALL " + _HOLDERS_ADDRESS if weak else "")
    return (
        "CALL (frontier) { UNWIND frontier AS s CALL (s) { " + holders + " } "
        "RETURN collect({sid: s.seller_id, label: label, key: key, device_kind: device_kind, "
        "type: type, n: n, others: [o IN others | o.seller_id]}) AS rows, "
        "collect(others) AS groups } "
        "CALL (groups, seen) { UNWIND groups AS g UNWIND g AS o WITH DISTINCT o "
        "WHERE NOT o IN seen RETURN collect(o) AS fresh } "
        f"WITH {carry}levels + CASE WHEN capped THEN [] ELSE [rows] END AS levels, "
        "seen + fresh AS seen, CASE WHEN size(fresh) > $cap THEN [] ELSE fresh END AS frontier, "
        "capped OR size(fresh) > $cap AS capped "
    )


def levels_part(levels: int, strength: Strength, carry: str = "", seeds: str = "seeds") -> str:
    """Cypher going on from a list of Seller nodes `seeds`: `levels` hops of the walk,
    leaving `levels` (each hop's rows), `seen` (every seller found), `frontier` and
    `capped` for what follows. `carry` names more variables to keep (`a, b, `)."""
    text = f"WITH {carry}{seeds} AS frontier, {seeds} AS seen, [] AS levels, false AS capped "
    for _ in range(levels):
        text += _level(strength == "WEAK", carry)
    return text


WALK_RETURN = "RETURN levels, [x IN seen | x.seller_id] AS seen_ids"


def walk_query(levels: int, strength: Strength, tail: str = "", columns: str = "") -> LiteralString:
    """The first query of a walk from the sellers in $ids; `tail` adds subqueries after
    the walk and `columns` what they return (`, name`)."""
    return cast(LiteralString,
                "UNWIND $ids AS sid MATCH (s:Seller {seller_id: sid}) "
                "WITH collect(DISTINCT s) AS seeds " + levels_part(levels, strength)
                + tail + WALK_RETURN + columns)


@dataclass(frozen=True)
class Via:
    kind: str
    label: str
    value: str
    type: str
    weight: float


@dataclass
class Link:
    a: str
    b: str
    via: list[Via] = field(default_factory=list)


@dataclass(frozen=True)
class Hub:
    kind: str
    label: str
    value: str
    sellers: int


@dataclass
class Reach:
    """What a walk found: sellers with their distance and the link that reached them."""

    seed: str
    sellers: dict[str, int] = field(default_factory=dict)
    parent: dict[str, tuple[str, Via]] = field(default_factory=dict)
    links: dict[tuple[str, str], Link] = field(default_factory=dict)
    hubs: dict[tuple[str, str], Hub] = field(default_factory=dict)
    truncated: bool = False


def walk(seeds: Iterable[str], *, strength: Strength = "STRONG",
         hub_threshold: int = HUB_THRESHOLD, max_size: int = MAX_SIZE,
         max_depth: int | None = None, first: dict[str, Any] | None = None) -> Walk:
    """Breadth-first over the link graph from `seeds`; returns a `Reach`. `first` is the
    record of the walk's first query when the caller ran it inside its own query."""
    seeds = sorted(set(seeds))
    reach = Reach(seed=seeds[0] if seeds else "")
    reach.sellers = {s: 0 for s in seeds}
    frontier = list(seeds)
    depth = 0
    params = walk_params(strength, hub_threshold)
    levels = first_levels(max_depth)
    if first is None and frontier and levels:
        first = (yield walk_query(levels, strength), {"ids": frontier, **params})[0]
    for rows in (first or {}).get("levels", []):
        if not frontier:
            break
        wanted = set(frontier)
        depth += 1
        frontier = _expand(reach, [r for r in rows if r["sid"] in wanted], depth, max_size)
    while frontier and (max_depth is None or depth < max_depth):
        rows = []
        for start in range(0, len(frontier), FRONTIER_BATCH):
            ids = frontier[start:start + FRONTIER_BATCH]
            rows += yield NEIGHBOURS_DIRECT, {"ids": ids, **params}
            if strength == "WEAK":
                rows += yield NEIGHBOURS_ADDRESS, {"ids": ids, **params}
        depth += 1
        frontier = _expand(reach, rows, depth, max_size)
    return reach


def walk_params(strength: Strength, hub_threshold: int) -> dict[str, Any]:
    return {"device_kinds": device_kinds(strength), "hub": hub_threshold, "cap": LEVEL_CAP}


def first_levels(max_depth: int | None) -> int:
    return LEVELS if max_depth is None else min(LEVELS, max_depth)


def found_all(reach: Reach, first: dict[str, Any]) -> bool:
    """Whether the sellers the first query saw are exactly the walk's (no truncation,
    nothing found hop by hop afterwards)."""
    return set(first["seen_ids"]) == set(reach.sellers)


def _expand(reach: Reach, rows: list[dict[str, Any]], depth: int, max_size: int) -> list[str]:
    found: list[str] = []
    for row in sorted(rows, key=lambda r: (r["sid"], r["label"], str(r["key"]))):
        kind = link_kind(row["label"], row["device_kind"])
        if row["n"] > 0 and not row["others"]:  # over the threshold: not listed
            reach.hubs[(row["label"], str(row["key"]))] = Hub(
                kind, row["label"], str(row["key"]), row["n"])
            continue
        via = Via(kind, row["label"], str(row["key"]), row["type"], LINK_WEIGHTS[kind])
        for other in sorted(row["others"]):
            if other == row["sid"]:
                continue
            pair = (min(row["sid"], other), max(row["sid"], other))
            link = reach.links.setdefault(pair, Link(*pair))
            if via not in link.via:
                link.via.append(via)
            if other in reach.sellers:
                continue
            if len(reach.sellers) >= max_size:
                reach.truncated = True
                continue
            reach.sellers[other] = depth
            reach.parent[other] = (row["sid"], via)
            found.append(other)
    return found


def links_within(reach: Reach) -> list[Link]:
    """Links whose both ends are in the reach (a truncated walk sees edges further out)."""
    return [lk for lk in reach.links.values() if lk.a in reach.sellers and lk.b in reach.sellers]


# --- whole-graph networks ---------------------------------------------------------------

SHARED_IDENTIFIERS: tuple[tuple[str, LiteralString], ...] = (
    ("identity", "MATCH (x:Identity) WITH x, [(x)<-[:VERIFIED_AS]-(s:Seller) | s.seller_id] AS ids "
                 "WHERE size(ids) > 1 RETURN x.id_hash AS key, ids"),
    ("payment_account", "MATCH (x:PaymentAccount) "
                        "WITH x, [(x)<-[:PAID_TO]-(s:Seller) | s.seller_id] AS ids "
                        "WHERE size(ids) > 1 RETURN x.account AS key, ids"),
    ("phone", "MATCH (x:Phone) WITH x, [(x)<-[:HAS_PHONE]-(s:Seller) | s.seller_id] AS ids "
              "WHERE size(ids) > 1 RETURN x.e164 AS key, ids"),
    ("email", "MATCH (x:Email) WITH x, [(x)<-[:HAS_EMAIL]-(s:Seller) | s.seller_id] AS ids "
              "WHERE size(ids) > 1 RETURN x.email AS key, ids"),
    ("device_fp", "MATCH (x:Device {kind: 'fp'}) "
                  "WITH x, [(x)<-[:USED_DEVICE]-(s:Seller) | s.seller_id] AS ids "
                  "WHERE size(ids) > 1 RETURN x.device AS key, ids"),
)

WEAK_IDENTIFIERS: tuple[tuple[str, LiteralString], ...] = (
    ("device_ip", "MATCH (x:Device {kind: 'ip'}) "
                  "WITH x, [(x)<-[:USED_DEVICE]-(s:Seller) | s.seller_id] AS ids "
                  "WHERE size(ids) > 1 RETURN x.device AS key, ids"),
    ("address", "MATCH (x:Address) WITH x, "
                "[(x)<-[:SHIPS_FROM|RETURNS_TO]-(:Shop)<-[:OPERATES]-(s:Seller) | s.seller_id] AS ids "
                "WHERE size(ids) > 1 RETURN x.address_key AS key, ids"),
)
"""Every STRONG identifier held by two or more sellers, streamed identifier by identifier
(a pattern comprehension per node: no eager aggregation over the whole graph)."""


class UnionFind:
    """Disjoint sets over string ids, with path halving and union by size."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.parent: list[int] = []
        self.size: list[int] = []

    def _id(self, key: str) -> int:
        i = self.index.get(key)
        if i is None:
            i = self.index[key] = len(self.parent)
            self.parent.append(i)
            self.size.append(1)
        return i

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union_all(self, keys: list[str]) -> None:
        root = self.find(self._id(keys[0]))
        for key in keys[1:]:
            other = self.find(self._id(key))
            if other == root:
                continue
            if self.size[other] > self.size[root]:
                root, other = other, root
            self.parent[other] = root
            self.size[root] += self.size[other]

    def components(self) -> Iterator[list[str]]:
        groups: dict[int, list[str]] = {}
        for key, i in self.index.items():
            groups.setdefault(self.find(i), []).append(key)
        for members in groups.values():
            yield sorted(members)


@dataclass
class Components:
    groups: list[list[str]]
    hubs: list[Hub]
    identifiers: int


def compute_networks(driver: neo4j.Driver, database: str, *, strength: Strength = "STRONG",
                     hub_threshold: int = HUB_THRESHOLD) -> Components:
    """Connected components (two or more sellers) of the link graph, hubs excluded."""
    queries = SHARED_IDENTIFIERS + (WEAK_IDENTIFIERS if strength == "WEAK" else ())
    uf = UnionFind()
    hubs: list[Hub] = []
    seen = 0
    for kind, query in queries:
        for record in access.stream(driver, database, query, timeout=ANALYZE_TIMEOUT,
                                    name=f"analyze:shared-{kind}"):
            ids = record["ids"]
            seen += 1
            if len(set(ids)) > hub_threshold:
                hubs.append(Hub(kind, kind, str(record["key"]), len(set(ids))))
                continue
            if len(set(ids)) > 1:
                uf.union_all(ids)
    groups = sorted((g for g in uf.components() if len(g) > 1), key=lambda g: g[0])
    return Components(groups, hubs, seen)


def network_id(members: list[str], strength: str = "STRONG") -> str:
    """Deterministic: the smallest seller id of the network, prefixed by the strength
    (`net:` for STRONG, `net-weak:` for WEAK)."""
    prefix = "net:" if strength == "STRONG" else "net-weak:"
    return f"{prefix}{min(members)}"


def seller_network_walk(seller_id: str, *, strength: Strength = "STRONG",
                        hub_threshold: int = HUB_THRESHOLD, max_size: int = MAX_SIZE) -> Walk:
    """The network of one seller on the fly: walk, then stats and risk of what was found
    (one query unless the network is larger than `max_size` or deeper than `LEVELS`)."""
    check_strength(strength)
    check_positive("hub threshold", hub_threshold)
    check_positive("maxSize", max_size, 5000)
    params = {**walk_params(strength, hub_threshold),
              **risk.stats_params([seller_id], hub=hub_threshold)}
    first = (yield walk_query(LEVELS, strength, STATS_TAIL, ", stats"), params)[0]
    reach: Reach = yield from walk([seller_id], strength=strength, hub_threshold=hub_threshold,
                                   max_size=max_size, first=first)
    ids = sorted(reach.sellers)
    stats = first["stats"] if found_all(reach, first) else \
        (yield risk.STATS, risk.stats_params(ids, hub=hub_threshold))[0]
    if stats["sellers"] == 0:
        raise LookupError(f"no seller with seller_id {seller_id!r}")
    return SellerNetwork(seller_id, strength, reach, links_within(reach), stats,
                         sorted(stats["shop_ids"]), risk.risk_from_stats(stats, len(ids)))


STATS_TAIL = "CALL (seen) { " + risk.stats_map("UNWIND seen AS s") + " } "
"""The stats of every seller the first query of a walk saw, as `stats`."""
@dataclass
class SellerNetwork:
    seller_id: str
    strength: str
    reach: Reach
    links: list[Link]
    stats: dict[str, Any]
    shops: list[str]
    risk: risk.Risk


def seller_network(driver: neo4j.Driver, database: str, seller_id: str, *,
                   timeout: float | None = access.DEFAULT_TIMEOUT, name: str = "sellerNetwork",
                   **options: Any) -> SellerNetwork:
    """`seller_network_walk` with the sync driver, each query a read with `timeout`."""
    result: SellerNetwork = access.steps(driver, database, seller_network_walk(seller_id, **options),
                                         timeout=timeout, name=name)
    return result


async def seller_network_async(driver: neo4j.AsyncDriver, database: str, seller_id: str, *,
                               timeout: float | None = access.DEFAULT_TIMEOUT,
                               name: str = "sellerNetwork", **options: Any) -> SellerNetwork:
    result: SellerNetwork = await access.steps_async(
        driver, database, seller_network_walk(seller_id, **options), timeout=timeout, name=name)
    return result


# --- storing networks ---------------------------------------------------------------------

WRITE_NETWORKS: LiteralString = """
UNWIND $rows AS row
MERGE (n:Network {network_id: row.network_id})
SET n.size = size(row.members), n.strength = $strength, n.computed_at = $stamp
WITH n, row
CALL (n, row) {
  MATCH (x:Seller)-[old:IN_NETWORK]->(n) WHERE NOT x.seller_id IN row.members
  DELETE old
}
CALL (n, row) {
  UNWIND row.members AS sid
  MATCH (s:Seller {seller_id: sid})
  OPTIONAL MATCH (s)-[old:IN_NETWORK]->(m:Network) WHERE m <> n AND m.strength = $strength
  DELETE old
  MERGE (s)-[:IN_NETWORK]->(n)
}
"""

DROP_STALE: LiteralString = """
MATCH (n:Network {strength: $strength})
WHERE n.computed_at <> $stamp AND ($scope IS NULL OR n.network_id IN $scope)
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 1000 ROWS
"""

NETWORK_STATS: LiteralString = """
UNWIND $nids AS nid
MATCH (n:Network {network_id: nid})
CALL (n) {
  MATCH (s:Seller)-[:IN_NETWORK]->(n) RETURN collect(s.seller_id) AS ids
}
RETURN nid, ids
"""

SET_STATS: LiteralString = """
UNWIND $rows AS row
MATCH (n:Network {network_id: row.network_id})
SET n += row.props
"""

BATCH = 2000


def _chunks(items: list[Any], size: int = BATCH) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def store_networks(driver: neo4j.Driver, database: str, groups: list[list[str]], *,
                   stamp: Any, strength: Strength = "STRONG",
                   hub_threshold: int = HUB_THRESHOLD, scope: list[str] | None = None) -> int:
    """Write `groups` as Network nodes with IN_NETWORK, then drop the networks not
    rewritten under `stamp` (all of them, or only those in `scope`), then fill stats."""
    rows = [{"network_id": network_id(g, strength), "members": g} for g in groups]
    for chunk in _chunks(rows, 500):
        _write(driver, database, WRITE_NETWORKS,
               {"rows": chunk, "strength": strength, "stamp": stamp}, "analyze:write-networks")
    access.write_autocommit(driver, database, DROP_STALE,
                            {"stamp": stamp, "scope": scope, "strength": strength},
                            timeout=ANALYZE_TIMEOUT, name="analyze:drop-stale")
    for chunk in _chunks(rows, 200):
        stats = _networks_stats(driver, database, chunk, hub_threshold)
        _write(driver, database, SET_STATS, {"rows": [
            {"network_id": r["network_id"], "props": _network_props(stats[r["network_id"]],
                                                                     len(r["members"]))}
            for r in chunk]}, "analyze:network-stats")
    return len(rows)


def _write(driver: neo4j.Driver, database: str, cypher: LiteralString, params: dict[str, Any],
           name: str) -> None:
    access.write(driver, database, [access.Statement(cypher, params)], timeout=ANALYZE_TIMEOUT,
                 name=name)


NETWORKS_STATS: LiteralString = cast(LiteralString, (
    "UNWIND $rows AS row CALL (row) { "
    + risk.stats_map("UNWIND row.members AS sid MATCH (s:Seller {seller_id: sid})")
    + " } RETURN row.network_id AS network_id, stats"))
"""The stats of many networks in one read."""


def _networks_stats(driver: neo4j.Driver, database: str, rows: list[dict[str, Any]],
                    hub_threshold: int) -> dict[str, dict[str, Any]]:
    params = {**risk.stats_params([], hub=hub_threshold), "rows": rows}
    records = access.read(driver, database, NETWORKS_STATS, params, timeout=ANALYZE_TIMEOUT,
                          name="analyze:networks-stats")
    return {r["network_id"]: r["stats"] for r in records}


def _network_props(stats: dict[str, Any], size: int) -> dict[str, Any]:
    return {
        "shops": stats["shops"], "listings": stats["listings"],
        "upheld_complaints": stats["upheld"], "counterfeit_verdicts": stats["verdicts"],
        "sites": stats["sites"],
        "risk_score": risk.risk_from_stats(stats, size).score,
    }


def analyze_networks(driver: neo4j.Driver, database: str, *, strength: Strength = "STRONG",
                     hub_threshold: int = HUB_THRESHOLD) -> tuple[Components, int]:
    """Whole graph: compute the components and replace every stored network of `strength`."""
    check_strength(strength)
    check_positive("hub threshold", hub_threshold)
    components = compute_networks(driver, database, strength=strength,
                                  hub_threshold=hub_threshold)
    stamp = neo4j.time.DateTime.now(tz=UTC)
    stored = store_networks(driver, database, components.groups, stamp=stamp, strength=strength,
                            hub_threshold=hub_threshold)
    return components, stored


RUN_EXISTS: LiteralString = "MATCH (r:IngestRun {run_id: $id}) RETURN r.run_id"

TOUCHED: LiteralString = """
MATCH (s:Seller)
WHERE s.run_id = $run_id OR EXISTS { (s)-[r]-() WHERE r.run_id = $run_id }
   OR EXISTS { (s)-[:VERIFIED_AS|PAID_TO|HAS_PHONE|HAS_EMAIL|USED_DEVICE]->(x)
               WHERE x.run_id = $run_id }
OPTIONAL MATCH (s)-[:IN_NETWORK]->(n:Network {strength: $strength})
OPTIONAL MATCH (o:Seller)-[:IN_NETWORK]->(n)
RETURN collect(DISTINCT s.seller_id) + collect(DISTINCT o.seller_id) AS ids,
       collect(DISTINCT n.network_id) AS nids
"""


def analyze_incremental(driver: neo4j.Driver, database: str, run_id: str, *,
                        strength: Strength = "STRONG",
                        hub_threshold: int = HUB_THRESHOLD) -> tuple[int, int]:
    """After a load: recompute the networks of the sellers run `run_id` touched (and of
    the members of their old networks, so splits are seen); returns (sellers, networks)."""
    records = access.read(driver, database, RUN_EXISTS, {"id": run_id},
                          timeout=ANALYZE_TIMEOUT, name="analyze:run")
    if not records:
        raise LookupError(f"no IngestRun with run_id {run_id!r}")
    records = access.read(driver, database, TOUCHED, {"run_id": run_id, "strength": strength},
                          timeout=ANALYZE_TIMEOUT, name="analyze:touched")
    ids = sorted(set(records[0]["ids"]))
    old = list(records[0]["nids"])
    # One walk from all touched sellers reaches the whole of their components; the links
    # it saw are every link inside them, so a union-find over them splits the components.
    reach: Reach = access.steps(driver, database, walk(
        ids, strength=strength, hub_threshold=hub_threshold, max_size=10**9),
        timeout=ANALYZE_TIMEOUT, name="analyze:walk")
    uf = UnionFind()
    for link in reach.links.values():
        uf.union_all([link.a, link.b])
    groups = [g for g in uf.components() if len(g) > 1]
    stamp = neo4j.time.DateTime.now(tz=UTC)
    stored = store_networks(driver, database, groups, stamp=stamp, strength=strength,
                            hub_threshold=hub_threshold,
                            scope=old + [network_id(g, strength) for g in groups])
    return len(ids), stored
