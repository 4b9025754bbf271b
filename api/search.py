"""`search(text, labels, first)`: full-text search over names, titles and addresses,
ranked.

Uses the two full-text indexes of `graph.schema` (CJK analyzer: Chinese as bigrams,
Latin as words). Every word of the user's text must occur (as a phrase, so `工业路`
matches those three characters in a row); the text is quoted for Lucene, so it is
searched as words, never read as query syntax.

Hits are ranked in tiers, each worth one point of `score` (`RANK`):
- 3: a name of the node (its caption properties that are searched: a brand's name, a
  seller's nickname, a site's label) is the text itself (case and spacing aside);
- 2: a name holds every word of the text; closer is better: the share of the name the
  text covers (`加工点` ranks `X鞋加工点` above `XX区运动鞋加工点`);
- 1: only another field mentions it (an address, a brand's owner, a case's charge).
Within a tier, Lucene's score, then how connected the node is, break ties. Every part
below the tier adds less than one point, so no tie-breaker lifts a hit into a higher tier.

For a caller who sees everything, searching every label, only the best hits of each
index by Lucene's score are ranked (`CANDIDATES`), so a common word costs no more than a
rare one.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import LiteralString, cast

import strawberry

from api.context import Context
from api.lookups import _NO_TEMPORALS
from api.scope import Kind, visible_any_as
from api.types import NODES_BY_LABEL, caption, check_first
from core.errors import UserError
from graph import access
from graph.model import NODES, NodeType
from graph.schema import ADDRESS_LABELS, FULLTEXT_ADDRESSES, FULLTEXT_NAMES

MAX_TEXT = 200
SEARCHABLE = tuple(n.label for n in NODES if n.fulltext)
_PHRASE_SPECIAL = re.compile(r'(["\\])')
CLOSENESS = 0.6
"""Weight of how much of a name the text covers (1 for an exact name)."""
LUCENE = 0.3
"""Weight of Lucene's own score, squashed into [0, 1)."""
CONNECTED = 0.09
"""Weight of the node's degree, squashed into [0, 1): the last tie-breaker."""
CANDIDATES = 200
CANDIDATES_PER_HIT = 10
"""A search by a caller who sees everything ranks the best max(200, 10 x first) hits of
each index by Lucene's score, not every hit: a common word (运动鞋, a city) matches tens
of thousands of nodes, and ranking them all costs time in proportion. An exact or
close name is short, which Lucene scores high, so it is among them."""


def lucene_text(text: str) -> str:
    """User text as a Lucene query: each word a required phrase, quotes escaped."""
    words = [_PHRASE_SPECIAL.sub(r"\\\1", word) for word in text.split()]
    return " ".join(f'+"{word}"' for word in words)


def plain_words(text: str) -> list[str]:
    """The words of the text as names are compared with them (lower case)."""
    return [word.lower() for word in text.split()]


def check_labels(labels: list[str] | None) -> list[str]:
    chosen = list(dict.fromkeys(labels or []))
    wrong = [label for label in chosen if label not in SEARCHABLE]
    if wrong:
        raise UserError(f"labels: {', '.join(map(repr, wrong))} cannot be searched; "
                        f"searchable labels are {', '.join(SEARCHABLE)}")
    return chosen


def indexes_for(labels: list[str]) -> tuple[str, ...]:
    if not labels:
        return (FULLTEXT_NAMES, FULLTEXT_ADDRESSES)
    wanted = []
    if any(label not in ADDRESS_LABELS for label in labels):
        wanted.append(FULLTEXT_NAMES)
    if any(label in ADDRESS_LABELS for label in labels):
        wanted.append(FULLTEXT_ADDRESSES)
    return tuple(wanted)


def name_props(n: NodeType) -> tuple[str, ...]:
    """The properties that name a node of type `n` for ranking: its searched caption
    properties (none for an address, which only ever mentions the text)."""
    if n.label in ADDRESS_LABELS:
        return ()
    return tuple(p for p in n.caption if p in n.fulltext)


def _names_case(var: str) -> str:
    branches = " ".join(
        f"WHEN {var}:{n.label} THEN [{', '.join(f'{var}.{p}' for p in props)}]"
        for n in NODES if n.fulltext and (props := name_props(n)))
    return f"CASE {branches} ELSE [] END"


