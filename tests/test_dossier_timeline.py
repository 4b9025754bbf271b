"""A dossier's timeline against a real Neo4j: every dated event of the lead, its subjects
and its evidence, in time order, and nothing its reader may not see.

The graph is tests/fixtures/leads; lead LD-GZ is then registered, a case is opened from
it and a raid recorded, as a liaison would in the browser. The events the timeline must
hold are found here with Cypher of the test's own, walking the lead's neighbourhood; what
each reader may see is asked node by node with that reader's rule (`api.scope`).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import fields
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neo4j import Driver

from api import scope
from api.deps import JURISDICTION
from api.dossier import canonical
from api.dossier_timeline import TimelineEvent
from api.types import camel
from graph.caller import Caller
from graph.drivers import Connection
from graph.seller_networks import analyze_networks
from loaders import load_paths
from tests.test_leads import BUNDLE, OPEN, RAID, STATUS, bearer, data

pytestmark = pytest.mark.neo4j

NOTE = '<script>alert("note")</script>'

EVENTS = """
MATCH (l:Lead {lead_id: $lead_id})
CALL (l) {
  RETURN 'lead_created' AS kind, 'Lead:' + l.lead_id AS ref, l.created_on AS at
  UNION ALL
  MATCH (l)-[p:PUSHED_TO]->(:Agency)
  RETURN 'lead_pushed' AS kind, 'Lead:' + l.lead_id AS ref, p.pushed_on AS at
  UNION ALL
  MATCH (l)-[:HAS_EVENT]->(e:StatusEvent) RETURN 'status' AS kind, 'Lead:' + l.lead_id AS ref, e.at AS at
  UNION ALL
  MATCH (l)-[:BECAME]->(c:Case) RETURN 'case_opened' AS kind, 'Case:' + c.case_id AS ref, c.opened_on AS at
  UNION ALL
  MATCH (l)-[:BECAME]->(c:Case)-[:HAS_EVENT]->(e:StatusEvent)
  RETURN 'status' AS kind, 'Case:' + c.case_id AS ref, e.at AS at
  UNION ALL
  MATCH (l)-[:BECAME]->(c:Case)-[r:RAIDED]->(:Site) RETURN 'raid' AS kind, 'Case:' + c.case_id AS ref,
    r.raided_on AS at
  UNION ALL
  MATCH (l)-[:EVIDENCED_BY]->(t:TestPurchase)
  UNWIND [['test_purchase', t.ordered_on], ['verdict', t.verdict_on]] AS pair
  RETURN pair[0] AS kind, 'TestPurchase:' + t.purchase_id AS ref, pair[1] AS at
  UNION ALL
  MATCH (l)-[:EVIDENCED_BY]->(c:Complaint)
  UNWIND [['complaint_filed', c.filed_on], ['complaint_resolved', c.resolved_on]] AS pair
  RETURN pair[0] AS kind, 'Complaint:' + c.complaint_id AS ref, pair[1] AS at
  UNION ALL
  CALL (l) {
    MATCH (l)-[:EVIDENCED_BY]->(:TestPurchase)-[:DELIVERED_BY]->(s:Shipment) RETURN s
    UNION
    MATCH (l)-[:CONCERNS]->(:Shop)<-[:SENT_BY]-(s:Shipment) RETURN s
  }
  RETURN 'shipment' AS kind, 'Shipment:' + s.shipment_id AS ref, s.shipped_on AS at
  UNION ALL
  MATCH (l)-[:CONCERNS]->(s:Seller) RETURN 'seller_registered' AS kind, 'Seller:' + s.seller_id AS ref,
    s.registered_on AS at
  UNION ALL
  MATCH (l)-[:CONCERNS]->(s:Shop)
  UNWIND [['shop_opened', s.opened_on], ['shop_closed', s.closed_on]] AS pair
  RETURN pair[0] AS kind, 'Shop:' + s.shop_id AS ref, pair[1] AS at
  UNION ALL
  MATCH (l)-[:CONCERNS]->(s:Site) RETURN 'site_first_seen' AS kind, 'Site:' + s.site_id AS ref,
    s.first_seen AS at
}
WITH kind, ref, at WHERE at IS NOT NULL
RETURN kind, ref, at
"""
"""Every dated event of a lead, found without the dossier's code."""


