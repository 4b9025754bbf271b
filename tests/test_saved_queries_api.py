"""Saved queries through the API (GraphQL and REST) on a real Neo4j, with real tokens:
roles from the header, columns hidden by role, the liaison's jurisdiction from its agency,
JSON and CSV export (formulas quoted), and a database that does not answer."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neo4j import Driver

from alliance.local_neo4j import free_port
from api import saved_queries
from api.auth import issue_token
from api.main import create_app
from graph import access, query_library
from graph.caller import ROLES, Caller
from graph.drivers import Connection
from graph.query_library import HIDDEN
from tests.counting_driver import CountingDriver
from tests.saved_query_fixture import write_fixture

LIST = "{ savedQueries { name title description params { name type required default } roles } }"
RUN = """query Run($name: String!, $params: JSON) {
  runSavedQuery(name: $name, params: $params) { name columns rows truncated elapsedMs }
}"""


@pytest.fixture(scope="module")
def client(driver: Driver, database: str, neo4j_connection: Connection) -> Iterator[TestClient]:
    write_fixture(driver, database)
    saved_queries.LIBRARY.reset()
    app = create_app(connection=neo4j_connection)
    app.include_router(saved_queries.router)
    with TestClient(app) as test_client:
        yield test_client
    saved_queries.LIBRARY.reset()


def bearer(role: str = "analyst", **claims: Any) -> dict[str, str]:
    caller = Caller(sub=f"api-{role}", role=role, **claims)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {issue_token(caller)}"}


def gql(client: TestClient, query: str, headers: dict[str, str], **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables},
                           headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_graphql_lists_the_queries_a_role_may_run(client: TestClient) -> None:
    analyst = gql(client, LIST, bearer("analyst"))["data"]["savedQueries"]
    names = [q["name"] for q in analyst]
    assert "cases-per-province-year" in names
    assert "identities-on-several-platforms" not in names  # investigators and admins only
    leads = next(q for q in analyst if q["name"] == "leads-waiting-per-agency")
    assert leads["params"] == [
        {"name": "days", "type": "int", "required": False, "default": 30},
        {"name": "as_of", "type": "date", "required": False, "default": None},
    ]
    liaison = gql(client, LIST, bearer("police_liaison", agency_id="AG1"))["data"]["savedQueries"]
    assert [q["name"] for q in liaison] == [
        "alert-shop-at-known-site", "cases-in-my-jurisdiction", "leads-in-my-jurisdiction"]


def test_graphql_runs_a_query_with_typed_params(client: TestClient) -> None:
    body = gql(client, RUN, bearer("analyst"), name="leads-waiting-per-agency",
               params={"as_of": "2024-04-01", "days": 5})
    result = body["data"]["runSavedQuery"]
    assert result["columns"] == ["agency_id", "agency", "waiting", "lead_ids", "oldest_days"]
    assert result["rows"][0] == {"agency_id": "AG1", "agency": "深圳市公安局", "waiting": 2,
                                 "lead_ids": query_library.HIDDEN, "oldest_days": 91}  # no single lead
    full = gql(client, RUN, bearer("investigator"), name="leads-waiting-per-agency",
               params={"as_of": "2024-04-01", "days": 5})["data"]["runSavedQuery"]
    assert full["rows"][0]["lead_ids"] == ["LD1", "LD2"]
    assert result["truncated"] is False
    assert result["elapsedMs"] >= 0


def test_graphql_errors_are_clear(client: TestClient) -> None:
    forbidden = gql(client, RUN, bearer("brand_member", brand_id="B1"), name="cases-per-province-year")
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "role 'brand_member' may not run" in forbidden["errors"][0]["message"]
    bad = gql(client, RUN, bearer(), name="leads-waiting-per-agency", params={"days": "many"})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "parameter 'days': expected a whole number" in bad["errors"][0]["message"]
    sneaky = gql(client, RUN, bearer("police_liaison", agency_id="AG1"),
                 name="cases-in-my-jurisdiction", params={"_agency_adcodes": ["440000"]})
    assert "set by the server" in sneaky["errors"][0]["message"]
    missing = gql(client, RUN, bearer(), name="no-such-query")
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_liaison_sees_only_its_jurisdiction_over_graphql_and_rest(client: TestClient) -> None:
    sz = bearer("police_liaison", agency_id="AG1")
    rows = gql(client, RUN, sz, name="cases-in-my-jurisdiction")["data"]["runSavedQuery"]["rows"]
    assert [r["case_id"] for r in rows] == ["CS2", "CS1"]
    jj = client.get("/queries/cases-in-my-jurisdiction.json",
                    headers=bearer("police_liaison", agency_id="AG2"))
    assert jj.status_code == 200, jj.text
    assert [r["case_id"] for r in jj.json()["rows"]] == ["CS3"]
    everyone = client.get("/queries/cases-in-my-jurisdiction.json", headers=bearer("investigator"))
    assert [r["case_id"] for r in everyone.json()["rows"]] == ["CS2", "CS1", "CS3", "CS4"]


def test_rest_lists_and_runs_json(client: TestClient) -> None:
    listed = client.get("/queries", headers=bearer("investigator"))
    assert listed.status_code == 200
    assert "identities-on-several-platforms" in [q["name"] for q in listed.json()["queries"]]
    response = client.get("/queries/sellers-sharing-identifiers.json?seller_id=S1",
                          headers=bearer("investigator"))
    assert response.status_code == 200, response.text
    assert [r["seller_id"] for r in response.json()["rows"]] == ["S2", "S3"]
    assert [r["identifiers"] for r in response.json()["rows"]] == [["+8613800138000"], ["h-i1"]]
    assert client.get("/queries", headers={}).status_code == 401


def test_analysts_get_no_identifiers_over_rest_and_graphql(client: TestClient) -> None:
    described = {q["name"]: q for q in client.get("/queries", headers=bearer()).json()["queries"]}
    assert described["sellers-sharing-identifiers"]["columns"]["identifiers"] == "identifier"
    assert "transfer-chains-into-account" not in described
    rest = client.get("/queries/sellers-sharing-identifiers.json?seller_id=S1", headers=bearer())
    assert rest.status_code == 200, rest.text
    assert [(r["seller_id"], r["nickname"], r["identifiers"], r["linked_by"])
            for r in rest.json()["rows"]] == [
        (HIDDEN, HIDDEN, HIDDEN, ["phone"]), (HIDDEN, HIDDEN, HIDDEN, ["identity"])]
    sheet = client.get("/queries/hub-addresses-and-ips.csv", headers=bearer())
    rows = list(csv.DictReader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert [(r["kind"], r["hub"], r["label"], r["sellers"], r["seller_ids"]) for r in rows] == [
        ("ip", query_library.HIDDEN, query_library.HIDDEN, "3", query_library.HIDDEN),
        ("address", query_library.HIDDEN, query_library.HIDDEN, "2", query_library.HIDDEN),
        ("address", query_library.HIDDEN, query_library.HIDDEN, "2", query_library.HIDDEN)]
    body = gql(client, RUN, bearer(), name="sellers-sharing-identifiers",
               params={"seller_id": "S1"})
    assert "ip:10.0.0.1" not in json.dumps(body) and "h-i1" not in json.dumps(body)
    assert body["data"]["runSavedQuery"]["rows"][0]["identifiers"] == query_library.HIDDEN
    refused = client.get("/queries/transfer-chains-into-account.json?account=bank:pa3",
                         headers=bearer())
    assert refused.status_code == 403


REFUSED = [(name, role) for name, query in sorted(query_library.load().queries.items())
           for role in ROLES if role not in query.roles]
CLAIMS: dict[str, dict[str, str]] = {"police_liaison": {"agency_id": "AG1"},
                                     "brand_member": {"brand_id": "B1"}}


@pytest.mark.parametrize(("name", "role"), REFUSED, ids=[f"{n}-{r}" for n, r in REFUSED])
def test_a_role_not_listed_is_refused_over_rest_and_graphql(
    client: TestClient, name: str, role: str,
) -> None:
    headers = bearer(role, **CLAIMS.get(role, {}))
    for suffix in ("json", "csv"):
        response = client.get(f"/queries/{name}.{suffix}", headers=headers)
        assert response.status_code == 403, response.text
        assert f"role '{role}' may not run" in response.json()["detail"]
    body = gql(client, RUN, headers, name=name)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["data"] is None


def test_rest_csv_is_utf8_with_bom_and_streams_every_row(client: TestClient) -> None:
    response = client.get("/queries/cases-per-province-year.csv", headers=bearer())
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="cases-per-province-year.csv"' in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["province"], r["year"], r["cases"], r["value_cny"]) for r in rows] == [
        ("广东省", "2023", "1", "50000.0"), ("福建省", "2024", "1", "200000.0"),
        ("广东省", "2024", "2", "130000.0")]
    assert response.headers["x-truncated"] == "false"


def test_rest_csv_quotes_what_a_spreadsheet_would_run(client: TestClient, tmp_path: Path) -> None:
    response = client.get("/queries/sellers-sharing-identifiers.csv?seller_id=S1",
                          headers=bearer("investigator"))
    assert response.status_code == 200, response.text
    lines = response.content.decode("utf-8-sig").split("\r\n")
    assert lines[1:3] == ["S2,taobao,'=1+1,phone,'+8613800138000,1",
                          "S3,pinduoduo,'@SUM(A1),identity,h-i1,1"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["nickname"] for r in rows] == ["'=1+1", "'@SUM(A1)"]
    (tmp_path / "numbers.cypher").write_text(
        "// title: N\n// columns: {open: [n, x, t]}\nRETURN -3 AS n, -2.5 AS x, '-3' AS t\n")
    saved_queries.LIBRARY.reset(tmp_path)
    try:
        numbers = client.get("/queries/numbers.csv", headers=bearer())
        assert numbers.content.decode("utf-8-sig") == "n,x,t\r\n-3,-2.5,'-3\r\n"
    finally:
        saved_queries.LIBRARY.reset(query_library.QUERIES_DIR)


def test_rest_params_from_the_url_and_errors_by_status(client: TestClient) -> None:
    response = client.get("/queries/leads-waiting-per-agency.json?as_of=2024-04-01&days=70",
                          headers=bearer())
    assert [r["agency_id"] for r in response.json()["rows"]] == ["AG1"]
    assert client.get("/queries/leads-waiting-per-agency.json?days=x",
                      headers=bearer()).status_code == 400
    assert client.get("/queries/leads-waiting-per-agency.json?colour=red",
                      headers=bearer()).json()["detail"].endswith(
        "unknown parameters ['colour']; leads-waiting-per-agency takes ['as_of', 'days']")
    assert client.get("/queries/cases-per-province-year.csv",
                      headers=bearer("brand_member", brand_id="B1")).status_code == 403
    assert client.get("/queries/nope.json", headers=bearer()).status_code == 404


def test_rest_runs_are_audited_with_the_request_id(client: TestClient, driver: Driver,
                                                   database: str) -> None:
    response = client.get("/queries/hub-addresses-and-ips.json?min_sellers=3",
                          headers={**bearer("investigator"), "X-Request-ID": "audit-me-1"})
    assert response.status_code == 200
    records, _, _ = driver.execute_query(
        "MATCH (e:AuditEvent {request_id: 'audit-me-1'}) RETURN e", database_=database)
    assert len(records) == 1
    event = records[0]["e"]
    assert (event["who"], event["role"], event["action"]) == (
        "api-investigator", "investigator", "saved_query.run")
    details = json.loads(event["details"])
    assert details["query"] == "hub-addresses-and-ips"
    assert details["params"] == {"min_sellers": 3}
    assert details["rows"] == 1


def test_a_failing_query_is_reported_and_the_others_still_run(
    client: TestClient, tmp_path: Path,
) -> None:
    (tmp_path / "writes.cypher").write_text(
        "// title: W\n// columns: {entity: [s]}\nMATCH (s:Seller) SET s.x = 1 RETURN s\n")
    (tmp_path / "reads.cypher").write_text(
        "// title: R\n// columns: {entity: [id]}\nMATCH (s:Seller) RETURN s.seller_id AS id ORDER BY id\n")
    (tmp_path / "slow.cypher").write_text(
        "// title: S\n// timeout: 0.5\n// columns: {open: [n]}\n"
        "UNWIND range(1, 2000000000) AS i WITH i WHERE i % 7 = 0 RETURN count(i) AS n\n")
    saved_queries.LIBRARY.reset(tmp_path)
    try:
        slow = client.get("/queries/slow.json", headers=bearer())
        assert slow.status_code == 504
        assert "stopped after its timeout of 0.5 s" in slow.json()["detail"]
        unavailable = client.get("/queries/writes.json", headers=bearer())
        assert unavailable.status_code == 409
        assert "must be read-only" in unavailable.json()["detail"]
        ok = client.get("/queries/reads.json", headers=bearer("investigator"))
        assert [r["id"] for r in ok.json()["rows"]] == ["S1", "S2", "S3", "S4", "S5"]
    finally:
        saved_queries.LIBRARY.reset(query_library.QUERIES_DIR)


def test_a_saved_query_costs_its_row_cap(client: TestClient, tmp_path: Path) -> None:
    for name, rows in (("big", 9_000), ("small", 5)):
        (tmp_path / f"{name}.cypher").write_text(
            f"// title: {name}\n// max_rows: {rows}\n// columns: {{open: [n]}}\n"
            "UNWIND range(1, 20) AS n RETURN n\n")
    saved_queries.LIBRARY.reset(tmp_path)
    try:
        big = gql(client, RUN, bearer("analyst"), name="big")
        err = big["errors"][0]["extensions"]
        assert (err["code"], err["cost"], err["maxCost"]) == ("QUERY_TOO_COSTLY", 9_001, 5_000)
        allowed = gql(client, RUN, bearer("investigator"), name="big")["data"]["runSavedQuery"]
        assert allowed["rows"] == [{"n": n} for n in range(1, 21)]
        small = gql(client, RUN, bearer("analyst"), name="small")["data"]["runSavedQuery"]
        assert (len(small["rows"]), small["truncated"]) == (5, True)
        four = "{ " + " ".join(f'q{i}: runSavedQuery(name: "small") {{ name }}' for i in range(4)) + " }"
        assert "errors" not in gql(client, four, bearer("analyst"))
    finally:
        saved_queries.LIBRARY.reset(query_library.QUERIES_DIR)


RUNS = ("/queries/cases-per-province-year.json", "/queries/cases-per-province-year.csv")


def _unavailable(dead: TestClient, paths: tuple[str, ...]) -> None:
    """Each of `paths` answers 503 and running over GraphQL DATABASE_UNAVAILABLE."""
    for path in paths:
        response = dead.get(path, headers=bearer())
        assert response.status_code == 503, (path, response.text)
        assert "does not answer" in response.json()["detail"]
    run = gql(dead, RUN, bearer(), name="cases-per-province-year")
    assert run["errors"][0]["extensions"]["code"] == "DATABASE_UNAVAILABLE"


def most_attempts() -> int:
    """Attempts `graph.access` makes at most: waits of 0.05 s, doubling, within RETRY_SECONDS."""
    waited, delay, attempts = 0.0, 0.05, 1
    while waited + delay <= access.RETRY_SECONDS:
        waited, delay, attempts = waited + delay, delay * 2, attempts + 1
    return attempts


def test_saved_queries_fail_fast_when_the_database_does_not_answer(client: TestClient) -> None:
    assert client.get("/queries", headers=bearer()).status_code == 200  # library checked
    nowhere = Connection(f"bolt://127.0.0.1:{free_port()}", None, "neo4j", local=False)
    try:
        with TestClient(create_app(connection=nowhere)) as dead:
            state = dead.app.state  # type: ignore[attr-defined]
            state.driver = counting = CountingDriver(state.driver)
            assert dead.get(RUNS[0], headers=bearer()).status_code == 503
            # Tried again a few times, then given up: not the driver's own 30 s of retries.
            assert 2 <= len(counting.sessions) <= most_attempts()
            _unavailable(dead, RUNS)  # the checked library is kept: the runs themselves fail
            saved_queries.LIBRARY.reset()
            _unavailable(dead, ("/queries", *RUNS))  # and so does checking the library
            listed = gql(dead, LIST, bearer())
            assert listed["errors"][0]["extensions"]["code"] == "DATABASE_UNAVAILABLE"
    finally:
        saved_queries.LIBRARY.reset()
