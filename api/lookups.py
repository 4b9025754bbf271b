"""The API's generic lookups: nodes of any label by key, and full-text search.

User values are always `$parameters`; labels and keys come from the model only
(`graph.model.check_label`), and visibility rules from `api.scope`. The connection
pages of the generated types are built next to their DataLoaders, in `api.types`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import LiteralString, cast

from api.scope import Kind, visible_any_as, visible_as
from graph.model import NODES, check_label, node


def _cypher(text: str) -> LiteralString:
    """Mark text built only from model names and constants as query text."""
    return cast(LiteralString, text)


@lru_cache(maxsize=256)
def nodes_by_key(label: str, who: Kind) -> LiteralString:
    """For each key in $keys that names a node of `label` a caller of kind `who` may see:
    its properties."""
    n = node(check_label(label))
    return _cypher(
        f"UNWIND $keys AS k MATCH (n:{n.label} {{{n.key}: k}}) WHERE {visible_as(who, n.label, 'n')} "
        "RETURN k AS key, properties(n) AS props"
    )


_NO_TEMPORALS = ", ".join(sorted({f"{p}: null" for n in NODES for p, t in n.properties.items()
                                  if t in ("date", "datetime")} | {"first_seen_at: null",
                                                                   "last_seen_at: null"}))
"""Map projection overrides leaving out dates and times (a hit shows its key and caption
only), which the driver is slow to turn into Python values."""


@lru_cache(maxsize=256)
def search(indexes: tuple[str, ...], who: Kind) -> LiteralString:
    """Full-text hits over the given indexes, filtered by label and by what a caller of
    kind `who` may see."""
    branches = " UNION ALL ".join(
        f"CALL db.index.fulltext.queryNodes('{name}', $text) YIELD node, score RETURN node, score"
        for name in indexes
    )
    return _cypher(
        f"CALL () {{ {branches} }} "
        "WITH node, score WHERE (size($labels) = 0 OR any(l IN labels(node) WHERE l IN $labels)) "
        f"AND {visible_any_as(who, 'node')} "
        "WITH node, score ORDER BY score DESC LIMIT $first "
        f"RETURN labels(node) AS labels, node {{.*, {_NO_TEMPORALS}}} AS props, score"
    )
