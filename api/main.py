"""The FastAPI application: `/graphql`, `/healthz`, `/readyz`, `/metrics`, and for a
browser the workbench at `/`, its files at `/static/`, sign-in and sign-out (`api.web`).

One async Neo4j driver per process, opened in the lifespan and handed to every request
through the GraphQL context. Every response carries `X-Request-ID`; the same id is in
the access log line, in GraphQL errors and in the JSON of every HTTP error
(`{"detail": ..., "requestId": ...}`). Routes raise `AllianceError`s and one handler
answers them with the status of their code (`api.errors.STATUS`). A request body over
`max_body` bytes is refused with 413 before it is read. Every response carries the
security headers of `api.web.security` (Content-Security-Policy among them), and a
state-changing request that rides on the session cookie from another site is refused
with 403.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial

from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from neo4j import AsyncDriver
from neo4j.exceptions import ServiceUnavailable, SessionExpired
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import alerts, cost, dossier_http, exports, metrics, saved_queries, screening, warm
from api.context import Context
from api.deps import (
    CallerDep,
    DatabaseDep,
    DriverDep,
    RequestIdDep,
    caller_from_request,
    get_database,
    get_driver,
    get_request_id,
)
from api.errors import rest_response
from api.fastpath import FastGraphQL
from api.schema import schema
from api.web import pages
from api.web.graphiql import WebGraphQLApp
from api.web.security import SameOrigin, SecurityHeaders
from core.errors import AllianceError, DatabaseUnavailable, UserError
from core.settings import DEFAULT_MAX_BODY_BYTES, Settings, get_settings
from graph import access, drivers
from graph.caller import Caller
from graph.drivers import Connection
from graph.screening import Checker, thresholds

log = logging.getLogger("api.access")

READY_TIMEOUT = 3.0
NOT_READY = 503
"""/readyz's status when Neo4j does not answer in time, for any reason (a probe's answer,
with its own body `{"status": "unavailable", "reason": ...}`, not an error of a route)."""
MAX_BODY = DEFAULT_MAX_BODY_BYTES
"""Bytes a request body may have by default (ALLIANCE_MAX_BODY_BYTES)."""
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
IDE_VIEWER = Caller(sub="graphiql-page", role="analyst")
"""Stands for the browser fetching the GraphiQL page, which reads no data."""


def wants_ide(request: Request) -> bool:
    """A browser asking for the GraphiQL page itself (no query): no token needed."""
    accept = request.headers.get("accept", "")
    return (request.method == "GET" and "query" not in request.query_params
            and ("text/html" in accept or "*/*" in accept))


async def get_context(request: Request, driver: DriverDep, database: DatabaseDep,
                      request_id: RequestIdDep) -> Context:
    if wants_ide(request):
        caller = IDE_VIEWER
    else:
        caller = await caller_from_request(request, driver, database)
    return Context(driver=driver, database=database, caller=caller, request_id=request_id,
                   timeout=request.app.state.query_timeout,
                   max_cost=request.app.state.cost_caps[caller.role],
                   row_cap=partial(saved_queries.LIBRARY.row_cap, database))


async def fast_context(request: Request) -> Context:
    """`get_context` with its dependencies resolved by hand (`api.fastpath`)."""
    return await get_context(request, await get_driver(request), await get_database(request),
                             await get_request_id(request))


def lifespan_for(
    conn: Connection | None, alerts_schedule: bool = False, alerts_tick: float = 60.0,
    warm_up: bool = False,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Open the driver; with `warm_up`, warm in the background (`api.warm`, which also
    checks the saved queries), else check the saved queries before serving."""
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        connection = conn or drivers.connection()
        app.state.driver = drivers.open_async_driver(connection)
        app.state.database = connection.database
        app.state.warming = warm.Warming()
        warming: asyncio.Task[None] | None = None
        if warm_up:
            warming = asyncio.create_task(
                warm.warm(app.state.driver, app.state.database, app.state.warming))
        else:
            await check_saved_queries(app.state.driver, app.state.database)
        gc.collect()
        gc.freeze()  # what start-up made lives as long as the process: collections skip it
        try:
            async with alerts.scheduled(connection, alerts_schedule, alerts_tick) as schedule:
                app.state.alert_schedule = schedule
                yield
        finally:
            if warming is not None:
                warming.cancel()
            await app.state.driver.close()

    return lifespan


