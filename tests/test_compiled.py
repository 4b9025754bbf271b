"""Compiled plans give the same answers: each operation of a corpus is sent twice to an app
with compiled plans (the first answer teaches it, the second is the plan's) and once to an
app that runs every operation through strawberry and graphql-core; the answers must agree
byte for byte. Operations a plan knows must be answered by it the second time; those it
leaves to the usual path (or a request it hands back) must not be."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neo4j import Driver
from prometheus_client import REGISTRY

from api.compiled import compile_operation
from api.main import create_app
from api.schema import schema
from graph.drivers import Connection
from tests.test_api import load_graph
from tests.test_fastpath import ROLES, graphql
from tests.test_fastpath import send as send_request

SELLER = """query($id: ID!) { seller(sellerId: $id) { sellerId nickname
  operates(first: 20) { nodes { shopId name offers(first: 20) { nodes { listingId title price } } } } } }"""
PAGES = """query($id: ID!, $first: Int, $after: String) { seller(sellerId: $id) {
  __typename id sellerId registeredOn status firstSeenAt
  shops: operates(first: $first, after: $after) { __typename totalCount
    pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
    edges { __typename cursor properties node { shopId name
      offers(first: 1) { totalCount nodes { id title price status } } } }
    nodes { shopId id } } } }"""
BOTH_WAYS = """{ listing(listingId: "L1") { listingId title price currency
  offeredBy { nodes { shopId operatedBy { nodes { sellerId nickname } } } }
  complaints { totalCount edges { node { complaintId filedOn kind } properties } } } }"""
NETWORK = """query($ids: [ID!]!) { network(seedIds: $ids, hops: 2, limit: 200) {
  nodes { id label degree } edges { id type source target } truncated } }"""
NETWORK_FULL = """query($ids: [ID!]!, $hops: Int!) { network(seedIds: $ids, hops: $hops, limit: 5) {
  __typename truncated nodes { __typename id label key caption properties degree hub seed }
  edges { __typename id type source target properties } } }"""
SEARCH = "query($t: String!) { search(text: $t, first: 20) { id label key displayName score } }"
SEARCH_LABELS = """query($t: String!, $labels: [String!]) { search(text: $t, labels: $labels) {
  __typename hit: key score } }"""

PLANNED: list[tuple[str, dict[str, Any]]] = [
    ("seller", graphql(SELLER, id="S1")),
    ("seller absent", graphql(SELLER, id="nobody")),
    ("seller many shops", graphql(SELLER, id="S9")),
    ("pages", graphql(PAGES, id="S9", first=5)),
    ("pages after", graphql(PAGES, id="S9", first=5, after="bzo0")),
    ("pages empty", graphql(PAGES, id="S2", first=5)),
    ("both ways", graphql(BOTH_WAYS)),
    ("brand", graphql('{ brand(brandId: "B1") { name joinedOn trademarkNos alliance: allianceMember } }')),
    ("phone", graphql('{ phone(e164: "+8613800138000") { region rawForms } }')),
    ("network", graphql(NETWORK, ids=["Seller:S1"])),
    ("network full", graphql(NETWORK_FULL, ids=["Seller:S1", "Shop:SH1"], hops=1)),
    ("network hub", graphql(NETWORK_FULL, ids=["Seller:S9"], hops=2)),
    ("search", graphql(SEARCH, t="莆田")),
    ("search labels", graphql(SEARCH_LABELS, t="shop", labels=["Shop"])),
]
LEFT: list[tuple[str, dict[str, Any]]] = [
    ("first out of bounds", graphql(PAGES, id="S9", first=501)),
    ("cursor not ours", graphql(PAGES, id="S9", first=5, after="nope")),
    ("price not a number", graphql('{ listing(listingId: "LBAD") { title price } }')),
    ("seeds out of bounds", graphql(NETWORK_FULL, ids=["Seller:S1"], hops=9)),
    ("no word to search", graphql(SEARCH, t="   ")),
    ("bad variable", graphql(SELLER, id=["a", "b"])),
    ("missing variable", graphql(SELLER)),
]
"""Requests of planned operations that the plan hands back to the usual path."""
UNPLANNED: list[tuple[str, dict[str, Any]]] = [
    ("two roots", graphql('{ a: seller(sellerId: "S1") { nickname } b: shop(shopId: "SH1") { name } }')),
    ("fragment", graphql('{ seller(sellerId: "S1") { ...F } } fragment F on Seller { nickname }')),
    ("directive", graphql('query($x: Boolean!) { seller(sellerId: "S1") { nickname @include(if: $x) } }',
                          x=True)),
    ("resolver field", graphql('{ sellerNetwork(sellerId: "S1") { riskScore } }')),
    ("elements", graphql('{ network(seedIds: ["Seller:S1"]) { elements } }')),
    ("leads", graphql("{ leads(first: 5) { totalCount nodes { leadId status } } }")),
]


def send(client: TestClient, request: dict[str, Any], role: str) -> tuple[int, list[Any], bytes]:
    return send_request(client, "POST", request, role, "same-request")


@pytest.fixture(scope="module")
def clients(driver: Driver, database: str,
            neo4j_connection: Connection) -> Iterator[tuple[TestClient, TestClient]]:
    """An app with compiled plans, and one answering every operation the usual way."""
    load_graph(driver, database)
    apps = create_app(connection=neo4j_connection), create_app(connection=neo4j_connection,
                                                               fast_path=False)
    with TestClient(apps[0]) as planned, TestClient(apps[1]) as usual:
        yield planned, usual


def compiled_count() -> float:
    return REGISTRY.get_sample_value("alliance_api_graphql_compiled_total") or 0.0


def twice(clients: tuple[TestClient, TestClient], request: dict[str, Any], role: str
          ) -> tuple[float, Any, Any, Any]:
    planned, usual = clients
    first = send(planned, request, role)
    before = compiled_count()
    second = send(planned, request, role)
    return compiled_count() - before, first, second, send(usual, request, role)


CASES = [(name, request, role) for name, request in PLANNED for role in ROLES]


@pytest.mark.neo4j
@pytest.mark.parametrize(("name", "request_", "role"), CASES,
                         ids=[f"{name}:{role}" for name, _, role in CASES])
def test_a_plan_answers_byte_for_byte_as_graphql_core(
        clients: tuple[TestClient, TestClient], name: str, request_: dict[str, Any],
        role: str) -> None:
    taken, first, second, usual = twice(clients, request_, role)
    assert taken == 1, f"{name}: the second request was not answered by its plan"
    assert first == usual
    assert second == usual, f"{name}: {second[2][:300]!r} != {usual[2][:300]!r}"


@pytest.mark.neo4j
@pytest.mark.parametrize(("name", "request_"), LEFT + UNPLANNED,
                         ids=[name for name, _ in LEFT + UNPLANNED])
def test_what_a_plan_does_not_know_goes_the_usual_way(
        clients: tuple[TestClient, TestClient], name: str, request_: dict[str, Any]) -> None:
    taken, first, second, usual = twice(clients, request_, "investigator")
    assert taken == 0, name
    assert first == usual
    assert second == usual


@pytest.mark.neo4j
def test_a_planned_operation_hands_back_a_request_costing_more_than_the_cap(
        driver: Driver, database: str, neo4j_connection: Connection) -> None:
    load_graph(driver, database)
    request = graphql(PAGES, id="S9", first=5)
    costly = graphql(PAGES, id="S9", first=400)
    with TestClient(create_app(connection=neo4j_connection, cost_caps={"analyst": 100})) as planned:
        assert b'"errors"' not in send(planned, request, "analyst")[2]
        before = compiled_count()
        assert b'"errors"' not in send(planned, request, "analyst")[2]
        assert compiled_count() == before + 1
        refused = send(planned, costly, "analyst")
    assert compiled_count() == before + 1
    assert b"QUERY_TOO_COSTLY" in refused[2]


def test_only_single_queries_of_known_fields_compile() -> None:
    graph = schema._schema  # noqa: SLF001
    assert compile_operation(graph, SELLER, None) is not None
    assert compile_operation(graph, SELLER, "Other") is None
    assert compile_operation(graph, "query Q { search(text: \"x\") { key } }", "Q") is not None
    assert compile_operation(graph, 'mutation { decideMatch(a: "1") { a } }', None) is None
    assert compile_operation(graph, "{ seller(sellerId: ", None) is None
    assert compile_operation(graph, '{ seller(sellerId: "S1") { a: nickname a: sellerId } }',
                             None) is None
