"""A lead's dossier: the evidence package a police liaison files.

It gathers, for one lead the caller may see: the lead and its brands, agency and
cases; its subjects (sellers, shops, sites, persons) with their stored networks; the
traces from its seller and shop subjects to offline sites with their evidence paths; the
test purchases, complaints and shipments; the timeline of status events; the estimated
value against the prosecution thresholds; and `conflicts`, other open leads and cases
on the same sellers, networks or sites. A manifest lists every item with the SHA-256 of
its canonical JSON, and the SHA-256 of the manifest itself, so a printed or filed copy
can be checked item by item.

What a dossier shows is what its reader may see: every node it would show (subjects,
evidence, shipments, networks, addresses, cases, events, conflicts, each node of a
trace path) is checked with the reader's own rule of `api.scope`, in Cypher, by one
small query per label (`visible_keys_query`), and only what passes is shown; so
attaching a subject to a lead never widens what anyone sees. A brand member's dossier
shows its own evidence and the shops it targets, not the sellers, persons, sites,
addresses or shipments behind them; a liaison's shows the subjects and evidence of its
leads. On trace paths, each node the
reader may not see (identifiers for every role but investigators and admins) is shown
as `masked`, and sites the reader may not see are left out. Analysts read aggregates
only and get no dossier. Every dossier read is audited (`dossier.read`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, LiteralString, cast

import strawberry

from api import scope
from api.context import Context
from api.dossier_timeline import TimelineEvent, timeline
from api.investigation import SourceTrace, TraceNode, source_trace
from api.values import plain
from core.errors import Forbidden, NotFound
from graph import access, audit, trace
from graph.lifecycle import OPEN_CASE_STATUSES, OPEN_LEAD_STATUSES, Thresholds

TRACED_SUBJECTS = 5
"""Seller and shop subjects traced to sites (the first ones by key)."""
TRACES_PER_SUBJECT = 3
MAX_SHIPMENTS = 50
MASKED = "masked"


@strawberry.type
class DossierAgency:
    agency_id: strawberry.ID
    name: str | None
    level: str | None
    adcode: str | None
    pushed_on: str | None


@strawberry.type
class DossierRaid:
    site_id: str | None = strawberry.field(description="Null when the reader may not see the site.")
    raided_on: str | None
    seized_value_cny: float | None
    arrests: int | None
    dens_destroyed: int | None


@strawberry.type
class DossierCase:
    case_id: strawberry.ID
    status: str | None
    title: str | None
    opened_on: str | None
    agency_id: str | None
    raids: list[DossierRaid]


@strawberry.type
class DossierSubject:
    label: str
    key: str
    caption: str | None
    status: str | None
    network_id: str | None
    network_size: int | None
    network_risk: float | None
    address: str | None
    adcode: str | None


@strawberry.type
class DossierTrace:
    subject: TraceNode
    sites: list[SourceTrace]


@strawberry.type
class DossierPurchase:
    purchase_id: strawberry.ID
    listing_id: str | None
    brand_id: str | None
    ordered_on: str | None
    verdict: str | None
    verdict_on: str | None
    report_no: str | None
    shipment_id: str | None


@strawberry.type
class DossierComplaint:
    complaint_id: strawberry.ID
    brand_id: str | None
    kind: str | None
    outcome: str | None
    filed_on: str | None
    resolved_on: str | None
    target: str | None


@strawberry.type
class DossierShipment:
    shipment_id: strawberry.ID
    carrier: str | None
    waybill_no: str | None
    shipped_on: str | None
    origin: str | None
    origin_adcode: str | None
    shop_id: str | None


@strawberry.type(description="A brand or agency the dossier names by its id.")
class DossierName:
    label: str
    key: str
    name: str | None
    name_zh: str | None


@strawberry.type
class ValueAssessment:
    estimated_value_cny: float | None
    filing_threshold_cny: float
    serious_threshold_cny: float
    level: str = strawberry.field(description="unknown, below_filing_threshold, "
                                              "above_filing_threshold or especially_serious.")


@strawberry.type(description="Another open lead or case touching the same sellers, networks or sites.")
class Conflict:
    kind: str
    id: strawberry.ID
    status: str | None
    brand_ids: list[str]
    agency_id: str | None
    via: list[str] = strawberry.field(description="What is shared: `seller:S1`, `network:N..`, `site:X`.")


@strawberry.type
class ManifestItem:
    kind: str
    id: str
    sha256: str


@strawberry.type
class Manifest:
    algorithm: str
    items: list[ManifestItem]
    sha256: str = strawberry.field(description="SHA-256 of the lines `kind id sha256`, in order.")


@strawberry.type
class Dossier:
    lead_id: strawberry.ID
    title: str | None
    status: str | None
    created_on: str | None
    pushed_on: str | None
    note: str | None
    brand_ids: list[str]
    agencies: list[DossierAgency]
    cases: list[DossierCase]
    subjects: list[DossierSubject]
    traces: list[DossierTrace]
    test_purchases: list[DossierPurchase]
    complaints: list[DossierComplaint]
    shipments: list[DossierShipment]
    timeline: list[TimelineEvent] = strawberry.field(
        description="Every dated event of the lead, its subjects and its evidence, in time order.")
    names: list[DossierName] = strawberry.field(
        description="The names of the brands and agencies the dossier names by id.")
    value: ValueAssessment
    conflicts: list[Conflict]
    manifest: Manifest
    generated_at: str
    generated_for: str


# --- Cypher ---------------------------------------------------------------------------

SUBJECT_LABELS = ("Seller", "Shop", "Site", "Person")
"""What a lead concerns."""

_LEAD: LiteralString = """
MATCH (l:Lead {lead_id: $lead_id}) WHERE %(visible)s
RETURN l {.*} AS lead,
  [(l)-[:ON_BEHALF_OF]->(b:Brand) | b.brand_id] AS brands,
  [(l)-[p:PUSHED_TO]->(a:Agency) | a {.agency_id, .name, .level, .adcode, pushed_on: p.pushed_on}]
    AS agencies,
  [(l)-[:BECAME]->(c:Case) | c {.case_id, .status, .title, .opened_on,
     agency_id: [(c)-[:HANDLED_BY]->(a:Agency) | a.agency_id][0],
     events: [(c)-[:HAS_EVENT]->(e:StatusEvent) | e {.*}],
     raids: [(c)-[r:RAIDED]->(x:Site) | {site_id: x.site_id, raided_on: r.raided_on,
             seized_value_cny: r.seized_value_cny, arrests: r.arrests, dens_destroyed: r.dens_destroyed}]}]
    AS cases,
  [(l)-[:HAS_EVENT]->(e:StatusEvent) | e {.*}] AS events,
  [(l)-[:CONCERNS]->(s) | {label: labels(s)[0], props: properties(s),
     network: [(s)-[:IN_NETWORK]->(n:Network) | n {.network_id, .size, .risk_score}][0],
     address: [(s)-[:LOCATED_AT]->(ad:Address) | ad {.address_key, text: coalesce(ad.normalized, ad.raw),
               adcode: [(ad)-[:IN_DIVISION]->(d:Division) | d.adcode][0]}][0]}]
    AS subjects,
  [(l)-[:EVIDENCED_BY]->(tp:TestPurchase) | tp {.*,
     listing_id: [(tp)-[:BOUGHT]->(x:Listing) | x.listing_id][0],
     brand_id: [(tp)-[:AUTHENTICATED_BY]->(b:Brand) | b.brand_id][0],
     shipment_id: [(tp)-[:DELIVERED_BY]->(sh:Shipment) | sh.shipment_id][0]}] AS purchases,
  [(l)-[:EVIDENCED_BY]->(c:Complaint) | c {.*,
     brand_id: [(b:Brand)-[:FILED]->(c) | b.brand_id][0],
     target: [(c)-[:AGAINST]->(t) | {label: labels(t)[0], key: coalesce(t.listing_id, t.shop_id)}][0]}]
    AS complaints,
  [(l)-[:EVIDENCED_BY]->(:TestPurchase)-[:DELIVERED_BY]->(sh:Shipment) | sh.shipment_id] +
  [(l)-[:CONCERNS]->(:Shop)<-[:SENT_BY]-(sh:Shipment) | sh.shipment_id] AS shipment_ids
