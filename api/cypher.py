"""The Cypher the API runs: a few builders over labels and types from `graph.model`.

User values are always `$parameters`; labels, keys and relationship types come from
the model only (`check_label`, `check_rel_type`), and visibility rules from
`api.scope`.
"""

from __future__ import annotations

from typing import LiteralString, cast

from api.scope import visible, visible_any
from graph.model import NODES, check_label, check_rel_type, node


def _cypher(text: str) -> LiteralString:
    """Mark text built only from model names and constants as query text."""
    return cast(LiteralString, text)


def nodes_by_key(label: str) -> LiteralString:
    n = node(check_label(label))
    return _cypher(
        f"UNWIND $keys AS k MATCH (n:{n.label} {{{n.key}: k}}) WHERE {visible(n.label, 'n')} "
        "RETURN k AS key, properties(n) AS props"
    )


def pattern(rel_type: str, outgoing: bool, other: str) -> str:
    t, o = check_rel_type(rel_type), check_label(other)
    return f"(n)-[r:{t}]->(m:{o})" if outgoing else f"(n)<-[r:{t}]-(m:{o})"


def connection_page(label: str, rel_type: str, outgoing: bool, other: str) -> LiteralString:
    """For each key in $keys: the total and one page ($skip, $first) of neighbours."""
    n, m = node(check_label(label)), node(check_label(other))
    match = f"MATCH {pattern(rel_type, outgoing, other)} WHERE {visible(m.label, 'm')}"
    return _cypher(
        f"UNWIND $keys AS k MATCH (n:{n.label} {{{n.key}: k}}) "
        f"CALL (n) {{ {match} RETURN count(*) AS total }} "
        f"CALL (n) {{ {match} WITH r, m ORDER BY m.{m.key} SKIP $skip LIMIT $first "
        "RETURN collect({props: properties(m), rel: properties(r)}) AS page } "
        "RETURN k AS key, total, page"
    )


_NO_TEMPORALS = ", ".join(sorted({f"{p}: null" for n in NODES for p, t in n.properties.items()
                                  if t in ("date", "datetime")} | {"first_seen_at: null",
                                                                   "last_seen_at: null"}))
"""Map projection overrides leaving out dates and times (a hit shows its key and caption
only), which the driver is slow to turn into Python values."""


def search(indexes: tuple[str, ...]) -> LiteralString:
    """Full-text hits over the given indexes, filtered by label and visibility."""
    branches = " UNION ALL ".join(
        f"CALL db.index.fulltext.queryNodes('{name}', $text) YIELD node, score RETURN node, score"
        for name in indexes
    )
    return _cypher(
        f"CALL () {{ {branches} }} "
        "WITH node, score WHERE (size($labels) = 0 OR any(l IN labels(node) WHERE l IN $labels)) "
        f"AND {visible_any('node')} "
        "WITH node, score ORDER BY score DESC LIMIT $first "
        f"RETURN labels(node) AS labels, node {{.*, {_NO_TEMPORALS}}} AS props, score"
    )


def network_seeds(labels: list[str]) -> LiteralString:
    """Seed nodes from $keys, a map `label -> [key]` (one index seek per label)."""
    branches = []
    for label in labels:
        k = node(check_label(label)).key
        branches.append(
            f"UNWIND coalesce($keys['{label}'], []) AS k MATCH (n:{label} {{{k}: k}}) RETURN n"
        )
    return _cypher(
        f"CALL () {{ {' UNION '.join(branches)} }} WITH n WHERE {visible_any('n')} "
        "RETURN elementId(n) AS eid, labels(n) AS labels, properties(n) AS props, "
        "COUNT { (n)--() } AS degree"
    )


def network_hop(rel_types: list[str]) -> LiteralString:
    """Neighbours of the nodes in $frontier (element ids), at most $rows rows."""
    types = "|".join(check_rel_type(t) for t in rel_types)
    rel = f"[r:{types}]" if types else "[r]"
    return _cypher(
        "UNWIND $frontier AS eid MATCH (n) WHERE elementId(n) = eid "
        f"MATCH (n)-{rel}-(m) WHERE {visible_any('m')} "
        "WITH n, r, m LIMIT $rows "
        "RETURN elementId(n) AS src, elementId(r) AS rid, type(r) AS type, "
        "elementId(startNode(r)) AS start, elementId(endNode(r)) AS end, properties(r) AS rprops, "
        "elementId(m) AS eid, labels(m) AS labels, properties(m) AS props, COUNT { (m)--() } AS degree"
    )
