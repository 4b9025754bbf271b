"""The bulk load's folding and CSV cells (pure): what the online MERGE statements would
leave, written as the importer reads it."""

from __future__ import annotations

import gzip
import zlib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from loaders.bulk_csv import (
    ARRAY_DELIMITER,
    Split,
    bucket_of,
    cell,
    fold_nodes,
    fold_rels,
    items,
    node_columns,
    node_lines,
    rel_columns,
    rel_lines,
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
    assert bucket_of("Seller", "S1", buckets=64) == zlib.crc32(b"S1") % 64  # not hash()
    assert len({bucket_of("Seller", f"S{i}", buckets=8) for i in range(200)}) == 8
    assert len({bucket_of("OPERATES", "Seller", f"S{i}", "Shop", "H", buckets=8)
                for i in range(200)}) == 8


def _row(seller: str, adcode: str, address: str, raw: str) -> Ops:
    return Ops([NodeOp("Seller", seller, {"nickname": seller}),
                NodeOp("Address", address, {"raw": raw}),
                NodeOp("Division", adcode, {"name": "d", "level": "district"}),
                NodeOp("Division", "440000", {"name": "p", "level": "province"})],
               [RelOp("REGISTERED_AT", ("Seller", seller), ("Address", address)),
                RelOp("IN_DIVISION", ("Address", address), ("Division", adcode)),
                RelOp("PART_OF", ("Division", adcode), ("Division", "440000")),
                RelOp("OPERATES", ("Seller", seller), ("Shop", "H1"))])


def _all(chunks: dict[int, list[Any]]) -> list[Any]:
    return [item for bucket in sorted(chunks) for item in chunks[bucket]]


def test_a_worker_leaves_out_what_its_earlier_items_already_say() -> None:
    split = Split(buckets=4)
    rows = [_row("S1", "440100", "A1", "first"), _row("S2", "440100", "A1", "second"),
            _row("S3", "440100", "A2", "other")]
    nodes, rels = split.split(rows[:1])
    later_nodes, later_rels = split.split(rows[1:])
    kept = _all(later_nodes)
    assert ("Address", "A1", {"raw": "second"}) not in kept
    assert not [n for n in kept if n[0] == "Division" or n[:2] == ("Shop", "H1")]
    assert ("Address", "A2", {"raw": "other"}) in kept
    assert [r[0] for r in _all(later_rels)].count("PART_OF") == 0
    assert [r[0] for r in _all(later_rels)].count("IN_DIVISION") == 1
    assert [r[0] for r in _all(later_rels)].count("OPERATES") == 2


def test_what_a_worker_leaves_out_changes_no_fold() -> None:
    rows = [_row(f"S{i % 7}", f"4401{i % 3:02d}", f"A{i % 5}", f"raw {i}") for i in range(40)]
    rows.insert(3, Ops([NodeOp("Address", "A4", {})], []))
    plain = [items(ops) for ops in rows]
    expected = (fold_nodes([n for n, _ in plain]), fold_rels([r for _, r in plain]))
    for kept in (1_000, 3):
        split = Split(buckets=3, kept=kept)
        parts = [split.split(rows[i:i + 4]) for i in range(0, len(rows), 4)]
        by_bucket = [(fold_nodes(n.get(b, []) for n, _ in parts),
                      fold_rels(r.get(b, []) for _, r in parts)) for b in range(3)]
        assert {k: v for n, _ in by_bucket for k, v in n.items()} == expected[0]
        assert {k: v for _, r in by_bucket for k, v in r.items()} == expected[1]


def test_lines_are_the_cells_of_every_column_in_order() -> None:
    stamp = {"source": "s", "run_id": "r", "first_seen_at": datetime(2024, 1, 2, tzinfo=UTC),
             "last_seen_at": datetime(2024, 1, 3, tzinfo=UTC)}
    props = {"nickname": 'a "b"', "registered_on": date(2024, 5, 1), "status": None,
             "source": "not the stamp's", "unknown": "left out"}
    [(label, line)] = list(node_lines({("Seller", "S1"): props}, stamp))
    cols = node_columns("Seller")
    assert label == "Seller"
    assert line == ",".join(['"S1"', *(cell(stamp.get(n, props.get(n)), k)
                                       for n, k in cols.props)])
    rel_props = {"observed_on": date(2024, 5, 1)}
    [(group, text)] = list(rel_lines({("HAS_PHONE", "Seller", "S1", "Phone", "+86"): rel_props},
                                     stamp))
    assert group == ("HAS_PHONE", "Seller", "Phone")
    rel_cols = rel_columns("HAS_PHONE", "Seller", "Phone")
    assert text == ",".join(['"S1"', '"+86"', *(cell(stamp.get(n, rel_props.get(n)), k)
                                                for n, k in rel_cols.props)])


def gunzip(path: Path) -> str:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return handle.read()


def test_a_value_with_a_line_break_marks_its_file(tmp_path: Path) -> None:
    stamp = {"source": "s", "run_id": "r"}
    written = write_bucket(tmp_path, 0, {("Seller", "S1"): {"nickname": "two\nlines"},
                                         ("Brand", "B1"): {"name": "one"}}, {}, stamp)
    assert written.multiline == [tmp_path / "nodes-Seller.0.csv.gz"]
    assert written.node_count == 2
    line = gunzip(tmp_path / "nodes-Brand.0.csv.gz")
    assert line.startswith('"B1",') and '"s","r"' in line


def test_a_workers_buckets_share_one_file_per_group(tmp_path: Path) -> None:
    stamp = {"source": "s", "run_id": "r"}
    first = write_bucket(tmp_path, 0, {("Brand", "B1"): {"name": "one"}}, {}, stamp, part="w1")
    second = write_bucket(tmp_path, 1, {("Brand", "B2"): {"name": "two\nlines"}}, {}, stamp,
                          part="w1")
    assert first.nodes == second.nodes == {"Brand": [tmp_path / "nodes-Brand.w1.csv.gz"]}
    assert second.multiline == [tmp_path / "nodes-Brand.w1.csv.gz"]
    text = gunzip(tmp_path / "nodes-Brand.w1.csv.gz")  # two gzip members, read as one
    assert text.startswith('"B1",') and '"two\nlines"' in text.split("\n\"B2\",")[1]
