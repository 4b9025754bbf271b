"""The GraphQL API against a real Neo4j: auth, scoping, lookups, connections, search,
network, limits, errors and database round trips.

The graph is written by Cypher that follows graph/model.py: two brands; a ring of two
sellers sharing a phone; a seller with 50 shops (two listings each, one complaint per
listing) for paging and round-trip counts; an address in 莆田 with a site; an agency over
a chain of divisions; one listing whose price a faulty load left as text.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from graphql import get_introspection_query
from neo4j import READ_ACCESS, AsyncGraphDatabase, Driver
from typer.testing import CliRunner

from alliance.cli import app as cli_app
from api import schema
from api.auth import issue_token, verify_token
from api.deps import caller_from_token
from api.main import create_app
from api.scope import SENSITIVE_LABELS
from core.errors import QueryTooSlow
from core.settings import get_settings
from graph import access
from graph.caller import Caller
from graph.drivers import Connection
from tests.counting_driver import CountingDriver

pytestmark = pytest.mark.neo4j

BASE = """
CREATE (b1:Brand {brand_id: 'B1', name: 'PeakStride', name_zh: '峰步', country: 'US',
                  alliance_member: true, joined_on: date('2020-01-15'), trademark_nos: ['TM1', 'TM2'],
                  source: 'fixture'})
CREATE (b2:Brand {brand_id: 'B2', name: 'Other Brand', country: 'DE'})
CREATE (s1:Seller {seller_id: 'S1', platform: 'taobao', nickname: '莆田鞋业', legal_name: 'Putian Shoes Co',
                   status: 'active', registered_on: date('2018-06-30')})
CREATE (s2:Seller {seller_id: 'S2', platform: 'taobao', nickname: 'runfast', status: 'active'})
CREATE (sh1:Shop {shop_id: 'SH1', platform: 'taobao', name: 'Peak outlet', status: 'open'})
CREATE (sh2:Shop {shop_id: 'SH2', platform: 'taobao', name: 'Second shop'})
CREATE (sh3:Shop {shop_id: 'SH3', platform: 'taobao', name: 'Other shop'})
CREATE (l1:Listing {listing_id: 'L1', title: 'PeakStride 跑鞋 正品', price: 199.0,
                    currency: 'CNY', status: 'live'})
CREATE (l2:Listing {listing_id: 'L2', title: 'running shoes', price: 99.5, status: 'live'})
CREATE (l3:Listing {listing_id: 'L3', title: 'other brand bag', price: 50.0, status: 'blocked'})
CREATE (bad:Listing {listing_id: 'LBAD', title: 'broken price', price: 'not a number'})
CREATE (c1:Complaint {complaint_id: 'C1', filed_on: date('2024-03-01'),
                      kind: 'counterfeit', outcome: 'upheld'})
CREATE (c2:Complaint {complaint_id: 'C2', filed_on: date('2024-03-02'),
                      kind: 'trademark', outcome: 'pending'})
CREATE (tp1:TestPurchase {purchase_id: 'TP1', verdict: 'counterfeit', report_no: 'R-1'})
CREATE (ph:Phone {e164: '+8613800138000', region: 'CN', raw_forms: ['138 0013 8000']})
CREATE (id1:Identity {id_hash: 'hash-s1', kind: 'id_card'})
CREATE (em:Email {email: 'boss@example.com'})
CREATE (pa:PaymentAccount {account: 'alipay:123', provider: 'alipay'})
CREATE (dv:Device {device: 'fp:abc', kind: 'fp'})
CREATE (a1:Address {address_key: 'A1', raw: '福建省莆田市荔城区工业路88号',
                    normalized: '福建省莆田市荔城区工业路88号', province: '福建省', city: '莆田市',
                    district: '荔城区', adcode: '350304'})
