"""Leads and cases: queries, the lifecycle mutations and the audit trail.

Reads are scoped in Cypher by `api.scope` (a lead the caller may not see is not found,
and counts only count what the caller may see). Every mutation checks the lifecycle of
`graph.lifecycle`, writes the change and its `StatusEvent` in one transaction (guarded on
the status it was read in) and appends an audit event. Cases follow raids and status
changes; a case's lead follows its case.

A lead attaches only what its creator may see (`api.scope`); an id it may not see gets
the same answer as an unknown one, and a leadId in use gets one answer whoever's lead it
is. A raid is recorded only on a site inside the jurisdiction of the agency handling the
case (`OUT_OF_JURISDICTION` otherwise); right after a raid or any case status change,
the stored risk score of the networks it moves is rewritten.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, LiteralString, Optional, cast

import neo4j
import strawberry

from api import scope
from api.context import Context
from api.lookups import nodes_by_key
from api.types import (
    CONNECTION_CLASSES,
    EDGE_CLASSES,
    NODE_CLASSES,
    PageInfo,
    check_first,
    cursor,
    make_node,
    node_selections,
    offset_after,
    row_projection,
)
from core.errors import AllianceError, Forbidden, NotFound, UserError
from graph import access, audit, lifecycle, risk
from graph.access import Statement
from graph.caller import Caller

log = logging.getLogger("api.leads")
LeadType = NODE_CLASSES["Lead"]
CaseType = NODE_CLASSES["Case"]
AuditEventType = NODE_CLASSES["AuditEvent"]
MAX_REFS = 200
"""Most subjects or evidence items of one kind on a lead."""


class IllegalTransition(UserError):
    code = "ILLEGAL_TRANSITION"


class OutOfJurisdiction(UserError):
    """A raid on a site outside the jurisdiction of the agency handling the case."""

    code = "OUT_OF_JURISDICTION"


# --- reads ----------------------------------------------------------------------------

_LEADS: LiteralString = """
CALL () {
  MATCH (l:Lead) WHERE NOT $is_liaison AND $brand_id IS NULL RETURN l
  UNION
  MATCH (:Brand {brand_id: $brand_id})<-[:ON_BEHALF_OF]-(l:Lead) RETURN l
  UNION
  MATCH (a:Agency)<-[:PUSHED_TO]-(l:Lead) WHERE $is_liaison AND a.adcode IN $adcodes RETURN l
  UNION
  MATCH (d:Division)<-[:IN_DIVISION]-(:Address)<-[:LOCATED_AT]-(:Site)<-[:CONCERNS]-(l:Lead)
  WHERE $is_liaison AND d.adcode IN $adcodes RETURN l
}
WITH l WHERE ($status IS NULL OR l.status = $status)
  AND ($brand IS NULL OR EXISTS { (l)-[:ON_BEHALF_OF]->(:Brand {brand_id: $brand}) })
  AND %(visible)s
WITH l ORDER BY l.created_on DESC, l.first_seen_at DESC, l.lead_id
WITH collect(l) AS ls
RETURN size(ls) AS total, [x IN ls[$skip..$skip + $first] | %%(row)s] AS page
"""

_CASES: LiteralString = """
CALL () {
  MATCH (c:Case) WHERE NOT $is_liaison AND $brand_id IS NULL RETURN c
  UNION
  MATCH (:Brand {brand_id: $brand_id})<-[:CONCERNS_BRAND]-(c:Case) RETURN c
  UNION
  MATCH (:Brand {brand_id: $brand_id})<-[:ON_BEHALF_OF]-(:Lead)-[:BECAME]->(c:Case) RETURN c
  UNION
  MATCH (a:Agency)<-[:HANDLED_BY]-(c:Case) WHERE $is_liaison AND a.adcode IN $adcodes RETURN c
}
WITH c WHERE ($status IS NULL OR c.status = $status)
  AND ($brand IS NULL OR EXISTS { (c)-[:CONCERNS_BRAND]->(:Brand {brand_id: $brand}) })
  AND ($agency IS NULL OR EXISTS { (c)-[:HANDLED_BY]->(:Agency {agency_id: $agency}) })
  AND %(visible)s
WITH c ORDER BY c.opened_on DESC, c.case_id
WITH collect(c) AS cs
RETURN size(cs) AS total, [x IN cs[$skip..$skip + $first] | %%(row)s] AS page
"""

_COUNTS: LiteralString = """
MATCH (l:Lead) WHERE ($counts_all OR %(visible)s)
  AND ($brand IS NULL OR EXISTS { (l)-[:ON_BEHALF_OF]->(:Brand {brand_id: $brand}) })
RETURN l.status AS status, count(*) AS leads ORDER BY status
"""

_AUDIT: LiteralString = """
MATCH (e:AuditEvent) WHERE $is_admin
  AND ($action IS NULL OR e.action = $action) AND ($who IS NULL OR e.who = $who)
  AND ($since IS NULL OR e.at >= datetime($since))
