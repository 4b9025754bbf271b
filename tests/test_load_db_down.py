"""A load whose database dies under it: exit 4 with one line, no traceback; after the
server is back, the same load again gives the graph of a clean load."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psutil
import pytest
from neo4j import Driver, GraphDatabase

from alliance import local_neo4j
from alliance.generate import generate_bundle
from loaders import load_paths
from tests.throwaway_server import throwaway_server

PROVENANCE = {"run_id", "first_seen_at", "last_seen_at"}
KEY = b"k" * 40


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[local_neo4j.ServerConfig]:
    """A throwaway Neo4j of this test's own (it is killed), stopped at the end."""
    with throwaway_server(tmp_path / "neo4j") as config:
        yield config


def load(bundle: Path, uri: str, home: Path, batch_size: int = 1000) -> subprocess.Popen[str]:
    env = {**os.environ, "NEO4J_URI": uri, "ALLIANCE_HOME": str(home),
           "ALLIANCE_PII_KEY": KEY.decode(), "COLUMNS": "200"}
    env.pop("NEO4J_PASSWORD", None)
    return subprocess.Popen([sys.executable, "-m", "alliance.cli", "load", str(bundle),
                             "--source", "t", "--batch-size", str(batch_size)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def census(driver: Driver) -> list[str]:
    """Every node and relationship (its ends' keys) with its properties, less the run's
    provenance and the run records."""
    records, _, _ = driver.execute_query(
        "MATCH (n) WHERE NOT n:IngestRun OPTIONAL MATCH (n)-[r]->(m) "
        "RETURN labels(n) AS l, properties(n) AS n, type(r) AS t, properties(r) AS r, "
        "properties(m) AS m", database_="neo4j")

    def clean(props: dict[str, object] | None) -> list[tuple[str, str]]:
        return sorted((k, repr(v)) for k, v in (props or {}).items() if k not in PROVENANCE)
    return sorted(repr((rec["l"], clean(rec["n"]), rec["t"], clean(rec["r"]), clean(rec["m"])))
                  for rec in records)


def node_count(uri: str) -> int:
    with GraphDatabase.driver(uri) as driver:
        records, _, _ = driver.execute_query("MATCH (n) RETURN count(n) AS n", database_="neo4j")
        return int(records[0]["n"])


def wait_for_nodes(uri: str, at_least: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 300
    while node_count(uri) < at_least:
        assert proc.poll() is None, "the load ended before the server was killed"
        assert time.monotonic() < deadline, "the load wrote nothing"
        time.sleep(0.2)


def test_a_load_whose_database_dies_exits_4_and_a_rerun_heals(
        own_server: local_neo4j.ServerConfig, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    generate_bundle(bundle, scale=150, seed=11)
    running = load(bundle, own_server.uri, tmp_path / "home", batch_size=2)  # slow: time to kill
    wait_for_nodes(own_server.uri, 100, running)
    state = local_neo4j.ServerState.load(own_server.home)
    assert state is not None
    psutil.Process(state.pid).kill()
    _, err = running.communicate(timeout=600)
    assert running.returncode == 4, err
    assert "Traceback" not in err
    [message] = [line for line in err.splitlines() if "Database unavailable" in line]
    assert "is not answering" in message and "run the same load again" in message

    again = replace(own_server, port=local_neo4j.free_port())  # same data, back up
    local_neo4j.start(again)
    with GraphDatabase.driver(again.uri) as driver:
        rerun = load_paths(driver, "neo4j", [bundle], source="t", pii_key=KEY)
        healed = census(driver)
        driver.execute_query("MATCH (n) DETACH DELETE n", database_="neo4j")
        clean = load_paths(driver, "neo4j", [bundle], source="t", pii_key=KEY)
        assert clean.as_dict()["files"] == rerun.as_dict()["files"]
        assert census(driver) == healed
