"""The API when Neo4j goes away and comes back: 503 on /readyz, a clear GraphQL error,
and answers again by itself once the database is back.

Runs against its own throwaway server (the session's shared one is never stopped).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from neo4j import GraphDatabase

from alliance import local_neo4j
from api.auth import issue_token
from api.main import create_app
from graph.caller import Caller
from graph.drivers import Connection
from tests.throwaway_server import throwaway_server

pytestmark = pytest.mark.neo4j

QUERY = '{ brand(brandId: "B1") { name } }'


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[local_neo4j.ServerConfig]:
    with throwaway_server(tmp_path_factory.mktemp("neo4j-recovery")) as config:
        yield config


def ask(client: TestClient, query: str = QUERY) -> dict[str, object]:
    bearer = issue_token(Caller(sub="test", role="investigator"))
    response = client.post("/graphql", json={"query": query},
                           headers={"Authorization": f"Bearer {bearer}"})
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


def wait_ready(client: TestClient, timeout: float = 120.0) -> int:
    """Poll /readyz until it says ready; returns how many polls it took."""
    deadline = time.monotonic() + timeout
    polls = 0
    while time.monotonic() < deadline:
        polls += 1
        if client.get("/readyz").status_code == 200:
            return polls
        time.sleep(1.0)
    raise AssertionError("/readyz did not come back after the database restarted")


def test_database_down_gives_503_and_clear_errors_then_recovers(
    own_server: local_neo4j.ServerConfig,
) -> None:
    """The server has no schema applied, which also shows search's clear error for that."""
    conn = Connection(own_server.uri, None, "neo4j", local=False)
    with TestClient(create_app(connection=conn)) as client:
        with GraphDatabase.driver(conn.uri) as setup:
            setup.execute_query("CREATE (:Brand {brand_id: 'B1', name: 'PeakStride'})",
                                database_="neo4j")
        assert client.get("/readyz").status_code == 200
        assert ask(client)["data"] == {"brand": {"name": "PeakStride"}}
        no_index = ask(client, '{ search(text: "peakstride") { key } }')["errors"][0]  # type: ignore[index]
        assert no_index["extensions"]["code"] == "SCHEMA_MISSING"
        assert "run `alliance schema apply`" in no_index["message"]

        local_neo4j.stop(own_server.home)
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {
            "status": "unavailable",
            "reason": "the graph database does not answer right now; try again in a moment.",
        }
        assert client.get("/healthz").status_code == 200
        down = ask(client)
        error = down["errors"][0]  # type: ignore[index]
        assert error["message"] == "the graph database does not answer right now; try again in a moment."
        assert error["extensions"]["code"] == "DATABASE_UNAVAILABLE"

        local_neo4j.start(own_server)
        wait_ready(client)
        assert ask(client)["data"] == {"brand": {"name": "PeakStride"}}
