"""`network(seedIds, hops, relTypes, limit)`: the neighbourhood of some nodes as a graph.

Breadth-first in one query: each hop expands its whole frontier at once, at most
`EDGES_PER_NODE * limit` rows a hop. Hub nodes (more relationships than `hubDegree`) are
returned and marked but not expanded, so one brand or one popular address does not
swallow the view; seeds are always expanded, since they were asked for. `truncated` says
the answer stopped at `limit`. The result is Cytoscape-ready: nodes and edges with ids,
sources and targets; properties are converted only when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, LiteralString, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types.nodes import SelectedField

from api.context import Context
from api.scope import Kind, visible_any_as
from api.types import NODES_BY_LABEL, caption, node_fields
from api.values import plain
from core.errors import UserError
from graph import access
from graph.model import NODES, REL_BY_TYPE, check_label, check_rel_type, node

MAX_HOPS = 4
MAX_LIMIT = 2000
MAX_SEEDS = 100
HUB_DEGREE = 100
EDGES_PER_NODE = 4
"""Edges kept per node of the limit before the answer counts as truncated."""


def node_properties(root: GraphNode) -> JSON:
    n = NODES_BY_LABEL[root.label]
    return cast(JSON, {p: plain(root.raw[p]) for p in node_fields(n) if root.raw.get(p) is not None})


def edge_properties(root: GraphEdge) -> JSON:
    return cast(JSON, {k: plain(v) for k, v in root.raw.items()})


@strawberry.type(description="A node of a network view.")
class GraphNode:
    id: strawberry.ID
    label: str
    key: str
    caption: str
    properties: JSON = strawberry.field(resolver=node_properties)
    degree: int
    hub: bool = strawberry.field(description="More relationships than hubDegree: not expanded.")
    seed: bool
    raw: strawberry.Private[dict[str, Any]]


@strawberry.type(description="A relationship of a network view.")
class GraphEdge:
    id: strawberry.ID
    type: str
    source: strawberry.ID
    target: strawberry.ID
    properties: JSON = strawberry.field(resolver=edge_properties)
    raw: strawberry.Private[dict[str, Any]]


@strawberry.type(description="Nodes and edges ready for a graph view.")
class Graph:
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    truncated: bool

    @strawberry.field(description="The same graph as Cytoscape.js elements.")
    def elements(self) -> JSON:
        return cast(JSON, [{"group": "nodes", "data": {"id": n.id, "label": n.label, "caption": n.caption,
                                             "hub": n.hub, "seed": n.seed}} for n in self.nodes] + [
            {"group": "edges", "data": {"id": e.id, "type": e.type, "source": e.source,
                                        "target": e.target}} for e in self.edges])


@dataclass
class Walk:
    limit: int
    hub_degree: int
    nodes: dict[str, GraphNode] = field(default_factory=dict)
    edges: dict[str, GraphEdge] = field(default_factory=dict)
    truncated: bool = False

    def add_node(self, eid: str, labels: list[str], props: list[list[Any]], degree: int,
                 *, seed: bool = False) -> bool:
        """Add a node (its properties as `[key, value]` pairs); False when the limit leaves
        no room for it."""
        if eid in self.nodes:
            return True
        if len(self.nodes) >= self.limit:
            self.truncated = True
            return False
        self.nodes[eid] = graph_node(labels, dict(props), degree, self.hub_degree, seed=seed)
        return True

    def add_edge(self, row: Any) -> None:
        if row["rid"] in self.edges:
            return
        if len(self.edges) >= self.limit * EDGES_PER_NODE:
            self.truncated = True
            return
        self.edges[row["rid"]] = GraphEdge(
            id=strawberry.ID(row["rid"]), type=row["type"],
            source=self.nodes[row["start"]].id, target=self.nodes[row["end"]].id,
            raw=dict(row["rprops"]),
        )


def graph_node(labels: list[str], props: dict[str, Any], degree: int, hub_degree: int,
               *, seed: bool) -> GraphNode:
    label = next(label for label in labels if label in NODES_BY_LABEL)
    n = NODES_BY_LABEL[label]
    key = str(props.get(n.key, ""))
    return GraphNode(id=strawberry.ID(f"{label}:{key}"), label=label, key=key,
                     caption=caption(n, props), degree=degree, hub=degree > hub_degree,
                     seed=seed, raw=props)


def seed_keys(seed_ids: list[str]) -> dict[str, list[str]]:
    """`Label:key` ids go to their label; bare keys are tried on every label."""
    keys: dict[str, list[str]] = {}
    for seed in seed_ids:
        label, sep, key = seed.partition(":")
        if sep and label in NODES_BY_LABEL and key:
            keys.setdefault(label, []).append(key)
        else:
            for n in NODES:
                keys.setdefault(n.label, []).append(seed)
    return keys


def check_args(seed_ids: list[str], hops: int, rel_types: list[str] | None, limit: int,
               hub_degree: int) -> list[str]:
    if not seed_ids:
        raise UserError("seedIds: give at least one seed id (`Label:key` or a key)")
    if len(seed_ids) > MAX_SEEDS:
        raise UserError(f"seedIds: {len(seed_ids)} seeds, above the maximum of {MAX_SEEDS}")
    if not 0 <= hops <= MAX_HOPS:
        raise UserError(f"hops is {hops}; it must be between 0 and {MAX_HOPS}")
    if not 1 <= limit <= MAX_LIMIT:
        raise UserError(f"limit is {limit}; it must be between 1 and {MAX_LIMIT}")
    if hub_degree < 1:
        raise UserError(f"hubDegree is {hub_degree}; it must be 1 or more")
    wrong = [t for t in rel_types or [] if t not in REL_BY_TYPE]
    if wrong:
        raise UserError(f"relTypes: unknown relationship type(s) {', '.join(map(repr, wrong))}; "
                        f"known types are {', '.join(REL_BY_TYPE)}")
    return list(dict.fromkeys(rel_types or []))


# --- the query -----------------------------------------------------------------------------

def _temporal_names() -> list[str]:
    names = {p for n in NODES for p, t in node_fields(n).items() if t in ("date", "datetime")}
    names |= {p for r in REL_BY_TYPE.values() for p, t in r.properties.items()
              if t in ("date", "datetime")}
    return sorted(names | {"first_seen_at", "last_seen_at", "observed_on"})


TEMPORAL_NAMES = _temporal_names()


def properties_of(var: str) -> str:
    """The properties of `var` as `[key, value]` pairs, less those named in $skip (the
    dates and times when they are not asked for: the driver is slow to turn them into
    Python values, and keys and captions are never temporal)."""
    return f"[k IN keys({var}) WHERE NOT k IN $skip | [k, {var}[k]]]"


_ROW = ("{src: elementId(n), rid: elementId(r), type: type(r), "
        "start: elementId(startNode(r)), end: elementId(endNode(r)), "
        f"rprops: {properties_of('r')}, eid: elementId(m), labels: labels(m), "
        f"props: {properties_of('m')}, degree: degree}}")


def _seeds_part(labels: tuple[str, ...], who: Kind) -> str:
    """Seed nodes from $keys, a map `label -> [key]` (one index seek per label)."""
    branches = []
    for label in labels:
        k = node(check_label(label)).key
        branches.append(
            f"UNWIND coalesce($keys['{label}'], []) AS k MATCH (n:{label} {{{k}: k}}) RETURN n")
    return (f"CALL () {{ {' UNION '.join(branches)} }} WITH n WHERE {visible_any_as(who, 'n')} "
            "WITH collect(n) AS seeds ")


def _hop_part(i: int, rel_types: tuple[str, ...], who: Kind) -> str:
    """Hop `i`: the neighbours of `frontier` (rows, whether there were more, and the
    non-hub nodes not seen yet, which make the next frontier)."""
    types = "|".join(check_rel_type(t) for t in rel_types)
    rel = f"[r:{types}]" if types else "[r]"
    return (
        "CALL (frontier, seen) { "
        "UNWIND frontier AS n WITH DISTINCT n "
        f"MATCH (n)-{rel}-(m) WHERE {visible_any_as(who, 'm')} "
        "WITH n, r, m LIMIT $rows "
        "WITH n, r, m, COUNT { (m)--() } AS degree "
        f"WITH collect({{row: {_ROW}, m: m, degree: degree}}) AS found "
        "RETURN size(found) >= $rows AS more, [x IN found[..$cap] | x.row] AS rows, "
        "[x IN found[..$cap] WHERE x.degree <= $hub AND NOT x.m IN seen | x.m] AS fresh } "
        f"WITH seeds, hops + [{{more: more, rows: rows}}] AS hops, fresh AS frontier, "
        "seen + fresh AS seen "
    )


@lru_cache(maxsize=256)
def network_query(labels: tuple[str, ...], hops: int, rel_types: tuple[str, ...], who: Kind) -> LiteralString:
    """The whole walk: seeds, then `hops` hops, as one read, for a caller of kind `who`."""
    text = _seeds_part(labels, who) + "WITH seeds, seeds AS frontier, seeds AS seen, [] AS hops "
    for i in range(hops):
        text += _hop_part(i, rel_types, who)
    text += ("RETURN [n IN seeds | {eid: elementId(n), labels: labels(n), "
             f"props: {properties_of('n')}, degree: COUNT {{ (n)--() }}}}] AS seeds, hops")
    return cast(LiteralString, text)


async def walk(ctx: Context, seed_ids: list[str], hops: int, rel_types: list[str], limit: int,
               hub_degree: int, *, full: bool = True) -> Walk:
    """The graph around the seeds; `full=False` leaves out temporal properties."""
    keys = seed_keys(seed_ids)
    cap = limit * EDGES_PER_NODE
    query = network_query(tuple(sorted(keys)), hops, tuple(rel_types), ctx.kind)
    records = await access.read_async(ctx.driver, ctx.database, query,
                                      {"keys": keys, "rows": cap + 1, "cap": cap, "hub": hub_degree,
                             "skip": [] if full else TEMPORAL_NAMES, **ctx.scope},
                                      timeout=ctx.timeout, name="network")
    result = Walk(limit=limit, hub_degree=hub_degree)
    for r in records[0]["seeds"]:
        result.add_node(r["eid"], r["labels"], r["props"], r["degree"], seed=True)
    for hop in records[0]["hops"]:
        result.truncated = result.truncated or hop["more"]
        expand(result, hop["rows"])
    return result


def expand(result: Walk, rows: list[Any]) -> None:
    """Add a hop's rows (those from a node that did not fit are skipped)."""
    for row in rows:
        if row["src"] not in result.nodes:
            continue
        if not any(label in NODES_BY_LABEL for label in row["labels"]):
            continue  # a node outside the model (none of its labels declared) is not shown
        if result.add_node(row["eid"], row["labels"], row["props"], row["degree"]):
            result.add_edge(row)


