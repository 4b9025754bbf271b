"""Screening new uploads: a hand-made bundle loaded by the real loader on a real Neo4j,
screened through `POST /screen`, GraphQL `screen` and `alliance screen`.

The bundle: a ring of three sellers (a shared phone, a payout account, a confirmed
factory their shops ship from, a counterfeit verdict, an upheld complaint; S1 suspended,
controlled by a person who runs the factory) and 35 honest sellers who ship from one
fulfilment warehouse and log in through one carrier IP; ring seller S1 takes returns at
that warehouse and uses that IP too, so both are hubs that also touch the ring.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neo4j import Driver
from typer.testing import CliRunner

from alliance.cli import app as cli
from alliance.generate import generate_bundle, read_truth
from api.auth import issue_token
from api.main import create_app
from core.errors import SettingsError
from core.settings import Settings, get_settings
from graph import access, screening
from graph.caller import Caller
from graph.drivers import Connection
from graph.screening import Thresholds, mask
from graph.seller_networks import analyze_networks
from loaders import load_paths
from loaders.uploads import UPLOAD_FIELDS, UploadChecker
from tests.counting_driver import CountingDriver

FACTORY = "广东省广州市白云区机场路1号"
PARK_UNIT = "广东省广州市白云区机场路1号3栋201室"
WAREHOUSE = "广东省广州市番禺区石楼镇物流园8号"
CARRIER_IP = "ip:117.136.0.1"
RING_PHONE, RING_ACCOUNT, RING_ID_NUMBER = "138 0013 8000", "alipay:ring000001", "11010119900307123X"
BOSS_PHONE = "150 9112 1515"
HONEST = [f"H{i:02d}" for i in range(1, 36)]


def bundle_files() -> dict[str, list[dict[str, Any]]]:
    ring = [
        {"seller_id": "S1", "platform": "tmall", "status": "suspended", "phones": [RING_PHONE],
         "payout_accounts": [RING_ACCOUNT], "devices": ["fp:ringdevice0001", CARRIER_IP],
         "id_number": RING_ID_NUMBER},
        {"seller_id": "S2", "platform": "tmall", "status": "active", "phones": [RING_PHONE],
         "payout_accounts": [RING_ACCOUNT]},
        {"seller_id": "S3", "platform": "jd", "status": "active", "phones": [RING_PHONE],
         "emails": ["ring@qq.com"]},
    ]
    honest = [{"seller_id": h, "platform": "tmall", "status": "active",
               "phones": [f"139 0000 00{h[1:]}"], "payout_accounts": [f"alipay:h000000{h[1:]}"],
               "devices": [f"fp:honest0000{h[1:]}", CARRIER_IP]} for h in HONEST]
    shops = [{"shop_id": f"SH{s[1:]}", "seller_id": s, "platform": "tmall",
              "ship_from_address": FACTORY, "return_address": FACTORY} for s in ("S1", "S2", "S3")]
    shops[0]["return_address"] = WAREHOUSE
    shops += [{"shop_id": f"SH{h}", "seller_id": h, "platform": "tmall",
               "ship_from_address": WAREHOUSE, "return_address": WAREHOUSE} for h in HONEST]
    return {
        "brands": [{"brand_id": "B1", "name": "Terranova"}],
        "sellers": ring + honest,
        "shops": shops,
        "listings": [{"listing_id": f"L{i}", "shop_id": f"SH{i}", "brand_id": "B1"} for i in (1, 2, 3)],
        "sites": [{"site_id": "SITE1", "kind": "factory", "address": FACTORY, "status": "confirmed"}],
        "persons": [{"person_id": "P1", "phones": [BOSS_PHONE], "controls_sellers": ["S1"],
                     "operates_sites": ["SITE1"]}],
        "test_purchases": [{"purchase_id": "TP1", "listing_id": "L1", "verdict": "counterfeit",
                            "authenticated_by": "B1"}],
        "complaints": [{"complaint_id": "C1", "brand_id": "B1", "shop_id": "SH2",
                        "filed_on": "2025-01-02", "outcome": "upheld"}],
    }


def pii_key() -> bytes:
    return get_settings().pii_key()


@pytest.fixture(scope="module")
def world(driver: Driver, database: str, tmp_path_factory: pytest.TempPathFactory) -> Driver:
    folder = tmp_path_factory.mktemp("screen-bundle")
    for name, rows in bundle_files().items():
        (folder / f"{name}.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    with driver.session(database=database) as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()
    report = load_paths(driver, database, [folder], source="screen-test", pii_key=pii_key())
    assert report.rejected == 0
    analyze_networks(driver, database)
    return driver


@pytest.fixture(scope="module")
def client(world: Driver, neo4j_connection: Connection) -> Iterator[TestClient]:
    checker = UploadChecker(pii_key())
    with TestClient(create_app(connection=neo4j_connection, upload_checker=checker)) as test_client:
        yield test_client


def bearer(role: str = "platform", **claims: Any) -> dict[str, str]:
    caller = Caller(sub=f"screen-test-{role}", role=role, **claims)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {issue_token(caller)}"}


def upload(n: int, **fields: Any) -> dict[str, Any]:
    """A new account's upload with nothing known but `fields`."""
    return {"upload_id": f"U{n}", "seller_id": f"N{n}", "platform": "tmall", "shop_id": f"NSH{n}",
            "phones": [f"199 0000 {n:04d}"], "brand_id": "B1", "title": "运动鞋", "price": 199.0,
            **fields}


