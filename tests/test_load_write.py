"""Grouping a batch's operations into statements (no database)."""

from loaders.mapping import Ops
from loaders.write import Batch


def _seller(key: str, phone_raw: str) -> Ops:
    ops = Ops()
    ops.node("Seller", key, {"platform": "x"})
    ops.node("Phone", "+8613800138000", {"region": "CN", "raw_form": phone_raw})
    ops.rel("HAS_PHONE", ("Seller", key), ("Phone", "+8613800138000"))
    ops.node("Division", "440000", {"name": "广东省", "level": "province"})
    ops.rel("OPERATES", ("Seller", key), ("Shop", "SH1"))
    return ops


def test_main_nodes_carry_their_relationships() -> None:
    batch = Batch(written=set())
    batch.add([_seller("S1", "138 0013 8000"), _seller("S2", "+86 138 0013 8000")])
    statements = batch.statements()
    star = next((q, p) for q, p in statements if "MERGE (n:`Seller`" in q)
    assert "MERGE (m:`Phone`" in star[0] and "MERGE (m:`Shop`" in star[0]
    s1 = star[1]["rows"][0]
    assert s1["key"] == "S1" and s1["platform"] == "x"
    phone = next(v for k, v in s1.items() if isinstance(v, list) and "node" in v[0])
    assert phone == [{"key": "+8613800138000", "node": {"region": "CN",
                                                        "raws": ["138 0013 8000"]}}]
    divisions = next(p for q, p in statements if "MERGE (n:`Division`" in q)
    assert divisions["rows"] == [{"key": "440000", "name": "广东省", "level": "province"}]
    assert not any("keys" in p for _, p in statements)  # every end is merged in the batch


def test_divisions_written_once_per_run() -> None:
    batch = Batch(written={("Division", "440000")})
    batch.add([_seller("S1", "138 0013 8000")])
    assert all("Division" not in query for query, _ in batch.statements())
