"""The bulk load's folding and CSV cells (pure): what the online MERGE statements would
leave, written as the importer reads it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from loaders.bulk_csv import (
    ARRAY_DELIMITER,
    bucket_of,
    cell,
    fold_nodes,
    fold_rels,
    items,
    node_columns,
    rel_columns,
    write_bucket,
)
from loaders.mapping import NodeOp, Ops, RelOp


def test_last_value_that_is_not_null_wins_and_raw_phones_gather() -> None:
    nodes = fold_nodes([
        [("Seller", "S1", {"nickname": "a", "status": "active"}),
         ("Phone", "+861", {"region": "CN", "raw_form": "138 1"})],
        [("Seller", "S1", {"nickname": "b", "status": None}),
         ("Phone", "+861", {"region": "CN", "raw_form": "1381"}),
         ("Phone", "+861", {"region": "CN", "raw_form": "138 1"})],
    ])
    assert nodes[("Seller", "S1")] == {"nickname": "b", "status": "active"}
    assert nodes[("Phone", "+861")] == {"region": "CN", "raw_forms": ["138 1", "1381"]}


def test_an_address_keeps_its_first_mention() -> None:
    nodes = fold_nodes([[("Address", "k", {})],
                        [("Address", "k", {"raw": "first", "city": "A"})],
                        [("Address", "k", {"raw": "second", "city": "B"})]])
    assert nodes[("Address", "k")] == {"raw": "first", "city": "A"}


def test_relationships_merge_on_type_and_ends() -> None:
    rels = fold_rels([[("HAS_PHONE", "Seller", "S1", "Phone", "+861", {"observed_on": None}),
                       ("HAS_PHONE", "Seller", "S1", "Phone", "+861",
                        {"observed_on": date(2024, 1, 2)}),
                       ("HAS_PHONE", "Seller", "S2", "Phone", "+861", {})]])
    assert rels == {("HAS_PHONE", "Seller", "S1", "Phone", "+861"): {"observed_on": date(2024, 1, 2)},
                    ("HAS_PHONE", "Seller", "S2", "Phone", "+861"): {}}


def test_an_end_no_row_describes_becomes_a_bare_node() -> None:
    ops = Ops([NodeOp("Shop", "H1", {"name": "x"})],
              [RelOp("OPERATES", ("Seller", "S9"), ("Shop", "H1"))])
    nodes, rels = items(ops)
    assert nodes == [("Shop", "H1", {"name": "x"}), ("Seller", "S9", {})]
    assert rels == [("OPERATES", "Seller", "S9", "Shop", "H1", {})]


def test_cells_quote_text_and_type_the_rest() -> None:
    assert cell(None, "string") == ""
    assert cell('say "hi", then', "string") == '"say ""hi"", then"'
    assert cell(["a;b", "c"], "list") == f'"a;b{ARRAY_DELIMITER}c"'
    assert cell(True, "bool") == "true"
    assert cell(12.5, "float") == "12.5"
    assert cell(3, "int") == "3"
    assert cell(date(2024, 1, 2), "date") == "2024-01-02"
    assert cell(datetime(2024, 1, 2, 3, 4, tzinfo=UTC), "datetime") == \
        "2024-01-02T03:04:00+00:00"


def test_headers_name_the_id_spaces_and_types() -> None:
    seller = node_columns("Seller").header.split(",")
    assert seller[0] == "seller_id:ID(Seller)"
    assert "registered_on:date" in seller and "observed_on:date" in seller
    assert "first_seen_at:datetime" in seller
    against = rel_columns("AGAINST", "Complaint", "Shop").header.split(",")
    assert against[:2] == [":START_ID(Complaint)", ":END_ID(Shop)"]


def test_buckets_are_stable_across_processes() -> None:
    assert bucket_of("Seller", "S1", buckets=64) == bucket_of("Seller", "S1", buckets=64)
    assert len({bucket_of("Seller", f"S{i}", buckets=8) for i in range(200)}) == 8


def test_a_value_with_a_line_break_marks_its_file(tmp_path: Path) -> None:
    stamp = {"source": "s", "run_id": "r"}
    written = write_bucket(tmp_path, 0, {("Seller", "S1"): {"nickname": "two\nlines"},
                                         ("Brand", "B1"): {"name": "one"}}, {}, stamp)
    assert written.multiline == [tmp_path / "nodes-Seller.0.csv"]
    assert written.node_count == 2
    line = (tmp_path / "nodes-Brand.0.csv").read_text(encoding="utf-8")
    assert line.startswith('"B1",') and '"s","r"' in line
