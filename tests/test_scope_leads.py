"""Leads, dossiers and raids keep to what each caller may see, against a real Neo4j.

The graph is the bundle of tests/test_leads.py (tests/fixtures/leads) plus
tests/fixtures/scope_leads: a Hebei provincial agency (AG-HB) with a Hebei site (X-HB)
and a case (CS-HB) from a lead pushed to it that concerns a Guangzhou site (X-GZ), so a
Hebei liaison sees that Guangzhou site but may not raid it.

Each test here reproduces a leak found from outside: a brand member seeing a seller's
offline network through a lead it created, identifiers in a liaison's dossier, a raid
outside the case's jurisdiction, errors that tell which ids exist or name an internal
node id, and the stored network risk lagging behind a raid.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neo4j import Driver

from api import leads
from api.main import create_app
from api.scope import SENSITIVE_LABELS
from graph.drivers import Connection
from graph.model import node
from graph.seller_networks import analyze_networks
from loaders import load_paths
from tests.test_leads import CREATE, DOSSIER, PUSH, STATUS, bearer, data, error

pytestmark = pytest.mark.neo4j

FIXTURES = Path(__file__).parent / "fixtures"
RAID = """mutation($c: ID!, $s: ID!) { recordRaid(caseId: $c, siteId: $s, raidedOn: "2024-07-01",
  arrests: 2, densDestroyed: 1) { caseId status } }"""
NETWORKS = "query { networks(orderBy: RISK, first: 100) { items { networkId riskScore } } }"
SITE = 'query($s: ID!) { site(siteId: $s) { status } }'


@pytest.fixture(scope="module")
def client(driver: Driver, database: str, neo4j_connection: Connection) -> Iterator[TestClient]:
    driver.execute_query("MATCH (n) DETACH DELETE n", database_=database)
    for bundle in ("leads", "scope_leads"):
        report = load_paths(driver, database, [FIXTURES / bundle], source="scope-fixture", pii_key=b"k")
        assert not [f for f in report.files if f.rejected], report.files
    analyze_networks(driver, database)
    with TestClient(create_app(connection=neo4j_connection)) as test_client:
        yield test_client


def values(driver: Driver, database: str, label: str, *props: str) -> set[str]:
    """Every value of `props` (and the key) of the nodes of `label`."""
    fields = ", ".join(f"n.{p}" for p in (node(label).key, *props))
    records, _, _ = driver.execute_query(
        f"MATCH (n:{label}) UNWIND [{fields}] AS v WITH v WHERE v IS NOT NULL "
        "RETURN collect(DISTINCT toString(v)) AS vs", database_=database)
    return set(records[0]["vs"])


def strings(value: Any) -> list[str]:
    """Every text in a JSON answer."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def shown(answer: Any) -> set[str]:
    """The texts of an answer and their parts (`seller:S1` gives `seller` and `S1`)."""
    found = set()
    for text in strings(answer):
        found.add(text)
        found.update(re.split(r"[\s:,;]+", text))
    return found


def dossier_json(client: TestClient, who: str, lead_id: str) -> dict[str, Any]:
    response = client.get(f"/leads/{lead_id}/dossier.json",
                          headers={"Authorization": f"Bearer {bearer(who)}"})
    assert response.status_code == 200, response.text
    return dict(response.json())


def dossier_html(client: TestClient, who: str, lead_id: str) -> str:
    response = client.get(f"/leads/{lead_id}/dossier.html",
                          headers={"Authorization": f"Bearer {bearer(who)}"})
    assert response.status_code == 200, response.text
    return response.text


def hidden_from_brands(driver: Driver, database: str) -> tuple[set[str], set[str]]:
    """Ids and names a brand member must never be shown (its own shops aside), and the
    street addresses."""
    ids: set[str] = set()
    for label, props in (("Seller", ("nickname",)), ("Person", ("name",)), ("Site", ("label",)),
                         ("Shipment", ("waybill_no", "sender_name")), ("Network", ())):
        ids |= values(driver, database, label, *props)
    for label in SENSITIVE_LABELS:
        ids |= values(driver, database, label)
    addresses = values(driver, database, "Address", "raw", "normalized")
    return ids, addresses


def identifiers(driver: Driver, database: str) -> set[str]:
    found: set[str] = set()
    for label in SENSITIVE_LABELS:
        found |= values(driver, database, label)
    return found


def trace_nodes(d: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for t in d["traces"] for s in t["sites"] for p in s["paths"] for h in p["hops"]
            for n in (h["from"], h["to"])]


