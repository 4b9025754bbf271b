"""`network(seedIds, hops, relTypes, limit)`: the neighbourhood of some nodes as a graph.

Breadth-first, one query per hop for the whole frontier. Hub nodes (more relationships
than `hubDegree`) are returned and marked but not expanded, so one brand or one popular
address does not swallow the view; seeds are always expanded, since they were asked
for. `truncated` says the answer stopped at `limit`. The result is Cytoscape-ready:
nodes and edges with ids, sources and targets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from api import cypher, db
from api.context import Context
from api.errors import UserError
from api.types import NODES_BY_LABEL, caption, node_fields, plain
from graph.model import NODES, REL_BY_TYPE

MAX_HOPS = 4
MAX_LIMIT = 2000
MAX_SEEDS = 100
HUB_DEGREE = 100
EDGES_PER_NODE = 4
"""Edges kept per node of the limit before the answer counts as truncated."""


@strawberry.type(description="A node of a network view.")
class GraphNode:
    id: strawberry.ID
    label: str
    key: str
    caption: str
    properties: JSON
    degree: int
    hub: bool = strawberry.field(description="More relationships than hubDegree: not expanded.")
    seed: bool


@strawberry.type(description="A relationship of a network view.")
class GraphEdge:
    id: strawberry.ID
    type: str
    source: strawberry.ID
    target: strawberry.ID
    properties: JSON


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

    def add_node(self, eid: str, labels: list[str], props: dict[str, Any], degree: int,
                 *, seed: bool = False) -> bool:
        """Add a node; False when the limit leaves no room for it."""
        if eid in self.nodes:
            return True
        if len(self.nodes) >= self.limit:
            self.truncated = True
            return False
        self.nodes[eid] = graph_node(labels, props, degree, self.hub_degree, seed=seed)
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
            properties=cast(JSON, {k: plain(v) for k, v in (row["rprops"] or {}).items()}),
        )


def graph_node(labels: list[str], props: dict[str, Any], degree: int, hub_degree: int,
               *, seed: bool) -> GraphNode:
    label = next(label for label in labels if label in NODES_BY_LABEL)
    n = NODES_BY_LABEL[label]
    key = str(props.get(n.key, ""))
    shown = {p: plain(props[p]) for p in node_fields(n) if props.get(p) is not None}
    return GraphNode(id=strawberry.ID(f"{label}:{key}"), label=label, key=key,
                     caption=caption(n, props), properties=cast(JSON, shown), degree=degree,
                     hub=degree > hub_degree, seed=seed)


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


async def walk(ctx: Context, seed_ids: list[str], hops: int, rel_types: list[str], limit: int,
               hub_degree: int) -> Walk:
    keys = seed_keys(seed_ids)
    seeds = await db.read(ctx.driver, ctx.database, cypher.network_seeds(sorted(keys)),
                          {"keys": keys, **ctx.scope}, timeout=ctx.timeout, name="network:seeds")
    result = Walk(limit=limit, hub_degree=hub_degree)
    frontier = [r["eid"] for r in seeds
                if result.add_node(r["eid"], r["labels"], r["props"], r["degree"], seed=True)]
    query = cypher.network_hop(rel_types)
    for _ in range(hops):
        if not frontier:
            break
        rows_cap = limit * EDGES_PER_NODE
        rows = await db.read(ctx.driver, ctx.database, query,
                             {"frontier": frontier, "rows": rows_cap + 1, **ctx.scope},
                             timeout=ctx.timeout, name="network:hop")
        if len(rows) > rows_cap:
            result.truncated = True
            rows = rows[:rows_cap]
        frontier = expand(result, rows)
    return result


def expand(result: Walk, rows: list[Any]) -> list[str]:
    """Add a hop's rows; returns the new nodes to expand next (hubs excluded)."""
    new: list[str] = []
    for row in rows:
        if not any(label in NODES_BY_LABEL for label in row["labels"]):
            continue  # a node outside the model (none of its labels declared) is not shown
        known = row["eid"] in result.nodes
        if not result.add_node(row["eid"], row["labels"], row["props"], row["degree"]):
            continue
        result.add_edge(row)
        if not known and not result.nodes[row["eid"]].hub:
            new.append(row["eid"])
    return new


@strawberry.type
class NetworkQuery:
    @strawberry.field(description="The neighbourhood of the seeds, up to `hops` relationships "
                                  "away (at most 4) and `limit` nodes (at most 2000).")
    async def network(
        self, info: strawberry.Info, seed_ids: list[strawberry.ID], hops: int = 2,
        rel_types: list[str] | None = None, limit: int = 200, hub_degree: int = HUB_DEGREE,
    ) -> Graph:
        ctx: Context = info.context
        types = check_args([str(s) for s in seed_ids], hops, rel_types, limit, hub_degree)
        result = await walk(ctx, [str(s) for s in seed_ids], hops, types, limit, hub_degree)
        return Graph(nodes=list(result.nodes.values()), edges=list(result.edges.values()),
                     truncated=result.truncated)
