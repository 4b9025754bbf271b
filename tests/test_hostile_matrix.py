"""The hostile matrix: every role asks about every label through every entry point, on
a loaded bundle with hostile text planted in what sellers type, and every answer is
checked: no 5xx, no traceback, coded GraphQL errors, no personal identifier to a role
other than investigator and admin, no site of a stranger to a brand member through a
lead of its own, no spreadsheet formula in a CSV export, and no change to the graph.

The matrix is generated: labels and keys from graph/model.py, the lookups and the
selections from the served GraphQL schema, the saved queries from the library, the
roles from graph/caller.py. The sweep runs once per module; each check is a test.
`ALLIANCE_HOSTILE_SCALE` sets the bundle's scale (bench/fuzz.py runs a bigger one).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from graphql import GraphQLObjectType
from neo4j import Driver

from api import saved_queries
from api.main import create_app
from graph.caller import ROLES
from graph.drivers import Connection
from tests.hostile import checks, count_example, selection, world
from tests.hostile.checks import Answer

pytestmark = pytest.mark.neo4j

SCALE = int(os.environ.get("ALLIANCE_HOSTILE_SCALE", "60"))
OTHER_ROLES = sorted(set(ROLES) - world.SEES_IDENTIFIERS)

SEARCH = "query($t: String!) { search(text: $t, first: 20) { id label key displayName score } }"
HUGE_BODY = 8 * 1024 * 1024


@dataclass
class Sweep:
    world: world.World
    answers: list[Answer] = field(default_factory=list)
    before: tuple[int, int, str] = (0, 0, "")
    after: tuple[int, int, str] = (0, 0, "")

    def of(self, role: str, entry: str | None = None) -> list[Answer]:
        return [a for a in self.answers if a.role == role and (entry is None or a.entry.startswith(entry))]


class Asker:
    """Sends one role's requests and records every answer."""

    def __init__(self, client: TestClient, role: str, answers: list[Answer]) -> None:
        self.client, self.role, self.answers = client, role, answers
        self.headers = world.bearer(role)
        self.started = time.perf_counter()

    def keep(self, entry: str, what: str, response: Any) -> Answer:
        answer = Answer(self.role, entry, what, response.status_code, response.text,
                        response.headers.get("content-type", ""),
                        time.perf_counter() - self.started)
        self.answers.append(answer)
        count_example("matrix request")
        return answer

    def gql(self, entry: str, what: str, query: str, **variables: Any) -> Answer:
        self.started = time.perf_counter()
        response = self.client.post("/graphql", json={"query": query, "variables": variables},
                                    headers=self.headers)
        return self.keep(f"graphql:{entry}", what, response)

    def get(self, entry: str, path: str, **params: Any) -> Answer:
        self.started = time.perf_counter()
        response = self.client.get(path, params=params, headers=self.headers)
        return self.keep(f"rest:{entry}", path, response)

    def raw(self, entry: str, body: bytes, content_type: str = "application/json") -> Answer:
        self.started = time.perf_counter()
        response = self.client.post("/graphql", content=body,
                                    headers={**self.headers, "Content-Type": content_type})
        return self.keep(f"hostile:{entry}", body[:80].decode("utf-8", "replace"), response)


def _object(name: str) -> GraphQLObjectType:
    kind = selection.graphql_schema().get_type(name)
    assert isinstance(kind, GraphQLObjectType), name
    return kind


