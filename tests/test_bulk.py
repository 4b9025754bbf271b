"""`alliance load --bulk`: the offline importer gives the graph the online loader gives,
refuses what it cannot do, and leaves a graph the online loader and the network analysis
carry on from.

The bulk load needs a local server of its own (the importer writes its store files):
this module starts one under its own ALLIANCE_HOME, next to the session's server, where
the same bundle is loaded online.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver, GraphDatabase
from typer.testing import CliRunner

from alliance import local_neo4j
from alliance.cli import app
from alliance.generate import generate_bundle
from core.local_server import local_home
from core.settings import get_settings
from graph import drivers
from graph.model import node
from loaders import load_paths
from loaders.bulk import BulkNeedsLocalServer, DatabaseNotEmpty

runner = CliRunner()
PII_KEY = "bulk-test-pii-key-0123456789abcdef0123456789"
NOT_COMPARED = frozenset({"first_seen_at", "last_seen_at", "run_id"})
"""The ingest run and its timestamps differ between two loads of one bundle."""


def _canonical(props: dict[str, Any]) -> str:
    return repr(sorted((k, v) for k, v in props.items() if k not in NOT_COMPARED))


def _ref(labels: list[str], props: dict[str, Any]) -> str:
    return f"{labels[0]}:{props[node(labels[0]).key]!r}"


def snapshot(driver: Driver, database: str) -> tuple[list[str], list[str]]:
    """Every node (labels, properties) and relationship (type, ends by key, properties),
    as sorted text, without the ingest run and its timestamps."""
    with driver.session(database=database) as session:
        nodes = session.run("MATCH (n) WHERE NOT n:IngestRun "
                            "RETURN labels(n) AS labels, properties(n) AS props").data()
        rels = session.run("MATCH (a)-[r]->(b) RETURN type(r) AS type, labels(a) AS al, "
                           "properties(a) AS a, labels(b) AS bl, properties(b) AS b, "
                           "properties(r) AS props").data()
    node_text = sorted(f"{sorted(n['labels'])} {_canonical(n['props'])}" for n in nodes)
    rel_text = sorted(f"{_ref(r['al'], r['a'])} -{r['type']}-> {_ref(r['bl'], r['b'])} "
                      f"{_canonical(r['props'])}" for r in rels)
    return node_text, rel_text


class BulkRun:
    def __init__(self, home: Path, bundle: Path, rejects: Path, report: dict[str, Any],
                 graph: tuple[list[str], list[str]]) -> None:
        self.home, self.bundle, self.rejects, self.report, self.graph = \
            home, bundle, rejects, report, graph

    def driver(self) -> Driver:
        conn = drivers.connection()
        return GraphDatabase.driver(conn.uri, auth=conn.auth)


@pytest.fixture(scope="module")
def own_server(driver: Driver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BulkRun]:
    """A local server under its own ALLIANCE_HOME (NEO4J_URI unset), loaded with --bulk;
    stopped at the end of the module."""
    home = tmp_path_factory.mktemp("bulk-home")
    work = tmp_path_factory.mktemp("bulk-work")
    bundle = work / "bundle"
    generate_bundle(bundle, scale=300, seed=7)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ALLIANCE_HOME", str(home))
        env.setenv("ALLIANCE_PII_KEY", PII_KEY)
        env.delenv("NEO4J_URI", raising=False)
        get_settings.cache_clear()
        try:
            started = runner.invoke(app, ["db", "start", "--port", str(local_neo4j.free_port())])
            assert started.exit_code == 0, started.output
            assert "memory: heap" in started.output
            rejects, report = work / "bulk-rejects.jsonl", work / "bulk-report.json"
            loaded = runner.invoke(app, ["load", "--bulk", str(bundle), "--source", "platform",
                                         "--rejects", str(rejects), "--report", str(report),
                                         "--no-alerts", "--workers", "2"])
            assert loaded.exit_code == 3, (loaded.output, loaded.exception)
            run = BulkRun(home, bundle, rejects, json.loads(report.read_text()), ([], []))
            with run.driver() as bulk_driver:
                run.graph = snapshot(bulk_driver, "neo4j")
            yield run
        finally:
            local_neo4j.stop(local_home(home))
            get_settings.cache_clear()
    get_settings.cache_clear()


@pytest.fixture
def bulk_env(own_server: BulkRun, monkeypatch: pytest.MonkeyPatch) -> BulkRun:
    """The module's server as the one `alliance` talks to (for the test's length)."""
    monkeypatch.setenv("ALLIANCE_HOME", str(own_server.home))
    monkeypatch.setenv("ALLIANCE_PII_KEY", PII_KEY)
    monkeypatch.delenv("NEO4J_URI", raising=False)
    get_settings.cache_clear()
    return own_server


def test_bulk_and_online_give_the_same_graph_and_rejects(
        own_server: BulkRun, clean_db: Driver, database: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLIANCE_PII_KEY", PII_KEY)
    get_settings.cache_clear()
    online_rejects = tmp_path / "online-rejects.jsonl"
    report = load_paths(clean_db, database, [own_server.bundle], source="platform",
                        rejects_path=online_rejects, pii_key=get_settings().pii_key())
    nodes, rels = snapshot(clean_db, database)
    bulk_nodes, bulk_rels = own_server.graph
    assert len(nodes) > 1000 and len(rels) > 1000
    assert [n for n in nodes if n not in set(bulk_nodes)][:5] == []
    assert nodes == bulk_nodes
    assert rels == bulk_rels
    assert own_server.rejects.read_text(encoding="utf-8") == \
        online_rejects.read_text(encoding="utf-8")
    assert report.rejected == own_server.report["rejected"] > 0
    assert report.as_dict()["files"] == own_server.report["files"]


def test_the_bulk_run_is_recorded_and_the_schema_applied(bulk_env: BulkRun) -> None:
    with bulk_env.driver() as drv:
        runs = drv.execute_query("MATCH (r:IngestRun) RETURN r.run_id AS id, r.counts AS c",
                                 database_="neo4j").records
        constraints = drv.execute_query("SHOW CONSTRAINTS YIELD name RETURN count(*) AS n",
                                        database_="neo4j").records
    assert [r["id"] for r in runs] == [bulk_env.report["run_id"]]
    assert json.loads(runs[0]["c"])["sellers.csv"]["loaded"] == 300
    assert constraints[0]["n"] > 10


def test_bulk_refuses_a_database_with_data(bulk_env: BulkRun) -> None:
    result = runner.invoke(app, ["load", "--bulk", str(bulk_env.bundle), "--source", "again"])
    assert isinstance(result.exception, DatabaseNotEmpty)
    assert "only into an empty database" in str(result.exception)


def test_bulk_refuses_a_remote_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEO4J_URI", "neo4j+s://graph.example.org")
    get_settings.cache_clear()
    result = runner.invoke(app, ["load", "--bulk", str(tmp_path), "--source", "x"])
    get_settings.cache_clear()
    assert isinstance(result.exception, BulkNeedsLocalServer)
    assert "local server" in str(result.exception)
    assert "graph.example.org" in str(result.exception)


def _a_seller_with_a_phone(drv: Driver) -> tuple[str, str]:
    record = drv.execute_query(
        "MATCH (s:Seller)-[:HAS_PHONE]->(p:Phone) "
        "WHERE COUNT { (p)<-[:HAS_PHONE]-(:Seller) } = 1 "
        "WITH s, p ORDER BY s.seller_id LIMIT 1 RETURN s.seller_id AS s, p.e164 AS p",
        database_="neo4j").records[0]
    return record["s"], record["p"]


def _network_of(drv: Driver, seller_id: str) -> str | None:
    records = drv.execute_query(
        "MATCH (:Seller {seller_id: $id})-[:IN_NETWORK]->(n:Network) RETURN n.network_id AS n",
        id=seller_id, database_="neo4j").records
    return records[0]["n"] if records else None


def test_online_delta_and_incremental_networks_after_bulk(bulk_env: BulkRun,
                                                          tmp_path: Path) -> None:
    full = runner.invoke(app, ["analyze", "networks"])
    assert full.exit_code == 0, full.output
    with bulk_env.driver() as drv:
        old, phone = _a_seller_with_a_phone(drv)
    delta = tmp_path / "sellers.csv"
    with delta.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["seller_id", "platform", "nickname", "kind", "phones", "registered_on"])
        out.writerow(["S-DELTA-1", "taobao", "delta shop", "person", phone, "2024-05-01"])
    report = tmp_path / "delta.json"
    loaded = runner.invoke(app, ["load", str(delta), "--source", "delta", "--no-alerts",
                                 "--report", str(report)])
    assert loaded.exit_code == 0, loaded.output
    run_id = json.loads(report.read_text())["run_id"]
    again = runner.invoke(app, ["analyze", "networks", "--incremental", "--run-id", run_id])
    assert again.exit_code == 0, again.output
    assert "sellers touched" in again.output
    with bulk_env.driver() as drv:
        network = _network_of(drv, "S-DELTA-1")
        assert network is not None
        assert network == _network_of(drv, old)
        shared = drv.execute_query(
            "MATCH (:Seller {seller_id: 'S-DELTA-1'})-[:HAS_PHONE]->(p:Phone)"
            "<-[:HAS_PHONE]-(s:Seller {seller_id: $old}) RETURN count(p) AS n",
            old=old, database_="neo4j").records
    assert shared[0]["n"] == 1
