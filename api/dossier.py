"""A lead's dossier: the evidence package a police liaison files.

It gathers, for one lead the caller may see: the lead and its brands, agency and
cases; its subjects (sellers, shops, sites, persons) with their stored networks; the
traces from its seller and shop subjects to offline sites with their evidence paths; the
test purchases, complaints and shipments; the timeline of status events; the estimated
value against the prosecution thresholds; and `conflicts`, other open leads and cases
on the same sellers, networks or sites. A manifest lists every item with the SHA-256 of
its canonical JSON, and the SHA-256 of the manifest itself, so a printed or filed copy
can be checked item by item.

Analysts read aggregates only and get no dossier. Brand members see identifiers in
trace paths masked. Every dossier read is audited (`dossier.read`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, LiteralString

import strawberry

from api import db, scope
from api.context import Context
from api.errors import Forbidden, NotFound
from api.investigation import SourceTrace, TraceNode, _trace
from api.types import plain
from graph import audit, trace
from graph.leads import OPEN_CASE_STATUSES, OPEN_LEAD_STATUSES, Thresholds

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
class DossierCase:
    case_id: strawberry.ID
    status: str | None
    title: str | None
    opened_on: str | None
    agency_id: str | None


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


@strawberry.type
class TimelineEvent:
    at: str
    who: str | None
    role: str | None
    agency_id: str | None
    brand_id: str | None
    from_status: str | None
    to_status: str | None
    note: str | None


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
    timeline: list[TimelineEvent]
    value: ValueAssessment
    conflicts: list[Conflict]
    manifest: Manifest
    generated_at: str
    generated_for: str


# --- Cypher ---------------------------------------------------------------------------

_LEAD: LiteralString = """
MATCH (l:Lead {lead_id: $lead_id}) WHERE %(visible)s
RETURN l {.*} AS lead,
  [(l)-[:ON_BEHALF_OF]->(b:Brand) | b.brand_id] AS brands,
  [(l)-[p:PUSHED_TO]->(a:Agency) | a {.agency_id, .name, .level, .adcode, pushed_on: p.pushed_on}]
    AS agencies,
  [(l)-[:BECAME]->(c:Case) | c {.case_id, .status, .title, .opened_on,
     agency_id: [(c)-[:HANDLED_BY]->(a:Agency) | a.agency_id][0]}] AS cases,
  [(l)-[:HAS_EVENT]->(e:StatusEvent) | e {.*}] AS events,
  [(l)-[:CONCERNS]->(s) | {label: labels(s)[0], props: properties(s),
     network: [(s)-[:IN_NETWORK]->(n:Network) | n {.network_id, .size, .risk_score}][0],
     address: [(s)-[:LOCATED_AT]->(ad:Address) | coalesce(ad.normalized, ad.raw)][0],
     adcode: [(s)-[:LOCATED_AT]->(:Address)-[:IN_DIVISION]->(d:Division) | d.adcode][0]}]
    AS subjects,
  [(l)-[:EVIDENCED_BY]->(tp:TestPurchase) | tp {.*,
     listing_id: [(tp)-[:BOUGHT]->(x:Listing) | x.listing_id][0],
     brand_id: [(tp)-[:AUTHENTICATED_BY]->(b:Brand) | b.brand_id][0],
     shipment_id: [(tp)-[:DELIVERED_BY]->(sh:Shipment) | sh.shipment_id][0]}] AS purchases,
  [(l)-[:EVIDENCED_BY]->(c:Complaint) | c {.*,
     brand_id: [(b:Brand)-[:FILED]->(c) | b.brand_id][0],
     target: [(c)-[:AGAINST]->(t) | labels(t)[0] + ':' + coalesce(t.listing_id, t.shop_id)][0]}]
    AS complaints,
  [(l)-[:EVIDENCED_BY]->(:TestPurchase)-[:DELIVERED_BY]->(sh:Shipment) | sh] +
  [(l)-[:CONCERNS]->(:Shop)<-[:SENT_BY]-(sh:Shipment) | sh] AS shipment_nodes
