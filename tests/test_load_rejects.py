"""Rejected rows are always written somewhere: without --rejects, to
ALLIANCE_HOME/rejects/<run id>.jsonl, named at the end of the load and in the report."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from neo4j import Driver
from typer.testing import CliRunner

from alliance.cli import app
from core.settings import get_settings
from loaders import load_paths

BUNDLE = Path(__file__).parent / "fixtures" / "loader" / "bundle"
KEY = b"test-pii-key"
runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh ALLIANCE_HOME for this test."""
    monkeypatch.setenv("ALLIANCE_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def test_rejects_go_under_alliance_home_by_default(clean_db: Driver, database: str,
                                                   home: Path) -> None:
    report = load_paths(clean_db, database, [BUNDLE], source="t", pii_key=KEY)
    expected = home / "rejects" / f"{report.run_id}.jsonl"
    assert report.rejects_path == str(expected)
    assert {(r["file"], r["line"]) for r in lines(expected)} == {
        ("sellers.csv", 4), ("listings.csv", 3), ("complaints.csv", 3)}
    assert stat.S_IMODE(expected.stat().st_mode) == 0o600


def test_no_rejects_file_when_every_row_loads(clean_db: Driver, database: str,
                                              home: Path) -> None:
    report = load_paths(clean_db, database, [BUNDLE / "brands.csv"], source="t", pii_key=KEY)
    assert report.rejects_path is None
    assert not (home / "rejects").exists() or not any((home / "rejects").iterdir())


def test_a_named_rejects_file_is_written_even_when_empty(clean_db: Driver, database: str,
                                                         home: Path, tmp_path: Path) -> None:
    named = tmp_path / "mine.jsonl"
    report = load_paths(clean_db, database, [BUNDLE / "brands.csv"], source="t", pii_key=KEY,
                        rejects_path=named)
    assert report.rejects_path == str(named) and named.read_text(encoding="utf-8") == ""


def test_cli_names_the_rejects_file_and_reports_it(clean_db: Driver, home: Path,
                                                   tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = runner.invoke(app, ["load", str(BUNDLE), "--source", "cli", "--report", str(report)])
    assert result.exit_code == 3, result.output
    data = json.loads(report.read_text(encoding="utf-8"))
    path = Path(data["rejects_path"])
    assert path == home / "rejects" / f"{data['run_id']}.jsonl"
    assert f"rejected rows: {path}" in result.output
    assert len(lines(path)) == data["rejected"] == 3
