"""Constraints and indexes derived from the model, applied idempotently.

Every label gets a uniqueness constraint on its key; properties the model marks
`indexed` get a range index; the `fulltext` properties go into two full-text indexes
with the CJK analyzer, which splits Chinese into bigrams and Latin text into words.
"""

from __future__ import annotations

from dataclasses import dataclass

from neo4j import Driver, RoutingControl

from graph.model import NODES, NodeType

FULLTEXT_ANALYZER = "cjk"
FULLTEXT_NAMES = "fulltext_names"
FULLTEXT_ADDRESSES = "fulltext_addresses"
ADDRESS_LABELS = ("Address",)


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
        records, _, _ = driver.execute_query(
            query, database_=database, routing_=RoutingControl.READ
        )
        names.update(r["name"] for r in records)
    return names


def apply(driver: Driver, database: str) -> list[SchemaItem]:
    """Create what is missing; returns the items that were created now."""
    have = existing_names(driver, database)
    created = []
    for item in planned():
        if item.name in have:
            continue
        driver.execute_query(item.statement, database_=database)
        created.append(item)
    driver.execute_query("CALL db.awaitIndexes(300)", database_=database)
    return created


def show(driver: Driver, database: str) -> list[tuple[SchemaItem, bool]]:
    """Every planned item with whether the database has it."""
    have = existing_names(driver, database)
    return [(item, item.name in have) for item in planned()]
