"""One limit per field, CSV and JSON Lines alike: a row with a longer field is a reject
(file, line, field, reason); the other rows of the file load."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from neo4j import Driver

from loaders import load_paths
from loaders.read import FIELD_LIMIT, field_size, read_records

KEY = b"test-pii-key"
HUGE = 10 * 1024 * 1024  # the 10 MB field that used to stop the load


def sellers(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{"seller_id": r["seller_id"], "platform": "shopx", "nickname": r["nickname"]}
            for r in rows]


ROWS = sellers([{"seller_id": "S1", "nickname": "first"},
                {"seller_id": "S2", "nickname": "x" * HUGE},
                {"seller_id": "S3", "nickname": "third"},
                {"seller_id": "S4", "nickname": "y" * FIELD_LIMIT}])


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def nicknames(driver: Driver, database: str) -> dict[str, int]:
    records, _, _ = driver.execute_query(
        "MATCH (s:Seller) RETURN s.seller_id AS id, size(s.nickname) AS n", database_=database)
    return {r["id"]: r["n"] for r in records}


Writes = Callable[[Path, list[dict[str, str]]], Path]


@pytest.mark.parametrize(("write", "suffix", "line"), [(write_csv, "csv", 3),
                                                       (write_jsonl, "jsonl", 2)])
def test_a_field_over_the_limit_rejects_its_row_and_the_others_load(
        clean_db: Driver, database: str, tmp_path: Path, write: Writes, suffix: str,
        line: int) -> None:
    path = write(tmp_path / f"sellers.{suffix}", ROWS)
    rejects = tmp_path / "rejects.jsonl"
    report = load_paths(clean_db, database, [path], source="t", pii_key=KEY,
                        rejects_path=rejects)
    f = report.files[0]
    assert (f.read, f.loaded, f.rejected) == (4, 3, 1)
    assert nicknames(clean_db, database) == {"S1": 5, "S3": 5, "S4": FIELD_LIMIT}
    [reject] = [json.loads(x) for x in rejects.read_text(encoding="utf-8").splitlines()]
    assert (reject["file"], reject["line"]) == (f"sellers.{suffix}", line)
    assert [(r["field"], r["code"]) for r in reject["reasons"]] == [("nickname", "too_long")]
    assert f"{HUGE:,} characters" in reject["reasons"][0]["message"]
    assert reject["row"]["seller_id"] == "S2"


def test_a_long_field_over_several_lines_keeps_the_next_rows_lines(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "sellers.csv", sellers([
        {"seller_id": "S1", "nickname": "a\n" * (FIELD_LIMIT // 2 + 1)},
        {"seller_id": "S2", "nickname": "b"}]))
    first, second = read_records(path)
    assert first.too_long == ("nickname",) and first.line == 2
    assert second.too_long == () and second.line == 2 + (FIELD_LIMIT // 2 + 1) + 1


def test_other_reasons_are_still_given(tmp_path: Path, clean_db: Driver, database: str) -> None:
    """A too-long required field is not also reported missing; other fields still checked."""
    path = write_jsonl(tmp_path / "sellers.jsonl", [
        {"seller_id": "S1", "platform": "p" * (FIELD_LIMIT + 1), "registered_on": "never"}])
    rejects = tmp_path / "rejects.jsonl"
    load_paths(clean_db, database, [path], source="t", pii_key=KEY, rejects_path=rejects)
    [reject] = [json.loads(x) for x in rejects.read_text(encoding="utf-8").splitlines()]
    assert [(r["field"], r["code"]) for r in reject["reasons"]] == [
        ("platform", "too_long"), ("registered_on", "date")]


def test_a_list_counts_as_its_csv_cell() -> None:
    assert field_size(["ab", "cd", "e"]) == len("ab;cd;e")
    assert field_size(12.5) == 4 and field_size("") == 0
    many = ["x" * 1000] * (FIELD_LIMIT // 1000)
    assert field_size(many) > FIELD_LIMIT
