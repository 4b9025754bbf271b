"""`GET /leads/{leadId}/dossier.json` and `.html`: the dossier as a file to keep.

Both take a bearer token like `/graphql`, or the workbench's session cookie
(`api.deps.caller_from_request`); both are audited (`dossier.read`). The JSON is the
dossier with camelCase keys, and its errors are answered by the app's handler
(`api.errors.STATUS`). The HTML is the printable page of `api.dossier_page` in the
language of `?lang=zh-CN|en`, else of the browser's `Accept-Language`; its errors (not
signed in, no such lead, a role that reads no dossiers, the database away) are a page in
that language, with the status of `api.errors.STATUS`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api import dossier_page
from api.context import Context
from api.deps import CallerDep, DatabaseDep, DriverDep, RequestIdDep, caller_from_request, get_driver
from api.dossier import Dossier, as_data, read_dossier
from api.dossier_text import language
from api.errors import HEADERS, http_status, public_code, rest_body
from api.jsonio import FastJSONResponse
from api.types import camel
from core.errors import AllianceError

STYLE = dossier_page.STYLE
"""The page's one <style> (the CSP of `api.web.security` allows it by its hash)."""

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
async def dossier_html(request: Request, lead_id: str, database: DatabaseDep, request_id: RequestIdDep,
                       lang: str | None = Query(None, description="zh-CN or en; else Accept-Language.")
                       ) -> HTMLResponse:
    chosen = language(lang, request.headers.get("accept-language"))
    try:
        driver = await get_driver(request)
        caller = await caller_from_request(request, driver, database)
        d = await _dossier(request, lead_id, "html", driver, database, caller, request_id)
    except AllianceError as exc:
        rest_body(exc, request_id)  # logs an error of the server's own (status 500) with the request id
        code = public_code(exc)
        return HTMLResponse(dossier_page.error_page(chosen, code, request_id), status_code=http_status(exc),
                            headers={**HEADERS.get(code, {}), "Content-Language": chosen})
    return HTMLResponse(dossier_page.render(d, chosen), headers={"Content-Language": chosen})