CREATE (a2:Address {address_key: 'A2', raw: '广东省广州市白云区机场路1号', adcode: '440111'})
CREATE (site:Site {site_id: 'X1', kind: 'factory', status: 'suspected', label: 'shoe workshop'})
CREATE (pe:Person {person_id: 'P1', name: '张三'})
CREATE (prov:Division {adcode: '350000', name: '福建省', level: 'province'})
CREATE (city:Division {adcode: '350300', name: '莆田市', level: 'city'})
CREATE (dist:Division {adcode: '350304', name: '荔城区', level: 'district'})
CREATE (other:Division {adcode: '440111', name: '白云区', level: 'district'})
CREATE (ag:Agency {agency_id: 'AG1', name: '莆田市公安局', level: 'city', adcode: '350300'})
CREATE (s1)-[:OPERATES]->(sh1), (s1)-[:OPERATES]->(sh2), (s2)-[:OPERATES]->(sh3)
CREATE (sh1)-[:OFFERS]->(l1), (sh2)-[:OFFERS]->(l2), (sh3)-[:OFFERS]->(l3), (sh3)-[:OFFERS]->(bad)
CREATE (l1)-[:CLAIMS_BRAND]->(b1), (l3)-[:CLAIMS_BRAND]->(b2)
CREATE (b1)-[:FILED]->(c1)-[:AGAINST]->(l1), (b2)-[:FILED]->(c2)-[:AGAINST]->(l3)
CREATE (tp1)-[:BOUGHT]->(l2), (tp1)-[:AUTHENTICATED_BY]->(b1)
CREATE (s1)-[:HAS_PHONE]->(ph), (s2)-[:HAS_PHONE]->(ph)
CREATE (s1)-[:VERIFIED_AS]->(id1), (s1)-[:HAS_EMAIL]->(em), (s1)-[:PAID_TO]->(pa),
       (s1)-[:USED_DEVICE]->(dv)
CREATE (sh1)-[:SHIPS_FROM]->(a1), (site)-[:LOCATED_AT]->(a1), (pe)-[:CONTROLS]->(s1),
       (pe)-[:RUNS]->(site), (a1)-[:IN_DIVISION]->(dist), (a2)-[:IN_DIVISION]->(other)
CREATE (dist)-[:PART_OF]->(city)-[:PART_OF]->(prov), (ag)-[:IN_DIVISION]->(city)
"""

BULK = """
MATCH (b2:Brand {brand_id: 'B2'})
CREATE (s9:Seller {seller_id: 'S9', platform: 'pdd', nickname: 'bulk seller'})
WITH s9, b2
UNWIND range(0, 49) AS i
CREATE (s9)-[:OPERATES]->(shop:Shop {shop_id: 'SHB' + right('0' + toString(i), 2),
                                     platform: 'pdd', name: 'bulk shop ' + i})
