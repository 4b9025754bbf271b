"""Parsed and validated query documents, kept for the next request with the same text.

Clients repeat their queries, so the parse tree and the validation result of a short
query are kept, in a least-recently-used cache with three bounds: at most `MAX_ENTRIES`
documents, at most `MAX_TOKENS` tokens in all (a parse tree takes a few hundred bytes
per token, so about 20 MB at worst), and only queries of at most `MAX_QUERY_CHARS`
characters. Longer queries are parsed and validated each time, so no query text, however
large or however often varied, makes the cache hold more.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

MAX_ENTRIES = 512
MAX_TOKENS = 50_000
MAX_QUERY_CHARS = 8_000


@dataclass
class Entry:
    document: DocumentNode
    tokens: int
    errors: dict[tuple[int, tuple[type[ASTValidationRule], ...]], list[GraphQLError]] = field(
        default_factory=dict)
    """Validation errors per schema and rules (one pair in practice)."""


class DocumentCache:
    """A bounded LRU of parsed documents and their validation errors, by query text."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_tokens: int = MAX_TOKENS,
                 max_query_chars: int = MAX_QUERY_CHARS) -> None:
        self.max_entries = max_entries
        self.max_tokens = max_tokens
        self.max_query_chars = max_query_chars
        self.entries: OrderedDict[tuple[str, Any], Entry] = OrderedDict()
        self.tokens = 0

    def __len__(self) -> int:
        return len(self.entries)

    def clear(self) -> None:
        self.entries.clear()
        self.tokens = 0

    def parse(self, query: str, options: dict[str, Any]) -> tuple[DocumentNode, Entry | None]:
        """The document of `query` (GraphQLError when it does not parse) and its cache
        entry, None when the query is too long to keep."""
        if len(query) > self.max_query_chars:
            return parse(query, **options), None
        key = (query, tuple(sorted(options.items())))
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
            return entry.document, entry
        document = parse(query, **options)
        entry = Entry(document, count_tokens(document))
        self.entries[key] = entry
        self.tokens += entry.tokens
        while self.entries and (len(self.entries) > self.max_entries or self.tokens > self.max_tokens):
            _, dropped = self.entries.popitem(last=False)
            self.tokens -= dropped.tokens
        return document, entry


def count_tokens(document: DocumentNode) -> int:
    """The lexer tokens a parsed document keeps (its location links them all)."""
    count = 0
    token = document.loc.start_token if document.loc else None
    while token is not None:
        count += 1
        token = token.next
    return count


CACHE = DocumentCache()


class CachedDocuments(SchemaExtension):
    """Parsing and validation through `CACHE`. A query that does not parse is left to
    strawberry, which parses it again and reports the syntax error as usual."""

    entry: Entry | None = None

    def on_parse(self) -> Iterator[None]:
        ec = self.execution_context
        if ec.query:
            try:
                ec.graphql_document, self.entry = CACHE.parse(ec.query, dict(ec.parse_options))
            except GraphQLError:
                ec.graphql_document, self.entry = None, None
        yield

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        document = ec.graphql_document
        if document is not None and ec.validation_rules:
            schema: GraphQLSchema = ec.schema._schema  # noqa: SLF001
            key = (id(schema), ec.validation_rules)
            errors = self.entry.errors.get(key) if self.entry is not None else None
            if errors is None:
                errors = validate_document(schema, document, ec.validation_rules)
                if self.entry is not None:
                    self.entry.errors[key] = errors
            ec.pre_execution_errors = list(errors)
        yield
