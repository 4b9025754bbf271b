"""Scoring probable matches in parts: the blocked pairs split by a hash of their first
seller give the same pairs, probabilities and reasons as one piece (no Neo4j)."""

from __future__ import annotations

from typing import Any

import pytest

from graph import match_model
from tests.test_matching import RING, SZ, Row, honest_rows

SHARED: list[Row] = [
    ("d1", "邓祥兰", "科技路9号", SZ, "+8613600000001", "dxl@qq.com", []),
    ("d2", "邓祥兰", "科技路9号", SZ, "+8613600000001", "dengxianglan@163.com", []),
]
"""Two accounts with one phone: seller networks link them, so scoring leaves them out."""


def _row(sid: str, name: str, street: str, place: tuple[str, str, str | None, str], phone: str,
         email: str, holders: list[str]) -> dict[str, Any]:
    province, city, district, adcode = place
    return {"id": sid, "name": name, "address": province + city + (district or "") + street,
            "adcode": adcode, "province": province, "city": city, "district": district,
            "phones": [phone], "emails": [email], "holders": holders,
            "ids": [f"account:alipay:{sid}", f"phone:{phone}", f"email:{email}"]}


@pytest.fixture(scope="module")
def table() -> Any:
    return match_model.records(iter([_row(*r) for r in RING + SHARED + honest_rows(600, seed=11)]))


def test_scoring_in_parts_gives_the_same_pairs_probabilities_and_reasons(table: Any) -> None:
    whole = match_model.train_and_score(table, threshold=0.9, confirmed=[], parts=1)
    split = match_model.train_and_score(table, threshold=0.9, confirmed=[], parts=3)
    assert split.pairs == whole.pairs and split.run_id == whole.run_id
    pairs = {(p["a"], p["b"]): p for p in whole.pairs}
    ring = {(a, b) for a in ("r1", "r2", "r3", "r4") for b in ("r1", "r2", "r3", "r4") if a < b}
    assert ring <= set(pairs), sorted(pairs)
    assert "name pinyin equal" in pairs[("r1", "r3")]["reasons"]
    assert ("d1", "d2") not in pairs  # they share an identifier: seller networks link them
    assert [(p["a"], p["b"]) for p in whole.pairs] == sorted(pairs)


def test_the_scoring_reads_only_the_compared_columns(table: Any) -> None:
    compared = match_model.compared_columns(table.column_names)
    assert compared[0] == "id" and {"name_key", "name_text", "street", "holders"} <= set(compared)
    assert not {"ids", "emails", "phone_block", *match_model.BLOCKS} & set(compared)
