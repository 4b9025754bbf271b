"""`alliance demo --no-serve` on a real Neo4j: generate, load, networks; again = reuse."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from neo4j import Driver, RoutingControl
from typer.testing import CliRunner

from alliance.cli import app
from alliance.settings import get_settings
from api.main import create_app
from graph.db import Connection


def test_demo_loads_once_and_prints_working_examples(
    clean_db: Driver, database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    neo4j_connection: Connection,
) -> None:
    monkeypatch.setenv("ALLIANCE_HOME", str(tmp_path))
    get_settings.cache_clear()
    try:
        first = CliRunner().invoke(app, ["demo", "--no-serve"])
        assert first.exit_code == 0, first.output
        assert "planted bad rows rejected" in first.output and "Bearer ey" in first.output
        records, _, _ = clean_db.execute_query(
            "MATCH (s:Seller) WITH count(s) AS sellers "
            "MATCH (n:Network) RETURN sellers, count(n) AS networks",
            database_=database, routing_=RoutingControl.READ)
        assert records[0]["sellers"] >= 2000 and records[0]["networks"] > 0
        check_liaison_example(first.output, neo4j_connection)

        again = CliRunner().invoke(app, ["demo", "--no-serve"])
        assert again.exit_code == 0, again.output
        assert "already generated" in again.output and "already loaded" in again.output
        after, _, _ = clean_db.execute_query("MATCH (s:Seller) RETURN count(s) AS sellers",
                                             database_=database)
        assert after[0]["sellers"] == records[0]["sellers"]
    finally:
        get_settings.cache_clear()


def check_liaison_example(output: str, conn: Connection) -> None:
    """The printed liaison token opens the printed dossier."""
    dossier = re.search(r"http://[^/]+(/leads/\S+/dossier\.html)", output)
    token = re.search(r"Liaison token \(8 h\):\s+Bearer (\S+)", output)
    assert dossier and token, output
    with TestClient(create_app(connection=conn)) as client:
        page = client.get(dossier.group(1), headers={"Authorization": f"Bearer {token.group(1)}"})
        assert page.status_code == 200 and "Manifest" in page.text
