"""Fault drills on a throwaway Neo4j of this module's own (never the session's server):

(a) the loader killed with SIGKILL mid-load, then run again: the graph is the graph of
    one clean load;
(b) Neo4j killed with SIGKILL mid-load: the loader stops with a clear message (no
    traceback); after a restart and a second run the graph is the clean load's;
(c) Neo4j stopped under a running API: every entry point answers 503 or the GraphQL
    error DATABASE_UNAVAILABLE within a generous bound, and answers again by itself
    once the server is back.

The graphs are compared node by node and relationship by relationship with their
properties, less the run's provenance (run id, first and last seen).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from neo4j import Driver, GraphDatabase

from alliance import local_neo4j
from alliance.generate import generate_bundle
from api import saved_queries
from api.main import create_app
from graph.drivers import Connection
from loaders import load_paths
from tests.hostile import world
from tests.test_load import graph_dump
from tests.throwaway_server import throwaway_server

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

PII_KEY = "drill-pii-key-" + "k" * 32
ANSWER_BOUND = 10.0
"""Seconds an entry point may take to say the database is away (a generous bound)."""


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[local_neo4j.ServerConfig]:
    with throwaway_server(tmp_path_factory.mktemp("neo4j-drills")) as config:
        yield config


@pytest.fixture(scope="module")
def drill_driver(own_server: local_neo4j.ServerConfig) -> Iterator[Driver]:
    with GraphDatabase.driver(own_server.uri) as drv:
        yield drv


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("drill-bundle") / "bundle"
    generate_bundle(folder, scale=60, seed=4)
    return folder


def empty(driver: Driver) -> None:
    world.empty(driver, "neo4j")


@pytest.fixture(scope="module")
def clean_load(drill_driver: Driver, bundle: Path) -> list[str]:
    """The graph of one uninterrupted load of the bundle."""
    empty(drill_driver)
    load_paths(drill_driver, "neo4j", [bundle], source="drill", pii_key=PII_KEY.encode())
    dump = graph_dump(drill_driver, "neo4j")
    assert len(dump) > 500
    return dump


def loader(config: local_neo4j.ServerConfig, bundle: Path, home: Path) -> subprocess.Popen[str]:
    """`alliance load` as its own process, in small batches so there is a middle to kill
    (without the alerts, which would stamp the graph with the time they ran)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env.update(NEO4J_URI=config.uri, ALLIANCE_HOME=str(home), ALLIANCE_PII_KEY=PII_KEY)
    return subprocess.Popen(
        [sys.executable, "-m", "alliance.cli", "load", str(bundle), "--source", "drill",
         "--batch-size", "5", "--rejects", str(home / "rejects.jsonl"), "--no-alerts"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_rows(driver: Driver, proc: subprocess.Popen[str], timeout: float = 300.0) -> int:
    """Wait until the load has committed some batches and is still running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        records, _, _ = driver.execute_query("MATCH (n) RETURN count(n) AS n", database_="neo4j")
        if records[0]["n"] >= 100:
            return int(records[0]["n"])
        assert proc.poll() is None, f"the load ended before it could be interrupted: {proc.communicate()}"
        time.sleep(0.2)
    raise AssertionError("the load wrote no sellers in time")


def finish(config: local_neo4j.ServerConfig, bundle: Path, home: Path) -> None:
    proc = loader(config, bundle, home)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode in (0, 3), out + err


def test_loader_killed_mid_load_then_run_again_gives_the_clean_graph(
        own_server: local_neo4j.ServerConfig, drill_driver: Driver, bundle: Path, clean_load: list[str],
        tmp_path: Path) -> None:
    empty(drill_driver)
    proc = loader(own_server, bundle, tmp_path)
    wait_for_rows(drill_driver, proc)
    assert proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    partial = graph_dump(drill_driver, "neo4j")
    assert 0 < len(partial) < len(clean_load)
    finish(own_server, bundle, tmp_path)
    assert graph_dump(drill_driver, "neo4j") == clean_load


def test_neo4j_killed_mid_load_stops_the_loader_clearly_and_a_rerun_gives_the_clean_graph(
        own_server: local_neo4j.ServerConfig, drill_driver: Driver, bundle: Path, clean_load: list[str],
        tmp_path: Path) -> None:
    empty(drill_driver)
    proc = loader(own_server, bundle, tmp_path)
    wait_for_rows(drill_driver, proc)
    pid = local_neo4j.status(own_server.home).pid
    assert pid and proc.poll() is None
    os.kill(pid, signal.SIGKILL)
    try:
        out, err = proc.communicate(timeout=180)
    finally:
        local_neo4j.start(own_server)
    assert proc.returncode not in (0, 3), "the load claimed success without its database"
    assert "Traceback" not in out + err, err[-2000:]
    assert err.strip(), "the loader stopped without saying why"
    finish(own_server, bundle, tmp_path)
    with GraphDatabase.driver(own_server.uri) as fresh:
        assert graph_dump(fresh, "neo4j") == clean_load


def answer_kind(response: object) -> str:
    """'503', 'DATABASE_UNAVAILABLE', or what else came back."""
    status = response.status_code  # type: ignore[attr-defined]
    if status == 503:
        return "503"
    try:
        errors = response.json().get("errors") or []  # type: ignore[attr-defined]
    except ValueError:
        errors = []
    codes = {(e.get("extensions") or {}).get("code") for e in errors}
    return "DATABASE_UNAVAILABLE" if codes == {"DATABASE_UNAVAILABLE"} else f"{status} {codes or ''}"


ENTRY_POINTS: tuple[tuple[str, str, str | None], ...] = (
    ("readyz", "/readyz", None),
    ("lookup", "/graphql", '{ seller(sellerId: "S1") { nickname } }'),
    ("search", "/graphql", '{ search(text: "鞋王") { id } }'),
    ("network", "/graphql", '{ network(seedIds: ["Seller:S1"]) { truncated } }'),
    ("leads", "/graphql", "{ leads(first: 5) { totalCount } }"),
    ("saved query", "/graphql", '{ runSavedQuery(name: "leads-waiting-per-agency") { name } }'),
    ("dossier", "/graphql", '{ lead(leadId: "LD-GZ") { dossier { leadId } } }'),
    ("saved query json", "/queries/leads-waiting-per-agency.json", None),
    ("saved query csv", "/queries/leads-waiting-per-agency.csv", None),
    ("dossier json", "/leads/LD-GZ/dossier.json", None),
    ("dossier html", "/leads/LD-GZ/dossier.html", None),
)


def call(client: TestClient, path: str, query: str | None) -> object:
    headers = world.bearer("investigator")
    if query is not None:
        return client.post(path, json={"query": query}, headers=headers)
    return client.get(path, headers=headers)


def test_every_entry_point_says_the_database_is_away_then_recovers_by_itself(
        own_server: local_neo4j.ServerConfig, drill_driver: Driver, clean_load: list[str]) -> None:
    empty(drill_driver)
    load_paths(drill_driver, "neo4j", [world.LEADS_BUNDLE], source="drill", pii_key=PII_KEY.encode())
    saved_queries.LIBRARY.reset()
    conn = Connection(own_server.uri, None, "neo4j", local=False)
    with TestClient(create_app(connection=conn), raise_server_exceptions=False) as client:
        for name, path, query in ENTRY_POINTS:
            up = call(client, path, query)
            assert up.status_code == 200, (name, up.text[:300])  # type: ignore[attr-defined]
            assert "DATABASE_UNAVAILABLE" not in up.text, (name, up.text[:300])  # type: ignore[attr-defined]
        local_neo4j.stop(own_server.home)
        try:
            wrong = []
            for name, path, query in ENTRY_POINTS:
                started = time.monotonic()
                response = call(client, path, query)
                took = time.monotonic() - started
                kind = answer_kind(response)
                if kind not in ("503", "DATABASE_UNAVAILABLE") or took > ANSWER_BOUND:
                    wrong.append(f"{name}: {kind} after {took:.1f} s: {response.text[:200]}")  # type: ignore[attr-defined]
        finally:
            local_neo4j.start(own_server)
        assert not wrong, "\n".join(wrong)
        deadline = time.monotonic() + 120
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "/readyz did not come back"
            time.sleep(1.0)
        back = [name for name, path, query in ENTRY_POINTS
                if call(client, path, query).status_code != 200]  # type: ignore[attr-defined]
        assert back == []
    saved_queries.LIBRARY.reset()
