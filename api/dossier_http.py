"""`GET /leads/{leadId}/dossier.json` and `.html`: the dossier as a file to keep.

Both need a bearer token like `/graphql`; both are audited (`dossier.read`). The JSON is
the dossier with camelCase keys; the HTML is a printable page with every item and the
SHA-256 manifest at the end (the same hashes as the JSON's `manifest`). Errors (no such
lead, a role that reads no dossiers, the database away) are raised as they are and
answered by the app's handler (`api.errors.STATUS`).
"""

from __future__ import annotations

from functools import lru_cache
from html import escape
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.context import Context
from api.deps import CallerDep, DatabaseDep, DriverDep, RequestIdDep
from api.dossier import Dossier, as_data, read_dossier
from api.jsonio import FastJSONResponse
from api.types import camel

router = APIRouter()


@lru_cache(maxsize=512)
def json_key(name: str) -> str:
    return camel(name.rstrip("_"))


def as_json(d: Dossier) -> dict[str, Any]:
    """The dossier with the GraphQL API's camelCase names."""
    return as_data(d, json_key)


async def _dossier(request: Request, lead_id: str, form: str, driver: Any, database: str,
                   caller: Any, request_id: str) -> Dossier:
    ctx = Context(driver=driver, database=database, caller=caller, request_id=request_id,
                  timeout=request.app.state.query_timeout)
    return await read_dossier(ctx, lead_id, form=form)


@router.get("/leads/{lead_id}/dossier.json", summary="A lead's dossier as JSON (audited).")
async def dossier_json(request: Request, lead_id: str, driver: DriverDep, database: DatabaseDep,
                       caller: CallerDep, request_id: RequestIdDep) -> FastJSONResponse:
    d = await _dossier(request, lead_id, "json", driver, database, caller, request_id)
    return FastJSONResponse(as_json(d))


@router.get("/leads/{lead_id}/dossier.html", summary="A lead's dossier as a printable page (audited).")
async def dossier_html(request: Request, lead_id: str, driver: DriverDep, database: DatabaseDep,
                       caller: CallerDep, request_id: RequestIdDep) -> HTMLResponse:
    d = await _dossier(request, lead_id, "html", driver, database, caller, request_id)
    return HTMLResponse(render(d))


# --- HTML -----------------------------------------------------------------------------

STYLE = """
body { font-family: sans-serif; margin: 2em; color: #111; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.6em; border-bottom: 1px solid #999; }
table { border-collapse: collapse; width: 100%; font-size: 0.85em; }
th, td { border: 1px solid #bbb; padding: 3px 6px; text-align: left; vertical-align: top; }
code { font-size: 0.8em; word-break: break-all; }
@media print { body { margin: 0; } h2 { page-break-after: avoid; } }
"""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return escape(", ".join(str(v) for v in value))
    return escape(str(value))


def table(rows: list[Any], columns: list[str]) -> str:
    if not rows:
        return "<p>None.</p>"
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(getattr(r, c, None))}</td>" for c in columns) + "</tr>"
        for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _traces(d: Dossier) -> str:
    parts = []
    for t in d.traces:
        parts.append(f"<h3>{escape(t.subject.label)} {escape(t.subject.key)}</h3>")
        if not t.sites:
            parts.append("<p>No path to an offline site.</p>")
        for s in t.sites:
            parts.append(f"<p><b>Site {escape(str(s.site.site_id))}</b> ({_cell(s.site.kind)}, "
                         f"{_cell(s.site.status)}) score {s.score:.3f}</p><ul>")
            for p in s.paths:
                hops = " &rarr; ".join(
                    f"{escape(h.from_.label)} {escape(h.from_.caption)} -[{escape(h.type)}]-"
                    for h in p.hops)
                last = p.hops[-1].to if p.hops else None
                end = f"{escape(last.label)} {escape(last.caption)}" if last else ""
                parts.append(f"<li>{escape(p.kind)} (weight {p.weight:.3f}): {hops} {end}</li>")
            parts.append("</ul>")
    return "".join(parts) or "<p>No seller or shop subjects.</p>"


def render(d: Dossier) -> str:
    v = d.value
    sections = [
        ("Lead", f"<p>Status <b>{_cell(d.status)}</b>; created {_cell(d.created_on)}; pushed "
                 f"{_cell(d.pushed_on)}; on behalf of {_cell(d.brand_ids)}.</p><p>{_cell(d.note)}</p>"),
        ("Estimated value", f"<p>{_cell(v.estimated_value_cny)} CNY: <b>{escape(v.level)}</b> "
                            f"(filing threshold {v.filing_threshold_cny:,.0f} CNY, especially serious "
                            f"{v.serious_threshold_cny:,.0f} CNY).</p>"),
        ("Agencies", table(d.agencies, ["agency_id", "name", "level", "adcode", "pushed_on"])),
        ("Cases", table(d.cases, ["case_id", "status", "title", "opened_on", "agency_id"])),
        ("Subjects", table(d.subjects, ["label", "key", "caption", "status", "network_id",
                                        "network_size", "address", "adcode"])),
        ("Traces to offline sites", _traces(d)),
        ("Test purchases", table(d.test_purchases, ["purchase_id", "listing_id", "brand_id", "ordered_on",
                                                    "verdict", "verdict_on", "report_no", "shipment_id"])),
        ("Complaints", table(d.complaints, ["complaint_id", "brand_id", "kind", "outcome", "filed_on",
                                            "target"])),
        ("Shipments", table(d.shipments, ["shipment_id", "carrier", "waybill_no", "shipped_on", "origin",
                                          "origin_adcode", "shop_id"])),
        ("Timeline", table(d.timeline, ["at", "who", "role", "from_status", "to_status", "note"])),
        ("Conflicts (other open leads and cases)", table(d.conflicts, ["kind", "id", "status", "brand_ids",
                                                                       "agency_id", "via"])),
        ("Manifest (SHA-256)", table(d.manifest.items, ["kind", "id", "sha256"])
         + f"<p>Manifest SHA-256: <code>{escape(d.manifest.sha256)}</code></p>"),
    ]
    body = "".join(f"<h2>{escape(title)}</h2>{html}" for title, html in sections)
    title = f"Dossier {d.lead_id}" + (f": {d.title}" if d.title else "")
    return (f"<!doctype html><html lang=\"zh\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>"
            f"<p>Generated {escape(d.generated_at)} for {escape(d.generated_for)}.</p>{body}</body></html>")
