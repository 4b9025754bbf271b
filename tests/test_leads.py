"""Leads and cases against a real Neo4j: who sees what (a role x object matrix through
every entry point), the lifecycle mutations, raids, dossiers, conflicts and the audit
trail.

The graph is the bundle in tests/fixtures/leads loaded by the loaders: agencies for
Guangdong (province), Guangzhou and Shenzhen (cities), Fujian (province) and Putian
(city); six leads and two cases spread over them; a ring of two sellers sharing a phone
(written two ways) and a payout account.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neo4j import Driver
from prometheus_client import REGISTRY
from typer.testing import CliRunner

from alliance.cli import app as cli_app
from api.auth import issue_token
from api.main import create_app
from graph import lifecycle
from graph.caller import Caller
from graph.drivers import Connection
from graph.seller_networks import analyze_networks
from loaders import load_paths

pytestmark = pytest.mark.neo4j

BUNDLE = Path(__file__).parent / "fixtures" / "leads"
FIXTURE_LEADS = {"LD-GZ", "LD-GZ2", "LD-SZ", "LD-FJ", "LD-X", "LD-DRAFT"}
FIXTURE_CASES = {"CS-GZ", "CS-PT"}

VISIBLE_LEADS: dict[str, set[str]] = {
    "liaison:AG-GZ": {"LD-GZ", "LD-GZ2", "LD-X"},
    "liaison:AG-GD": {"LD-GZ", "LD-GZ2", "LD-SZ", "LD-X"},
    "liaison:AG-SZ": {"LD-SZ"},
    "liaison:AG-FJ": {"LD-FJ", "LD-X"},
    "liaison:AG-PT": {"LD-FJ"},
    "brand:B1": {"LD-GZ", "LD-GZ2", "LD-FJ", "LD-DRAFT"},
    "brand:B2": {"LD-SZ", "LD-X"},
    "investigator": FIXTURE_LEADS,
    "admin": FIXTURE_LEADS,
    "analyst": set(),
}
VISIBLE_CASES: dict[str, set[str]] = {
    "liaison:AG-GZ": {"CS-GZ"},
    "liaison:AG-GD": {"CS-GZ"},
    "liaison:AG-SZ": set(),
    "liaison:AG-FJ": {"CS-PT"},
    "liaison:AG-PT": {"CS-PT"},
    "brand:B1": {"CS-GZ"},
    "brand:B2": {"CS-PT"},
    "investigator": FIXTURE_CASES,
    "admin": FIXTURE_CASES,
    "analyst": set(),
}


def bearer(who: str) -> str:
    kind, _, ident = who.partition(":")
    if kind == "liaison":
        caller = Caller(sub=f"liaison-{ident}", role="police_liaison", agency_id=ident)
    elif kind == "brand":
        caller = Caller(sub=f"brand-{ident}", role="brand_member", brand_id=ident)
    else:
        caller = Caller(sub=f"test-{kind}", role=kind)  # type: ignore[arg-type]
    return issue_token(caller)


@pytest.fixture(scope="module")
def client(driver: Driver, database: str, neo4j_connection: Connection) -> Iterator[TestClient]:
    driver.execute_query("MATCH (n) DETACH DELETE n", database_=database)
    report = load_paths(driver, database, [BUNDLE], source="leads-fixture", pii_key=b"k")
    assert all(f.rejected == 0 for f in report.files), [f.as_dict() for f in report.files]
    analyze_networks(driver, database)
    with TestClient(create_app(connection=neo4j_connection)) as test_client:
        yield test_client


def gql(client: TestClient, who: str, query: str, **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables},
                           headers={"Authorization": f"Bearer {bearer(who)}"})
    assert response.status_code == 200, response.text
    return dict(response.json())


def data(client: TestClient, who: str, query: str, **variables: Any) -> dict[str, Any]:
    body = gql(client, who, query, **variables)
    assert "errors" not in body, body["errors"]
    return dict(body["data"])


def error(client: TestClient, who: str, query: str, **variables: Any) -> dict[str, Any]:
    body = gql(client, who, query, **variables)
    assert body.get("errors"), body
    return dict(body["errors"][0])


LEADS = "query { leads(first: 500) { totalCount edges { node { leadId } } } }"
CASES = "query { cases(first: 500) { totalCount edges { node { caseId } } } }"


# --- who sees what ----------------------------------------------------------------------


@pytest.mark.parametrize("who", sorted(VISIBLE_LEADS))
def test_leads_list_shows_exactly_the_callers_leads_and_counts_only_those(
        client: TestClient, who: str) -> None:
    leads = data(client, who, LEADS)["leads"]
    ids = {e["node"]["leadId"] for e in leads["edges"]}
    assert ids & FIXTURE_LEADS == VISIBLE_LEADS[who]
    assert leads["totalCount"] == len(leads["edges"])


@pytest.mark.parametrize("who", sorted(VISIBLE_CASES))
def test_cases_list_shows_exactly_the_callers_cases(client: TestClient, who: str) -> None:
    cases = data(client, who, CASES)["cases"]
    assert {e["node"]["caseId"] for e in cases["edges"]} & FIXTURE_CASES == VISIBLE_CASES[who]
    assert cases["totalCount"] == len(cases["edges"])


@pytest.mark.parametrize("who", sorted(VISIBLE_LEADS))
@pytest.mark.parametrize("lead_id", sorted(FIXTURE_LEADS))
def test_lead_lookup_finds_only_visible_leads(client: TestClient, who: str, lead_id: str) -> None:
    found = data(client, who, "query($id: ID!) { lead(leadId: $id) { leadId status } }", id=lead_id)
    assert (found["lead"] is not None) == (lead_id in VISIBLE_LEADS[who])


@pytest.mark.parametrize("who", sorted(VISIBLE_CASES))
@pytest.mark.parametrize("case_id", sorted(FIXTURE_CASES))
def test_case_lookup_finds_only_visible_cases(client: TestClient, who: str, case_id: str) -> None:
    found = data(client, who, "query($id: ID!) { case(caseId: $id) { caseId } }", id=case_id)
    assert (found["case"] is not None) == (case_id in VISIBLE_CASES[who])


def test_a_leads_brand_lists_its_leads_through_the_brand_too(client: TestClient) -> None:
    query = "query { brand(brandId: \"B2\") { leads(first: 50) { totalCount nodes { leadId } } } }"
    gz = data(client, "liaison:AG-GZ", query)["brand"]["leads"]
    assert {n["leadId"] for n in gz["nodes"]} == {"LD-X"} and gz["totalCount"] == 1
    sz = data(client, "liaison:AG-SZ", query)["brand"]["leads"]
    assert {n["leadId"] for n in sz["nodes"]} == {"LD-SZ"}


def test_lead_counts_are_scoped_but_analysts_count_everything(client: TestClient) -> None:
    query = "query { leadCounts { status leads } }"

    def total(who: str) -> int:
        return sum(c["leads"] for c in data(client, who, query)["leadCounts"])

    assert total("liaison:AG-SZ") == 1
    assert total("brand:B2") == 2
    assert total("analyst") == total("investigator") >= len(FIXTURE_LEADS)


def test_liaison_sees_the_subjects_of_its_leads_and_nothing_else(client: TestClient) -> None:
    query = """query($s: ID!, $site: ID!) { seller(sellerId: $s) { sellerId }
                                             site(siteId: $site) { siteId } }"""
    mine = data(client, "liaison:AG-SZ", query, s="S3", site="X-SZ")
    assert mine["seller"] == {"sellerId": "S3"} and mine["site"] == {"siteId": "X-SZ"}
    other = data(client, "liaison:AG-SZ", query, s="S1", site="X-GZ")
    assert other == {"seller": None, "site": None}
    assert data(client, "liaison:AG-PT", query, s="S3", site="X-PT") == {
        "seller": None, "site": {"siteId": "X-PT"}}


def test_liaison_search_and_network_stay_inside_its_leads(client: TestClient) -> None:
    search = 'query($t: String!) { search(text: $t) { label key } }'
    sz_hits = {(h["label"], h["key"]) for h in data(client, "liaison:AG-SZ", search, t="宝安仓库")["search"]}
    assert ("Site", "X-SZ") in sz_hits
    assert not data(client, "liaison:AG-SZ", search, t="白云鞋厂")["search"]
    network = 'query { network(seedIds: ["Seller:S1"], hops: 2) { nodes { label key } } }'
    gz_nodes = {(n["label"], n["key"]) for n in data(client, "liaison:AG-GZ", network)["network"]["nodes"]}
    assert ("Seller", "S1") in gz_nodes
    assert not {label for label, _ in gz_nodes} & {"Phone", "PaymentAccount", "Identity"}
    assert not data(client, "liaison:AG-SZ", network)["network"]["nodes"]


def test_trace_and_seller_network_are_for_investigators(client: TestClient) -> None:
    trace = 'query { traceToSource(sellerId: "S1") { site { siteId } } }'
    assert error(client, "liaison:AG-GZ", trace)["extensions"]["code"] == "FORBIDDEN"
    assert error(client, "brand:B1", trace)["extensions"]["code"] == "FORBIDDEN"
    assert data(client, "investigator", trace)["traceToSource"][0]["site"]["siteId"] == "X-GZ"


def test_saved_query_of_cases_keeps_to_the_jurisdiction(client: TestClient) -> None:
    def cases(who: str) -> set[str]:
        response = client.get("/queries/cases-in-my-jurisdiction.json",
                              headers={"Authorization": f"Bearer {bearer(who)}"})
        assert response.status_code == 200, response.text
        return {row["case_id"] for row in response.json()["rows"]} & FIXTURE_CASES

    assert cases("liaison:AG-GZ") == {"CS-GZ"}
    assert cases("liaison:AG-FJ") == {"CS-PT"}
    assert cases("liaison:AG-SZ") == set()


def test_saved_query_of_leads_counts_what_the_lists_show(client: TestClient) -> None:
    for who in ("liaison:AG-GZ", "liaison:AG-GD", "liaison:AG-FJ", "liaison:AG-SZ"):
        response = client.get("/queries/leads-in-my-jurisdiction.json",
                              headers={"Authorization": f"Bearer {bearer(who)}"})
        assert response.status_code == 200, response.text
        counted = sum(row["leads"] for row in response.json()["rows"])
        assert counted == data(client, who, LEADS)["leads"]["totalCount"], who


# --- lifecycle ----------------------------------------------------------------------------

CREATE = """mutation($input: CreateLeadInput!) {
  createLead(input: $input) { leadId status brand: onBehalfOf { nodes { brandId } } } }"""
STATUS = """mutation($id: ID!, $s: String!, $note: String) {
  updateLeadStatus(leadId: $id, status: $s, note: $note) { leadId status } }"""
PUSH = """mutation($id: ID!, $a: ID!) { pushLead(leadId: $id, agencyId: $a) { leadId status pushedOn } }"""
OPEN = """mutation($id: ID!, $input: OpenCaseInput!) { openCase(leadId: $id, input: $input) {
  caseId status handledBy { nodes { agencyId } } concernsBrand { nodes { brandId } } } }"""
RAID = """mutation($c: ID!, $s: ID!) { recordRaid(caseId: $c, siteId: $s, raidedOn: "2024-07-01",
  seizedValueCny: 350000, arrests: 4, densDestroyed: 1) {
    caseId status arrests densDestroyed seizedValueCny } }"""
CASE_STATUS = """mutation($c: ID!, $s: String!) {
  updateCaseStatus(caseId: $c, status: $s) { caseId status } }"""
LEAD = """query($id: ID!) { lead(leadId: $id) { leadId status hasEvent(first: 50) { nodes {
  fromStatus toStatus who role note cause causeId } } } }"""


def test_a_lead_goes_from_a_brand_to_a_raid_and_a_judgement(client: TestClient) -> None:
    # A brand member files on what its own evidence reaches: the shop its test purchase targets.
    new = {"leadId": "LD-NEW", "shopIds": ["SH1"], "purchaseIds": ["TP1"],
           "estimatedValueCny": 90000, "title": "白云 鞋厂"}
    created = data(client, "brand:B1", CREATE, input=new)["createLead"]
    assert created["status"] == "draft" and created["brand"]["nodes"] == [{"brandId": "B1"}]

    verified = data(client, "investigator", STATUS, id="LD-NEW", s="verified")["updateLeadStatus"]
    assert verified["status"] == "verified"
    pushed = data(client, "brand:B1", PUSH, id="LD-NEW", a="AG-GZ")["pushLead"]
    assert pushed["status"] == "pushed" and pushed["pushedOn"]
    assert data(client, "liaison:AG-SZ", LEAD, id="LD-NEW")["lead"] is None
    assert data(client, "liaison:AG-GD", LEAD, id="LD-NEW")["lead"]["status"] == "pushed"

    registered = data(client, "liaison:AG-GZ", STATUS, id="LD-NEW", s="registered", note="立案审查")
    assert registered["updateLeadStatus"]["status"] == "registered"
    case = data(client, "liaison:AG-GZ", OPEN, id="LD-NEW",
                input={"caseId": "CS-NEW", "title": "白云鞋厂案", "charge": "假冒注册商标罪"})["openCase"]
    assert case["status"] == "open" and case["handledBy"]["nodes"] == [{"agencyId": "AG-GZ"}]
    assert case["concernsBrand"]["nodes"] == [{"brandId": "B1"}]

    raided = data(client, "liaison:AG-GZ", RAID, c="CS-NEW", s="X-GZ")["recordRaid"]
    assert raided == {"caseId": "CS-NEW", "status": "raided", "arrests": 4, "densDestroyed": 1,
                      "seizedValueCny": 350000.0}
    again = data(client, "liaison:AG-GZ", RAID, c="CS-NEW", s="X-GZ")["recordRaid"]
    assert again["arrests"] == 4, "recording the same raid twice does not double its figures"
    site = data(client, "investigator", 'query { site(siteId: "X-GZ") { status } }')["site"]
    assert site["status"] == "raided"

    for status in ("prosecuted", "judged"):
        moved = data(client, "liaison:AG-GZ", CASE_STATUS, c="CS-NEW", s=status)["updateCaseStatus"]
        assert moved["status"] == status
    lead = data(client, "brand:B1", LEAD, id="LD-NEW")["lead"]
    assert lead["status"] == "judged"
    steps = [(e["fromStatus"], e["toStatus"], e["note"], e["cause"], e["causeId"])
             for e in lead["hasEvent"]["nodes"]]
    # what the server moved, it says in `cause` (pages word it in the reader's language);
    # `note` holds only what a person typed
    assert sorted(steps, key=str) == sorted([
        (None, "draft", None, None, None), ("draft", "verified", None, None, None),
        ("verified", "pushed", None, "pushed", "AG-GZ"),
        ("pushed", "registered", "立案审查", None, None),
        ("registered", "filed", None, "case_opened", "CS-NEW"),
        ("filed", "raided", None, "case_moved", "CS-NEW"),
        ("raided", "prosecuted", None, "case_moved", "CS-NEW"),
        ("prosecuted", "judged", None, "case_moved", "CS-NEW")], key=str)


def test_an_illegal_transition_names_the_allowed_ones(client: TestClient) -> None:
    err = error(client, "investigator", STATUS, id="LD-DRAFT", s="registered")
    assert err["extensions"]["code"] == "ILLEGAL_TRANSITION"
    assert "verified, withdrawn" in err["message"]
    final = error(client, "investigator", STATUS, id="LD-DRAFT", s="closed")
    assert "allowed next" in final["message"]


def test_roles_and_jurisdictions_limit_who_moves_what(client: TestClient) -> None:
    forbidden = error(client, "brand:B1", STATUS, id="LD-DRAFT", s="verified")
    assert forbidden["extensions"]["code"] == "FORBIDDEN" and "investigator" in forbidden["message"]
    # LD-X concerns a Guangzhou site but was pushed to Fujian: Guangzhou sees it, Fujian registers it.
    not_theirs = error(client, "liaison:AG-GZ", STATUS, id="LD-X", s="registered")
    assert not_theirs["extensions"]["code"] == "FORBIDDEN"
    hidden = error(client, "liaison:AG-SZ", STATUS, id="LD-GZ", s="registered")
    assert hidden["extensions"]["code"] == "NOT_FOUND" and "LD-GZ" in hidden["message"]
    assert error(client, "analyst", CREATE, input={"sellerIds": ["S1"], "brandIds": ["B1"]})[
        "extensions"]["code"] == "FORBIDDEN"


def test_create_lead_names_unknown_ids_and_keeps_brands_to_their_own(client: TestClient) -> None:
    err = error(client, "investigator", CREATE,
                input={"brandIds": ["B1", "B9"], "sellerIds": ["S1", "S404"], "complaintIds": ["C1"]})
    assert "brands: B9" in err["message"] and "sellers: S404" in err["message"]
    other_brand = error(client, "brand:B1", CREATE, input={"brandIds": ["B2"], "sellerIds": ["S1"]})
    assert other_brand["extensions"]["code"] == "FORBIDDEN"
    foreign_evidence = error(client, "brand:B1", CREATE,
                             input={"shopIds": ["SH1"], "complaintIds": ["C2"]})
    assert "complaints: C2" in foreign_evidence["message"]
    unseen_seller = error(client, "brand:B1", CREATE, input={"sellerIds": ["S3"]})
    assert "sellers: S3" in unseen_seller["message"]
    no_subject = error(client, "investigator", CREATE, input={"brandIds": ["B1"]})
    assert "at least one seller" in no_subject["message"]


def test_a_raid_and_a_judgement_raise_the_risk_of_the_network(client: TestClient, driver: Driver,
                                                               database: str) -> None:
    query = 'query { sellerNetwork(sellerId: "S4") { riskScore riskFactors { name value } } }'
    before = data(client, "investigator", query)["sellerNetwork"]
    lead = {"leadId": "LD-RISK", "brandIds": ["B1"], "sellerIds": ["S4"], "siteIds": ["X-PT"]}
    data(client, "investigator", CREATE, input=lead)
    data(client, "investigator", STATUS, id="LD-RISK", s="verified")
    data(client, "investigator", PUSH, id="LD-RISK", a="AG-PT")
    data(client, "liaison:AG-PT", STATUS, id="LD-RISK", s="registered")
    data(client, "liaison:AG-PT", OPEN, id="LD-RISK", input={"caseId": "CS-RISK"})
    data(client, "liaison:AG-PT", RAID, c="CS-RISK", s="X-PT")
    after = data(client, "investigator", query)["sellerNetwork"]
    assert after["riskScore"] > before["riskScore"]
    factors = {f["name"]: f["value"] for f in after["riskFactors"]}
    assert factors["enforcement"] >= 1


def test_lifecycle_table_is_one_table(client: TestClient) -> None:
    steps = data(client, "analyst", "query { leadLifecycle { object fromStatus toStatus roles } }")
    lead_steps = {(s["fromStatus"], s["toStatus"]) for s in steps["leadLifecycle"] if s["object"] == "lead"}
    assert lead_steps == {(a, b) for a, nexts in lifecycle.LEAD_TRANSITIONS.items() for b in nexts}
    assert "| lead | draft | verified, withdrawn |" in lifecycle.transitions_table()


# --- dossiers and conflicts ---------------------------------------------------------------

DOSSIER = """query($id: ID!) { lead(leadId: $id) { dossier {
  leadId status brandIds subjects { label key networkId networkSize }
  traces { subject { label key } sites { site { siteId } score
           paths { kind hops { from { label key } type to { label key } } } } }
  testPurchases { purchaseId verdict reportNo shipmentId }
  complaints { complaintId outcome target }
  shipments { shipmentId origin originAdcode }
  timeline { toStatus }
  value { estimatedValueCny level filingThresholdCny }
  conflicts { kind id via }
  manifest { sha256 items { kind id sha256 } } } } }"""


def traces_read() -> float:
    return REGISTRY.get_sample_value("alliance_api_neo4j_query_seconds_count",
                                     {"query": "lead:dossier-trace"}) or 0.0


def test_dossier_gathers_the_evidence_and_conflicts(client: TestClient) -> None:
    before = traces_read()
    d = data(client, "liaison:AG-GZ", DOSSIER, id="LD-GZ")["lead"]["dossier"]
    # its traces are reads of the request (timeout, retries, metrics, errors): one per subject
    assert traces_read() == before + 2
    assert d["brandIds"] == ["B1"]
    assert {(s["label"], s["key"]) for s in d["subjects"]} == {
        ("Seller", "S1"), ("Shop", "SH1"), ("Site", "X-GZ"), ("Person", "P1")}
    seller = next(s for s in d["subjects"] if s["key"] == "S1")
    assert seller["networkSize"] == 2
    top = {t["subject"]["key"]: t["sites"][0]["site"]["siteId"] for t in d["traces"] if t["sites"]}
    assert top["S1"] == "X-GZ"
    assert d["testPurchases"] == [{"purchaseId": "TP1", "verdict": "counterfeit", "reportNo": "R-001",
                                   "shipmentId": "SF:SF100"}]
    assert d["complaints"][0]["target"] == "Listing:L1"
    assert d["shipments"][0]["shipmentId"] == "SF:SF100" and d["shipments"][0]["originAdcode"] == "440111"
    assert d["value"]["level"] == "above_filing_threshold" and d["value"]["filingThresholdCny"] == 50000
    conflicts = {(c["kind"], c["id"]): c["via"] for c in d["conflicts"]}
    assert conflicts[("lead", "LD-X")] == ["site:X-GZ"]
    assert "seller:S1" in conflicts[("lead", "LD-GZ2")]
    assert ("case", "CS-GZ") in conflicts
    assert ("lead", "LD-DRAFT") not in conflicts, "a liaison does not see another brand's draft"
    inv = data(client, "investigator", DOSSIER, id="LD-GZ")["lead"]["dossier"]
    network_conflict = {c["id"]: c["via"] for c in inv["conflicts"]}["LD-DRAFT"]
    assert network_conflict[0].startswith("network:")


def test_brand_members_see_no_trace_of_a_subject_they_may_not_see(client: TestClient) -> None:
    # LD-DRAFT concerns S2, whose way to the factory goes through the phone it shares with S1:
    # brand B1 may not see S2, so its dossier shows no subject and no trace.
    d = data(client, "brand:B1", DOSSIER, id="LD-DRAFT")["lead"]["dossier"]
    assert d["subjects"] == [] and d["traces"] == []
    inv = data(client, "investigator", DOSSIER, id="LD-DRAFT")["lead"]["dossier"]
    inv_hops = [h for t in inv["traces"] for s in t["sites"] for p in s["paths"] for h in p["hops"]]
    assert any(n["label"] in ("Phone", "PaymentAccount") and n["key"] != "masked"
               for h in inv_hops for n in (h["from"], h["to"]))


def test_dossier_files_carry_a_manifest_that_checks(client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {bearer('liaison:AG-GZ')}"}
    response = client.get("/leads/LD-GZ/dossier.json", headers=headers)
    assert response.status_code == 200, response.text
    d = response.json()
    lines = "".join(f"{i['kind']} {i['id']} {i['sha256']}\n" for i in d["manifest"]["items"])
    assert hashlib.sha256(lines.encode()).hexdigest() == d["manifest"]["sha256"]
    kinds = {i["kind"] for i in d["manifest"]["items"]}
    assert {"lead", "subject", "trace", "test_purchase", "complaint", "shipment", "conflict"} <= kinds
    purchase = next(i for i in d["manifest"]["items"] if i["kind"] == "test_purchase")
    from api.dossier import canonical
    item = {k: d["testPurchases"][0][camel] for k, camel in (
        ("purchase_id", "purchaseId"), ("listing_id", "listingId"), ("brand_id", "brandId"),
        ("ordered_on", "orderedOn"), ("verdict", "verdict"), ("verdict_on", "verdictOn"),
        ("report_no", "reportNo"), ("shipment_id", "shipmentId"))}
    assert hashlib.sha256(canonical(item)).hexdigest() == purchase["sha256"]

    page = client.get("/leads/LD-GZ/dossier.html", headers=headers)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert d["manifest"]["sha256"] in page.text and "R-001" in page.text and "<script" not in page.text


def test_dossier_files_are_not_found_outside_the_jurisdiction(client: TestClient) -> None:
    def status(who: str, lead_id: str) -> int:
        return client.get(f"/leads/{lead_id}/dossier.json",
                          headers={"Authorization": f"Bearer {bearer(who)}"}).status_code

    assert status("liaison:AG-SZ", "LD-GZ") == 404
    assert status("liaison:AG-SZ", "LD-NOPE") == 404
    assert status("analyst", "LD-GZ") == 403
    assert status("brand:B2", "LD-X") == 200
    assert client.get("/leads/LD-GZ/dossier.json").status_code == 401


def test_thresholds_come_from_the_settings(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.settings import get_settings

    monkeypatch.setenv("ALLIANCE_THRESHOLD_FILING_CNY", "150000")
    get_settings.cache_clear()
    try:
        d = data(client, "investigator", DOSSIER, id="LD-GZ")["lead"]["dossier"]
        assert d["value"]["level"] == "below_filing_threshold"
    finally:
        monkeypatch.delenv("ALLIANCE_THRESHOLD_FILING_CNY")
        get_settings.cache_clear()


# --- audit trail --------------------------------------------------------------------------

AUDIT = """query($a: String) { auditEvents(action: $a, first: 100) { totalCount
  nodes { who role agencyId brandId action ids requestId details } } }"""


def test_every_dossier_read_and_change_is_in_the_audit_trail(client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {bearer('liaison:AG-PT')}", "X-Request-ID": "req-dossier-1"}
    assert client.get("/leads/LD-FJ/dossier.json", headers=headers).status_code == 200
    reads = data(client, "admin", AUDIT, a="dossier.read")["auditEvents"]["nodes"]
    mine = [e for e in reads if e["requestId"] == "req-dossier-1"]
    assert len(mine) == 1
    assert (mine[0]["who"], mine[0]["agencyId"], mine[0]["ids"]) == ("liaison-AG-PT", "AG-PT", ["LD-FJ"])
    assert json.loads(mine[0]["details"])["form"] == "json"

    data(client, "investigator", CREATE,
         input={"leadId": "LD-AUDIT", "brandIds": ["B2"], "sellerIds": ["S3"]})
    created = data(client, "admin", AUDIT, a="lead.create")["auditEvents"]["nodes"]
    assert any(e["ids"] == ["LD-AUDIT"] and e["role"] == "investigator" for e in created)
    assert error(client, "investigator", AUDIT)["extensions"]["code"] == "FORBIDDEN"


def test_the_audit_trail_cannot_be_edited_through_the_api(client: TestClient) -> None:
    from api.schema import schema

    mutation = schema.get_type_by_name("Mutation")
    names = [f.name for f in mutation.fields]  # type: ignore[union-attr]
    assert names and not [n for n in names if "audit" in n.lower()]
    assert data(client, "investigator", 'query { search(text: "dossier.read") { label } }')["search"] == []


def test_audit_tail_prints_the_newest_events(client: TestClient, neo4j_connection: Connection) -> None:
    data(client, "admin", DOSSIER, id="LD-SZ")
    result = CliRunner().invoke(cli_app, ["audit", "tail", "-n", "5", "--action", "dossier.read"])
    assert result.exit_code == 0, result.output
    assert "dossier.read" in result.output and "LD-SZ" in result.output


def test_the_docs_show_the_lifecycle_of_the_code() -> None:
    docs = (Path(__file__).parent.parent / "api" / "README.md").read_text(encoding="utf-8")
    assert lifecycle.transitions_table() in docs