def ask_about_objects(ask: Asker, w: world.World) -> None:
    """Lookups, search, network, and the investigation and lead reads of every key."""
    lookups = selection.lookups()
    graph = selection.select(_object("Graph"), 2)
    for label, keys in sorted(w.keys.items()):
        for key in keys:
            if label in lookups:
                ask.gql("lookup", f"{label}:{key}", selection.lookup_query(label), key=key)
            ask.gql("search", key, SEARCH, t=key)
            ask.gql("network", f"{label}:{key}",
                    f"query($ids: [ID!]!) {{ network(seedIds: $ids, hops: 1, limit: 100) {{ {graph} }} }}",
                    ids=[f"{label}:{key}"])
            for entry, query in investigation_queries(label):
                ask.gql(entry, f"{label}:{key}", query, key=key)
            if label == "Lead":
                dossier = selection.select(_object("Dossier"), 6)
                ask.gql("dossier", key, f"query($key: ID!) {{ lead(leadId: $key) {{ dossier {{ {dossier} }} "
                        f"conflicts {{ kind id status brandIds agencyId via }} }} }}", key=key)
                ask.get("dossier.json", f"/leads/{key}/dossier.json")
                ask.get("dossier.html", f"/leads/{key}/dossier.html")


def investigation_queries(label: str) -> list[tuple[str, str]]:
    """sellerNetwork, traceToSource and riskScore for the labels they take."""
    arg = {"Seller": "sellerId", "Shop": "shopId", "Listing": "listingId"}.get(label)
    if arg is None:
        return []
    trace = selection.select(_object("SourceTrace"), 5)
    found = [("traceToSource", f"query($key: ID!) {{ traceToSource({arg}: $key, first: 10) {{ {trace} }} }}")]
    if label != "Listing":
        risk = selection.select(_object("RiskScore"), 2)
        found.append(("riskScore", f"query($key: ID!) {{ riskScore({arg}: $key) {{ {risk} }} }}"))
    if label == "Seller":
        net = selection.select(_object("SellerNetwork"), 3)
        found.append(("sellerNetwork", f"query($key: ID!) {{ sellerNetwork(sellerId: $key) {{ {net} }} }}"))
    return found


def ask_lists(ask: Asker) -> None:
    for field_name, args in (("leads", "first: 50"), ("cases", "first: 50"), ("networks", "first: 20"),
                             ("leadCounts", ""), ("leadLifecycle", ""), ("auditEvents", "first: 20"),
                             ("savedQueries", ""), ("agencyDirectory", ""), ("brandDirectory", ""),
                             ("alerts", "first: 20"), ("webhooks", "")):
        ask.gql("list", field_name, selection.root_query(field_name, args, depth=3))


def saved_query_params(params: list[dict[str, Any]], values: dict[str, Any]) -> dict[str, Any]:
    """Values for a saved query's parameters: the world's where it has one, else the
    required ones from their type."""
    chosen: dict[str, Any] = {}
    for p in params:
        if p["name"] in values:
            chosen[p["name"]] = values[p["name"]]
        elif p["required"]:
            chosen[p["name"]] = {"int": 1, "float": 1.0, "bool": True, "date": "2025-01-01"}.get(
                p["type"], "x")
    return chosen


def ask_saved_queries(ask: Asker, library: list[dict[str, Any]], values: dict[str, Any]) -> None:
    """Every saved query, whether the role may run it or not, in GraphQL, JSON and CSV."""
    run = ("query($n: String!, $p: JSON) { runSavedQuery(name: $n, params: $p) "
           "{ name columns rows truncated } }")
    for query in library:
        params = saved_query_params(query["params"], values)
        ask.gql("savedQuery", query["name"], run, n=query["name"], p=params)
        ask.get("savedQuery.json", f"/queries/{query['name']}.json", **params)
        ask.get("savedQuery.csv", f"/queries/{query['name']}.csv", **params)


def _deep(levels: int) -> str:
    inner = "totalCount"
    for _ in range(levels):
        inner = f"onBehalfOf(first: 2) {{ nodes {{ leads(first: 2) {{ nodes {{ {inner} }} }} }} }}"
    return f"{{ leads(first: 2) {{ nodes {{ {inner} }} }} }}"


