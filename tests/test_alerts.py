"""Watchlist alerts on a real Neo4j: the `alert:` block, new matches raised once per
receiver (by the hash of their key columns), through `alliance load` and
`alliance alerts run`, each receiver getting only what it may see."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver
from typer.testing import CliRunner

from alliance.cli import app
from graph import access, alerts, query_library, webhooks
from graph.query_files import HeaderError, parse_query
from tests.saved_query_fixture import write_fixture

runner = CliRunner()
SITE_ALERT = "alert-shop-at-known-site"
JINJIANG = "福建省泉州市晋江市陈埭镇八号"


def _alerts(driver: Driver, database: str) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(
        "MATCH (a:Alert) OPTIONAL MATCH (a)-[:ABOUT]->(e) "
        "WITH a, collect(coalesce(e.shop_id, e.site_id, e.seller_id, e.network_id, e.brand_id)) "
        "AS about RETURN a.alert AS alert, a.receiver AS receiver, a.status AS status, "
        "a.keys AS keys, about ORDER BY alert, receiver, keys", database_=database)
    return [dict(r) for r in records]


def _write(path: Path, header: str, *rows: str) -> None:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


def _load(folder: Path, tmp_path: Path) -> dict[str, Any]:
    report = tmp_path / f"{folder.name}.json"
    result = runner.invoke(app, ["load", str(folder), "--source", "alerts-test",
                                 "--report", str(report)])
    assert result.exit_code == 0, result.output
    return json.loads(report.read_text(encoding="utf-8"))


def _new(report: dict[str, Any], alert: str) -> dict[str, int]:
    return {r["receiver"]: len(r["raised"]) for r in report["alerts"]["results"]
            if r["alert"] == alert and r["raised"]}


@pytest.fixture
def fixture_graph(clean_db: Driver, database: str) -> Driver:
    write_fixture(clean_db, database)
    return clean_db


def test_first_run_raises_each_match_once_per_receiver(fixture_graph: Driver, database: str) -> None:
    report = alerts.run_all(fixture_graph, database)
    assert report.failures == {}
    assert report.raised_by_alert() == {
        "alert-counterfeit-purchase-for-brand": 3,   # B1 two days, B2 one, each to its brand
        "alert-network-counterfeit-without-lead": 2,
        "alert-network-seller-on-other-platform": 2,
        "alert-shop-at-known-site": 3 + 2 + 1 + 2,  # investigator 3; AG1 and AG3 SITE1's two
                                                    # shops, AG2 SITE2's one
        "alert-suspended-seller-identifiers": 1,
    }
    raised = _alerts(fixture_graph, database)
    by_receiver = {(a["alert"], a["receiver"]) for a in raised}
    assert ("alert-shop-at-known-site", "police_liaison:AG2") in by_receiver
    assert ("alert-counterfeit-purchase-for-brand", "brand_member:B3") not in by_receiver
    brand = [a for a in raised if a["alert"] == "alert-counterfeit-purchase-for-brand"]
    assert {(a["receiver"], a["about"][0]) for a in brand} == {
        ("brand_member:B1", "B1"), ("brand_member:B2", "B2")}
    liaison = [a for a in raised if a["receiver"] == "police_liaison:AG2"]
    assert [(json.loads(a["keys"]), sorted(a["about"])) for a in liaison] == [
        ({"shop_id": "SH3", "site_id": "SITE2"}, ["SH3", "SITE2"])]
    assert {a["status"] for a in raised} == {"new"}
    again = alerts.run_all(fixture_graph, database)
    assert again.raised == 0 and again.failures == {}
    assert len(_alerts(fixture_graph, database)) == len(raised)


def test_a_dismissed_alert_stays_dismissed(fixture_graph: Driver, database: str) -> None:
    alerts.run_all(fixture_graph, database, "alert-suspended-seller-identifiers")
    access.write(fixture_graph, database, [access.Statement(
        alerts.UPDATE, {"id": _ids(fixture_graph, database)[0], "receiver": "investigator",
                        "from": "new", "to": "dismissed", "who": "ivy", "note": "known"},
        must_match=True)], name="test")
    report = alerts.run_all(fixture_graph, database, "alert-suspended-seller-identifiers")
    assert report.raised == 0 and report.results[0].matches == 1
    assert [a["status"] for a in _alerts(fixture_graph, database)] == ["dismissed"]


def _ids(driver: Driver, database: str) -> list[str]:
    records, _, _ = driver.execute_query("MATCH (a:Alert) RETURN a.alert_id AS id ORDER BY id",
                                         database_=database)
    return [r["id"] for r in records]


def test_a_load_with_one_new_pattern_raises_one_alert_for_the_right_receivers(
    fixture_graph: Driver, database: str, tmp_path: Path,
) -> None:
    first = tmp_path / "first"
    first.mkdir()
    _write(first / "sellers.csv", "seller_id,platform,nickname,status", "S9,taobao,九号,active")
    _write(first / "sites.csv", "site_id,kind,address,label,status",
           f"SITE9,den,{JINJIANG},陈埭窝点,suspected")
    baseline = _load(first, tmp_path)
    assert baseline["alerts"]["failures"] == {}
    assert baseline["alerts"]["raised"] > 0  # the fixture's own matches, seen for the first time

    second = tmp_path / "second"
    second.mkdir()
    _write(second / "shops.csv", "shop_id,seller_id,platform,name,status,ship_from_address",
           f"SH9,S9,taobao,九号店,open,{JINJIANG}")
    report = _load(second, tmp_path)
    assert report["alerts"]["by_alert"] == {SITE_ALERT: 2}
    assert _new(report, SITE_ALERT) == {"investigator": 1, "police_liaison:AG2": 1}
    liaison_rows = [r for r in report["alerts"]["results"]
                    if r["alert"] == SITE_ALERT and r["receiver"].startswith("police_liaison")]
    assert {r["receiver"]: len(r["raised"]) for r in liaison_rows} == {
        "police_liaison:AG1": 0, "police_liaison:AG2": 1, "police_liaison:AG3": 0}

    again = _load(second, tmp_path)
    assert again["alerts"]["raised"] == 0


def test_the_load_summary_says_the_webhook_deliveries_it_queued(
    fixture_graph: Driver, database: str, tmp_path: Path,
) -> None:
    access.write(fixture_graph, database, [access.Statement(webhooks.REGISTER, {
        "id": webhooks.new_webhook_id(), "receiver": "investigator", "role": "investigator",
        "url": "http://127.0.0.1:9/hook", "agency_id": None, "brand_id": None, "who": "test",
        "most": webhooks.MAX_PER_RECEIVER}, must_match=True)])
    folder = tmp_path / "bundle"
    folder.mkdir()
    _write(folder / "sellers.csv", "seller_id,platform,nickname,status", "S9,taobao,九号,active")
    report = tmp_path / "report.json"
    result = runner.invoke(app, ["load", str(folder), "--source", "alerts-test", "--report", str(report)])
    assert result.exit_code == 0, result.output
    raised = json.loads(report.read_text(encoding="utf-8"))["alerts"]
    to_investigator = sum(len(r["raised"]) for r in raised["results"] if r["receiver"] == "investigator")
    assert raised["queued"] == to_investigator > 0  # one delivery per alert, to its one webhook
    assert f"webhook deliveries queued: {to_investigator}" in result.output


def test_alerts_run_command(fixture_graph: Driver, database: str) -> None:
    result = runner.invoke(app, ["alerts", "run", SITE_ALERT, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["raised"] == 8
    result = runner.invoke(app, ["alerts", "run", "sites-in-division"])
    assert result.exit_code != 0
    listed = runner.invoke(app, ["alerts", "list", "--receiver", "police_liaison:AG2"])
    assert listed.exit_code == 0 and "1 alerts" in listed.stdout


HEADER = """// title: T
// description: d
// roles: [investigator, analyst, police_liaison]
// columns:
//   open: [n]
//   entity: [seller_id]
"""


@pytest.mark.parametrize(("block", "message"), [
    ("// alert: {keys: [nope], receivers: [investigator]}\n", "not columns of the query"),
    ("// alert: {keys: [n], receivers: [brand_member]}\n", "may not run the query"),
    ("// alert: {keys: [n], receivers: [investigator], every: 10s}\n", "at least 1m"),
    ("// alert: {keys: {n: Phone}, receivers: [investigator]}\n", "not labels an alert links"),
    ("// alert: {keys: [n], receivers: [investigator], cron: x}\n", "unknown `alert` keys"),
])
def test_the_alert_block_is_checked(tmp_path: Path, block: str, message: str) -> None:
    path = tmp_path / "bad-alert.cypher"
    path.write_text(HEADER + block + "MATCH (s:Seller) WHERE s.x IN $_agency_adcodes "
                    "RETURN s.seller_id AS seller_id, 1 AS n\n", encoding="utf-8")
    with pytest.raises(HeaderError, match=message):
        parse_query(path)


def test_key_columns_hidden_from_a_receiver_fail_the_library(tmp_path: Path) -> None:
    path = tmp_path / "hidden-key.cypher"
    path.write_text(HEADER + "// alert: {keys: [seller_id], receivers: [analyst]}\n"
                    "MATCH (s:Seller) WHERE s.x IN $_agency_adcodes "
                    "RETURN s.seller_id AS seller_id, 1 AS n\n", encoding="utf-8")
    library = query_library.load(tmp_path)
    assert "hidden from receiver analyst" in library.problems["hidden-key"]


def test_match_hash_is_the_sha256_of_the_canonical_key_columns() -> None:
    query = query_library.load().get(SITE_ALERT)
    row = {"site_id": "SITE1", "shop_id": "SH1", "via": ["SHIPS_FROM"]}
    expected = hashlib.sha256(b'{"shop_id":"SH1","site_id":"SITE1"}').hexdigest()
    assert alerts.match_hash(query, row) == expected
    assert alerts.match_hash(query, {**row, "via": ["RETURNS_TO"]}) == expected


# --- GraphQL, per role ------------------------------------------------------------------

ALERTS = """query($status: String) { alerts(status: $status, first: 50) {
  total hasNextPage endCursor nodes { id alert status keys row subjects { label key } } } }"""
UPDATE = """mutation($id: ID!, $status: String!, $note: String) {
  updateAlert(id: $id, status: $status, note: $note) { id status note updatedBy } }"""
RAISE = """mutation($id: ID!, $brands: [ID!]) {
  raiseLeadFromAlert(id: $id, brandIds: $brands) { leadId status } }"""


@pytest.fixture(scope="module")
def api(driver: Driver, database: str, neo4j_connection: Any) -> Any:
    from fastapi.testclient import TestClient

    from api.main import create_app

    write_fixture(driver, database)
    driver.execute_query("MATCH (a:Alert) DETACH DELETE a", database_=database)
    alerts.run_all(driver, database)
    with TestClient(create_app(connection=neo4j_connection)) as client:
        yield client


def _mine(api: Any, who: str, status: str | None = None) -> list[dict[str, Any]]:
    from tests.test_leads import data
    answer = data(api, who, ALERTS, status=status)["alerts"]
    assert answer["total"] == len(answer["nodes"]) and not answer["hasNextPage"]
    return list(answer["nodes"])


def test_each_caller_reads_only_its_own_receivers_alerts(api: Any) -> None:
    investigator = _mine(api, "investigator")
    assert sorted({a["alert"] for a in investigator}) == [
        "alert-network-counterfeit-without-lead", "alert-network-seller-on-other-platform",
        "alert-shop-at-known-site", "alert-suspended-seller-identifiers"]
    assert len(investigator) == 8
    jinjiang = _mine(api, "liaison:AG2")
    assert [(a["alert"], json.loads(a["keys"])) for a in jinjiang] == [
        (SITE_ALERT, {"shop_id": "SH3", "site_id": "SITE2"})]
    assert sorted(s["key"] for s in jinjiang[0]["subjects"]) == ["SH3", "SITE2"]
    shenzhen = _mine(api, "liaison:AG1")
    assert sorted(json.loads(a["keys"])["shop_id"] for a in shenzhen) == ["SH1", "SH2"]
    brand = _mine(api, "brand:B1")
    assert {a["alert"] for a in brand} == {"alert-counterfeit-purchase-for-brand"}
    assert sorted(json.loads(a["row"])["verdict_on"] for a in brand) == ["2024-01-25", "2024-04-12"]
    assert _mine(api, "brand:B3") == [] and _mine(api, "analyst") == []


def test_update_alert_moves_only_ones_own_alert_and_is_audited(
    api: Any, driver: Driver, database: str,
) -> None:
    from tests.test_leads import data, error
    mine = _mine(api, "liaison:AG2")[0]["id"]
    other = error(api, "liaison:AG1", UPDATE, id=mine, status="dismissed")
    assert other["extensions"]["code"] == "NOT_FOUND"
    moved = data(api, "liaison:AG2", UPDATE, id=mine, status="dismissed", note="known den")
    assert moved["updateAlert"] == {"id": mine, "status": "dismissed", "note": "known den",
                                    "updatedBy": "liaison-AG2"}
    back = error(api, "liaison:AG2", UPDATE, id=mine, status="new")
    assert back["extensions"]["code"] == "ILLEGAL_TRANSITION"
    assert _mine(api, "liaison:AG2", "new") == []
    records, _, _ = driver.execute_query(
        "MATCH (e:AuditEvent {action: 'alert.update'}) WHERE $id IN e.ids RETURN e.who AS who",
        {"id": mine}, database_=database)
    assert [r["who"] for r in records] == ["liaison-AG2"]
    assert alerts.run_all(driver, database, SITE_ALERT).raised == 0
    assert _mine(api, "liaison:AG2")[0]["status"] == "dismissed"


def test_raise_lead_from_alert_goes_through_lead_creation(
    api: Any, driver: Driver, database: str,
) -> None:
    from tests.test_leads import data, error
    suspended = [a for a in _mine(api, "investigator")
                 if a["alert"] == "alert-suspended-seller-identifiers"][0]["id"]
    no_brand = error(api, "investigator", RAISE, id=suspended)
    assert "brand" in no_brand["message"]
    lead = data(api, "investigator", RAISE, id=suspended, brands=["B1"])["raiseLeadFromAlert"]
    assert lead["status"] == "draft"
    records, _, _ = driver.execute_query(
        "MATCH (:Alert {alert_id: $id})-[:RAISED_LEAD]->(l:Lead {lead_id: $lead}) "
        "MATCH (l)-[:CONCERNS]->(s:Seller) RETURN collect(s.seller_id) AS sellers",
        {"id": suspended, "lead": lead["leadId"]}, database_=database)
    assert sorted(records[0]["sellers"]) == ["S4", "S5"]
    brand_alert = _mine(api, "brand:B1")[0]["id"]
    refused = error(api, "brand:B1", RAISE, id=brand_alert)
    assert "at least one seller" in refused["message"]  # the lead rules, as createLead says
    liaison = error(api, "liaison:AG1", RAISE, id=_mine(api, "liaison:AG1")[0]["id"],
                    brands=["B1"])
    assert liaison["extensions"]["code"] == "FORBIDDEN"


def test_the_schedule_runs_what_is_due_one_run_at_a_time(
    fixture_graph: Driver, database: str, neo4j_connection: Any,
) -> None:
    import asyncio

    from api.alerts import AlertSchedule

    schedule = AlertSchedule(neo4j_connection, tick=60.0)

    async def twice() -> tuple[Any, Any]:
        return await asyncio.gather(schedule.once(), schedule.once())

    first, second = asyncio.run(twice())
    assert first is not None and first.raised == len(_ids(fixture_graph, database)) > 0
    assert second is None  # the lock let one run through; then nothing was due
    schedule.last_run["alert-shop-at-known-site"] -= 3600
    third = asyncio.run(schedule.once())
    assert third is not None and {r.alert for r in third.results} == {"alert-shop-at-known-site"}
    assert third.raised == 0