def rest(client: TestClient, uploads: list[dict[str, Any]], role: str = "platform",
         **body: Any) -> list[dict[str, Any]]:
    response = client.post("/screen", json={"uploads": uploads, **body}, headers=bearer(role))
    assert response.status_code == 200, response.text
    decisions: list[dict[str, Any]] = response.json()["decisions"]
    return decisions


def count(driver: Driver, database: str, cypher: Any, **params: Any) -> int:
    return int(access.read(driver, database, cypher, params)[0]["n"])


# --- the hand-made examples -------------------------------------------------------------


def test_a_rings_new_shop_with_its_payout_account_is_blocked_with_that_reason(
        client: TestClient) -> None:
    (decision,) = rest(client, [upload(1, payout_accounts=["ALIPAY:ring000001"])])
    assert decision["decision"] == "BLOCK"
    (reason,) = decision["reasons"]
    assert reason["kind"] == "payment_account" and reason["field"] == "payout_accounts"
    assert reason["key"] == "alipay:ri***01"
    assert reason["sellers"] == 2 and reason["suspended"] == 1 and not reason["hub"]
    assert [n["network_id"] for n in reason["networks"]] == ["net:S1"]
    assert reason["networks"][0]["risk"] > 0.5
    assert {"site_id": "SITE1", "status": "confirmed", "raided": False, "how": "reached"} \
        in reason["sites"]
    assert decision["score"] == reason["weight"] >= get_settings().alliance_screen_block


def test_each_known_identifier_of_the_ring_leads_to_it(client: TestClient) -> None:
    cases: dict[str, dict[str, Any]] = {
             "phone": {"phones": ["+86-138-0013-8000"]}, "email": {"emails": ["RING@qq.com"]},
             "device_fp": {"devices": ["fp:ringdevice0001"]},
             "identity": {"id_number": RING_ID_NUMBER.lower()},
             "address": {"ship_from_address": "广州市白云区机场路１号"}}
    uploads = [upload(10 + i, **fields) for i, fields in enumerate(cases.values())]
    for kind, decision in zip(cases, rest(client, uploads), strict=True):
        assert decision["decision"] == "BLOCK", (kind, decision)
        assert decision["reasons"][0]["kind"] == kind


def test_shipping_from_the_factory_leads_to_the_site_there(client: TestClient) -> None:
    (decision,) = rest(client, [upload(20, ship_from_address=FACTORY)])
    (reason,) = decision["reasons"]
    assert {"site_id": "SITE1", "status": "confirmed", "raided": False, "how": "here"} in reason["sites"]


def test_the_phone_of_the_person_running_a_site_leads_to_that_site(client: TestClient) -> None:
    (decision,) = rest(client, [upload(21, phones=[BOSS_PHONE])])
    assert decision["decision"] != "ALLOW"
    assert decision["reasons"][0]["sites"] == [
        {"site_id": "SITE1", "status": "confirmed", "raided": False, "how": "here"}]