HOSTILE_GRAPHQL: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("cursor o:1e26", "{ leads(first: 5, after: \"o:1e26\") { totalCount } }", {}),
    ("cursor o:-1", "{ cases(first: 5, after: \"o:-1\") { totalCount } }", {}),
    ("cursor NaN", "{ networks(first: 5, after: \"o:NaN\") { endCursor } }", {}),
    ("nested cursor",
     "{ brand(brandId: \"B1\") { claimedBy(first: 3, after: \"o:1e26\") { totalCount } } }", {}),
    ("audit cursor", "{ auditEvents(first: 5, after: \"\\u0000\") { totalCount } }", {}),
    ("largest first", "{ leads(first: 2147483647) { totalCount } }", {}),
    ("smallest first", "{ search(text: \"shoe\", first: -2147483648) { id } }", {}),
    ("largest hops",
     "{ network(seedIds: [\"Brand:B1\"], hops: 2147483647, limit: 2147483647) { truncated } }", {}),
    ("largest maxHops",
     "{ traceToSource(sellerId: \"S1\", maxHops: 2147483647, first: 2147483647) { score } }", {}),
    ("largest maxSize", "{ sellerNetwork(sellerId: \"S1\", maxSize: 2147483647) { truncated } }", {}),
    ("Int overflow literal", "{ leads(first: 2147483648) { totalCount } }", {}),
    ("Int overflow variable", "query($f: Int!) { leads(first: $f) { totalCount } }", {"f": 10 ** 30}),
    ("float as Int", "query($f: Int!) { leads(first: $f) { totalCount } }", {"f": 1e26}),
    ("lone surrogate search", "query($t: String!) { search(text: $t) { id } }", {"t": "\ud800"}),
    ("NUL in search", "query($t: String!) { search(text: $t) { id } }", {"t": "a\u0000b"}),
    ("lucene syntax", "query($t: String!) { search(text: $t) { id } }", {"t": "*:* OR title:[a TO z] ~ \\"}),
    ("many seeds", "query($s: [ID!]!) { network(seedIds: $s) { truncated } }",
     {"s": [f"Seller:S{n}" for n in range(5000)]}),
    ("unknown label seed",
     "{ network(seedIds: [\"Nope:1\", \"`) DETACH DELETE n //:x\"]) { truncated } }", {}),
    ("bad rel type", "{ network(seedIds: [\"Brand:B1\"], "
     "relTypes: [\"OWNS]->() DETACH DELETE n //\"]) { truncated } }", {}),
    ("server-set parameter",
     "query($p: JSON) { runSavedQuery(name: \"cases-in-my-jurisdiction\", params: $p) { name } }",
     {"p": {"_agency_adcodes": ["110000"], "_caller_role": "admin"}}),
    ("deep query", _deep(6), {}),
    ("costly query", "{ leads(first: 500) { edges { node { onBehalfOf(first: 500) { nodes { "
     "claimedBy(first: 500) "
     "{ nodes { listingId offeredBy(first: 500) { nodes { shopId } } } } } } } } } }", {}),
    ("aliases", "{ " + " ".join(f"a{n}: leadLifecycle {{ object }}" for n in range(200)) + " }", {}),
)


def ask_hostile(ask: Asker) -> None:
    """Requests a client could send on purpose or by mistake: each must get a 4xx or a
    coded GraphQL error, never a 5xx or INTERNAL."""
    for name, query, variables in HOSTILE_GRAPHQL:
        body = json.dumps({"query": query, "variables": variables}).encode()
        ask.raw(name, body)
    ask.raw("invalid UTF-8 body", b'{"query": "{ leadLifecycle { object } }", "x": "\xff\xfe\xc3"}')
    ask.raw("not JSON", b"{query: leads}")
    ask.raw("JSON array", b"[1, 2, 3]")
    ask.raw("huge body", b'{"query": "{ leadLifecycle { object } }", "variables": {"x": "'
            + b"a" * HUGE_BODY + b'"}}')
    for path in ("/queries/..%2F..%2Fetc%2Fpasswd.json", "/queries/%00.csv", "/leads/%2e%2e/dossier.json",
                 "/leads/" + "L" * 5000 + "/dossier.html", "/queries/sellers-sharing-identifiers.xml"):
        ask.get("odd path", path)