@pytest.fixture(scope="module")
def client(driver: Driver, database: str, neo4j_connection: Connection) -> Iterator[TestClient]:
    from api.main import create_app

    driver.execute_query("MATCH (n) DETACH DELETE n", database_=database)
    report = load_paths(driver, database, [BUNDLE], source="leads-fixture", pii_key=b"k")
    assert all(f.rejected == 0 for f in report.files), report.files
    analyze_networks(driver, database)
    with TestClient(create_app(connection=neo4j_connection)) as test_client:
        data(test_client, "liaison:AG-GZ", STATUS, id="LD-GZ", s="registered", note=NOTE)
        data(test_client, "liaison:AG-GZ", OPEN, id="LD-GZ",
             input={"caseId": "CS-TL", "title": "白云鞋厂案", "openedOn": "2024-06-10"})
        data(test_client, "liaison:AG-GZ", RAID, c="CS-TL", s="X-GZ")
        yield test_client


def dossier(client: TestClient, who: str, lead_id: str = "LD-GZ") -> dict[str, Any]:
    response = client.get(f"/leads/{lead_id}/dossier.json",
                          headers={"Authorization": f"Bearer {bearer(who)}"})
    assert response.status_code == 200, response.text
    return dict(response.json())


def instant(value: Any) -> datetime:
    """A Neo4j date or date-time as a UTC instant (a date: its first moment)."""
    native = value.to_native()
    if isinstance(native, datetime):
        return native.astimezone(UTC)
    assert isinstance(native, date)
    return datetime(native.year, native.month, native.day, tzinfo=UTC)


Key = tuple[str, str, str]


def stored_events(driver: Driver, database: str, lead_id: str) -> list[tuple[Key, datetime]]:
    """(kind, ref, at as the API writes it) and when, of every dated event of the lead."""
    records, _, _ = driver.execute_query(EVENTS, lead_id=lead_id, database_=database)
    return [((r["kind"], r["ref"], r["at"].iso_format()), instant(r["at"])) for r in records]


def caller_of(driver: Driver, database: str, who: str) -> Caller:
    kind, _, ident = who.partition(":")
    if kind == "liaison":
        records, _, _ = driver.execute_query(JURISDICTION, agency_id=ident, database_=database)
        return Caller(sub=f"liaison-{ident}", role="police_liaison", agency_id=ident,
                      agency_adcodes=tuple(records[0]["adcodes"]))
    if kind == "brand":
        return Caller(sub=f"brand-{ident}", role="brand_member", brand_id=ident)
    return Caller(sub=f"test-{kind}", role=kind)  # type: ignore[arg-type]


def visible(driver: Driver, database: str, caller: Caller, refs: set[str]) -> set[str]:
    """Those of `refs` (`Label:key`) the caller's rule lets it see, asked label by label."""
    by_label: dict[str, list[str]] = {}
    for ref in refs:
        label, _, key = ref.partition(":")
        by_label.setdefault(label, []).append(key)
    seen: set[str] = set()
    for label, keys in by_label.items():
        records, _, _ = driver.execute_query(scope.visible_keys(scope.kind(caller), label),
                                             keys=keys, **scope.params(caller), database_=database)
        seen |= {f"{label}:{r['key']}" for r in records}
    return seen


def keyed(timeline: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(e["kind"], e["ref"], e["at"]) for e in timeline]


def test_the_timeline_holds_every_dated_event_in_time_order(client: TestClient, driver: Driver,
                                                            database: str) -> None:
    stored = stored_events(driver, database, "LD-GZ")
    timeline = dossier(client, "investigator")["timeline"]
    assert Counter(keyed(timeline)) == Counter(k for k, _ in stored)
    when = dict(stored)
    moments = [when[k] for k in keyed(timeline)]
    assert moments == sorted(moments)
    kinds = {e["kind"] for e in timeline}
    # the story of the fixture and of this module: every kind of event it has is there
    assert {"lead_created", "lead_pushed", "status", "case_opened", "raid", "test_purchase", "verdict",
            "complaint_filed", "shipment", "site_first_seen"} <= kinds
    registered = next(e for e in timeline if e["kind"] == "status" and e["toStatus"] == "registered")
    assert registered["note"] == NOTE and registered["fromStatus"] == "pushed"
    raid = next(e for e in timeline if e["kind"] == "raid")
    assert (raid["at"], raid["detail"], raid["arrests"], raid["seizedValueCny"]) == (
        "2024-07-01", "Site:X-GZ", 4, 350000.0)


