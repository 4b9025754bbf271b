"""The GraphQL schema: one Query per domain, merged here, with the limits.

Add a domain by putting its Query class into `DOMAIN_QUERIES` (and its Mutation class into
`DOMAIN_MUTATIONS`). Then run
`python -m api.schema` to refresh the committed SDL in `api/schema.graphql`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.tools import merge_types

from api.alerts import AlertsMutation, AlertsQuery
from api.cost import CostLimit
from api.documents import CachedDocuments
from api.entities import EntitiesQuery
from api.errors import ErrorShaping
from api.investigation import InvestigationQuery
from api.leads import LeadsMutation, LeadsQuery
from api.matching import MatchingMutation
from api.neighbourhood import NetworkQuery
from api.saved_queries import SavedQueriesQuery
from api.screening import ScreeningMutation
from api.search import SearchQuery

MAX_DEPTH = 10
MAX_TOKENS = 2000
MAX_ALIASES = 30
SDL_PATH = Path(__file__).with_name("schema.graphql")
LIMIT_RULES = [*QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
               *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules]
"""The depth and alias rules, made once: the document cache (`api.documents`) keeps
validation results by rules, so rules made anew for each request would never hit."""

DOMAIN_QUERIES: list[type] = [
    EntitiesQuery, SearchQuery, NetworkQuery, SavedQueriesQuery, InvestigationQuery, LeadsQuery,
    AlertsQuery,
]
DOMAIN_MUTATIONS: list[type] = [LeadsMutation, MatchingMutation, ScreeningMutation, AlertsMutation]


def build_schema() -> strawberry.Schema:
    query = merge_types("Query", tuple(DOMAIN_QUERIES))
    mutation = merge_types("Mutation", tuple(DOMAIN_MUTATIONS))
    return strawberry.Schema(
        query=query,
        mutation=mutation,
        extensions=[
            lambda: AddValidationRules(LIMIT_RULES),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            ErrorShaping,
            CachedDocuments,
            CostLimit,
        ],
    )


schema = build_schema()


def sdl() -> str:
    return schema.as_str() + "\n"


def main(argv: list[str]) -> int:
    """`python -m api.schema [--check]`: write the SDL, or check it has not drifted."""
    if "--check" in argv:
        if not SDL_PATH.exists() or SDL_PATH.read_text(encoding="utf-8") != sdl():
            print(f"{SDL_PATH} is out of date; run `python -m api.schema`.", file=sys.stderr)
            return 1
        return 0
    SDL_PATH.write_text(sdl(), encoding="utf-8")
    print(f"wrote {SDL_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