def library(client: TestClient) -> list[dict[str, Any]]:
    response = client.get("/queries", headers=world.bearer("admin"))
    assert response.status_code == 200, response.text
    queries: list[dict[str, Any]] = response.json()["queries"]
    return queries


def param_values(driver: Driver, database: str, w: world.World) -> dict[str, Any]:
    """Saved-query parameters that find rows in the world."""
    def one(query: str) -> Any:
        records, _, _ = driver.execute_query(query, database_=database)
        return records[0][0] if records else None

    return {
        "brand_id": "B1",
        "seller_id": w.ring_sellers[0][0],
        "account": one("MATCH (:PaymentAccount)-[:TRANSFERRED_TO]->(a:PaymentAccount) "
                       "RETURN a.account LIMIT 1"),
        "address_key": one("MATCH (a:Address)<-[:REGISTERED_AT]-(s:Seller) WITH a, count(s) AS n "
                           "RETURN a.address_key ORDER BY n DESC LIMIT 1"),
        "adcode": "440000",
        "min_sellers": 2,
    }


@pytest.fixture(scope="module")
def sweep(driver: Driver, database: str, neo4j_connection: Connection,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sweep]:
    folder = tmp_path_factory.mktemp("hostile-matrix")
    truth = world.load(driver, database, folder, SCALE)
    w = world.World()
    world.collect(driver, database, truth, w)
    saved_queries.LIBRARY.reset()
    app = create_app(connection=neo4j_connection, query_timeout=10)
    with TestClient(app, raise_server_exceptions=False) as client:
        world.make_leads(client, w)
        w.keys["StatusEvent"] = world.first_key(driver, database, "StatusEvent")  # made by the moves
        w.keys["Lead"] = list(dict.fromkeys([*w.keys["Lead"], *w.leads.values(), *FIXTURE_LEADS]))
        queries, values = library(client), param_values(driver, database, w)
        result = Sweep(world=w, before=world.digest(driver, database))
        for role in world.CALLERS:
            ask = Asker(client, role, result.answers)
            ask_about_objects(ask, w)
            ask_lists(ask)
            ask_saved_queries(ask, queries, values)
            ask_hostile(ask)
            if os.environ.get("ALLIANCE_HOSTILE_TIMES"):
                slow = sorted(result.answers, key=lambda a: -a.seconds)[:15]
                print("\n".join(f"{a.seconds:6.2f}s {a}" for a in slow), file=sys.stderr)
        result.after = world.digest(driver, database)
        yield result
    saved_queries.LIBRARY.reset()


FIXTURE_LEADS = ("LD-GZ", "LD-SZ")
"""Leads of the fixture pushed inside and outside the liaison's jurisdiction."""


def problems(answers: list[Answer], check: Callable[[Answer], Any]) -> list[str]:
    found: list[str] = []
    for answer in answers:
        result = check(answer)
        if isinstance(result, list):
            found += result
        elif result:
            found.append(str(result))
    return found


# --- the checks ---------------------------------------------------------------------


def test_the_world_has_every_label_and_the_leads(sweep: Sweep) -> None:
    from graph import model

    empty = sorted(n.label for n in model.NODES if not sweep.world.keys.get(n.label)
                   and n.label not in ("AuditEvent",))
    assert empty == [], f"labels without a node to ask about: {empty}"
    assert "ring1 pushed to the liaison" in sweep.world.leads, sweep.world.setup_errors
    assert not [e for e in sweep.world.setup_errors if "moving" in e], sweep.world.setup_errors
    assert len(sweep.world.identifiers) > 20


@pytest.mark.parametrize("role", ROLES)
def test_no_server_errors(sweep: Sweep, role: str) -> None:
    found = problems(sweep.of(role), checks.server_error)
    assert not found, f"{len(found)} answers with a 5xx:\n" + "\n".join(found[:25])


@pytest.mark.parametrize("role", ROLES)
def test_no_traceback_or_internal_names_in_any_answer(sweep: Sweep, role: str) -> None:
    found = problems(sweep.of(role), checks.traceback_text)
    assert not found, "\n".join(found[:25])


