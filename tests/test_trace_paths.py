"""Trace paths an investigator can read: no node twice, each piece of evidence once per
site, and `maxHops` bounding the whole path, the listing -> shop -> seller prefix included."""

from __future__ import annotations

from collections import Counter

import pytest
from neo4j import Driver

from graph import seller_networks, trace

pytestmark = pytest.mark.neo4j

# Seller A (tb:10001) runs shop-a1, which offers L1 and ships from the factory's address
# (a test purchase of L1 came from there), and shop-a2, whose returns go to the factory.
# A and B are paid to one account, which pays the boss through a mid account and back
# (a transfer cycle); the boss runs a den. B's shop ships from the factory address too.
GRAPH = """
MERGE (a:Seller {seller_id: 'tb:10001', nickname: 'A'})
MERGE (b:Seller {seller_id: 'tb:20002', nickname: 'B'})
MERGE (a1:Shop {shop_id: 'shop-a1', name: 'Shop A1'})
MERGE (a2:Shop {shop_id: 'shop-a2', name: 'Shop A2'})
MERGE (b1:Shop {shop_id: 'shop-b1', name: 'Shop B1'})
MERGE (a)-[:OPERATES]->(a1) MERGE (a)-[:OPERATES]->(a2) MERGE (b)-[:OPERATES]->(b1)
MERGE (l1:Listing {listing_id: 'L1', title: 'Sneaker'})
MERGE (a1)-[:OFFERS]->(l1)
MERGE (fa:Address {address_key: 'addr:factory'})
MERGE (factory:Site {site_id: 'site:factory', kind: 'factory', status: 'suspected'})
MERGE (factory)-[:LOCATED_AT]->(fa)
MERGE (a1)-[:SHIPS_FROM]->(fa) MERGE (a2)-[:RETURNS_TO]->(fa) MERGE (b1)-[:SHIPS_FROM]->(fa)
MERGE (tp:TestPurchase {purchase_id: 'TP1', verdict: 'counterfeit'})-[:BOUGHT]->(l1)
MERGE (tp)-[:DELIVERED_BY]->(shp:Shipment {shipment_id: 'sf:1'})
MERGE (shp)-[:ORIGINATES_AT]->(fa)
MERGE (ring:PaymentAccount {account: 'alipay:ring'})
MERGE (mid:PaymentAccount {account: 'bank:mid'})
MERGE (boss:PaymentAccount {account: 'bank:boss'})
MERGE (a)-[:PAID_TO]->(ring) MERGE (b)-[:PAID_TO]->(ring)
MERGE (ring)-[:TRANSFERRED_TO]->(mid) MERGE (mid)-[:TRANSFERRED_TO]->(ring)
MERGE (ring)-[:TRANSFERRED_TO]->(boss)
MERGE (p:Person {person_id: 'P1', name: 'Boss'})-[:OWNS]->(boss)
MERGE (den:Site {site_id: 'site:den', kind: 'den', status: 'suspected'})
MERGE (p)-[:RUNS]->(den)
"""

A, B = "tb:10001", "tb:20002"


@pytest.fixture
def graph(clean_db: Driver, database: str) -> Driver:
    clean_db.execute_query(GRAPH, database_=database)
    return clean_db


def nodes(path: trace.TracePath) -> list[tuple[str, str]]:
    return [(path.hops[0].from_.label, path.hops[0].from_.key)] + [
        (h.to.label, h.to.key) for h in path.hops]


def read(path: trace.TracePath) -> list[tuple[str, str, str]]:
    """The path as (from key, type, to key), in the order it is read."""
    return [(h.from_.key, h.type, h.to.key) for h in path.hops]


def check_readable(traces: list[trace.SourceTrace]) -> None:
    """Every path simple, connected, and listed once for its site."""
    for t in traces:
        for path in t.paths:
            assert len(set(nodes(path))) == len(nodes(path)), read(path)
            assert all(h.to == n.from_ for h, n in zip(path.hops, path.hops[1:], strict=False))
            assert path.hops[-1].to.key == t.site.site_id
        counts = Counter(trace.signature(p.hops) for p in t.paths)
        assert max(counts.values()) == 1, t.site.site_id


def by_site(traces: list[trace.SourceTrace]) -> dict[str, trace.SourceTrace]:
    return {t.site.site_id: t for t in traces}


def test_listing_paths_do_not_come_back_through_the_listing_or_its_shop(
        graph: Driver, database: str) -> None:
    traces = trace.trace_to_source(graph, database, listing_id="L1", max_hops=12)
    check_readable(traces)
    factory = by_site(traces)["site:factory"]
    paths = [read(p) for p in factory.paths]
    # the test purchase of the listing itself, read from the listing (it was
    # L1 <-OFFERS- shop <-OPERATES- A -OPERATES-> shop -OFFERS-> L1 <-BOUGHT- ...)
    purchase = [("L1", "BOUGHT", "TP1"), ("TP1", "DELIVERED_BY", "sf:1"),
                ("sf:1", "ORIGINATES_AT", "addr:factory"),
                ("addr:factory", "LOCATED_AT", "site:factory")]
    ships_from = [("L1", "OFFERS", "shop-a1"), ("shop-a1", "SHIPS_FROM", "addr:factory"),
                  ("addr:factory", "LOCATED_AT", "site:factory")]
    assert paths.count(purchase) == 1 and paths.count(ships_from) == 1
    # through A's other shop: nothing to cut
    assert [("L1", "OFFERS", "shop-a1"), ("shop-a1", "OPERATES", A), (A, "OPERATES", "shop-a2"),
            ("shop-a2", "RETURNS_TO", "addr:factory"),
            ("addr:factory", "LOCATED_AT", "site:factory")] in paths
    shown = next(p for p in factory.paths if read(p) == purchase)
    assert shown.hops[0].reversed and not shown.hops[1].reversed
    # the linked seller's shop is still there, after the listing, its shop and A
    linked = [p for p in paths if ("tb:20002", "OPERATES", "shop-b1") in p]
    assert linked and linked[0][:2] == [("L1", "OFFERS", "shop-a1"),
                                       ("shop-a1", "OPERATES", A)]


