"""Trace to source: the person, test-purchase and shipment paths, and their weights."""

from __future__ import annotations

import pytest
from neo4j import Driver

from graph import trace
from tests.test_network import EXAMPLE, RING

pytestmark = pytest.mark.neo4j

MORE = """
MATCH (r1:Seller {seller_id: 'r1'}), (l:Listing {listing_id: 'lst-r1'}), (sh:Shop {shop_id: 'shop-r2'})
MERGE (p:Person {person_id: 'p1', name: 'Boss'})-[:CONTROLS]->(r1)
MERGE (den:Site {site_id: 'site:den', kind: 'den', status: 'suspected'})
MERGE (p)-[:RUNS]->(den)
MERGE (:Case {case_id: 'K1', status: 'raided'})-[:RAIDED]->(den)
MERGE (pa:Address {address_key: 'addr:packing'})
MERGE (pk:Site {site_id: 'site:packing', kind: 'packing', status: 'suspected'})-[:LOCATED_AT]->(pa)
MERGE (tp:TestPurchase {purchase_id: 'TP1', verdict: $verdict})-[:BOUGHT]->(l)
MERGE (tp)-[:DELIVERED_BY]->(shp:Shipment {shipment_id: 'sf:1'})
MERGE (shp)-[:ORIGINATES_AT {source: 'carrier', observed_on: date('2026-03-01')}]->(pa)
MERGE (shp2:Shipment {shipment_id: 'sf:2'})-[:SENT_BY]->(sh)
MERGE (shp2)-[:ORIGINATES_AT]->(pa)
"""


def _load(driver: Driver, database: str, verdict: str) -> None:
    driver.execute_query(EXAMPLE, {"ring": RING}, database_=database)
    driver.execute_query(MORE, {"verdict": verdict}, database_=database)


def test_person_purchase_and_shipment_paths(clean_db: Driver, database: str) -> None:
    _load(clean_db, database, "counterfeit")
    traces = {t.site.site_id: t for t in trace.trace_to_source(clean_db, database, seller_id="r1")}
    den = traces["site:den"]
    assert den.site.raided and den.paths[0].kind == "person"
    assert den.paths[0].factors["site"] == trace.SITE_FACTOR["raided"]
    packing = traces["site:packing"]
    kinds = {p.kind for p in packing.paths}
    assert kinds == {"purchase", "shipment"}
    purchase = next(p for p in packing.paths if p.kind == "purchase")
    assert purchase.factors["verdict"] == trace.VERDICT_FACTOR["counterfeit"]
    origin = next(h for h in purchase.hops if h.type == "ORIGINATES_AT")
    assert (origin.source, origin.observed_on) == ("carrier", "2026-03-01")
    # the shipment path starts at r2, a linked seller: weaker by the phone/account link
    shipment = next(p for p in packing.paths if p.kind == "shipment")
    assert shipment.factors["links"] < 1.0
    assert packing.score == pytest.approx(1 - (1 - purchase.weight) * (1 - shipment.weight))


def test_genuine_verdict_weakens_the_purchase_path(clean_db: Driver, database: str) -> None:
    _load(clean_db, database, "genuine")
    traces = {t.site.site_id: t for t in trace.trace_to_source(clean_db, database, shop_id="shop-r1")}
    purchase = next(p for p in traces["site:packing"].paths if p.kind == "purchase")
    assert purchase.factors["verdict"] == trace.VERDICT_FACTOR["genuine"]
    assert purchase.hops[0].from_.key == "shop-r1"
    first = trace.trace_to_source(clean_db, database, seller_id="r1", first=1)
    assert len(first) == 1
    with pytest.raises(ValueError, match="maxHops"):
        trace.trace_to_source(clean_db, database, seller_id="r1", max_hops=0)
