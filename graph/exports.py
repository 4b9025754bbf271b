"""What an export holds: the nodes and relationships of a network, a lead or a set of keys.

A selection is gathered as it is in the graph, with no visibility rule (`graph/` knows
no caller): the API module that serves it (`api/exports.py`) keeps only the nodes the
caller may see, with the caller's own rule of `api/scope.py`, before anything is written.

- a stored network: the `Network` node and its member sellers;
- a lead: the lead, its subjects, evidence, cases, brands and agencies;
- keys (a saved query's result): the nodes whose keys are given, nothing around them.

A network or a lead is then widened: the shops of its sellers and the sellers of its
shops, then one hop from those and from its persons, sites, listings, purchases,
complaints, cases and the lead itself, along the relationships of `EXPORT_RELS` (never
out of a brand, agency, network, address or identifier, so a hub does not pull in the
rest of the graph). The relationships between the nodes found are read, and for every
two sellers found the identifiers they share (`shared_query`; an identifier held by
more than `HUB` sellers is a hub and links no one, as in `graph.seller_networks`).
At most `MAX_NODES` nodes are kept (`truncated` says when more were found).
The computation is written once as steps (`graph.access.steps` / `steps_async`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, LiteralString, cast

from graph import access
from graph.model import NODE_BY_LABEL, REL_BY_TYPE, check_label, check_rel_type, node
from graph.seller_networks import HUB_THRESHOLD, link_kind

MAX_NODES = 20_000
HUB = HUB_THRESHOLD

EXPORT_LABELS: tuple[str, ...] = tuple(check_label(x) for x in (
    "Brand", "Seller", "Shop", "Listing", "Identity", "Person", "Phone", "Email", "PaymentAccount",
    "Device", "Address", "Site", "Shipment", "TestPurchase", "Complaint", "Agency", "Lead", "Case",
    "Network"))
"""Labels an export may hold (divisions, events, runs, audit, screenings and alerts never)."""

EXPAND_FROM: tuple[str, ...] = ("Seller", "Shop", "Person", "Site", "Listing", "TestPurchase",
                                "Complaint", "Case", "Lead")
"""Labels whose nodes a network or lead export is widened from, by one hop."""

EXPORT_RELS: tuple[str, ...] = tuple(check_rel_type(r.type) for r in REL_BY_TYPE.values()
                                     if set(r.sources) <= set(EXPORT_LABELS)
                                     and set(r.targets) & set(EXPORT_LABELS))

IDENTIFIER_RELS = ("VERIFIED_AS", "PAID_TO", "HAS_PHONE", "HAS_EMAIL", "USED_DEVICE")
"""How a seller holds an identifier that links it to the sellers holding the same."""

_KEY = "coalesce(" + ", ".join(f"x.{node(lb).key}" for lb in
                               ("Identity", "PaymentAccount", "Phone", "Email", "Device")) + ")"

NETWORK_SEEDS: LiteralString = """
MATCH (n:Network {network_id: $id})
RETURN elementId(n) AS root, [(s:Seller)-[:IN_NETWORK]->(n) | elementId(s)] AS seeds
"""

LEAD_SEEDS: LiteralString = """
MATCH (l:Lead {lead_id: $id})
RETURN elementId(l) AS root,
  [(l)-[:CONCERNS|EVIDENCED_BY|BECAME|ON_BEHALF_OF|PUSHED_TO]->(x) | elementId(x)] AS seeds
"""

CORE: LiteralString = """
UNWIND $ids AS id MATCH (s) WHERE elementId(s) = id
CALL (s) {
  RETURN s AS c
  UNION
  MATCH (s:Seller)-[:OPERATES]->(c:Shop) RETURN c
  UNION
  MATCH (s:Shop)<-[:OPERATES]-(c:Seller) RETURN c
}
RETURN DISTINCT elementId(c) AS id
"""

HOP: LiteralString = """
UNWIND $ids AS id MATCH (c) WHERE elementId(c) = id AND labels(c)[0] IN $expand
MATCH (c)-[r]-(x) WHERE type(r) IN $types AND labels(x)[0] IN $labels
RETURN DISTINCT elementId(x) AS id LIMIT $cap
"""

NODES: LiteralString = """
UNWIND $ids AS id MATCH (n) WHERE elementId(n) = id AND labels(n)[0] IN $labels
RETURN id, labels(n)[0] AS label, properties(n) AS props
"""



@lru_cache(maxsize=64)
def keyed_query(label: str) -> LiteralString:
    """The element ids of the nodes of `label` whose keys are in `$keys`."""
    nt = node(label)
    return cast(LiteralString, f"UNWIND $keys AS k MATCH (n:{nt.label} {{{nt.key}: k}}) "
                               "RETURN elementId(n) AS id")

EDGES: LiteralString = """
UNWIND $ids AS id MATCH (a) WHERE elementId(a) = id
MATCH (a)-[r]->(b) WHERE type(r) IN $types AND elementId(b) IN $ids
RETURN type(r) AS type, labels(a)[0] AS a_label, elementId(a) AS a, labels(b)[0] AS b_label,
       elementId(b) AS b, properties(r) AS props
