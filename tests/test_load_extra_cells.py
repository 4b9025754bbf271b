"""A CSV row whose cells do not match the header (an unquoted comma, a lost one) would
load its values under the wrong names: it is a reject with file, line and both counts,
and the rest of the file loads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from neo4j import Driver

from loaders import load_paths
from loaders.read import UnusableInput, read_records

KEY = b"test-pii-key"
HEADER = "seller_id,platform,nickname,registered_on"
SELLERS = "\n".join([
    HEADER,
    "S1,shopx,first,2024-01-02",
    "S2,shopx,Smith, Jones & Co,2024-01-03",   # unquoted comma: 5 cells
    "S3,shopx,third,2024-01-04",
    "S4,shopx,2024-01-05",                     # a lost cell: 3 cells
    "S5,shopx,\"quoted, comma\",2024-01-06",
]) + "\n"


def sellers_in_graph(driver: Driver, database: str) -> dict[str, tuple[str, str]]:
    records, _, _ = driver.execute_query(
        "MATCH (s:Seller) RETURN s.seller_id AS id, s.nickname AS nickname, "
        "toString(s.registered_on) AS registered_on", database_=database)
    return {r["id"]: (r["nickname"], r["registered_on"]) for r in records}


def load(driver: Driver, database: str, path: Path) -> tuple[list[int], list[dict]]:
    rejects = path.parent / "rejects.jsonl"
    report = load_paths(driver, database, [path], source="t", pii_key=KEY,
                        rejects_path=rejects)
    f = report.files[0]
    lines = rejects.read_text(encoding="utf-8").splitlines()
    return [f.read, f.loaded, f.rejected], [json.loads(line) for line in lines]


def test_rows_with_more_or_fewer_cells_are_rejected_and_the_rest_loads(
        clean_db: Driver, database: str, tmp_path: Path) -> None:
    path = tmp_path / "sellers.csv"
    path.write_text(SELLERS, encoding="utf-8")
    counts, rejects = load(clean_db, database, path)
    assert counts == [5, 3, 2]
    assert sellers_in_graph(clean_db, database) == {
        "S1": ("first", "2024-01-02"), "S3": ("third", "2024-01-04"),
        "S5": ("quoted, comma", "2024-01-06")}
    assert [(r["file"], r["line"]) for r in rejects] == [("sellers.csv", 3), ("sellers.csv", 5)]
    assert [r["reasons"] for r in rejects] == [
        [{"field": "_row", "code": "columns", "message": "row has 5 cells, the header has 4"}],
        [{"field": "_row", "code": "columns", "message": "row has 3 cells, the header has 4"}]]
    assert rejects[0]["row"] == {"seller_id": "S2", "platform": "shopx", "nickname": "Smith",
                                 "registered_on": " Jones & Co", "_extra": ["2024-01-03"]}
    assert rejects[1]["row"] == {"seller_id": "S4", "platform": "shopx",
                                 "nickname": "2024-01-05"}


def test_loading_twice_changes_nothing(clean_db: Driver, database: str, tmp_path: Path) -> None:
    path = tmp_path / "sellers.csv"
    path.write_text(SELLERS, encoding="utf-8")
    load(clean_db, database, path)
    first = sellers_in_graph(clean_db, database)
    counts, rejects = load(clean_db, database, path)
    assert counts == [5, 3, 2] and len(rejects) == 2
    assert sellers_in_graph(clean_db, database) == first


def test_an_identity_number_shifted_out_of_its_column_is_masked_in_the_reject(
        clean_db: Driver, database: str, tmp_path: Path) -> None:
    path = tmp_path / "sellers.csv"
    path.write_text("seller_id,platform,nickname,id_number,registered_on\n"
                    "S1,shopx,Li, Wei,11010519491231002x,2024-01-02\n", encoding="utf-8")
    _, [reject] = load(clean_db, database, path)
    assert reject["row"] == {"seller_id": "S1", "platform": "shopx", "nickname": "Li",
                             "id_number": "***", "registered_on": "***",
                             "_extra": ["2024-01-02"]}
    assert "11010519491231002" not in path.parent.joinpath("rejects.jsonl").read_text()


def test_strict_refuses_the_run_and_names_the_line(
        clean_db: Driver, database: str, tmp_path: Path) -> None:
    path = tmp_path / "sellers.csv"
    path.write_text(SELLERS, encoding="utf-8")
    with pytest.raises(UnusableInput, match="sellers.csv line 3: row has 5 cells, the header has 4"):
        load_paths(clean_db, database, [path], source="t", pii_key=KEY, strict=True)
    assert sellers_in_graph(clean_db, database) == {}


def test_the_reader_marks_the_row_and_keeps_its_line(tmp_path: Path) -> None:
    path = tmp_path / "brands.csv"
    path.write_text('brand_id,name\nB1,"two\nlines",x\nB2,ok\nB3\n', encoding="utf-8")
    first, second, third = read_records(path)
    assert (first.line, first.columns) == (2, "row has 3 cells, the header has 2")
    assert (second.line, second.columns) == (4, "")
    assert (third.line, third.columns) == (5, "row has 1 cell, the header has 2")