"""

SHIPMENTS_QUERY: LiteralString = """
UNWIND $ids AS id
MATCH (sh:Shipment {shipment_id: id})
RETURN sh {.shipment_id, .carrier, .waybill_no, .shipped_on,
  origin: [(sh)-[:ORIGINATES_AT]->(ad:Address) | ad {.address_key, text: coalesce(ad.normalized, ad.raw),
           adcode: [(ad)-[:IN_DIVISION]->(d:Division) | d.adcode][0]}][0],
  shop_id: [(sh)-[:SENT_BY]->(s:Shop) | s.shop_id][0]} AS shipment
ORDER BY shipment.shipment_id
"""

NAMES_QUERY: LiteralString = """
UNWIND $brands AS k MATCH (b:Brand {brand_id: k})
RETURN 'Brand' AS label, k AS key, b.name AS name, b.name_zh AS name_zh
UNION ALL
UNWIND $agencies AS k MATCH (a:Agency {agency_id: k})
RETURN 'Agency' AS label, k AS key, a.name AS name, null AS name_zh
"""
"""The names of brands and agencies, asked only for those the reader may see."""

_CONFLICTS: LiteralString = """
MATCH (l:Lead {lead_id: $lead_id}) WHERE %(visible)s
CALL (l) {
  MATCH (l)-[:CONCERNS]->(s:Seller) RETURN s
  UNION
  MATCH (l)-[:CONCERNS]->(:Shop)<-[:OPERATES]-(s:Seller) RETURN s
}
WITH l, collect(s) AS sellers
CALL (l, sellers) {
  UNWIND sellers AS s
  MATCH (s)<-[:CONCERNS]-(o:Lead) WHERE o <> l
  RETURN o, {label: 'Seller', key: s.seller_id, text: 'seller:' + s.seller_id} AS via
  UNION
  UNWIND sellers AS s
  MATCH (s)-[:OPERATES]->(:Shop)<-[:CONCERNS]-(o:Lead) WHERE o <> l
  RETURN o, {label: 'Seller', key: s.seller_id, text: 'seller:' + s.seller_id} AS via
  UNION
  MATCH (l)-[:CONCERNS]->(x:Shop)<-[:CONCERNS]-(o:Lead) WHERE o <> l
  RETURN o, {label: 'Shop', key: x.shop_id, text: 'shop:' + x.shop_id} AS via
  UNION
  UNWIND sellers AS s
  MATCH (s)-[:IN_NETWORK]->(n:Network)<-[:IN_NETWORK]-(t:Seller)<-[:CONCERNS]-(o:Lead)
  WHERE o <> l AND t <> s
  RETURN o, {label: 'Network', key: n.network_id, text: 'network:' + n.network_id} AS via
  UNION
  MATCH (l)-[:CONCERNS]->(x:Site)<-[:CONCERNS]-(o:Lead) WHERE o <> l
  RETURN o, {label: 'Site', key: x.site_id, text: 'site:' + x.site_id} AS via
}
WITH l, o, collect(DISTINCT via) AS vias
WHERE o IS NOT NULL AND o.status IN $open_leads
RETURN 'lead' AS kind, 'Lead' AS label, o.lead_id AS id, o.status AS status, vias,
  [(o)-[:ON_BEHALF_OF]->(b:Brand) | b.brand_id] AS brands,
  [(o)-[:PUSHED_TO]->(a:Agency) | a.agency_id][0] AS agency_id