WITH e ORDER BY e.at DESC, e.event_id
WITH collect(e) AS es
RETURN size(es) AS total, [x IN es[$skip..$skip + $first] | %(row)s] AS page
"""

_AGENCIES: LiteralString = """
MATCH (a:Agency) WHERE %(agency)s
OPTIONAL MATCH (own:Division) WHERE own.adcode = a.adcode OR (a)-[:IN_DIVISION]->(own)
OPTIONAL MATCH up = (own)-[:PART_OF*0..]->(top:Division) WHERE %(division)s
WITH a, up ORDER BY length(up) DESC
WITH a, head(collect(up)) AS up
RETURN a.agency_id AS agency_id, a.name AS name, a.level AS level, a.unit AS unit,
       a.adcode AS adcode,
       CASE WHEN up IS NULL THEN [] ELSE [d IN reverse(nodes(up)) | d {.adcode, .name, .level}] END
         AS divisions
ORDER BY adcode, agency_id
"""
_BRANDS: LiteralString = """
MATCH (b:Brand) WHERE %(visible)s
RETURN b.brand_id AS brand_id, b.name AS name, b.name_zh AS name_zh ORDER BY brand_id
"""

LEADS_QUERY: LiteralString = _LEADS % {"visible": scope.visible("Lead", "l")}
CASES_QUERY: LiteralString = _CASES % {"visible": scope.visible("Case", "c")}
"""These and `_AUDIT` take `%(row)s`: how each node of the page is returned (`list_query`)."""
COUNTS_QUERY: LiteralString = _COUNTS % {"visible": scope.visible("Lead", "l")}
AGENCIES_QUERY: LiteralString = _AGENCIES % {"agency": scope.visible("Agency", "a"),
                                             "division": scope.visible("Division", "top")}
"""Every agency the caller may see with its divisions, from the province down (the
division tree a lead is pushed through)."""
BRANDS_QUERY: LiteralString = _BRANDS % {"visible": scope.visible("Brand", "b")}

_LEAD_STATE: LiteralString = """
MATCH (l:Lead {lead_id: $lead_id}) WHERE %(visible)s
RETURN l.status AS status, [(l)-[:PUSHED_TO]->(a:Agency) | a.adcode] AS agency_adcodes,
       [(l)-[:BECAME]->(c:Case) | c.case_id] AS cases