def test_a_new_shop_sharing_only_a_fulfilment_hub_is_allowed(client: TestClient) -> None:
    hub_only = upload(30, ship_from_address=WAREHOUSE, return_address=WAREHOUSE,
                      devices=["fp:newdevice30", CARRIER_IP])
    (decision,) = rest(client, [hub_only])
    assert decision["decision"] == "ALLOW" and decision["score"] == 0
    kinds = {(r["kind"], r["hub"], r["weight"], r["sellers"]) for r in decision["reasons"]}
    assert kinds == {("address", True, 0, 31), ("device_ip", True, 0, 31)}


def test_without_the_hub_rule_the_same_shop_would_not_be_allowed(world: Driver, database: str) -> None:
    """What the hub rule prevents: the warehouse and the carrier IP touch the ring."""
    hub_only = upload(31, ship_from_address=WAREHOUSE, devices=[CARRIER_IP])
    (_, normalised), = UploadChecker(pii_key()).check([hub_only])[0]
    limits = screening.thresholds(get_settings())
    for hub, allowed in ((screening.HUB_THRESHOLD, True), (1000, False)):
        outcome = access.steps(world, database, screening.screen_batch(
            [normalised], Caller("t", "investigator"), limits, hub_threshold=hub))
        assert (outcome.decisions[0].decision == "ALLOW") is allowed, hub


def test_a_shop_in_the_business_park_of_a_site_at_another_unit_is_allowed(
        client: TestClient) -> None:
    (decision,) = rest(client, [upload(32, ship_from_address=PARK_UNIT)])
    assert decision == {"upload_id": "U32", "decision": "ALLOW", "score": 0, "reasons": []}


def test_a_known_honest_sellers_new_shop_and_a_stranger_sharing_its_phone_are_allowed(
        client: TestClient) -> None:
    own = upload(33, seller_id="H01", phones=["139 0000 0001"], payout_accounts=["alipay:h00000001"],
                 ship_from_address=WAREHOUSE)
    stranger = upload(34, phones=["139 0000 0002"])
    assert [d["decision"] for d in rest(client, [own, stranger])] == ["ALLOW", "ALLOW"]


def test_the_ring_account_itself_uploading_again_is_blocked(client: TestClient) -> None:
    (decision,) = rest(client, [upload(35, seller_id="S2")])
    assert decision["decision"] == "BLOCK"
    assert decision["reasons"][0]["kind"] == "seller" and decision["reasons"][0]["key"] == "S2"


# --- who sees what ------------------------------------------------------------------------


def test_the_platform_sees_kinds_and_masked_keys_never_another_sellers_data(
        client: TestClient) -> None:
    every = upload(40, phones=[RING_PHONE], payout_accounts=[RING_ACCOUNT], emails=["ring@qq.com"],
                   devices=["fp:ringdevice0001"], id_number=RING_ID_NUMBER)
    response = client.post("/screen", json={"uploads": [every]}, headers=bearer())
    text = response.text
    for secret in ("+8613800138000", "ring000001", "ring@qq.com", "ringdevice0001",
                   RING_ID_NUMBER, '"S1"', '"S2"', '"S3"', "seller_ids"):
        assert secret not in text, secret
    reasons = response.json()["decisions"][0]["reasons"]
    assert {r["kind"]: r["key"] for r in reasons} == {
        "phone": "+86138******00", "payment_account": "alipay:ri***01", "email": "r***@qq.com",
        "device_fp": "fp:ring***", "identity": "***"}
    (investigator,) = rest(client, [every], role="investigator")
    assert {s for r in investigator["reasons"] for s in r["seller_ids"]} == {"S1", "S2", "S3"}


QUERIES = {
    "seller": '{ seller(sellerId: "S1") { sellerId } }',
    "phone": '{ phone(e164: "+8613800138000") { e164 } }',
    "search": '{ search(text: "Terranova", first: 20) { id } }',
    "network": '{ network(seedIds: ["Seller:S1"], hops: 1, limit: 20) { nodes { id } } }',
}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_the_platform_cannot_read_a_seller_or_anything_else(client: TestClient, name: str) -> None:
    response = client.post("/graphql", json={"query": QUERIES[name]}, headers=bearer())
    assert response.status_code == 200
    body = response.json()
    assert "S1" not in json.dumps(body.get("data")) and "+86" not in json.dumps(body.get("data"))
    assert body.get("errors") or not any(body["data"].values()) or \
        body["data"] == {"network": {"nodes": []}}
    investigator = client.post("/graphql", json={"query": QUERIES[name]},
                               headers=bearer("investigator")).json()
    assert investigator["data"] and any(investigator["data"].values())