UNION
MATCH (l:Lead {lead_id: $lead_id}) WHERE %(visible)s
CALL (l) {
  MATCH (l)-[:CONCERNS]->(x:Site)<-[:RAIDED]-(c:Case)
  RETURN c, {label: 'Site', key: x.site_id, text: 'site:' + x.site_id} AS via
  UNION
  MATCH (l)-[:CONCERNS]->(p:Person)<-[:NAMES_SUSPECT]-(c:Case)
  RETURN c, {label: 'Person', key: p.person_id, text: 'person:' + p.person_id} AS via
  UNION
  MATCH (l)-[:CONCERNS]->(x)<-[:CONCERNS]-(o:Lead)-[:BECAME]->(c:Case) WHERE o <> l
  WITH c, labels(x)[0] AS label, coalesce(x.seller_id, x.shop_id, x.site_id, x.person_id) AS key
  RETURN c, {label: label, key: key, text: label + ':' + key} AS via
}
WITH l, c, collect(DISTINCT via) AS vias
WHERE c.status IN $open_cases AND NOT (l)-[:BECAME]->(c)
RETURN 'case' AS kind, 'Case' AS label, c.case_id AS id, c.status AS status, vias,
  [(c)-[:CONCERNS_BRAND]->(b:Brand) | b.brand_id] AS brands,
  [(c)-[:HANDLED_BY]->(a:Agency) | a.agency_id][0] AS agency_id