"""
_CASE_STATE: LiteralString = """
MATCH (c:Case {case_id: $case_id}) WHERE %(visible)s
RETURN c.status AS status, [(l:Lead)-[:BECAME]->(c) | l {.lead_id, .status}] AS leads
"""
LEAD_STATE: LiteralString = _LEAD_STATE % {"visible": scope.visible("Lead", "l")}
CASE_STATE: LiteralString = _CASE_STATE % {"visible": scope.visible("Case", "c")}


@strawberry.type
class StatusCount:
    status: str
    leads: int


@strawberry.type(description="A division on the way from a province down to an agency.")
class DivisionStep:
    adcode: str
    name: str | None
    level: str | None


@strawberry.type(description="An agency leads may be pushed to, with its divisions from the "
                             "province down.")
class AgencyPlace:
    agency_id: str
    name: str | None
    level: str | None
    unit: str | None
    adcode: str | None
    divisions: list[DivisionStep]


@strawberry.type(description="A brand a lead may be on behalf of.")
class BrandEntry:
    brand_id: str
    name: str | None
    name_zh: str | None


@strawberry.type(description="One allowed step of the lead or case lifecycle.")
class Transition:
    object: str
    from_status: str
    to_status: str
    roles: list[str]


def connection(label: str, total: int, rows: list[dict[str, Any]], skip: int) -> Any:
    edges = [EDGE_CLASSES[label](cursor=cursor(skip + i), node=make_node(label, props), properties={})
             for i, props in enumerate(rows)]
    info = PageInfo(has_next_page=skip + len(edges) < total, has_previous_page=skip > 0,
                    start_cursor=edges[0].cursor if edges else None,
                    end_cursor=edges[-1].cursor if edges else None)
    return CONNECTION_CLASSES[label](edges=edges, page_info=info, total_count=total)


@lru_cache(maxsize=256)
def list_query(query: LiteralString, label: str, names: frozenset[str]) -> LiteralString:
    """A list query returning, for each node of the page, the key and the properties
    whose field names are in `names`."""
    return query % {"row": row_projection(label, "x", names)}


async def _page(ctx: Context, label: str, query: LiteralString, params: dict[str, Any],
                first: int, after: str | None, info: strawberry.Info) -> Any:
    skip = offset_after(after)
    first = check_first(first)
    names = frozenset(f.name for f in node_selections(info.selected_fields[0].selections))
    records = await access.read_async(ctx.driver, ctx.database, list_query(query, label, names),
                                      {**params, "skip": skip, "first": first, **ctx.scope},
                                      timeout=ctx.timeout, name=f"list:{label}")
    return connection(label, records[0]["total"], records[0]["page"], skip)


async def fetch_node(ctx: Context, label: str, key: str) -> Any:
    records = await access.read_async(ctx.driver, ctx.database, nodes_by_key(label, ctx.kind),
                                      {"keys": [key], **ctx.scope}, timeout=ctx.timeout, name=f"node:{label}")
    return make_node(label, records[0]["props"]) if records else None


def transitions() -> list[Transition]:
    rows = [Transition(object="lead", from_status=a, to_status=b,
                       roles=list(lifecycle.LEAD_MOVERS.get(b, ("(follows its case)",))))
            for a, nexts in lifecycle.LEAD_TRANSITIONS.items() for b in nexts]
    rows += [Transition(object="case", from_status=a, to_status=b, roles=list(lifecycle.CASE_MOVERS))
             for a, nexts in lifecycle.CASE_TRANSITIONS.items() for b in nexts]
    return rows


@strawberry.type
class LeadsQuery:
    @strawberry.field(description="Leads the caller may see, newest first.",
                      graphql_type=CONNECTION_CLASSES["Lead"])
    async def leads(self, info: strawberry.Info, status: str | None = None,
                    brand_id: strawberry.ID | None = None, first: int = 20,
                    after: str | None = None) -> Any:
        return await _page(info.context, "Lead", LEADS_QUERY,
                           {"status": status, "brand": brand_id}, first, after, info)

    @strawberry.field(description="A lead by its lead_id (null when absent or not visible).",
                      graphql_type=Optional[LeadType])  # noqa: UP045
    async def lead(self, info: strawberry.Info, lead_id: strawberry.ID) -> Any:
        return await fetch_node(info.context, "Lead", lead_id)

    @strawberry.field(description="Cases the caller may see, newest first.",
                      graphql_type=CONNECTION_CLASSES["Case"])
    async def cases(self, info: strawberry.Info, status: str | None = None,
                    brand_id: strawberry.ID | None = None, agency_id: strawberry.ID | None = None,
                    first: int = 20, after: str | None = None) -> Any:
        return await _page(info.context, "Case", CASES_QUERY,
                           {"status": status, "brand": brand_id, "agency": agency_id}, first, after,
                           info)

    @strawberry.field(name="case", description="A case by its case_id (null when absent or not visible).",
                      graphql_type=Optional[CaseType])  # noqa: UP045
    async def case_(self, info: strawberry.Info, case_id: strawberry.ID) -> Any:
        return await fetch_node(info.context, "Case", case_id)

    @strawberry.field(description="Leads per status: all leads for analysts, investigators and "
                                   "admins; only visible ones for other roles.")
    async def lead_counts(self, info: strawberry.Info,
                          brand_id: strawberry.ID | None = None) -> list[StatusCount]:
        ctx: Context = info.context
        counts_all = ctx.caller.sees_everything or ctx.caller.role == "analyst"
        records = await access.read_async(ctx.driver, ctx.database, COUNTS_QUERY,
                                          {"brand": brand_id, "counts_all": counts_all, **ctx.scope},
                                          timeout=ctx.timeout, name="lead:counts")
        return [StatusCount(status=r["status"], leads=r["leads"]) for r in records]

    @strawberry.field(description="Agencies the caller may see, each with its divisions from the "
                                   "province down (the tree a lead is pushed through), by adcode.")
    async def agency_directory(self, info: strawberry.Info) -> list[AgencyPlace]:
        ctx: Context = info.context
        records = await access.read_async(ctx.driver, ctx.database, AGENCIES_QUERY, dict(ctx.scope),
                                          timeout=ctx.timeout, name="agency:directory")
        return [AgencyPlace(agency_id=r["agency_id"], name=r["name"], level=r["level"], unit=r["unit"],
                            adcode=r["adcode"],
                            divisions=[DivisionStep(**d) for d in r["divisions"]]) for r in records]

    @strawberry.field(description="Brands the caller may see, by brand_id.")
    async def brand_directory(self, info: strawberry.Info) -> list[BrandEntry]:
        ctx: Context = info.context
        records = await access.read_async(ctx.driver, ctx.database, BRANDS_QUERY, dict(ctx.scope),
                                          timeout=ctx.timeout, name="brand:directory")
        return [BrandEntry(brand_id=r["brand_id"], name=r["name"], name_zh=r["name_zh"]) for r in records]

    @strawberry.field(description="The lead and case lifecycle: allowed steps and who may take them.")
    def lead_lifecycle(self) -> list[Transition]:
        return transitions()

    @strawberry.field(description="The audit trail, newest first (admins only).",
                      graphql_type=CONNECTION_CLASSES["AuditEvent"])
    async def audit_events(self, info: strawberry.Info, action: str | None = None,
                           who: str | None = None, since: datetime | None = None,
                           first: int = 50, after: str | None = None) -> Any:
        ctx: Context = info.context
        if ctx.caller.role != "admin":
            raise Forbidden("only admins read the audit trail")
        return await _page(ctx, "AuditEvent", _AUDIT,
                           {"action": action, "who": who,
                            "since": since.isoformat() if since else None}, first, after, info)


# --- mutations ------------------------------------------------------------------------


@strawberry.input
class CreateLeadInput:
    lead_id: strawberry.ID | None = strawberry.field(
        default=None, description="Given, or made up as L-<yyyymmdd>-<hex>.")
    title: str | None = None
    brand_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Brands the lead is on behalf of (a brand member: its own).")
    seller_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    shop_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    site_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    person_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    purchase_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    complaint_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    estimated_value_cny: float | None = None
    note: str | None = None


@strawberry.input
class OpenCaseInput:
    case_id: strawberry.ID
    agency_id: strawberry.ID | None = strawberry.field(
        default=None, description="Defaults to the liaison's own agency.")
    title: str | None = None
    charge: str | None = None
    opened_on: date | None = None
    case_value_cny: float | None = None


_REFS: tuple[tuple[str, str, str, str, str], ...] = (
    # input field, label, key, relationship, what
    ("brand_ids", "Brand", "brand_id", "ON_BEHALF_OF", "brands"),
    ("seller_ids", "Seller", "seller_id", "CONCERNS", "sellers"),
    ("shop_ids", "Shop", "shop_id", "CONCERNS", "shops"),
    ("site_ids", "Site", "site_id", "CONCERNS", "sites"),
    ("person_ids", "Person", "person_id", "CONCERNS", "persons"),
    ("purchase_ids", "TestPurchase", "purchase_id", "EVIDENCED_BY", "test purchases"),
    ("complaint_ids", "Complaint", "complaint_id", "EVIDENCED_BY", "complaints"),
)
UNKNOWN_REFS = "unknown ids (or ids you may not use)"


@lru_cache(maxsize=8)
def missing_query(who: scope.Kind) -> LiteralString:
    """Ids of each kind that do not exist or that the caller may not see (one answer for
    both: a lead never attaches what its creator may not see, and the answer does not
    tell which ids exist)."""
    parts = []
    for fld, label, key, _, _ in _REFS:
        seen = f"EXISTS {{ MATCH (x:{label} {{{key}: id}}) WHERE {scope.visible_as(who, label, 'x')} }}"
        parts.append(f"[id IN ${fld} WHERE NOT {seen}] AS {fld}")
    return cast(LiteralString, "RETURN " + ", ".join(parts))


def _create_query() -> LiteralString:
    lines = ["CREATE (l:Lead {lead_id: $lead_id}) SET l += $props, l.created_on = date(), "
             "l.status = 'draft', l.first_seen_at = datetime(), l.last_seen_at = datetime() WITH l"]
    for fld, label, key, rel, _ in _REFS:
        lines.append(f"CALL (l) {{ UNWIND ${fld} AS id MATCH (x:{label} {{{key}: id}}) "
                     f"CREATE (l)-[r:{rel}]->(x) SET r += $prov }}")
    lines.append("CREATE (l)-[:HAS_EVENT]->(e:StatusEvent) SET e = $event RETURN l.lead_id AS id")
    return "\n".join(lines)


CREATE_QUERY = _create_query()

MOVE_LEAD: LiteralString = """
MATCH (l:Lead {lead_id: $id}) WHERE l.status = $from
SET l.status = $to, l.last_seen_at = datetime()
CREATE (l)-[:HAS_EVENT]->(e:StatusEvent) SET e = $event
RETURN l.lead_id AS id
"""
MOVE_CASE: LiteralString = """
MATCH (c:Case {case_id: $id}) WHERE c.status = $from
SET c.status = $to, c.last_seen_at = datetime()
CREATE (c)-[:HAS_EVENT]->(e:StatusEvent) SET e = $event
RETURN c.case_id AS id
"""
PUSH_LEAD: LiteralString = """
MATCH (l:Lead {lead_id: $id}) WHERE l.status = $from
MATCH (a:Agency {agency_id: $agency_id})
OPTIONAL MATCH (l)-[old:PUSHED_TO]->(prev:Agency) WHERE prev <> a
DELETE old
WITH DISTINCT l, a
MERGE (l)-[p:PUSHED_TO]->(a)
SET p += $prov, p.pushed_on = date(), l.pushed_on = date(), l.status = 'pushed',
    l.last_seen_at = datetime()
