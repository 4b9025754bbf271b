"""The starter library in `queries/`: every file passes its checks, every query returns
the expected rows on the fixture graph (`tests/saved_query_fixture.py`), and every role
allowed to run a query gets only the columns it may see, the rest hidden."""

from __future__ import annotations

from typing import Any

import pytest
from neo4j import Driver

from api.scope import SENSITIVE_LABELS
from graph import query_library
from graph.caller import ROLES, Caller
from graph.model import node
from graph.query_library import HIDDEN
from tests.saved_query_fixture import write_fixture

ANALYST = Caller(sub="ana", role="analyst")
INVESTIGATOR = Caller(sub="ivy", role="investigator")

CASES: list[tuple[str, dict[str, Any], list[dict[str, Any]]]] = [
    ("alert-shop-at-known-site", {}, [
        {"shop_id": "SH1", "platform_shop": "一号店", "site_id": "SITE1",
         "site_status": "confirmed", "adcode": "440307", "via": ["SHIPS_FROM"]},
        {"shop_id": "SH2", "platform_shop": None, "site_id": "SITE1",
         "site_status": "confirmed", "adcode": "440307", "via": ["SHIPS_FROM"]},
        {"shop_id": "SH3", "platform_shop": None, "site_id": "SITE2",
         "site_status": "suspected", "adcode": "350582", "via": ["SHIPS_FROM"]},
    ]),
    ("alert-network-seller-on-other-platform", {}, [
        {"network_id": "N1", "home_platform": "taobao", "platform": "pinduoduo",
         "seller_id": "S3"},
        {"network_id": "N2", "home_platform": "jd", "platform": "taobao", "seller_id": "S4"},
    ]),
    ("alert-suspended-seller-identifiers", {}, [
        {"suspended_seller": "S4", "seller_id": "S5", "platform": "jd",
         "linked_by": ["identity"]},
    ]),
    ("alert-network-counterfeit-without-lead", {}, [
        {"network_id": "N1", "sellers": 3, "counterfeit_verdicts": 2},
        {"network_id": "N2", "sellers": 2, "counterfeit_verdicts": 1},
    ]),
    ("alert-counterfeit-purchase-for-brand", {"brand_id": "B1"}, [
        {"brand_id": "B1", "brand": "Acme", "verdict_on": "2024-01-25", "purchases": 1},
        {"brand_id": "B1", "brand": "Acme", "verdict_on": "2024-04-12", "purchases": 1},
    ]),
    ("alert-counterfeit-purchase-for-brand", {}, [
        {"brand_id": "B1", "brand": "Acme", "verdict_on": "2024-01-25", "purchases": 1},
        {"brand_id": "B1", "brand": "Acme", "verdict_on": "2024-04-12", "purchases": 1},
        {"brand_id": "B2", "brand": "Bolt", "verdict_on": "2024-02-20", "purchases": 1},
    ]),
    ("sellers-sharing-identifiers", {"seller_id": "S1"}, [
        {"seller_id": "S2", "platform": "taobao", "nickname": "=1+1", "linked_by": ["phone"],
         "identifiers": ["+8613800138000"], "shared": 1},
        {"seller_id": "S3", "platform": "pinduoduo", "nickname": "@SUM(A1)",
         "linked_by": ["identity"], "identifiers": ["h-i1"], "shared": 1},
    ]),
    ("shops-shipping-from", {"adcode": "440300"}, [
        {"shop_id": "SH1", "shop": "一号店", "platform": "taobao", "status": "active",
         "seller_id": "S1", "address_key": "A1", "adcode": "440307"},
        {"shop_id": "SH2", "shop": None, "platform": "taobao", "status": "active",
         "seller_id": "S2", "address_key": "A1", "adcode": "440307"},
        {"shop_id": "SH4", "shop": None, "platform": "taobao", "status": "closed",
         "seller_id": "S4", "address_key": "A2", "adcode": "440307"},
        {"shop_id": "SH5", "shop": None, "platform": "taobao", "status": "active",
         "seller_id": "S4", "address_key": "A2", "adcode": "440307"},
    ]),
    ("shops-shipping-from", {"address_key": "A3"}, [
        {"shop_id": "SH3", "shop": None, "platform": "pinduoduo", "status": "active",
         "seller_id": "S3", "address_key": "A3", "adcode": "350582"},
    ]),
    ("shops-shipping-from", {}, []),
    ("hub-addresses-and-ips", {}, [
        {"kind": "ip", "hub": "ip:10.0.0.1", "label": "ip:10.0.0.1", "sellers": 3,
         "seller_ids": ["S1", "S2", "S4"]},
        {"kind": "address", "hub": "A1", "label": "龙岗区坂田街道1号", "sellers": 2,
         "seller_ids": ["S1", "S2"]},
        {"kind": "address", "hub": "A2", "label": "龙岗区布吉街道2号", "sellers": 2,
         "seller_ids": ["S1", "S4"]},
    ]),
    ("hub-addresses-and-ips", {"min_sellers": "3"}, [
        {"kind": "ip", "hub": "ip:10.0.0.1", "label": "ip:10.0.0.1", "sellers": 3,
         "seller_ids": ["S1", "S2", "S4"]},
    ]),
    ("networks-hitting-brand", {"brand_id": "B1"}, [
        {"network_id": "N1", "sellers": 3, "seller_ids": ["S1", "S2", "S3"], "shops": 3,
         "upheld": 3, "complaints": 3, "risk_score": 0.9},
        {"network_id": "N2", "sellers": 2, "seller_ids": ["S4", "S5"], "shops": 3,
         "upheld": 0, "complaints": 1, "risk_score": 0.4},
    ]),
    ("networks-hitting-brand", {"brand_id": "B2"}, [
        {"network_id": "N1", "sellers": 3, "seller_ids": ["S1", "S2", "S3"], "shops": 3,
         "upheld": 1, "complaints": 1, "risk_score": 0.9},
    ]),
    ("counterfeit-listings-still-live", {}, [
        {"listing_id": "L1", "title": "Acme 运动鞋", "shop_id": "SH1", "seller_id": "S1",
         "brand_id": "B1", "purchase_id": "T1", "verdict_on": "2024-01-25"},
        {"listing_id": "L6", "title": "Acme 包", "shop_id": "SH5", "seller_id": "S4",
         "brand_id": "B1", "purchase_id": "T4", "verdict_on": "2024-04-12"},
    ]),
    ("counterfeit-listings-still-live", {"brand_id": "B2"}, []),
    ("sites-in-division", {"adcode": "440000"}, [
        {"site_id": "SITE1", "kind": "den", "status": "confirmed", "address_key": "A1",
         "adcode": "440307", "shops": ["SH1", "SH2"], "networks": ["N1"]},
    ]),
    ("sites-in-division", {"adcode": "350582"}, [
        {"site_id": "SITE2", "kind": "factory", "status": "suspected", "address_key": "A3",
         "adcode": "350582", "shops": ["SH3"], "networks": ["N1"]},
    ]),
    ("transfer-chains-into-account", {"account": "bank:pa3"}, [
        {"from_account": "alipay:pa2", "accounts": ["alipay:pa2", "bank:pa3"], "hops": 1,
         "totals_cny": [10000.0], "sellers_paid_at_start": ["S4"]},
        {"from_account": "bank:pax", "accounts": ["bank:pax", "bank:pa3"], "hops": 1,
         "totals_cny": [20000.0], "sellers_paid_at_start": []},
        {"from_account": "alipay:pa1", "accounts": ["alipay:pa1", "bank:pax", "bank:pa3"],
         "hops": 2, "totals_cny": [50000.0, 20000.0], "sellers_paid_at_start": ["S1"]},
    ]),
    ("transfer-chains-into-account", {"account": "bank:pa3", "min_total_cny": "15000"}, [
        {"from_account": "bank:pax", "accounts": ["bank:pax", "bank:pa3"], "hops": 1,
         "totals_cny": [20000.0], "sellers_paid_at_start": []},
        {"from_account": "alipay:pa1", "accounts": ["alipay:pa1", "bank:pax", "bank:pa3"],
         "hops": 2, "totals_cny": [50000.0, 20000.0], "sellers_paid_at_start": ["S1"]},
    ]),
    ("leads-waiting-per-agency", {"as_of": "2024-04-01"}, [
        {"agency_id": "AG1", "agency": "深圳市公安局", "waiting": 1, "lead_ids": ["LD1"],
         "oldest_days": 91},
        {"agency_id": "AG2", "agency": "晋江市公安局", "waiting": 1, "lead_ids": ["LD3"],
         "oldest_days": 60},
    ]),
    ("leads-waiting-per-agency", {"as_of": "2024-04-01", "days": "5"}, [
        {"agency_id": "AG1", "agency": "深圳市公安局", "waiting": 2, "lead_ids": ["LD1", "LD2"],
         "oldest_days": 91},
        {"agency_id": "AG2", "agency": "晋江市公安局", "waiting": 1, "lead_ids": ["LD3"],
         "oldest_days": 60},
    ]),
    ("cases-per-province-year", {}, [
        {"province_adcode": "440000", "province": "广东省", "year": 2023, "cases": 1,
         "arrests": 2, "dens_destroyed": 0, "value_cny": 50000.0},
        {"province_adcode": "350000", "province": "福建省", "year": 2024, "cases": 1,
         "arrests": 4, "dens_destroyed": 2, "value_cny": 200000.0},
        {"province_adcode": "440000", "province": "广东省", "year": 2024, "cases": 2,
         "arrests": 4, "dens_destroyed": 2, "value_cny": 130000.0},
    ]),
    ("cases-per-province-year", {"year": "2023"}, [
        {"province_adcode": "440000", "province": "广东省", "year": 2023, "cases": 1,
         "arrests": 2, "dens_destroyed": 0, "value_cny": 50000.0},
    ]),
    ("cases-in-my-jurisdiction", {"status": "raided"}, [
        {"case_id": "CS1", "title": "坂田窝点案", "status": "raided", "opened_on": "2024-05-01",
         "agency_id": "AG1", "adcode": "440300", "arrests": 3, "value_cny": 100000.0},
    ]),
    ("leads-in-my-jurisdiction", {}, [
        {"status": "pushed", "leads": 3, "value_cny": 0.0},
        {"status": "registered", "leads": 1, "value_cny": 0.0},
    ]),
    ("brands-targeted-per-province", {}, [
        {"province_adcode": "350000", "province": "福建省", "rank": 1, "brand_id": "B2",
         "brand": "Bolt", "listings": 1, "shops": 1},
        {"province_adcode": "440000", "province": "广东省", "rank": 1, "brand_id": "B1",
         "brand": "Acme", "listings": 3, "shops": 3},
    ]),
    ("sellers-reopened-after-suspension", {}, [
        {"seller_id": "S4", "closed_shop": "SH4", "closed_on": "2024-03-01", "reopened_by": "S4",
         "reopened_shop": "SH5", "opened_on": "2024-04-01", "via": "same seller",
         "days_after": 31},
        {"seller_id": "S4", "closed_shop": "SH4", "closed_on": "2024-03-01", "reopened_by": "S5",
         "reopened_shop": "SH6", "opened_on": "2024-05-01", "via": "same identity",
         "days_after": 61},
    ]),
    ("sellers-reopened-after-suspension", {"platform": "jd"}, []),
    ("identities-on-several-platforms", {}, [
        {"id_hash": "h-i1", "kind": "id_card", "platform_count": 2,
         "platforms": ["pinduoduo", "taobao"], "seller_ids": ["S3", "S1"]},
        {"id_hash": "h-i2", "kind": "business_licence", "platform_count": 2,
         "platforms": ["jd", "taobao"], "seller_ids": ["S5", "S4"]},
    ]),
    ("identities-on-several-platforms", {"min_platforms": "3"}, []),
    ("counterfeit-rate-per-brand", {}, [
        {"brand_id": "B2", "brand": "Bolt", "purchases": 2, "conclusive": 1, "counterfeit": 1,
         "counterfeit_rate": 1.0},
        {"brand_id": "B1", "brand": "Acme", "purchases": 3, "conclusive": 3, "counterfeit": 2,
         "counterfeit_rate": 0.667},
    ]),
    ("counterfeit-rate-per-brand", {"from": "2024-02-01", "to": "2024-03-31"}, [
        {"brand_id": "B2", "brand": "Bolt", "purchases": 2, "conclusive": 1, "counterfeit": 1,
         "counterfeit_rate": 1.0},
        {"brand_id": "B1", "brand": "Acme", "purchases": 1, "conclusive": 1, "counterfeit": 0,
         "counterfeit_rate": 0.0},
    ]),
    ("blocked-at-upload-per-brand-month", {}, [
        {"brand_id": "B1", "brand": "Acme", "month": "2024-01", "listings": 2,
         "blocked_at_upload": 1, "blocked_share": 0.5},
        {"brand_id": "B1", "brand": "Acme", "month": "2024-02", "listings": 1,
         "blocked_at_upload": 0, "blocked_share": 0.0},
        {"brand_id": "B1", "brand": "Acme", "month": "2024-04", "listings": 1,
         "blocked_at_upload": 0, "blocked_share": 0.0},
        {"brand_id": "B2", "brand": "Bolt", "month": "2024-02", "listings": 2,
         "blocked_at_upload": 1, "blocked_share": 0.5},
    ]),
    ("shipments-from-division-by-destination", {"adcode": "440300"}, [
        {"destination_province_adcode": "330000", "destination_province": "浙江省",
         "shipments": 2, "shops": 2},
        {"destination_province_adcode": "440000", "destination_province": "广东省",
         "shipments": 1, "shops": 1},
    ]),
    ("shipments-from-division-by-destination", {"adcode": "350000"}, [
        {"destination_province_adcode": "330000", "destination_province": "浙江省",
         "shipments": 1, "shops": 0},
    ]),
]


