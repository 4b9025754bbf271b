"""Exports for other tools: a network, a lead or a saved query's result as FollowTheMoney
entities (`ftm.jsonl`), GraphML, GEXF or Gephi's CSV edge table (`gephi.csv`).

`GET /exports/network/{network_id}.{fmt}`, `GET /exports/lead/{lead_id}.{fmt}` and
`GET /exports/query/{name}.{fmt}?<the query's parameters>` answer with a download; the
CLI (`alliance export`) calls `export` the same way. The selection is gathered by
`graph.exports` with the caller's own rule of `api.scope` (`rule`: one small query per
label, as the dossier does): only nodes the caller may see are reached and written, a
relationship needs both its ends, a shared identifier both its sellers, and its key
shows only to a caller who may see the identifier itself. A network or lead the
caller may not see answers NOT_FOUND like an unknown id. A saved query runs as the
caller (its roles, its hidden columns); the export holds the nodes whose keys appear in
the columns the caller sees. Every export is audited (`export.read`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, LiteralString, cast

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api import saved_queries, scope
from api.context import Context
from api.deps import CallerDep, DatabaseDep, DriverDep, RequestIdDep
from core.errors import NotFound, UserError
from graph import access, audit, exports, exports_ftm, exports_graph, query_library
from graph.exports import Selection

KINDS = ("network", "lead", "query")
FORMATS: dict[str, str] = {
    "ftm.jsonl": "application/x-ndjson",
    "graphml": "application/graphml+xml",
    "gexf": "application/gexf+xml",
    "gephi.csv": "text/csv; charset=utf-8",
}
"""Each format by its file suffix, with the media type of its download."""
BOM = "\ufeff"
_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class UnknownFormat(UserError):
    def __init__(self, given: str) -> None:
        shown = given if len(given) <= 60 else given[:60] + "..."
        super().__init__(f"{shown!r} does not end with a known export format; use one of "
                         + ", ".join(f".{f}" for f in FORMATS))


@dataclass(frozen=True)
class Export:
    """A written export: its file name, media type, bytes and what it holds."""
    filename: str
    media_type: str
    body: bytes
    nodes: int
    edges: int
    truncated: bool


def split_format(file: str) -> tuple[str, str]:
    """`L0001.ftm.jsonl` -> (`L0001`, `ftm.jsonl`); UnknownFormat for another suffix."""
    for fmt in sorted(FORMATS, key=len, reverse=True):
        if file.endswith("." + fmt) and len(file) > len(fmt) + 1:
            return file[: -len(fmt) - 1], fmt
    raise UnknownFormat(file)


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise UnknownFormat(fmt)
    return fmt


# --- scoping --------------------------------------------------------------------------


@lru_cache(maxsize=128)
def visible_keys_query(who: scope.Kind, label: str) -> LiteralString | None:
    """The caller kind's rule for `label` as a query over `$keys`; None when it passes no
    node of `label`."""
    if scope.visible_as(who, label, "n") == "false":
        return None
    return cast(LiteralString, scope.visible_keys(who, label))


def rule(ctx: Context) -> exports.Visibility:
    """The caller's rule (`api.scope`), for the walks of `graph.exports`."""
    who = scope.kind(ctx.caller)
    sees_all = all(scope.visible_as(who, label, "n") == "true" for label in exports.EXPORT_LABELS)
    return exports.Visibility(lambda label: visible_keys_query(who, label), ctx.scope, sees_all)


async def _walk(ctx: Context, gen: access.Steps, name: str) -> Any:
    return await access.steps_async(ctx.driver, ctx.database, gen, timeout=ctx.timeout, name=name)


def query_refs(result: query_library.QueryResult) -> list[tuple[str, str]]:
    """Every text value of the result's columns (lists too), tried as a key of each label
    an export may hold; hidden columns hold `(hidden)`, which is no key."""
    values: set[str] = set()
    for row in result.rows:
        for value in row.values():
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, str) and v and v != query_library.HIDDEN:
                    values.add(v)
    return [(label, v) for label in exports.EXPORT_LABELS for v in sorted(values)]


async def _query(ctx: Context, name: str, params: dict[str, Any] | None) -> tuple[Selection, dict[str, Any]]:
    result = await saved_queries.execute(ctx.driver, ctx.database, ctx.caller, name, params,
                                         ctx.request_id)
    found: Selection = await _walk(ctx, exports.keys_walk(f"query-{name}", query_refs(result), rule(ctx)),
                                   "export:query")
    found.truncated = found.truncated or result.truncated
    return found, {"rows": len(result.rows)}