CREATE (l)-[:HAS_EVENT]->(e:StatusEvent) SET e = $event
RETURN l.lead_id AS id
"""
OPEN_CASE: LiteralString = """
MATCH (l:Lead {lead_id: $lead_id}) WHERE l.status = $from
MATCH (a:Agency {agency_id: $agency_id})
CREATE (c:Case {case_id: $case_id}) SET c += $props, c.status = 'open',
       c.first_seen_at = datetime(), c.last_seen_at = datetime()
CREATE (l)-[b:BECAME]->(c), (c)-[h:HANDLED_BY]->(a)
SET b += $prov, h += $prov, l.status = 'filed', l.last_seen_at = datetime()
WITH l, c
CALL (l, c) { MATCH (l)-[:ON_BEHALF_OF]->(br:Brand) CREATE (c)-[r:CONCERNS_BRAND]->(br) SET r += $prov }
CREATE (l)-[:HAS_EVENT]->(le:StatusEvent) SET le = $lead_event
CREATE (c)-[:HAS_EVENT]->(ce:StatusEvent) SET ce = $case_event
RETURN c.case_id AS id
"""
RAID_SITE: LiteralString = cast(LiteralString, f"""
MATCH (c:Case {{case_id: $case_id}})
MATCH (s:Site {{site_id: $site_id}}) WHERE {scope.visible("Site", "s")}
RETURN {scope.site_in_case_jurisdiction("s", "c")} AS inside,
  [(s)-[:LOCATED_AT]->(:Address)-[:IN_DIVISION]->(d:Division) | d.adcode] AS site_adcodes,
  [(c)-[:HANDLED_BY]->(a:Agency) | a {{.agency_id, .adcode}}] AS agencies