@pytest.fixture(scope="module")
def library(driver: Driver, database: str) -> query_library.Library:
    write_fixture(driver, database)
    return query_library.load_checked(driver, database)


def test_library_has_at_least_fifteen_queries_and_all_pass_their_checks(
    library: query_library.Library,
) -> None:
    assert library.problems == {}
    assert len(library.queries) >= 15
    assert library.checked


def test_every_query_in_the_folder_has_a_row_test() -> None:
    assert {name for name, _, _ in CASES} == set(query_library.load().names())


def test_every_query_documents_itself() -> None:
    for query in query_library.load().queries.values():
        assert query.title and query.description, query.name
        assert all(p.description for p in query.params), query.name


@pytest.mark.parametrize(("name", "params", "expected"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_query_rows_on_the_fixture_graph(
    library: query_library.Library, driver: Driver, database: str, name: str, params: dict[str, Any],
    expected: list[dict[str, Any]],
) -> None:
    query = library.get(name)
    caller = INVESTIGATOR if INVESTIGATOR.role in query.roles else ANALYST
    result = query_library.run(driver, database, query, params, caller)
    assert result.rows == expected
    assert result.truncated is False
    if expected:
        assert result.columns == list(expected[0])


LIAISON_SZ = Caller(sub="liaison-sz", role="police_liaison", agency_id="AG1",
                    agency_adcodes=("440300", "440305", "440307"))
LIAISON_JJ = Caller(sub="liaison-jj", role="police_liaison", agency_id="AG2",
                    agency_adcodes=("350582",))


def _case_ids(driver: Driver, database: str, library: query_library.Library, caller: Caller) -> list[str]:
    result = query_library.run(driver, database, library.get("cases-in-my-jurisdiction"), {}, caller)
    return [row["case_id"] for row in result.rows]


def test_police_liaison_sees_only_its_jurisdiction(
    library: query_library.Library, driver: Driver, database: str,
) -> None:
    assert _case_ids(driver, database, library, LIAISON_SZ) == ["CS2", "CS1"]
    assert _case_ids(driver, database, library, LIAISON_JJ) == ["CS3"]
    assert _case_ids(driver, database, library, INVESTIGATOR) == ["CS2", "CS1", "CS3", "CS4"]


def test_police_liaison_counts_only_the_leads_of_its_jurisdiction(
    library: query_library.Library, driver: Driver, database: str,
) -> None:
    query = library.get("leads-in-my-jurisdiction")
    ran = query_library.run(driver, database, query, {}, LIAISON_SZ)
    counts = {r["status"]: r["leads"] for r in ran.rows}
    assert counts == {"pushed": 2, "registered": 1}
    ran = query_library.run(driver, database, query, {}, LIAISON_JJ)
    counts = {r["status"]: r["leads"] for r in ran.rows}
    assert counts == {"pushed": 1}


def test_liaison_without_jurisdiction_sees_nothing_and_cannot_widen_it(
    library: query_library.Library, driver: Driver, database: str,
) -> None:
    lost = Caller(sub="liaison-x", role="police_liaison", agency_id="AGX")
    assert _case_ids(driver, database, library, lost) == []
    query = library.get("cases-in-my-jurisdiction")
    with pytest.raises(query_library.ParamError, match="set by the server"):
        query_library.run(driver, database, query, {"_agency_adcodes": ["440000"]}, lost)
    with pytest.raises(query_library.ParamError, match="set by the server"):
        query_library.run(driver, database, query, {"_role": "admin"}, lost)


def test_roles_from_the_header_are_enforced(
    library: query_library.Library, driver: Driver, database: str,
) -> None:
    brand = Caller(sub="brand-a", role="brand_member", brand_id="B1")
    with pytest.raises(query_library.Forbidden, match="brand_member"):
        query_library.run(driver, database, library.get("cases-per-province-year"), {}, brand)
    with pytest.raises(query_library.Forbidden, match="police_liaison"):
        query_library.run(driver, database, library.get("identities-on-several-platforms"), {}, LIAISON_SZ)


# ------------------------------------------------------------------ who sees which column

ADMIN = Caller(sub="adm", role="admin")
BRAND = Caller(sub="brand-a", role="brand_member", brand_id="B1")
BY_ROLE = {"investigator": INVESTIGATOR, "admin": ADMIN, "analyst": ANALYST,
           "police_liaison": LIAISON_SZ, "brand_member": BRAND,
           "platform": Caller(sub="platform", role="platform")}
FIRST_PARAMS = {name: params for name, params, _ in reversed(CASES)}
IDENTIFIER_LABELS = (*SENSITIVE_LABELS, "Address")
"""Nodes only investigators and admins see (`api/scope.py`: the sensitive labels, and
addresses, which no other role has a rule for)."""
ENTITY_LABELS = ("Seller", "Shop", "Listing", "Person", "Site", "Shipment", "TestPurchase",
                 "Complaint", "Lead", "Case", "Network")


def _values(driver: Driver, database: str, labels: tuple[str, ...]) -> set[str]:
    """Every key and caption value of the fixture's nodes of `labels` (from the model,
    not from any query header)."""
    found: set[str] = set()
    for label in labels:
        props = [node(label).key, *node(label).caption]
        records, _, _ = driver.execute_query(
            "MATCH (n) WHERE $label IN labels(n) "
            "UNWIND [p IN $props WHERE n[p] IS NOT NULL | toString(n[p])] AS v "
            "RETURN collect(DISTINCT v) AS vs", {"label": label, "props": props},
            database_=database)
        found |= set(records[0]["vs"])
    return found


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {s for v in value for s in _strings(v)}
    if isinstance(value, dict):
        return {s for v in value.values() for s in _strings(v)}
    return set()


@pytest.fixture(scope="module")
def secrets(library: query_library.Library, driver: Driver, database: str) -> dict[str, set[str]]:
    identifiers = _values(driver, database, IDENTIFIER_LABELS)
    entities = _values(driver, database, ENTITY_LABELS)
    assert {"shared@example.cn", "alipay:pa1", "ip:10.0.0.1", "h-i1", "A1"} <= identifiers
    assert {"S1", "SH1", "L1", "PE1", "SITE1", "CS1", "LD1", "N1", "=1+1"} <= entities
    return {"identifier": identifiers, "entity": entities}


ALLOWED = [(name, role) for name in sorted(FIRST_PARAMS)
           for role in ROLES if role in query_library.load().get(name).roles]
REFUSED = [(name, role) for name in sorted(FIRST_PARAMS)
           for role in ROLES if role not in query_library.load().get(name).roles]


@pytest.mark.parametrize(("name", "role"), ALLOWED, ids=[f"{n}-{r}" for n, r in ALLOWED])
def test_every_role_gets_only_what_it_may_see(
    library: query_library.Library, driver: Driver, database: str, secrets: dict[str, set[str]],
    name: str, role: str,
) -> None:
    query = library.get(name)
    caller = BY_ROLE[role]
    full = query_library.run(driver, database, query, FIRST_PARAMS[name], INVESTIGATOR)
    seen = query_library.run(driver, database, query, FIRST_PARAMS[name], caller)
    assert seen.columns == full.columns
    hidden = set(query_library.hidden_columns(query, caller, seen.columns))
    masked = [{c: (query_library.HIDDEN if c in hidden else v) for c, v in row.items()} for row in full.rows]
    if role == "police_liaison":  # its rows (and counts) are kept to its jurisdiction
        assert all(row[c] == query_library.HIDDEN for row in seen.rows for c in hidden)
    else:
        assert seen.rows == masked
    leaked = _strings(seen.rows)
    if not caller.sees_everything:
        assert not leaked & secrets["identifier"], name
        assert hidden >= {c for c in seen.columns if query.kind(c) == "identifier"}
    if role in ("analyst", "brand_member"):
        assert not leaked & secrets["entity"], name
        assert hidden == {c for c in seen.columns if query.kind(c) != "open"}


def test_the_analyst_gets_no_identifier_of_the_probed_queries(
    library: query_library.Library, driver: Driver, database: str,
) -> None:
    shared = query_library.run(driver, database, library.get("sellers-sharing-identifiers"),
                    {"seller_id": "S1"}, ANALYST)
    assert shared.rows == [
        {"seller_id": query_library.HIDDEN, "platform": "taobao", "nickname": query_library.HIDDEN,
         "linked_by": ["phone"], "identifiers": query_library.HIDDEN, "shared": 1},
        {"seller_id": query_library.HIDDEN, "platform": "pinduoduo", "nickname": query_library.HIDDEN,
         "linked_by": ["identity"], "identifiers": query_library.HIDDEN, "shared": 1},
    ]
    hubs = query_library.run(driver, database, library.get("hub-addresses-and-ips"), {}, ANALYST)
    assert [(r["kind"], r["hub"], r["label"], r["sellers"], r["seller_ids"]) for r in hubs.rows] == [
        ("ip", HIDDEN, HIDDEN, 3, HIDDEN), ("address", HIDDEN, HIDDEN, 2, HIDDEN),
        ("address", query_library.HIDDEN, query_library.HIDDEN, 2, query_library.HIDDEN)]
    with pytest.raises(query_library.Forbidden, match="allowed roles: \\['investigator', 'admin'\\]"):
        query_library.run(driver, database, library.get("transfer-chains-into-account"),
               {"account": "bank:pa3"}, ANALYST)


@pytest.mark.parametrize(("name", "role"), REFUSED, ids=[f"{n}-{r}" for n, r in REFUSED])
def test_a_role_not_listed_cannot_run_the_query(
    library: query_library.Library, driver: Driver, database: str, name: str, role: str,
) -> None:
    with pytest.raises(query_library.Forbidden, match=f"role '{role}' may not run saved query '{name}'"):
        query_library.run(driver, database, library.get(name), FIRST_PARAMS[name], BY_ROLE[role])