@lru_cache(maxsize=64)
def ranked(indexes: tuple[str, ...], who: Kind, bounded: bool = False) -> LiteralString:
    """Full-text hits over the given indexes, filtered by label and by what a caller of
    kind `who` may see, ranked (see the module's docstring). Parameters: `$text` (the
    Lucene query), `$exact` (the words joined by one space), `$words`, `$labels`,
    `$first`, the weights and the caller's scope (`search_params`); `bounded` ranks only
    the `$candidates` best hits of each index by Lucene's score."""
    limit = ", {limit: $candidates}" if bounded else ""
    branches = " UNION ALL ".join(
        f"CALL db.index.fulltext.queryNodes('{name}', $text{limit}) YIELD node, score "
        "RETURN node, score" for name in indexes
    )
    return cast(LiteralString, (
        f"CALL () {{ {branches} }} "
        "WITH node, score WHERE (size($labels) = 0 OR any(l IN labels(node) WHERE l IN $labels)) "
        f"AND {visible_any_as(who, 'node')} "
        f"WITH node, score, [v IN {_names_case('node')} WHERE v IS NOT NULL "
        "| toLower(trim(toString(v)))] AS names "
        "WITH node, score, $exact IN names AS exact, "
        "[v IN names WHERE all(w IN $words WHERE v CONTAINS w) | CASE WHEN size(v) > size($exact) "
        "THEN toFloat(size($exact)) / size(v) ELSE 0.99 END] "
        "AS covers, COUNT { (node)--() } AS degree "
        "WITH node, CASE WHEN exact THEN 3.0 + $closeness "
        "WHEN size(covers) > 0 THEN 2.0 + $closeness * reduce(m = 0.0, c IN covers | "
        "CASE WHEN c > m THEN c ELSE m END) ELSE 1.0 END "
        "+ $lucene * score / (score + 1.0) + $connected * degree / (degree + 5.0) AS rank "
        "ORDER BY rank DESC LIMIT $first "
        f"RETURN labels(node) AS labels, node {{.*, {_NO_TEMPORALS}}} AS props, rank AS score"
    ))


@strawberry.type(description="One full-text match.")
class SearchHit:
    id: strawberry.ID
    label: str
    key: str
    display_name: str
    score: float = strawberry.field(description=(
        "Relevance: 3 to 4 when a name is the text itself, 2 to 3 when a name holds every "
        "word (more when the text covers more of the name), 1 to 2 when only another "
        "field (an address, an owner) mentions it."))


def is_bounded(who: Kind, labels: list[str]) -> bool:
    """Whether only each index's best candidates are ranked: for callers who see
    everything, over every label. A caller with a narrower view, or a search for some
    labels, ranks every hit (the best hits of an index may be none it may see)."""
    return who == "all" and not labels


def search_params(text: str, labels: list[str], first: int) -> dict[str, object]:
    """The parameters of `ranked` for the user's text (without the caller's scope)."""
    query = lucene_text(text[:MAX_TEXT])
    if not query:
        raise UserError("text: give at least one word to search for")
    words = plain_words(text[:MAX_TEXT])
    return {"text": query, "exact": " ".join(words), "words": words, "labels": labels,
            "first": check_first(first), "closeness": CLOSENESS, "lucene": LUCENE,
            "connected": CONNECTED, "candidates": max(CANDIDATES, CANDIDATES_PER_HIT * first)}


@strawberry.type
class SearchQuery:
    @strawberry.field(description="Full-text search over names, titles and addresses "
                                  "(Chinese and Latin), best matches first: a name that is "
                                  "the text, then names that hold it, then mentions.")
    async def search(self, info: strawberry.Info, text: str, labels: list[str] | None = None,
                     first: int = 20) -> list[SearchHit]:
        return await search_hits(info.context, text, labels, first)


async def search_hits(ctx: Context, text: str, labels: list[str] | None, first: int
                      ) -> list[SearchHit]:
    """What `search` answers; UserError for a text or labels it cannot search."""
    chosen = check_labels(labels)
    params = search_params(text, chosen, first)
    bounded = is_bounded(ctx.kind, chosen)
    records = await access.read_async(
        ctx.driver, ctx.database, ranked(indexes_for(chosen), ctx.kind, bounded),
        {**params, **ctx.scope}, timeout=ctx.timeout, name="search",
    )
    return [hit(r["labels"], r["props"], r["score"]) for r in records]


def hit(labels: list[str], props: dict[str, object], score: float) -> SearchHit:
    label = next(label for label in labels if label in NODES_BY_LABEL)
    n = NODES_BY_LABEL[label]
    key = str(props.get(n.key, ""))
    return SearchHit(id=strawberry.ID(f"{label}:{key}"), label=label, key=key,
                     display_name=caption(n, dict(props)), score=float(score))