def test_the_platform_may_run_no_investigation_or_saved_query(client: TestClient) -> None:
    for query in ('{ sellerNetwork(sellerId: "S1") { sellerId } }',
                  '{ runSavedQuery(name: "sellers-sharing-identifiers") { rows } }'):
        body = client.post("/graphql", json={"query": query}, headers=bearer()).json()
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    assert client.get("/queries", headers=bearer()).json() == {"queries": []}


@pytest.mark.parametrize("role", ["analyst", "brand_member"])
def test_other_roles_may_not_screen(client: TestClient, role: str) -> None:
    claims = {"brand_id": "B1"} if role == "brand_member" else {}
    response = client.post("/screen", json={"uploads": [upload(41)]}, headers=bearer(role, **claims))
    assert response.status_code == 403


# --- invalid uploads -----------------------------------------------------------------------


def test_an_invalid_upload_gets_its_index_field_and_reason_and_nothing_is_screened(
        client: TestClient, world: Driver, database: str) -> None:
    audits = count(world, database, "MATCH (e:AuditEvent) RETURN count(e) AS n")
    bad_id = "12345678901"
    uploads = [upload(50, payout_accounts=[RING_ACCOUNT]),
               upload(51, phones=["12345"], id_number=bad_id), {"upload_id": "U52"}]
    response = client.post("/screen", json={"uploads": uploads}, headers=bearer())
    assert response.status_code == 400
    body = response.json()
    assert bad_id not in response.text
    got = {(e["index"], e["field"], e["code"]) for e in body["invalid"]}
    assert got == {(1, "phones", "phone"), (1, "id_number", "id_number"),
                   (2, "seller_id", "missing"), (2, "platform", "missing"), (2, "shop_id", "missing")}
    assert "upload 1: phones: not a valid phone number" in body["detail"]
    assert count(world, database, "MATCH (e:AuditEvent) RETURN count(e) AS n") == audits


def test_graphql_names_the_invalid_upload_too(client: TestClient) -> None:
    query = "mutation($u: [UploadInput!]!) { screen(uploads: $u) { decision } }"
    uploads = [{"uploadId": "U53", "sellerId": "N53", "platform": "tmall", "shopId": "X",
                "emails": ["not-an-email"]}]
    body = client.post("/graphql", json={"query": query, "variables": {"u": uploads}},
                       headers=bearer()).json()
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert error["extensions"]["invalid"] == [
        {"index": 0, "field": "emails", "code": "email", "message": "emails: not an e-mail address"}]


@pytest.mark.parametrize(("body", "status"), [
    ({"uploads": [upload(i) for i in range(501)]}, 400),
    ({"uploads": [], "extra": 1}, 400),
    ({"uploads": "U1"}, 400),
    ({"uploads": [], "record": "yes"}, 400),
    ({"uploads": []}, 200),
])
def test_the_body_is_checked(client: TestClient, body: dict[str, Any], status: int) -> None:
    assert client.post("/screen", json=body, headers=bearer()).status_code == status


# --- one read per batch, recording, auditing -------------------------------------------------


def test_a_batch_is_matched_in_one_read_and_allows_write_nothing(client: TestClient) -> None:
    state = client.app.state  # type: ignore[attr-defined]
    original, state.driver = state.driver, CountingDriver(state.driver)
    try:
        decisions = rest(client, [upload(60 + i) for i in range(50)])
        sessions = state.driver.sessions
    finally:
        state.driver = original
    assert {d["decision"] for d in decisions} == {"ALLOW"}
    assert [s["default_access_mode"] for s in sessions] == ["READ"]


def test_screening_is_read_only_by_default_and_every_block_is_audited(
        client: TestClient, world: Driver, database: str) -> None:
    before = count(world, database, "MATCH (s:Screening) RETURN count(s) AS n")
    rest(client, [upload(70, payout_accounts=[RING_ACCOUNT]), upload(71),
                  upload(72, phones=[RING_PHONE])])
    assert count(world, database, "MATCH (s:Screening) RETURN count(s) AS n") == before
    (event,) = access.read(world, database, "MATCH (e:AuditEvent) WHERE 'U70' IN e.ids "
                           "RETURN e {.*} AS e")
    e = event["e"]
    assert e["action"] == "screen.block" and e["role"] == "platform"
    assert e["ids"] == ["U70", "U72"]
    assert json.loads(e["details"])["U70"]["networks"] == ["net:S1"]