# --- creating leads ---------------------------------------------------------------------


def same_answer(a: str, b: str, a_id: str, b_id: str) -> bool:
    return a.replace(a_id, "<id>") == b.replace(b_id, "<id>")


@pytest.mark.parametrize(("field", "hidden"), [
    ("sellerIds", "S1"), ("sellerIds", "S3"), ("siteIds", "X-GZ"), ("personIds", "P1"),
    ("shopIds", "SH3")])
def test_a_brand_member_attaches_what_it_cannot_see_as_if_it_did_not_exist(
        client: TestClient, driver: Driver, database: str, field: str, hidden: str) -> None:
    seen = error(client, "brand:B1", CREATE, input={field: [hidden], "leadId": "LD-PROBE"})
    unknown = error(client, "brand:B1", CREATE, input={field: ["NOPE-404"], "leadId": "LD-PROBE"})
    assert seen["extensions"]["code"] == unknown["extensions"]["code"] == "BAD_REQUEST"
    assert same_answer(seen["message"], unknown["message"], hidden, "NOPE-404"), (seen, unknown)
    assert hidden in seen["message"]
    records, _, _ = driver.execute_query("MATCH (l:Lead {lead_id: 'LD-PROBE'}) RETURN count(l) AS n",
                                         database_=database)
    assert records[0]["n"] == 0


@pytest.fixture(scope="module")
def shop_lead(client: TestClient) -> dict[str, Any]:
    """A lead brand B1 files on what its own complaint and test purchase target."""
    lead = {"leadId": "LD-B1-SHOP", "shopIds": ["SH1"], "purchaseIds": ["TP1"], "complaintIds": ["C1"],
            "estimatedValueCny": 60000}
    return dict(data(client, "brand:B1", CREATE, input=lead)["createLead"])


def test_a_brand_member_creates_a_lead_on_what_its_own_evidence_reaches(shop_lead: dict[str, Any]) -> None:
    assert shop_lead["leadId"] == "LD-B1-SHOP" and shop_lead["status"] == "draft"
    assert shop_lead["brand"]["nodes"] == [{"brandId": "B1"}]