""")
"""Whether the site (as far as the caller may see it) lies in the case's jurisdiction."""
RECORD_RAID: LiteralString = cast(LiteralString, """
MATCH (c:Case {case_id: $case_id}) WHERE c.status = $from
MATCH (s:Site {site_id: $site_id}) WHERE """ + scope.site_in_case_jurisdiction("s", "c") + """
MERGE (c)-[r:RAIDED]->(s)
WITH c, s, r, coalesce(r.arrests, 0) AS old_arrests, coalesce(r.dens_destroyed, 0) AS old_dens,
     coalesce(r.seized_value_cny, 0.0) AS old_seized
SET r += $prov, r.first_seen_at = coalesce(r.first_seen_at, datetime()), r.last_seen_at = datetime(),
    r.raided_on = $raided_on, r.arrests = $arrests, r.dens_destroyed = $dens,
    r.seized_value_cny = $seized,
    c.arrests = coalesce(c.arrests, 0) - old_arrests + $arrests,
    c.dens_destroyed = coalesce(c.dens_destroyed, 0) - old_dens + $dens,
    c.seized_value_cny = coalesce(c.seized_value_cny, 0.0) - old_seized + $seized,
    s.status = 'raided', s.last_seen_at = datetime()
RETURN c.case_id AS id
""")
AGENCY_ADCODE: LiteralString = "MATCH (a:Agency {agency_id: $id}) RETURN a.adcode AS adcode"


def status_event(ctx: Context, old: str | None, new: str, note: str | None,
                 cause: str | None = None, cause_id: str | None = None) -> dict[str, Any]:
    c = ctx.caller
    return {"event_id": uuid.uuid4().hex, "at": datetime.now(UTC), "who": c.sub, "role": c.role,
            "agency_id": c.agency_id, "brand_id": c.brand_id, "from_status": old,
            "to_status": new, "note": note, "cause": cause, "cause_id": cause_id,
            "request_id": ctx.request_id, "source": "api"}


def provenance(ctx: Context) -> dict[str, Any]:
    return {"source": "api", "run_id": ctx.request_id}


def _check(func: Any, *args: Any) -> None:
    """Run a lifecycle check; its errors become API errors."""
    try:
        func(*args)
    except lifecycle.NotAllowed as exc:
        raise Forbidden(str(exc)) from None
    except lifecycle.TransitionError as exc:
        raise IllegalTransition(str(exc)) from None


async def _audited(ctx: Context, action: str, ids: list[str], details: dict[str, Any]) -> None:
    await audit.append_async(ctx.driver, ctx.database, audit.event(
        ctx.caller, action, ids=ids, request_id=ctx.request_id, details=details))


@dataclass
class LeadState:
    status: str
    agency_adcodes: list[str]
    cases: list[str]


async def lead_state(ctx: Context, lead_id: str) -> LeadState:
    records = await access.read_async(ctx.driver, ctx.database, LEAD_STATE, {"lead_id": lead_id, **ctx.scope},
                                      timeout=ctx.timeout, name="lead:state")
    if not records:
        raise NotFound(f"no lead {lead_id!r}")
    r = records[0]
    return LeadState(r["status"], r["agency_adcodes"], r["cases"])


async def case_state(ctx: Context, case_id: str) -> tuple[str, list[dict[str, Any]]]:
    records = await access.read_async(ctx.driver, ctx.database, CASE_STATE, {"case_id": case_id, **ctx.scope},
                                      timeout=ctx.timeout, name="case:state")
    if not records:
        raise NotFound(f"no case {case_id!r}")
    return records[0]["status"], records[0]["leads"]


def check_liaison_owns(caller: Caller, adcodes: list[str], what: str) -> None:
    """A liaison acts only on what was pushed to or is handled by an agency inside its
    jurisdiction (seeing a lead through a site is not enough)."""
    if caller.role == "police_liaison" and not set(adcodes) & set(caller.agency_adcodes):
        raise Forbidden(f"{what} is not with an agency in your jurisdiction")


async def agency_adcode(ctx: Context, agency_id: str) -> str | None:
    records = await access.read_async(ctx.driver, ctx.database, AGENCY_ADCODE, {"id": agency_id},
                                      timeout=ctx.timeout, name="agency:adcode")
    if not records:
        raise NotFound(f"no agency {agency_id!r}")
    return records[0]["adcode"]


def new_lead_id() -> str:
    return f"L-{datetime.now(UTC):%Y%m%d}-{uuid.uuid4().hex[:8]}"


