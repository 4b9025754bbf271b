"""Warming at start-up (`api.warm`): it runs every hot kind of call for every kind of
caller through Neo4j, in the background, without delaying /healthz; /readyz says
`warming` until it is over and never `ready` while Neo4j does not answer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neo4j import Driver
from prometheus_client import REGISTRY

from alliance import local_neo4j
from api.main import create_app
from api.warm import Warming, operations_for
from graph.caller import Caller
from graph.drivers import Connection
from tests.test_api import load_graph

KINDS = ("lookups", "search", "network", "sellerNetwork", "traceToSource", "leads", "dossier",
         "savedQuery")


def neo4j_count(name: str) -> float:
    return REGISTRY.get_sample_value("alliance_api_neo4j_query_seconds_count", {"query": name}) or 0.0


def ready(client: TestClient, polls: int = 1500) -> dict[str, Any]:
    """The body of /readyz once the warming is over (polled, not timed): on a busy machine
    readiness may stop waiting (`late`) before the warming ends."""
    for _ in range(polls):
        body: dict[str, Any] = client.get("/readyz").json()
        if body.get("warm", {}).get("state") not in ("waiting", "running", "late"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"still warming: {body}")


@pytest.fixture(scope="module")
def graph(driver: Driver, database: str) -> None:
    load_graph(driver, database)


@pytest.mark.neo4j
def test_warming_runs_every_kind_for_every_kind_of_caller(
        graph: None, neo4j_connection: Connection) -> None:
    searches = neo4j_count("search")
    with TestClient(create_app(connection=neo4j_connection, warm_up=True)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        body = ready(client)
        warming: Warming = client.app.state.warming  # type: ignore[attr-defined]
    assert body["status"] == "ready"
    assert body["warm"]["state"] == "done", warming.failed
    assert warming.failed == {}
    ran = {name.split(":")[0] for name in warming.ran}
    assert set(KINDS) <= ran
    for role in ("investigator", "police_liaison", "brand_member", "analyst"):
        mine = operations_for(Caller(sub="x", role=role))  # type: ignore[arg-type]
        assert {f"{op}:{role}" for op in mine} <= set(warming.ran)
    assert {"dossier:investigator", "dossier:police_liaison"} <= set(warming.ran)
    assert neo4j_count("search") - searches >= 2 * 4  # two searches for each kind of caller


@pytest.mark.neo4j
def test_without_warming_readiness_says_off(graph: None, neo4j_connection: Connection) -> None:
    with TestClient(create_app(connection=neo4j_connection)) as client:
        body = client.get("/readyz").json()
    assert body["status"] == "ready"
    assert body["warm"]["state"] == "off"


@pytest.fixture
def nowhere() -> Iterator[Connection]:
    """A Bolt address where nothing listens."""
    yield Connection(f"bolt://127.0.0.1:{local_neo4j.free_port()}", None, "neo4j", local=False)


def test_warming_waits_for_neo4j_without_delaying_healthz(nowhere: Connection) -> None:
    with TestClient(create_app(connection=nowhere, warm_up=True)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready_now = client.get("/readyz")
        warming: Warming = client.app.state.warming  # type: ignore[attr-defined]
        assert warming.state == "waiting"
    assert ready_now.status_code == 503
    assert ready_now.json()["status"] == "unavailable"