"""

SHARED: LiteralString = cast(LiteralString, """
UNWIND $sellers AS sid
MATCH (a:Seller {seller_id: sid})-[r1:VERIFIED_AS|PAID_TO|HAS_PHONE|HAS_EMAIL|USED_DEVICE]->(x)
WHERE COUNT { (x)<-[]-(:Seller) } <= $hub
MATCH (x)<-[r2]-(b:Seller) WHERE type(r2) = type(r1) AND b.seller_id IN $sellers
  AND a.seller_id < b.seller_id
RETURN DISTINCT a.seller_id AS a, b.seller_id AS b, labels(x)[0] AS label, """ + _KEY + """ AS key,
       x.kind AS device_kind
ORDER BY a, b, label, key
""")


@dataclass(frozen=True)
class Item:
    """A node: its label, key and the properties the model declares for it."""
    label: str
    key: str
    props: dict[str, Any]

    @property
    def ref(self) -> tuple[str, str]:
        return (self.label, self.key)


@dataclass(frozen=True)
class Link:
    """A relationship between two nodes of the selection, by their refs."""
    type: str
    source: tuple[str, str]
    target: tuple[str, str]
    props: dict[str, Any]


@dataclass(frozen=True)
class Shared:
    """Two sellers that hold the same identifier: its kind (`phone`, `identity`, ...),
    label and key (None when the reader may not see the identifier itself)."""
    a: str
    b: str
    kind: str
    label: str
    key: str | None


@dataclass
class Selection:
    name: str
    items: list[Item] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    shared: list[Shared] = field(default_factory=list)
    truncated: bool = False


def item(label: str, props: dict[str, Any]) -> Item | None:
    """The node as exported: only the model's properties, its key as text."""
    nt = NODE_BY_LABEL.get(label)
    if nt is None or props.get(nt.key) is None:
        return None
    kept = {p: props[p] for p in nt.properties if props.get(p) is not None}
    return Item(label, str(props[nt.key]), kept)


def _link(row: dict[str, Any], refs: dict[str, tuple[str, str]]) -> Link | None:
    a, b = refs.get(row["a"]), refs.get(row["b"])
    if a is None or b is None:
        return None
    declared = REL_BY_TYPE[row["type"]].properties
    props = {p: row["props"][p] for p in declared if row["props"].get(p) is not None}
    return Link(row["type"], a, b, props)


def _gather(name: str, ids: list[str], truncated: bool) -> access.Steps:
    """Nodes, relationships and shared identifiers of the nodes `ids` (element ids)."""
    rows = yield NODES, {"ids": ids, "labels": list(EXPORT_LABELS)}
    refs: dict[str, tuple[str, str]] = {}
    selection = Selection(name, truncated=truncated)
    for row in rows:
        found = item(row["label"], row["props"])
        if found is not None:
            refs[row["id"]] = found.ref
            selection.items.append(found)
    edge_rows = yield EDGES, {"ids": sorted(refs), "types": list(EXPORT_RELS)}
    selection.links = [lk for r in edge_rows if (lk := _link(r, refs)) is not None]
    sellers = sorted(key for label, key in refs.values() if label == "Seller")
    if len(sellers) > 1:
        shared_rows = yield SHARED, {"sellers": sellers, "hub": HUB}
        selection.shared = [Shared(r["a"], r["b"], link_kind(r["label"], r["device_kind"]),
                                   r["label"], None if r["key"] is None else str(r["key"]))
                            for r in shared_rows]
    selection.items.sort(key=lambda i: i.ref)
    selection.links.sort(key=lambda lk: (lk.type, lk.source, lk.target))
    return selection


def _widened(name: str, seeds: list[str]) -> access.Steps:
    core_rows = yield CORE, {"ids": seeds}
    core = sorted({r["id"] for r in core_rows} | set(seeds))
    hop_rows = yield HOP, {"ids": core, "expand": list(EXPAND_FROM), "types": list(EXPORT_RELS),
                           "labels": list(EXPORT_LABELS), "cap": MAX_NODES + 1}
    ids = list(dict.fromkeys([*core, *sorted(r["id"] for r in hop_rows)]))
    truncated = len(ids) > MAX_NODES
    return (yield from _gather(name, ids[:MAX_NODES], truncated))


def network_walk(network_id: str) -> access.Steps:
    """The selection of a stored network; None when there is no such network."""
    rows = yield NETWORK_SEEDS, {"id": network_id}
    if not rows:
        return None
    return (yield from _widened(f"network-{network_id}", [rows[0]["root"], *rows[0]["seeds"]]))


def lead_walk(lead_id: str) -> access.Steps:
    """The selection of a lead; None when there is no such lead."""
    rows = yield LEAD_SEEDS, {"id": lead_id}
    if not rows:
        return None
    return (yield from _widened(f"lead-{lead_id}", [rows[0]["root"], *rows[0]["seeds"]]))


def keys_walk(name: str, refs: list[tuple[str, str]]) -> access.Steps:
    """The selection of the nodes with the given (label, key) refs and the relationships
    between them (a saved query's result)."""
    by_label: dict[str, set[str]] = {}
    for label, key in refs:
        if label in EXPORT_LABELS:
            by_label.setdefault(label, set()).add(key)
    ids: set[str] = set()
    for label, keys in sorted(by_label.items()):
        rows = yield keyed_query(label), {"keys": sorted(keys)}
        ids.update(r["id"] for r in rows)
    ordered = sorted(ids)
    return (yield from _gather(name, ordered[:MAX_NODES], len(ordered) > MAX_NODES))