def lead_refs(ctx: Context, data: CreateLeadInput) -> dict[str, list[str]]:
    caller = ctx.caller
    brands = [str(b) for b in data.brand_ids] if data.brand_ids is not None else []
    if caller.role == "brand_member":
        if brands and brands != [caller.brand_id]:
            raise Forbidden(f"a brand member files leads for its own brand only ({caller.brand_id})")
        brands = [str(caller.brand_id)]
    refs = {fld: [str(v) for v in getattr(data, fld)] for fld, *_ in _REFS if fld != "brand_ids"}
    refs["brand_ids"] = brands
    if not brands:
        raise UserError("a lead is on behalf of at least one brand: give brandIds")
    if not any(refs[f] for f in ("seller_ids", "shop_ids", "site_ids", "person_ids")):
        raise UserError("a lead concerns at least one seller, shop, site or person")
    for fld, values in refs.items():
        if len(values) > MAX_REFS:
            raise UserError(f"{fld}: at most {MAX_REFS} ids")
        refs[fld] = list(dict.fromkeys(values))
    return refs


async def check_refs(ctx: Context, refs: dict[str, list[str]]) -> None:
    records = await access.read_async(ctx.driver, ctx.database, missing_query(scope.kind(ctx.caller)),
                                      {**refs, **ctx.scope},
                                      timeout=ctx.timeout, name="lead:refs")
    missing = [f"{what}: {', '.join(records[0][fld])}" for fld, _, _, _, what in _REFS
               if records[0][fld]]
    if missing:
        raise UserError(f"{UNKNOWN_REFS} - " + "; ".join(missing))


def _lead_props(data: CreateLeadInput, ctx: Context) -> dict[str, Any]:
    if data.estimated_value_cny is not None and data.estimated_value_cny < 0:
        raise UserError("estimatedValueCny must not be negative")
    props = {"title": data.title, "note": data.note, "estimated_value_cny": data.estimated_value_cny,
             "created_by": ctx.caller.sub, **provenance(ctx)}
    return {k: v for k, v in props.items() if v is not None}


LEAD_TAKEN: LiteralString = "MATCH (l:Lead {lead_id: $lead_id}) RETURN count(l) > 0 AS taken"


def lead_id_taken(lead_id: str) -> UserError:
    """The one answer for a leadId in use, whoever's lead it is (no more is said)."""
    return UserError(f"leadId {lead_id!r} cannot be used; give another or leave leadId out "
                     "for a new one")


async def _check_lead_id(ctx: Context, lead_id: str) -> None:
    records = await access.read_async(ctx.driver, ctx.database, LEAD_TAKEN, {"lead_id": lead_id},
                                      timeout=ctx.timeout, name="lead:id")
    if records and records[0]["taken"]:
        raise lead_id_taken(lead_id)


async def create_lead(ctx: Context, data: CreateLeadInput) -> Any:
    if ctx.caller.role not in lifecycle.LEAD_CREATORS:
        raise Forbidden(f"role {ctx.caller.role!r} may not create leads; "
                        f"allowed roles: {list(lifecycle.LEAD_CREATORS)}")
    refs = lead_refs(ctx, data)
    await check_refs(ctx, refs)
    lead_id = str(data.lead_id) if data.lead_id else new_lead_id()
    await _check_lead_id(ctx, lead_id)
    params = {"lead_id": lead_id, "props": _lead_props(data, ctx), "prov": provenance(ctx),
              "event": status_event(ctx, None, "draft", data.note), **refs}
    try:
        await access.write_async(ctx.driver, ctx.database, [Statement(CREATE_QUERY, params)],
                                 name="lead:create")
    except UserError as exc:
        # Created meanwhile by someone else: the constraint's own message names the
        # other node by its internal id, which is not for the caller.
        if type(exc) is UserError and str(exc).startswith("already exists"):
            raise lead_id_taken(lead_id) from None
        raise
    await _audited(ctx, "lead.create", [lead_id], {"refs": refs})
    return await fetch_node(ctx, "Lead", lead_id)


async def move_lead(ctx: Context, lead_id: str, target: str, note: str | None) -> Any:
    if target in ("pushed", "filed"):
        how = "pushLead" if target == "pushed" else "openCase"
        raise IllegalTransition(f"a lead becomes {target!r} through {how}")
    state = await lead_state(ctx, lead_id)
    _check(lifecycle.check_lead_move, state.status, target, ctx.caller)
    if target in ("registered", "declined", "transferred"):
        check_liaison_owns(ctx.caller, state.agency_adcodes, f"lead {lead_id!r}")
    event = status_event(ctx, state.status, target, note)
    await access.write_async(ctx.driver, ctx.database, [Statement(
        MOVE_LEAD, {"id": lead_id, "from": state.status, "to": target, "event": event},
        must_match=True, what=f"lead {lead_id!r}")], name="lead:status")
    await _audited(ctx, "lead.status", [lead_id], {"from": state.status, "to": target, "note": note})
    return await fetch_node(ctx, "Lead", lead_id)