"""

SHIPMENTS_QUERY: LiteralString = """
UNWIND $ids AS id
MATCH (sh:Shipment {shipment_id: id})
RETURN sh {.shipment_id, .carrier, .waybill_no, .shipped_on,
  origin: [(sh)-[:ORIGINATES_AT]->(ad:Address) | coalesce(ad.normalized, ad.raw)][0],
  origin_adcode: [(sh)-[:ORIGINATES_AT]->(:Address)-[:IN_DIVISION]->(d:Division) | d.adcode][0],
  shop_id: [(sh)-[:SENT_BY]->(s:Shop) | s.shop_id][0]} AS shipment
ORDER BY shipment.shipment_id
"""

_CONFLICTS: LiteralString = """
MATCH (l:Lead {lead_id: $lead_id})
CALL (l) {
  MATCH (l)-[:CONCERNS]->(s:Seller) RETURN s
  UNION
  MATCH (l)-[:CONCERNS]->(:Shop)<-[:OPERATES]-(s:Seller) RETURN s
}
WITH l, collect(s) AS sellers
CALL (l, sellers) {
  UNWIND sellers AS s
  MATCH (s)<-[:CONCERNS]-(o:Lead) WHERE o <> l
  RETURN o, 'seller:' + s.seller_id AS via
  UNION
  UNWIND sellers AS s
  MATCH (s)-[:OPERATES]->(:Shop)<-[:CONCERNS]-(o:Lead) WHERE o <> l
  RETURN o, 'seller:' + s.seller_id AS via
  UNION
  UNWIND sellers AS s
  MATCH (s)-[:IN_NETWORK]->(n:Network)<-[:IN_NETWORK]-(t:Seller)<-[:CONCERNS]-(o:Lead)
  WHERE o <> l AND t <> s
  RETURN o, 'network:' + n.network_id AS via
  UNION
  MATCH (l)-[:CONCERNS]->(x:Site)<-[:CONCERNS]-(o:Lead) WHERE o <> l
  RETURN o, 'site:' + x.site_id AS via
}
WITH l, o, collect(DISTINCT via) AS vias
WHERE o IS NOT NULL AND o.status IN $open_leads AND %(visible_lead)s
RETURN 'lead' AS kind, o.lead_id AS id, o.status AS status, vias,
  [(o)-[:ON_BEHALF_OF]->(b:Brand) | b.brand_id] AS brands,
  [(o)-[:PUSHED_TO]->(a:Agency) | a.agency_id][0] AS agency_id
UNION
MATCH (l:Lead {lead_id: $lead_id})
CALL (l) {
  MATCH (l)-[:CONCERNS]->(x:Site)<-[:RAIDED]-(c:Case) RETURN c, 'site:' + x.site_id AS via
  UNION
  MATCH (l)-[:CONCERNS]->(p:Person)<-[:NAMES_SUSPECT]-(c:Case) RETURN c, 'person:' + p.person_id AS via
  UNION
  MATCH (l)-[:CONCERNS]->(x)<-[:CONCERNS]-(o:Lead)-[:BECAME]->(c:Case) WHERE o <> l
  RETURN c, labels(x)[0] + ':' + coalesce(x.seller_id, x.shop_id, x.site_id, x.person_id) AS via
}
WITH l, c, collect(DISTINCT via) AS vias
WHERE c.status IN $open_cases AND NOT (l)-[:BECAME]->(c) AND %(visible_case)s
RETURN 'case' AS kind, c.case_id AS id, c.status AS status, vias,
  [(c)-[:CONCERNS_BRAND]->(b:Brand) | b.brand_id] AS brands,
  [(c)-[:HANDLED_BY]->(a:Agency) | a.agency_id][0] AS agency_id
