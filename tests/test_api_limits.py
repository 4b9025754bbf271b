"""The API's limits against a real Neo4j: query cost caps, /healthz during a maximal
query, the request body limit, the bounded document cache, and client errors reported
as client errors (4xx or a GraphQL error with a code and the request id, never 500).

The graph: brand BH claimed by 500 listings (enough for a query at the investigator's
cost cap), and the fixture graph of tests/test_api.py.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from graphql import parse
from neo4j import Driver

from api import cost, documents, types
from api.main import MAX_BODY, create_app
from api.schema import schema
from core.settings import Settings
from graph.drivers import Connection
from tests.test_api import load_graph, token

pytestmark = pytest.mark.neo4j

HEAVY = """
CREATE (b:Brand {brand_id: 'BH', name: 'Heavy'})
WITH b UNWIND range(0, 499) AS i
CREATE (:Listing {listing_id: 'LH' + right('00' + toString(i), 3), title: 'heavy listing ' + i,
                  price: 1.0 * i, currency: 'CNY', status: 'live'})-[:CLAIMS_BRAND]->(b)
"""


@pytest.fixture(scope="module")
def client(driver: Driver, database: str, neo4j_connection: Connection) -> Iterator[TestClient]:
    load_graph(driver, database)
    with driver.session(database=database) as session:
        session.run(HEAVY).consume()
    with TestClient(create_app(connection=neo4j_connection)) as test_client:
        yield test_client


def post(client: TestClient, body: dict[str, Any], bearer: str | None = None,
         request_id: str = "req-limits") -> Any:
    return client.post("/graphql", json=body, headers={
        "Authorization": f"Bearer {bearer or token()}", "X-Request-ID": request_id})


def first_error(client: TestClient, query: str, bearer: str | None = None,
                **variables: Any) -> dict[str, Any]:
    response = post(client, {"query": query, "variables": variables}, bearer)
    assert response.status_code == 200, response.text
    errors: list[dict[str, Any]] = response.json()["errors"]
    return errors[0]


def aliased(count: int, selection: str) -> str:
    return "{ " + " ".join(f'a{i}: brand(brandId: "BH") {{ {selection} }}' for i in range(count)) + " }"


# --- cost ---------------------------------------------------------------------------------

PROBE = ("claimedBy(first: 500) { nodes { claimsBrand { nodes { "
         "claimedBy(first: 500) { nodes { listingId } } } } } }")
"""The reported query that stalled the API (30 of them, within the depth limit)."""
MAXIMAL = ("claimedBy(first: 500) { nodes { listingId title price currency status "
           "claimsBrand(first: 1) { nodes { brandId name } } } }")
"""30 of these cost 45,060: under the investigator's cap, 45,000 objects answered."""


def cost_of(query: str, **variables: Any) -> int:
    return cost.query_cost(schema._schema, parse(query), None, variables)


def test_cost_multiplies_page_sizes_down_the_tree() -> None:
    assert cost_of('{ brand(brandId: "B1") { name } }') == 1
    # a connection without `first` counts its default page size, 20
    assert cost_of('{ brand(brandId: "B1") { claimedBy { nodes { listingId } } } }') == 1 + 1 + 20
    assert cost_of('{ brand(brandId: "B1") { claimedBy(first: 500) { totalCount } } }') == 2
    nested = ('{ brand(brandId: "B1") { claimedBy(first: 10) { nodes { '
              'claimsBrand(first: 3) { nodes { name } } } } } }')
    assert cost_of(nested) == 1 + 1 + 10 * (1 + 1 + 3 * 1)
    # variables, their defaults, fragments and aliases
    with_vars = 'query($n: Int = 7) { brand(brandId: "B1") { claimedBy(first: $n) { nodes { listingId } } } }'
    assert cost_of(with_vars) == 1 + 1 + 7
    assert cost_of(with_vars, n=100) == 1 + 1 + 100
    fragment = ('{ a: brand(brandId: "B1") { ...F } b: brand(brandId: "B2") { ...F } } '
                'fragment F on Brand { claimedBy(first: 5) { nodes { listingId } } }')
    assert cost_of(fragment) == 2 * (1 + 1 + 5)
    assert cost_of(aliased(30, PROBE)) > 100_000_000
    assert cost_of(aliased(30, MAXIMAL)) == 45_060 <= cost.DEFAULT_CAPS["investigator"]


