"""What an export holds: the nodes and relationships of a network, a lead or a set of keys
that its reader may see.

`graph/` knows no caller: whoever runs a walk gives the reader's rule as a `Visibility`
(`api/exports.py` gives `api.scope`'s rule of the caller), and every node found is
checked with it, one query per label, before it is used, as the dossier does.

- a stored network: the `Network` node and its member sellers;
- a lead: the lead, its subjects, evidence, cases, brands and agencies;
- keys (a saved query's result): the nodes whose keys are given, nothing around them.

A network or a lead is then widened from the nodes the reader may see: the shops of its
sellers and the sellers of its shops, then one hop from those and from its persons,
sites, listings, purchases, complaints, cases and the lead itself, along the
relationships of `EXPORT_RELS` (never out of a brand, agency, network, address or
identifier, so a hub does not pull in the rest of the graph). A node is reached only
through nodes the reader may see, and kept only if the reader may see it. The
relationships between the nodes kept are read, and for every two sellers kept the
identifiers they share (`SHARED`; an identifier held by more than `HUB` sellers is a hub
and links no one, as in `graph.seller_networks`), with the identifier's key only when
the reader may see the identifier. At most `MAX_NODES` nodes are kept (`truncated` says
when more were found). Each walk is written once as steps (`graph.access.steps` /
`steps_async`); a network or lead the reader may not see gives None, as one that does
not exist.
"""

from __future__ import annotations

from collections.abc import Callable
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

IDENTIFIER_RELS = tuple(check_rel_type(r) for r in
                        ("VERIFIED_AS", "PAID_TO", "HAS_PHONE", "HAS_EMAIL", "USED_DEVICE"))
"""How a seller holds an identifier that links it to the sellers holding the same."""

_KEY = "coalesce(" + ", ".join(f"x.{node(lb).key}" for lb in
                               ("Identity", "PaymentAccount", "Phone", "Email", "Device")) + ")"

KEY_OF: dict[str, str] = {label: node(label).key for label in EXPORT_LABELS}
"""Each label's key property, for queries that read nodes of any label (`$key_of`)."""
_REF = "{id: elementId(%s), label: labels(%s)[0], key: toString(%s[$key_of[labels(%s)[0]]])}"

NETWORK_SEEDS: LiteralString = cast(LiteralString, """
MATCH (n:Network {network_id: $id})
RETURN """ + _REF % ("n", "n", "n", "n") + """ AS root,
  [(s:Seller)-[:IN_NETWORK]->(n) | """ + _REF % ("s", "s", "s", "s") + """] AS seeds
""")

LEAD_SEEDS: LiteralString = cast(LiteralString, """
MATCH (l:Lead {lead_id: $id})
RETURN """ + _REF % ("l", "l", "l", "l") + """ AS root,
  [(l)-[:CONCERNS|EVIDENCED_BY|BECAME|ON_BEHALF_OF|PUSHED_TO]->(x) | """ + _REF % ("x", "x", "x", "x")
    + """] AS seeds
""")

CORE: LiteralString = cast(LiteralString, """
UNWIND $ids AS id MATCH (s) WHERE elementId(s) = id
CALL (s) {
  MATCH (s:Seller)-[:OPERATES]->(c:Shop) RETURN c
  UNION
  MATCH (s:Shop)<-[:OPERATES]-(c:Seller) RETURN c
}
WITH DISTINCT c RETURN """ + _REF % ("c", "c", "c", "c") + """ AS ref
""")

HOP: LiteralString = cast(LiteralString, """
UNWIND $ids AS id MATCH (c) WHERE elementId(c) = id AND labels(c)[0] IN $expand
MATCH (c)-[r]-(x) WHERE type(r) IN $types AND labels(x)[0] IN $labels
WITH DISTINCT x LIMIT $cap RETURN """ + _REF % ("x", "x", "x", "x") + """ AS ref
""")

NODES: LiteralString = """
UNWIND $ids AS id MATCH (n) WHERE elementId(n) = id AND labels(n)[0] IN $labels
RETURN id, labels(n)[0] AS label, properties(n) AS props
"""


@lru_cache(maxsize=64)
def keyed_query(label: str) -> LiteralString:
    """The element ids of the nodes of `label` whose keys are in `$keys`."""
    nt = node(label)
    return cast(LiteralString, f"UNWIND $keys AS k MATCH (n:{nt.label} {{{nt.key}: k}}) "
                               "RETURN elementId(n) AS id, k AS key")

EDGES: LiteralString = """
UNWIND $ids AS id MATCH (a) WHERE elementId(a) = id
MATCH (a)-[r]->(b) WHERE type(r) IN $types AND elementId(b) IN $ids
RETURN type(r) AS type, labels(a)[0] AS a_label, elementId(a) AS a, labels(b)[0] AS b_label,
       elementId(b) AS b, properties(r) AS props
"""

