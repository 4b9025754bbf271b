"""`alliance load` exit codes and outputs, against the test Neo4j."""

from __future__ import annotations

import json
from pathlib import Path

from neo4j import Driver
from typer.testing import CliRunner

from alliance.cli import app

BUNDLE = Path(__file__).parent / "fixtures" / "loader" / "bundle"
runner = CliRunner()


def test_some_rejected_exits_3(clean_db: Driver, tmp_path: Path) -> None:
    report, rejects = tmp_path / "report.json", tmp_path / "rejects.jsonl"
    result = runner.invoke(app, ["load", str(BUNDLE), "--source", "cli", "--report", str(report),
                                 "--rejects", str(rejects)])
    assert result.exit_code == 3, result.output
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["rejected"] == 3 and len(data["files"]) == 13
    assert len(rejects.read_text(encoding="utf-8").splitlines()) == 3


def test_clean_file_exits_0(clean_db: Driver) -> None:
    result = runner.invoke(app, ["load", str(BUNDLE / "brands.csv"), "--source", "cli"])
    assert result.exit_code == 0, result.output


def test_unusable_input_exits_2(clean_db: Driver, tmp_path: Path) -> None:
    odd = tmp_path / "unknown.csv"
    odd.write_text("a,b\n1,2\n", encoding="utf-8")
    result = runner.invoke(app, ["load", str(odd), "--source", "cli"])
    assert result.exit_code == 2
    assert "not a bundle file" in result.output


def test_strict_loads_nothing_when_a_row_is_bad(clean_db: Driver, database: str) -> None:
    result = runner.invoke(app, ["load", str(BUNDLE / "sellers.csv"), "--source", "cli",
                                 "--strict"])
    assert result.exit_code == 2
    records, _, _ = clean_db.execute_query("MATCH (s:Seller) RETURN count(s) AS n",
                                           database_=database)
    assert records[0]["n"] == 0