@pytest.mark.parametrize("who", ["liaison:AG-GZ", "liaison:AG-GD", "brand:B1"])
def test_the_timeline_shows_a_reader_only_what_it_may_see(client: TestClient, driver: Driver, database: str,
                                                         who: str) -> None:
    stored = [k for k, _ in stored_events(driver, database, "LD-GZ")]
    caller = caller_of(driver, database, who)
    allowed = visible(driver, database, caller, {ref for _, ref, _ in stored})
    d = dossier(client, who)
    assert Counter(keyed(d["timeline"])) == Counter(k for k in stored if k[1] in allowed)
    named = {e["detail"] for e in d["timeline"] if e["kind"] == "raid" and e["detail"]}
    assert named <= visible(driver, database, caller, named)
    names = {f"{n['label']}:{n['key']}" for n in d["names"]}
    assert names <= visible(driver, database, caller, names)


def test_a_brand_members_timeline_leaves_out_what_is_behind_its_evidence(client: TestClient) -> None:
    full = {e["ref"].split(":")[0] for e in dossier(client, "investigator")["timeline"]}
    brand = {e["ref"].split(":")[0] for e in dossier(client, "brand:B1")["timeline"]}
    assert {"Site", "Shipment"} <= full
    assert not brand & {"Seller", "Site", "Shipment", "Person"}
    assert {"Lead", "TestPurchase", "Complaint"} <= brand


def test_another_provinces_liaison_gets_no_timeline(client: TestClient) -> None:
    response = client.get("/leads/LD-GZ/dossier.json",
                          headers={"Authorization": f"Bearer {bearer('liaison:AG-SZ')}"})
    assert response.status_code == 404


def test_every_timeline_event_is_in_the_manifest_with_its_hash(client: TestClient) -> None:
    d = dossier(client, "liaison:AG-GZ")
    events = [i for i in d["manifest"]["items"] if i["kind"] == "event"]
    assert len(events) == len(d["timeline"]) > 0
    names = [f.name for f in fields(TimelineEvent)]
    for item, e in zip(events, d["timeline"], strict=True):
        snake = {name: e[camel(name)] for name in names}
        assert hashlib.sha256(canonical(snake)).hexdigest() == item["sha256"]
    lines = "".join(f"{i['kind']} {i['id']} {i['sha256']}\n" for i in d["manifest"]["items"])
    assert hashlib.sha256(lines.encode()).hexdigest() == d["manifest"]["sha256"]


def test_the_page_lists_the_timeline_in_order_in_both_languages(client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {bearer('liaison:AG-GZ')}"}
    d = dossier(client, "liaison:AG-GZ")
    for lang, registered in (("en", "registered"), ("zh-CN", "已登记")):
        page = client.get(f"/leads/LD-GZ/dossier.html?lang={lang}", headers=headers)
        assert page.status_code == 200 and page.headers["content-language"] == lang
        part = page.text.split('id="timeline"')[1].split("</section>")[0]
        rows = part.split("<tr>")[2:]
        assert len(rows) == len(d["timeline"])
        assert registered in part and NOTE not in page.text and "&lt;script&gt;" in part
    causes = {"en": ("case CS-TL opened", "following case CS-TL", "by a raid"),
              "zh-CN": ("案件 CS-TL 已立案", "随案件 CS-TL 变更", "因查处")}
    for lang, words in causes.items():  # what the server wrote on its own, in the reader's words
        part = client.get(f"/leads/LD-GZ/dossier.html?lang={lang}", headers=headers).text
        assert all(w in part for w in words), (lang, words)
    brand = client.get("/leads/LD-GZ/dossier.html?lang=en",
                       headers={"Authorization": f"Bearer {bearer('brand:B1')}"}).text
    assert "case CS-TL opened" in brand and "X-GZ" not in brand  # a site it may not see
    zh = client.get("/leads/LD-GZ/dossier.html", headers={**headers, "Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-CN">' in zh.text and "160,000" not in zh.text and "120,000 CNY" in zh.text
    assert "广州市公安局 (AG-GZ)" in zh.text and "峰步 (B1)" in zh.text