def test_record_stores_the_decision_linked_to_what_it_matched(
        client: TestClient, world: Driver, database: str) -> None:
    query = ("mutation($u: [UploadInput!]!) { screen(uploads: $u, record: true) "
             "{ uploadId decision screeningId } }")
    uploads = [{"uploadId": "U80", "sellerId": "N80", "platform": "tmall", "shopId": "NSH80",
                "payoutAccounts": [RING_ACCOUNT], "idNumber": RING_ID_NUMBER}]
    body = client.post("/graphql", json={"query": query, "variables": {"u": uploads}},
                       headers=bearer()).json()
    (decision,) = body["data"]["screen"]
    assert decision["decision"] == "BLOCK" and decision["screeningId"]
    rows = access.read(world, database, """
        MATCH (s:Screening {screening_id: $id})-[m:MATCHED]->(x)
        RETURN s {.*} AS s, collect([labels(x)[0], m.kind]) AS links""", {"id": decision["screeningId"]})
    stored, links = rows[0]["s"], rows[0]["links"]
    assert stored["upload_id"] == "U80" and stored["seller_id"] == "N80"
    assert stored["decision"] == "BLOCK" and stored["who"] == "screen-test-platform"
    assert RING_ID_NUMBER not in json.dumps(stored, default=str)
    assert {label for label, _ in links} == {"PaymentAccount", "Identity", "Seller", "Network", "Site"}
    on_network = count(world, database, "MATCH (:Network {network_id: 'net:S1'})<-[:MATCHED]-"
                       "(s:Screening) RETURN count(DISTINCT s) AS n")
    assert on_network >= 1


def test_the_networks_list_counts_the_new_shops_a_ring_tried_this_week(
        client: TestClient, world: Driver, database: str) -> None:
    query = ("mutation($u: [UploadInput!]!) { screen(uploads: $u, record: true) "
             "{ uploadId decision } }")
    uploads = [{"uploadId": f"U9{i}", "sellerId": f"N9{i}", "platform": "tmall",
                "shopId": f"NSH9{i // 2}", "payoutAccounts": [RING_ACCOUNT]} for i in range(4)]
    uploads.append({"uploadId": "U99", "sellerId": "N99", "platform": "tmall", "shopId": "NSH99",
                    "phones": ["199 0000 9999"]})
    body = client.post("/graphql", json={"query": query, "variables": {"u": uploads}},
                       headers=bearer()).json()
    assert [d["decision"] for d in body["data"]["screen"]] == ["BLOCK"] * 4 + ["ALLOW"]

    def tried() -> dict[str, Any]:
        listing = "{ networks(first: 100) { items { networkId shopsTried uploadsBlocked } } }"
        answer = client.post("/graphql", json={"query": listing}, headers=bearer("investigator"))
        return {n["networkId"]: n for n in answer.json()["data"]["networks"]["items"]}

    before = tried()["net:S1"]
    # Four uploads from two new shops, on top of what earlier tests recorded.
    assert before["shopsTried"] >= 2 and before["uploadsBlocked"] >= 4
    with world.session(database=database) as session:
        session.run("MATCH (s:Screening) WHERE s.upload_id IN ['U90', 'U91'] "
                    "SET s.at = s.at - duration({days: 8})").consume()
    after = tried()["net:S1"]
    assert (after["shopsTried"], after["uploadsBlocked"]) == (
        before["shopsTried"] - 1, before["uploadsBlocked"] - 2)
    assert all(n["shopsTried"] == 0 for k, n in tried().items() if k != "net:S1")


# --- the command line ---------------------------------------------------------------------


