"""The shortcuts give the same answers: every request of a corpus (hot queries for each
kind of caller, GraphQL errors of every kind, and requests the short path leaves to the
router) is sent to an app with `api.fastpath` and to one without it, with the same
request id, and the two answers must agree byte for byte: status, headers and body.
Kept verified tokens (`api.deps.verified_caller`) still honour expiry and the secret."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from neo4j import Driver
from prometheus_client import REGISTRY

from api import deps
from api.auth import AuthError, issue_token
from api.main import create_app
from core.settings import get_settings
from graph.caller import Caller
from graph.drivers import Connection
from tests.test_api import load_graph

SELLER = """query($id: ID!) { seller(sellerId: $id) { sellerId nickname
  operates(first: 20) { nodes { shopId name offers(first: 20) { nodes { listingId title price } } } } } }"""
NETWORK = """query($ids: [ID!]!) { network(seedIds: $ids, hops: 2, limit: 200) {
  nodes { id label degree } edges { id type source target } truncated } }"""
SEARCH = "query($t: String!) { search(text: $t, first: 20) { id label key displayName score } }"
LOOKUPS = """{ shop(shopId: "SH1") { shopId name } listing(listingId: "LBAD") { listingId price }
  brand(brandId: "B1") { name joinedOn trademarkNos } site(siteId: "X1") { label }
  person(personId: "P1") { name } address(addressKey: "A1") { raw } phone(e164: "+8613800138000") { region }
  agency(agencyId: "AG1") { name } }"""
INVESTIGATION = """{ sellerNetwork(sellerId: "S1") { riskScore stats { sellers shops sites } }
  traceToSource(listingId: "L1") { score site { siteId } } riskScore(sellerId: "S1") { score } }"""
LEADS = "{ leads(first: 5) { totalCount nodes { leadId status } } cases(first: 5) { totalCount } }"
TWO_OPERATIONS = ('query A { seller(sellerId: "S1") { nickname } } '
                  'query B { brand(brandId: "B1") { name } }')
DEEP = "{ seller(sellerId: \"S1\") { " + "operates { nodes { offers { nodes { " * 3 + "title" \
    + " } } } }" * 3 + " } }"

ROLES: dict[str, dict[str, Any]] = {
    "investigator": {}, "admin": {}, "analyst": {}, "brand_member": {"brand_id": "B1"},
    "police_liaison": {"agency_id": "AG1"},
}


def bearer(role: str = "investigator") -> str:
    return issue_token(Caller(sub=f"same-{role}", role=role, **ROLES[role]))  # type: ignore[arg-type]


def graphql(query: str, **variables: Any) -> dict[str, Any]:
    return {"json": {"query": query, "variables": variables}}


CORPUS: list[tuple[str, str, dict[str, Any], str | None]] = [
    # name, method, request keywords, role (None: no token)
    *[(f"seller:{role}", "POST", graphql(SELLER, id="S1"), role) for role in ROLES],
    *[(f"network:{role}", "POST", graphql(NETWORK, ids=["Seller:S1"]), role) for role in ROLES],
    *[(f"search:{role}", "POST", graphql(SEARCH, t="莆田"), role) for role in ROLES],
    *[(f"lookups:{role}", "POST", graphql(LOOKUPS), role) for role in ROLES],
    *[(f"investigation:{role}", "POST", graphql(INVESTIGATION), role) for role in ROLES],
    *[(f"leads:{role}", "POST", graphql(LEADS), role) for role in ROLES],
    ("saved queries", "POST", graphql("{ savedQueries { name title } }"), "investigator"),
    ("syntax error", "POST", graphql("{ seller(sellerId: "), "investigator"),
    ("unknown field", "POST", graphql("{ seller(sellerId: \"S1\") { nope } }"), "investigator"),
    ("too deep", "POST", graphql(DEEP), "investigator"),
    ("too many aliases", "POST", graphql(
        "{ " + " ".join(f"a{i}: seller(sellerId: \"S1\") {{ nickname }}" for i in range(40)) + " }"),
     "investigator"),
    ("first above the cap", "POST", graphql('{ search(text: "x", first: 501) { key } }'), "investigator"),
    ("bad variable", "POST", graphql(SELLER, id=["not", "an", "id"]), "investigator"),
    ("missing variable", "POST", graphql(SELLER), "investigator"),
    ("null variables", "POST", {"json": {"query": LEADS, "variables": None}}, "investigator"),
    ("no variables", "POST", {"json": {"query": LEADS}}, "investigator"),
    ("operation chosen", "POST", {"json": {"query": TWO_OPERATIONS, "operationName": "B"}},
     "investigator"),
    ("operation not chosen", "POST", {"json": {"query": TWO_OPERATIONS}}, "investigator"),
    ("operation unknown", "POST", {"json": {"query": TWO_OPERATIONS, "operationName": "C"}},
     "investigator"),
    ("mutation refused", "POST", graphql(
        'mutation { updateLeadStatus(leadId: "none", status: "verified") { leadId } }'), "analyst"),
    ("subscription", "POST", graphql("subscription { x }"), "investigator"),
    ("empty query", "POST", graphql(""), "investigator"),
    ("query not a string", "POST", {"json": {"query": 5}}, "investigator"),
    ("variables not an object", "POST", {"json": {"query": LEADS, "variables": [1]}}, "investigator"),
    ("extensions", "POST", {"json": {"query": LEADS, "extensions": {}}}, "investigator"),
    ("batch", "POST", {"json": [{"query": LEADS}]}, "investigator"),
    ("not JSON", "POST", {"content": b"{nope", "headers": {"content-type": "application/json"}},
     "investigator"),
    ("lone surrogate", "POST", {"content": b'{"query": "{ search(text: \\"\\ud800\\") { key } }"}',
                                "headers": {"content-type": "application/json"}}, "investigator"),
    ("no token", "POST", graphql(LEADS), None),
    ("forged token", "POST", graphql(LEADS), "forged"),
    ("GET", "GET", {"params": {"query": LEADS}}, "investigator"),
]


def send(client: TestClient, method: str, request: dict[str, Any], role: str | None,
         request_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = {"X-Request-ID": request_id, **request.get("headers", {})}
    if role == "forged":
        headers["Authorization"] = "Bearer " + jwt.encode(
            {"sub": "x", "role": "admin", "exp": time.time() + 60}, "another secret" * 4,
            algorithm="HS256")
    elif role is not None:
        headers["Authorization"] = f"Bearer {bearer(role)}"
    kwargs = {k: v for k, v in request.items() if k != "headers"}
    response = client.request(method, "/graphql", headers=headers, **kwargs)
    return response.status_code, sorted(response.headers.items()), response.content


@pytest.fixture(scope="module")
def clients(driver: Driver, database: str,
            neo4j_connection: Connection) -> Iterator[tuple[TestClient, TestClient]]:
    load_graph(driver, database)
    with TestClient(create_app(connection=neo4j_connection)) as fast, \
            TestClient(create_app(connection=neo4j_connection, fast_path=False)) as usual:
        for name, method, request, role in CORPUS:  # Neo4j plans each query once first
            send(usual, method, request, role, name)
        yield fast, usual


def fast_count() -> float:
    return REGISTRY.get_sample_value("alliance_api_graphql_fast_total") or 0.0


@pytest.mark.neo4j
@pytest.mark.parametrize(("name", "method", "request_", "role"), CORPUS,
                         ids=[case[0] for case in CORPUS])
def test_the_short_path_answers_byte_for_byte_as_the_router(
        clients: tuple[TestClient, TestClient], name: str, method: str,
        request_: dict[str, Any], role: str | None) -> None:
    fast, usual = clients
    request_id = f"same-{abs(hash(name))}"
    for _ in range(3):  # a query stopped by its timeout on a busy machine is sent again
        before = fast_count()
        short = send(fast, method, request_, role, request_id)
        taken = fast_count() - before
        other = send(usual, method, request_, role, request_id)
        if b'"code":"TIMEOUT"' not in short[2] + other[2]:
            break
    assert other == short
    assert fast_count() == before + taken  # the usual app never takes the short path
    common = ":" in name or name in ("saved queries", "null variables", "no variables")
    if common:
        assert taken == 1, name


def test_a_token_is_kept_until_it_expires() -> None:
    secret = get_settings().jwt_secret()
    expired = jwt.encode({"sub": "brief", "role": "analyst", "exp": int(time.time()) - 30},
                         secret, algorithm="HS256")
    deps._verified[(expired, secret)] = (Caller(sub="brief", role="analyst"), time.time() - 1)
    with pytest.raises(AuthError, match="expired"):
        deps.verified_caller(expired)
    deps._verified[("kept-token", secret)] = (Caller(sub="kept", role="analyst"), time.time() + 60)
    assert deps.verified_caller("kept-token").sub == "kept"


def test_a_kept_token_is_verified_again_under_a_new_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    token = issue_token(Caller(sub="kept", role="analyst"))
    assert deps.verified_caller(token).sub == "kept"
    monkeypatch.setenv("ALLIANCE_JWT_SECRET", "a completely different secret " * 2)
    get_settings.cache_clear()
    try:
        with pytest.raises(AuthError, match="signature"):
            deps.verified_caller(token)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