def asks_for(selections: list[Any], name: str) -> bool:
    """Whether a field called `name` is selected anywhere below (fragments included)."""
    for sel in selections:
        if getattr(sel, "name", None) == name and isinstance(sel, SelectedField):
            return True
        if asks_for(sel.selections, name):
            return True
    return False


@strawberry.type
class NetworkQuery:
    @strawberry.field(description="The neighbourhood of the seeds, up to `hops` relationships "
                                  "away (at most 4) and `limit` nodes (at most 2000).")
    async def network(
        self, info: strawberry.Info, seed_ids: list[strawberry.ID], hops: int = 2,
        rel_types: list[str] | None = None, limit: int = 200, hub_degree: int = HUB_DEGREE,
    ) -> Graph:
        return await network_graph(info.context, [str(s) for s in seed_ids], hops, rel_types,
                                   limit, hub_degree,
                                   full=asks_for(info.selected_fields, "properties"))


async def network_graph(ctx: Context, seed_ids: list[str], hops: int, rel_types: list[str] | None,
                        limit: int, hub_degree: int, *, full: bool) -> Graph:
    """What `network` answers; UserError for arguments out of bounds."""
    types = check_args(seed_ids, hops, rel_types, limit, hub_degree)
    result = await walk(ctx, seed_ids, hops, types, limit, hub_degree, full=full)
    return Graph(nodes=list(result.nodes.values()), edges=list(result.edges.values()),
                 truncated=result.truncated)
