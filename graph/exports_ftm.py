"""A selection (`graph.exports`) as FollowTheMoney entities, the format OCCRP's Aleph reads.

Every entity is made and filled through the `followthemoney` model, so a value its type
does not accept (a date that is no date, a URL that is no URL) is dropped by the model's
own cleaning rather than written. Entity ids are the graph's keys, namespaced and stable
across exports (`entity_id`). Mapping (docs/exports.md says why):

- sellers: `Person` (kind `person`), `Company` (kind `company`), else `LegalEntity`, with
  their phones, e-mail addresses and registered address when the selection holds them;
  persons: `Person`; brands: `Company`; agencies: `PublicBody`;
- identities: `Identification`, whose number is the identity's HMAC as the graph keeps
  it (the number itself is never in the graph, so it is never in an export);
- shops: `UserAccount` (owner: its seller) with the addresses it ships from and returns to;
- payout accounts: `BankAccount`, with an `Ownership` per seller paid to it and person
  owning it;
- transfers between accounts: `Payment` between the accounts' owners (an `UnknownLink`
  between the two accounts when either owner is not in the selection);
- test purchases: `Payment` from the brand to the seller behind the listing bought, the
  listing's title, price and address in it (an `UnknownLink` from the brand to the shop
  when the seller is not in the selection);
- sites: `RealEstate` at their `Address`; addresses: `Address`;
- cases: `CourtCase`, with a `CourtCaseParty` per suspect, handling agency and brand, and
  an `UnknownLink` to each site raided;
- shared identifiers, a person controlling a seller or running a site, probable matches:
  `UnknownLink`, its role saying which.
Listings, complaints, shipments, devices, leads and networks are not entities of their
own (docs/exports.md).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import orjson

from graph.exports import Item, Link, Selection, Shared

if TYPE_CHECKING:
    from followthemoney.model import Model
    from followthemoney.proxy import EntityProxy

NAMESPACE = "ag"
_SAFE_KEY = re.compile(r"[0-9A-Za-z]([0-9A-Za-z.-]{0,62}[0-9A-Za-z])?")
_HASHED = frozenset({"Identity", "Phone", "Email", "PaymentAccount", "Device", "Address"})
"""Labels whose keys go into an entity id only as a digest (personal data, or long text)."""


def entity_id(label: str, key: str) -> str:
    """`ag-<label>-<key>`, or `ag-<label>-x<digest>` when the key is personal data or not
    made of letters, digits, dots and dashes: the same node always gets the same id."""
    name = label.lower()
    if label not in _HASHED and _SAFE_KEY.fullmatch(key):
        return f"{NAMESPACE}-{name}-{key}"
    digest = hashlib.sha256(f"{label}\x00{key}".encode()).hexdigest()[:32]
    return f"{NAMESPACE}-{name}-x{digest}"


def _link_id(kind: str, *parts: str) -> str:
    digest = hashlib.sha256("\x00".join((kind, *parts)).encode()).hexdigest()[:32]
    return f"{NAMESPACE}-{kind}-x{digest}"


@lru_cache(maxsize=1)
def ftm_model() -> Model:
    """The FollowTheMoney model, loaded on first use (it reads its schemata from files, a
    few seconds that no other command and no other route should pay)."""
    from followthemoney import model

    return model


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


class Builder:
    """Entities of one selection, by id; the links of the selection looked up by ref."""

    def __init__(self, selection: Selection) -> None:
        self.selection = selection
        self.items = {i.ref: i for i in selection.items}
        self.entities: dict[str, EntityProxy] = {}
        self.out: dict[tuple[str, str], list[Link]] = {}
        self.into: dict[tuple[str, str], list[Link]] = {}
        for lk in selection.links:
            self.out.setdefault(lk.source, []).append(lk)
            self.into.setdefault(lk.target, []).append(lk)

    def make(self, schema: str, entity: str, **props: Any) -> EntityProxy:
        proxy = ftm_model().make_entity(schema)
        proxy.id = entity
        for prop, value in props.items():
            if value is not None and value != "":
                proxy.add(prop, value if isinstance(value, list) else _text(value))
        self.entities[entity] = proxy
        return proxy

    def ref_id(self, ref: tuple[str, str]) -> str | None:
        """The entity id of a node of the selection that is an entity, else None."""
        eid = entity_id(*ref)
        return eid if eid in self.entities else None

    def targets(self, ref: tuple[str, str], rel: str) -> list[Item]:
        return [self.items[lk.target] for lk in self.out.get(ref, []) if lk.type == rel
                and lk.target in self.items]

    def sources(self, ref: tuple[str, str], rel: str) -> list[Item]:
        return [self.items[lk.source] for lk in self.into.get(ref, []) if lk.type == rel
                and lk.source in self.items]


# --- nodes ----------------------------------------------------------------------------


def _address(b: Builder, i: Item) -> None:
    p = i.props
    full = p.get("normalized") or p.get("raw") or i.key
    b.make("Address", entity_id(i.label, i.key), full=full, name=full, city=p.get("city"),
           region=p.get("province"), country="cn")


def _seller(b: Builder, i: Item) -> None:
    p = i.props
    schema = {"person": "Person", "company": "Company"}.get(p.get("kind") or "", "LegalEntity")
    name = p.get("legal_name") or p.get("nickname") or i.key
    alias = p.get("nickname") if p.get("legal_name") else None
    summary = f"{p.get('platform') or 'platform'} seller {i.key}"
    b.make(schema, entity_id(i.label, i.key), name=name, alias=alias, status=p.get("status"),
           summary=summary, **_contacts(b, i))


def _contacts(b: Builder, i: Item) -> dict[str, Any]:
    phones = [x.key for x in b.targets(i.ref, "HAS_PHONE")]
    emails = [x.key for x in b.targets(i.ref, "HAS_EMAIL")]
    addresses = [entity_id(x.label, x.key) for x in b.targets(i.ref, "REGISTERED_AT")]
    return {"phone": phones, "email": emails, "addressEntity": addresses}


def _person(b: Builder, i: Item) -> None:
    b.make("Person", entity_id(i.label, i.key), name=i.props.get("name") or i.key, **_contacts(b, i))


def _brand(b: Builder, i: Item) -> None:
    p = i.props
    b.make("Company", entity_id(i.label, i.key), name=p.get("name") or p.get("name_zh") or i.key,
           alias=p.get("name_zh") if p.get("name") else None, country=p.get("country"),
           summary=f"brand {i.key}" + (f", owned by {p['owner']}" if p.get("owner") else ""))


def _agency(b: Builder, i: Item) -> None:
    p = i.props
    b.make("PublicBody", entity_id(i.label, i.key), name=p.get("name") or i.key, country="cn",
           summary=" ".join(str(x) for x in (p.get("unit"), p.get("level"), p.get("adcode")) if x))


def _shop(b: Builder, i: Item) -> None:
    p = i.props
    owners = [entity_id(x.label, x.key) for x in b.sources(i.ref, "OPERATES")]
    addresses = [entity_id(x.label, x.key) for rel in ("SHIPS_FROM", "RETURNS_TO")
                 for x in b.targets(i.ref, rel)]
    b.make("UserAccount", entity_id(i.label, i.key), username=p.get("name") or i.key,
           service=p.get("platform"), owner=owners, sourceUrl=p.get("url"),
           addressEntity=addresses, summary=f"shop {i.key}, {p.get('status') or 'status unknown'}")


def _account(b: Builder, i: Item) -> None:
    b.make("BankAccount", entity_id(i.label, i.key), accountNumber=i.key,
           bankName=i.props.get("provider"))


def _identity(b: Builder, i: Item) -> None:
    holders = [*b.sources(i.ref, "VERIFIED_AS"), *b.sources(i.ref, "HOLDS")]
    for h in holders:
        b.make("Identification", _link_id("identification", i.key, h.label, h.key),
               holder=entity_id(h.label, h.key), number=i.key, type=i.props.get("kind"),
               summary="the HMAC of the identity number as the graph keeps it, not the number")


def _site(b: Builder, i: Item) -> None:
    p = i.props
    addresses = [entity_id(x.label, x.key) for x in b.targets(i.ref, "LOCATED_AT")]
    b.make("RealEstate", entity_id(i.label, i.key), name=p.get("label") or i.key,
           propertyType=p.get("kind"), addressEntity=addresses,
           summary=f"site {i.key}, {p.get('status') or 'status unknown'}",
           createDate=p.get("first_seen"))


def _case(b: Builder, i: Item) -> None:
    p = i.props
    figures = ", ".join(f"{k} {p[k]}" for k in ("arrests", "dens_destroyed", "seized_value_cny",
                                                  "case_value_cny") if p.get(k) is not None)
    b.make("CourtCase", entity_id(i.label, i.key), name=p.get("title") or i.key, caseNumber=i.key,
           fileDate=p.get("opened_on"), status=p.get("status"), category=p.get("charge"),
           summary=figures or None)


NODE_MAKERS = {"Address": _address, "Seller": _seller, "Person": _person, "Brand": _brand,
               "Agency": _agency, "Shop": _shop, "PaymentAccount": _account, "Site": _site,
               "Case": _case}
"""Entities made from one node, in this order (addresses first: others point to them)."""
AFTER_NODES = {"Identity": _identity}


# --- relationships --------------------------------------------------------------------


def _unknown(b: Builder, a: str, c: str, role: str, **props: Any) -> None:
    b.make("UnknownLink", _link_id("link", role, a, c), subject=a, object=c, role=role, **props)


def _ownership(b: Builder, lk: Link, role: str) -> None:
    owner, asset = b.ref_id(lk.source), b.ref_id(lk.target)
    if owner and asset:
        b.make("Ownership", _link_id("ownership", owner, asset), owner=owner, asset=asset, role=role)


def _owner_of(b: Builder, account: tuple[str, str]) -> str | None:
    owners = sorted(entity_id(x.label, x.key) for rel in ("PAID_TO", "OWNS")
                    for x in b.sources(account, rel))
    return next((o for o in owners if o in b.entities), None)


def _transfer(b: Builder, lk: Link) -> None:
    src, dst = b.ref_id(lk.source), b.ref_id(lk.target)
    if not (src and dst):
        return
    p = lk.props
    payer, beneficiary = _owner_of(b, lk.source), _owner_of(b, lk.target)
    summary = f"{p['count']} transfers" if p.get("count") is not None else None
    if payer and beneficiary:
        b.make("Payment", _link_id("payment", src, dst), payer=payer, beneficiary=beneficiary,
               payerAccount=src, beneficiaryAccount=dst, amount=p.get("total_cny"), currency="CNY",
               startDate=p.get("first_on"), endDate=p.get("last_on"), summary=summary)
    else:
        _unknown(b, src, dst, "transferred to", startDate=p.get("first_on"), endDate=p.get("last_on"),
                 summary=summary)


def _purchase(b: Builder, i: Item) -> None:
    p = i.props
    brands = [entity_id(x.label, x.key) for x in b.targets(i.ref, "AUTHENTICATED_BY")]
    listings = b.targets(i.ref, "BOUGHT")
    shops = [s for lst in listings for s in b.sources(lst.ref, "OFFERS")]
    sellers = [entity_id(x.label, x.key) for s in shops for x in b.sources(s.ref, "OPERATES")]
    payer = next((x for x in brands if x in b.entities), None)
    beneficiary = next((x for x in sellers if x in b.entities), None)
    listing = listings[0].props if listings else {}
    verdict = ", ".join(f"{k} {p[k]}" for k in ("verdict", "verdict_on", "report_no") if p.get(k))
    facts = {"summary": f"test purchase {i.key}" + (f": {verdict}" if verdict else ""),
             "description": listing.get("title"), "sourceUrl": listing.get("url")}
    if payer and beneficiary:
        b.make("Payment", entity_id(i.label, i.key), payer=payer, beneficiary=beneficiary,
               date=p.get("ordered_on"), amount=listing.get("price"), currency=listing.get("currency"),
               purpose="test purchase", **facts)
        return
    shop = next((entity_id(s.label, s.key) for s in shops if entity_id(s.label, s.key) in b.entities), None)
    if payer and shop:
        _unknown(b, payer, shop, "test purchase", date=p.get("ordered_on"), **facts)


def _party(b: Builder, lk: Link, role: str, case_first: bool = True) -> None:
    case, party = (lk.source, lk.target) if case_first else (lk.target, lk.source)
    cid, pid = b.ref_id(case), b.ref_id(party)
    if cid and pid:
        b.make("CourtCaseParty", _link_id("party", cid, pid, role), case=cid, party=pid, role=role)


def _linked(b: Builder, lk: Link, role: str, **props: Any) -> None:
    a, c = b.ref_id(lk.source), b.ref_id(lk.target)
    if a and c:
        _unknown(b, a, c, role, **props)


def _raid(b: Builder, lk: Link) -> None:
    p = lk.props
    figures = ", ".join(f"{k} {p[k]}" for k in ("arrests", "dens_destroyed", "seized_value_cny")
                        if p.get(k) is not None)
    _linked(b, lk, "raided", date=p.get("raided_on"), summary=figures or None)


def _probable(b: Builder, lk: Link) -> None:
    p = lk.props
    if p.get("decision") == "rejected":
        return
    summary = f"probability {p['probability']}" if p.get("probability") is not None else None
    _linked(b, lk, "probably the same seller", summary=summary)


LINK_MAKERS = {
    "PAID_TO": lambda b, lk: _ownership(b, lk, "payouts"),
    "OWNS": lambda b, lk: _ownership(b, lk, "owner"),
    "TRANSFERRED_TO": _transfer,
    "NAMES_SUSPECT": lambda b, lk: _party(b, lk, "suspect"),
    "HANDLED_BY": lambda b, lk: _party(b, lk, "handling agency"),
    "CONCERNS_BRAND": lambda b, lk: _party(b, lk, "rights holder"),
    "RAIDED": _raid,
    "CONTROLS": lambda b, lk: _linked(b, lk, "controls"),
    "RUNS": lambda b, lk: _linked(b, lk, "runs"),
    "PROBABLY_SAME": _probable,
}


def _shared(b: Builder, s: Shared) -> None:
    a, c = entity_id("Seller", s.a), entity_id("Seller", s.b)
    if a in b.entities and c in b.entities:
        shown = "" if s.key is None else f" {s.key}"
        b.make("UnknownLink", _link_id("shared", a, c, s.kind, s.key or ""), subject=a, object=c,
               role=f"shared {s.kind.replace('_', ' ')}", summary=f"both hold {s.kind}{shown}")


# --- the whole selection --------------------------------------------------------------


def entities(selection: Selection) -> list[EntityProxy]:
    """Every entity of the selection, in a stable order."""
    b = Builder(selection)
    for label, maker in NODE_MAKERS.items():
        for i in selection.items:
            if i.label == label:
                maker(b, i)
    for i in selection.items:
        if i.label in AFTER_NODES:
            AFTER_NODES[i.label](b, i)
        elif i.label == "TestPurchase":
            _purchase(b, i)
    for lk in selection.links:
        make = LINK_MAKERS.get(lk.type)
        if make is not None:
            make(b, lk)
    for s in selection.shared:
        _shared(b, s)
    return [b.entities[k] for k in sorted(b.entities)]


def lines(selection: Selection) -> Iterator[bytes]:
    """The entities as JSON lines (one entity per line, UTF-8)."""
    for proxy in entities(selection):
        yield orjson.dumps(proxy.to_dict(), option=orjson.OPT_SORT_KEYS) + b"\n"