def test_the_cli_gives_the_apis_decisions_and_rejects_with_line_and_reason(
        client: TestClient, tmp_path: Path) -> None:
    uploads = [upload(90, payout_accounts=[RING_ACCOUNT]), upload(91, ship_from_address=WAREHOUSE),
               upload(92, phones=[BOSS_PHONE]), upload(93, emails=["ring@qq.com"])]
    lines = [json.dumps(u, ensure_ascii=False) for u in uploads]
    lines.insert(2, json.dumps(upload(94, devices=["laptop"])))
    lines.insert(3, "not json")
    (tmp_path / "uploads.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "decisions.jsonl"
    result = CliRunner().invoke(cli, ["screen", str(tmp_path / "uploads.jsonl"), "--out", str(out)])
    assert result.exit_code == 3, result.output
    from_cli = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert from_cli == rest(client, uploads)
    assert [d["decision"] for d in from_cli] == ["BLOCK", "ALLOW", "BLOCK", "BLOCK"]
    rejects = [json.loads(line) for line in
               (tmp_path / "decisions.rejects.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["line"], [x["field"] for x in r["reasons"]]) for r in rejects] == [
        (3, ["devices"]), (4, ["_upload"])]
    assert "line 3:" in result.output and "devices: not fp:VALUE or ip:VALUE" in result.output


# --- the generated uploads and the pure parts ------------------------------------------------


def test_generated_uploads_are_valid_and_labelled(tmp_path: Path) -> None:
    generate_bundle(tmp_path, scale=400, seed=3)
    raws = [json.loads(line) for line in (tmp_path / "uploads.jsonl").read_text("utf-8").splitlines()]
    good, invalid = UploadChecker(b"key").check(raws)
    assert not invalid and len(good) == len(raws) == 40
    labels = read_truth(tmp_path)["uploads"]
    assert [u["upload_id"] for u in labels] == [r["upload_id"] for r in raws]
    assert {u["kind"] for u in labels} == {"ring_reuse", "ring_fresh", "new_bad", "honest_new",
                                           "honest_existing", "honest_hub", "honest_carrier_ip",
                                           "honest_park"}
    assert all(u["reused"] and u["expected"] == "BLOCK" for u in labels if u["kind"] == "ring_reuse")
    assert not any(u["reused"] for u in labels if u["kind"] != "ring_reuse")


def test_masks_keep_only_what_says_which_field_matched() -> None:
    assert mask("phone", "+8613800138000") == "+86138******00"
    assert mask("email", "g12@qq.com") == "g***@qq.com"
    assert mask("payment_account", "alipay:ring000012") == "alipay:ri***12"
    assert mask("payment_account", "wx:abc") == "wx:***"
    assert mask("device_ip", "ip:117.136.3.44") == "ip:117.136.*.*"
    assert mask("device_fp", "fp:0c5f26fb31c0368e") == "fp:0c5f***"
    assert mask("identity", "ab" * 32) == "***"
    assert mask("address", "0123456789abcdef") == "012345***"


def test_thresholds_come_from_the_settings_and_must_be_ordered() -> None:
    limits = screening.thresholds(Settings(alliance_screen_block=0.7, alliance_screen_review=0.2))
    assert limits == Thresholds(0.7, 0.2)
    assert [screening.verdict(s, limits) for s in (0.69, 0.7, 0.19, 0.2)] == \
        ["REVIEW", "BLOCK", "ALLOW", "REVIEW"]
    with pytest.raises(SettingsError, match="ALLIANCE_SCREEN_REVIEW"):
        Settings(alliance_screen_block=0.2, alliance_screen_review=0.3)


def test_the_data_contract_documents_the_upload_fields() -> None:
    from tests.test_data_contract import DOC, doc_format, plain, section, table_with

    rows = table_with(section(DOC.read_text(encoding="utf-8"), "Fields of an upload").lines,
                      "field")
    documented = {plain(r["field"]): (plain(r["format"]), plain(r["required"]) == "yes")
                  for r in rows}
    assert documented == {name: (doc_format(kind), required)
                          for name, (kind, required) in UPLOAD_FIELDS.items()}


def test_an_app_made_without_an_upload_checker_refuses_to_screen(
        world: Driver, neo4j_connection: Connection) -> None:
    with TestClient(create_app(connection=neo4j_connection)) as bare:
        response = bare.post("/screen", json={"uploads": [upload(95)]}, headers=bearer())
        assert response.status_code == 500 and "internal error" in response.json()["detail"]
        query = "mutation($u: [UploadInput!]!) { screen(uploads: $u) { decision } }"
        body = bare.post("/graphql", json={"query": query, "variables": {"u": [{"uploadId": "U95"}]}},
                         headers=bearer()).json()
        assert body["errors"][0]["extensions"]["code"] == "SETTINGS"
        assert "without an upload checker" in body["errors"][0]["message"]