async def selection(ctx: Context, kind: str, key: str, params: dict[str, Any] | None = None
                    ) -> tuple[Selection, dict[str, Any]]:
    """What the caller may see of a network, a lead or a saved query's result; NotFound
    for a network or lead there is none of or the caller may not see."""
    if kind == "query":
        return await _query(ctx, key, params)
    walks = {"network": exports.network_walk, "lead": exports.lead_walk}
    if kind not in walks:
        raise UserError(f"export what? {kind!r} is not one of {', '.join(KINDS)}")
    found: Selection | None = await _walk(ctx, walks[kind](key, rule(ctx)), f"export:{kind}")
    if found is None:
        raise NotFound(f"no {kind} {key!r}")
    return found, {}


# --- writing --------------------------------------------------------------------------


def write(sel: Selection, fmt: str) -> bytes:
    """The selection in format `fmt` (a key of FORMATS)."""
    if fmt == "ftm.jsonl":
        return b"".join(exports_ftm.lines(sel))
    if fmt == "graphml":
        return exports_graph.graphml(sel)
    if fmt == "gexf":
        return exports_graph.gexf(sel)
    lines: Iterator[str] = exports_graph.gephi_csv(sel)
    return (BOM + "".join(lines)).encode("utf-8")


def file_name(sel: Selection, fmt: str) -> str:
    return (_FILE_NAME.sub("_", sel.name)[:100] or "export") + "." + fmt


async def export(ctx: Context, kind: str, key: str, fmt: str,
                 params: dict[str, Any] | None = None) -> Export:
    """The export of `kind` (`network`, `lead`, `query`) `key` in `fmt`, scoped to the
    context's caller, and its `export.read` audit event."""
    check_format(fmt)
    sel, details = await selection(ctx, kind, key, params)
    body = write(sel, fmt)
    done = Export(file_name(sel, fmt), FORMATS[fmt], body, len(sel.items),
                  len(sel.links) + len(sel.shared), sel.truncated)
    await audit.append_async(ctx.driver, ctx.database, audit.event(
        ctx.caller, "export.read", ids=[key], request_id=ctx.request_id,
        details={"kind": kind, "format": fmt, "nodes": done.nodes, "edges": done.edges,
                 "truncated": done.truncated, **({"params": params} if params else {}), **details}))
    return done


# --- REST -----------------------------------------------------------------------------

router = APIRouter(prefix="/exports", tags=["exports"])


async def _answer(request: Request, kind: str, file: str, driver: Any, database: str,
                  caller: Any, request_id: str, params: dict[str, Any] | None = None) -> Response:
    key, fmt = split_format(file)
    ctx = Context(driver=driver, database=database, caller=caller, request_id=request_id,
                  timeout=request.app.state.query_timeout)
    done = await export(ctx, kind, key, fmt, params)
    headers = {"Content-Disposition": f'attachment; filename="{done.filename}"',
               "X-Truncated": "true" if done.truncated else "false",
               "X-Node-Count": str(done.nodes), "X-Edge-Count": str(done.edges)}
    return Response(done.body, media_type=done.media_type, headers=headers)


@router.get("/network/{file}", summary="A stored network as FtM, GraphML, GEXF or Gephi CSV.")
async def network_export(request: Request, file: str, driver: DriverDep, database: DatabaseDep,
                         caller: CallerDep, request_id: RequestIdDep) -> Response:
    return await _answer(request, "network", file, driver, database, caller, request_id)


@router.get("/lead/{file}", summary="A lead as FtM, GraphML, GEXF or Gephi CSV.")
async def lead_export(request: Request, file: str, driver: DriverDep, database: DatabaseDep,
                      caller: CallerDep, request_id: RequestIdDep) -> Response:
    return await _answer(request, "lead", file, driver, database, caller, request_id)


@router.get("/query/{file}", summary="A saved query's result as FtM, GraphML, GEXF or Gephi CSV.")
async def query_export(request: Request, file: str, driver: DriverDep, database: DatabaseDep,
                       caller: CallerDep, request_id: RequestIdDep) -> Response:
    return await _answer(request, "query", file, driver, database, caller, request_id,
                         saved_queries.query_params(request))
