"""Generated GraphQL queries, valid and invalid, against the real API for every role.

Queries come from api/schema.graphql through hypothesis-graphql (every query field,
with arguments of every type: huge and negative ints, odd strings, nulls), and from a
mutation of them into invalid documents. Whatever is asked: no 5xx, no traceback in
the answer, every error with `extensions.code` (never INTERNAL) and the request id of
the response, and no personal identifier for a role other than investigator and admin.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis_graphql
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes
from neo4j import Driver

from api import saved_queries
from api.main import create_app
from graph.caller import ROLES
from graph.drivers import Connection
from graph.seller_networks import analyze_networks
from loaders import load_paths
from tests.hostile import checks, count_example, world
from tests.hostile.checks import Answer

pytestmark = pytest.mark.neo4j

SDL = (Path(__file__).parent.parent / "api" / "schema.graphql").read_text(encoding="utf-8")
QUERY_FIELDS = ("seller", "shop", "listing", "brand", "site", "person", "address", "phone", "agency",
                "search", "network", "savedQueries", "runSavedQuery", "sellerNetwork", "networks",
                "traceToSource", "riskScore", "leads", "lead", "cases", "case", "leadCounts",
                "leadLifecycle", "auditEvents")
KNOWN_IDS = ("S1", "S2", "SH1", "L1", "B1", "B2", "X-GZ", "P1", "AG-GZ", "LD-GZ", "CS-GZ",
             "+8613800138000", "Seller:S1", "Brand:B1", "o:1e26", "o:-1", "")
SCALARS = {
    "JSON": st.just(nodes.Object([])),
    "Date": st.sampled_from(["2024-01-01", "0001-01-01", "9999-12-31", "2024-02-30", "x"]).map(nodes.String),
    "DateTime": st.sampled_from(["2024-01-01T00:00:00Z", "x", "2024-13-01T00:00"]).map(nodes.String),
    "ID": st.one_of(st.sampled_from(KNOWN_IDS), st.text(max_size=20)).map(nodes.String),
}


@pytest.fixture(scope="module")
def client(driver: Driver, database: str, neo4j_connection: Connection) -> Iterator[TestClient]:
    driver.execute_query("MATCH (n) DETACH DELETE n", database_=database)
    load_paths(driver, database, [world.LEADS_BUNDLE], source="fuzz", pii_key=world.PII_KEY)
    analyze_networks(driver, database)
    saved_queries.LIBRARY.reset()
    with TestClient(create_app(connection=neo4j_connection, query_timeout=10),
                    raise_server_exceptions=False) as test_client:
        yield test_client
    saved_queries.LIBRARY.reset()


@pytest.fixture(scope="module")
def identifiers(client: TestClient, driver: Driver, database: str) -> set[str]:
    w = world.World()
    world.collect_identifiers(driver, database, w)
    assert w.identifiers
    return w.identifiers


def ask(client: TestClient, role: str, body: dict[str, Any]) -> tuple[Answer, str]:
    response = client.post("/graphql", content=json.dumps(body).encode(),
                           headers={**world.bearer(role), "Content-Type": "application/json"})
    answer = Answer(role, "graphql:fuzz", str(body.get("query"))[:200], response.status_code, response.text)
    return answer, response.headers.get("x-request-id", "")


def check(answer: Answer, request_id: str, role: str, identifiers: set[str]) -> None:
    count_example("graphql")
    assert checks.server_error(answer) is None, answer.text[:500]
    assert checks.traceback_text(answer) is None, answer.text[:500]
    assert checks.uncoded_errors(answer) == [], (answer.what, answer.text[:500])
    for error in checks.graphql_errors(answer):
        assert error["extensions"]["requestId"] == request_id, error
    if role not in world.SEES_IDENTIFIERS:
        assert checks.leaked(answer, identifiers) == [], answer.text[:500]


FUZZ = settings(suppress_health_check=list(HealthCheck), deadline=None)


@pytest.mark.parametrize("role", ROLES)
@FUZZ
@given(data=st.data())
def test_generated_queries_get_answers_or_coded_errors(client: TestClient, identifiers: set[str],
                                                       role: str, data: st.DataObject) -> None:
    query = data.draw(hypothesis_graphql.from_schema(SDL, fields=QUERY_FIELDS, custom_scalars=SCALARS))
    answer, request_id = ask(client, role, {"query": query})
    check(answer, request_id, role, identifiers)


@pytest.mark.parametrize("role", ["investigator", "brand_member"])
@FUZZ
@given(data=st.data())
def test_invalid_queries_get_coded_errors(client: TestClient, identifiers: set[str], role: str,
                                          data: st.DataObject) -> None:
    query = data.draw(hypothesis_graphql.from_schema(SDL, fields=QUERY_FIELDS, custom_scalars=SCALARS,
                                                     mode=hypothesis_graphql.Mode.NEGATIVE))
    answer, request_id = ask(client, role, {"query": query})
    check(answer, request_id, role, identifiers)


@pytest.mark.parametrize("role", ["investigator", "police_liaison", "analyst"])
@FUZZ
@given(variables=st.dictionaries(
    st.sampled_from(["t", "f", "after", "ids"]),
    st.one_of(st.none(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30),
              st.sampled_from(["o:1e26", "o:-1", "o:NaN", "\ud800", "a\u0000b", "*:*"]),
              st.lists(st.text(max_size=10), max_size=3)),
    max_size=4))
def test_variables_of_any_type_get_coded_errors(client: TestClient, identifiers: set[str], role: str,
                                                variables: dict[str, Any]) -> None:
    query = ("query($t: String, $f: Int, $after: String, $ids: [ID!]) { "
             "search(text: $t, first: $f) { id } leads(first: $f, after: $after) { totalCount } "
             "network(seedIds: $ids, limit: $f) { truncated } }")
    answer, request_id = ask(client, role, {"query": query, "variables": variables})
    check(answer, request_id, role, identifiers)
