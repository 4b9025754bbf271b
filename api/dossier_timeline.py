"""A dossier's timeline: every dated event of a lead, its subjects and its evidence, in
time order.

The events are read off what the dossier already holds: the lead (created, pushed to
each agency), the status events of the lead and of its cases, the cases (opened, each
raid with its figures), the test purchases (ordered, verdict), the complaints (filed,
resolved), the shipments (sent) and the subjects (a seller registered, a shop opened or
closed, a site first seen). Every event is of a node the reader may see (`Seen`, the
reader's own rule of `api.scope`, the same check as the rest of the dossier), and any
node an event names (an agency, a brand, a raided site) is named only when the reader
may see it too. Events are ordered by their UTC day, then their time (a date alone
first), then the order of `KINDS`, then what they are about.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import strawberry

from api.dossier_text import sort_key
from api.values import plain

KINDS: tuple[str, ...] = (
    "seller_registered", "shop_opened", "site_first_seen", "complaint_filed", "test_purchase",
    "shipment", "verdict", "complaint_resolved", "lead_created", "lead_pushed", "status",
    "case_opened", "raid", "shop_closed",
)
"""Every kind of event, in the order events of one day are listed."""

SUBJECT_DATES: dict[str, tuple[tuple[str, str], ...]] = {
    "Seller": (("registered_on", "seller_registered"),),
    "Shop": (("opened_on", "shop_opened"), ("closed_on", "shop_closed")),
    "Site": (("first_seen", "site_first_seen"),),
}
"""The dated properties of subjects, and the kind of event each one is."""

Seen = Callable[[str, Any], bool]


@strawberry.type(description="A dated event of the lead, its subjects or its evidence.")
class TimelineEvent:
    at: str = strawberry.field(description="ISO 8601 date, or date and time for status events.")
    kind: str = strawberry.field(description="What happened: " + ", ".join(KINDS) + ".")
    ref: str | None = strawberry.field(description="What it happened to, as `Label:key`.")
    who: str | None
    role: str | None
    agency_id: str | None
    brand_id: str | None
    from_status: str | None
    to_status: str | None
    note: str | None
    cause: str | None = strawberry.field(
        description="Why the server wrote a status event: case_opened, case_moved (the lead "
                    "following its case), pushed or raid; `cause_id` the case or agency.")
    cause_id: str | None
    detail: str | None = strawberry.field(
        description="The verdict, the complaint's kind or outcome, the carrier and waybill, a case's title.")
    seized_value_cny: float | None
    arrests: int | None
    dens_destroyed: int | None


def _at(value: Any) -> str | None:
    value = plain(value)
    return None if value is None else str(value)


def event(kind: str, at: Any, ref: str | None, **fields: Any) -> TimelineEvent | None:
    """One event, or None when it has no date."""
    when = _at(at)
    if when is None:
        return None
    values: dict[str, Any] = dict.fromkeys(
        ("who", "role", "agency_id", "brand_id", "from_status", "to_status", "note", "cause",
         "cause_id", "detail",
         "seized_value_cny", "arrests", "dens_destroyed"))
    values.update(fields)
    return TimelineEvent(at=when, kind=kind, ref=ref, **values)


def status_event(e: dict[str, Any], ref: str, seen: Seen) -> TimelineEvent | None:
    return event("status", e.get("at"), ref, who=e.get("who"), role=e.get("role"),
                 agency_id=e.get("agency_id") if seen("Agency", e.get("agency_id")) else None,
                 brand_id=e.get("brand_id") if seen("Brand", e.get("brand_id")) else None,
                 from_status=e.get("from_status"), to_status=e.get("to_status"), note=e.get("note"),
                 cause=e.get("cause"), cause_id=_cause_id(e, seen))


def _cause_id(e: dict[str, Any], seen: Seen) -> str | None:
    """The case or agency a status event names, when the reader may see it."""
    label = "Agency" if e.get("cause") == "pushed" else "Case"
    return e.get("cause_id") if seen(label, e.get("cause_id")) else None


def _lead(row: Any, seen: Seen) -> Iterator[TimelineEvent | None]:
    lead = row["lead"]
    ref = f"Lead:{lead['lead_id']}"
    yield event("lead_created", lead.get("created_on"), ref)
    pushes = [a for a in row["agencies"] if seen("Agency", a["agency_id"]) and a.get("pushed_on")]
    for a in pushes:
        yield event("lead_pushed", a["pushed_on"], ref, agency_id=a["agency_id"])
    if not pushes:
        yield event("lead_pushed", lead.get("pushed_on"), ref)
    for e in row["events"]:
        if seen("StatusEvent", e.get("event_id")):
            yield status_event(e, ref, seen)


def _cases(row: Any, seen: Seen) -> Iterator[TimelineEvent | None]:
    for c in row["cases"]:
        if not seen("Case", c["case_id"]):
            continue
        ref = f"Case:{c['case_id']}"
        agency = c.get("agency_id") if seen("Agency", c.get("agency_id")) else None
        yield event("case_opened", c.get("opened_on"), ref, agency_id=agency, detail=c.get("title"))
        for e in c.get("events") or []:
            if seen("StatusEvent", e.get("event_id")):
                yield status_event(e, ref, seen)
        for r in c.get("raids") or []:
            site = f"Site:{r['site_id']}" if seen("Site", r["site_id"]) else None
            yield event("raid", r.get("raided_on"), ref, detail=site, agency_id=agency,
                        seized_value_cny=r.get("seized_value_cny"), arrests=r.get("arrests"),
                        dens_destroyed=r.get("dens_destroyed"))


def _evidence(row: Any, seen: Seen) -> Iterator[TimelineEvent | None]:
    for p in row["purchases"]:
        if not seen("TestPurchase", p["purchase_id"]):
            continue
        ref = f"TestPurchase:{p['purchase_id']}"
        brand = p["brand_id"] if seen("Brand", p["brand_id"]) else None
        yield event("test_purchase", p.get("ordered_on"), ref, brand_id=brand)
        yield event("verdict", p.get("verdict_on"), ref, brand_id=brand, detail=p.get("verdict"))
    for c in row["complaints"]:
        if not seen("Complaint", c["complaint_id"]):
            continue
        ref = f"Complaint:{c['complaint_id']}"
        brand = c["brand_id"] if seen("Brand", c["brand_id"]) else None
        yield event("complaint_filed", c.get("filed_on"), ref, brand_id=brand, detail=c.get("kind"))
        yield event("complaint_resolved", c.get("resolved_on"), ref, brand_id=brand,
                    detail=c.get("outcome"))


def _shipments(shipments: list[dict[str, Any]], seen: Seen) -> Iterator[TimelineEvent | None]:
    for s in shipments:
        if seen("Shipment", s["shipment_id"]):
            carrier = " ".join(str(v) for v in (s.get("carrier"), s.get("waybill_no")) if v)
            yield event("shipment", s.get("shipped_on"), f"Shipment:{s['shipment_id']}",
                        detail=carrier or None)


def _subjects(subjects: list[dict[str, Any]], seen: Seen,
              key: Callable[[dict[str, Any]], str]) -> Iterator[TimelineEvent | None]:
    for s in subjects:
        k = key(s)
        if not seen(s["label"], k):
            continue
        for prop, kind in SUBJECT_DATES.get(s["label"], ()):
            yield event(kind, s["props"].get(prop), f"{s['label']}:{k}")


def timeline(row: Any, seen: Seen, shipments: list[dict[str, Any]],
             subject_key: Callable[[dict[str, Any]], str]) -> list[TimelineEvent]:
    """Every dated event of the dossier the reader may see, in time order."""
    found = [e for part in (_lead(row, seen), _cases(row, seen), _evidence(row, seen),
                            _shipments(shipments, seen), _subjects(row["subjects"], seen, subject_key))
             for e in part if e is not None]
    return sorted(found, key=order)


def order(e: TimelineEvent) -> tuple[Any, ...]:
    return (*sort_key(e.at), KINDS.index(e.kind), e.ref or "", e.to_status or "")
