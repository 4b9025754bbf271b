"""`alliance schema apply` on a real Neo4j: constraints, indexes and full-text search."""

from __future__ import annotations

import pytest
from neo4j import Driver
from neo4j.exceptions import ConstraintError

from graph import schema
from graph.model import NODES

CONTRACT_LABELS = {n.label: n.key for n in NODES if n.contract}


def test_contract_has_twenty_labels() -> None:
    assert len(CONTRACT_LABELS) == 20


def test_apply_is_idempotent_and_gives_one_unique_constraint_per_label(
    clean_db: Driver, database: str
) -> None:
    assert schema.apply(clean_db, database) == []
    records, _, _ = clean_db.execute_query(
        "SHOW CONSTRAINTS YIELD type, labelsOrTypes, properties "
        "WHERE type = 'UNIQUENESS' RETURN labelsOrTypes[0] AS label, properties AS props",
        database_=database,
    )
    unique = {r["label"]: r["props"] for r in records}
    for label, key in CONTRACT_LABELS.items():
        assert unique.get(label) == [key], label
    assert all(present for _, present in schema.show(clean_db, database))


def test_keys_are_unique(clean_db: Driver, database: str) -> None:
    clean_db.execute_query("CREATE (:Seller {seller_id: 'S1'})", database_=database)
    with pytest.raises(ConstraintError):
        clean_db.execute_query("CREATE (:Seller {seller_id: 'S1'})", database_=database)


def test_fulltext_finds_chinese_and_latin_text(clean_db: Driver, database: str) -> None:
    clean_db.execute_query(
        "CREATE (:Address {address_key: 'a1', raw: '福建省莆田市城厢区工业路88号'}), "
        "(:Address {address_key: 'a2', raw: '广东省广州市白云区机场路1号'}), "
        "(:Brand {brand_id: 'b1', name: 'PeakStride'}), "
        "(:Shop {shop_id: 'sh1', name: '莆田运动鞋工厂店'})",
        database_=database,
    )

    def hits(index: str, text: str) -> list[str]:
        records, _, _ = clean_db.execute_query(
            "CALL db.index.fulltext.queryNodes($index, $text) YIELD node "
            "RETURN coalesce(node.address_key, node.brand_id, node.shop_id) AS key",
            index=index, text=text, database_=database,
        )
        return [r["key"] for r in records]

    assert hits(schema.FULLTEXT_ADDRESSES, "莆田 工业路")[0] == "a1"
    assert hits(schema.FULLTEXT_NAMES, "peakstride") == ["b1"]
    assert hits(schema.FULLTEXT_NAMES, "运动鞋") == ["sh1"]