def test_a_lead_id_in_use_is_refused_without_naming_its_owner_or_an_internal_id(
        client: TestClient, driver: Driver, database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    records, _, _ = driver.execute_query(
        "MATCH (l:Lead) WHERE l.lead_id IN ['LD-SZ', 'LD-GZ'] "
        "RETURN l.lead_id AS id, elementId(l) AS eid, id(l) AS nid", database_=database)
    internal = {r["id"]: (r["eid"], str(r["nid"])) for r in records}
    lead = {"shopIds": ["SH1"]}
    other = error(client, "brand:B1", CREATE, input={**lead, "leadId": "LD-SZ"})  # brand B2's lead
    own = error(client, "brand:B1", CREATE, input={**lead, "leadId": "LD-GZ"})
    assert same_answer(other["message"], own["message"], "LD-SZ", "LD-GZ"), (other, own)
    eid, nid = internal["LD-SZ"]
    assert eid not in other["message"] and not re.search(rf"\b{nid}\b", other["message"])
    assert "B2" not in other["message"] and "Node(" not in other["message"]
    # Created by someone else between the check and the write: the same answer.
    async def unchecked(ctx: Any, lead_id: str) -> None:
        return None

    monkeypatch.setattr(leads, "_check_lead_id", unchecked)
    raced = error(client, "brand:B1", CREATE, input={**lead, "leadId": "LD-SZ"})
    assert raced["message"] == other["message"], raced


# --- dossiers -----------------------------------------------------------------------------


@pytest.mark.parametrize("lead_id", ["LD-GZ", "LD-B1-SHOP"])
def test_a_brand_members_dossier_shows_no_offline_network(
        client: TestClient, driver: Driver, database: str, shop_lead: dict[str, Any], lead_id: str) -> None:
    d = dossier_json(client, "brand:B1", lead_id)
    assert {(s["label"], s["key"]) for s in d["subjects"]} == {("Shop", "SH1")}
    assert d["shipments"] == [] and all(p["shipmentId"] is None for p in d["testPurchases"])
    assert [p["purchaseId"] for p in d["testPurchases"]] == ["TP1"]
    assert all(not t["sites"] for t in d["traces"])
    ids, addresses = hidden_from_brands(driver, database)
    assert not shown(d) & ids, shown(d) & ids
    assert not [a for a in addresses for text in strings(d) if a in text]
    page = dossier_html(client, "brand:B1", lead_id)
    assert not [a for a in addresses if a in page]
    assert not [i for i in ids if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", page)]
    graphql = data(client, "brand:B1", DOSSIER, id=lead_id)["lead"]["dossier"]
    assert not shown(graphql) & ids
    # The investigator's dossier of the same lead has what the brand's leaves out.
    full = dossier_json(client, "investigator", lead_id)
    assert shown(full) & ids


def test_a_liaisons_dossier_masks_identifiers_and_an_investigators_does_not(
        client: TestClient, driver: Driver, database: str) -> None:
    # S2 reaches the Guangzhou factory only through the phone and account it shares with S1.
    data(client, "investigator", CREATE, input={"leadId": "LD-S2", "brandIds": ["B1"], "sellerIds": ["S2"]})
    data(client, "investigator", STATUS, id="LD-S2", s="verified")
    data(client, "investigator", PUSH, id="LD-S2", a="AG-GZ")
    secret = identifiers(driver, database)
    assert secret
    liaison = dossier_json(client, "liaison:AG-GZ", "LD-S2")
    nodes = trace_nodes(liaison)
    sensitive = [n for n in nodes if n["label"] in SENSITIVE_LABELS]
    assert sensitive and all(n["key"] == n["caption"] == "masked" for n in sensitive)
    assert not shown(liaison) & secret, shown(liaison) & secret
    assert not [s for s in secret if s in dossier_html(client, "liaison:AG-GZ", "LD-S2")]
    assert {t["sites"][0]["site"]["siteId"] for t in liaison["traces"]} == {"X-GZ"}
    investigator = dossier_json(client, "investigator", "LD-S2")
    assert shown(investigator) & secret
    assert not [n for n in trace_nodes(investigator) if n["key"] == "masked"]


# --- raids --------------------------------------------------------------------------------


def test_a_raid_outside_the_cases_jurisdiction_is_refused_and_changes_nothing(client: TestClient) -> None:
    before = data(client, "investigator", SITE, s="X-GZ")["site"]["status"]
    # The Hebei liaison sees X-GZ (its lead concerns it) but the case is Hebei's.
    assert data(client, "liaison:AG-HB", SITE, s="X-GZ")["site"] is not None
    refused = error(client, "liaison:AG-HB", RAID, c="CS-HB", s="X-GZ")
    assert refused["extensions"]["code"] == "OUT_OF_JURISDICTION"
    assert "X-GZ" in refused["message"] and "AG-HB" in refused["message"] and "440111" in refused["message"]
    assert error(client, "investigator", RAID, c="CS-HB", s="X-GZ")["extensions"]["code"] == \
        "OUT_OF_JURISDICTION"
    assert data(client, "investigator", SITE, s="X-GZ")["site"]["status"] == before
    case = data(client, "investigator", 'query { case(caseId: "CS-HB") { status raided { totalCount } } }')
    assert case["case"] == {"status": "open", "raided": {"totalCount": 0}}
    # A site it may not see answers like one that does not exist.
    hidden = error(client, "liaison:AG-HB", RAID, c="CS-HB", s="X-SZ")
    absent = error(client, "liaison:AG-HB", RAID, c="CS-HB", s="X-NOPE")
    assert hidden["extensions"]["code"] == absent["extensions"]["code"] == "NOT_FOUND"
    assert same_answer(hidden["message"], absent["message"], "X-SZ", "X-NOPE")
    assert data(client, "investigator", SITE, s="X-SZ")["site"]["status"] == "suspected"
    # Inside the jurisdiction, the raid is recorded.
    done = data(client, "liaison:AG-HB", RAID, c="CS-HB", s="X-HB")["recordRaid"]
    assert done == {"caseId": "CS-HB", "status": "raided"}
    assert data(client, "investigator", SITE, s="X-HB")["site"]["status"] == "raided"


def test_a_raid_moves_the_stored_network_risk_at_once(client: TestClient) -> None:
    def stored() -> float:
        items = data(client, "investigator", NETWORKS)["networks"]["items"]
        return float(next(n["riskScore"] for n in items if n["networkId"] == "net:S1"))

    before = stored()
    data(client, "liaison:AG-GZ", RAID, c="CS-GZ", s="X-GZ")
    after = stored()
    live = data(client, "investigator", 'query { sellerNetwork(sellerId: "S1") { riskScore } }')
    assert after > before
    assert after == pytest.approx(live["sellerNetwork"]["riskScore"], abs=1e-9)