def test_weights_and_scores_do_not_depend_on_where_the_trace_starts(
        graph: Driver, database: str) -> None:
    starts = [{"listing_id": "L1"}, {"shop_id": "shop-a1"}, {"seller_id": A}]
    results = [by_site(trace.trace_to_source(graph, database, max_hops=12, **s))
               for s in starts]
    for found in results:
        check_readable(list(found.values()))
    assert {k: t.score for k, t in results[0].items()} == pytest.approx(
        {k: t.score for k, t in results[2].items()})
    assert {k: t.score for k, t in results[1].items()} == pytest.approx(
        {k: t.score for k, t in results[2].items()})
    purchase = [p for p in results[0]["site:factory"].paths if p.kind == "purchase"]
    from_seller = [p for p in results[2]["site:factory"].paths if p.kind == "purchase"]
    assert len(purchase) == len(from_seller) == 1
    assert purchase[0].factors == from_seller[0].factors  # 0.97 ** 6 from the seller
    assert len(purchase[0].hops) == 4 and len(from_seller[0].hops) == 6


def test_money_paths_pass_each_account_once(graph: Driver, database: str) -> None:
    traces = trace.trace_to_source(graph, database, seller_id=A, max_hops=12)
    check_readable(traces)
    den = by_site(traces)["site:den"]
    money = [read(p) for p in den.paths]
    # A's own payout account to the boss; not around the ring -> mid -> ring cycle, and
    # not out to B through the shared account and back into it
    assert money == [[(A, "PAID_TO", "alipay:ring"), ("alipay:ring", "TRANSFERRED_TO", "bank:boss"),
                      ("bank:boss", "OWNS", "P1"), ("P1", "RUNS", "site:den")]]
    assert den.score == pytest.approx(den.paths[0].weight)
    # B's own evidence is kept: its shop ships from the factory
    factory = by_site(traces)["site:factory"]
    assert any(("tb:20002", "OPERATES", "shop-b1") in read(p) for p in factory.paths)


def test_the_paths_query_finds_no_transfer_cycle(graph: Driver, database: str) -> None:
    rows, _, _ = graph.execute_query(
        trace.PATHS, {"ids": [A, B], "seed": A, "prefix": 0, "max_path": 12,
                      "hub": seller_networks.HUB_THRESHOLD}, database_=database)
    money = [r["row"] for r in rows if r["row"]["site_id"] == "site:den"]
    assert len(money) == 2  # A's and B's payout to the boss, nothing around the cycle
    for row in money:
        keys = [n["eid"] for n in row["ns"]]
        assert len(set(keys)) == len(keys)


def test_max_hops_counts_the_listing_and_shop_hops(graph: Driver, database: str) -> None:
    def lengths(max_hops: int) -> dict[str, list[int]]:
        found = trace.trace_to_source(graph, database, listing_id="L1", max_hops=max_hops)
        check_readable(found)
        return {t.site.site_id: sorted(len(p.hops) for p in t.paths) for t in found}

    every = lengths(12)
    for max_hops in range(1, 13):
        within = lengths(max_hops)
        assert all(n <= max_hops for ns in within.values() for n in ns)
        # nothing within the bound is lost: exactly the paths of at most max_hops hops
        assert within == {site: [n for n in ns if n <= max_hops] for site, ns in every.items()
                          if any(n <= max_hops for n in ns)}
    # L1 <-OFFERS- shop-a1 -SHIPS_FROM-> addr <-LOCATED_AT- factory: three hops
    assert lengths(3) == {"site:factory": [3]} and lengths(2) == {}
    # L1 <-OFFERS- shop-a1 <-OPERATES- A -PAID_TO-> ring -TRANSFERRED_TO-> boss <-OWNS- P1
    # -RUNS-> den: six hops, four of them from the seller
    assert "site:den" not in lengths(5) and lengths(6)["site:den"] == [6]
    # B's ships-from path: prefix 2 + link 2 + B's own 3
    linked = trace.trace_to_source(graph, database, listing_id="L1", max_hops=7)
    assert any(B in {k for h in p.hops for k in (h.from_.key, h.to.key)}
               for t in linked for p in t.paths)
    short = trace.trace_to_source(graph, database, listing_id="L1", max_hops=6)
    assert all(B not in {k for h in p.hops for k in (h.from_.key, h.to.key)}
               for t in short for p in t.paths)
