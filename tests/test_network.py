"""Seller networks, stored networks and trace to source on a hand-made graph."""

from __future__ import annotations

import pytest
from neo4j import Driver

from graph import seller_networks, trace
from graph.risk import noisy_or, risk
from tests.counting_driver import CountingDriver

pytestmark = pytest.mark.neo4j

RING = ["r1", "r2", "r3"]

EXAMPLE = """
// a ring: one phone (written three ways in the input, one E.164 node), a payout account,
// shops shipping from a factory address
MERGE (ph:Phone {e164: '+8613800138000'})
MERGE (acct:PaymentAccount {account: 'alipay:ring', provider: 'alipay'})
MERGE (fa:Address {address_key: 'addr:factory', normalized: 'Putian factory'})
MERGE (site:Site {site_id: 'site:factory', kind: 'factory', status: 'confirmed', label: 'Shoe factory'})
MERGE (site)-[:LOCATED_AT]->(fa)
MERGE (wa:Address {address_key: 'addr:warehouse', normalized: 'Fulfilment centre'})
MERGE (wh:Site {site_id: 'site:warehouse', kind: 'warehouse', status: 'confirmed', label: 'Warehouse'})
MERGE (wh)-[:LOCATED_AT]->(wa)
WITH ph, acct, fa, wa
UNWIND $ring AS sid
MERGE (s:Seller {seller_id: sid})
MERGE (sh:Shop {shop_id: 'shop-' + sid, name: 'Shop ' + sid})
MERGE (s)-[:OPERATES]->(sh)
MERGE (l:Listing {listing_id: 'lst-' + sid, title: 'Sneaker ' + sid})
MERGE (sh)-[:OFFERS]->(l)
MERGE (s)-[:HAS_PHONE {source: 'platform'}]->(ph)
MERGE (sh)-[:SHIPS_FROM {source: 'platform'}]->(fa)
WITH s, sh, acct, wa WHERE s.seller_id <> 'r3'
MERGE (s)-[:PAID_TO]->(acct)
"""

WAREHOUSE_USERS = """
MATCH (wa:Address {address_key: 'addr:warehouse'})
UNWIND range(0, $n - 1) AS i
MERGE (s:Seller {seller_id: 'h' + i})
MERGE (sh:Shop {shop_id: 'shop-h' + i})
MERGE (s)-[:OPERATES]->(sh)
MERGE (l:Listing {listing_id: 'lst-h' + i})
MERGE (sh)-[:OFFERS]->(l)
MERGE (sh)-[:SHIPS_FROM]->(wa)
"""


@pytest.fixture
def example(clean_db: Driver, database: str) -> Driver:
    clean_db.execute_query(EXAMPLE, {"ring": RING}, database_=database)
    # h0 is the honest seller; it and 34 others ship from one fulfilment warehouse (a hub)
    clean_db.execute_query(WAREHOUSE_USERS, {"n": 35}, database_=database)
    # one ring shop also uses the warehouse
    clean_db.execute_query(
        "MATCH (sh:Shop {shop_id: 'shop-r3'}), (wa:Address {address_key: 'addr:warehouse'}) "
        "MERGE (sh)-[:RETURNS_TO]->(wa)", database_=database)
    return clean_db


def test_ring_is_one_network_without_the_honest_seller(example: Driver, database: str) -> None:
    for strength in ("STRONG", "WEAK"):
        net = seller_networks.seller_network(example, database, "r2", strength=strength)
        assert sorted(net.reach.sellers) == RING
        assert "h0" not in net.reach.sellers
    net = seller_networks.seller_network(example, database, "r1")
    kinds = {v.kind for link in net.links for v in link.via}
    assert kinds == {"phone", "payment_account"}
    assert net.stats["listings"] == 3 and net.shops == ["shop-r1", "shop-r2", "shop-r3"]
    assert 0 < net.risk.score < 1


def test_weak_adds_address_and_ip_links_but_not_hubs(example: Driver, database: str) -> None:
    example.execute_query(
        "MERGE (x:Seller {seller_id: 'x1'}) MERGE (d:Device {device: 'ip:1.2.3.4', kind: 'ip'}) "
        "MERGE (x)-[:USED_DEVICE]->(d) WITH d MATCH (r:Seller {seller_id: 'r1'}) "
        "MERGE (r)-[:USED_DEVICE]->(d)", database_=database)
    strong = seller_networks.seller_network(example, database, "r1", strength="STRONG")
    weak = seller_networks.seller_network(example, database, "r1", strength="WEAK")
    assert "x1" not in strong.reach.sellers
    assert sorted(weak.reach.sellers) == [*RING, "x1"]
    hubs = {h.value: h.sellers for h in weak.reach.hubs.values()}
    assert hubs == {"addr:warehouse": 36}
    honest = seller_networks.seller_network(example, database, "h0", strength="WEAK")
    assert sorted(honest.reach.sellers) == ["h0"]


