"""Constraints and indexes derived from the model, applied idempotently.

Every label gets a uniqueness constraint on its key; properties the model marks
`indexed` get a range index; the `fulltext` properties go into two full-text indexes
with the CJK analyzer, which splits Chinese into bigrams and Latin text into words.
Statements go through `graph.access`, each in its own write transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import LiteralString, cast

from neo4j import Driver

from graph import access
from graph.model import NODES, NodeType

FULLTEXT_ANALYZER = "cjk"
FULLTEXT_NAMES = "fulltext_names"
FULLTEXT_ADDRESSES = "fulltext_addresses"
ADDRESS_LABELS = ("Address",)
AWAIT_SECONDS = 300
"""How long `apply` waits for new indexes to come online."""
SCHEMA_TIMEOUT = AWAIT_SECONDS + 30.0
"""Seconds a schema statement may run (waiting for the indexes the longest)."""


@dataclass(frozen=True)
class SchemaItem:
    kind: str  # constraint | index | fulltext
    name: str
    statement: str


def constraint_name(node: NodeType) -> str:
    return f"{node.label.lower()}_{node.key}_unique"


def constraints(nodes: tuple[NodeType, ...] = NODES) -> list[SchemaItem]:
    return [
        SchemaItem(
            "constraint",
            constraint_name(n),
            f"CREATE CONSTRAINT {constraint_name(n)} IF NOT EXISTS "
            f"FOR (n:{n.label}) REQUIRE n.{n.key} IS UNIQUE",
        )
        for n in nodes
    ]


def range_indexes(nodes: tuple[NodeType, ...] = NODES) -> list[SchemaItem]:
    items = []
    for n in nodes:
        for prop in n.indexed:
            name = f"{n.label.lower()}_{prop}"
            items.append(SchemaItem(
                "index", name, f"CREATE INDEX {name} IF NOT EXISTS FOR (n:{n.label}) ON (n.{prop})"
            ))
    return items


def _fulltext(name: str, nodes: list[NodeType]) -> SchemaItem:
    labels = "|".join(n.label for n in nodes)
    props = sorted({p for n in nodes for p in n.fulltext})
    fields = ", ".join(f"n.{p}" for p in props)
    return SchemaItem(
        "fulltext",
        name,
        f"CREATE FULLTEXT INDEX {name} IF NOT EXISTS FOR (n:{labels}) ON EACH [{fields}] "
        f"OPTIONS {{indexConfig: {{`fulltext.analyzer`: '{FULLTEXT_ANALYZER}', "
        "`fulltext.eventually_consistent`: false}}",
    )


def fulltext_indexes(nodes: tuple[NodeType, ...] = NODES) -> list[SchemaItem]:
    searchable = [n for n in nodes if n.fulltext]
    names = [n for n in searchable if n.label not in ADDRESS_LABELS]
    addresses = [n for n in searchable if n.label in ADDRESS_LABELS]
    return [_fulltext(FULLTEXT_NAMES, names), _fulltext(FULLTEXT_ADDRESSES, addresses)]


def planned() -> list[SchemaItem]:
    return [*constraints(), *range_indexes(), *fulltext_indexes()]


def existing_names(driver: Driver, database: str) -> set[str]:
    names: set[str] = set()
    for query in ("SHOW CONSTRAINTS YIELD name", "SHOW INDEXES YIELD name"):
        records = access.read(driver, database, query, timeout=SCHEMA_TIMEOUT, name="schema:show")
        names.update(r["name"] for r in records)
    return names


def apply(driver: Driver, database: str) -> list[SchemaItem]:
    """Create what is missing; returns the items that were created now."""
    have = existing_names(driver, database)
    created = []
    for item in planned():
        if item.name in have:
            continue
        _write(driver, database, cast(LiteralString, item.statement), "schema:create")
        created.append(item)
    _write(driver, database, "CALL db.awaitIndexes($seconds)", "schema:await",
           {"seconds": AWAIT_SECONDS})
    return created


def _write(driver: Driver, database: str, cypher: LiteralString, name: str,
           params: dict[str, int] | None = None) -> None:
    access.write(driver, database, [access.Statement(cypher, params or {})],
                 timeout=SCHEMA_TIMEOUT, name=name)


def show(driver: Driver, database: str) -> list[tuple[SchemaItem, bool]]:
    """Every planned item with whether the database has it."""
    have = existing_names(driver, database)
    return [(item, item.name in have) for item in planned()]