"""

LEAD_QUERY: LiteralString = _LEAD % {"visible": scope.visible("Lead", "l")}
CONFLICTS_QUERY: LiteralString = _CONFLICTS % {
    "visible_lead": scope.visible("Lead", "o"), "visible_case": scope.visible("Case", "c")}


# --- building -------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    value = plain(value)
    return None if value is None else str(value)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _subject(row: dict[str, Any]) -> DossierSubject:
    props, net = row["props"], row["network"] or {}
    key = next((str(props[k]) for k in ("seller_id", "shop_id", "site_id", "person_id") if k in props), "")
    caption = props.get("nickname") or props.get("name") or props.get("label") or props.get("legal_name")
    return DossierSubject(
        label=row["label"], key=key, caption=_text(caption), status=_text(props.get("status")),
        network_id=net.get("network_id"), network_size=net.get("size"),
        network_risk=_float(net.get("risk_score")), address=row["address"], adcode=row["adcode"])


def _purchase(p: dict[str, Any]) -> DossierPurchase:
    return DossierPurchase(
        purchase_id=strawberry.ID(p["purchase_id"]), listing_id=p["listing_id"], brand_id=p["brand_id"],
        ordered_on=_text(p.get("ordered_on")), verdict=p.get("verdict"),
        verdict_on=_text(p.get("verdict_on")), report_no=p.get("report_no"), shipment_id=p["shipment_id"])


def _complaint(c: dict[str, Any]) -> DossierComplaint:
    return DossierComplaint(
        complaint_id=strawberry.ID(c["complaint_id"]), brand_id=c["brand_id"], kind=c.get("kind"),
        outcome=c.get("outcome"), filed_on=_text(c.get("filed_on")),
        resolved_on=_text(c.get("resolved_on")), target=c["target"])


def _shipment(s: dict[str, Any]) -> DossierShipment:
    return DossierShipment(
        shipment_id=strawberry.ID(s["shipment_id"]), carrier=s.get("carrier"),
        waybill_no=s.get("waybill_no"), shipped_on=_text(s.get("shipped_on")), origin=s["origin"],
        origin_adcode=s["origin_adcode"], shop_id=s["shop_id"])


def _event(e: dict[str, Any]) -> TimelineEvent:
    return TimelineEvent(
        at=str(_text(e.get("at"))), who=e.get("who"), role=e.get("role"), agency_id=e.get("agency_id"),
        brand_id=e.get("brand_id"), from_status=e.get("from_status"), to_status=e.get("to_status"),
        note=e.get("note"))


def _agency(a: dict[str, Any]) -> DossierAgency:
    return DossierAgency(agency_id=strawberry.ID(a["agency_id"]), name=a.get("name"), level=a.get("level"),
                         adcode=a.get("adcode"), pushed_on=_text(a.get("pushed_on")))


def _case(c: dict[str, Any]) -> DossierCase:
    return DossierCase(case_id=strawberry.ID(c["case_id"]), status=c.get("status"), title=c.get("title"),
                       opened_on=_text(c.get("opened_on")), agency_id=c.get("agency_id"))


def conflict(r: Any) -> Conflict:
    return Conflict(kind=r["kind"], id=strawberry.ID(r["id"]), status=r["status"],
                    brand_ids=sorted(r["brands"]), agency_id=r["agency_id"], via=sorted(r["vias"]))


def thresholds() -> Thresholds:
    from alliance.settings import get_settings

    s = get_settings()
    return Thresholds(filing_cny=s.alliance_threshold_filing_cny,
                      serious_cny=s.alliance_threshold_serious_cny)


def value_assessment(estimated: float | None) -> ValueAssessment:
    t = thresholds()
    return ValueAssessment(estimated_value_cny=estimated, filing_threshold_cny=t.filing_cny,
                           serious_threshold_cny=t.serious_cny, level=t.assess(estimated))


async def fetch_conflicts(ctx: Context, lead_id: str) -> list[Conflict]:
    records = await db.read(ctx.driver, ctx.database, CONFLICTS_QUERY,
                            {"lead_id": lead_id, "open_leads": list(OPEN_LEAD_STATUSES),
                             "open_cases": list(OPEN_CASE_STATUSES), **ctx.scope},
                            timeout=ctx.timeout, name="lead:conflicts")
    return sorted((conflict(r) for r in records), key=lambda c: (c.kind, str(c.id)))


async def _traces(ctx: Context, subjects: list[DossierSubject]) -> list[DossierTrace]:
    traced = [s for s in subjects if s.label in ("Seller", "Shop")][:TRACED_SUBJECTS]

    async def one(s: DossierSubject) -> DossierTrace:
        option = {"seller_id": s.key} if s.label == "Seller" else {"shop_id": s.key}
        try:
            found = await trace.trace_to_source_async(ctx.driver, ctx.database,
                                                      first=TRACES_PER_SUBJECT, **option)
        except LookupError:
            found = []
        sites = [_trace(t) for t in found]
        if ctx.caller.role == "brand_member":
            sites = [mask_trace(t) for t in sites]
        return DossierTrace(subject=TraceNode(label=s.label, key=s.key, caption=s.caption or s.key),
                            sites=sites)

    return list(await asyncio.gather(*(one(s) for s in traced)))


def mask_trace(t: SourceTrace) -> SourceTrace:
    """The trace with personal identifiers (phones, accounts, ...) replaced by `masked`."""
    def node(n: TraceNode) -> TraceNode:
        if n.label in scope.SENSITIVE_LABELS:
            return TraceNode(label=n.label, key=MASKED, caption=MASKED)
        return n

    for path in t.paths:
        for hop in path.hops:
            hop.from_, hop.to = node(hop.from_), node(hop.to)
    return t


async def build_dossier(ctx: Context, lead_id: str) -> Dossier:
    """The dossier of `lead_id` for the context's caller; NotFound when the caller may not
    see the lead, Forbidden for analysts. Not audited here (see `read_dossier`)."""
    if ctx.caller.role == "analyst":
        raise Forbidden("analysts read aggregates only (leadCounts, saved queries), not dossiers")
    records = await db.read(ctx.driver, ctx.database, LEAD_QUERY, {"lead_id": lead_id, **ctx.scope},
                            timeout=ctx.timeout, name="lead:dossier")
    if not records:
        raise NotFound(f"no lead {lead_id!r}")
    row = records[0]
    subjects = sorted((_subject(s) for s in row["subjects"]), key=lambda s: (s.label, s.key))
    shipment_ids = sorted({n["shipment_id"] for n in row["shipment_nodes"]})[:MAX_SHIPMENTS]
    traces, conflicts, shipments = await asyncio.gather(
        _traces(ctx, subjects), fetch_conflicts(ctx, lead_id), _fetch_shipments(ctx, shipment_ids))
    return _assemble(ctx, row, subjects, traces, conflicts, shipments)


async def _fetch_shipments(ctx: Context, ids: list[str]) -> list[DossierShipment]:
    if not ids:
        return []
    records = await db.read(ctx.driver, ctx.database, SHIPMENTS_QUERY, {"ids": ids},
                            timeout=ctx.timeout, name="lead:shipments")
    return [_shipment(r["shipment"]) for r in records]


def _assemble(ctx: Context, row: Any, subjects: list[DossierSubject], traces: list[DossierTrace],
              conflicts: list[Conflict], shipments: list[DossierShipment]) -> Dossier:
    lead = row["lead"]
    dossier = Dossier(
        lead_id=strawberry.ID(lead["lead_id"]), title=lead.get("title"), status=lead.get("status"),
        created_on=_text(lead.get("created_on")), pushed_on=_text(lead.get("pushed_on")),
        note=lead.get("note"), brand_ids=sorted(row["brands"]),
        agencies=sorted((_agency(a) for a in row["agencies"]), key=lambda a: str(a.agency_id)),
        cases=sorted((_case(c) for c in row["cases"]), key=lambda c: str(c.case_id)),
        subjects=subjects, traces=traces,
        test_purchases=sorted((_purchase(p) for p in row["purchases"]), key=lambda p: str(p.purchase_id)),
        complaints=sorted((_complaint(c) for c in row["complaints"]), key=lambda c: str(c.complaint_id)),
        shipments=shipments,
        timeline=sorted((_event(e) for e in row["events"]), key=lambda e: e.at),
        value=value_assessment(_float(lead.get("estimated_value_cny"))),
        conflicts=conflicts,
        manifest=Manifest(algorithm="SHA-256", items=[], sha256=""),
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        generated_for=f"{ctx.caller.sub} ({ctx.caller.role})",
    )
    dossier.manifest = manifest(dossier)
    return dossier


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
            "agencies": d.agencies, "cases": d.cases, "value": d.value}
    items: list[tuple[str, str, Any]] = [("lead", str(d.lead_id), json.loads(canonical(core)))]
    items += [("subject", f"{s.label}:{s.key}", s) for s in d.subjects]
    items += [("trace", f"{t.subject.label}:{t.subject.key}", t) for t in d.traces]
    items += [("test_purchase", str(p.purchase_id), p) for p in d.test_purchases]
    items += [("complaint", str(c.complaint_id), c) for c in d.complaints]
    items += [("shipment", str(s.shipment_id), s) for s in d.shipments]
    items += [("event", f"{e.at}:{e.to_status}", e) for e in d.timeline]
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