def test_hub_threshold_stops_a_shared_phone(example: Driver, database: str) -> None:
    net = seller_networks.seller_network(example, database, "r1", hub_threshold=2)
    assert sorted(net.reach.sellers) == ["r1", "r2"]  # r3 shares only the phone
    assert [(h.kind, h.value, h.sellers) for h in net.reach.hubs.values()] == [
        ("phone", "+8613800138000", 3)]


def test_factory_is_top_trace_for_a_ring_listing(example: Driver, database: str) -> None:
    traces = trace.trace_to_source(example, database, listing_id="lst-r3")
    assert traces[0].site.site_id == "site:factory"
    assert "site:warehouse" not in {t.site.site_id for t in traces}
    top = traces[0]
    assert 0 < top.score <= 1
    # its own shop's address and the linked sellers' shops: several explained paths
    assert len(top.paths) >= 3
    first = top.paths[0]
    assert first.hops[0].from_.label == "Listing" and first.hops[-1].to.key == "site:factory"
    assert first.weight == max(p.weight for p in top.paths)
    linked = [p for p in top.paths if any(h.type == "HAS_PHONE" for h in p.hops)]
    assert linked and all(p.weight < first.weight for p in linked)


def test_honest_seller_behind_a_warehouse_traces_nowhere(example: Driver, database: str) -> None:
    assert trace.trace_to_source(example, database, listing_id="lst-h0") == []
    # below the hub threshold the warehouse is an ordinary address again
    near = trace.trace_to_source(example, database, listing_id="lst-h0", hub_threshold=100)
    assert [t.site.site_id for t in near] == ["site:warehouse"]


def test_network_sites_leave_out_a_hub_address(example: Driver, database: str) -> None:
    # r3's shop returns to the warehouse that 36 shops use: a hub, so its site is not
    # the ring's; below the threshold it is an ordinary address of the ring again
    net = seller_networks.seller_network(example, database, "r1")
    assert net.stats["sites"] == 1
    near = seller_networks.seller_network(example, database, "r1", hub_threshold=100)
    assert near.stats["sites"] == 2


def test_transfer_chain_reaches_a_den(example: Driver, database: str) -> None:
    example.execute_query(
        "MATCH (a:PaymentAccount {account: 'alipay:ring'}) "
        "MERGE (b:PaymentAccount {account: 'bank:mid'}) MERGE (c:PaymentAccount {account: 'bank:boss'}) "
        "MERGE (a)-[:TRANSFERRED_TO {total_cny: 90000.0}]->(b)-[:TRANSFERRED_TO]->(c) "
        "MERGE (p:Person {person_id: 'p1', name: 'Boss'})-[:OWNS]->(c) "
        "MERGE (d:Site {site_id: 'site:den', kind: 'den', status: 'suspected'}) "
        "MERGE (p)-[:RUNS]->(d)", database_=database)
    traces = trace.trace_to_source(example, database, seller_id="r1")
    den = next(t for t in traces if t.site.site_id == "site:den")
    path = den.paths[0]
    assert path.kind == "money"
    assert [h.type for h in path.hops] == [
        "PAID_TO", "TRANSFERRED_TO", "TRANSFERRED_TO", "OWNS", "RUNS"]
    assert path.factors["transfers"] == pytest.approx(0.85)
    # too few hops allowed: the chain is cut
    short = trace.trace_to_source(example, database, seller_id="r1", max_hops=4)
    assert "site:den" not in {t.site.site_id for t in short}


def test_bad_input_is_refused(example: Driver, database: str) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        trace.trace_to_source(example, database, listing_id="lst-r1", seller_id="r1")
    with pytest.raises(LookupError, match="no listing 'nope'"):
        trace.trace_to_source(example, database, listing_id="nope")
    with pytest.raises(LookupError, match="no seller"):
        seller_networks.seller_network(example, database, "nope")


def test_noisy_or_is_bounded() -> None:
    assert noisy_or([0.99] * 50) <= 1.0
    assert noisy_or([0.5, 0.5]) == pytest.approx(0.75)
    assert noisy_or([]) == 0.0
    many = risk({"upheld_complaints": 1000, "counterfeit_verdicts": 1000, "enforcement": 50})
    assert 0.9 < many.score < 1.0
    assert risk({}).score == 0.0


