"""Map one validated row to graph writes: node merges and relationship merges.

Pure: takes clean values (from `loaders.validate`), an address resolver and the PII
key, returns `NodeOp`/`RelOp` lists. Labels and types are checked against
graph/model.py. Relationship ends that are not loaded yet become placeholders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graph.model import NODE_BY_LABEL, REL_BY_TYPE, check_label, check_rel_type, node
from loaders import normalise
from loaders.address import AddressResolver, Placed, division_chain

OBSERVED_ON = {"brands": "joined_on", "sellers": "registered_on", "shops": "opened_on",
               "listings": "first_seen", "complaints": "filed_on", "shipments": "shipped_on",
               "test_purchases": "ordered_on", "sites": "first_seen", "transfers": "last_on",
               "leads": "created_on", "cases": "opened_on"}
MAIN = {"brands": "Brand", "agencies": "Agency", "sellers": "Seller", "shops": "Shop",
        "listings": "Listing", "complaints": "Complaint", "shipments": "Shipment",
        "test_purchases": "TestPurchase", "persons": "Person", "sites": "Site",
        "leads": "Lead", "cases": "Case"}
Row = dict[str, Any]
End = tuple[str, Any]
ADDRESS_FIELDS = ("registered_address", "ship_from_address", "return_address",
                  "origin_address", "address")
PLACES_KEPT = 10_000
"""Addresses whose graph operations a mapper keeps ready (then it starts afresh)."""


@dataclass(slots=True)
class NodeOp:
    label: str
    key: Any
    props: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class RelOp:
    type: str
    start: tuple[str, Any]
    end: tuple[str, Any]
    props: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Ops:
    nodes: list[NodeOp] = field(default_factory=list)
    rels: list[RelOp] = field(default_factory=list)

    def node(self, label: str, key: Any, props: dict[str, Any] | None = None) -> None:
        if label not in NODE_BY_LABEL:
            check_label(label)
        self.nodes.append(NodeOp(label, key, props or {}))

    def rel(self, rel_type: str, start: tuple[str, Any], end: tuple[str, Any],
            props: dict[str, Any] | None = None) -> None:
        if rel_type not in REL_BY_TYPE:
            check_rel_type(rel_type)
        self.rels.append(RelOp(rel_type, start, end, props or {}))


@dataclass(frozen=True)
class Plan:
    """What a file's main node takes from a clean row."""

    label: str
    key: str
    props: tuple[str, ...]
    observed: str


PLANS = {file: Plan(label, node(label).key, tuple(node(label).properties),
                    OBSERVED_ON.get(file, "")) for file, label in MAIN.items()}


@dataclass(frozen=True, slots=True)
class AddressOps:
    """The operations of one address text, shared by every row that names it: its
    Address node, and its divisions with their PART_OF and IN_DIVISION links."""

    key: str
    node: NodeOp
    divisions: list[NodeOp]
    links: list[RelOp]


def address_ops(raw: str, placed: Placed) -> AddressOps:
    props = {"raw": raw, "normalized": placed.normalized, "province": placed.province,
             "city": placed.city, "district": placed.district, "adcode": placed.adcode}
    me = NodeOp("Address", placed.address_key, {k: v for k, v in props.items() if v is not None})
    if not placed.adcode:
        return AddressOps(placed.address_key, me, [], [])
    nodes, rels = _hierarchy(placed.adcode)
    link = RelOp("IN_DIVISION", ("Address", placed.address_key), ("Division", nodes[0].key))
    return AddressOps(placed.address_key, me, nodes, [*rels, link])


@lru_cache(maxsize=8192)
def _hierarchy(adcode: str) -> tuple[list[NodeOp], list[RelOp]]:
    """The Division nodes from `adcode` up to its province, and their PART_OF links
    (shared, never modified: the writer only reads operations)."""
    chain = division_chain(adcode)
    nodes = [NodeOp("Division", code, {"name": name, "level": level})
             for code, name, level in chain]
    rels = [RelOp("PART_OF", ("Division", lower[0]), ("Division", upper[0]))
            for lower, upper in zip(chain, chain[1:], strict=False)]
    return nodes, rels


def shipment_id(carrier: str, waybill_no: str) -> str:
    return f"{carrier}:{waybill_no}"