def test_a_query_over_the_cap_is_refused_before_it_runs(client: TestClient) -> None:
    response = post(client, {"query": aliased(30, PROBE)}, request_id="req-costly")
    body = response.json()
    assert body["data"] is None
    err = body["errors"][0]
    assert err["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert err["extensions"]["cost"] == cost_of(aliased(30, PROBE))
    assert err["extensions"]["maxCost"] == cost.DEFAULT_CAPS["investigator"]
    assert err["extensions"]["requestId"] == "req-costly"
    assert "above the limit of 50000 for the role investigator" in err["message"]


def test_caps_are_per_role_and_can_be_set(client: TestClient, neo4j_connection: Connection) -> None:
    query = aliased(1, "claimedBy(first: 500) { nodes { claimsBrand(first: 60) { nodes { name } } } }")
    assert 20_000 < cost_of(query) <= 50_000
    assert "errors" not in post(client, {"query": query}).json()
    member = token("brand_member", brand_id="BH")
    err = post(client, {"query": query}, member).json()["errors"][0]
    assert (err["extensions"]["code"], err["extensions"]["maxCost"]) == ("QUERY_TOO_COSTLY", 20_000)
    with TestClient(create_app(connection=neo4j_connection, cost_caps={"investigator": 100})) as tight:
        refused = post(tight, {"query": query}).json()["errors"][0]
        assert refused["extensions"]["maxCost"] == 100
    with pytest.raises(ValueError, match="unknown role 'boss'"):
        cost.caps({"boss": 5})


def test_an_app_takes_its_limits_from_the_settings(client: TestClient,
                                                   neo4j_connection: Connection) -> None:
    query = aliased(1, "claimedBy(first: 50) { nodes { listingId } }")
    assert "errors" not in post(client, {"query": query}).json()
    settings = Settings(alliance_query_cost_caps={"investigator": 40},
                        alliance_max_body_bytes=300)
    with TestClient(create_app(connection=neo4j_connection, settings=settings)) as tight:
        body = post(tight, {"query": query}).json()
        assert body["data"] is None
        err = body["errors"][0]
        assert err["extensions"]["code"] == "QUERY_TOO_COSTLY"
        assert (err["extensions"]["cost"], err["extensions"]["maxCost"]) == (cost_of(query), 40)
        member = post(tight, {"query": query}, token("brand_member", brand_id="BH")).json()
        assert "errors" not in member, member  # the other roles keep their default caps
        small = post(tight, {"query": '{ brand(brandId: "BH") { name } }'})
        assert small.json() == {"data": {"brand": {"name": "Heavy"}}}
        large = post(tight, {"query": '{ brand(brandId: "BH") { name } }' + " " * 300})
        assert large.status_code == 413
        assert "larger than the limit of 300 bytes" in large.json()["detail"]
    with TestClient(create_app(connection=neo4j_connection, settings=settings,
                               cost_caps={"investigator": 1000}, max_body=5000)) as explicit:
        assert "errors" not in post(explicit, {"query": query + " " * 1000}).json()


def test_healthz_answers_while_a_maximal_query_runs(client: TestClient,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The maximal allowed query builds 15,030 connections; /healthz, asked once a
    hundred are built, answers before the last one is: the query does not hold the loop."""
    built = [0]
    make = types.make_connection

    def counting(*args: Any) -> Any:
        built[0] += 1
        time.sleep(0.0002)  # a slower build, so a quick machine cannot finish before /healthz is asked
        return make(*args)

    monkeypatch.setattr(types, "make_connection", counting)
    answer: dict[str, Any] = {}

    def heavy() -> None:
        answer["response"] = post(client, {"query": aliased(30, MAXIMAL)})

    worker = threading.Thread(target=heavy)
    worker.start()
    deadline = time.monotonic() + 300
    while built[0] < 100 and worker.is_alive() and time.monotonic() < deadline:
        time.sleep(0.001)
    health = client.get("/healthz")
    built_when_healthy = built[0]
    worker.join(300)
    assert health.status_code == 200
    response = answer["response"]
    assert response.status_code == 200 and "errors" not in response.json()
    assert len(response.json()["data"]["a29"]["claimedBy"]["nodes"]) == 500
    assert built[0] == 30 + 30 * 500
    assert 100 <= built_when_healthy < built[0]


# --- request body and the document cache ---------------------------------------------------


def test_a_body_over_the_limit_gets_413_in_json(client: TestClient) -> None:
    big = json.dumps({"query": "{ brand(brandId: \"B1\") { name } }" + " " * MAX_BODY}).encode()
    response = client.post("/graphql", content=big, headers={
        "Authorization": f"Bearer {token()}", "Content-Type": "application/json",
        "X-Request-ID": "req-big"})
    assert response.status_code == 413
    assert response.json()["requestId"] == "req-big"
    assert f"larger than the limit of {MAX_BODY} bytes" in response.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"query": "'
        for _ in range(MAX_BODY // 65536 + 2):
            yield b" " * 65536
        yield b'"}'

    chunked = client.post("/graphql", content=chunks(), headers={
        "Authorization": f"Bearer {token()}", "Content-Type": "application/json"})
    assert chunked.status_code == 413
    assert chunked.json()["requestId"] == chunked.headers["x-request-id"]


def test_large_distinct_queries_do_not_grow_the_document_cache(client: TestClient) -> None:
    documents.CACHE.clear()
    for i in range(20):
        padded = f'{{ brand(brandId: "B1") {{ name }} }} #{i}' + "x" * 200_000
        assert "errors" not in post(client, {"query": padded}).json()
    assert len(documents.CACHE) == 0 and documents.CACHE.tokens == 0
    short = '{ brand(brandId: "B1") { name } }'
    for _ in range(3):
        assert post(client, {"query": short}).json()["data"] == {"brand": {"name": "PeakStride"}}
    assert len(documents.CACHE) == 1


def test_the_document_cache_is_bounded_by_entries_and_tokens() -> None:
    cache = documents.DocumentCache(max_entries=10, max_tokens=200, max_query_chars=100)
    for i in range(50):
        cache.parse(f"{{ a{i} }}", {})  # 4 tokens each with <SOF> and <EOF>
    assert len(cache) == 10
    for i in range(50):
        cache.parse("{ " + " ".join(f"b{i}x{j}" for j in range(12)) + " }", {})
    assert cache.tokens <= 200 and len(cache) <= 10
    cache.parse("{ " + "c " * 100 + "}", {})  # longer than 100 characters: not kept
    assert all(len(query) <= 100 for query, _ in cache.entries)


# --- client errors ----------------------------------------------------------------------------


def test_invalid_utf8_and_bad_json_get_400_in_json(client: TestClient,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    headers = {"Authorization": f"Bearer {token()}", "Content-Type": "application/json",
               "X-Request-ID": "req-utf8"}
    response = client.post("/graphql", headers=headers,
                           content=b'{"query": "{ brand(brandId: \\"B1\\") { name } }\xff"}')
    assert response.status_code == 400
    assert response.json() == {"detail": response.json()["detail"], "requestId": "req-utf8"}
    assert "not valid JSON" in response.json()["detail"] and "UTF-8" in response.json()["detail"]
    assert "Traceback" not in response.text
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    broken = client.post("/graphql", headers=headers, content=b'{"query": ')
    assert broken.status_code == 400 and "line 1 column" in broken.json()["detail"]


def test_a_lone_surrogate_is_a_client_error(client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {token()}", "Content-Type": "application/json"}
    in_variables = client.post("/graphql", headers=headers, content=json.dumps(
        {"query": "query($t: String!) { search(text: $t) { key } }", "variables": {"t": "\ud800"}}).encode())
    assert in_variables.status_code == 400
    assert "surrogate" in in_variables.json()["detail"]
    assert in_variables.json()["requestId"] == in_variables.headers["x-request-id"]
    in_query = first_error(client, '{ search(text: "\\ud800") { key } }')
    assert in_query["extensions"]["code"] == "GRAPHQL_VALIDATION"
    assert "Unicode" in in_query["message"] and in_query["locations"]
    assert in_query["extensions"]["requestId"] == "req-limits"


def test_a_cursor_out_of_range_is_a_bad_request(client: TestClient) -> None:
    query = 'query($a: String) { seller(sellerId: "S9") { operates(after: $a) { totalCount } } }'
    for text in (b"o:" + b"9" * 27, b"o:1e26", b"o:\xc2\xb2"):
        err = first_error(client, query, a=base64.urlsafe_b64encode(text).decode())
        assert err["extensions"]["code"] == "BAD_REQUEST", err
        assert "is not a cursor returned by this API" in err["message"]
        assert err["path"] == ["seller", "operates"]


def test_a_networks_cursor_not_returned_by_networks_is_a_bad_request(client: TestClient) -> None:
    query = "query($a: String) { networks(first: 2, after: $a) { endCursor hasNextPage } }"
    for cursor in ("9" * 30, "1234567890", "\u00b2", "\u0663", "-1", " 1", "1\n", "", "x" * 500):
        err = first_error(client, query, a=cursor)
        assert err["extensions"]["code"] == "BAD_REQUEST", (cursor, err)
        assert "is not a cursor returned by networks" in err["message"]
        assert len(err["message"]) < 200 and err["path"] == ["networks"]
    for cursor in ("0", "999999999"):
        body = post(client, {"query": query, "variables": {"a": cursor}}).json()
        assert "errors" not in body, body
        assert body["data"]["networks"]["hasNextPage"] is False


RAID = """mutation($case: ID!, $site: ID!, $on: Date!, $arrests: Int!) {
  recordRaid(caseId: $case, siteId: $site, raidedOn: $on, arrests: $arrests) { caseId } }"""


def test_an_int_overflow_in_variables_is_a_bad_request(client: TestClient) -> None:
    liaison = token("police_liaison", agency_id="AG1")
    err = first_error(client, RAID, liaison, case="K1", site="X1", on="2024-05-01",
                      arrests=2147483648)
    assert err["extensions"] == {"code": "BAD_REQUEST", "requestId": "req-limits"}
    assert "Variable '$arrests' has invalid value" in err["message"]
    assert "2147483648" in err["message"]


def test_the_token_limit_error_has_a_code_and_the_request_id(client: TestClient) -> None:
    tokens = "{ " + " ".join('brand(brandId: "B1") { name }' for _ in range(500)) + " }"
    err = first_error(client, tokens)
    assert "more than 2000 tokens" in err["message"]
    assert err["extensions"] == {"code": "GRAPHQL_VALIDATION", "requestId": "req-limits"}


def test_unknown_paths_and_validation_errors_answer_json_with_the_request_id(client: TestClient) -> None:
    missing = client.get("/nowhere", headers={"X-Request-ID": "req-404"})
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not Found", "requestId": "req-404"}
    unsupported = client.post("/graphql", content=b"{}", headers={
        "Authorization": f"Bearer {token()}", "Content-Type": "text/plain"})
    assert unsupported.status_code == 400
    assert unsupported.json()["requestId"] == unsupported.headers["x-request-id"]
