"""GraphQL sellerNetwork, networks, traceToSource and riskScore on the hand-made ring,
through the real app and a real Neo4j; and `alliance analyze networks` from the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neo4j import Driver
from typer.testing import CliRunner

from alliance.cli import app as cli_app
from api.auth import issue_token
from api.main import create_app
from graph.caller import Caller
from graph.drivers import Connection
from tests.test_network import EXAMPLE, RING, WAREHOUSE_USERS

pytestmark = pytest.mark.neo4j


@pytest.fixture
def client(clean_db: Driver, database: str, neo4j_connection: Connection
           ) -> Iterator[TestClient]:
    clean_db.execute_query(EXAMPLE, {"ring": RING}, database_=database)
    clean_db.execute_query(WAREHOUSE_USERS, {"n": 35}, database_=database)
    clean_db.execute_query(
        "MATCH (sh:Shop {shop_id: 'shop-r3'}), (wa:Address {address_key: 'addr:warehouse'}) "
        "MERGE (sh)-[:RETURNS_TO]->(wa)", database_=database)
    clean_db.execute_query(
        "MATCH (l:Listing {listing_id: 'lst-r1'}) MERGE (b:Brand {brand_id: 'B1'}) "
        "MERGE (l)-[:CLAIMS_BRAND]->(b) MERGE (b)-[:FILED]->(c:Complaint "
        "{complaint_id: 'C1', outcome: 'upheld'})-[:AGAINST]->(l)", database_=database)
    with TestClient(create_app(connection=neo4j_connection)) as test_client:
        yield test_client


def gql(client: TestClient, query: str, role: str = "investigator", **variables: Any
        ) -> dict[str, Any]:
    bearer = issue_token(Caller(sub=f"test-{role}", role=role, brand_id="B1"  # type: ignore[arg-type]
                                if role == "brand_member" else None))
    response = client.post("/graphql", json={"query": query, "variables": variables},
                           headers={"Authorization": f"Bearer {bearer}"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


NETWORK = """query($id: ID!, $s: LinkStrength!) { sellerNetwork(sellerId: $id, strength: $s) {
  sellers { sellerId distance } shops links { a b via { kind value weight } }
  hubsSkipped { value sellers } stats { sellers listings brandsHit upheldComplaints }
  riskScore riskFactors { name value contribution } } }"""

TRACE = """query($l: ID) { traceToSource(listingId: $l) { score site { siteId kind status }
  paths { weight kind hops { from { label key caption } type to { label key } source reversed } } } }"""


def test_seller_network_over_graphql(client: TestClient) -> None:
    body = gql(client, NETWORK, id="r3", s="WEAK")
    assert "errors" not in body, body
    net = body["data"]["sellerNetwork"]
    assert [m["sellerId"] for m in net["sellers"]] == ["r3", "r1", "r2"]
    assert net["stats"]["upheldComplaints"] == 1 and net["stats"]["brandsHit"] == 1
    assert net["hubsSkipped"] == [{"value": "addr:warehouse", "sellers": 36}]
    assert {v["kind"] for lk in net["links"] for v in lk["via"]} == {
        "phone", "payment_account", "address"}
    factors = {f["name"]: f for f in net["riskFactors"]}
    assert factors["upheld_complaints"]["value"] == 1 and factors["network_size"]["value"] == 2
    assert 0 < net["riskScore"] < 1


def test_trace_over_graphql(client: TestClient) -> None:
    body = gql(client, TRACE, l="lst-r2")
    assert "errors" not in body, body
    traces = body["data"]["traceToSource"]
    assert traces[0]["site"]["siteId"] == "site:factory"
    hops = traces[0]["paths"][0]["hops"]
    assert hops[0]["from"] == {"label": "Listing", "key": "lst-r2", "caption": "Sneaker r2"}
    assert hops[0]["reversed"] is True  # (Shop)-[:OFFERS]->(Listing), read backwards
    assert (hops[-1]["type"], hops[-1]["to"]["key"], hops[-1]["reversed"]) == (
        "LOCATED_AT", "site:factory", True)
    assert hops[-2]["type"] == "SHIPS_FROM" and hops[-2]["reversed"] is False
    honest = gql(client, TRACE, l="lst-h3")["data"]["traceToSource"]
    assert honest == []


def test_bad_arguments_and_roles_get_clear_errors(client: TestClient) -> None:
    body = gql(client, "{ traceToSource(listingId: \"lst-r1\", sellerId: \"r1\") { score } }")
    assert "exactly one" in body["errors"][0]["message"]
    body = gql(client, "{ sellerNetwork(sellerId: \"nobody\") { riskScore } }")
    assert "no seller with seller_id 'nobody'" in body["errors"][0]["message"]
    body = gql(client, NETWORK, role="brand_member", id="r1", s="STRONG")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_cli_analyze_then_networks_ranked(client: TestClient) -> None:
    runner = CliRunner()
    result = runner.invoke(cli_app, ["analyze", "networks", "--hub-threshold", "30"])
    assert result.exit_code == 0, result.output
    assert "1 networks (STRONG) of 3 sellers" in result.output
    result = runner.invoke(cli_app, ["analyze", "networks", "--strength", "WEAK"])
    assert result.exit_code == 0, result.output
    assert "hub skipped: address addr:warehouse shared by 36 sellers" in result.output
    page = gql(client, "{ networks(first: 1, brandId: \"B1\") { items { networkId size "
                       "riskScore upheldComplaints } hasNextPage endCursor } }")
    assert "errors" not in page, page
    assert page["data"]["networks"]["items"] == [
        {"networkId": "net:r1", "size": 3, "riskScore": pytest.approx(
            page["data"]["networks"]["items"][0]["riskScore"]), "upheldComplaints": 1}]
    assert page["data"]["networks"]["items"][0]["riskScore"] > 0
    assert page["data"]["networks"]["hasNextPage"] is False
    bad = runner.invoke(cli_app, ["analyze", "networks", "--incremental"])
    assert bad.exit_code == 2 and "go together" in bad.output
    risk = gql(client, "{ riskScore(shopId: \"shop-r1\") { score factors { name value } } }")
    factors = {f["name"]: f["value"] for f in risk["data"]["riskScore"]["factors"]}
    assert factors["upheld_complaints"] == 1 and factors["network_size"] == 2
