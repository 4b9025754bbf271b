"""Saved queries over the API: GraphQL `savedQueries` / `runSavedQuery` and REST
`GET /queries`, `GET /queries/{name}.json`, `GET /queries/{name}.csv`.

The library in `queries/` is loaded and checked (EXPLAIN, read-only) once per database,
at start-up when the lifespan calls `startup`, otherwise on first use. A query that failed
its checks is logged with the reason and answers 409 / QUERY_UNAVAILABLE; the others run.
Roles come from each query's header; the server parameters (`$_user`, `$_role`,
`$_agency_adcodes`, ...) from the verified caller. Columns the caller may not see
(`graph.query_library.may_see`) come back as `(hidden)`; CSV cells a spreadsheet would
run as formulas get a leading quote. When Neo4j does not answer, every path here fails
within about two seconds with DATABASE_UNAVAILABLE (503 over REST). The library's
errors are `AllianceError`s (`graph.query_files`) and are raised as they are: the GraphQL
error shows their code, the REST answer has its status (`api.errors.STATUS`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import neo4j
import strawberry
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from strawberry.scalars import JSON

from api.context import Context
from api.deps import CallerDep, DatabaseDep, DriverDep, RequestIdDep
from core.errors import UserError
from graph import query_library
from graph.caller import Caller

log = logging.getLogger("api.saved_queries")

BOM = "\ufeff"


class LibraryHolder:
    """The checked library, per database, built once (start-up or first request)."""

    def __init__(self, directory: Path = query_library.QUERIES_DIR) -> None:
        self.directory = directory
        self._libraries: dict[str, query_library.Library] = {}
        self._files: query_library.Library | None = None
        self._lock = asyncio.Lock()

    async def get(self, driver: neo4j.AsyncDriver, database: str) -> query_library.Library:
        if database not in self._libraries:
            async with self._lock:
                if database not in self._libraries:
                    library = await query_library.load_checked_async(driver, database, self.directory)
                    for name, reason in library.problems.items():
                        log.error("saved query %s cannot run: %s", name, reason)
                    self._libraries[database] = library
        return self._libraries[database]

    def row_cap(self, database: str, name: str) -> int:
        """The row cap of query `name`, for the cost of running it: from the checked library
        when there is one, otherwise from the files; the default for a name not known."""
        library = self._libraries.get(database) or self._parsed()
        query = library.queries.get(name)
        return query.max_rows if query is not None else query_library.DEFAULT_MAX_ROWS

    def _parsed(self) -> query_library.Library:
        if self._files is None:
            self._files = (query_library.load(self.directory) if self.directory.is_dir()
                           else query_library.Library(self.directory))
        return self._files

    def reset(self, directory: Path | None = None) -> None:
        self._libraries.clear()
        self._files = None
        self._lock = asyncio.Lock()
        if directory is not None:
            self.directory = directory


LIBRARY = LibraryHolder()


async def startup(driver: neo4j.AsyncDriver, database: str) -> query_library.Library:
    """Check the library now (for the API's lifespan); failures are logged, not raised."""
    return await LIBRARY.get(driver, database)


# ---------------------------------------------------------------- shared steps


def visible(library: query_library.Library, caller: Caller) -> list[query_library.SavedQuery]:
    """The queries `caller` may run, by name."""
    return [q for _, q in sorted(library.queries.items()) if q.allows(caller.role)]


async def execute(
    driver: neo4j.AsyncDriver, database: str, caller: Caller, name: str,
    params: dict[str, Any] | None, request_id: str,
) -> query_library.QueryResult:
    library = await LIBRARY.get(driver, database)
    query = library.get(name)
    return await query_library.run_async(driver, database, query, params, caller, request_id=request_id)


def query_params(request: Request) -> dict[str, Any]:
    """URL parameters; a name given twice becomes a list."""
    return query_library.collect_params(request.query_params.multi_items())


# ---------------------------------------------------------------- GraphQL


@strawberry.type(description="A parameter of a saved query.")
class SavedQueryParam:
    name: str
    type: str = strawberry.field(description="string, int, float, bool, date or list of string")
    description: str
    required: bool
    default: JSON | None


@strawberry.type(description="A saved, checked, read-only Cypher query.")
class SavedQuery:
    name: str
    title: str
    description: str
    params: list[SavedQueryParam]
    roles: list[str]
    max_rows: int


@strawberry.type(description="The rows of a saved query run.")
class QueryResult:
    name: str
    columns: list[str]
    rows: list[JSON] = strawberry.field(description="One JSON object per row, by column.")
    truncated: bool = strawberry.field(description="True when the row cap cut the result.")
    elapsed_ms: float


def saved_query_type(query: query_library.SavedQuery) -> SavedQuery:
    return SavedQuery(
        name=query.name, title=query.title, description=query.description,
        params=[SavedQueryParam(**p.describe()) for p in query.params],
        roles=list(query.roles), max_rows=query.max_rows,
    )


@strawberry.type
class SavedQueriesQuery:
    @strawberry.field(description="The saved queries the caller may run.")
    async def saved_queries(self, info: strawberry.Info) -> list[SavedQuery]:
        ctx: Context = info.context
        library = await LIBRARY.get(ctx.driver, ctx.database)
        return [saved_query_type(q) for q in visible(library, ctx.caller)]

    @strawberry.field(description="Run a saved query by name (read-only, audited).")
    async def run_saved_query(self, info: strawberry.Info, name: str,
                              params: JSON | None = None) -> QueryResult:
        ctx: Context = info.context
        if params is not None and not isinstance(params, dict):
            raise UserError("params: give a JSON object of parameter names to values")
        result = await execute(ctx.driver, ctx.database, ctx.caller, name, params, ctx.request_id)
        return QueryResult(name=result.name, columns=result.columns, rows=cast(list[JSON], result.rows),
                           truncated=result.truncated, elapsed_ms=result.elapsed_ms)


# ---------------------------------------------------------------- REST


router = APIRouter(prefix="/queries", tags=["saved queries"])


@router.get("", summary="The saved queries the caller may run.")
async def list_queries(caller: CallerDep, driver: DriverDep, database: DatabaseDep) -> JSONResponse:
    library = await LIBRARY.get(driver, database)
    return JSONResponse({"queries": [query_library.describe(q) for q in visible(library, caller)]})


@router.get("/{name}.json", summary="Run a saved query; rows as JSON.")
async def run_json(request: Request, name: str, caller: CallerDep, driver: DriverDep,
                   database: DatabaseDep, request_id: RequestIdDep) -> JSONResponse:
    result = await execute(driver, database, caller, name, query_params(request), request_id)
    return JSONResponse({"query": result.name, "columns": result.columns, "rows": result.rows,
                         "truncated": result.truncated, "elapsed_ms": result.elapsed_ms})


def _csv_chunks(result: query_library.QueryResult) -> Iterator[bytes]:
    yield BOM.encode("utf-8")
    for line in query_library.csv_lines(result.columns, result.rows):
        yield line.encode("utf-8")


async def _stream(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


@router.get("/{name}.csv", summary="Run a saved query; rows as CSV (UTF-8 with BOM).")
async def run_csv(request: Request, name: str, caller: CallerDep, driver: DriverDep,
                  database: DatabaseDep, request_id: RequestIdDep) -> StreamingResponse:
    result = await execute(driver, database, caller, name, query_params(request), request_id)
    headers = {
        "Content-Disposition": f'attachment; filename="{result.name}.csv"',
        "X-Truncated": json.dumps(result.truncated),
        "X-Row-Count": str(len(result.rows)),
    }
    return StreamingResponse(_stream(_csv_chunks(result)), media_type="text/csv; charset=utf-8",
                             headers=headers)