async def push_lead(ctx: Context, lead_id: str, agency_id: str, note: str | None) -> Any:
    state = await lead_state(ctx, lead_id)
    _check(lifecycle.check_lead_move, state.status, "pushed", ctx.caller)
    await agency_adcode(ctx, agency_id)
    event = status_event(ctx, state.status, "pushed", note, "pushed", agency_id)
    await access.write_async(ctx.driver, ctx.database, [Statement(
        PUSH_LEAD, {"id": lead_id, "from": state.status, "agency_id": agency_id, "event": event,
                    "prov": provenance(ctx)}, must_match=True, what=f"lead {lead_id!r}")],
        name="lead:push")
    await _audited(ctx, "lead.push", [lead_id, agency_id], {"from": state.status, "note": note})
    return await fetch_node(ctx, "Lead", lead_id)


def _case_props(data: OpenCaseInput, ctx: Context) -> dict[str, Any]:
    if data.case_value_cny is not None and data.case_value_cny < 0:
        raise UserError("caseValueCny must not be negative")
    props = {"title": data.title, "charge": data.charge, "case_value_cny": data.case_value_cny,
             "opened_on": data.opened_on or datetime.now(UTC).date(), "arrests": 0, "dens_destroyed": 0,
             **provenance(ctx)}
    return {k: v for k, v in props.items() if v is not None}


async def open_case(ctx: Context, lead_id: str, data: OpenCaseInput) -> Any:
    state = await lead_state(ctx, lead_id)
    _check(lifecycle.check_lead_move, state.status, "filed", ctx.caller)
    check_liaison_owns(ctx.caller, state.agency_adcodes, f"lead {lead_id!r}")
    agency_id = str(data.agency_id or ctx.caller.agency_id or "")
    if not agency_id:
        raise UserError("give agencyId: the agency that handles the case")
    adcode = await agency_adcode(ctx, agency_id)
    check_liaison_owns(ctx.caller, [adcode] if adcode else [], f"agency {agency_id!r}")
    params = {"lead_id": lead_id, "from": state.status, "agency_id": agency_id, "case_id": str(data.case_id),
              "props": _case_props(data, ctx), "prov": provenance(ctx),
              "lead_event": status_event(ctx, state.status, "filed", None, "case_opened",
                                          str(data.case_id)),
              "case_event": status_event(ctx, None, "open", data.title)}
    await access.write_async(ctx.driver, ctx.database, [Statement(
        OPEN_CASE, params, must_match=True, what=f"lead {lead_id!r}")], name="case:open")
    await _audited(ctx, "case.open", [str(data.case_id), lead_id, agency_id], {"charge": data.charge})
    return await fetch_node(ctx, "Case", str(data.case_id))


def case_moves(ctx: Context, case_id: str, old: str, new: str, leads: list[dict[str, Any]],
               note: str | None, by_raid: bool = False) -> list[Statement]:
    """The case's status change (made by recording a raid, when `by_raid`) and its leads
    following it. A raid's event does not name the site: whoever may not see the site
    may still read the case's events."""
    if old == new:
        return []
    moves = [Statement(MOVE_CASE, {"id": case_id, "from": old, "to": new,
                                   "event": status_event(ctx, old, new, note,
                                                         "raid" if by_raid else None)},
                       must_match=True, what=f"case {case_id!r}")]
    for lead in leads:
        follow = lifecycle.lead_follows_case(lead["status"], new)
        if follow:
            moves.append(Statement(MOVE_LEAD, {
                "id": lead["lead_id"], "from": lead["status"], "to": follow,
                "event": status_event(ctx, lead["status"], follow, None, "case_moved", case_id)},
                must_match=True, what=f"lead {lead['lead_id']!r}"))
    return moves


async def move_case(ctx: Context, case_id: str, target: str, note: str | None) -> Any:
    status, leads = await case_state(ctx, case_id)
    _check(lifecycle.check_case_move, status, target, ctx.caller)
    await access.write_async(ctx.driver, ctx.database,
                             case_moves(ctx, case_id, status, target, leads, note), name="case:status")
    await refresh_risk(ctx, case_id, None)
    await _audited(ctx, "case.status", [case_id], {"from": status, "to": target, "note": note})
    return await fetch_node(ctx, "Case", case_id)


@dataclass(frozen=True)
class RaidInput:
    case_id: str
    site_id: str
    raided_on: date
    seized_value_cny: float = 0.0
    arrests: int = 0
    dens_destroyed: int = 0


async def refresh_risk(ctx: Context, case_id: str, site_id: str | None) -> None:
    """Rewrite the stored risk of the networks a raid or a case's status moves, right
    after it, so `networks(orderBy: RISK)` follows at once. The change itself is already
    written: when this fails, it is logged and the score waits for the next
    `alliance analyze networks`."""
    try:
        await access.write_async(ctx.driver, ctx.database, [Statement(
            risk.REFRESH_STORED, risk.refresh_params(case_id=case_id, site_id=site_id))],
            name="risk:refresh")
    except (AllianceError, neo4j.exceptions.Neo4jError) as exc:
        log.warning("stored network risk not refreshed after case %s: %s", case_id, exc,
                    extra={"request_id": ctx.request_id})