"""

@lru_cache(maxsize=8)
def lead_query(who: scope.Kind) -> LiteralString:
    """The lead's neighbourhood as it is, for a lead a caller of kind `who` may see; what
    of it the reader may see is decided by `visible_keys_query`, with the reader's own
    rules, before anything is shown."""
    return cast(LiteralString, _LEAD % {"visible": scope.visible_as(who, "Lead", "l")})


@lru_cache(maxsize=8)
def conflicts_query(who: scope.Kind) -> LiteralString:
    return cast(LiteralString, _CONFLICTS % {"visible": scope.visible_as(who, "Lead", "l")})

DOSSIER_LABELS = frozenset({"Brand", "Agency", "Lead", "Case", "StatusEvent", "Seller", "Shop", "Site",
                            "Person", "Network", "Address", "TestPurchase", "Complaint", "Listing",
                            "Shipment", *scope.SENSITIVE_LABELS})
"""The labels a dossier shows nodes of; a node of another label is never shown (masked
on a trace path)."""


@lru_cache(maxsize=128)
def visible_keys_query(who: scope.Kind, label: str) -> LiteralString:
    """Which nodes of `label` the reader may see (`api.scope`): one small query per label
    and kind of caller, each planned once (the same checks written into every part of the
    dossier's queries took over a minute to plan for a liaison)."""
    return cast(LiteralString, scope.visible_keys(who, label))


class Seen:
    """The nodes of a dossier the reader may see, from one `visible_refs_query`."""

    def __init__(self, refs: set[tuple[str, str]]) -> None:
        self.refs = refs

    def __call__(self, label: str, key: Any) -> bool:
        return key is not None and (label, str(key)) in self.refs


class Refs:
    """The nodes a dossier would show, by label, to ask which the reader may see."""

    def __init__(self) -> None:
        self.keys: dict[str, set[str]] = {}

    def add(self, label: str, key: Any) -> None:
        if key is not None and label in DOSSIER_LABELS:
            self.keys.setdefault(label, set()).add(str(key))

    async def seen(self, ctx: Context) -> Seen:
        who = scope.kind(ctx.caller)

        async def one(label: str, keys: set[str]) -> set[tuple[str, str]]:
            if scope.visible_as(who, label, "n") == "false":
                return set()  # the rule passes no node of this label: nothing to ask
            records = await access.read_async(ctx.driver, ctx.database, visible_keys_query(who, label),
                                              {"keys": sorted(keys), **ctx.scope},
                                              timeout=ctx.timeout, name="lead:dossier-scope")
            return {(label, r["key"]) for r in records}

        found = await asyncio.gather(*(one(label, keys) for label, keys in self.keys.items()))
        return Seen(set().union(*found))


# --- building -------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    value = plain(value)
    return None if value is None else str(value)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def subject_key(row: dict[str, Any]) -> str:
    props = row["props"]
    return next((str(props[k]) for k in ("seller_id", "shop_id", "site_id", "person_id") if k in props), "")


def _subject(row: dict[str, Any], seen: Seen) -> DossierSubject:
    props = row["props"]
    net = row["network"] if row["network"] and seen("Network", row["network"]["network_id"]) else {}
    ad = row["address"] if row["address"] and seen("Address", row["address"]["address_key"]) else {}
    caption = props.get("nickname") or props.get("name") or props.get("label") or props.get("legal_name")
    return DossierSubject(
        label=row["label"], key=subject_key(row), caption=_text(caption), status=_text(props.get("status")),
        network_id=net.get("network_id"), network_size=net.get("size"),
        network_risk=_float(net.get("risk_score")), address=ad.get("text"), adcode=ad.get("adcode"))


def _purchase(p: dict[str, Any], seen: Seen) -> DossierPurchase:
    return DossierPurchase(
        purchase_id=strawberry.ID(p["purchase_id"]),
        listing_id=p["listing_id"] if seen("Listing", p["listing_id"]) else None,
        brand_id=p["brand_id"] if seen("Brand", p["brand_id"]) else None,
        ordered_on=_text(p.get("ordered_on")), verdict=p.get("verdict"),
        verdict_on=_text(p.get("verdict_on")), report_no=p.get("report_no"),
        shipment_id=p["shipment_id"] if seen("Shipment", p["shipment_id"]) else None)


def _complaint(c: dict[str, Any], seen: Seen) -> DossierComplaint:
    t = c["target"]
    target = f"{t['label']}:{t['key']}" if t and seen(t["label"], t["key"]) else None
    return DossierComplaint(
        complaint_id=strawberry.ID(c["complaint_id"]), brand_id=c["brand_id"] if seen("Brand", c["brand_id"])
        else None, kind=c.get("kind"), outcome=c.get("outcome"), filed_on=_text(c.get("filed_on")),
        resolved_on=_text(c.get("resolved_on")), target=target)


def _shipment(s: dict[str, Any], seen: Seen) -> DossierShipment:
    origin = s["origin"] if s["origin"] and seen("Address", s["origin"]["address_key"]) else {}
    return DossierShipment(
        shipment_id=strawberry.ID(s["shipment_id"]), carrier=s.get("carrier"),
        waybill_no=s.get("waybill_no"), shipped_on=_text(s.get("shipped_on")), origin=origin.get("text"),
        origin_adcode=origin.get("adcode"), shop_id=s["shop_id"] if seen("Shop", s["shop_id"]) else None)


def _agency(a: dict[str, Any]) -> DossierAgency:
    return DossierAgency(agency_id=strawberry.ID(a["agency_id"]), name=a.get("name"), level=a.get("level"),
                         adcode=a.get("adcode"), pushed_on=_text(a.get("pushed_on")))


def _case(c: dict[str, Any], seen: Seen) -> DossierCase:
    agency = c.get("agency_id")
    raids = sorted((DossierRaid(site_id=r["site_id"] if seen("Site", r["site_id"]) else None,
                                raided_on=_text(r.get("raided_on")),
                                seized_value_cny=_float(r.get("seized_value_cny")),
                                arrests=r.get("arrests"), dens_destroyed=r.get("dens_destroyed"))
                    for r in c.get("raids") or []), key=lambda r: (r.raided_on or "", r.site_id or ""))
    return DossierCase(case_id=strawberry.ID(c["case_id"]), status=c.get("status"), title=c.get("title"),
                       opened_on=_text(c.get("opened_on")),
                       agency_id=agency if seen("Agency", agency) else None, raids=raids)


def conflict(r: Any, seen: Seen) -> Conflict | None:
    """The conflict as far as the reader may see it: None when it may not see the other
    lead or case, or none of what is shared."""
    vias = sorted(v["text"] for v in r["vias"] if seen(v["label"], v["key"]))
    if not vias or not seen(r["label"], r["id"]):
        return None
    return Conflict(kind=r["kind"], id=strawberry.ID(r["id"]), status=r["status"],
                    brand_ids=sorted(b for b in r["brands"] if seen("Brand", b)),
                    agency_id=r["agency_id"] if seen("Agency", r["agency_id"]) else None, via=vias)


def thresholds() -> Thresholds:
    from core.settings import get_settings

    s = get_settings()
    return Thresholds(filing_cny=s.alliance_threshold_filing_cny,
                      serious_cny=s.alliance_threshold_serious_cny)


def value_assessment(estimated: float | None) -> ValueAssessment:
    t = thresholds()
    return ValueAssessment(estimated_value_cny=estimated, filing_threshold_cny=t.filing_cny,
                           serious_threshold_cny=t.serious_cny, level=t.assess(estimated))


async def conflict_rows(ctx: Context, lead_id: str) -> list[Any]:
    """The other open leads and cases on the lead's subjects, before the reader's rules."""
    return list(await access.read_async(
        ctx.driver, ctx.database, conflicts_query(scope.kind(ctx.caller)),
        {"lead_id": lead_id, "open_leads": list(OPEN_LEAD_STATUSES),
         "open_cases": list(OPEN_CASE_STATUSES), **ctx.scope},
        timeout=ctx.timeout, name="lead:conflicts"))


def add_conflict_refs(refs: Refs, records: list[Any]) -> None:
    for r in records:
        refs.add(r["label"], r["id"])
        refs.add("Agency", r["agency_id"])
        for b in r["brands"]:
            refs.add("Brand", b)
        for v in r["vias"]:
            refs.add(v["label"], v["key"])


def conflicts_seen(records: list[Any], seen: Seen) -> list[Conflict]:
    found = [c for c in (conflict(r, seen) for r in records) if c is not None]
    return sorted(found, key=lambda c: (c.kind, str(c.id)))


async def fetch_conflicts(ctx: Context, lead_id: str) -> list[Conflict]:
    records = await conflict_rows(ctx, lead_id)
    refs = Refs()
    add_conflict_refs(refs, records)
    return conflicts_seen(records, await refs.seen(ctx))


Traced = list[tuple[DossierSubject, list[SourceTrace]]]


async def _traces(ctx: Context, subjects: list[DossierSubject]) -> Traced:
    traced = [s for s in subjects if s.label in ("Seller", "Shop")][:TRACED_SUBJECTS]

    async def one(s: DossierSubject) -> list[SourceTrace]:
        option = {"seller_id": s.key} if s.label == "Seller" else {"shop_id": s.key}
        try:
            found = await trace.trace_to_source_async(
                ctx.driver, ctx.database, first=TRACES_PER_SUBJECT, timeout=ctx.timeout,
                name="lead:dossier-trace", **option)
        except LookupError:
            found = []
        return [source_trace(t) for t in found]

    return list(zip(traced, await asyncio.gather(*(one(s) for s in traced)), strict=True))


def add_trace_refs(refs: Refs, traces: list[SourceTrace]) -> None:
    for t in traces:
        refs.add("Site", t.site.site_id)
        for path in t.paths:
            for hop in path.hops:
                refs.add(hop.from_.label, hop.from_.key)
                refs.add(hop.to.label, hop.to.key)


def mask_trace(t: SourceTrace, seen: Seen) -> SourceTrace:
    """The trace with every node the reader may not see (personal identifiers for all
    but investigators and admins; other sellers, persons, addresses, ... as `api.scope`
    says) shown as `masked`: the path's shape and weight stay, who or what it is does not."""
    def node(n: TraceNode) -> TraceNode:
        if seen(n.label, n.key):
            return n
        return TraceNode(label=n.label, key=MASKED, caption=MASKED)

    for path in t.paths:
        for hop in path.hops:
            hop.from_, hop.to = node(hop.from_), node(hop.to)
    return t


async def build_dossier(ctx: Context, lead_id: str) -> Dossier:
    """The dossier of `lead_id` for the context's caller; NotFound when the caller may not
    see the lead, Forbidden for analysts. Not audited here (see `read_dossier`)."""
    if ctx.caller.role == "analyst":
        raise Forbidden("analysts read aggregates only (leadCounts, saved queries), not dossiers")
    records = await access.read_async(ctx.driver, ctx.database, lead_query(scope.kind(ctx.caller)),
                                      {"lead_id": lead_id, **ctx.scope},
                                      timeout=ctx.timeout, name="lead:dossier")
    if not records:
        raise NotFound(f"no lead {lead_id!r}")
    row = records[0]
    refs = lead_refs(row)
    first = await refs.seen(ctx)
    subjects = sorted((_subject(s, first) for s in row["subjects"] if first(s["label"], subject_key(s))),
                      key=lambda s: (s.label, s.key))
    shipment_ids = sorted({i for i in row["shipment_ids"] if first("Shipment", i)})[:MAX_SHIPMENTS]
    traces, conflict_records, shipments = await asyncio.gather(
        _traces(ctx, subjects), conflict_rows(ctx, lead_id), _fetch_shipments(ctx, shipment_ids))
    more = Refs()
    add_conflict_refs(more, conflict_records)
    for _, found in traces:
        add_trace_refs(more, found)
    for s in shipments:
        more.add("Address", s["origin"] and s["origin"]["address_key"])
        more.add("Shop", s["shop_id"])
    seen = Seen(first.refs | (await more.seen(ctx)).refs)
    dossier_traces = [
        DossierTrace(subject=TraceNode(label=s.label, key=s.key, caption=s.caption or s.key),
                     sites=[mask_trace(t, seen) for t in found if seen("Site", t.site.site_id)])
        for s, found in traces]
    dossier = _assemble(ctx, row, seen, subjects, dossier_traces, conflicts_seen(conflict_records, seen),
                        shipments)
    dossier.names = await fetch_names(ctx, dossier)
    dossier.manifest = manifest(dossier)
    return dossier


def lead_refs(row: Any) -> Refs:
    """Every node the lead's row would show."""
    refs = Refs()
    for b in row["brands"]:
        refs.add("Brand", b)
    for a in row["agencies"]:
        refs.add("Agency", a["agency_id"])
    for c in row["cases"]:
        refs.add("Case", c["case_id"])
        refs.add("Agency", c.get("agency_id"))
        for r in c.get("raids") or []:
            refs.add("Site", r["site_id"])
        add_event_refs(refs, c.get("events") or [])
    add_event_refs(refs, row["events"])
    for s in row["subjects"]:
        refs.add(s["label"], subject_key(s))
        refs.add("Network", s["network"] and s["network"]["network_id"])
        refs.add("Address", s["address"] and s["address"]["address_key"])
    for p in row["purchases"]:
        for label, key in (("TestPurchase", p["purchase_id"]), ("Listing", p["listing_id"]),
                           ("Brand", p["brand_id"]), ("Shipment", p["shipment_id"])):
            refs.add(label, key)
    for c in row["complaints"]:
        refs.add("Complaint", c["complaint_id"])
        refs.add("Brand", c["brand_id"])
        if c["target"]:
            refs.add(c["target"]["label"], c["target"]["key"])
    for i in row["shipment_ids"]:
        refs.add("Shipment", i)
    return refs


def add_event_refs(refs: Refs, events: list[dict[str, Any]]) -> None:
    for e in events:
        refs.add("StatusEvent", e.get("event_id"))
        refs.add("Agency", e.get("agency_id"))
        refs.add("Brand", e.get("brand_id"))


async def fetch_names(ctx: Context, d: Dossier) -> list[DossierName]:
    """The names of every brand and agency the dossier names (the reader has seen each)."""
    brands, agencies = named_ids(d)
    if not brands and not agencies:
        return []
    records = await access.read_async(ctx.driver, ctx.database, NAMES_QUERY,
                                      {"brands": sorted(brands), "agencies": sorted(agencies)},
                                      timeout=ctx.timeout, name="lead:dossier-names")
    return sorted((DossierName(label=r["label"], key=r["key"], name=r["name"], name_zh=r["name_zh"])
                   for r in records), key=lambda n: (n.label, n.key))


def named_ids(d: Dossier) -> tuple[set[str], set[str]]:
    """The brand and agency ids a dossier shows (each already checked with the reader's rule)."""
    brands = {*d.brand_ids, *(p.brand_id for p in d.test_purchases), *(c.brand_id for c in d.complaints),
              *(b for c in d.conflicts for b in c.brand_ids), *(e.brand_id for e in d.timeline)}
    agencies = {*(str(a.agency_id) for a in d.agencies), *(c.agency_id for c in d.cases),
                *(c.agency_id for c in d.conflicts), *(e.agency_id for e in d.timeline)}
    return {b for b in brands if b}, {a for a in agencies if a}


async def _fetch_shipments(ctx: Context, ids: list[str]) -> list[dict[str, Any]]:
    if not ids:
        return []
    records = await access.read_async(ctx.driver, ctx.database, SHIPMENTS_QUERY, {"ids": ids},
                                      timeout=ctx.timeout, name="lead:shipments")
    return [r["shipment"] for r in records]


def _assemble(ctx: Context, row: Any, seen: Seen, subjects: list[DossierSubject],
              traces: list[DossierTrace], conflicts: list[Conflict],
              shipments: list[dict[str, Any]]) -> Dossier:
    """The dossier without its names and manifest (`build_dossier` adds them)."""
    lead = row["lead"]
    purchases = [_purchase(p, seen) for p in row["purchases"] if seen("TestPurchase", p["purchase_id"])]
    complaints = [_complaint(c, seen) for c in row["complaints"] if seen("Complaint", c["complaint_id"])]
    return Dossier(
        lead_id=strawberry.ID(lead["lead_id"]), title=lead.get("title"), status=lead.get("status"),
        created_on=_text(lead.get("created_on")), pushed_on=_text(lead.get("pushed_on")),
        note=lead.get("note"), brand_ids=sorted(b for b in row["brands"] if seen("Brand", b)),
        agencies=sorted((_agency(a) for a in row["agencies"] if seen("Agency", a["agency_id"])),
                        key=lambda a: str(a.agency_id)),
        cases=sorted((_case(c, seen) for c in row["cases"] if seen("Case", c["case_id"])),
                     key=lambda c: str(c.case_id)),
        subjects=subjects, traces=traces,
        test_purchases=sorted(purchases, key=lambda p: str(p.purchase_id)),
        complaints=sorted(complaints, key=lambda c: str(c.complaint_id)),
        shipments=[_shipment(s, seen) for s in shipments],
        timeline=timeline(row, seen, shipments, subject_key),
        names=[],
        value=value_assessment(_float(lead.get("estimated_value_cny"))),
        conflicts=conflicts,
        manifest=Manifest(algorithm="SHA-256", items=[], sha256=""),
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        generated_for=f"{ctx.caller.sub} ({ctx.caller.role})",
    )


# --- manifest -------------------------------------------------------------------------


_SCALARS = frozenset({str, int, float, bool, type(None)})
"""Types `as_data` returns as they are, checked first: most values of a dossier."""


def as_data(value: Any, key: Callable[[str], str] = str) -> Any:
    """Dossier parts as plain dicts and lists (keys through `key`), without copying."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, list):
        return [as_data(v, key) for v in value]
    if isinstance(value, dict):
        return {key(k): as_data(v, key) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {key(k): as_data(v, key) for k, v in vars(value).items()}
    return value


def canonical(item: Any) -> bytes:
    """An item as canonical JSON (sorted keys, no spaces, UTF-8): what its hash is of."""
    return json.dumps(as_data(item), sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str).encode()


def _items(d: Dossier) -> list[tuple[str, str, Any]]:
    core = {"lead_id": str(d.lead_id), "title": d.title, "status": d.status, "created_on": d.created_on,
            "pushed_on": d.pushed_on, "note": d.note, "brand_ids": d.brand_ids,
            "agencies": d.agencies, "cases": d.cases, "value": d.value, "names": d.names}
    items: list[tuple[str, str, Any]] = [("lead", str(d.lead_id), json.loads(canonical(core)))]
    items += [("subject", f"{s.label}:{s.key}", s) for s in d.subjects]
    items += [("trace", f"{t.subject.label}:{t.subject.key}", t) for t in d.traces]
    items += [("test_purchase", str(p.purchase_id), p) for p in d.test_purchases]
    items += [("complaint", str(c.complaint_id), c) for c in d.complaints]
    items += [("shipment", str(s.shipment_id), s) for s in d.shipments]
    items += [("event", f"{e.at}:{e.kind}:{e.ref}" + (f":{e.to_status}" if e.to_status else ""), e)
              for e in d.timeline]
    items += [("conflict", f"{c.kind}:{c.id}", c) for c in d.conflicts]
    return items


def manifest(d: Dossier) -> Manifest:
    entries = [ManifestItem(kind=kind, id=key, sha256=hashlib.sha256(canonical(item)).hexdigest())
               for kind, key, item in _items(d)]
    lines = "".join(f"{e.kind} {e.id} {e.sha256}\n" for e in entries)
    return Manifest(algorithm="SHA-256", items=entries, sha256=hashlib.sha256(lines.encode()).hexdigest())


# --- entry points ---------------------------------------------------------------------


async def read_dossier(ctx: Context, lead_id: str, *, form: str) -> Dossier:
    """Build the dossier and append `dossier.read` to the audit trail."""
    dossier = await build_dossier(ctx, lead_id)
    await audit.append_async(ctx.driver, ctx.database, audit.event(
        ctx.caller, "dossier.read", ids=[lead_id], request_id=ctx.request_id,
        details={"form": form, "manifest": dossier.manifest.sha256}))
    return dossier


async def resolve_dossier(ctx: Context, lead_id: str) -> Dossier | None:
    return await read_dossier(ctx, lead_id, form="graphql")


async def resolve_conflicts(ctx: Context, lead_id: str) -> list[Conflict]:
    return await fetch_conflicts(ctx, lead_id)