def _stored(driver: Driver, database: str) -> list[tuple[str, int, list[str]]]:
    records, _, _ = driver.execute_query(
        "MATCH (n:Network)<-[:IN_NETWORK]-(s:Seller) WITH n, s ORDER BY s.seller_id "
        "RETURN n.network_id AS id, n.size AS size, collect(s.seller_id) AS members "
        "ORDER BY id", database_=database)
    return [(r["id"], r["size"], r["members"]) for r in records]


def test_analyze_stores_networks_and_rerun_replaces_them(example: Driver, database: str) -> None:
    components, stored = seller_networks.analyze_networks(example, database)
    assert stored == 1
    assert _stored(example, database) == [("net:r1", 3, RING)]
    seller_networks.analyze_networks(example, database)
    assert _stored(example, database) == [("net:r1", 3, RING)]
    # the ring loses its phone link for r3: r3 becomes a singleton and is dropped
    example.execute_query("MATCH (:Seller {seller_id: 'r3'})-[r:HAS_PHONE]->() DELETE r",
                          database_=database)
    seller_networks.analyze_networks(example, database)
    assert _stored(example, database) == [("net:r1", 2, ["r1", "r2"])]
    records, _, _ = example.execute_query(
        "MATCH (n:Network) RETURN count(n) AS n, collect(n.risk_score)[0] AS risk",
        database_=database)
    assert records[0]["n"] == 1 and 0 < records[0]["risk"] < 1


def test_incremental_after_a_run(example: Driver, database: str) -> None:
    seller_networks.analyze_networks(example, database)
    example.execute_query(
        "MERGE (:IngestRun {run_id: 'run-2'}) "
        "MERGE (n:Seller {seller_id: 'a0', run_id: 'run-2'}) "
        "MERGE (e:Email {email: 'ring@example.com', run_id: 'run-2'}) "
        "MERGE (n)-[:HAS_EMAIL {run_id: 'run-2'}]->(e) "
        "WITH e MATCH (r:Seller {seller_id: 'r3'}) MERGE (r)-[:HAS_EMAIL {run_id: 'run-2'}]->(e)",
        database_=database)
    touched, stored = seller_networks.analyze_incremental(example, database, "run-2")
    assert stored == 1
    assert _stored(example, database) == [("net:a0", 4, ["a0", *RING])]
    with pytest.raises(LookupError, match="no IngestRun"):
        seller_networks.analyze_incremental(example, database, "run-x")


CHAIN = """
UNWIND range(0, $n - 1) AS i
MERGE (s:Seller {seller_id: 'c' + i})
MERGE (ph:Phone {e164: '+86139000000' + i})
MERGE (s)-[:HAS_PHONE]->(ph)
WITH s, i WHERE i > 0
MATCH (prev:Phone {e164: '+86139000000' + (i - 1)})
MERGE (s)-[:HAS_PHONE]->(prev)
"""


def test_network_and_trace_take_one_round_trip(example: Driver, database: str) -> None:
    counting = CountingDriver(example)
    net = seller_networks.seller_network(counting, database, "r1")  # type: ignore[arg-type]
    assert sorted(net.reach.sellers) == RING and net.stats["sellers"] == 3
    traces = trace.trace_to_source(counting, database, listing_id="lst-r1")  # type: ignore[arg-type]
    assert traces[0].site.site_id == "site:factory"
    assert len(counting.sessions) == 2


def test_walk_goes_on_hop_by_hop_past_the_first_query(clean_db: Driver, database: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # a chain of 8 sellers, each sharing a phone with the next: 7 hops from c0
    clean_db.execute_query(CHAIN, {"n": 8}, database_=database)
    deep = seller_networks.seller_network(clean_db, database, "c0")
    assert deep.reach.sellers == {f"c{i}": i for i in range(8)}
    assert deep.stats["sellers"] == 8 and len(deep.links) == 7
    # a frontier over the cap stops the first query early: the same answer, hop by hop
    monkeypatch.setattr(seller_networks, "LEVEL_CAP", 0)
    capped = seller_networks.seller_network(clean_db, database, "c0")
    assert capped.reach.sellers == deep.reach.sellers and capped.stats == deep.stats
    small = seller_networks.seller_network(clean_db, database, "c0", max_size=3)
    assert small.reach.truncated and sorted(small.reach.sellers) == ["c0", "c1", "c2"]
    assert small.stats["sellers"] == 3
