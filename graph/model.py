"""The graph model: one declarative description of labels, keys and relationship types.

This is the data contract's section 2 (`docs/data-contract.md`) as data. The
constraints and indexes (`graph.schema`), the loaders' writers and the API's object
types are all derived from it, so a label, key or relationship type is spelled here
and nowhere else. Labels and types that reach Cypher must come from this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PropType = Literal["string", "int", "float", "bool", "date", "datetime", "list"]

PROVENANCE = ("source", "run_id", "first_seen_at", "last_seen_at", "observed_on")


@dataclass(frozen=True)
class NodeType:
    label: str
    key: str
    properties: dict[str, PropType]
    caption: tuple[str, ...] = ()
    """Properties tried in order to show a node to a person."""
    indexed: tuple[str, ...] = ()
    """Properties that get a range index (filters used by loaders and queries)."""
    fulltext: tuple[str, ...] = ()
    """Properties that go into the full-text search index."""
    contract: bool = True
    """False for labels that extend the data contract (service-owned)."""


@dataclass(frozen=True)
class RelType:
    type: str
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    properties: dict[str, PropType] = field(default_factory=dict)
    contract: bool = True


def _node(
    label: str,
    key: str,
    properties: dict[str, PropType],
    *,
    caption: tuple[str, ...] = (),
    indexed: tuple[str, ...] = (),
    fulltext: tuple[str, ...] = (),
    contract: bool = True,
) -> NodeType:
    return NodeType(label, key, properties, caption, indexed, fulltext, contract)


NODES: tuple[NodeType, ...] = (
    _node(
        "Brand", "brand_id",
        {"name": "string", "name_zh": "string", "country": "string", "owner": "string",
         "alliance_member": "bool", "joined_on": "date", "trademark_nos": "list"},
        caption=("name", "name_zh"), indexed=("country",), fulltext=("name", "name_zh", "owner"),
    ),
    _node(
        "Seller", "seller_id",
        {"platform": "string", "nickname": "string", "kind": "string", "legal_name": "string",
         "registered_on": "date", "status": "string"},
        caption=("nickname", "legal_name"), indexed=("platform", "status"),
        fulltext=("nickname", "legal_name"),
    ),
    _node(
        "Shop", "shop_id",
        {"platform": "string", "name": "string", "url": "string", "opened_on": "date",
         "closed_on": "date", "status": "string"},
        caption=("name",), indexed=("platform", "status"), fulltext=("name",),
    ),
    _node(
        "Listing", "listing_id",
        {"title": "string", "price": "float", "currency": "string", "url": "string",
         "first_seen": "date", "status": "string", "blocked_at_upload": "bool"},
        caption=("title",), indexed=("status",), fulltext=("title",),
    ),
    _node("Identity", "id_hash", {"kind": "string"}, indexed=("kind",)),
    _node("Person", "person_id", {"name": "string"}, caption=("name",), fulltext=("name",)),
    _node("Phone", "e164", {"region": "string", "raw_forms": "list"}, indexed=("region",)),
    _node("Email", "email", {}),
    _node("PaymentAccount", "account", {"provider": "string"}, indexed=("provider",)),
    _node("Device", "device", {"kind": "string"}, indexed=("kind",)),
    _node(
        "Address", "address_key",
        {"raw": "string", "normalized": "string", "province": "string", "city": "string",
         "district": "string", "adcode": "string"},
        caption=("normalized", "raw"), indexed=("adcode",), fulltext=("raw", "normalized"),
    ),
    _node(
        "Division", "adcode", {"name": "string", "level": "string"},
        caption=("name",), indexed=("level",), fulltext=("name",),
    ),
    _node(
        "Site", "site_id",
        {"kind": "string", "status": "string", "label": "string", "first_seen": "date"},
        caption=("label",), indexed=("kind", "status"), fulltext=("label",),
    ),
    _node(
        "Shipment", "shipment_id",
        {"carrier": "string", "waybill_no": "string", "shipped_on": "date",
         "sender_name": "string", "destination_adcode": "string"},
        caption=("shipment_id",), indexed=("destination_adcode",), fulltext=("sender_name",),
    ),
    _node(
        "TestPurchase", "purchase_id",
        {"ordered_on": "date", "verdict": "string", "verdict_on": "date", "report_no": "string"},
        caption=("report_no",), indexed=("verdict",),
    ),
    _node(
        "Complaint", "complaint_id",
        {"filed_on": "date", "kind": "string", "outcome": "string", "resolved_on": "date"},
        indexed=("outcome", "filed_on"),
    ),
    _node(
        "Agency", "agency_id",
        {"name": "string", "level": "string", "unit": "string", "adcode": "string"},
        caption=("name",), indexed=("adcode",), fulltext=("name", "unit"),
    ),
    _node(
        "Lead", "lead_id",
        {"created_on": "date", "status": "string", "estimated_value_cny": "float",
         "pushed_on": "date", "title": "string", "note": "string", "created_by": "string"},
        caption=("title",), indexed=("status", "created_on"),
    ),
    _node(
        "Case", "case_id",
        {"title": "string", "opened_on": "date", "status": "string", "charge": "string",
         "case_value_cny": "float", "arrests": "int", "dens_destroyed": "int",
         "seized_value_cny": "float"},
        caption=("title",), indexed=("status", "opened_on"), fulltext=("title", "charge"),
    ),
    _node(
        "IngestRun", "run_id",
        {"source": "string", "started_at": "datetime", "finished_at": "datetime",
         "counts": "string"},
        indexed=("source",),
    ),
    # Service-owned labels that extend the contract.
    _node(
        "Network", "network_id",
        {"size": "int", "strength": "string", "risk_score": "float", "computed_at": "datetime",
         "shops": "int", "listings": "int", "upheld_complaints": "int",
         "counterfeit_verdicts": "int", "sites": "int"},
        indexed=("risk_score", "size"), contract=False,
    ),
    _node(
        "AuditEvent", "event_id",
        {"at": "datetime", "who": "string", "role": "string", "agency_id": "string",
         "brand_id": "string", "action": "string", "ids": "list", "request_id": "string",
         "details": "string"},
        indexed=("at", "action", "who"), contract=False,
    ),
    _node(
        "StatusEvent", "event_id",
        {"at": "datetime", "who": "string", "role": "string", "agency_id": "string",
         "brand_id": "string", "from_status": "string", "to_status": "string", "note": "string",
         "cause": "string", "cause_id": "string", "request_id": "string"},
        caption=("to_status",), indexed=("at",), contract=False,
    ),
    _node(
        "Screening", "screening_id",
        {"at": "datetime", "who": "string", "upload_id": "string", "seller_id": "string",
         "shop_id": "string", "listing_id": "string", "platform": "string",
         "brand_id": "string", "decision": "string", "score": "float", "reasons": "string"},
        caption=("decision",), indexed=("at", "decision", "seller_id"), contract=False,
    ),
    _node(
        "Alert", "alert_id",
        {"alert": "string", "receiver": "string", "role": "string", "agency_id": "string",
         "brand_id": "string", "match_hash": "string", "keys": "string", "row": "string",
         "status": "string", "raised_at": "datetime", "updated_at": "datetime",
         "updated_by": "string", "note": "string", "run_id": "string"},
        caption=("alert",), indexed=("receiver", "status", "raised_at", "alert"),
        contract=False,
    ),
    _node(
        "Webhook", "webhook_id",
        {"receiver": "string", "role": "string", "agency_id": "string", "brand_id": "string",
         "url": "string", "created_at": "datetime", "created_by": "string"},
        caption=("url",), indexed=("receiver",), contract=False,
    ),
    _node(
        "Delivery", "delivery_id",
        {"alert_id": "string", "webhook_id": "string", "receiver": "string", "status": "string",
         "attempts": "int", "next_at": "int", "lease_owner": "string", "lease_until": "int",
         "last_status": "int", "last_error": "string", "created_at": "datetime",
         "updated_at": "datetime", "delivered_at": "datetime"},
        caption=("status",), indexed=("status", "next_at", "alert_id", "webhook_id"),
        contract=False,
    ),
)

ALERT_SUBJECTS: tuple[str, ...] = (
    "Seller", "Shop", "Listing", "Site", "Person", "TestPurchase", "Complaint", "Network",
    "Brand", "Lead", "Case",
)
"""Labels an `Alert` may be linked to (`ABOUT`), by the key of a key column."""

_ONLINE = ("Seller", "Shop", "Site", "Person")

RELATIONSHIPS: tuple[RelType, ...] = (
    RelType("OPERATES", ("Seller",), ("Shop",)),
    RelType("OFFERS", ("Shop",), ("Listing",)),
    RelType("CLAIMS_BRAND", ("Listing",), ("Brand",)),
    RelType("VERIFIED_AS", ("Seller",), ("Identity",)),
    RelType("HOLDS", ("Person",), ("Identity",)),
    RelType("HAS_PHONE", ("Seller", "Person", "Shipment"), ("Phone",)),
    RelType("HAS_EMAIL", ("Seller", "Person"), ("Email",)),
    RelType("PAID_TO", ("Seller",), ("PaymentAccount",)),
    RelType("OWNS", ("Person",), ("PaymentAccount",)),
    RelType(
        "TRANSFERRED_TO", ("PaymentAccount",), ("PaymentAccount",),
        {"total_cny": "float", "count": "int", "first_on": "date", "last_on": "date"},
    ),
    RelType("USED_DEVICE", ("Seller",), ("Device",)),
    RelType("REGISTERED_AT", ("Seller",), ("Address",)),
    RelType("SHIPS_FROM", ("Shop",), ("Address",)),
    RelType("RETURNS_TO", ("Shop",), ("Address",)),
    RelType("SENT_BY", ("Shipment",), ("Shop",)),
    RelType("ORIGINATES_AT", ("Shipment",), ("Address",)),
    RelType("BOUGHT", ("TestPurchase",), ("Listing",)),
    RelType("DELIVERED_BY", ("TestPurchase",), ("Shipment",)),
    RelType("AUTHENTICATED_BY", ("TestPurchase",), ("Brand",)),
    RelType("FILED", ("Brand",), ("Complaint",)),
    RelType("AGAINST", ("Complaint",), ("Listing", "Shop")),
    RelType("LOCATED_AT", ("Site",), ("Address",)),
    RelType("CONTROLS", ("Person",), ("Seller",)),
    RelType("RUNS", ("Person",), ("Site",)),
    RelType("IN_DIVISION", ("Address", "Agency"), ("Division",)),
    RelType("PART_OF", ("Division",), ("Division",)),
    RelType("ON_BEHALF_OF", ("Lead",), ("Brand",)),
    RelType("CONCERNS", ("Lead",), _ONLINE),
    RelType("EVIDENCED_BY", ("Lead",), ("TestPurchase", "Complaint")),
    RelType("PUSHED_TO", ("Lead",), ("Agency",), {"pushed_on": "date"}),
    RelType("BECAME", ("Lead",), ("Case",)),
    RelType("HANDLED_BY", ("Case",), ("Agency",)),
    RelType("CONCERNS_BRAND", ("Case",), ("Brand",)),
    RelType(
        "RAIDED", ("Case",), ("Site",),
        {"raided_on": "date", "seized_value_cny": "float", "arrests": "int", "dens_destroyed": "int"},
    ),
    RelType("NAMES_SUSPECT", ("Case",), ("Person",)),
    RelType("IN_NETWORK", ("Seller",), ("Network",), contract=False),
    RelType("HAS_EVENT", ("Lead", "Case"), ("StatusEvent",), contract=False),
    RelType(
        "PROBABLY_SAME", ("Seller",), ("Seller",),
        {"probability": "float", "reasons": "list", "run_id": "string", "decision": "string",
         "decided_by": "string", "decided_at": "datetime", "note": "string"},
        contract=False,
    ),
    RelType(
        "MATCHED", ("Screening",),
        ("Seller", "Identity", "Phone", "Email", "PaymentAccount", "Device", "Address",
         "Network", "Site"),
        {"kind": "string"}, contract=False,
    ),
    RelType("ABOUT", ("Alert",), ALERT_SUBJECTS, contract=False),
    RelType("RAISED_LEAD", ("Alert",), ("Lead",), contract=False),
)

NODE_BY_LABEL: dict[str, NodeType] = {n.label: n for n in NODES}
REL_BY_TYPE: dict[str, RelType] = {r.type: r for r in RELATIONSHIPS}


def node(label: str) -> NodeType:
    """The node type for `label`; KeyError names the label when it is not in the model."""
    try:
        return NODE_BY_LABEL[label]
    except KeyError:
        raise KeyError(f"unknown label {label!r}; the model has {sorted(NODE_BY_LABEL)}") from None


def rel(rel_type: str) -> RelType:
    try:
        return REL_BY_TYPE[rel_type]
    except KeyError:
        raise KeyError(
            f"unknown relationship type {rel_type!r}; the model has {sorted(REL_BY_TYPE)}"
        ) from None


def check_label(label: str) -> str:
    """Return `label` if the model declares it, so it can be put into Cypher text."""
    return node(label).label


def check_rel_type(rel_type: str) -> str:
    return rel(rel_type).type


def check_model() -> None:
    """Cross-check the model: every relationship endpoint is a declared label."""
    for r in RELATIONSHIPS:
        for label in (*r.sources, *r.targets):
            if label not in NODE_BY_LABEL:
                raise ValueError(f"relationship {r.type} names unknown label {label}")
    for n in NODES:
        for prop in (*n.indexed, *n.fulltext, *n.caption):
            if prop not in n.properties and prop != n.key:
                raise ValueError(f"{n.label}.{prop} is indexed or shown but not declared")


check_model()
