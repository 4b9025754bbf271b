"""`search(text, labels, first)`: full-text search over names, titles and addresses.

Uses the two full-text indexes of `graph.schema` (CJK analyzer: Chinese as bigrams,
Latin as words). Every word of the user's text must occur (as a phrase, so `工业路`
matches those three characters in a row); the text is quoted for Lucene, so it is
searched as words, never read as query syntax.
"""

from __future__ import annotations

import re

import strawberry

from api import lookups
from api.context import Context
from api.errors import UserError
from api.types import NODES_BY_LABEL, caption, check_first
from graph import access
from graph.model import NODES
from graph.schema import ADDRESS_LABELS, FULLTEXT_ADDRESSES, FULLTEXT_NAMES

MAX_TEXT = 200
SEARCHABLE = tuple(n.label for n in NODES if n.fulltext)
_PHRASE_SPECIAL = re.compile(r'(["\\])')


def lucene_text(text: str) -> str:
    """User text as a Lucene query: each word a required phrase, quotes escaped."""
    words = [_PHRASE_SPECIAL.sub(r"\\\1", word) for word in text.split()]
    return " ".join(f'+"{word}"' for word in words)


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


@strawberry.type(description="One full-text match.")
class SearchHit:
    id: strawberry.ID
    label: str
    key: str
    display_name: str
    score: float


@strawberry.type
class SearchQuery:
    @strawberry.field(description="Full-text search over names, titles and addresses "
                                  "(Chinese and Latin), best matches first.")
    async def search(self, info: strawberry.Info, text: str, labels: list[str] | None = None,
                     first: int = 20) -> list[SearchHit]:
        ctx: Context = info.context
        query = lucene_text(text[:MAX_TEXT])
        if not query:
            raise UserError("text: give at least one word to search for")
        chosen = check_labels(labels)
        records = await access.read_async(
            ctx.driver, ctx.database, lookups.search(indexes_for(chosen), ctx.kind),
            {"text": query, "labels": chosen, "first": check_first(first), **ctx.scope},
            timeout=ctx.timeout, name="search",
        )
        return [hit(r["labels"], r["props"], r["score"]) for r in records]


def hit(labels: list[str], props: dict[str, object], score: float) -> SearchHit:
    label = next(label for label in labels if label in NODES_BY_LABEL)
    n = NODES_BY_LABEL[label]
    key = str(props.get(n.key, ""))
    return SearchHit(id=strawberry.ID(f"{label}:{key}"), label=label, key=key,
                     display_name=caption(n, dict(props)), score=float(score))