async def check_saved_queries(driver: AsyncDriver, database: str) -> None:
    """Check the saved queries at start-up; when Neo4j is not there yet, the API still
    starts and the check runs on the first request that needs the library."""
    try:
        await saved_queries.startup(driver, database)
    except (ServiceUnavailable, SessionExpired, OSError, DatabaseUnavailable) as exc:
        log.warning("saved queries not checked at start-up: %s", exc)
        saved_queries.LIBRARY.reset()


KNOWN_PREFIXES = ("/graphql", "/healthz", "/readyz", "/metrics", "/queries", "/leads", "/screen", "/exports",
                  "/static", "/signin", "/signout", "/session")
_ONE_TIME = re.compile(r"^/signin/code/.+")


def route_path(path: str) -> str:
    """The path for metrics: the first segment if it is one of ours, else `other`, so
    stray URLs make no new series."""
    first = "/" + path.strip("/").split("/")[0]
    return first if first in KNOWN_PREFIXES else "other"


class BodyTooLarge(UserError):
    code = "BODY_TOO_LARGE"

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is larger than the limit of {limit} bytes; "
                         "send a shorter query (variables for long values)")


class RequestContext:
    """Request id, access log line, metrics and the body limit for every HTTP request
    (plain ASGI, so a request costs no extra task or stream). The id is a sane incoming
    `X-Request-ID` or a new one; it goes to `request.state.request_id` and back in the
    response header. A body announced (Content-Length) or found larger than `max_body`
    bytes gets 413."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        started_response = False
        received = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status, started_response = message["status"], True
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", request_id.encode())]
            await send(message)

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body:
                raise BodyTooLarge(self.max_body)
            return message

        try:
            if _announced(headers) > self.max_body:
                await rest_response(BodyTooLarge(self.max_body), request_id)(
                    scope, receive, send_with_id)
            else:
                await self.app(scope, receive_limited, send_with_id)
        except BodyTooLarge as exc:  # raised outside the app's own error handling
            if started_response:
                raise
            await rest_response(exc, request_id)(scope, receive, send_with_id)
        finally:
            record(scope["method"], scope["path"], status, time.perf_counter() - started, request_id)


def _announced(headers: dict[bytes, bytes]) -> int:
    """The Content-Length a request announces (0 when none or not a number)."""
    value = headers.get(b"content-length", b"")
    return int(value) if value.isdigit() else 0


def error_response(exc: HTTPException, request_id: str) -> JSONResponse:
    """An HTTP error of the framework (unknown path, a body that is not JSON, a missing
    token) as JSON: `detail` says what, `requestId` finds it in the log."""
    return JSONResponse({"detail": exc.detail, "requestId": request_id},
                        status_code=exc.status_code, headers=exc.headers)


def request_id_of(request: Request) -> str:
    return str(getattr(request.state, "request_id", "unknown"))


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return error_response(exc, request_id_of(request))


async def alliance_error(request: Request, exc: Exception) -> JSONResponse:
    """Every error a route raises on purpose, answered through `api.errors.STATUS`."""
    assert isinstance(exc, AllianceError)
    return rest_response(exc, request_id_of(request))


async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": jsonable_encoder(exc.errors()),
                         "requestId": request_id_of(request)}, status_code=422)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """Anything not handled: logged with its traceback, answered without it."""
    request_id = request_id_of(request)
    log.error("unexpected error: %s", exc, exc_info=exc, extra={"request_id": request_id})
    return JSONResponse({"detail": f"internal error, request id {request_id}",
                         "requestId": request_id}, status_code=500,
                        headers={"X-Request-ID": request_id})


def record(method: str, path: str, status: int, elapsed: float, request_id: str) -> None:
    route = route_path(path)
    metrics.REQUESTS.labels(method, route, str(status)).inc()
    metrics.LATENCY.labels(method, route).observe(elapsed)
    if status >= 500:
        metrics.ERRORS.labels(route).inc()
    log.info("request", extra={"request_id": request_id, "method": method,
                               "path": _ONE_TIME.sub("/signin/code/(one-time code)", path),
                               "status": status, "ms": round(elapsed * 1000, 1)})


def create_app(*, connection: Connection | None = None,
               query_timeout: float = access.DEFAULT_TIMEOUT, max_body: int | None = None,
               cost_caps: Mapping[str, int] | None = None,
               settings: Settings | None = None,
               upload_checker: Checker | None = None,
               alerts_schedule: bool | None = None, warm_up: bool | None = None,
               fast_path: bool = True) -> FastAPI:
    """The API. `connection` defaults to `graph.drivers.connection()` (NEO4J_URI or the local
    server); `query_timeout` is the transaction timeout of every query, in seconds;
    `max_body` the bytes a request body may have (default ALLIANCE_MAX_BODY_BYTES);
    `cost_caps` overrides the most a GraphQL operation may cost, by role, over
    ALLIANCE_QUERY_COST_CAPS over `api.cost.DEFAULT_CAPS`. `settings` defaults to the
    environment's. `upload_checker` checks uploads for `POST /screen` and `screen`
    (`loaders.uploads.UploadChecker`; without one they answer that screening is not set
    up in this process).
    `alerts_schedule` runs the watchlist alerts on their schedule
    (`api.alerts.AlertSchedule`; default ALLIANCE_ALERTS_SCHEDULE, off). `warm_up` warms
    the process in the background at start (`api.warm`; default ALLIANCE_WARM_AT_START,
    which `alliance serve` turns on): /healthz answers at once, /readyz says `warming`
    until it is done. `fast_path` answers the common GraphQL request without FastAPI's
    routing and strawberry's HTTP view (`api.fastpath`; the same answer)."""
    settings = settings or get_settings()
    schedule = settings.alliance_alerts_schedule if alerts_schedule is None else alerts_schedule
    lifespan = lifespan_for(connection, schedule, settings.alliance_alerts_tick_seconds,
                            settings.alliance_warm_at_start if warm_up is None else warm_up)
    app = FastAPI(title="Alliance Graph API", lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None)
    app.state.query_timeout = query_timeout
    app.state.cost_caps = cost.caps(
        {**settings.query_cost_caps(cost.DEFAULT_CAPS), **(cost_caps or {})})
    app.state.screener = screening.Screener(upload_checker, thresholds(settings))
    graphql = WebGraphQLApp(schema, context_getter=get_context)
    app.add_middleware(FastGraphQL, view=graphql, context=fast_context, enabled=fast_path)
    app.add_middleware(SameOrigin)
    app.add_middleware(RequestContext, max_body=max_body or settings.alliance_max_body_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_exception_handler(AllianceError, alliance_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Exception, unexpected_error)
    app.include_router(graphql, prefix="/graphql")
    app.include_router(saved_queries.router)
    app.include_router(dossier_http.router)
    app.include_router(exports.router)
    app.include_router(screening.router)
    add_health(app)
    app.include_router(pages.router)
    app.mount("/static", pages.static_files(), name="static")
    return app


def add_health(app: FastAPI) -> None:
    @app.get("/healthz", summary="The process is up.")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", summary="Neo4j answers and the start-up warming is over.")
    async def readyz(request: Request, driver: DriverDep, database: DatabaseDep) -> JSONResponse:
        warming: warm.Warming = request.app.state.warming
        try:
            await access.read_async(driver, database, "RETURN 1 AS ok", timeout=READY_TIMEOUT,
                                    name="readyz")
        except AllianceError as exc:  # the probe's own answer, whatever the reason
            return JSONResponse({"status": "unavailable", "reason": str(exc)},
                                status_code=NOT_READY)
        if warming.busy:
            return JSONResponse({"status": "warming", "warm": warming.summary()},
                                status_code=NOT_READY)
        return JSONResponse({"status": "ready", "database": database, "warm": warming.summary()})

    @app.get("/metrics", summary="Prometheus metrics (any valid token).")
    async def prometheus(caller: CallerDep) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


__all__ = ["create_app", "get_context", "CallerDep"]