class Mapper:
    def __init__(self, pii_key: bytes, resolver: AddressResolver | None = None) -> None:
        self.pii_key = pii_key
        self.resolver = resolver or AddressResolver()
        self.places: dict[str, AddressOps] = {}

    def prepare(self, rows: list[dict[str, Any]]) -> None:
        """Parse the addresses of a batch in one call (results are cached)."""
        raws = [row[f] for row in rows for f in ADDRESS_FIELDS if f in row]
        if raws:
            self.resolver.prefetch(raws)

    def map(self, file: str, c: dict[str, Any]) -> Ops:
        ops = Ops()
        if file == "transfers":
            self._transfer(c, ops, c.get(OBSERVED_ON[file]))
            return ops
        plan = PLANS[file]
        observed = c.get(plan.observed)
        label = plan.label
        key = shipment_id(c["carrier"], c["waybill_no"]) if file == "shipments" else c[plan.key]
        props = {p: c[p] for p in plan.props if p in c}
        if file == "shipments":
            props.update(carrier=c["carrier"], waybill_no=c["waybill_no"])
        if observed is not None:
            props["observed_on"] = observed
        ops.nodes.append(NodeOp(label, key, props))
        extra = {"observed_on": observed} if observed is not None else {}
        BY_FILE[file](self, c, ops, (label, key), extra)
        return ops

    # -- helpers ---------------------------------------------------------------
    def _address(self, ops: Ops, rel_type: str, start: tuple[str, Any], raw: str | None,
                 extra: dict[str, Any]) -> None:
        if not raw:
            return
        place = self.places.get(raw)
        if place is None:
            if len(self.places) >= PLACES_KEPT:
                self.places.clear()
            place = self.places[raw] = address_ops(raw, self.resolver.resolve(raw))
        ops.nodes.append(place.node)
        ops.rel(rel_type, start, ("Address", place.key), extra)
        ops.nodes += place.divisions
        ops.rels += place.links

    def _division(self, ops: Ops, start: tuple[str, Any], adcode: str) -> None:
        nodes, rels = _hierarchy(adcode)
        ops.nodes += nodes
        ops.rels += rels
        ops.rel("IN_DIVISION", start, ("Division", nodes[0].key))

    def _contacts(self, c: dict[str, Any], ops: Ops, me: tuple[str, Any],
                  extra: dict[str, Any], kind: str | None) -> None:
        for (e164, region), raw in c.get("phones", []):
            ops.node("Phone", e164, {"region": region, "raw_form": raw})
            ops.rel("HAS_PHONE", me, ("Phone", e164), extra)
        for email in c.get("emails", []):
            ops.node("Email", email)
            ops.rel("HAS_EMAIL", me, ("Email", email), extra)
        id_hash, id_kind = None, None
        if "id_number" in c:
            id_hash = normalise.identity_hash(c["id_number"], self.pii_key)
            id_kind = normalise.identity_kind(c["id_number"], kind)
        elif "id_hash" in c:
            id_hash = c["id_hash"]
            id_kind = {"person": "id_card", "company": "business_licence"}.get(kind or "")
        if id_hash:
            ops.node("Identity", id_hash, {"kind": id_kind} if id_kind else {})
            ops.rel("VERIFIED_AS" if me[0] == "Seller" else "HOLDS", me, ("Identity", id_hash),
                    extra)

    def _links(self, ops: Ops, rel_type: str, me: tuple[str, Any], label: str,
               keys: list[Any], extra: dict[str, Any] | None = None) -> None:
        for key in keys:
            ops.rel(rel_type, me, (label, key), extra)

    def _account(self, ops: Ops, account: str) -> tuple[str, str]:
        ops.node("PaymentAccount", account, {"provider": account.split(":", 1)[0]})
        return ("PaymentAccount", account)

    # -- one method per file ---------------------------------------------------
    def _brands(self, c: Row, ops: Ops, me: End, extra: Row) -> None:
        return None

    def _agencies(self, c: Row, ops: Ops, me: End, extra: Row) -> None:
        self._division(ops, me, c["adcode"])

    def _sellers(self, c: Row, ops: Ops, me: End, extra: Row) -> None:
        self._contacts(c, ops, me, extra, c.get("kind"))
        for account in c.get("payout_accounts", []):
            ops.rel("PAID_TO", me, self._account(ops, account), extra)
        for device in c.get("devices", []):
            ops.node("Device", device, {"kind": device.split(":", 1)[0]})
            ops.rel("USED_DEVICE", me, ("Device", device), extra)
        self._address(ops, "REGISTERED_AT", me, c.get("registered_address"), extra)

    def _shops(self, c: Row, ops: Ops, me: End, extra: Row) -> None:
        ops.rel("OPERATES", ("Seller", c["seller_id"]), me, extra)
        self._address(ops, "SHIPS_FROM", me, c.get("ship_from_address"), extra)
        self._address(ops, "RETURNS_TO", me, c.get("return_address"), extra)

    def _listings(self, c: Row, ops: Ops, me: End, extra: Row) -> None:
        ops.rel("OFFERS", ("Shop", c["shop_id"]), me, extra)
        if "brand_id" in c:
            ops.rel("CLAIMS_BRAND", me, ("Brand", c["brand_id"]), extra)

    def _complaints(self, c: Row, ops: Ops, me: End, extra: Row) -> None:
        ops.rel("FILED", ("Brand", c["brand_id"]), me, extra)
        if "listing_id" in c:
            ops.rel("AGAINST", me, ("Listing", c["listing_id"]), extra)
        if "shop_id" in c:
            ops.rel("AGAINST", me, ("Shop", c["shop_id"]), extra)

    def _shipments(self, c: Row, ops: Ops, me: End, extra: Row) -> None:
        if "shop_id" in c:
            ops.rel("SENT_BY", me, ("Shop", c["shop_id"]), extra)
        if "sender_phone" in c:
            (e164, region), raw = c["sender_phone"]
            ops.node("Phone", e164, {"region": region, "raw_form": raw})
            ops.rel("HAS_PHONE", me, ("Phone", e164), extra)
        self._address(ops, "ORIGINATES_AT", me, c.get("origin_address"), extra)

    def _test_purchases(self, c: Row, ops: Ops, me: End, extra: Row) -> None:
        ops.rel("BOUGHT", me, ("Listing", c["listing_id"]), extra)
        if "carrier" in c and "waybill_no" in c:
            shipment = ("Shipment", shipment_id(c["carrier"], c["waybill_no"]))
            ops.rel("DELIVERED_BY", me, shipment, extra)
        if "authenticated_by" in c:
            ops.rel("AUTHENTICATED_BY", me, ("Brand", c["authenticated_by"]), extra)

    def _persons(self, c: Row, ops: Ops, me: End, extra: Row) -> None:
        self._contacts(c, ops, me, extra, "person")
        self._links(ops, "CONTROLS", me, "Seller", c.get("controls_sellers", []))
        self._links(ops, "RUNS", me, "Site", c.get("operates_sites", []))
        for account in c.get("owns_accounts", []):
            ops.rel("OWNS", me, self._account(ops, account))

    def _sites(self, c: Row, ops: Ops, me: End, extra: Row) -> None:
        self._address(ops, "LOCATED_AT", me, c.get("address"), extra)

    def _leads(self, c: Row, ops: Ops, me: End, extra: Row) -> None:
        if "agency_id" in c:
            pushed = {"pushed_on": c["pushed_on"]} if "pushed_on" in c else {}
            ops.rel("PUSHED_TO", me, ("Agency", c["agency_id"]), {**extra, **pushed})
        self._links(ops, "ON_BEHALF_OF", me, "Brand", c.get("brand_ids", []), extra)
        for name, label in (("sellers", "Seller"), ("shops", "Shop"), ("sites", "Site"),
                            ("persons", "Person")):
            self._links(ops, "CONCERNS", me, label, c.get("concerns_" + name, []), extra)
        self._links(ops, "EVIDENCED_BY", me, "TestPurchase", c.get("evidence_purchases", []), extra)
        self._links(ops, "EVIDENCED_BY", me, "Complaint", c.get("evidence_complaints", []), extra)

    def _cases(self, c: Row, ops: Ops, me: End, extra: Row) -> None:
        ops.rel("HANDLED_BY", me, ("Agency", c["agency_id"]), extra)
        if "lead_id" in c:
            ops.rel("BECAME", ("Lead", c["lead_id"]), me, extra)
        self._links(ops, "RAIDED", me, "Site", c.get("raided_sites", []), extra)
        self._links(ops, "NAMES_SUSPECT", me, "Person", c.get("suspects", []), extra)
        self._links(ops, "CONCERNS_BRAND", me, "Brand", c.get("brand_ids", []), extra)

    def _transfer(self, c: dict[str, Any], ops: Ops, observed: Any) -> None:
        names: tuple[str, ...] = ("total_cny", "count", "first_on", "last_on")
        props: dict[str, Any] = {k: c[k] for k in names if k in c}
        if observed is not None:
            props["observed_on"] = observed
        ops.rel("TRANSFERRED_TO", self._account(ops, c["from_account"]),
                self._account(ops, c["to_account"]), props)


BY_FILE: dict[str, Callable[[Mapper, Row, Ops, End, Row], None]] = {
    file: getattr(Mapper, "_" + file) for file in MAIN}
"""The method that maps the rest of a row, per file (looked up once)."""