WITH shop, b2, i
UNWIND range(0, 1) AS j
CREATE (shop)-[:OFFERS]->(l:Listing {listing_id: 'LB' + i + '-' + j, title: 'bulk item', price: 10.0})
CREATE (b2)-[:FILED]->(:Complaint {complaint_id: 'CB' + i + '-' + j, kind: 'counterfeit'})-[:AGAINST]->(l)
"""


def load_graph(driver: Driver, database: str) -> None:
    with driver.session(database=database) as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()
        session.run(BASE).consume()
        session.run(BULK).consume()


# --- fixtures and helpers ---------------------------------------------------------------


@pytest.fixture(scope="module")
def client(driver: Driver, database: str, neo4j_connection: Connection) -> Iterator[TestClient]:
    load_graph(driver, database)
    with TestClient(create_app(connection=neo4j_connection)) as test_client:
        yield test_client


def token(role: str = "investigator", **claims: Any) -> str:
    return issue_token(Caller(sub=f"test-{role}", role=role, **claims))  # type: ignore[arg-type]


def gql(client: TestClient, query: str, bearer: str | None = None, **variables: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {bearer or token()}"}
    response = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def data(client: TestClient, query: str, bearer: str | None = None, **variables: Any) -> dict[str, Any]:
    body = gql(client, query, bearer, **variables)
    assert "errors" not in body, body["errors"]
    result: dict[str, Any] = body["data"]
    return result


def error(client: TestClient, query: str, bearer: str | None = None, **variables: Any) -> dict[str, Any]:
    body = gql(client, query, bearer, **variables)
    assert body.get("errors"), body
    first: dict[str, Any] = body["errors"][0]
    return first


@pytest.fixture
def counting(client: TestClient) -> Iterator[CountingDriver]:
    state = client.app.state  # type: ignore[attr-defined]
    original = state.driver
    state.driver = CountingDriver(original)
    try:
        yield state.driver
    finally:
        state.driver = original


# --- serving and authentication -----------------------------------------------------------


def test_health_and_readiness_are_open(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def _forged(claims: dict[str, Any], secret: str | None = None) -> str:
    return jwt.encode(claims, secret or get_settings().jwt_secret(), algorithm="HS256")


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "no bearer token"),
        ({"Authorization": "Basic abc"}, "must be `Bearer <token>`"),
        ({"Authorization": "Bearer not-a-jwt"}, "not a valid JWT"),
        ({"Authorization": "Bearer Bearer not-a-jwt"}, "starts with `Bearer` again"),
        ({"Authorization": "Bearer " + _forged(
            {"sub": "x", "role": "admin", "exp": int(time.time()) + 60}, "another-secret-" * 3)},
         "signature does not match"),
        ({"Authorization": "Bearer " + _forged(
            {"sub": "x", "role": "admin", "exp": int(time.time()) - 60})}, "expired"),
        ({"Authorization": "Bearer " + _forged(
            {"sub": "x", "role": "boss", "exp": int(time.time()) + 3600})}, "unknown role 'boss'"),
        ({"Authorization": "Bearer " + _forged({"sub": "x", "role": "admin"})}, "'exp' claim"),
        ({"Authorization": "Bearer " + _forged(
            {"sub": "x", "role": "brand_member", "exp": int(time.time()) + 3600})}, "needs a brand id"),
    ],
)
def test_requests_without_a_good_token_get_401_with_a_reason(
    client: TestClient, headers: dict[str, str], reason: str
) -> None:
    response = client.post("/graphql", json={"query": "{ brand(brandId: \"B1\") { name } }"},
                           headers=headers)
    assert response.status_code == 401
    assert reason in response.json()["detail"]
    assert response.headers["www-authenticate"] == "Bearer"
    assert client.get("/metrics", headers=headers).status_code == 401


def test_nothing_else_is_open(client: TestClient) -> None:
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == 404, path


def test_graphiql_page_loads_in_a_browser_without_a_token(client: TestClient) -> None:
    page = client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    # a query over GET still needs a token
    assert client.get("/graphql", params={"query": "{ brand(brandId: \"B1\") { name } }"}).status_code == 401


def test_query_over_get_with_a_token(client: TestClient) -> None:
    response = client.get("/graphql", params={"query": '{ brand(brandId: "B1") { name } }'},
                          headers={"Authorization": f"Bearer {token()}"})
    assert response.json()["data"] == {"brand": {"name": "PeakStride"}}


def test_graphiql_can_introspect_the_schema(client: TestClient) -> None:
    schema_info = data(client, get_introspection_query(descriptions=True))["__schema"]
    names = {t["name"] for t in schema_info["types"]}
    assert {"Seller", "SellerConnection", "Graph", "SearchHit", "PageInfo"} <= names


def test_token_cli_prints_a_token_the_api_accepts() -> None:
    result = CliRunner().invoke(cli_app, ["token", "issue", "--role", "brand_member", "--brand", "B1",
                                          "--sub", "acme", "--ttl", "30m"])
    assert result.exit_code == 0, result.output
    caller = verify_token(result.output.strip())
    assert (caller.sub, caller.role, caller.brand_id) == ("acme", "brand_member", "B1")
    refused = CliRunner().invoke(cli_app, ["token", "issue", "--role", "police_liaison"])
    assert refused.exit_code != 0
    assert "agency id" in refused.output


def test_metrics_count_requests_and_neo4j_time(client: TestClient) -> None:
    data(client, '{ brand(brandId: "B1") { name } }')
    text = client.get("/metrics", headers={"Authorization": f"Bearer {token('analyst')}"}).text
    assert 'alliance_api_requests_total{method="POST",path="/graphql",status="200"}' in text
    assert "alliance_api_request_seconds_bucket" in text
    assert 'alliance_api_neo4j_query_seconds_count{query="node:Brand"}' in text


def test_request_id_is_returned_and_logged(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="api.access"):
        response = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert any(getattr(r, "request_id", None) == "abc-123" for r in caplog.records)
    generated = client.get("/healthz").headers["x-request-id"]
    assert len(generated) == 32


def test_liaison_jurisdiction_is_the_agency_division_and_below(neo4j_connection: Connection,
                                                               client: TestClient) -> None:
    async def resolve() -> Caller:
        async with AsyncGraphDatabase.driver(neo4j_connection.uri, auth=neo4j_connection.auth) as drv:
            return await caller_from_token(token("police_liaison", agency_id="AG1"), drv,
                                           neo4j_connection.database)

    caller = asyncio.run(resolve())
    assert caller.agency_adcodes == ("350300", "350304")


# --- lookups and connections ----------------------------------------------------------------

SELLER = """
query($id: ID!) { seller(sellerId: $id) {
  id sellerId nickname legalName registeredOn status
  operates { totalCount nodes { shopId name } }
  hasPhone { nodes { e164 sellers { totalCount } } }
  verifiedAs { nodes { idHash } }
} }
"""


def test_investigator_looks_up_a_seller_with_its_relationships(client: TestClient) -> None:
    seller = data(client, SELLER, id="S1")["seller"]
    assert seller["id"] == "Seller:S1"
    assert (seller["nickname"], seller["legalName"]) == ("莆田鞋业", "Putian Shoes Co")
    assert seller["registeredOn"] == "2018-06-30"
    assert seller["operates"]["totalCount"] == 2
    assert sorted(s["shopId"] for s in seller["operates"]["nodes"]) == ["SH1", "SH2"]
    assert seller["hasPhone"]["nodes"][0] == {"e164": "+8613800138000",
                                              "sellers": {"totalCount": 2}}
    assert seller["verifiedAs"]["nodes"] == [{"idHash": "hash-s1"}]


def test_every_lookup_finds_its_node(client: TestClient) -> None:
    found = data(client, """{
      seller(sellerId: "S1") { sellerId } shop(shopId: "SH1") { shopId }
      listing(listingId: "L1") { price currency } brand(brandId: "B1") { trademarkNos allianceMember }
      site(siteId: "X1") { label } person(personId: "P1") { name }
      address(addressKey: "A1") { district inDivision { nodes { adcode partOf { nodes { name } } } } }
      phone(e164: "+8613800138000") { region rawForms } agency(agencyId: "AG1") { name }
      missing: seller(sellerId: "nope") { sellerId }
    }""")
    assert found["listing"] == {"price": 199.0, "currency": "CNY"}
    assert found["brand"] == {"trademarkNos": ["TM1", "TM2"], "allianceMember": True}
    assert found["address"]["inDivision"]["nodes"] == [
        {"adcode": "350304", "partOf": {"nodes": [{"name": "莆田市"}]}}]
    assert found["phone"] == {"region": "CN", "rawForms": ["138 0013 8000"]}
    assert found["agency"] == {"name": "莆田市公安局"}
    assert found["missing"] is None
    assert {found[k] is not None for k in ("seller", "shop", "site", "person")} == {True}


PAGE = """
query($after: String) { seller(sellerId: "S9") { operates(first: 20, after: $after) {
  totalCount edges { cursor node { shopId } } pageInfo { hasNextPage hasPreviousPage endCursor }
} } }
"""


def test_connections_page_with_cursors(client: TestClient) -> None:
    seen: list[str] = []
    after = None
    pages = []
    while True:
        conn = data(client, PAGE, after=after)["seller"]["operates"]
        pages.append(len(conn["edges"]))
        seen += [e["node"]["shopId"] for e in conn["edges"]]
        assert conn["totalCount"] == 50
        assert conn["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert pages == [20, 20, 10]
    assert seen == [f"SHB{i:02d}" for i in range(50)]


def test_relationship_properties_and_bad_cursor(client: TestClient) -> None:
    err = error(client, PAGE, after="garbage")
    assert "after" in err["message"] and "not a cursor" in err["message"]
    assert err["extensions"]["code"] == "BAD_REQUEST"


# --- scoping by role -----------------------------------------------------------------------

SCOPED = """{
  b1: brand(brandId: "B1") { name filed { totalCount } authenticatedPurchases { totalCount } }
  b2: brand(brandId: "B2") { name filed { totalCount } claimedBy { totalCount } }
  l1: listing(listingId: "L1") { title complaints { nodes { complaintId } } offeredBy { nodes { shopId } } }
  l2: listing(listingId: "L2") { title testPurchases { nodes { purchaseId } } }
  l3: listing(listingId: "L3") { title }
  sh1: shop(shopId: "SH1") { name operatedBy { totalCount } shipsFrom { totalCount } }
  sh3: shop(shopId: "SH3") { name }
  seller(sellerId: "S1") { sellerId }
  phone(e164: "+8613800138000") { e164 }
  person(personId: "P1") { name }
  address(addressKey: "A1") { raw }
}"""


def test_brand_member_sees_its_own_cases_and_nothing_personal(client: TestClient) -> None:
    seen = data(client, SCOPED, token("brand_member", brand_id="B1"))
    assert seen["b1"] == {"name": "PeakStride", "filed": {"totalCount": 1},
                          "authenticatedPurchases": {"totalCount": 1}}
    assert seen["b2"] == {"name": "Other Brand", "filed": {"totalCount": 0},
                          "claimedBy": {"totalCount": 0}}
    assert seen["l1"] == {"title": "PeakStride 跑鞋 正品", "complaints": {"nodes": [{"complaintId": "C1"}]},
                          "offeredBy": {"nodes": [{"shopId": "SH1"}]}}
    assert seen["l2"] == {"title": "running shoes", "testPurchases": {"nodes": [{"purchaseId": "TP1"}]}}
    assert seen["sh1"] == {"name": "Peak outlet", "operatedBy": {"totalCount": 0},
                           "shipsFrom": {"totalCount": 0}}
    for hidden in ("l3", "sh3", "seller", "phone", "person", "address"):
        assert seen[hidden] is None, hidden


def test_investigator_and_admin_see_everything(client: TestClient) -> None:
    for role in ("investigator", "admin"):
        seen = data(client, SCOPED, token(role))
        assert seen["b2"]["filed"]["totalCount"] == 101
        assert seen["sh1"]["operatedBy"]["totalCount"] == 1
        assert all(seen[k] is not None for k in seen), role


def test_analysts_see_no_single_node(client: TestClient) -> None:
    seen = data(client, SCOPED, token("analyst"))
    assert all(value is None for value in seen.values()), seen


def test_police_liaison_without_leads_sees_the_directory_only(client: TestClient) -> None:
    seen = data(client, SCOPED, token("police_liaison", agency_id="AG1"))
    assert seen["b1"]["name"] == "PeakStride" and seen["b1"]["filed"] == {"totalCount": 0}
    assert all(seen[k] is None for k in seen if k not in ("b1", "b2")), seen


def test_brand_member_search_and_network_show_no_personal_nodes(client: TestClient) -> None:
    member = token("brand_member", brand_id="B1")
    hits = data(client, '{ search(text: "PeakStride") { label key } }', member)["search"]
    assert {"label": "Listing", "key": "L1"} in hits
    directory = data(client, '{ search(text: "莆田") { label } }', member)["search"]
    assert {h["label"] for h in directory} <= {"Division", "Agency"}
    assert data(client, '{ search(text: "莆田") { key } }')["search"] != []
    graph = data(client, '{ network(seedIds: ["Listing:L1", "Seller:S1"], hops: 3) { nodes { id label } } }',
                 member)["network"]
    labels = {n["label"] for n in graph["nodes"]}
    assert labels <= {"Brand", "Listing", "Shop", "Complaint", "TestPurchase"}
    assert not labels & set(SENSITIVE_LABELS)
    everything = data(client, '{ network(seedIds: ["Seller:S1"], hops: 1) { nodes { label } } }')
    assert set(SENSITIVE_LABELS) <= {n["label"] for n in everything["network"]["nodes"]}
    assert "Seller:S1" not in {n["id"] for n in graph["nodes"]}


# --- search ---------------------------------------------------------------------------------

SEARCH = ("query($t: String!, $l: [String!]) "
          "{ search(text: $t, labels: $l) { id label key displayName score } }")


def test_search_in_chinese_finds_the_address(client: TestClient) -> None:
    hits = data(client, SEARCH, t="莆田 工业路")["search"]
    assert hits[0]["id"] == "Address:A1"
    assert hits[0]["displayName"] == "福建省莆田市荔城区工业路88号"
    assert "Address:A2" not in {h["id"] for h in hits}
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_search_in_latin_and_by_label(client: TestClient) -> None:
    hits = data(client, SEARCH, t="peakstride")["search"]
    assert {"Brand:B1", "Listing:L1"} <= {h["id"] for h in hits}
    only = data(client, SEARCH, t="peakstride", l=["Brand"])["search"]
    assert [h["id"] for h in only] == ["Brand:B1"]
    assert only[0]["displayName"] == "PeakStride"


def test_search_treats_lucene_syntax_as_text_and_checks_labels(client: TestClient) -> None:
    assert data(client, SEARCH, t='peakstride AND ("run*" OR title:x) \\ ~ /')["search"] is not None
    err = error(client, SEARCH, t="x", l=["Nope", "Phone"])
    assert "'Nope'" in err["message"] and "'Phone'" in err["message"]
    assert "cannot be searched" in err["message"]
    assert "at least one word" in error(client, SEARCH, t="   ")["message"]


# --- network --------------------------------------------------------------------------------

NETWORK = """
query($seeds: [ID!]!, $hops: Int!, $limit: Int!, $types: [String!], $hub: Int! = 100) {
  network(seedIds: $seeds, hops: $hops, limit: $limit, relTypes: $types, hubDegree: $hub) {
    nodes { id label key caption properties hub seed degree }
    edges { id type source target properties }
    truncated elements
  }
}
"""


def test_network_of_a_ring_links_sellers_through_the_shared_phone(client: TestClient) -> None:
    graph = data(client, NETWORK, seeds=["Seller:S1"], hops=2, limit=200)["network"]
    ids = {n["id"] for n in graph["nodes"]}
    assert {"Seller:S1", "Phone:+8613800138000", "Seller:S2", "Shop:SH1", "Listing:L1"} <= ids
    assert not graph["truncated"]
    edges = {(e["source"], e["type"], e["target"]) for e in graph["edges"]}
    assert ("Seller:S2", "HAS_PHONE", "Phone:+8613800138000") in edges
    assert all(e["source"] in ids and e["target"] in ids for e in graph["edges"])
    seller = next(n for n in graph["nodes"] if n["id"] == "Seller:S1")
    assert seller["seed"] and seller["caption"] == "莆田鞋业"
    assert seller["properties"]["registered_on"] == "2018-06-30"
    assert len(graph["elements"]) == len(graph["nodes"]) + len(graph["edges"])


def test_network_with_no_hops_is_the_seeds(client: TestClient) -> None:
    graph = data(client, NETWORK, seeds=["Seller:S1", "Brand:B1", "Seller:nobody"], hops=0,
                 limit=10)["network"]
    assert sorted(n["id"] for n in graph["nodes"]) == ["Brand:B1", "Seller:S1"]
    assert graph["edges"] == [] and graph["truncated"] is False


def test_network_by_bare_key_and_rel_types(client: TestClient) -> None:
    graph = data(client, NETWORK, seeds=["S1"], hops=3, limit=200, types=["OPERATES"])["network"]
    assert {n["id"] for n in graph["nodes"]} == {"Seller:S1", "Shop:SH1", "Shop:SH2"}
    assert {e["type"] for e in graph["edges"]} == {"OPERATES"}


def test_network_stops_at_the_limit_and_says_so(client: TestClient) -> None:
    graph = data(client, NETWORK, seeds=["Seller:S9"], hops=2, limit=10)["network"]
    assert len(graph["nodes"]) == 10
    assert graph["truncated"] is True


def test_network_marks_hubs_and_does_not_expand_them(client: TestClient) -> None:
    graph = data(client, NETWORK, seeds=["Listing:L3"], hops=3, limit=500, hub=10)["network"]
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert nodes["Brand:B2"]["hub"] is True and nodes["Brand:B2"]["degree"] == 102
    # B2's 101 complaints would be one hop past the hub
    assert not any(i.startswith("Complaint:CB") for i in nodes)
    unlimited = data(client, NETWORK, seeds=["Listing:L3"], hops=2, limit=500, hub=1000)["network"]
    assert any(n["id"].startswith("Complaint:CB") for n in unlimited["nodes"])


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"seeds": ["S1"], "hops": 5, "limit": 10}, "hops is 5; it must be between 0 and 4"),
        ({"seeds": ["S1"], "hops": 1, "limit": 2001}, "limit is 2001; it must be between 1 and 2000"),
        ({"seeds": ["S1"], "hops": 1, "limit": 10, "types": ["OFFERS", "LIKES"]},
         "unknown relationship type(s) 'LIKES'"),
        ({"seeds": [], "hops": 1, "limit": 10}, "at least one seed"),
    ],
)
def test_network_arguments_are_checked(client: TestClient, variables: dict[str, Any], message: str) -> None:
    err = error(client, NETWORK, **variables)
    assert message in err["message"]
    assert err["extensions"]["code"] == "BAD_REQUEST"


# --- limits and errors ----------------------------------------------------------------------


def test_first_is_capped_at_500(client: TestClient) -> None:
    err = error(client, '{ seller(sellerId: "S9") { operates(first: 501) { totalCount } } }')
    assert err["message"] == "first is 501, above the maximum of 500"
    assert "above the maximum of 500" in error(client, '{ search(text: "x", first: 501) { key } }')["message"]


def test_depth_tokens_and_aliases_are_limited(client: TestClient) -> None:
    deep = ('{ seller(sellerId: "S1") { operates { nodes { offers { nodes { complaints { nodes {'
            ' filedBy { nodes { filed { nodes { complaintId } } } } } } } } } } } }')
    assert "exceeds maximum operation depth of 10" in error(client, deep)["message"]
    aliases = "{ " + " ".join(f'a{i}: brand(brandId: "B1") {{ name }}' for i in range(31)) + " }"
    assert "aliases" in error(client, aliases)["message"].lower()
    tokens = "{ " + " ".join('brand(brandId: "B1") { name }' for _ in range(500)) + " }"
    assert "token" in error(client, tokens)["message"].lower()


def test_unexpected_errors_are_masked_with_the_request_id(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="api.errors"):
        response = client.post(
            "/graphql", json={"query": '{ listing(listingId: "LBAD") { title price } }'},
            headers={"Authorization": f"Bearer {token()}", "X-Request-ID": "req-42"},
        )
    logged = [r for r in caplog.records if getattr(r, "request_id", None) == "req-42"]
    assert logged and logged[0].exc_info is not None  # the real cause stays in the log
    err = response.json()["errors"][0]
    assert err["message"] == "internal error, request id req-42"
    assert err["extensions"] == {"code": "INTERNAL", "requestId": "req-42"}
    assert "not a number" not in response.text


def test_user_errors_carry_the_request_id_too(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": '{ network(seedIds: ["S1"], hops: 9) { truncated } }'},
                           headers={"Authorization": f"Bearer {token()}"})
    err = response.json()["errors"][0]
    assert err["extensions"]["requestId"] == response.headers["x-request-id"]


def test_slow_queries_are_stopped_with_a_clear_error(neo4j_connection: Connection) -> None:
    async def slow() -> None:
        async with AsyncGraphDatabase.driver(neo4j_connection.uri, auth=neo4j_connection.auth) as drv:
            await access.read_async(drv, neo4j_connection.database,
                                    "UNWIND range(1, 2000000000) AS x RETURN sum(x) AS s", {},
                                    timeout=0.5)

    with pytest.raises(QueryTooSlow, match="query took too long"):
        asyncio.run(slow())


def test_nested_query_takes_one_round_trip(client: TestClient, counting: CountingDriver) -> None:
    nested = """{ seller(sellerId: "S9") { operates(first: 50) { nodes { shopId
      offers { nodes { listingId complaints { nodes { complaintId } } } } } } } }"""
    shops = data(client, nested)["seller"]["operates"]["nodes"]
    assert len(shops) == 50
    listings = [listing for s in shops for listing in s["offers"]["nodes"]]
    complaints = [c for listing in listings for c in listing["complaints"]["nodes"]]
    assert len(complaints) == 100
    assert len(counting.sessions) == 1  # the seller with its shops, listings and complaints
    for kwargs in counting.sessions:
        assert kwargs["database"] == "neo4j" and kwargs["default_access_mode"] == READ_ACCESS


def test_committed_sdl_matches_the_schema() -> None:
    assert schema.SDL_PATH.read_text(encoding="utf-8") == schema.sdl(), (
        "api/schema.graphql is out of date; run `python -m api.schema`")