@pytest.mark.parametrize("role", ROLES)
def test_every_graphql_error_has_a_code_and_the_request_id_and_none_is_internal(
        sweep: Sweep, role: str) -> None:
    found = problems(sweep.of(role, "graphql") + sweep.of(role, "hostile"), checks.uncoded_errors)
    assert not found, f"{len(found)} errors:\n" + "\n".join(found[:25])


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_no_personal_identifier_reaches_other_roles(sweep: Sweep, role: str) -> None:
    secrets = sweep.world.identifiers
    found = [f"{a}: {checks.leaked(a, secrets)[:3]}" for a in sweep.of(role) if checks.leaked(a, secrets)]
    assert not found, f"{len(found)} answers show identifiers to a {role}:\n" + "\n".join(found[:25])


def test_investigators_do_see_identifiers(sweep: Sweep) -> None:
    """The identifier check can fail: the same sweep shows them to an investigator."""
    shown = [a for a in sweep.of("investigator") if checks.leaked(a, sweep.world.identifiers)]
    assert {a.entry for a in shown} >= {"graphql:lookup", "graphql:network", "rest:dossier.json"}


def test_a_brand_member_does_not_see_the_sites_behind_a_stranger_it_named_in_a_lead(sweep: Sweep) -> None:
    """A brand member may name any seller id in a lead of its own; that must not open the
    offline network of a seller it cannot see."""
    sites = sweep.world.stranger_sites
    traces = sweep.of("investigator", "graphql:traceToSource")
    assert sites and any(s in a.text for a in traces for s in sites)
    found = [f"{a}: {sorted(s for s in sites if s in a.text)}" for a in sweep.of("brand_member")
             if any(s in a.text for s in sites)]
    assert not found, "\n".join(found[:25])


def test_saved_query_csv_has_no_spreadsheet_formula(sweep: Sweep) -> None:
    csvs = [a for a in sweep.answers if a.entry == "rest:savedQuery.csv" and a.status == 200]
    assert csvs
    planted = [a for a in csvs if any(f[1:] in a.text for f in world.FORMULAS)]
    assert planted, "no CSV export shows a planted formula text: the check would prove nothing"
    found = [f"{a}: {checks.formula_cells(a.text)[:3]}" for a in csvs if checks.formula_cells(a.text)]
    assert not found, "\n".join(found[:25])


@pytest.mark.parametrize("role", ROLES)
def test_hostile_requests_get_client_errors(sweep: Sweep, role: str) -> None:
    answers = {a.entry.removeprefix("hostile:"): a for a in sweep.of(role, "hostile")}
    assert answers["huge body"].status == 413, answers["huge body"]
    assert answers["invalid UTF-8 body"].status == 400, answers["invalid UTF-8 body"].text[:300]
    surrogate = answers["lone surrogate search"]
    assert surrogate.status == 400 or checks.graphql_errors(surrogate), surrogate.text[:300]
    costly = answers["costly query"]
    assert checks.graphql_errors(costly) and not (costly.json() or {}).get("data"), costly.text[:300]
    wrong = [str(a) for a in answers.values() if a.status >= 500]
    assert not wrong, wrong


def test_reads_change_nothing_in_the_graph(sweep: Sweep) -> None:
    assert sweep.after == sweep.before
    assert sweep.before[0] > 500


def test_the_matrix_covers_every_role_and_entry_point(sweep: Sweep) -> None:
    entries = {(a.role, a.entry) for a in sweep.answers}
    wanted = {"graphql:lookup", "graphql:search", "graphql:network", "graphql:traceToSource",
              "graphql:sellerNetwork", "graphql:dossier", "rest:dossier.json", "rest:dossier.html",
              "graphql:savedQuery", "rest:savedQuery.json", "rest:savedQuery.csv"}
    missing = sorted((role, e) for role in ROLES for e in wanted if (role, e) not in entries)
    assert not missing, missing