async def check_raid_site(ctx: Context, case_id: str, site_id: str) -> None:
    """NotFound for a site the caller may not see (as for an unknown one); OutOfJurisdiction
    for a site outside the jurisdiction of the agency handling the case."""
    records = await access.read_async(ctx.driver, ctx.database, RAID_SITE,
                                      {"case_id": case_id, "site_id": site_id, **ctx.scope},
                                      timeout=ctx.timeout, name="case:raid-site")
    if not records:
        raise NotFound(f"no site {site_id!r}")
    r = records[0]
    if r["inside"]:
        return
    handled = ", ".join(f"{a['agency_id']} (division {a['adcode']} and below)" for a in r["agencies"])
    where = (f"lies in division {', '.join(sorted(r['site_adcodes']))}" if r["site_adcodes"]
             else "has no address in a known division")
    raise OutOfJurisdiction(
        f"a raid on site {site_id!r} cannot be recorded on case {case_id!r}: the site {where}, "
        f"outside the jurisdiction of the agency handling the case: {handled or 'none'}")


def _check_raid(data: RaidInput) -> None:
    for name, value in (("seizedValueCny", data.seized_value_cny), ("arrests", data.arrests),
                        ("densDestroyed", data.dens_destroyed)):
        if value < 0:
            raise UserError(f"{name} must not be negative")
    if data.raided_on > datetime.now(UTC).date():
        raise UserError(f"raidedOn {data.raided_on} is in the future")


async def record_raid(ctx: Context, data: RaidInput) -> Any:
    _check_raid(data)
    case_id = str(data.case_id)
    status, leads = await case_state(ctx, case_id)
    target = "raided" if status in ("open", "investigating") else status
    if status != "raided":
        _check(lifecycle.check_case_move, status, target, ctx.caller)
    elif ctx.caller.role not in lifecycle.CASE_MOVERS:
        raise Forbidden(f"role {ctx.caller.role!r} may not record raids")
    await check_raid_site(ctx, case_id, str(data.site_id))
    raid = Statement(RECORD_RAID, {
        "case_id": case_id, "from": status, "site_id": str(data.site_id), "raided_on": data.raided_on,
        "arrests": data.arrests, "dens": data.dens_destroyed, "seized": data.seized_value_cny,
        "prov": provenance(ctx)}, must_match=True, what=f"case {case_id!r} or site {data.site_id!r}")
    moves = case_moves(ctx, case_id, status, target, leads, None, by_raid=True)
    await access.write_async(ctx.driver, ctx.database, [raid, *moves], name="case:raid")
    await refresh_risk(ctx, case_id, str(data.site_id))
    await _audited(ctx, "case.raid", [case_id, str(data.site_id)],
                   {"raided_on": data.raided_on.isoformat(), "arrests": data.arrests,
                    "dens_destroyed": data.dens_destroyed, "seized_value_cny": data.seized_value_cny})
    return await fetch_node(ctx, "Case", case_id)


@strawberry.type
class LeadsMutation:
    @strawberry.mutation(description="A new lead in status draft (brand members: for their own brand).",
                         graphql_type=Optional[LeadType])  # noqa: UP045
    async def create_lead(self, info: strawberry.Info, input: CreateLeadInput) -> Any:
        return await create_lead(info.context, input)

    @strawberry.mutation(description="Push a verified (or transferred) lead to an agency.",
                         graphql_type=Optional[LeadType])  # noqa: UP045
    async def push_lead(self, info: strawberry.Info, lead_id: strawberry.ID, agency_id: strawberry.ID,
                        note: str | None = None) -> Any:
        return await push_lead(info.context, str(lead_id), str(agency_id), note)

    @strawberry.mutation(description="Move a lead along its lifecycle (see leadLifecycle).",
                         graphql_type=Optional[LeadType])  # noqa: UP045
    async def update_lead_status(self, info: strawberry.Info, lead_id: strawberry.ID, status: str,
                                 note: str | None = None) -> Any:
        return await move_lead(info.context, str(lead_id), status, note)

    @strawberry.mutation(description="Open a case from a registered lead; the lead becomes filed.",
                         graphql_type=Optional[CaseType])  # noqa: UP045
    async def open_case(self, info: strawberry.Info, lead_id: strawberry.ID, input: OpenCaseInput) -> Any:
        return await open_case(info.context, str(lead_id), input)

    @strawberry.mutation(description="Record a raid on a site: the site becomes raided, the case "
                                     "raided, and the case totals add the raid's figures.",
                         graphql_type=Optional[CaseType])  # noqa: UP045
    async def record_raid(self, info: strawberry.Info, case_id: strawberry.ID, site_id: strawberry.ID,
                          raided_on: date, seized_value_cny: float = 0.0, arrests: int = 0,
                          dens_destroyed: int = 0) -> Any:
        return await record_raid(info.context, RaidInput(
            case_id=str(case_id), site_id=str(site_id), raided_on=raided_on,
            seized_value_cny=seized_value_cny, arrests=arrests, dens_destroyed=dens_destroyed))

    @strawberry.mutation(description="Move a case along its lifecycle; its lead follows.",
                         graphql_type=Optional[CaseType])  # noqa: UP045
    async def update_case_status(self, info: strawberry.Info, case_id: strawberry.ID, status: str,
                                 note: str | None = None) -> Any:
        return await move_case(info.context, str(case_id), status, note)
