"""`alliance query list | show | run | check` against a real Neo4j (and one that does not
answer)."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from neo4j import Driver
from typer.testing import CliRunner

from alliance.local_neo4j import free_port
from alliance.query_cli import parse_params, query_app
from core.settings import get_settings
from graph import query_library
from tests.saved_query_fixture import write_fixture

runner = CliRunner()


@pytest.fixture(scope="module")
def graph(driver: Driver, database: str) -> Driver:
    write_fixture(driver, database)
    return driver


def test_list_shows_every_query() -> None:
    result = runner.invoke(query_app, ["list", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert {q["name"] for q in listed["queries"]} == set(query_library.load().names())
    assert listed["problems"] == []
    table = runner.invoke(query_app, ["list"])
    assert "sellers-sharing-identifiers" in table.stdout


def test_show_prints_header_params_and_cypher() -> None:
    result = runner.invoke(query_app, ["show", "leads-waiting-per-agency"])
    assert result.exit_code == 0, result.output
    assert "Leads waiting longer than N days, per agency" in result.stdout
    assert "$days (int, default 30)" in result.stdout
    assert "MATCH (lead:Lead {status: 'pushed'})" in result.stdout
    assert "open columns: agency_id, agency, waiting, oldest_days" in result.stdout
    assert "entity columns: lead_ids" in result.stdout


def test_run_json(graph: Driver) -> None:
    result = runner.invoke(query_app, ["run", "leads-waiting-per-agency", "--param", "as_of=2024-04-01",
                                       "-p", "days=30", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [r["agency_id"] for r in data["rows"]] == ["AG1", "AG2"]
    assert data["rows"][0]["lead_ids"] == ["LD1"]
    assert data["truncated"] is False


def test_run_csv_to_stdout_and_to_a_file_with_bom(graph: Driver, tmp_path: Path) -> None:
    args = ["run", "sellers-sharing-identifiers", "-p", "seller_id=S1", "--format", "csv"]
    result = runner.invoke(query_app, args)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["seller_id"], r["nickname"], r["linked_by"], r["identifiers"]) for r in rows] == [
        ("S2", "'=1+1", "phone", "'+8613800138000"), ("S3", "'@SUM(A1)", "identity", "h-i1")]
    target = tmp_path / "out.csv"
    saved = runner.invoke(query_app, ["run", "cases-per-province-year", "-f", "csv", "-o", str(target)])
    assert saved.exit_code == 0, saved.output
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == "province_adcode,province,year,cases,arrests,dens_destroyed,value_cny"
    assert lines[1] == "440000,广东省,2023,1,2,0,50000.0"


def test_run_table(graph: Driver) -> None:
    result = runner.invoke(query_app, ["run", "counterfeit-listings-still-live"])
    assert result.exit_code == 0, result.output
    assert "L1" in result.stdout and "L6" in result.stdout
    assert "2 rows" in result.stdout


def test_run_with_bad_params_says_what(graph: Driver) -> None:
    result = runner.invoke(query_app, ["run", "leads-waiting-per-agency", "-p", "days=soon"])
    assert result.exit_code == 2
    assert "parameter 'days': expected a whole number, got 'soon'" in result.output
    missing = runner.invoke(query_app, ["run", "sites-in-division"])
    assert missing.exit_code == 2
    assert "missing parameter 'adcode'" in missing.output
    unknown = runner.invoke(query_app, ["run", "no-such-query"])
    assert unknown.exit_code == 2 and "no saved query named 'no-such-query'" in unknown.output
    server = runner.invoke(query_app, ["run", "cases-in-my-jurisdiction", "-p", "_role=admin"])
    assert server.exit_code == 2 and "set by the server" in server.output


def test_repeated_params_make_a_list() -> None:
    assert parse_params(["a=1", "b=x", "b=y", "c=p=q"]) == {"a": "1", "b": ["x", "y"], "c": "p=q"}
    with pytest.raises(query_library.ParamError, match="write it as name=value"):
        parse_params(["oops"])


def test_check_passes_on_the_library_and_fails_on_a_bad_folder(graph: Driver, tmp_path: Path) -> None:
    result = runner.invoke(query_app, ["check"])
    assert result.exit_code == 0, result.output
    assert f"{len(query_library.load().names())} ok, 0 failed." in result.stdout
    (tmp_path / "writes.cypher").write_text("// title: W\nMATCH (n:Seller) DETACH DELETE n\n")
    (tmp_path / "reads.cypher").write_text(
        "// title: R\n// columns: {open: [n]}\nMATCH (n:Seller) RETURN count(n) AS n\n")
    bad = runner.invoke(query_app, ["check", "--dir", str(tmp_path)])
    assert bad.exit_code == 1
    assert "1 ok, 1 failed." in bad.stdout
    assert "writes: writes.cypher: EXPLAIN says the query type is 'w'" in bad.stdout
    refused = runner.invoke(query_app, ["run", "writes", "--dir", str(tmp_path)])
    assert refused.exit_code == 2 and "must be read-only" in refused.output
    assert graph.execute_query("MATCH (n:Seller) RETURN count(n) AS n").records[0]["n"] == 5


def test_csv_file_quotes_formulas_and_keeps_negative_numbers(graph: Driver, tmp_path: Path) -> None:
    (tmp_path / "nicknames.cypher").write_text(
        "// title: Nicknames\n// columns: {entity: [nickname], open: [n, x, t]}\n"
        "MATCH (s:Seller) WHERE s.seller_id IN ['S2', 'S3'] "
        "RETURN s.nickname AS nickname, -3 AS n, -2.5 AS x, '-3' AS t ORDER BY s.seller_id\n")
    target = tmp_path / "nicknames.csv"
    result = runner.invoke(query_app, ["run", "nicknames", "--dir", str(tmp_path), "-f", "csv",
                                       "-o", str(target)])
    assert result.exit_code == 0, result.output
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8-sig").split("\r\n") == [
        "nickname,n,x,t", "'=1+1,-3,-2.5,'-3", "'@SUM(A1),-3,-2.5,'-3", ""]


@pytest.fixture
def nowhere(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the command at a port where nothing listens."""
    uri = f"bolt://127.0.0.1:{free_port()}"
    monkeypatch.setenv("NEO4J_URI", uri)
    monkeypatch.delenv("NEO4J_PASSWORD", raising=False)
    get_settings.cache_clear()
    yield uri
    monkeypatch.undo()
    get_settings.cache_clear()


def test_run_and_check_stop_fast_when_the_database_does_not_answer(nowhere: str) -> None:
    started = time.monotonic()
    for args in (["run", "cases-per-province-year"], ["check"]):
        result = runner.invoke(query_app, args)
        assert result.exit_code == 2, result.output
        assert "DATABASE_UNAVAILABLE: the graph database does not answer" in result.output
        assert nowhere in result.output
    assert time.monotonic() - started < 30  # about 2 s each; it was 60-90 s