SHARED: LiteralString = cast(LiteralString, """
UNWIND $sellers AS sid
MATCH (a:Seller {seller_id: sid})-[r1:""" + "|".join(IDENTIFIER_RELS) + """]->(x)
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


@dataclass(frozen=True)
class Visibility:
    """The reader's rule, given by whoever runs the walk (`graph/` knows no caller):
    `query(label)` is a query taking `$keys` (and `params`) that returns, as `key`, those
    of the nodes of `label` the reader may see; None when it sees none of that label."""
    query: Callable[[str], LiteralString | None]
    params: dict[str, Any]
    sees_all: bool = False
    """True when the reader sees every node of every label an export holds: nothing to ask."""


Refs = dict[str, tuple[str, str]]
"""Nodes by element id, as (label, key)."""


def _refs(rows: list[dict[str, Any]]) -> Refs:
    return {r["id"]: (r["label"], r["key"]) for r in rows
            if r is not None and r["key"] is not None and r["label"] in EXPORT_LABELS}


def seen(rule: Visibility, refs: Refs) -> access.Steps:
    """The element ids of `refs` the reader may see: one query per label."""
    if rule.sees_all:
        return set(refs)
    by_label: dict[str, set[str]] = {}
    for label, key in refs.values():
        by_label.setdefault(label, set()).add(key)
    visible: set[tuple[str, str]] = set()
    for label, keys in sorted(by_label.items()):
        query = rule.query(label)
        if query is None:
            continue
        rows = yield query, {"keys": sorted(keys), **rule.params}
        visible.update((label, str(r["key"])) for r in rows)
    return {i for i, ref in refs.items() if ref in visible}


def _gather(name: str, ids: list[str], truncated: bool, rule: Visibility) -> access.Steps:
    """Nodes, relationships and shared identifiers of the nodes `ids` (element ids, every
    one visible to the reader); an identifier's key only when the reader sees it."""
    rows = yield NODES, {"ids": ids, "labels": list(EXPORT_LABELS)}
    refs: Refs = {}
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
        keys = {str(i): (r["label"], str(r["key"])) for i, r in enumerate(shared_rows)
                if r["key"] is not None}
        shown = yield from seen(rule, keys)
        selection.shared = list(dict.fromkeys(
            Shared(r["a"], r["b"], link_kind(r["label"], r["device_kind"]), r["label"],
                   str(r["key"]) if str(i) in shown else None) for i, r in enumerate(shared_rows)))
    selection.items.sort(key=lambda i: i.ref)
    selection.links.sort(key=lambda lk: (lk.type, lk.source, lk.target))
    return selection


def _widened(name: str, root: dict[str, Any], seeds: list[dict[str, Any]], rule: Visibility
             ) -> access.Steps:
    """From the seeds the reader may see: the shops of their sellers and the sellers of
    their shops, then one hop; each step only from nodes the reader may see, so no node
    is reached through one the reader may not see. None when the reader may not see the
    root."""
    found = _refs([root, *seeds])
    visible: set[str] = yield from seen(rule, found)
    if root["id"] not in visible:
        return None
    core_rows = yield CORE, {"ids": sorted(visible), "key_of": KEY_OF}
    core = {i: r for i, r in _refs([x["ref"] for x in core_rows]).items() if i not in found}
    visible |= yield from seen(rule, core)
    hop_rows = yield HOP, {"ids": sorted(visible), "expand": list(EXPAND_FROM), "types": list(EXPORT_RELS),
                           "labels": list(EXPORT_LABELS), "cap": MAX_NODES + 1, "key_of": KEY_OF}
    hop = {i: r for i, r in _refs([x["ref"] for x in hop_rows]).items() if i not in visible}
    more = yield from seen(rule, hop)
    ids = [*sorted(visible), *sorted(more)]
    truncated = len(ids) > MAX_NODES or len(hop_rows) > MAX_NODES
    return (yield from _gather(name, ids[:MAX_NODES], truncated, rule))


def network_walk(network_id: str, rule: Visibility) -> access.Steps:
    """What the reader may see of a stored network; None when there is no such network
    or the reader may not see it."""
    rows = yield NETWORK_SEEDS, {"id": network_id, "key_of": KEY_OF}
    if not rows:
        return None
    return (yield from _widened(f"network-{network_id}", rows[0]["root"], rows[0]["seeds"], rule))


def lead_walk(lead_id: str, rule: Visibility) -> access.Steps:
    """What the reader may see of a lead; None when there is no such lead or the reader
    may not see it."""
    rows = yield LEAD_SEEDS, {"id": lead_id, "key_of": KEY_OF}
    if not rows:
        return None
    return (yield from _widened(f"lead-{lead_id}", rows[0]["root"], rows[0]["seeds"], rule))


def keys_walk(name: str, refs: list[tuple[str, str]], rule: Visibility) -> access.Steps:
    """The nodes with the given (label, key) refs that the reader may see, and the
    relationships between them (a saved query's result)."""
    by_label: dict[str, set[str]] = {}
    for label, key in refs:
        if label in EXPORT_LABELS:
            by_label.setdefault(label, set()).add(key)
    found: Refs = {}
    for label, keys in sorted(by_label.items()):
        rows = yield keyed_query(label), {"keys": sorted(keys)}
        found.update((r["id"], (label, str(r["key"]))) for r in rows)
    visible = sorted((yield from seen(rule, found)))
    return (yield from _gather(name, visible[:MAX_NODES], len(visible) > MAX_NODES, rule))
