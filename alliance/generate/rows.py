"""The rows of a synthetic bundle: reference data, counterfeit rings, honest sellers."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from alliance.generate.bundle import (
    CARRIERS,
    COUNTRIES,
    GROUP_SIZE,
    MOBILE_PREFIXES,
    PLATFORMS,
    RING_PREFIX,
    Bundle,
    day,
    id_number,
    mobile,
    phone_spelling,
)
from alliance.generate.geography import District

SYLLABLES = ("peak", "stride", "nova", "lumen", "vela", "orbit", "zen", "arc", "flux", "terra",
             "aura", "crest", "vivo", "kinet", "sol", "mira")
ZH = ("峰", "步", "星", "光", "远", "极", "风", "川", "悦", "途")
PRODUCTS = ("运动鞋", "手提包", "手表", "太阳镜", "香水", "羽绒服", "耳机", "皮带")
SITE_KINDS = ("factory", "warehouse", "den", "packing")
LEAD_FLOW = ("pushed", "filed", "raided", "judged")


def write_reference(b: Bundle) -> None:
    for i, brand_id in enumerate(b.brands):
        name = (b.rng.choice(SYLLABLES) + b.rng.choice(SYLLABLES)).title() + f"{i}"
        b.emit("brands", {
            "brand_id": brand_id, "name": name, "name_zh": b.rng.choice(ZH) + b.rng.choice(ZH),
            "country": COUNTRIES[i % len(COUNTRIES)], "owner": f"{name} Holdings",
            "alliance_member": b.rng.random() < 0.7, "joined_on": day(b.rng),
            "trademark_nos": [f"TM{b.rng.randint(10**6, 10**7)}"],
        })
    provinces = sorted({(d.province_code, d.province) for d in b.geo})
    cities = sorted({(d.city_code, d.city) for d in b.hot})
    for level, entries in (("province", provinces), ("city", cities)):
        for code, name in entries:
            b.emit("agencies", {"agency_id": f"AG-{code}", "name": f"{name}公安局", "level": level,
                                "adcode": code, "unit": "经侦"})


def _seller_row(b: Bundle, seller_id: str, ids: dict[str, Any], home: tuple[District, str]) -> dict[str, Any]:
    row = {
        "seller_id": seller_id, "platform": b.rng.choice(PLATFORMS),
        "nickname": f"{b.rng.choice(PRODUCTS)}店{seller_id[-4:]}", "kind": "person",
        "registered_on": day(b.rng), "status": b.rng.choice(("active", "active", "suspended")),
        "phones": ids.get("phones", []), "emails": ids.get("emails", []),
        "payout_accounts": ids.get("payout_accounts", []), "devices": ids.get("devices", []),
        "registered_address": b.spell(home),
    }
    if "id_number" in ids:
        row["id_number"] = ids["id_number"]
    return row


def _listings(b: Bundle, shop_id: str, brand_ids: list[str], count: int) -> list[str]:
    listing_ids = []
    for _ in range(count):
        listing_id = b.next_id("L", 7)
        brand = b.rng.choice(brand_ids)
        b.emit("listings", {
            "listing_id": listing_id, "shop_id": shop_id, "brand_id": brand,
            "title": f"{brand} {b.rng.choice(PRODUCTS)}", "price": f"{b.rng.randint(30, 900)}.00",
            "currency": "CNY", "first_seen": day(b.rng), "status": "live",
            "blocked_at_upload": False,
        })
        listing_ids.append(listing_id)
    return listing_ids


def _group_ids(b: Bundle, district: District) -> dict[str, str]:
    n = b.counter.get("group", 0)
    b.counter["group"] = n + 1
    return {
        "phone": mobile(n, RING_PREFIX), "email": f"g{n}@qq.com",
        "payout": f"alipay:ring{n:06d}", "device": f"fp:{hashlib.sha1(f'g{n}'.encode()).hexdigest()[:16]}",
        "id_number": id_number(b.rng, district),
    }


def _member_ids(b: Bundle, group: dict[str, str], leader: bool, bridge: str | None) -> dict[str, Any]:
    kinds = ["phone", "email", "payout", "device", "id_number"]
    chosen = kinds if leader else b.rng.sample(kinds, b.rng.randint(1, 2))
    ids: dict[str, Any] = {}
    if "phone" in chosen:
        ids["phones"] = [phone_spelling(b.rng, group["phone"])]
    if "email" in chosen:
        ids["emails"] = [group["email"].upper() if b.rng.random() < 0.3 else group["email"]]
    if "payout" in chosen:
        ids["payout_accounts"] = [group["payout"]] + ([bridge] if bridge else [])
    if "device" in chosen:
        ids["devices"] = [group["device"]]
    if "id_number" in chosen:
        ids["id_number"] = group["id_number"]
    return ids


def write_ring(b: Bundle, size: int) -> int:
    """One counterfeit ring of `size` sellers with its offline side; returns `size`."""
    ring_id = b.next_id("R", 5)
    base = b.rng.choice(b.hot)
    local = [d for d in b.geo if d.city_code == base.city_code]
    brands = b.rng.sample(b.brands, b.rng.randint(1, 3))
    groups = -(-size // GROUP_SIZE)
    sites = _ring_sites(b, local, max(b.rng.randint(1, 3), -(-groups // 2)))
    truth: dict[str, Any] = {"ring_id": ring_id, "sellers": [], "shops": [],
                             "sites": [s["site_id"] for s in sites], "listings_to_sites": {}}
    leaders, payouts, shops, kept = [], [], [], []
    bridge = None
    for g in range(groups):
        group = _group_ids(b, base)
        payouts.append(group["payout"])
        kept.append(group)
        site = sites[g % len(sites)]
        for i in range(min(GROUP_SIZE, size - g * GROUP_SIZE)):
            seller_id = b.next_id("S", 7)
            ids = _member_ids(b, group, i == 0, bridge if i == 0 else None)
            ids["devices"] = [*ids.get("devices", []), *_carrier_ip(b, seller_id)]
            b.emit("sellers", _seller_row(b, seller_id, ids, site["place"]))
            truth["sellers"].append(seller_id)
            if i == 0:
                leaders.append(seller_id)
            shops += _ring_shops(b, seller_id, site, brands, truth)
        bridge = group["payout"]
    raided = _ring_offline(b, ring_id, sites, shops, brands, leaders, payouts, base,
                           truth["listings_to_sites"])
    b.rings.append(truth)
    b.known_rings.append({"ring_id": ring_id, "groups": kept, "brands": brands, "raided": raided,
                          "sites": [{k: s[k] for k in ("site_id", "status", "place")}
                                    for s in sites]})
    return size


def _carrier_ip(b: Bundle, seller_id: str) -> list[str]:
    """Every other ring seller logs in through a mobile carrier, like honest sellers."""
    n = int(seller_id[1:])
    return [] if n % 2 else [b.carrier_ips[n // 2 % len(b.carrier_ips)]]


def hub_text(place: tuple[District, str]) -> str:
    district, street = place
    return f"{district.province}{district.city}{district.name}{street}"


def _ring_sites(b: Bundle, local: list[District], count: int) -> list[dict[str, Any]]:
    sites = []
    for _ in range(count):
        place = b._address(b.rng.choice(local))
        site = {"site_id": b.next_id("SITE", 5), "kind": b.rng.choice(SITE_KINDS),
                "address": b.spell(place), "label": f"{place[0].name}{b.rng.choice(PRODUCTS)}加工点",
                "status": b.rng.choice(("suspected", "confirmed")), "first_seen": day(b.rng)}
        b.emit("sites", site)
        sites.append({**site, "place": place})
    return sites


def _ring_shops(b: Bundle, seller_id: str, site: dict[str, Any], brands: list[str],
                truth: dict[str, Any]) -> list[str]:
    shop_ids = []
    for _ in range(b.rng.randint(1, 2)):
        shop_id = b.next_id("SH", 7)
        row = {
            "shop_id": shop_id, "seller_id": seller_id, "platform": b.rng.choice(PLATFORMS),
            "name": f"{b.rng.choice(PRODUCTS)}工厂店", "opened_on": day(b.rng), "status": "open",
            "ship_from_address": b.spell(site["place"]), "return_address": b.spell(site["place"]),
        }
        n = int(shop_id[2:])
        if n % 3 == 0:  # a third of ring shops take returns at a fulfilment warehouse
            row["return_address"] = hub_text(b.hubs[n // 3 % len(b.hubs)])
        b.emit("shops", row)
        listing_ids = _listings(b, shop_id, brands, b.rng.randint(1, 3))
        truth["shops"].append(shop_id)
        truth["listings_to_sites"].setdefault(site["site_id"], []).extend(listing_ids)
        shop_ids.append(shop_id)
    return shop_ids


def _ring_offline(b: Bundle, ring_id: str, sites: list[dict[str, Any]], shops: list[str],
                  brands: list[str], leaders: list[str], payouts: list[str], base: District,
                  listings: dict[str, list[str]]) -> bool:
    """The ring's money, persons, evidence and, for some, a lead and a case; True when
    its sites were raided."""
    supplier_account = f"bank:6222{b.rng.randint(10**11, 10**12 - 1)}"
    for payout in payouts:
        hops = [payout] + [f"wx:mid{b.next_id('M', 7)}" for _ in range(b.rng.randint(0, 2))]
        hops.append(supplier_account)
        for src, dst in zip(hops, hops[1:], strict=False):
            b.emit("transfers", {"from_account": src, "to_account": dst,
                                 "total_cny": f"{b.rng.randint(5, 500) * 1000}.00",
                                 "count": b.rng.randint(2, 40), "first_on": day(b.rng, 0, 300),
                                 "last_on": day(b.rng, 300, 300)})
    boss, supplier = b.next_id("P", 6), b.next_id("P", 6)
    b.emit("persons", {"person_id": boss, "name": "王某", "id_number": id_number(b.rng, base),
                       "controls_sellers": leaders, "operates_sites": [s["site_id"] for s in sites]})
    b.emit("persons", {"person_id": supplier, "name": "李某", "owns_accounts": [supplier_account],
                       "operates_sites": [sites[0]["site_id"]]})
    purchases, complaints = _evidence(b, sites, shops, brands, listings)
    if b.rng.random() < 0.3:
        return _lead_and_case(b, ring_id, base, brands, leaders, sites, [boss, supplier],
                              purchases, complaints)
    return False


def _evidence(b: Bundle, sites: list[dict[str, Any]], shops: list[str], brands: list[str],
              listings: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    purchases, complaints = [], []
    for site in sites:
        if site["site_id"] not in listings:
            continue
        shop_id = b.rng.choice(shops)
        carrier, waybill = b.rng.choice(CARRIERS), f"{b.rng.randint(10**11, 10**12 - 1)}"
        b.emit("shipments", {"carrier": carrier, "waybill_no": waybill, "shop_id": shop_id,
                             "origin_address": b.spell(site["place"]), "sender_name": "张先生",
                             "sender_phone": phone_spelling(b.rng, mobile(b.rng.randrange(10**8), "150")),
                             "shipped_on": day(b.rng), "destination_adcode": b.rng.choice(b.geo).adcode})
        purchase_id = b.next_id("TP", 6)
        bought = b.rng.choice(listings[site["site_id"]])
        b.emit("test_purchases", {"purchase_id": purchase_id, "listing_id": bought,
                                  "ordered_on": day(b.rng), "carrier": carrier, "waybill_no": waybill,
                                  "authenticated_by": b.rng.choice(brands), "report_no": f"RPT{purchase_id}",
                                  "verdict": "counterfeit", "verdict_on": day(b.rng)})
        purchases.append(purchase_id)
        complaint_id = b.next_id("C", 7)
        b.emit("complaints", {"complaint_id": complaint_id, "brand_id": b.rng.choice(brands),
                              "shop_id": shop_id, "filed_on": day(b.rng), "kind": "counterfeit",
                              "outcome": "upheld", "resolved_on": day(b.rng)})
        complaints.append(complaint_id)
    return purchases, complaints


def _lead_and_case(b: Bundle, ring_id: str, base: District, brands: list[str], leaders: list[str],
                   sites: list[dict[str, Any]], persons: list[str], purchases: list[str],
                   complaints: list[str]) -> bool:
    lead_id, agency = f"LEAD-{ring_id}", f"AG-{base.city_code}"
    status = b.rng.choice(LEAD_FLOW)
    b.emit("leads", {"lead_id": lead_id, "created_on": day(b.rng, 0, 200), "status": status,
                     "agency_id": agency, "brand_ids": brands, "concerns_sellers": leaders,
                     "concerns_sites": [s["site_id"] for s in sites], "concerns_persons": persons,
                     "evidence_purchases": purchases, "evidence_complaints": complaints,
                     "estimated_value_cny": f"{b.rng.randint(50, 5000) * 1000}.00",
                     "pushed_on": day(b.rng, 200, 100)})
    if status in ("raided", "judged"):
        b.emit("cases", {"case_id": f"CASE-{ring_id}", "agency_id": agency, "lead_id": lead_id,
                         "title": f"{base.city}假冒注册商标案", "opened_on": day(b.rng, 300, 100),
                         "status": status, "charge": "假冒注册商标罪",
                         "case_value_cny": f"{b.rng.randint(50, 5000) * 1000}.00",
                         "arrests": b.rng.randint(1, 20), "dens_destroyed": len(sites),
                         "raided_sites": [s["site_id"] for s in sites], "suspects": persons,
                         "brand_ids": brands})
    return status in ("raided", "judged")


KEEP_HONEST = 20
"""One honest seller in this many is kept for the uploads (a new shop of a known seller)."""
LANDLINE_AREAS = ("020-8", "010-6", "0755-8", "0571-8", "021-6")
"""Area codes with 8-digit local numbers (and the first digit of the local number)."""


def landline(n: int) -> str:
    """A unique landline in one of the ways people write them (area code, dash)."""
    area = LANDLINE_AREAS[n % len(LANDLINE_AREAS)]
    return f"{area}{n % 10**7:07d}"


def write_honest(b: Bundle, dress: Callable[[Bundle, dict[str, Any], District], None] | None = None
                 ) -> None:
    """An honest seller: its own identifiers, hub warehouses and carrier IPs only;
    `dress` may add to its row before it is written (`evasion.dress_honest`)."""
    seller_id = b.next_id("H", 7)
    n = int(seller_id[1:])
    district = b.rng.choice(b.geo)
    home = b._address(district)
    phones = [phone_spelling(b.rng, mobile(n, MOBILE_PREFIXES[n % len(MOBILE_PREFIXES)]))]
    if n % 4 == 0:
        phones.append(landline(n))
    ids: dict[str, Any] = {
        "phones": phones, "emails": [f"h{n}@163.com"], "payout_accounts": [f"alipay:h{n:08d}"],
        "devices": [f"fp:h{n:08d}", b.rng.choice(b.carrier_ips)],
    }
    if n % 3:
        ids["id_number"] = id_number(b.rng, district)
    row = _seller_row(b, seller_id, ids, home)
    if not n % 3:
        row["id_hash"] = hashlib.sha256(f"honest-identity-{n}".encode()).hexdigest()
    row["status"] = "active"
    if dress:
        dress(b, row, district)
    b.emit("sellers", row)
    if n % KEEP_HONEST == 0:
        b.known_honest.append({**ids, "seller_id": seller_id, "platform": row["platform"],
                               "id_hash": row.get("id_hash"), "home": home})
    shop_id = b.next_id("SH", 7)
    ship_from = b.rng.choice(b.hubs) if b.rng.random() < 0.6 else home
    b.emit("shops", {"shop_id": shop_id, "seller_id": seller_id, "platform": row["platform"],
                     "name": f"{b.rng.choice(PRODUCTS)}专营店", "opened_on": day(b.rng),
                     "status": "open", "ship_from_address": b.spell(ship_from),
                     "return_address": b.spell(b.rng.choice(b.hubs))})
    listing_ids = _listings(b, shop_id, b.brands, b.rng.randint(1, 2))
    roll = b.rng.random()
    if roll < 0.02:
        b.emit("complaints", {"complaint_id": b.next_id("C", 7), "brand_id": b.rng.choice(b.brands),
                              "listing_id": listing_ids[0], "filed_on": day(b.rng),
                              "kind": "trademark", "outcome": "upheld", "resolved_on": day(b.rng)})
        b.traps.append({"seller_id": seller_id, "trap": "upheld_complaint_by_mistake"})
    elif roll < 0.04:
        b.emit("test_purchases", {"purchase_id": b.next_id("TP", 6), "listing_id": listing_ids[0],
                                  "ordered_on": day(b.rng), "authenticated_by": b.rng.choice(b.brands),
                                  "verdict": "genuine", "verdict_on": day(b.rng)})
        b.traps.append({"seller_id": seller_id, "trap": "genuine_test_purchase"})
